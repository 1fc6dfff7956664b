"""The schema of ``config.toml``: every key, once, with its type, default, range or choices and extra check.

A misspelled key must not quietly fall back to its default, so every key is
declared here and nowhere else; the validation (:mod:`kiosk.config_validation`)
walks a document against these tables.  The table of keys is what a
technician or reviewer looks up ("what may ``backend.url`` be?"), so it lives
apart from the walker's machinery, together with the checks the table names.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from contract.account_number import CHECK_RULES
from drivers.device import parse_device_setting
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, SCANNER
from kiosk.config_quoting import is_control, show
from kiosk.config_types import WEEKDAYS


class Kind(Enum):
    """The TOML type a key takes; the value is how messages name it."""

    NUMBER = "a number"  # int or float, never bool
    INTEGER = "a whole number"
    STRING = "a string"
    BOOLEAN = "true or false"
    STRINGS = "a list of strings"  # always non-empty and without repeats
    INTEGERS = "a list of whole numbers"  # the same rules as STRINGS


@dataclass(frozen=True)
class Field:
    """One key of a table: its type, what values are allowed, and its default."""

    name: str
    kind: Kind
    default: Any = None  # None for [[utilities]] keys: their defaults depend on the utility's id
    range: tuple[float, float] | None = None
    unit: str = ""  # what the range counts, for the message ("seconds")
    choices: tuple = ()  # for STRINGS and INTEGERS: what each item may be
    check: Callable[[Any], str | None] | None = None  # a well-typed value's problem, or None
    may_be_empty: bool = False
    required: bool = False


_TERMINAL_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")
_HOTLINE = re.compile(r"[0-9 -]{3,20}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# An IPv6 literal in a URL (RFC 3986 §3.2.2): "[address]", then only ":port";
# urlsplit lets "https://[::1]x:80" through.
_BRACKETED_HOST = re.compile(r"(?:[^@]*@)?\[[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~-]+)?\](?::[0-9]*)?")


def _terminal_id(value: str) -> str | None:
    if _TERMINAL_ID.fullmatch(value):
        return None
    return (
        f"{show(value)} is not a valid terminal id — use 3 to 32 capital letters, digits and dashes, "
        'starting with a letter or digit, e.g. "KS-0001"'
    )


def _hotline(value: str) -> str | None:
    if _HOTLINE.fullmatch(value) and any(c.isdigit() for c in value):
        return None
    return f'{show(value)} is not a phone number — use 3 to 20 digits, spaces and dashes, e.g. "95598"'


def _hhmm(value: str) -> str | None:
    if _HHMM.fullmatch(value):
        return None
    return f'{show(value)} is not a time — write it as "HH:MM" on the 24-hour clock, e.g. "08:00" or "20:00"'


def _backend_url(value: str) -> str | None:
    if value == "embedded":
        return None
    try:
        # urlsplit raises ValueError for a bracketed host that is not an IP address
        # ("http://[::1", "http://[billing]"); .port for a port not in 0..65535.
        parts = urlsplit(value)
        parts.port
    except ValueError:
        parts = None
    if (parts and parts.scheme in ("http", "https") and parts.hostname
            and not any(c.isspace() or is_control(c) for c in value)
            and ("[" not in parts.netloc or _BRACKETED_HOST.fullmatch(parts.netloc))):
        return None
    return f'{show(value)} is not "embedded" or an http(s) URL — e.g. "https://billing.example:8443"'


# Linux's limits (PATH_MAX, NAME_MAX): a longer path fails every call with ENAMETOOLONG.
_PATH_MAX_BYTES = 4095
_NAME_MAX_BYTES = 255


def _path_text(value: str) -> str | None:
    """Whether ``value`` can name a file at all: no NUL byte or other control character, not too long."""
    for position, char in enumerate(value, start=1):
        if is_control(char):
            what = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
            return (f"{show(value)} contains {what} at character {position} — a path cannot hold one; "
                    "retype the path with printable characters only")
    try:
        encoded = os.fsencode(value)
    except UnicodeEncodeError:  # a process started without a UTF-8 locale
        return (f"{show(value)} cannot be written in this system's file name encoding "
                f"({sys.getfilesystemencoding()}) — use ASCII letters and digits in the path")
    if len(encoded) > _PATH_MAX_BYTES:
        return f"{show(value)} is {len(encoded)} bytes long — a path may be at most {_PATH_MAX_BYTES} bytes"
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > _NAME_MAX_BYTES:
        return (f"{show(value)} has a name of {len(longest)} bytes between two slashes — "
                f"each part of a path may be at most {_NAME_MAX_BYTES} bytes")
    return None


def _device(device: str) -> Callable[[str], str | None]:
    """The check of one ``[devices]`` key: the drivers' own grammar (``drivers/device.py``), parsed once."""
    def check(value: str) -> str | None:
        try:
            parse_device_setting(device, value, show)
        except ValueError as error:
            return str(error)
        return None
    return check


LANGUAGES = ("zh", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
UTILITY_IDS = ("electricity", "water", "gas")
CNY_NOTES_YUAN = (1, 5, 10, 20, 50, 100)

SECTIONS: Mapping[str, tuple[Field, ...]] = {
    "terminal": (
        Field("id", Kind.STRING, "KS-0001", check=_terminal_id),
        Field("hall_name_zh", Kind.STRING, "城东供电供水供气营业厅"),
        Field("hall_name_en", Kind.STRING, "Chengdong Utility Business Hall"),
        Field("hotline", Kind.STRING, "95598", check=_hotline),
        Field("languages", Kind.STRINGS, ("zh", "en"), choices=LANGUAGES),
        Field("default_language", Kind.STRING, "zh", choices=LANGUAGES),
    ),
    "service_hours": (
        Field("open", Kind.STRING, "08:00", check=_hhmm),
        Field("close", Kind.STRING, "20:00", check=_hhmm),
        Field("days", Kind.STRINGS, WEEKDAYS, choices=WEEKDAYS),
    ),
    "idle": (
        Field("prompt_after_s", Kind.NUMBER, 60, range=(10, 600), unit="seconds"),
        Field("countdown_s", Kind.NUMBER, 20, range=(5, 120), unit="seconds"),
    ),
    "help": (
        Field("call_staff", Kind.BOOLEAN, True),
    ),
    "maintenance": (
        Field("lockout_minutes", Kind.INTEGER, 15, range=(1, 1440), unit="minutes"),
        Field("idle_logout_s", Kind.INTEGER, 120, range=(30, 3600), unit="seconds"),
        Field("audit_days", Kind.INTEGER, 365, range=(30, 3650), unit="days"),
        Field("cash_box_notes", Kind.INTEGER, 1000, range=(50, 10000), unit="notes"),
        Field("export_dir", Kind.STRING, "/media"),
        Field("collection_difference_note", Kind.BOOLEAN, True),
    ),
    "voice": (
        Field("enabled", Kind.BOOLEAN, True),
        Field("volume", Kind.INTEGER, 80, range=(0, 100), unit="percent"),
    ),
    "backend": (
        Field("url", Kind.STRING, "embedded", check=_backend_url),
        Field("connect_timeout_s", Kind.NUMBER, 3.0, range=(0.1, 30), unit="seconds"),
        Field("read_timeout_s", Kind.NUMBER, 10.0, range=(0.5, 120), unit="seconds"),
        Field("ca_file", Kind.STRING, "", may_be_empty=True, check=_path_text),  # "" = system CA store
        Field("terminal_secret", Kind.STRING, "demo-terminal-secret"),
        Field("startup_grace_s", Kind.NUMBER, 20, range=(0, 600), unit="seconds"),
        Field("heartbeat_interval_s", Kind.NUMBER, 30, range=(5, 3600), unit="seconds"),
        Field("retries", Kind.INTEGER, 2, range=(0, 5), unit="retries"),
        Field("call_deadline_s", Kind.NUMBER, 15.0, range=(1, 300), unit="seconds"),
        Field("max_reply_kib", Kind.INTEGER, 1024, range=(16, 65_536), unit="KiB"),
    ),
    "devices": (
        Field("acceptor", Kind.STRING, "emulator", check=_device(ACCEPTOR)),
        Field("printer", Kind.STRING, "emulator", check=_device(PRINTER)),
        Field("card_reader", Kind.STRING, "emulator", check=_device(CARD_READER)),
        Field("scanner", Kind.STRING, "emulator", check=_device(SCANNER)),
    ),
    "ui": (
        Field("fullscreen", Kind.BOOLEAN, True),
        Field("hide_cursor", Kind.BOOLEAN, True),
    ),
    "payment": (
        Field("accepted_notes", Kind.INTEGERS, CNY_NOTES_YUAN, choices=CNY_NOTES_YUAN),
        Field("max_payment_yuan", Kind.INTEGER, 2000, range=(1, 50_000), unit="yuan"),
        Field("max_prepay_yuan", Kind.INTEGER, 500, range=(0, 50_000), unit="yuan"),
        Field("cash_in_prompt_after_s", Kind.NUMBER, 60, range=(15, 600), unit="seconds"),
        Field("cash_in_timeout_s", Kind.NUMBER, 120, range=(30, 900), unit="seconds"),
    ),
    "storage": (
        Field("data_dir", Kind.STRING, "var/data", check=_path_text),
        Field("key_file", Kind.STRING, "var/data/journal.key", check=_path_text),
        Field("retention_days", Kind.INTEGER, 90, range=(1, 3650), unit="days"),
        Field("backup_dir", Kind.STRING, "var/backup", check=_path_text),
        Field("backup_interval_h", Kind.NUMBER, 24, range=(1, 720), unit="hours"),
        Field("min_free_mib", Kind.INTEGER, 64, range=(1, 100_000), unit="MiB"),
        Field("reserve_mib", Kind.INTEGER, 8, range=(1, 1024), unit="MiB"),
    ),
    "logging": (
        Field("dir", Kind.STRING, "var/log", check=_path_text),
        Field("level", Kind.STRING, "INFO", choices=LOG_LEVELS),
        Field("max_bytes", Kind.INTEGER, 5_000_000, range=(10_000, 1_000_000_000), unit="bytes"),
        Field("backups", Kind.INTEGER, 5, range=(0, 100), unit="files"),
    ),
}

UTILITY_FIELDS: tuple[Field, ...] = (
    Field("id", Kind.STRING, choices=UTILITY_IDS, required=True),
    Field("name_zh", Kind.STRING),
    Field("name_en", Kind.STRING),
    Field("unit", Kind.STRING),
    Field("account_length", Kind.INTEGER, range=(4, 20), unit="digits"),
    Field("check_rule", Kind.STRING, choices=CHECK_RULES),
)

# A [[utilities]] table may give only its id; the other keys then take these.
DEFAULT_UTILITIES: Mapping[str, Mapping[str, Any]] = {
    "electricity": {"id": "electricity", "name_zh": "电费", "name_en": "Electricity",
                    "unit": "kWh", "account_length": 10, "check_rule": "luhn"},
    "water": {"id": "water", "name_zh": "水费", "name_en": "Water",
              "unit": "m³", "account_length": 8, "check_rule": "none"},
    "gas": {"id": "gas", "name_zh": "燃气费", "name_en": "Gas",
            "unit": "m³", "account_length": 10, "check_rule": "luhn"},
}
