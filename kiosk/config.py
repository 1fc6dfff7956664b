"""The kiosk's configuration: the schema of ``config.toml``, its validation, and the frozen result.

A technician edits ``config.toml`` on the terminal with a plain text editor.  A
misspelled key must not quietly fall back to its default (nobody would notice
until a customer did), and one restart should show every mistake, not the first.
So every key is declared once in the schema below, with its type, range or
choices and any extra check; a walker validates each table against it and
collects *all* problems; only a clean document is turned into the frozen
dataclasses the rest of the kiosk reads.

Every problem message names the key, the value found, what is allowed and
what to write instead.  Entries of ``[[utilities]]`` are named ``utilities[1]``,
``utilities[2]``, … counting from the first ``[[utilities]]`` in the file, as a
technician counts them on screen.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.account_number import CHECK_RULES, AccountNumberRule

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


def _show(value: Any) -> str:
    """``value`` written as TOML, so a message quotes what the technician typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_show(item)}" for key, item in value.items()) + "}"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return repr(value)


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
    parts = urlsplit(value)
    try:
        parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        parts = None
    if parts and parts.scheme in ("http", "https") and parts.hostname and not any(c.isspace() for c in value):
        return None
    return f'{_show(value)} is not "embedded" or an http(s) URL — e.g. "https://billing.example:8443"'


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
        Field("ca_file", Kind.STRING, "", may_be_empty=True),  # "" = system CA store
        Field("terminal_secret", Kind.STRING, "demo-terminal-secret"),
        Field("startup_grace_s", Kind.NUMBER, 20, range=(0, 600), unit="seconds"),
        Field("heartbeat_interval_s", Kind.NUMBER, 30, range=(5, 3600), unit="seconds"),
        Field("retries", Kind.INTEGER, 2, range=(0, 5), unit="retries"),
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
        Field("data_dir", Kind.STRING, "var/data"),
        Field("key_file", Kind.STRING, "var/data/journal.key"),
        Field("retention_days", Kind.INTEGER, 90, range=(1, 3650), unit="days"),
        Field("backup_dir", Kind.STRING, "var/backup"),
        Field("backup_interval_h", Kind.NUMBER, 24, range=(1, 720), unit="hours"),
    ),
    "logging": (
        Field("dir", Kind.STRING, "var/log"),
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
            items = [int(i) if isinstance(i, str) and i.strip().isdigit() else i for i in value]
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
    near = _close_keys(key, valid)
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
        ca_file = Path(backend["ca_file"])
        if not ca_file.is_file():
            looked = "" if ca_file.is_absolute() else f" (looked for {ca_file.absolute()})"
            state = "is not a file" if ca_file.exists() else "does not exist"
            problems.append(ConfigProblem("backend.ca_file", (
                f"{_show(backend['ca_file'])} {state}{looked} — backend.url is https, so give the PEM file "
                'of the CA that signed the backend\'s certificate, or "" to use the system CA store'
            )))
    return problems


# --------------------------------------------------------------------------- reading and building


_READ_HINTS = {
    FileNotFoundError: "pass an existing file or omit --config to use the embedded defaults",
    IsADirectoryError: "pass the configuration file itself, not its directory",
    PermissionError: "let the kiosk's user read it (check the owner and mode of the file)",
}

# Typed with a Chinese input method these look like TOML's own punctuation but are not.
_FULL_WIDTH = "“”‘’＝，［］"


def _read_toml(path: str) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        hint = _READ_HINTS.get(type(error), "check the path and the file's permissions")
        raise ConfigError(path, [ConfigProblem("", f"cannot read: {error.strerror or error} — {hint}")]) from None
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
    values, problems = _walk_document(_read_toml(source))
    if problems:
        raise ConfigError(source, problems)
    return _build(source, values)
