"""python-escpos, imported without its import-time side effects.

``escpos.capabilities`` (python-escpos 3.1), on import:

* calls ``logging.basicConfig()``, which gives the root logger a stderr
  handler if it has none — every warning of the kiosk would then also go to
  stderr, outside the JSON log;
* makes a new temporary directory (``mkdtemp()``, evaluated even when
  ``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set) and, without that variable,
  keeps its pickled printer database there — so every run of the kiosk or of
  ``kiosk diag`` leaves a directory in /tmp and parses the YAML database
  again (~0.2 s).

So: a cache directory of our own, private to the user; the empty temporary
directory removed again; the root logger as it was.  Every module of ours that needs python-escpos imports it from here.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile


def _cache_dir() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "utility-kiosk", "python-escpos")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None  # no writable home: python-escpos's own temporary directory then
    return path


def _import_quietly() -> None:
    cache = _cache_dir()
    if cache is not None:
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", cache)
    root = logging.getLogger()
    handlers = list(root.handlers)
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recorded_mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    tempfile.mkdtemp = recorded_mkdtemp  # escpos.capabilities binds it on import
    try:
        import escpos.capabilities  # noqa: F401  (the side effects happen here)
    finally:
        tempfile.mkdtemp = real_mkdtemp
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for directory in made:
            if os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR") != directory:
                try:
                    os.rmdir(directory)  # only if empty
                except OSError:
                    pass


if "escpos.capabilities" not in sys.modules:
    _import_quietly()

from escpos.constants import QR_ECLEVEL_M  # noqa: E402
from escpos.printer import Dummy  # noqa: E402

__all__ = ["Dummy", "QR_ECLEVEL_M"]
