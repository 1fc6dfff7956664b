"""Where a payment is: the one vocabulary the journal, the journey, the slips and the screens share.

Values are the text stored in the journal and compared everywhere; as a
``StrEnum`` a member equals its text, so a row read back and a constant are
the same thing.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    """A payment's place in the state machine (docs/journal.md)."""

    OPENED = "opened"  # the customer saw the amount due; the transaction number exists
    CASH_IN = "cash_in"  # the acceptor is enabled; each stacked note is a row
    COMMITTED = "committed"  # the amount is the sum of the notes; in the outbox
    PENDING = "pending"  # a posting attempt failed in a way that may pass; still in the outbox
    POSTED = "posted"  # the billing system booked it
    REFERRED = "referred"  # refused for good, or unreadable: the staffed counter settles it
    CANCELLED = "cancelled"  # the customer left before any note was stacked


# What the customer is told at the end of a payment (a slip says one of the first three).
POSTED, PENDING, REFERRED, CANCELLED = (PaymentState.POSTED, PaymentState.PENDING, PaymentState.REFERRED,
                                        PaymentState.CANCELLED)
FINAL = (POSTED, REFERRED)
