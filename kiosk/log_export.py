"""Copy the kiosk's log files to a USB stick (or a folder) for the technician to take away.

The files go as they are on disk: ``kiosk/logging_setup.py`` masks personal
data before a line is written, so nothing is unmasked here and nothing needs
to be.  The log (``kiosk.log``) and its rotated siblings (``kiosk.log.1`` ...)
are opened first and copied from those handles, so a rotation during the
export neither loses a file nor copies one twice.

Nothing half-written passes for an export: the files go into a hidden
``.kiosk-logs-….partial`` folder that is renamed to
``kiosk-logs-<terminal>-<YYYYMMDD-HHMMSS>`` only once every file is complete
and flushed; on any failure the partial folder is removed.  The whole copy
has a deadline, checked between chunks (a write the kernel itself holds on a
dying stick cannot be cut short from here; the chunk is small).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable

from kiosk.logging_setup import LOG_FILE

EXPORT_DEADLINE_S = 60.0
CHUNK_BYTES = 1 << 20
SPARE_BYTES = 64 * 1024  # room for the folder's own entries beyond the files' bytes
_ROTATED = re.compile(re.escape(LOG_FILE) + r"\.(\d+)")
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


@dataclass(frozen=True)
class ExportTarget:
    path: str
    label: str  # the stick's name (its mount point's), or the directory itself
    free_bytes: int
    writable: bool
    removable: bool  # a file system mounted below the export directory: a USB stick


@dataclass(frozen=True)
class ExportResult:
    folder: str
    files: tuple[tuple[str, int], ...]  # (name, bytes), as written

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


@dataclass
class ExportFailed(Exception):
    """The export did not happen; ``key`` and ``values`` are the staff's message, ``detail`` the log's."""

    key: str
    detail: str
    values: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


def human_size(count: int) -> str:
    """Bytes as a technician reads them: 512 B, 3.4 MB, 7.5 GB (decimal, as sticks are sold)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def log_files(log_dir: str | Path) -> list[Path]:
    """``kiosk.log`` then its rotated files, newest first (``.1``, ``.2``, ...)."""
    folder = Path(log_dir)
    rotated = sorted((int(m.group(1)), p) for p in folder.glob(LOG_FILE + ".*")
                     if (m := _ROTATED.fullmatch(p.name)) and p.is_file())
    current = [folder / LOG_FILE] if (folder / LOG_FILE).is_file() else []
    return current + [path for _, path in rotated]


def export_targets(export_dir: str | Path) -> list[ExportTarget]:
    """USB sticks mounted below ``export_dir`` (each directory in it; in a per-user folder such as
    udisks' ``/media/<user>/<label>``, the sticks inside), then ``export_dir`` itself."""
    root = Path(export_dir)
    if not root.is_dir():
        return []
    found = []
    for child in _subdirectories(root):
        inner = [p for p in _subdirectories(child) if os.path.ismount(p)]
        for place in inner if inner and not os.path.ismount(child) else [child]:
            found.append(_target(place, place.name, os.path.ismount(place)))
    return found + [_target(root, str(root), False)]


def _subdirectories(folder: Path) -> list[Path]:
    try:
        # Symbolic links are skipped: /media/cdrom points at a drive, not a stick.
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()
                      and not p.name.startswith("."))
    except OSError:  # a stick pulled while it was being listed
        return []


def _target(path: Path, label: str, removable: bool) -> ExportTarget:
    return ExportTarget(str(path), label, free_bytes(path), os.access(path, os.W_OK), removable)


def free_bytes(path: str | Path) -> int:
    try:
        stats = os.statvfs(path)
    except OSError:
        return 0
    return stats.f_bavail * stats.f_frsize


def export_logs(log_dir: str | Path, target: str | Path, terminal_id: str, *, now: datetime,
                deadline_s: float = EXPORT_DEADLINE_S, clock: Callable[[], float] = time.monotonic
                ) -> ExportResult:
    """Copy the log files into a new folder in ``target``; raises :class:`ExportFailed` (nothing left behind)."""
    target = Path(target)
    paths = log_files(log_dir)
    if not paths:
        raise ExportFailed("maint.ops.export.no_logs", f"no log files in {log_dir}", {"folder": str(log_dir)})
    if not target.is_dir():
        raise ExportFailed("maint.ops.export.target_gone", f"{target} is not there (was the stick pulled?)",
                           {"target": str(target)})
    sources = [(path.name, open(path, "rb")) for path in paths]
    try:
        sizes = [os.fstat(handle.fileno()).st_size for _, handle in sources]
        _check_room(target, sizes)
        name = _free_name(target, f"kiosk-logs-{terminal_id}-{now:%Y%m%d-%H%M%S}")
        partial = target / f".{name}.partial"
        try:
            files = _write_all(partial, sources, sizes, clock() + deadline_s, clock)
            os.rename(partial, target / name)
            _sync_directory(target)
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise _failure(error, target, sum(sizes), deadline_s) from error
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    finally:
        for _, handle in sources:
            handle.close()
    return ExportResult(str(target / name), files)


def _check_room(target: Path, sizes: list[int]) -> None:
    if not os.access(target, os.W_OK):
        raise ExportFailed("maint.ops.export.read_only", f"{target} cannot be written (read-only)",
                           {"target": str(target)})
    # Each file takes whole blocks, and the folder and its entries a block each:
    # a hundred small rotated logs need more than their bytes.
    block = max(1, os.statvfs(target).f_frsize)
    on_disk = sum(-(-size // block) * block for size in sizes) + block * (len(sizes) + 1)
    if on_disk + SPARE_BYTES > free_bytes(target):
        raise _no_space(target, sum(sizes))


def _free_name(target: Path, name: str) -> str:
    """``name``, or ``name-2``, ``-3``...: two exports in one second keep both."""
    candidate, n = name, 1
    while (target / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _write_all(partial: Path, sources: list[tuple[str, BinaryIO]], sizes: list[int], deadline: float,
               clock: Callable[[], float]) -> tuple[tuple[str, int], ...]:
    partial.mkdir(mode=0o700)
    written = []
    for (name, source), size in zip(sources, sizes):
        written.append((name, _copy(source, partial / name, size, deadline, clock)))
    _sync_directory(partial)
    return tuple(written)


def _copy(source: BinaryIO, destination: Path, size: int, deadline: float, clock: Callable[[], float]) -> int:
    """``size`` bytes (the file as it was when the export began: the live log keeps growing), flushed."""
    # 0600 like the log itself (a FAT stick ignores it; a folder on the kiosk's disk does not).
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with open(fd, "wb") as out:
        left = size
        while left > 0:
            if clock() > deadline:
                raise TimeoutError(f"the export did not finish in time, at {destination.name}")
            chunk = source.read(min(CHUNK_BYTES, left))
            if not chunk:  # the file was truncated under us: what there was is what is copied
                break
            out.write(chunk)
            left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size - left


def _sync_directory(folder: Path) -> None:
    """The folder's entries on the stick, not only in the cache (some file systems cannot: then not)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _no_space(target: Path, needed: int) -> ExportFailed:
    free = free_bytes(target)
    return ExportFailed("maint.ops.export.no_space",
                        f"{target}: {human_size(free)} free, the logs need {human_size(needed)}",
                        {"target": str(target), "free": human_size(free), "needed": human_size(needed)})


def _failure(error: OSError, target: Path, needed: int, deadline_s: float) -> ExportFailed:
    """What a failed write means for the technician."""
    if isinstance(error, TimeoutError):
        return ExportFailed("maint.ops.export.timed_out", f"{target}: {error} ({deadline_s:.0f} s)",
                            {"target": str(target), "seconds": f"{deadline_s:.0f}"})
    if error.errno in _NO_SPACE:
        return _no_space(target, needed)
    if error.errno in _READ_ONLY:
        return ExportFailed("maint.ops.export.read_only", f"{target} cannot be written: {error.strerror}",
                            {"target": str(target)})
    return ExportFailed("maint.ops.export.write_failed", f"{target}: {error.strerror or error}",
                        {"target": str(target), "error": error.strerror or type(error).__name__})
