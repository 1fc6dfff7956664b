"""Reading one object of a billing-system reply, every field with its type and range checked.

:class:`Fields` is what every ``parse_*`` function in :mod:`contract.models`
reads through: a field is present, of the right JSON type (a bool is not an
integer, 12.0 is not an integer amount), inside its range, and text holds no
character that cannot be written to a log, a slip or the journal.  A field that
breaks the contract raises :class:`MalformedReply` naming its full path.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from contract.errors import MalformedReply
from contract.masking import mask_free_text

# Money: integer fen in 64 bits, the journal's (SQLite INTEGER) range.
FEN_MIN = -(2**63)
FEN_MAX = 2**63 - 1
# Quantities (kWh, m³) and prices per unit: finite, and far inside what a
# float holds exactly enough to be drawn and summed.
QUANTITY_LIMIT = 1e9
# Lengths of text, in characters.
MAX_CODE_LENGTH = 32  # enumerations, account numbers, references
MAX_TIME_LENGTH = 40
# Unicode categories no text of the contract needs, and that can break or
# spoof what the kiosk writes: controls (incl. line breaks), format
# characters (bidi overrides), lone surrogates (cannot be encoded as UTF-8),
# private use, line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIELD_NAME = re.compile(r"[a-z_]{1,32}")


class Fields:
    """The fields of one JSON object, each read with its type checked.

    ``path`` is where the object sits in the reply ("bills[2]"), so an error
    names the full field path.
    """

    def __init__(self, obj: Any, path: str = "") -> None:
        if not isinstance(obj, dict):
            raise wrong(path or "(reply)", "an object", obj)
        self._obj = obj
        self._path = path

    def integer(
        self, name: str, *, minimum: int = FEN_MIN, maximum: int = FEN_MAX
    ) -> int:
        """An integer within [minimum, maximum]; never wider than 64 bits."""
        where, value = self._get(name)
        # bool is a subclass of int in Python, but true is no amount of money.
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong(where, "an integer", value)
        minimum, maximum = max(minimum, FEN_MIN), min(maximum, FEN_MAX)
        if not minimum <= value <= maximum:
            raise wrong(where, f"an integer from {minimum} to {maximum}", value)
        return value

    def number(
        self,
        name: str,
        *,
        nullable: bool = False,
        minimum: float = -QUANTITY_LIMIT,
        maximum: float = QUANTITY_LIMIT,
    ) -> float | None:
        where, value = self._get(name)
        if value is None and nullable:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise wrong(where, "a number or null" if nullable else "a number", value)
        # Compared before float(): float() of a huge integer raises OverflowError.
        if not (math.isfinite(value) and minimum <= value <= maximum):
            raise wrong(where, f"a finite number from {minimum:g} to {maximum:g}", value)
        return float(value)

    def text(
        self,
        name: str,
        *,
        choices: tuple[str, ...] = (),
        pattern: re.Pattern[str] | None = None,
        expected: str = "",
        max_length: int = MAX_CODE_LENGTH,
    ) -> str:
        where, value = self._get(name)
        if not isinstance(value, str) or not value:
            raise wrong(where, "a non-empty string", value)
        if len(value) > max_length:
            raise wrong(where, f"text of at most {max_length} characters", value)
        if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in value):
            raise wrong(where, "text without control or unencodable characters", value)
        if choices and value not in choices:
            raise wrong(where, "one of " + ", ".join(choices), value)
        if pattern is not None and not pattern.fullmatch(value):
            raise wrong(where, expected or f"text matching {pattern.pattern}", value)
        return value

    def date(self, name: str) -> str:
        value = self.text(name, pattern=_DATE, expected="a date YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise wrong(self._where(name), "a date YYYY-MM-DD", value) from None
        return value

    def time(self, name: str) -> str:
        """An ISO 8601 time that says its UTC offset (a kiosk's clock may lie)."""
        value = self.text(name, max_length=MAX_TIME_LENGTH)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or "T" not in value:
            raise wrong(self._where(name), "an ISO 8601 time with offset", value)
        return value

    def objects(self, name: str, *, max_items: int) -> list[Fields]:
        where, value = self._get(name)
        if not isinstance(value, list):
            raise wrong(where, "an array", value)
        if len(value) > max_items:
            raise MalformedReply(
                f"{where}: expected at most {max_items} entries, got {len(value)}", field=where
            )
        return [Fields(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def has(self, name: str) -> bool:
        """Whether an optional field is given: present and not null."""
        return self._obj.get(name) is not None

    def only(self, names: tuple[str, ...]) -> None:
        """Refuse fields beyond ``names``: for what the kiosk sends, where an
        extra field could carry data the contract does not allow."""
        extra = sorted(set(self._obj) - set(names), key=str)
        if extra:
            shown = ", ".join(n if _FIELD_NAME.fullmatch(n) else _show(n) for n in extra)
            raise MalformedReply(f"{self._path or '(body)'}: fields not in the contract: {shown}",
                                 field=self._where(str(extra[0])))

    def _get(self, name: str) -> tuple[str, Any]:
        where = self._where(name)
        if name not in self._obj:
            raise MalformedReply(f"{where}: missing", field=where)
        return where, self._obj[name]

    def _where(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name


def wrong(where: str, expected: str, value: Any) -> MalformedReply:
    return MalformedReply(f"{where}: expected {expected}, got {_show(value)}", field=where)


def _show(value: Any) -> str:
    """The offending value in a form fit for kiosk.log: its kind and size, and
    for text a masked form (:func:`contract.masking.mask_free_text`), never the
    text itself -- a reply may carry a name or an address anywhere."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        digits = len(str(abs(value)))  # bounded: the client refuses numbers of > 30 digits
        return str(value) if digits <= 20 else f"an integer of {digits} digits"
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        shown = json.dumps(mask_free_text(value), ensure_ascii=False)
        return shown if mask_free_text(value) == value else f"{shown} ({len(value)} characters)"
    if isinstance(value, list):
        return f"an array of {len(value)} entries"
    if isinstance(value, dict):
        return f"an object of {len(value)} fields"
    return type(value).__name__
