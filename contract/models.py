"""The billing system's replies and the kiosk's requests, as frozen dataclasses.

Field names and meanings follow docs/api.md; each ``parse_*`` function turns
one decoded JSON reply into a dataclass and checks every field it reads:
present, of the right JSON type (a bool is not an integer, 12.0 is not an
integer amount), and inside its enumeration.  A reply that breaks the contract
raises :class:`MalformedReply` naming the field path, for example
``bills[2].amount_fen: expected an integer, got "12.5"``, so the screen never
meets a half-parsed account and a technician reads which field was wrong.

Every value is also range-checked before it crosses into the kiosk, so no
reply can make the kiosk fail with anything but a MalformedReply: money is an
integer of fen that fits in 64 bits (SQLite's INTEGER, the journal's type),
quantities and prices are finite and bounded, arrays and texts have a
maximum length, and text holds no control characters, lone surrogates or
other characters that cannot be written to a log, a slip or the journal.

What the detail of a MalformedReply shows of an offending value is masked
(:func:`contract.masking.mask_free_text`): a reply may carry a name where a code
belongs, and the detail goes to kiosk.log.  The holder's name and the address
are masked again whatever the backend sent (:func:`contract.masking.mask_name`,
:func:`contract.masking.mask_address`), so every screen shows masked text.

Unknown extra fields are ignored: the server may add fields without breaking
terminals in the field (docs/api.md, "Conventions").
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from contract.errors import MalformedReply
from contract.masking import mask_address, mask_free_text, mask_name

UTILITIES = ("electricity", "water", "gas")
UNITS = ("kWh", "m³")
ACCOUNT_STATUSES = ("active", "closed")
BILL_STATUSES = ("unpaid", "paid")
PAYMENT_STATUSES = ("posted",)
TERMINAL_STATUSES = ("in_service", "degraded", "out_of_service")

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"[0-9]+")
# RFC 6750 section 2.1, b64token: what a bearer token may hold, so it always
# fits an Authorization header (Latin-1, no line break).
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# A receipt or transaction number: printed on the slip, logged, journaled.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")

# Money: integer fen in 64 bits, the journal's (SQLite INTEGER) range.
FEN_MIN = -(2**63)
FEN_MAX = 2**63 - 1
# Quantities (kWh, m³) and prices per unit: finite, and far inside what a
# float holds exactly enough to be drawn and summed.
QUANTITY_LIMIT = 1e9
# Counts.  docs/api.md gives bills "any length (the kiosk pages them)": twenty
# years of monthly bills is far more than any screen pages through.
MAX_BILLS = 240
MAX_USAGE_MONTHS = 36  # the contract sends twelve
MAX_TARIFF_TIERS = 12
MAX_NOTES = 100
MAX_TIER = 99
MAX_TOKEN_LIFETIME_S = 31 * 24 * 3600
# Lengths of text, in characters.
MAX_CODE_LENGTH = 32  # enumerations, account numbers, references
MAX_NAME_LENGTH = 64  # holder, tariff tier names
MAX_ADDRESS_LENGTH = 200
MAX_TIME_LENGTH = 40
MAX_TOKEN_LENGTH = 4096
# Unicode categories no text of the contract needs, and that can break or
# spoof what the kiosk writes: controls (incl. line breaks), format
# characters (bidi overrides), lone surrogates (cannot be encoded as UTF-8),
# private use, line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


# --- What the server sends --------------------------------------------------


@dataclass(frozen=True)
class Bill:
    period: str  # "2026-10"
    amount_fen: int
    due_date: str  # "2026-11-15"
    status: str  # "unpaid" | "paid"
    usage: float  # quantity billed, in the account's unit


@dataclass(frozen=True)
class UsageMonth:
    month: str  # "2025-12"
    quantity: float


@dataclass(frozen=True)
class TariffTier:
    tier: int  # 1, 2, 3 ...
    name_zh: str
    name_en: str
    up_to: float | None  # monthly quantity where the tier ends; None: no limit
    price_fen_per_unit: float  # may have decimals: 48.83 fen/kWh


@dataclass(frozen=True)
class Account:
    utility: str
    account_no: str
    holder_masked: str  # masked by the billing system: "张*明"
    address_masked: str  # "城东区**路**号"
    status: str  # "active" | "closed"
    arrears_fen: int  # owed now
    balance_fen: int  # prepaid credit (预存)
    unit: str  # "kWh" | "m³"
    bills: tuple[Bill, ...]  # newest first
    usage: tuple[UsageMonth, ...]  # twelve months, oldest first
    tariff_tiers: tuple[TariffTier, ...]

    @property
    def closed(self) -> bool:
        return self.status == "closed"


@dataclass(frozen=True)
class PaymentResult:
    transaction_no: str
    status: str  # "posted"
    posted_at: str  # ISO 8601 with offset
    receipt_no: str
    balance_after_fen: int
    arrears_after_fen: int
    # True when the server answered from its idempotency store (the payment
    # had been posted by an earlier attempt); from the Idempotent-Replay header.
    replayed: bool = False


@dataclass(frozen=True)
class Heartbeat:
    server_time: str  # ISO 8601 with offset


@dataclass(frozen=True)
class AuthToken:
    token: str
    expires_in_s: int


# --- What the kiosk sends ---------------------------------------------------


@dataclass(frozen=True)
class PaymentNote:
    denomination_fen: int  # 10000 for a 100-yuan note
    count: int


@dataclass(frozen=True)
class PaymentRequest:
    """One cash payment, posted once under its transaction number.

    The transaction number doubles as the idempotency key (docs/api.md,
    "POST /api/v1/payments"), so the same request may be sent any number of
    times and is posted at most once.
    """

    transaction_no: str
    terminal_id: str
    utility: str
    account_no: str
    amount_fen: int
    notes: tuple[PaymentNote, ...]
    paid_at: str  # ISO 8601 with offset: when the customer confirmed

    def to_body(self) -> dict[str, Any]:
        return {
            "transaction_no": self.transaction_no,
            "terminal_id": self.terminal_id,
            "utility": self.utility,
            "account_no": self.account_no,
            "amount_fen": self.amount_fen,
            "notes": [
                {"denomination_fen": n.denomination_fen, "count": n.count}
                for n in self.notes
            ],
            "paid_at": self.paid_at,
        }


# --- Parsing ----------------------------------------------------------------


def parse_account(obj: Any) -> Account:
    """An account reply (docs/api.md, "GET /api/v1/accounts/...")."""
    f = _Fields(obj)
    return Account(
        utility=f.text("utility", choices=UTILITIES),
        account_no=f.text("account_no", pattern=_DIGITS, expected="digits"),
        # Masked again here, whatever the backend sent (MISSION.md rule 5).
        holder_masked=mask_name(f.text("holder_masked", max_length=MAX_NAME_LENGTH)),
        address_masked=mask_address(f.text("address_masked", max_length=MAX_ADDRESS_LENGTH)),
        status=f.text("status", choices=ACCOUNT_STATUSES),
        arrears_fen=f.integer("arrears_fen", minimum=0),
        balance_fen=f.integer("balance_fen"),
        unit=f.text("unit", choices=UNITS),
        bills=tuple(_parse_bill(b) for b in f.objects("bills", max_items=MAX_BILLS)),
        usage=tuple(
            _parse_usage_month(u) for u in f.objects("usage", max_items=MAX_USAGE_MONTHS)
        ),
        tariff_tiers=tuple(
            _parse_tariff_tier(t) for t in f.objects("tariff_tiers", max_items=MAX_TARIFF_TIERS)
        ),
    )


def parse_payment_result(obj: Any, *, replayed: bool = False) -> PaymentResult:
    """A payment reply (docs/api.md, "POST /api/v1/payments")."""
    f = _Fields(obj)
    return PaymentResult(
        transaction_no=f.text("transaction_no", max_length=64, pattern=_REFERENCE,
                              expected="letters, digits and - _ / ."),
        status=f.text("status", choices=PAYMENT_STATUSES),
        posted_at=f.time("posted_at"),
        receipt_no=f.text("receipt_no", max_length=64, pattern=_REFERENCE,
                          expected="letters, digits and - _ / ."),
        balance_after_fen=f.integer("balance_after_fen"),
        arrears_after_fen=f.integer("arrears_after_fen", minimum=0),
        replayed=replayed,
    )


def parse_heartbeat(obj: Any) -> Heartbeat:
    return Heartbeat(server_time=_Fields(obj).time("server_time"))


def parse_auth_token(obj: Any) -> AuthToken:
    f = _Fields(obj)
    return AuthToken(
        token=f.text("token", max_length=MAX_TOKEN_LENGTH, pattern=_BEARER_TOKEN,
                     expected="a bearer token (RFC 6750 b64token)"),
        expires_in_s=f.integer("expires_in_s", minimum=1, maximum=MAX_TOKEN_LIFETIME_S),
    )


def parse_payment_request(obj: Any) -> PaymentRequest:
    """The inverse of :meth:`PaymentRequest.to_body`, with the same checks.

    The simulator reads the kiosk's request with it, so both sides of the
    contract share one definition of a well-typed field; the error is still a
    :class:`MalformedReply`, which the simulator answers as 400.
    """
    f = _Fields(obj)
    return PaymentRequest(
        transaction_no=f.text("transaction_no"),
        terminal_id=f.text("terminal_id"),
        utility=f.text("utility", choices=UTILITIES),
        account_no=f.text("account_no"),
        amount_fen=f.integer("amount_fen"),
        notes=tuple(
            PaymentNote(
                denomination_fen=n.integer("denomination_fen", minimum=1),
                count=n.integer("count", minimum=1),
            )
            for n in f.objects("notes", max_items=MAX_NOTES)
        ),
        paid_at=f.time("paid_at"),
    )


def _parse_bill(f: _Fields) -> Bill:
    return Bill(
        period=f.text("period", pattern=_PERIOD, expected="a month YYYY-MM"),
        amount_fen=f.integer("amount_fen", minimum=0),
        due_date=f.date("due_date"),
        status=f.text("status", choices=BILL_STATUSES),
        usage=f.number("usage"),
    )


def _parse_usage_month(f: _Fields) -> UsageMonth:
    return UsageMonth(
        month=f.text("month", pattern=_PERIOD, expected="a month YYYY-MM"),
        quantity=f.number("quantity"),
    )


def _parse_tariff_tier(f: _Fields) -> TariffTier:
    return TariffTier(
        tier=f.integer("tier", minimum=1, maximum=MAX_TIER),
        name_zh=f.text("name_zh", max_length=MAX_NAME_LENGTH),
        name_en=f.text("name_en", max_length=MAX_NAME_LENGTH),
        up_to=f.number("up_to", nullable=True, minimum=0),
        price_fen_per_unit=f.number("price_fen_per_unit", minimum=0),
    )


class _Fields:
    """The fields of one JSON object, each read with its type checked.

    ``path`` is where the object sits in the reply ("bills[2]"), so an error
    names the full field path.
    """

    def __init__(self, obj: Any, path: str = "") -> None:
        if not isinstance(obj, dict):
            raise _wrong(path or "(reply)", "an object", obj)
        self._obj = obj
        self._path = path

    def integer(
        self, name: str, *, minimum: int = FEN_MIN, maximum: int = FEN_MAX
    ) -> int:
        """An integer within [minimum, maximum]; never wider than 64 bits."""
        where, value = self._get(name)
        # bool is a subclass of int in Python, but true is no amount of money.
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong(where, "an integer", value)
        minimum, maximum = max(minimum, FEN_MIN), min(maximum, FEN_MAX)
        if not minimum <= value <= maximum:
            raise _wrong(where, f"an integer from {minimum} to {maximum}", value)
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
            raise _wrong(where, "a number or null" if nullable else "a number", value)
        # Compared before float(): float() of a huge integer raises OverflowError.
        if not (math.isfinite(value) and minimum <= value <= maximum):
            raise _wrong(where, f"a finite number from {minimum:g} to {maximum:g}", value)
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
            raise _wrong(where, "a non-empty string", value)
        if len(value) > max_length:
            raise _wrong(where, f"text of at most {max_length} characters", value)
        if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in value):
            raise _wrong(where, "text without control or unencodable characters", value)
        if choices and value not in choices:
            raise _wrong(where, "one of " + ", ".join(choices), value)
        if pattern is not None and not pattern.fullmatch(value):
            raise _wrong(where, expected or f"text matching {pattern.pattern}", value)
        return value

    def date(self, name: str) -> str:
        value = self.text(name, pattern=_DATE, expected="a date YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _wrong(self._where(name), "a date YYYY-MM-DD", value) from None
        return value

    def time(self, name: str) -> str:
        """An ISO 8601 time that says its UTC offset (a kiosk's clock may lie)."""
        value = self.text(name, max_length=MAX_TIME_LENGTH)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or "T" not in value:
            raise _wrong(self._where(name), "an ISO 8601 time with offset", value)
        return value

    def objects(self, name: str, *, max_items: int) -> list[_Fields]:
        where, value = self._get(name)
        if not isinstance(value, list):
            raise _wrong(where, "an array", value)
        if len(value) > max_items:
            raise MalformedReply(
                f"{where}: expected at most {max_items} entries, got {len(value)}", field=where
            )
        return [_Fields(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def _get(self, name: str) -> tuple[str, Any]:
        where = self._where(name)
        if name not in self._obj:
            raise MalformedReply(f"{where}: missing", field=where)
        return where, self._obj[name]

    def _where(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name


def _wrong(where: str, expected: str, value: Any) -> MalformedReply:
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
