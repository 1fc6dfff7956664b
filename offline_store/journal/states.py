"""The journal's vocabulary: payment states, card purchase states and kinds of notes in no payment.

Values are the text stored in the journal and shown in reports; as ``StrEnum``
members they compare equal to that text, so a row read back and a constant
are the same thing.
"""

from __future__ import annotations

from enum import StrEnum

from contract.payment_state import PaymentState


class UnassignedKind(StrEnum):
    """Notes that belong to no payment."""

    IN_BOX = "in_box"  # certainly in the cash box, in no payment: counted in the box
    MAYBE_IN_BOX = "maybe_in_box"  # returned or stacked, nobody knows: the collection count settles it
    RETURNED_AFTER_CREDIT = "returned_after_credit"  # credited to a payment, then came back out
    TEST_NOTE = "test_note"  # fed by a technician during a device test: in the box, in no payment


class PurchaseState(StrEnum):
    """A prepaid card purchase's place in its state machine (offline_store/journal/purchases.py).

    The first three are a payment's (its cash is a payment row, see there);
    the rest follow the billing system and the card: booked, token in hand,
    on the card, confirmed -- or the customer left without the credit on
    the card (``write_failed``: paid-not-written, rewritten at the next
    insertion of that card), or refused for good (``referred``).
    """

    OPENED = "opened"  # journaled before the order; the purchase number exists
    CASH_IN = "cash_in"  # ordered; the acceptor takes its notes
    COMMITTED = "committed"  # the cash is fixed; its posting is in the purchase outbox
    PAID = "paid"  # the billing system booked the cash; no write token yet
    ISSUED = "issued"  # booked, the write token is in the journal; the card may be written now
    WRITTEN = "written"  # the card read back shows it; the confirmation is in the purchase outbox
    WRITE_FAILED = "write_failed"  # paid, not on the card, the customer left: rewrite (补写卡) at the next insertion
    REWRITTEN = "rewritten"  # a purchase that had failed is on the card now; its confirmation is queued
    CONFIRMED = "confirmed"  # the billing system knows the card carries it: done
    REFERRED = "referred"  # refused for good (money kept): the staffed counter settles it
    CANCELLED = "cancelled"  # left before any money was taken


OPENED, CASH_IN, COMMITTED, PENDING, POSTED, REFERRED, CANCELLED = PaymentState
STATES = tuple(PaymentState)
UNFINISHED = (OPENED, CASH_IN)
IN_OUTBOX = (COMMITTED, PENDING)
FINAL = (POSTED, REFERRED)
IN_BOX, MAYBE_IN_BOX, RETURNED_AFTER_CREDIT, TEST_NOTE = UnassignedKind
UNASSIGNED_KINDS = tuple(UnassignedKind)

PURCHASE_STATES = tuple(PurchaseState)
PURCHASE_FINAL = (PurchaseState.CONFIRMED, PurchaseState.REFERRED, PurchaseState.CANCELLED)
PURCHASE_UNFINISHED = tuple(s for s in PurchaseState if s not in PURCHASE_FINAL)
# Money taken (or booked) and not on the card: what "rewrite first" offers.
PAID_NOT_WRITTEN = (PurchaseState.COMMITTED, PurchaseState.PAID, PurchaseState.ISSUED, PurchaseState.WRITE_FAILED)
ON_CARD = (PurchaseState.WRITTEN, PurchaseState.REWRITTEN, PurchaseState.CONFIRMED)
# The two kinds of entry in the purchase outbox, each posted once under the purchase number.
PAYMENT_STEP, CONFIRM_STEP = "payment", "confirm"

MAX_DAILY_SEQUENCE = 999_999
PII_TABLE = "payments"


def sql_list(values) -> str:
    """``('a', 'b')`` for an SQL ``IN``: the values are this module's constants, never input."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
