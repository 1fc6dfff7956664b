"""The kiosk's configuration: the schema of ``config.toml``, its validation, and the frozen result.

A technician edits ``config.toml`` on the terminal with a plain text editor.  A
misspelled key must not quietly fall back to its default (nobody would notice
until a customer did), and one restart should show every mistake, not the first.
So every key is declared once in the schema below, with its type, range or
choices and any extra check; a walker validates each table against it and
collects *all* problems; only a clean document is turned into the frozen
dataclasses the rest of the kiosk reads.

Every problem message names the key, the value found, what is allowed and
what to write instead; a value is quoted shortened and with its control
characters escaped, and no input, however malformed, raises anything but
:class:`ConfigError`.  :func:`load_config_for_run` (``kiosk run`` and
``kiosk check-config``) also checks what the kiosk will need on disk, so a
file check-config passes does not stop ``kiosk run`` at start.

Entries of ``[[utilities]]`` are named ``utilities[1]``, ``utilities[2]``, …
counting from the first ``[[utilities]]`` in the file, as a technician counts
them on screen.
"""

from __future__ import annotations

import datetime
import difflib
import os
import pwd
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contract.account_number import CHECK_RULES, AccountNumberRule

EMBEDDED_SOURCE = "embedded defaults"


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a configuration file.

    ``key`` is the dotted key (``idle.countdown_s``, ``utilities[2].unit``), or
    "" when the problem is with the file as a whole (unreadable, not TOML).
    """

    key: str
    message: str


class ConfigError(Exception):
    """A configuration file that cannot be used, with every problem found in it."""

    def __init__(self, path: str, problems: tuple[ConfigProblem, ...] | list[ConfigProblem]):
        self.path = path
        self.problems = tuple(problems)
        super().__init__(path, self.problems)

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}: {p.key}: {p.message}" if p.key else f"{self.path}: {p.message}"
            for p in self.problems
        )


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class TerminalConfig:
    id: str
    hall_name_zh: str
    hall_name_en: str
    hotline: str
    languages: tuple[str, ...]
    default_language: str


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()


@dataclass(frozen=True)
class ServiceHours:
    open: datetime.time
    close: datetime.time
    days: tuple[str, ...]

    def text(self) -> str:
        return f"{self.open:%H:%M}–{self.close:%H:%M}"

    def is_open(self, moment: datetime.datetime) -> bool:
        """Whether the hall serves customers at ``moment`` (local time)."""
        return WEEKDAYS[moment.weekday()] in self.days and self.open <= moment.time() < self.close


@dataclass(frozen=True)
class IdleConfig:
    prompt_after_s: float
    countdown_s: float


@dataclass(frozen=True)
class BackendConfig:
    url: str
    connect_timeout_s: float
    read_timeout_s: float
    ca_file: str
    terminal_secret: str
    startup_grace_s: float
    heartbeat_interval_s: float
    retries: int
    call_deadline_s: float  # one call, retries included, whatever the server does
    max_reply_kib: int  # the largest reply body, compressed and inflated

    @property
    def embedded(self) -> bool:
        """True when the kiosk should start the backend simulator on loopback."""
        return self.url == "embedded"


@dataclass(frozen=True)
class DevicesConfig:
    acceptor: str
    printer: str
    card_reader: str


@dataclass(frozen=True)
class UiConfig:
    fullscreen: bool
    hide_cursor: bool


@dataclass(frozen=True)
class PaymentConfig:
    accepted_notes: tuple[int, ...]  # yuan
    max_payment_yuan: int  # the most one payment may take in; notes beyond it are returned
    max_prepay_yuan: int  # the most a customer may pay with nothing owed (预存)
    cash_in_prompt_after_s: float
    cash_in_timeout_s: float

    @property
    def accepted_fen(self) -> frozenset[int]:
        return frozenset(yuan * 100 for yuan in self.accepted_notes)

    def cap_fen(self, amount_due_fen: int) -> int:
        """The most this payment may take in: the bill plus the prepay allowance, within the maximum."""
        return min(self.max_payment_yuan * 100, max(0, amount_due_fen) + self.max_prepay_yuan * 100)


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str
    key_file: str
    retention_days: int
    backup_dir: str
    backup_interval_h: float
    min_free_mib: int  # below this free space on the journal's file system, no cash
    reserve_mib: int  # the ballast file freed to finish a payment when the disk fills

    def path(self, name: str) -> str:
        return os.path.join(self.data_dir, name)


@dataclass(frozen=True)
class LoggingConfig:
    dir: str
    level: str
    max_bytes: int
    backups: int


@dataclass(frozen=True)
class UtilityConfig:
    id: str
    name_zh: str
    name_en: str
    unit: str
    account_length: int
    check_rule: str

    @property
    def rule(self) -> AccountNumberRule:
        return AccountNumberRule(length=self.account_length, check=self.check_rule)

    def name(self, lang: str) -> str:
        return _by_language(lang, zh=self.name_zh, en=self.name_en)


@dataclass(frozen=True)
class KioskConfig:
    source: str  # the file it was loaded from, or "embedded defaults"
    terminal: TerminalConfig
    service_hours: ServiceHours
    idle: IdleConfig
    backend: BackendConfig
    devices: DevicesConfig
    ui: UiConfig
    payment: PaymentConfig
    storage: StorageConfig
    logging: LoggingConfig
    utilities: tuple[UtilityConfig, ...]

    def utility(self, utility_id: str) -> UtilityConfig:
        for utility in self.utilities:
            if utility.id == utility_id:
                return utility
        configured = ", ".join(u.id for u in self.utilities)
        raise KeyError(f"utility {utility_id!r} is not configured in {self.source} (configured: {configured})")

    def hall_name(self, lang: str) -> str:
        return _by_language(lang, zh=self.terminal.hall_name_zh, en=self.terminal.hall_name_en)


def _by_language(lang: str, **texts: str) -> str:
    try:
        return texts[lang]
    except KeyError:
        raise ValueError(f"no text for language {lang!r}; the kiosk speaks {', '.join(texts)}") from None


# --------------------------------------------------------------------------- the schema


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


# A message quotes what the technician typed, but a value thousands of
# characters long or nested hundreds deep would bury the message (and the
# console); past these limits the quote is shortened and says so.
_SHOWN_CHARS = 200
_SHOWN_ITEMS = 8
_SHOWN_DEPTH = 3
_SHOWN_DIGITS = 40
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _show(value: Any, depth: int = 0) -> str:
    """``value`` written as TOML, so a message quotes what the technician typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _show_text(value)
    if isinstance(value, list | tuple):
        if depth >= _SHOWN_DEPTH and value:
            return "[…]"
        items = [_show(item, depth + 1) for item in value[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS:
            items.append(f"… {len(value)} items in all")
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        if depth >= _SHOWN_DEPTH and value:
            return "{…}"
        pairs = [f"{_show_key(key)} = {_show(item, depth + 1)}" for key, item in list(value.items())[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS:
            pairs.append(f"… {len(value)} keys in all")
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int) and abs(value) >= 10**_SHOWN_DIGITS:
        return f"a number of {len(str(abs(value)))} digits"
    return repr(value)


def _show_text(text: str) -> str:
    """A TOML basic string; control characters (a NUL byte too) as escapes, so none reaches the console."""
    shortened = len(text) > _SHOWN_CHARS
    shown = text[: _SHOWN_CHARS // 2] if shortened else text
    escaped = shown.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(_escape_control(char) for char in escaped)
    return f'"{escaped}…" ({len(text)} characters)' if shortened else f'"{escaped}"'


def _escape_control(char: str) -> str:
    if char == "\t":
        return "\\t"
    if char == "\n":
        return "\\n"
    if char < " " or char == "\x7f":
        return f"\\u{ord(char):04X}"
    return char


def _show_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else quoted (and shortened like any text)."""
    return key if _BARE_KEY.fullmatch(key) and len(key) <= _SHOWN_CHARS else _show_text(key)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.datetime):
        return "a date-time"
    if isinstance(value, datetime.date):
        return "a date"
    return "a time"


def _bound(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def _either(choices: tuple[str, ...] | list[str]) -> str:
    shown = [_show(c) for c in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


_TERMINAL_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")
_HOTLINE = re.compile(r"[0-9 -]{3,20}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_SERIAL_DEVICE = re.compile(r"/dev/\S+")
# An IPv6 literal in a URL (RFC 3986 §3.2.2): "[address]", then only ":port";
# urlsplit lets "https://[::1]x:80" through.
_BRACKETED_HOST = re.compile(r"(?:[^@]*@)?\[[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~-]+)?\](?::[0-9]*)?")
_TCP_PORT = re.compile(r"tcp://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})")


def _terminal_id(value: str) -> str | None:
    if _TERMINAL_ID.fullmatch(value):
        return None
    return (
        f"{_show(value)} is not a valid terminal id — use 3 to 32 capital letters, digits and dashes, "
        'starting with a letter or digit, e.g. "KS-0001"'
    )


def _hotline(value: str) -> str | None:
    if _HOTLINE.fullmatch(value) and any(c.isdigit() for c in value):
        return None
    return f'{_show(value)} is not a phone number — use 3 to 20 digits, spaces and dashes, e.g. "95598"'


def _hhmm(value: str) -> str | None:
    if _HHMM.fullmatch(value):
        return None
    return f'{_show(value)} is not a time — write it as "HH:MM" on the 24-hour clock, e.g. "08:00" or "20:00"'


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
            and not any(c.isspace() or _is_control(c) for c in value)
            and ("[" not in parts.netloc or _BRACKETED_HOST.fullmatch(parts.netloc))):
        return None
    return f'{_show(value)} is not "embedded" or an http(s) URL — e.g. "https://billing.example:8443"'


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"


# Linux's limits (PATH_MAX, NAME_MAX): a longer path fails every call with ENAMETOOLONG.
_PATH_MAX_BYTES = 4095
_NAME_MAX_BYTES = 255


def _path_text(value: str) -> str | None:
    """Whether ``value`` can name a file at all: no NUL byte or other control character, not too long."""
    for position, char in enumerate(value, start=1):
        if _is_control(char):
            what = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
            return (f"{_show(value)} contains {what} at character {position} — a path cannot hold one; "
                    "retype the path with printable characters only")
    try:
        encoded = os.fsencode(value)
    except UnicodeEncodeError:  # a process started without a UTF-8 locale
        return (f"{_show(value)} cannot be written in this system's file name encoding "
                f"({sys.getfilesystemencoding()}) — use ASCII letters and digits in the path")
    if len(encoded) > _PATH_MAX_BYTES:
        return f"{_show(value)} is {len(encoded)} bytes long — a path may be at most {_PATH_MAX_BYTES} bytes"
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > _NAME_MAX_BYTES:
        return (f"{_show(value)} has a name of {len(longest)} bytes between two slashes — "
                f"each part of a path may be at most {_NAME_MAX_BYTES} bytes")
    return None


def _device_port(value: str) -> str | None:
    # The same three forms pyserial's serial_for_url understands, so a driver can
    # be pointed at real hardware, a pty or a socket without code changes.
    if value in ("emulator", "none") or _SERIAL_DEVICE.fullmatch(value):
        return None
    tcp = _TCP_PORT.fullmatch(value)
    if tcp and 1 <= int(tcp[1]) <= 65535:
        return None
    return (
        f'{_show(value)} is not a port the kiosk can open — use "emulator", "none" (not fitted), a serial '
        'device such as "/dev/ttyUSB0", or "tcp://host:port" such as "tcp://192.168.1.50:4001"'
    )


def _card_reader(value: str) -> str | None:
    if value in ("emulator", "none", "pcsc") or (value.startswith("pcsc:") and value[5:].strip()):
        return None
    return (
        f'{_show(value)} is not a card reader setting — use "emulator", "none" (not fitted), "pcsc" for the '
        'first PC/SC reader, '
        'or "pcsc:" followed by the reader name as pcsc_scan shows it'
    )


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
        Field("acceptor", Kind.STRING, "emulator", check=_device_port),
        Field("printer", Kind.STRING, "emulator", check=_device_port),
        Field("card_reader", Kind.STRING, "emulator", check=_card_reader),
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


# --------------------------------------------------------------------------- the walker


def _type_problem(field: Field, value: Any, example: Any) -> str | None:
    """Why ``value`` is not of ``field``'s kind, with the line to write instead; None if it is."""
    name = field.name
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if field.kind is Kind.NUMBER:
        if is_number:
            return None
        fix = _unquote(name, value, float) or f"write a number, e.g. {name} = {_show(example)}"
    elif field.kind is Kind.INTEGER:
        if is_number and isinstance(value, int):
            return None
        if isinstance(value, float) and value.is_integer():
            fix = f"write it without the decimal point: {name} = {int(value)}"
        else:
            fix = _unquote(name, value, int) or f"write a whole number, e.g. {name} = {_show(example)}"
    elif field.kind is Kind.STRING:
        if isinstance(value, str):
            return None
        if is_number:
            fix = f'put it in quotes: {name} = "{_show(value)}"'
        elif isinstance(value, datetime.time):  # TOML reads open = 08:00:00 as a time, not text
            fix = f'put it in quotes: {name} = "{value:%H:%M}"'
        else:
            fix = f"write it in double quotes, e.g. {name} = {_show(example)}"
    elif field.kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            fix = f"write it without quotes: {name} = {value.strip().lower()}"
        else:
            fix = f"write {name} = true or {name} = false"
    elif field.kind is Kind.INTEGERS:
        if isinstance(value, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            return None
        if isinstance(value, list):
            items = [_as_whole_number(i) for i in value]
            fix = f"write the numbers without quotes: {name} = {_show(items)}"
        else:
            fix = f"write a list in brackets, e.g. {name} = {_show(example)}"
    else:  # Kind.STRINGS
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return None
        if isinstance(value, str):
            items = re.split(r"[\s,]+", value.strip())  # "zh, en" was meant as ["zh", "en"]
            fix = f"write it as a list in brackets: {name} = {_show(items)}"
        elif isinstance(value, list):
            items = [item if isinstance(item, str) else _show(item) for item in value]
            fix = f"put each item in double quotes: {name} = {_show(items)}"
        else:
            fix = f"write a list in brackets, e.g. {name} = {_show(example)}"
    return f"expected {field.kind.value}, got {_show(value)} ({_kind_of(value)}) — {fix}"


def _as_whole_number(item: Any) -> Any:
    """``item`` as the number it spells ("50" → 50), else ``item`` itself."""
    if isinstance(item, str) and item.strip().isdecimal():
        try:
            return int(item.strip())
        except ValueError:  # more digits than int() reads (4300)
            return item
    return item


def _unquote(name: str, value: Any, convert: Callable[[str], Any]) -> str | None:
    """The hint for a number written in quotes ("20"), or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        convert(value.strip())
    except ValueError:
        return None
    return f"write it without quotes: {name} = {value.strip()}"


def _value_problem(field: Field, value: Any, example: Any) -> str | None:
    """Why a well-typed ``value`` is not allowed for ``field``; None if it is."""
    if field.kind in (Kind.STRINGS, Kind.INTEGERS):
        return _list_problem(field, value)
    if isinstance(value, str) and not value.strip() and not field.may_be_empty:
        return f"{_show(value)} is empty — write a value, e.g. {field.name} = {_show(example)}"
    if field.choices and value not in field.choices:
        return f"{_show(value)} is not allowed — choose one of {', '.join(_show(c) for c in field.choices)}"
    if field.range and not field.range[0] <= value <= field.range[1]:  # also catches nan
        low, high = field.range
        unit = f" {field.unit}" if field.unit else ""
        return f"{_show(value)} is out of range — allowed {_bound(low)} to {_bound(high)}{unit}"
    return field.check(value) if field.check else None


def _list_problem(field: Field, items: list[str]) -> str | None:
    allowed = ", ".join(_show(c) for c in field.choices)
    if not items:
        return f"the list is empty — list at least one of {allowed}"
    for position, item in enumerate(items):
        if item not in field.choices:
            return f"{_show(item)} is not allowed — choose from {allowed}"
        if item in items[:position]:
            return f"{_show(item)} is listed twice — list each once"
    return None


def _close_keys(typed: str, valid: tuple[str, ...]) -> list[str]:
    """Valid keys that ``typed`` is probably a misspelling of, best first (at most two).

    Each word of a key counts as well as the whole key, so "timout" finds both
    ``connect_timeout_s`` and ``read_timeout_s``, which difflib alone would miss.
    """
    def score(key: str) -> float:
        words = [key, *(word for word in key.split("_") if len(word) >= 3)]
        return max(difflib.SequenceMatcher(None, typed.lower(), word).ratio() for word in words)

    scored = [(score(key), key) for key in valid]
    close = sorted((pair for pair in scored if pair[0] >= 0.6), key=lambda pair: -pair[0])
    return [key for _, key in close[:2]]


def _homes_of(key: str) -> list[str]:
    """The tables where ``key`` is a valid key, as a technician writes their headers."""
    homes = [f"[{section}]" for section, fields in SECTIONS.items() if any(f.name == key for f in fields)]
    if any(f.name == key for f in UTILITY_FIELDS):
        homes.append("[[utilities]]")
    return homes


def _unknown_key(prefix: str, table: str, key: str, valid: tuple[str, ...]) -> ConfigProblem:
    homes = _homes_of(key)
    # A key far longer than any valid one is no misspelling of one.
    near = _close_keys(key, valid) if len(key) <= 2 * max(map(len, valid)) else []
    key = _show_key(key)
    if homes:  # a real key in the wrong table, e.g. written above the first [section] line
        advice = f"{key} belongs in {' or '.join(homes)}; move it there"
    elif near:
        advice = "did you mean " + " or ".join(prefix + n for n in near) + "?"
    else:
        advice = f"the keys of {table} are {', '.join(valid)}"
    return ConfigProblem(prefix + key, f"unknown key — {advice}")


def _walk_table(
    prefix: str, table: str, raw: Mapping[str, Any], fields: tuple[Field, ...],
    defaults: Mapping[str, Any], problems: list[ConfigProblem],
) -> dict[str, Any]:
    """Check one TOML table against its fields, adding to ``problems``.

    Returns the values to use: the file's where valid, the defaults where the
    key is absent.  A key with a problem is left out, so the cross-field checks
    skip it rather than report the same mistake twice.
    """
    valid = tuple(f.name for f in fields)
    problems.extend(_unknown_key(prefix, table, key, valid) for key in raw if key not in valid)
    values: dict[str, Any] = {}
    for field in fields:
        example = defaults[field.name]
        if field.name not in raw:
            if field.required:
                problems.append(ConfigProblem(
                    prefix + field.name,
                    f"missing — every {table} table needs one: {field.name} = {_either(field.choices)}",
                ))
            else:
                values[field.name] = example
            continue
        value = raw[field.name]
        problem = _type_problem(field, value, example) or _value_problem(field, value, example)
        if problem:
            problems.append(ConfigProblem(prefix + field.name, problem))
        else:
            values[field.name] = value
    return values


def _walk_utilities(raw: Any, problems: list[ConfigProblem]) -> list[dict[str, Any]]:
    if raw is None:  # not in the file: the embedded list
        return [dict(entry) for entry in DEFAULT_UTILITIES.values()]
    if isinstance(raw, dict):
        problems.append(ConfigProblem("utilities", (
            "expected [[utilities]] tables, got a single [utilities] table — "
            "write [[utilities]] with double brackets above each utility"
        )))
        return []
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        problems.append(ConfigProblem("utilities", (
            f"expected [[utilities]] tables, got {_show(raw)} ({_kind_of(raw)}) — "
            'write each utility as its own [[utilities]] table with id = "electricity", "water" or "gas"'
        )))
        return []
    if not raw:
        problems.append(ConfigProblem("utilities", (
            "the list is empty — add a [[utilities]] table for each utility this hall takes payments for, "
            "or remove utilities to use the defaults"
        )))
    entries = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(raw, start=1):
        prefix = f"utilities[{number}]."
        given_id = entry.get("id")
        # Keys not given come from the default entry of the same id; with no valid id
        # there will be a problem anyway, and electricity's values serve as examples.
        defaults = DEFAULT_UTILITIES.get(given_id) if isinstance(given_id, str) else None
        values = _walk_table(
            prefix, "[[utilities]]", entry, UTILITY_FIELDS, defaults or DEFAULT_UTILITIES["electricity"], problems
        )
        utility_id = values.get("id")
        if utility_id in first_seen:
            earlier = f"utilities[{first_seen[utility_id]}]"
            problems.append(ConfigProblem(
                prefix + "id", f"{_show(utility_id)} is already used by {earlier} — list each utility once"
            ))
        elif utility_id is not None:
            first_seen[utility_id] = number
        entries.append(values)
    return entries


def _walk_document(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[ConfigProblem]]:
    problems: list[ConfigProblem] = []
    top_level = (*SECTIONS, "utilities")
    problems.extend(_unknown_key("", "the file", key, top_level) for key in doc if key not in top_level)
    values: dict[str, Any] = {}
    for section, fields in SECTIONS.items():
        raw = doc.get(section, {})
        if not isinstance(raw, dict):
            problems.append(ConfigProblem(section, (
                f"expected a [{section}] table, got {_show(raw)} ({_kind_of(raw)}) — "
                f"write its keys below a [{section}] line"
            )))
            raw = {}
        defaults = {f.name: f.default for f in fields}
        values[section] = _walk_table(section + ".", f"[{section}]", raw, fields, defaults, problems)
    values["utilities"] = _walk_utilities(doc.get("utilities"), problems)
    problems.extend(_cross_field_problems(values))
    return values, problems


def _cross_field_problems(values: Mapping[str, Any]) -> list[ConfigProblem]:
    """Rules that tie keys together; each runs only when its keys were valid on their own."""
    problems = []
    terminal = values["terminal"]
    if {"languages", "default_language"} <= terminal.keys():
        default, languages = terminal["default_language"], terminal["languages"]
        if default not in languages:
            problems.append(ConfigProblem("terminal.default_language", (
                f"{_show(default)} is not in terminal.languages {_show(languages)} — "
                f"add it to languages or choose one of {', '.join(_show(lang) for lang in languages)}"
            )))
    hours = values["service_hours"]
    if {"open", "close"} <= hours.keys() and hours["close"] <= hours["open"]:  # "HH:MM" sorts as time does
        problems.append(ConfigProblem("service_hours.close", (
            f"{_show(hours['close'])} is not later than service_hours.open {_show(hours['open'])} — "
            "set close after open; service hours cannot run past midnight"
        )))
    backend = values["backend"]
    if {"url", "ca_file"} <= backend.keys() and backend["ca_file"] and urlsplit(backend["url"]).scheme == "https":
        state = _readable_file_problem(Path(backend["ca_file"]))
        if state:
            problems.append(ConfigProblem("backend.ca_file", (
                f"{_show(backend['ca_file'])} {state} — backend.url is https, so give the PEM file "
                'of the CA that signed the backend\'s certificate, or "" to use the system CA store'
            )))
    if {"call_deadline_s", "connect_timeout_s"} <= backend.keys():
        deadline, connect = backend["call_deadline_s"], backend["connect_timeout_s"]
        if deadline < connect:
            problems.append(ConfigProblem("backend.call_deadline_s", (
                f"{_show(deadline)} is shorter than backend.connect_timeout_s {_show(connect)} — a call could "
                "never even connect; set call_deadline_s to at least connect_timeout_s"
            )))
    return problems


def _readable_file_problem(path: Path) -> str | None:
    """What keeps the kiosk from reading ``path`` ("does not exist", …), or None."""
    looked = "" if path.is_absolute() else f" (looked for {path.absolute()})"
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"does not exist{looked}"
    except OSError as error:
        return f"cannot be looked at{looked}: {error.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"is not a file{looked}"
    if not os.access(path, os.R_OK):
        return f"is not readable by the kiosk's user{looked} ({_owner_and_mode(info)})"
    return None


def _owner_and_mode(info: os.stat_result) -> str:
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:  # a uid without a name (a file from another machine)
        owner = str(info.st_uid)
    return f"owner {owner}, mode {stat.S_IMODE(info.st_mode):04o}"


# --------------------------------------------------------------------------- what `kiosk run` needs on disk

# The directories ``kiosk run`` creates when missing and then writes in.
_RUN_DIRECTORIES = (("storage", "data_dir"), ("storage", "backup_dir"), ("logging", "dir"))


def _run_path_problems(values: Mapping[str, Any]) -> list[ConfigProblem]:
    """What would stop ``kiosk run`` on this machine, found without creating anything.

    Each directory must exist and be writable, or its nearest existing parent
    must be a directory the kiosk's user may create it in; the key file must
    be readable, or creatable the same way.  Checks ``os.access`` for the
    process's own user, so run it as the kiosk's user (root passes them all,
    except on a read-only or immutable directory).
    """
    problems = []
    for section, key in _RUN_DIRECTORIES:
        if key in values[section]:
            problem = _directory_problem(values[section][key], f"{section}.{key}")
            if problem:
                problems.append(ConfigProblem(f"{section}.{key}", problem))
    if "key_file" in values["storage"]:
        problem = _key_file_problem(values["storage"]["key_file"])
        if problem:
            problems.append(ConfigProblem("storage.key_file", problem))
    return problems


def _key_file_problem(text: str) -> str | None:
    path = Path(text)
    if os.path.lexists(path):
        state = _readable_file_problem(path)
        return state and f"{_show(text)} {state} — the journal's key must be a file the kiosk's user can read"
    blocked = _directory_blocked(str(path.parent))
    if blocked is None:
        return None
    state, advice = blocked
    return (f"{_show(text)} cannot be created: its directory {_show(str(path.parent))} {state} — "
            f"{advice}, or set storage.key_file to a path in another directory")


def _directory_problem(text: str, key: str) -> str | None:
    blocked = _directory_blocked(text)
    if blocked is None:
        return None
    state, advice = blocked
    return f"{_show(text)} {state} — {advice}, or set {key} to another directory"


def _directory_blocked(text: str) -> tuple[str, str] | None:
    """Why the kiosk could not create (when missing) and write in directory ``text``,
    as (what is wrong, what to do); None when it can."""
    path = Path(text).absolute()  # not resolved: "x/.." after a file x fails here as it will in mkdir
    looked = "" if Path(text).is_absolute() else f" (looked for {path})"
    existing, info = _nearest_existing(path)
    if info is None:
        return (f"cannot be created{looked}: {existing} is a symbolic link to a path that does not exist",
                "remove the link or create what it points to")
    if not stat.S_ISDIR(info.st_mode):
        if existing == path:
            return f"is a file, not a directory{looked}", "move that file away"
        return f"cannot be created{looked}: {existing} is a file, not a directory", "move that file away"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    why, file_system_fix = _why_not_writable(existing, info)
    if file_system_fix:
        advice = file_system_fix
    elif existing == path:
        advice = "give the kiosk's user write access to it"
    else:
        advice = f"create it in {existing} with the kiosk's user as its owner"
    if existing == path:
        return f"is a directory the kiosk's user cannot write in{looked}: {why}", advice
    return f"cannot be created{looked}: the kiosk's user cannot write in {existing}: {why}", advice


def _nearest_existing(path: Path) -> tuple[Path, os.stat_result | None]:
    """The nearest of ``path`` and its parents that exists, with its stat (None: a broken symbolic link)."""
    for candidate in (path, *path.parents):
        try:
            return candidate, candidate.stat()
        except FileNotFoundError:
            if os.path.lexists(candidate):
                return candidate, None
        except OSError:  # ENOTDIR (a file on the way), EACCES, ELOOP: look further up
            continue
    return Path(path.anchor), Path(path.anchor).stat()


def _why_not_writable(path: Path, info: os.stat_result) -> tuple[str, str]:
    """The owner and mode; and when those allow writing and the file system refuses, what to do about it."""
    if os.geteuid() == 0:
        mode_allows = True
    elif info.st_uid == os.geteuid():
        mode_allows = bool(info.st_mode & stat.S_IWUSR)
    elif info.st_gid in (os.getegid(), *os.getgroups()):
        mode_allows = bool(info.st_mode & stat.S_IWGRP)
    else:
        mode_allows = bool(info.st_mode & stat.S_IWOTH)
    owner_and_mode = _owner_and_mode(info)
    if not mode_allows:
        return owner_and_mode, ""
    if _is_read_only_mount(path):
        return f"{owner_and_mode}, on a read-only file system", "mount that file system read-write"
    return (f"{owner_and_mode}, yet writes are refused (immutable: lsattr -d shows i)",
            f"clear the flag with chattr -i {path}")


def _is_read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


# --------------------------------------------------------------------------- reading and building


_READ_HINTS = {
    FileNotFoundError: "pass an existing file or omit --config to use the embedded defaults",
    IsADirectoryError: "pass the configuration file itself, not its directory",
    PermissionError: "let the kiosk's user read it (check the owner and mode of the file)",
}

# Typed with a Chinese input method these look like TOML's own punctuation but are not.
_FULL_WIDTH = "“”‘’＝，［］"


# A configuration is a few kilobytes; this bounds what a wrong path (a log, a
# disk image, /dev/zero) makes the kiosk read before it says so.
_MAX_CONFIG_BYTES = 1 << 20


def _read_toml(path: str) -> dict[str, Any]:
    data = _read_config_bytes(path)
    try:
        text = data.decode("utf-8-sig")  # Notepad writes a byte-order mark; it is harmless
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(path, [ConfigProblem("", (
            f"line {line}: not UTF-8 text — save the file as UTF-8 (some editors save Chinese text as GBK)"
        ))]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [ConfigProblem("", _syntax_message(str(error), text))]) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise ConfigError(path, [ConfigProblem("", _too_deep_message(text))]) from None
    except ValueError as error:  # int() refuses more than 4300 digits (CVE-2020-10735)
        raise ConfigError(path, [ConfigProblem("", _too_long_number_message(str(error), text))]) from None


def _read_config_bytes(path: str) -> bytes:
    try:
        # O_NONBLOCK: a FIFO given by mistake must not wait for a writer.
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(path, [ConfigProblem("", (
                    "cannot read: not a regular file — pass the configuration file itself"
                ))])
            data = file.read(_MAX_CONFIG_BYTES + 1)
    except OSError as error:
        hint = _READ_HINTS.get(type(error), "check the path and the file's permissions")
        raise ConfigError(path, [ConfigProblem("", f"cannot read: {error.strerror or error} — {hint}")]) from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(path, [ConfigProblem("", (
            f"larger than {_MAX_CONFIG_BYTES >> 20} MiB — a configuration is a few kilobytes; "
            "check that this is the kiosk's config.toml"
        ))])
    return data


def _line_where(text: str, score: Callable[[str], int]) -> str:
    """The number of the line scoring highest, for a message without tomllib's position."""
    lines = text.splitlines() or [""]
    number = max(range(len(lines)), key=lambda index: score(lines[index]))
    return f"line {number + 1}"


def _too_deep_message(text: str) -> str:
    where = _line_where(text, lambda line: line.count("[") + line.count("{"))
    return (f"{where}: not valid TOML (brackets nested hundreds deep) — no setting takes more than one "
            "level of [ ] or { }; remove the extra brackets")


def _longest_digit_run(line: str) -> int:
    return max((len(run) for run in re.findall(r"[0-9_]+", line)), default=0)


def _too_long_number_message(reason: str, text: str) -> str:
    where = _line_where(text, _longest_digit_run)
    return (f"{where}: not valid TOML (a number too long to read: {reason.split(':')[0].lower()}) — "
            "no setting takes a number that long; write the value the comment above the key allows")


def _syntax_message(reason: str, text: str) -> str:
    # tomllib (3.11) puts the position only in the message: "... (at line 3, column 9)".
    at = re.search(r" \(at line (\d+), column (\d+)\)$", reason)
    if at:
        where, reason = f"line {at[1]}, column {at[2]}", reason[: at.start()]
        line = text.splitlines()[int(at[1]) - 1] if int(at[1]) <= len(text.splitlines()) else ""
    else:
        where, reason, line = "end of file", reason.removesuffix(" (at end of document)"), ""
    if any(char in line for char in _FULL_WIDTH):
        hint = 'that line has Chinese punctuation (“ ” ＝ ，) — retype it with plain quotes " and = and ,'
    elif reason.startswith(("Cannot overwrite", "Cannot declare")):
        hint = "that key or [section] is already written above; keep only one of them"
    else:
        hint = 'fix the TOML there: text needs double quotes (level = "INFO", open = "08:00"), one key = value per line'
    return f"{where}: not valid TOML ({reason}) — {hint}"


def _converted(fields: tuple[Field, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values in the types the dataclasses promise: floats for numbers, tuples for lists."""
    kinds = {f.name: f.kind for f in fields}
    return {
        name: float(value) if kinds[name] is Kind.NUMBER
        else tuple(value) if kinds[name] in (Kind.STRINGS, Kind.INTEGERS) else value
        for name, value in values.items()
    }


def _build(source: str, values: Mapping[str, Any]) -> KioskConfig:
    section = {name: _converted(fields, values[name]) for name, fields in SECTIONS.items()}
    hours = section["service_hours"]
    return KioskConfig(
        source=source,
        terminal=TerminalConfig(**section["terminal"]),
        service_hours=ServiceHours(
            open=datetime.time.fromisoformat(hours["open"]),
            close=datetime.time.fromisoformat(hours["close"]),
            days=hours["days"],
        ),
        idle=IdleConfig(**section["idle"]),
        backend=BackendConfig(**section["backend"]),
        devices=DevicesConfig(**section["devices"]),
        ui=UiConfig(**section["ui"]),
        payment=PaymentConfig(**section["payment"]),
        storage=StorageConfig(**section["storage"]),
        logging=LoggingConfig(**section["logging"]),
        utilities=tuple(UtilityConfig(**_converted(UTILITY_FIELDS, u)) for u in values["utilities"]),
    )


def default_config() -> KioskConfig:
    """The embedded defaults: what an empty config.toml gives."""
    values, problems = _walk_document({})
    if problems:  # a broken schema default; tests keep this from shipping
        raise ConfigError(EMBEDDED_SOURCE, problems)
    return _build(EMBEDDED_SOURCE, values)


def load_config(path: str | os.PathLike[str] | None) -> KioskConfig:
    """Read and check a configuration file; None gives the embedded defaults.

    A file may set only some keys; the rest take their defaults.  If it has
    ``[[utilities]]`` tables they replace the default list.  Raises
    :class:`ConfigError` with every problem found.
    """
    if path is None:
        return default_config()
    source = os.fspath(path)
    return _checked(source, _read_toml(source), run_paths=False)


def load_config_for_run(path: str | os.PathLike[str] | None) -> KioskConfig:
    """:func:`load_config`, and whether ``kiosk run`` will find what it needs on disk.

    What ``kiosk run`` and ``kiosk check-config`` load, so a file check-config
    passes does not stop the kiosk at start: the directories it writes in can
    be created and written, the files it reads can be read
    (:func:`_run_path_problems`).  Nothing is created here.
    """
    if path is None:
        return _checked(EMBEDDED_SOURCE, {}, run_paths=True)
    source = os.fspath(path)
    return _checked(source, _read_toml(source), run_paths=True)


def _checked(source: str, doc: Mapping[str, Any], run_paths: bool) -> KioskConfig:
    values, problems = _walk_document(doc)
    if run_paths:
        problems.extend(_run_path_problems(values))
    if problems:
        raise ConfigError(source, problems)
    return _build(source, values)
