"""How a configuration message quotes what the technician typed.

Every problem message names the value found, written as TOML, shortened and
with its control characters escaped, so that no input, however long, deep or
malformed, buries the message or reaches the console raw.  The schema's
checks, the validation and the file-system checks all quote values, so this
is one module they share rather than a copy in each.
"""

from __future__ import annotations

import datetime
import re
from typing import Any


# A message quotes what the technician typed, but a value thousands of
# characters long or nested hundreds deep would bury the message (and the
# console); past these limits the quote is shortened and says so.
_SHOWN_CHARS = 200
_SHOWN_ITEMS = 8
_SHOWN_DEPTH = 3
_SHOWN_DIGITS = 40
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def show(value: Any, depth: int = 0) -> str:
    """``value`` written as TOML, so a message quotes what the technician typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _show_text(value)
    if isinstance(value, list | tuple):
        if depth >= _SHOWN_DEPTH and value:
            return "[…]"
        items = [show(item, depth + 1) for item in value[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS:
            items.append(f"… {len(value)} items in all")
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        if depth >= _SHOWN_DEPTH and value:
            return "{…}"
        pairs = [f"{show_key(key)} = {show(item, depth + 1)}" for key, item in list(value.items())[:_SHOWN_ITEMS]]
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


def show_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else quoted (and shortened like any text)."""
    return key if _BARE_KEY.fullmatch(key) and len(key) <= _SHOWN_CHARS else _show_text(key)


def kind_of(value: Any) -> str:
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


def bound(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def either(choices: tuple[str, ...] | list[str]) -> str:
    shown = [show(c) for c in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def is_control(char: str) -> bool:
    return char < " " or char == "\x7f"
