"""Room on disk for the money: a free-space watch and a ballast file to spend.

A journal write that fails during cash-in would leave a note in the box that
nobody recorded; the journal therefore writes a mark before each note is
stacked, and this module keeps two promises around it:

* **Out of service before the disk is full.**  :meth:`DiskReserve.refusal`
  says why cash must not be taken (free space under ``storage.min_free_mib``,
  or the ballast already spent); the payment layer asks before it opens a
  payment and before every note.
* **Enough room to finish the payment in progress.**  A ballast file of
  ``storage.reserve_mib`` lives beside the journal.  When a write fails for
  want of space (SQLITE_FULL), :meth:`release` deletes it, so the notes
  already past escrow and the payment's commit still fit.  The ballast is
  made again once there is room for it.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
from pathlib import Path

log = logging.getLogger("kiosk.payment")

BALLAST_NAME = "journal.ballast"
_CHUNK = 1 << 20


class DiskReserve:
    """Free-space guard and ballast for the journal's file system (thread-safe)."""

    def __init__(self, directory: str | Path, *, reserve_bytes: int, min_free_bytes: int) -> None:
        if reserve_bytes < 0 or min_free_bytes < 0:
            raise ValueError("reserve_bytes and min_free_bytes are sizes, >= 0")
        self.directory = Path(directory)
        self.ballast = self.directory / BALLAST_NAME
        self.reserve_bytes = reserve_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.directory).free

    def ballast_bytes(self) -> int:
        try:
            return self.ballast.stat().st_size
        except FileNotFoundError:
            return 0

    def ensure(self) -> bool:
        """Make the ballast whole if there is room beyond the free-space floor; True if it is."""
        with self._lock:
            have = self.ballast_bytes()
            missing = self.reserve_bytes - have
            if missing <= 0:
                return True
            if self.free_bytes() - missing < self.min_free_bytes:
                return False
            try:
                self._fill(have)
            except OSError as error:
                log.error("journal ballast could not be made", extra={"path": str(self.ballast), "error": str(error)})
                self.ballast.unlink(missing_ok=True)
                return False
            return True

    def _fill(self, have: int) -> None:
        # Real blocks, not a sparse file: written zeros, fsynced.
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.ballast, "ab") as ballast:
            left = self.reserve_bytes - have
            zeros = bytes(_CHUNK)
            while left > 0:
                ballast.write(zeros[: min(left, _CHUNK)])
                left -= min(left, _CHUNK)
            ballast.flush()
            os.fsync(ballast.fileno())

    def release(self) -> int:
        """Free the ballast for the payment in progress; returns the bytes freed."""
        with self._lock:
            freed = self.ballast_bytes()
            self.ballast.unlink(missing_ok=True)
        if freed:
            log.critical("disk full: journal ballast released to finish the payment in progress",
                         extra={"freed_bytes": freed, "free_bytes": self.free_bytes()})
        return freed

    def refusal(self) -> str:
        """Why no cash may be taken now (technician's words), or "" when it may.

        Cheap (one statvfs); call :meth:`ensure` first where a refused ballast
        may be made again (before a payment opens)."""
        try:
            free = self.free_bytes()
        except OSError as error:
            return f"the journal's file system {self.directory} cannot be read ({error})"
        if free < self.min_free_bytes:
            return (f"only {free // 1024} KiB free on the journal's file system {self.directory}, under "
                    f"storage.min_free_mib = {self.min_free_bytes >> 20}: free disk space")
        # Not made again here: this runs on the acceptor's thread before every note.
        if self.reserve_bytes and self.ballast_bytes() < self.reserve_bytes:
            return (f"the journal's reserve ({self.reserve_bytes >> 20} MiB, {self.ballast}) is spent and there "
                    f"is no room to make it again: free disk space on {self.directory}")
        return ""


def note_guard(reserve: DiskReserve):
    """The cash-in's question before every note: why not ("" = take it).  A refusal for
    want of space also frees the ballast at once, so the payment in progress
    (notes past escrow, its commit) still fits on the disk."""

    def refuse_note() -> str:
        refusal = reserve.refusal()
        if refusal:
            reserve.release()
        return refusal

    return refuse_note


def is_disk_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full") or the OS's ENOSPC/EDQUOT."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "disk is full" in str(error) or "database or disk is full" in str(error)
