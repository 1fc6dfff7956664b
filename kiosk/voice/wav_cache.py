"""The disk cache of synthesised prompts: one WAV file per (engine, voice, speed, text).

Its own module because keeping files on a kiosk's disk has rules of its own,
apart from making speech: an entry appears whole or not at all (written under
a temporary name, then renamed, so a power cut never leaves half a WAV under a
real name); a directory that cannot be written is replaced by a temporary one
rather than losing the voice; and the total size is bounded, so prompts that
carry amounts cannot fill the disk the money journal lives on.

The directory is made 0700 and entries are 0600 (as everything else the kiosk
writes): a prompt may speak an amount.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("kiosk.voice")

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # about 700 prompts of three seconds
_SUFFIX = ".wav"
_TEMP_PREFIX = ".partial-"
_STALE_TEMP_S = 3600.0  # a temporary file this old was left by a process that died


class WavCache:
    """Finished WAV entries under ``directory``, looked up and stored by name.

    The oldest entries (by the time they were written) are removed first when
    the total passes ``max_bytes``; a hit does not touch the file, so a cache on
    a read-only disk still serves what it holds.
    """

    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"voice cache max_bytes must be positive, not {max_bytes}")
        self.primary = Path(directory)
        self.max_bytes = max_bytes
        self._fallback: Path | None = None

    @property
    def directory(self) -> Path:
        """Where new entries are written now: the caller's directory, or the temporary one."""
        return self._fallback or self.primary

    def find(self, name: str) -> Path | None:
        for directory in (self.primary, self._fallback):
            if directory is not None and (directory / name).is_file():
                return directory / name
        return None

    def store(self, name: str, write: Callable[[Path], None]) -> Path:
        """Have ``write`` fill a temporary file, then put it in place as ``name``.

        Whatever ``write`` raises propagates and leaves no file behind; an
        ``OSError`` from the disk propagates too, once the temporary
        directory has been tried.
        """
        temp = self._new_temp_file()
        try:
            write(temp)
            final = temp.parent / name
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._evict(final)
        return final

    def _new_temp_file(self) -> Path:
        try:
            return _make_temp(self.directory)
        except OSError as exc:
            if self._fallback is not None:
                raise
            self._fallback = Path(tempfile.mkdtemp(prefix="kiosk-voice-"))
            log.warning("voice cache %s cannot be written (%s: %s); caching prompts in %s for this session",
                        self.primary, type(exc).__name__, exc.strerror or exc, self._fallback)
            return _make_temp(self._fallback)

    def _evict(self, keep: Path) -> None:
        """Remove the oldest entries until the total fits; leftovers of dead writers too."""
        entries, now = [], time.time()
        with os.scandir(keep.parent) as scan:
            for entry in scan:
                try:
                    info = entry.stat()
                except FileNotFoundError:
                    continue
                if entry.name.startswith(_TEMP_PREFIX) and now - info.st_mtime > _STALE_TEMP_S:
                    Path(entry.path).unlink(missing_ok=True)
                elif entry.name.endswith(_SUFFIX) and entry.is_file():
                    entries.append((info.st_mtime, info.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path != str(keep):
                Path(path).unlink(missing_ok=True)
                total -= size


def entry_name(digest: str) -> str:
    """The file name of an entry whose key hashes to ``digest``."""
    return digest + _SUFFIX


def _make_temp(directory: Path) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(name)
