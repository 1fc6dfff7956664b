"""A prepaid card purchase (购电/购气/购水) as the billing system answers it
(docs/api.md, 3.7 to 3.13): the card, the limits of a purchase, the purchase
and its write token, and the codes a purchase is refused with.

Its own module because a purchase is the one piece of business that ends on
a card, not in the ledger: what the billing system sends must say exactly
which card, which purchase count and which credit, or credit is lost or
loaded twice.  So every reply is checked field by field
(:class:`contract.json_fields.Fields`) and then for consistency: limits that
contradict themselves, a purchase issued without a token, a token for
another card, count or credit are contract breaches (MalformedReply), never
something a screen or the card writer has to puzzle out.

The requests the kiosk sends are in :mod:`contract.purchase_requests`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contract.card_token import MAC_BYTES, MAX_CREDIT_FEN, PurseUpdate, WriteToken
from contract.errors import MalformedReply
from contract.json_fields import Fields
from contract.models import UTILITIES

# A card serial as the card's ATR carries it (docs/card.md, "ATR"): 16 hex digits.
CARD_SERIAL = re.compile(r"[0-9A-F]{16}")
# A purchase number: chosen by the kiosk, unique across terminals (it embeds
# the terminal id), and signed into the write token, which takes 1 to 32 ASCII.
PURCHASE_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_METER_NO = re.compile(r"[0-9]{12}")
_DIGITS = re.compile(r"[0-9]+")
_MAC = re.compile(f"[0-9A-Fa-f]{{{MAC_BYTES * 2}}}")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

CARD_STATUSES = ("active",)
MAX_PURCHASE_COUNT = 2**32 - 1  # the purse's 4-byte count (docs/card.md, EF 0002)
# A card has at most one purchase paid and not written (an order waits for
# it), so a list of them is short; beyond this the reply is a breach.
MAX_UNWRITTEN = 16


class PurchaseStatus(StrEnum):
    """Where a purchase is on the billing system (docs/api.md, 3.9)."""

    ORDERED = "ordered"  # the number, the card, the count and the limits are fixed; no money yet
    PAID = "paid"  # the cash is booked; the write token is not issued yet
    ISSUED = "issued"  # the write token exists; the card has not been confirmed written
    WRITTEN = "written"  # a kiosk read the card back and confirmed it carries this purchase


# Not yet on the card: "Inserting the same card again offers rewrite first".
UNWRITTEN = (PurchaseStatus.PAID, PurchaseStatus.ISSUED)


class PurchaseRefusal(StrEnum):
    """The error codes of the purchase endpoints (docs/api.md, 4), with what
    the kiosk does about each; the client raises them as RequestRejected
    (AccountClosed for ACCOUNT_CLOSED) with ``code`` set to the value."""

    CARD_NOT_FOUND = "CARD_NOT_FOUND"  # not a card of this billing system: counter
    CARD_CANCELLED = "CARD_CANCELLED"  # reported lost or replaced (挂失/补卡): keep nothing, counter
    CARD_MISMATCH = "CARD_MISMATCH"  # the card is not the purchase's, or its files name another account
    CARD_COUNT_MISMATCH = "CARD_COUNT_MISMATCH"  # the card's purchase count is not the billing system's
    NOT_LOADED_IN_METER = "NOT_LOADED_IN_METER"  # the last purchase is still on the card: insert it in the meter
    UNWRITTEN_PURCHASE = "UNWRITTEN_PURCHASE"  # a paid purchase waits for this card: rewrite (补写卡) first
    LIMIT_REACHED = "LIMIT_REACHED"  # the meter holds as much as it may (囤积上限): nothing to buy now
    ORDER_STALE = "ORDER_STALE"  # another purchase of this card was paid after this order: counter
    ISSUE_REFUSED = "ISSUE_REFUSED"  # the key system refused the token; nothing booked: counter
    PURCHASE_NOT_FOUND = "PURCHASE_NOT_FOUND"  # no purchase has this number
    NOT_ISSUED = "NOT_ISSUED"  # a confirmation for a purchase without a token
    WRITE_MISMATCH = "WRITE_MISMATCH"  # the card read back does not carry this purchase's count and credit


@dataclass(frozen=True)
class CardIdentity:
    """A prepaid card as the billing system has it registered (3.7)."""

    card_serial: str
    utility: str
    account_no: str
    meter_no: str
    status: str  # "active"
    purchase_count: int  # the count of the last purchase issued to the card
    unwritten_purchases: int  # purchases paid and not confirmed written (3.12 lists them)

    def belongs_to(self, utility: str, account_no: str) -> bool:
        """Whether the card's own files name the account it is registered to."""
        return (self.utility, self.account_no) == (utility, account_no)


@dataclass(frozen=True)
class PurchaseLimits:
    """What one purchase may be, worked out by the billing system (3.8).

    The credit one purchase adds is at least ``min_credit_fen`` and at most
    ``max_credit_fen`` (the per-purchase maximum, or the hoarding limit
    (囤积上限) minus ``held_fen``, what the meter and the card already hold,
    whichever is smaller).  Where the utility takes arrears first
    (``arrears_first``), ``arrears_fen`` of the cash settles the account and
    only the rest becomes credit.  The kiosk takes cash from ``min_amount_fen``
    to ``max_amount_fen`` in steps of ``step_fen`` (whole yuan): the machine
    gives no change, so it stops taking notes at the maximum.
    """

    min_purchase_fen: int
    max_purchase_fen: int
    hoarding_limit_fen: int
    held_fen: int
    min_credit_fen: int
    max_credit_fen: int
    arrears_fen: int
    arrears_first: bool
    min_amount_fen: int
    max_amount_fen: int
    step_fen: int

    def accepts(self, amount_fen: int) -> bool:
        """Whether ``amount_fen`` of cash is a purchase these limits allow."""
        return (self.min_amount_fen <= amount_fen <= self.max_amount_fen
                and amount_fen % self.step_fen == 0)

    def credit_for(self, amount_fen: int) -> int:
        """The credit ``amount_fen`` of cash buys for the card."""
        return amount_fen - self.arrears_fen if self.arrears_first else amount_fen


@dataclass(frozen=True)
class PurchaseQuote:
    """The limits of a purchase for one card as it was read (3.8); fixes nothing."""

    card_serial: str
    utility: str
    account_no: str
    limits: PurchaseLimits


@dataclass(frozen=True)
class Purchase:
    """One purchase as the billing system holds it now (3.9 to 3.13).

    ``purchase_count`` is the count the card carries once this purchase is
    written; ``write_token`` (from status issued on) carries the purse update
    the card takes and its MAC.  ``amount_fen``, ``arrears_paid_fen``,
    ``credit_fen`` and ``receipt_no`` are None until the cash is booked.
    """

    purchase_no: str
    status: PurchaseStatus
    terminal_id: str  # the terminal that ordered and took the cash
    card_serial: str
    utility: str
    account_no: str
    purchase_count: int
    limits: PurchaseLimits
    ordered_at: str
    amount_fen: int | None = None  # the cash paid
    arrears_paid_fen: int | None = None  # the part of it that settled arrears
    credit_fen: int | None = None  # the credit bought for the card
    receipt_no: str | None = None
    paid_at: str | None = None
    issued_at: str | None = None
    written_at: str | None = None
    write_token: WriteToken | None = None
    # True when the server answered a repeated request from its idempotency
    # store (an earlier attempt had done the work); from Idempotent-Replay.
    replayed: bool = False

    @property
    def unwritten(self) -> bool:
        return self.status in UNWRITTEN


# --- Parsing ------------------------------------------------------------------
# Each parser takes the decoded JSON and the path it sits at, so an error in a
# nested object names its full path ("purchases[0].write_token.mac").


def parse_card_identity(obj: Any) -> CardIdentity:
    """The reply of GET /cards/{card_serial} (3.7)."""
    f = Fields(obj)
    return CardIdentity(
        card_serial=_serial(f),
        utility=_utility(f),
        account_no=_account_no(f),
        meter_no=f.text("meter_no", pattern=_METER_NO, expected="12 digits"),
        status=f.text("status", choices=CARD_STATUSES),
        purchase_count=f.integer("purchase_count", minimum=0, maximum=MAX_PURCHASE_COUNT),
        unwritten_purchases=f.integer("unwritten_purchases", minimum=0, maximum=MAX_UNWRITTEN),
    )


def parse_purchase_quote(obj: Any) -> PurchaseQuote:
    """The reply of POST /cards/{card_serial}/quote (3.8)."""
    f = Fields(obj)
    return PurchaseQuote(
        card_serial=_serial(f),
        utility=_utility(f),
        account_no=_account_no(f),
        limits=parse_limits(*_child(obj, "", "limits")),
    )


def parse_limits(obj: Any, path: str = "limits") -> PurchaseLimits:
    """The ``limits`` object, each figure in range and all of them consistent."""
    f = Fields(obj, path)
    money = {"minimum": 0, "maximum": MAX_CREDIT_FEN}
    limits = PurchaseLimits(
        min_purchase_fen=f.integer("min_purchase_fen", **money),
        max_purchase_fen=f.integer("max_purchase_fen", **money),
        hoarding_limit_fen=f.integer("hoarding_limit_fen", **money),
        held_fen=f.integer("held_fen", **money),
        min_credit_fen=f.integer("min_credit_fen", minimum=1, maximum=MAX_CREDIT_FEN),
        max_credit_fen=f.integer("max_credit_fen", minimum=1, maximum=MAX_CREDIT_FEN),
        arrears_fen=f.integer("arrears_fen", minimum=0),
        arrears_first=_boolean(obj, path, "arrears_first"),
        min_amount_fen=f.integer("min_amount_fen", minimum=1),
        max_amount_fen=f.integer("max_amount_fen", minimum=1),
        step_fen=f.integer("step_fen", minimum=1, maximum=10_000),
    )
    _check_limits(limits, path)
    return limits


def parse_purchase(obj: Any, path: str = "", *, replayed: bool = False) -> Purchase:
    """A purchase object: the reply of 3.9 to 3.11 and 3.13, an entry of 3.12."""
    f = Fields(obj, path)
    purchase = Purchase(
        purchase_no=_purchase_no(f),
        status=PurchaseStatus(f.text("status", choices=tuple(s.value for s in PurchaseStatus))),
        terminal_id=f.text("terminal_id", pattern=_TERMINAL, expected="a terminal id"),
        card_serial=_serial(f),
        utility=_utility(f),
        account_no=_account_no(f),
        purchase_count=f.integer("purchase_count", minimum=1, maximum=MAX_PURCHASE_COUNT),
        limits=parse_limits(*_child(obj, path, "limits")),
        ordered_at=f.time("ordered_at"),
        amount_fen=_optional_integer(f, "amount_fen", minimum=1),
        arrears_paid_fen=_optional_integer(f, "arrears_paid_fen", minimum=0),
        credit_fen=_optional_integer(f, "credit_fen", minimum=1, maximum=MAX_CREDIT_FEN),
        receipt_no=(f.text("receipt_no", max_length=64, pattern=_REFERENCE,
                           expected="letters, digits and - _ / .") if f.has("receipt_no") else None),
        paid_at=f.time("paid_at") if f.has("paid_at") else None,
        issued_at=f.time("issued_at") if f.has("issued_at") else None,
        written_at=f.time("written_at") if f.has("written_at") else None,
        write_token=parse_write_token(*_child(obj, path, "write_token")) if f.has("write_token") else None,
        replayed=replayed,
    )
    _check_purchase(purchase, path)
    return purchase


def parse_unwritten(obj: Any) -> tuple[Purchase, ...]:
    """The reply of GET /cards/{card_serial}/unwritten (3.12): its purchases, oldest first."""
    f = Fields(obj)
    serial = _serial(f)
    f.objects("purchases", max_items=MAX_UNWRITTEN)  # an array, and not too long
    purchases = tuple(parse_purchase(entry, f"purchases[{i}]") for i, entry in enumerate(obj["purchases"]))
    for index, purchase in enumerate(purchases):
        if purchase.card_serial != serial:
            raise _breach(f"purchases[{index}].card_serial", "listed for this card, but for another")
        if not purchase.unwritten:
            raise _breach(f"purchases[{index}].status", f"listed as unwritten, but {purchase.status.value}")
    return purchases


def parse_write_token(obj: Any, path: str = "write_token") -> WriteToken:
    """The ``write_token`` object: the purse update and its MAC, as the card checks them."""
    f = Fields(obj, path)
    update = PurseUpdate(
        card_serial=_serial(f),
        purchase_no=_purchase_no(f),
        credit_fen=f.integer("credit_fen", minimum=0, maximum=MAX_CREDIT_FEN),
        purchase_count=f.integer("purchase_count", minimum=1, maximum=MAX_PURCHASE_COUNT),
    )
    mac = f.text("mac", pattern=_MAC, expected=f"{MAC_BYTES * 2} hexadecimal digits")
    return WriteToken(update, bytes.fromhex(mac))


def write_token_body(token: WriteToken) -> dict[str, Any]:
    """The inverse of :func:`parse_write_token` (the simulator sends it)."""
    update = token.update
    return {"card_serial": update.card_serial, "purchase_no": update.purchase_no,
            "credit_fen": update.credit_fen, "purchase_count": update.purchase_count,
            "mac": token.mac.hex().upper()}


# --- Helpers ------------------------------------------------------------------


def _serial(f: Fields, name: str = "card_serial") -> str:
    return f.text(name, pattern=CARD_SERIAL, expected="a card serial of 16 hexadecimal digits (A-F upper case)")


def _purchase_no(f: Fields) -> str:
    return f.text("purchase_no", pattern=PURCHASE_NO, expected="a purchase number (1 to 32 letters, digits, -)")


def _utility(f: Fields) -> str:
    return f.text("utility", choices=UTILITIES)


def _account_no(f: Fields) -> str:
    return f.text("account_no", pattern=_DIGITS, expected="digits")


def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _child(obj: Any, path: str, name: str) -> tuple[Any, str]:
    """The object in field ``name`` and its path (Fields reads flat values and arrays)."""
    where = _where(path, name)
    if isinstance(obj, dict) and name not in obj:
        raise _breach(where, "missing")
    return (obj.get(name) if isinstance(obj, dict) else None), where


def _boolean(obj: dict, path: str, name: str) -> bool:
    """A JSON true or false (Fields has no reader for one); ``obj`` is already known to be an object."""
    if name not in obj:
        raise _breach(_where(path, name), "missing")
    if not isinstance(obj[name], bool):
        raise _breach(_where(path, name), "expected true or false")
    return obj[name]


def _optional_integer(f: Fields, name: str, **bounds: int) -> int | None:
    return f.integer(name, **bounds) if f.has(name) else None


def _breach(field: str, what: str) -> MalformedReply:
    return MalformedReply(f"{field}: {what}", field=field)


def _check_limits(limits: PurchaseLimits, path: str) -> None:
    """Limits that contradict themselves would let the kiosk take cash no purchase can use."""
    if limits.min_credit_fen > limits.max_credit_fen:
        raise _breach(_where(path, "max_credit_fen"), "below min_credit_fen")
    if (limits.max_credit_fen > limits.max_purchase_fen
            or limits.max_credit_fen + limits.held_fen > limits.hoarding_limit_fen):
        raise _breach(_where(path, "max_credit_fen"), "above the per-purchase maximum or the hoarding limit")
    if limits.min_amount_fen > limits.max_amount_fen:
        raise _breach(_where(path, "max_amount_fen"), "below min_amount_fen")
    for name in ("min_amount_fen", "max_amount_fen"):
        if getattr(limits, name) % limits.step_fen:
            raise _breach(_where(path, name), f"not a multiple of step_fen ({limits.step_fen})")
    if not (limits.min_credit_fen <= limits.credit_for(limits.min_amount_fen)
            and limits.credit_for(limits.max_amount_fen) <= limits.max_credit_fen):
        raise _breach(_where(path, "min_amount_fen"),
                      "the cash range buys credit outside min_credit_fen..max_credit_fen")


def _check_purchase(purchase: Purchase, path: str) -> None:
    """A purchase must hold what its status promises, and its token must be its own."""
    status = purchase.status.value
    booked = purchase.status is not PurchaseStatus.ORDERED
    for name in ("amount_fen", "arrears_paid_fen", "credit_fen", "receipt_no", "paid_at"):
        if (getattr(purchase, name) is not None) != booked:
            raise _breach(_where(path, name), f"{'missing' if booked else 'given'} for a purchase that is {status}")
    if booked and purchase.amount_fen != purchase.arrears_paid_fen + purchase.credit_fen:
        raise _breach(_where(path, "credit_fen"), "amount_fen is not arrears_paid_fen + credit_fen")
    has_token = purchase.status in (PurchaseStatus.ISSUED, PurchaseStatus.WRITTEN)
    for name in ("write_token", "issued_at"):
        if (getattr(purchase, name) is not None) != has_token:
            raise _breach(_where(path, name), f"{'missing' if has_token else 'given'} for a purchase that is {status}")
    if (purchase.written_at is not None) != (purchase.status is PurchaseStatus.WRITTEN):
        raise _breach(_where(path, "written_at"), f"does not fit a purchase that is {status}")
    if purchase.write_token is not None:
        update = purchase.write_token.update
        expected = (purchase.card_serial, purchase.purchase_no, purchase.credit_fen, purchase.purchase_count)
        if (update.card_serial, update.purchase_no, update.credit_fen, update.purchase_count) != expected:
            raise _breach(_where(path, "write_token"), "its card, purchase number, credit or count is not the purchase's")
