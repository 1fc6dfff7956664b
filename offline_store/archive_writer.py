"""Writes the device maintenance archive on its own thread.

The device monitor runs on the GUI thread and must never wait for a disk:
with ``synchronous=FULL`` every commit is an fsync, which on a busy or failing
disk takes far longer than a frame.  :class:`ArchiveWriter` takes the same two
calls as :class:`~offline_store.device_archive.DeviceArchive` and does them,
in order, on one worker thread.  The archive is opened there too, on the first
record, so start-up does not pay for it either.

A record that cannot be written (disk full, permissions) is logged with all
its fields, so it is still in the journal of the machine, and the kiosk goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # sqlite_utils is loaded on the writer thread, not at start-up
    from offline_store.device_archive import DeviceArchive

log = logging.getLogger("kiosk.devices.archive")

_STOP = object()


class ArchiveWriter:
    def __init__(self, open_archive: Callable[[], "DeviceArchive"]) -> None:
        self._open_archive = open_archive
        self._archive: "DeviceArchive | None" = None
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()  # one archive object, whichever thread opens it first
        self._thread: threading.Thread | None = None

    # -- the two calls the device monitor makes (any thread, never blocks) -----
    def raise_fault(self, device: str, state: str, reason: str, detail: str) -> None:
        self._submit("raise_fault", device, state, reason, detail)

    def clear_faults(self, device: str) -> None:
        self._submit("clear_faults", device)

    # -- life cycle ------------------------------------------------------------------
    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every record handed in so far is written; True if it was in time."""
        return self._idle.wait(timeout_s)

    def close(self, timeout_s: float = 5.0) -> bool:
        """Write what is queued, end the thread, close the file; True if it ended in time."""
        thread = self._thread
        ended = True
        if thread is not None:
            self._jobs.put(_STOP)
            thread.join(timeout_s)
            ended = not thread.is_alive()
        with self._open_lock:
            if ended and self._archive is not None:
                self._archive.close()
                self._archive = None
        return ended

    @property
    def archive(self) -> "DeviceArchive | None":
        """The archive once the writer has opened it (for reading, e.g. the maintenance screen)."""
        return self._archive

    def opened(self) -> "DeviceArchive":
        """The archive, opened now if no record has opened it yet (blocks: a worker's call).

        The maintenance screen reads faults and writes repairs through this
        one object, so they share its lock with the writer thread; on a day
        without a fault nothing else would ever open the file."""
        with self._open_lock:
            if self._archive is None:
                self._archive = self._open_archive()
            return self._archive

    def _submit(self, method: str, *args: str) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="device-archive", daemon=True)
                self._thread.start()
        self._jobs.put((method, args))

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            method, args = job
            try:
                getattr(self.opened(), method)(*args)
            except Exception:  # noqa: BLE001 - the record stays in the log; the kiosk goes on
                log.exception("device archive not written", extra={"call": method, "record": list(args)})
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
