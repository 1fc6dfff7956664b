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

import re
from dataclasses import dataclass
from typing import Any

from contract.json_fields import Fields
from contract.masking import mask_address, mask_name

UTILITIES = ("electricity", "water", "gas")
UNITS = ("kWh", "m³")
ACCOUNT_STATUSES = ("active", "closed")
BILL_STATUSES = ("unpaid", "paid")
PAYMENT_STATUSES = ("posted",)
TERMINAL_STATUSES = ("in_service", "degraded", "out_of_service")

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DIGITS = re.compile(r"[0-9]+")
# RFC 6750 section 2.1, b64token: what a bearer token may hold, so it always
# fits an Authorization header (Latin-1, no line break).
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# A receipt or transaction number: printed on the slip, logged, journaled.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")

# Counts.  docs/api.md gives bills "any length (the kiosk pages them)": twenty
# years of monthly bills is far more than any screen pages through.
MAX_BILLS = 240
MAX_USAGE_MONTHS = 36  # the contract sends twelve
MAX_TARIFF_TIERS = 12
MAX_NOTES = 100
MAX_TIER = 99
MAX_TOKEN_LIFETIME_S = 31 * 24 * 3600
# Lengths of text, in characters.
MAX_NAME_LENGTH = 64  # holder, tariff tier names
MAX_ADDRESS_LENGTH = 200
MAX_TOKEN_LENGTH = 4096


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
    f = Fields(obj)
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
    f = Fields(obj)
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
    return Heartbeat(server_time=Fields(obj).time("server_time"))


def parse_auth_token(obj: Any) -> AuthToken:
    f = Fields(obj)
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
    f = Fields(obj)
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


def _parse_bill(f: Fields) -> Bill:
    return Bill(
        period=f.text("period", pattern=_PERIOD, expected="a month YYYY-MM"),
        amount_fen=f.integer("amount_fen", minimum=0),
        due_date=f.date("due_date"),
        status=f.text("status", choices=BILL_STATUSES),
        usage=f.number("usage"),
    )


def _parse_usage_month(f: Fields) -> UsageMonth:
    return UsageMonth(
        month=f.text("month", pattern=_PERIOD, expected="a month YYYY-MM"),
        quantity=f.number("quantity"),
    )


def _parse_tariff_tier(f: Fields) -> TariffTier:
    return TariffTier(
        tier=f.integer("tier", minimum=1, maximum=MAX_TIER),
        name_zh=f.text("name_zh", max_length=MAX_NAME_LENGTH),
        name_en=f.text("name_en", max_length=MAX_NAME_LENGTH),
        up_to=f.number("up_to", nullable=True, minimum=0),
        price_fen_per_unit=f.number("price_fen_per_unit", minimum=0),
    )
