"""What the kiosk sends for a prepaid card purchase (docs/api.md, 3.8 to
3.11): the card as it was read, the order, the cash and the confirmation of
the write.

Its own module, beside :mod:`contract.purchase` (what the billing system
answers), because both sides read these: the client builds them, and the
simulator reads them back with the same checks (``parse_*``), so the two
sides of the contract hold one definition.  A value outside the contract is
the caller's mistake when it builds a request (ValueError) and the sender's
when the simulator reads one (MalformedReply, answered 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.errors import MalformedReply
from contract.json_fields import Fields
from contract.models import MAX_NOTES, UTILITIES, PaymentNote
from contract.purchase import CARD_SERIAL, MAX_PURCHASE_COUNT, PURCHASE_NO

# The purse holds 4-byte figures; a meter's credit as written back likewise.
_MAX_PURSE_FEN = 2**32 - 1


@dataclass(frozen=True)
class CardReading:
    """The card in the reader as the kiosk read it: its serial (ATR), its
    customer file (utility, account) and purse (docs/card.md), and what the
    meter last wrote back to it (返写: the count it last loaded and the credit
    it still holds; both None when the card has not been in a meter since it
    was issued, or the kiosk cannot read the file).

    Sent with a quote and an order, so the limits are worked out for this card
    as it is, and a card that does not fit the billing system's record is
    refused before any cash is taken.
    """

    card_serial: str
    utility: str
    account_no: str
    purchase_count: int
    credit_fen: int
    meter_purchase_count: int | None = None
    meter_credit_fen: int | None = None

    def __post_init__(self) -> None:
        problem = _reading_problem(self)
        if problem:
            raise ValueError(problem)

    def to_body(self) -> dict[str, Any]:
        """The quote's body (the serial is in its path); an order adds to it."""
        return {"utility": self.utility, "account_no": self.account_no,
                "card_purchase_count": self.purchase_count, "card_credit_fen": self.credit_fen,
                "meter_purchase_count": self.meter_purchase_count, "meter_credit_fen": self.meter_credit_fen}


@dataclass(frozen=True)
class PurchaseOrder:
    """An order (3.9): fixes the purchase number, the card and the count it
    will carry, and the limits, before any cash is taken.  ``purchase_no`` is
    the Idempotency-Key of the order, its payment and its confirmation."""

    purchase_no: str
    terminal_id: str
    reading: CardReading

    def __post_init__(self) -> None:
        check_purchase_no(self.purchase_no)
        if not isinstance(self.terminal_id, str) or not self.terminal_id:
            raise ValueError(f"terminal_id must be the terminal's id, got {self.terminal_id!r}")

    def to_body(self) -> dict[str, Any]:
        return {"purchase_no": self.purchase_no, "terminal_id": self.terminal_id,
                "card_serial": self.reading.card_serial, **self.reading.to_body()}


@dataclass(frozen=True)
class PurchasePayment:
    """The cash taken in for an ordered purchase (3.10); the kiosk's journal
    holds it before it is sent, and it is sent under the purchase number."""

    purchase_no: str
    terminal_id: str
    amount_fen: int
    notes: tuple[PaymentNote, ...]
    paid_at: str  # ISO 8601 with offset: when the customer confirmed, the kiosk's clock

    def __post_init__(self) -> None:
        check_purchase_no(self.purchase_no)

    def to_body(self) -> dict[str, Any]:
        return {"purchase_no": self.purchase_no, "terminal_id": self.terminal_id, "amount_fen": self.amount_fen,
                "notes": [{"denomination_fen": n.denomination_fen, "count": n.count} for n in self.notes],
                "paid_at": self.paid_at}


@dataclass(frozen=True)
class WriteConfirmation:
    """What the card read back after the write shows (3.11): the billing
    system marks the purchase written only if it is this purchase's count and
    credit on this purchase's card."""

    purchase_no: str
    card_serial: str
    purchase_count: int
    credit_fen: int

    def __post_init__(self) -> None:
        check_purchase_no(self.purchase_no)
        check_card_serial(self.card_serial)

    def to_body(self) -> dict[str, Any]:
        return {"purchase_no": self.purchase_no, "card_serial": self.card_serial,
                "purchase_count": self.purchase_count, "credit_fen": self.credit_fen}


# --- Read back by the simulator -------------------------------------------------


def parse_card_reading(obj: Any, card_serial: str) -> CardReading:
    """A quote's body, for the card ``card_serial`` (from the path)."""
    f = Fields(obj)
    return _reading(f, card_serial)


def parse_purchase_order(obj: Any) -> PurchaseOrder:
    f = Fields(obj)
    purchase_no = f.text("purchase_no")
    terminal_id = f.text("terminal_id")
    reading = _reading(f, f.text("card_serial"))
    return _built(PurchaseOrder, purchase_no=purchase_no, terminal_id=terminal_id, reading=reading)


def parse_purchase_payment(obj: Any) -> PurchasePayment:
    f = Fields(obj)
    return _built(
        PurchasePayment,
        purchase_no=f.text("purchase_no"),
        terminal_id=f.text("terminal_id"),
        amount_fen=f.integer("amount_fen"),
        notes=tuple(PaymentNote(denomination_fen=n.integer("denomination_fen", minimum=1),
                                count=n.integer("count", minimum=1))
                    for n in f.objects("notes", max_items=MAX_NOTES)),
        paid_at=f.time("paid_at"),
    )


def parse_write_confirmation(obj: Any) -> WriteConfirmation:
    f = Fields(obj)
    return _built(
        WriteConfirmation,
        purchase_no=f.text("purchase_no"),
        card_serial=f.text("card_serial"),
        purchase_count=f.integer("purchase_count", minimum=0, maximum=MAX_PURCHASE_COUNT),
        credit_fen=f.integer("credit_fen", minimum=0, maximum=_MAX_PURSE_FEN),
    )


# --- Helpers -------------------------------------------------------------------


def _reading(f: Fields, card_serial: str) -> CardReading:
    def optional(name: str) -> int | None:
        return f.integer(name, minimum=0, maximum=_MAX_PURSE_FEN) if f.has(name) else None

    return _built(
        CardReading,
        card_serial=card_serial,
        utility=f.text("utility", choices=UTILITIES),
        account_no=f.text("account_no"),
        purchase_count=f.integer("card_purchase_count", minimum=0, maximum=MAX_PURCHASE_COUNT),
        credit_fen=f.integer("card_credit_fen", minimum=0, maximum=_MAX_PURSE_FEN),
        meter_purchase_count=optional("meter_purchase_count"),
        meter_credit_fen=optional("meter_credit_fen"),
    )


def _built(kind: type, **fields: Any) -> Any:
    """``kind(**fields)``, its ValueError a MalformedReply (the simulator answers it 400)."""
    try:
        return kind(**fields)
    except ValueError as problem:
        raise MalformedReply(str(problem)) from None


def check_purchase_no(value: Any) -> None:
    """ValueError unless ``value`` is a purchase number the contract can carry."""
    if not isinstance(value, str) or not PURCHASE_NO.fullmatch(value):
        raise ValueError(f"purchase_no must be 1 to 32 letters, digits and -, starting with a letter or digit "
                         f"(it is signed into the write token), got {value!r}")


def check_card_serial(value: Any) -> None:
    """ValueError unless ``value`` is a card serial as the ATR gives it."""
    if not isinstance(value, str) or not CARD_SERIAL.fullmatch(value):
        raise ValueError(f"card_serial must be the 16 hexadecimal digits of the card's ATR, upper case, got {value!r}")


def _reading_problem(reading: CardReading) -> str:
    """Why a reading cannot be sent, or ""."""
    check_card_serial(reading.card_serial)
    if reading.utility not in UTILITIES:
        return f"utility must be one of {', '.join(UTILITIES)}, got {reading.utility!r}"
    if not (isinstance(reading.account_no, str) and reading.account_no.isascii() and reading.account_no.isdigit()):
        return "account_no must be the digits the card's customer file holds"
    figures = {"purchase_count": reading.purchase_count, "credit_fen": reading.credit_fen,
               "meter_purchase_count": reading.meter_purchase_count, "meter_credit_fen": reading.meter_credit_fen}
    for name, value in figures.items():
        if value is None and name.startswith("meter_"):
            continue
        if type(value) is not int or not 0 <= value <= _MAX_PURSE_FEN:
            return f"{name} must be an integer from 0 to {_MAX_PURSE_FEN} (a 4-byte field of the card), got {value!r}"
    if (reading.meter_purchase_count is None) != (reading.meter_credit_fen is None):
        return "meter_purchase_count and meter_credit_fen come from one write-back file: give both or neither"
    return ""
