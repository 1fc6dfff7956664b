"""Logging: JSON lines to a rotating file and to stderr, personal data masked.

Every record passes :class:`RedactPersonalData` before it is written: any run
of six or more digits is masked wherever it stands (an account number that
slipped into an exception text too), and fields that hold a person's name or
address are dropped.  Code should log masked values in the first place; this
is the net under it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from contract.masking import redact_digit_runs

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_PERSONAL_FIELDS = {"name", "holder", "holder_name", "address", "phone"}


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_digit_runs(record.getMessage())
        record.args = ()
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS:
                continue
            if key in _PERSONAL_FIELDS:
                setattr(record, key, "[redacted]")
            elif isinstance(getattr(record, key), str):
                setattr(record, key, redact_digit_runs(getattr(record, key)))
        return True


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS:
                line[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_info:
            line["exc"] = redact_digit_runs(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


LOG_FILE = "kiosk.log"
PRIVATE_FILE_MODE = 0o600


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is its owner's alone (0600), whatever the umask.

    Even masked, the log tells when payments were made and how much; the
    rotated files are renames of the current one, so they keep its mode.
    """

    def _open(self):  # noqa: ANN202 - logging's own hook, called on start and after each rollover
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # a file left 0644 by an older kiosk, too
            return open(fd, self.mode, encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def _make_private(directory: Path) -> None:
    """Rotated files an older kiosk left group- and world-readable: the owner's alone now."""
    for old in directory.glob(LOG_FILE + ".*"):
        try:
            old.chmod(PRIVATE_FILE_MODE)
        except OSError:  # not ours to change; the new files are private anyway
            pass


def configure_logging(directory: str | Path, level: str = "INFO", max_bytes: int = 5_000_000,
                      backups: int = 5, stderr: bool = True) -> Path:
    """Send the ``kiosk`` loggers to ``directory/kiosk.log`` (rotating, mode 0600) and stderr.

    Raises OSError (or ValueError for a path with a NUL byte) when the file
    cannot be opened; nothing is changed then.
    """
    path = Path(directory) / LOG_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    formatter = JsonLineFormatter()
    redact = RedactPersonalData()
    handlers: list[logging.Handler] = [
        PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    ]
    _make_private(path.parent)
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger("kiosk")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redact)
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return path
