"""The journal's vocabulary: payment states and kinds of notes in no payment.

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


OPENED, CASH_IN, COMMITTED, PENDING, POSTED, REFERRED, CANCELLED = PaymentState
STATES = tuple(PaymentState)
UNFINISHED = (OPENED, CASH_IN)
IN_OUTBOX = (COMMITTED, PENDING)
FINAL = (POSTED, REFERRED)
IN_BOX, MAYBE_IN_BOX, RETURNED_AFTER_CREDIT, TEST_NOTE = UnassignedKind
UNASSIGNED_KINDS = tuple(UnassignedKind)

MAX_DAILY_SEQUENCE = 999_999
PII_TABLE = "payments"


def sql_list(values) -> str:
    """``('a', 'b')`` for an SQL ``IN``: the values are this module's constants, never input."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
