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
import sys
from datetime import datetime, timezone
from pathlib import Path

from kiosk.masking import redact_digit_runs

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


def configure_logging(directory: str | Path, level: str = "INFO", max_bytes: int = 5_000_000,
                      backups: int = 5, stderr: bool = True) -> Path:
    """Send the ``kiosk`` loggers to ``directory/kiosk.log`` (rotating) and stderr."""
    path = Path(directory) / "kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    formatter = JsonLineFormatter()
    redact = RedactPersonalData()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    ]
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
