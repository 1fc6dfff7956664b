"""fsync by path: a file after writing it, a directory after renaming into it.

A module of its own (os only): the key check before the window uses it and
must not load sqlite-utils.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: str | Path) -> None:
    """fsync a file or a directory (a directory: so a rename in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
