"""The journal's refusals: each says which payment, what state, and what was asked."""

from __future__ import annotations

from offline_store import journal_identity
from offline_store.journal.records import UnassignedNote


class JournalError(Exception):
    """Base of the journal's refusals."""


class UnknownPayment(JournalError):
    def __init__(self, transaction_no: str) -> None:
        self.transaction_no = transaction_no
        super().__init__(f"no payment {transaction_no} in the journal")


class PaymentStateError(JournalError):
    """The call does not fit the payment's state (a bug in the caller, or a race)."""

    def __init__(self, transaction_no: str, state: str | None, action: str) -> None:
        self.transaction_no = transaction_no
        self.state = state
        super().__init__(f"payment {transaction_no} is {state}: cannot {action}")


class NoteOutsideCashIn(PaymentStateError):
    """A stacked note arrived for a payment that is not taking cash (or is unknown).

    The note is NOT in the payment's amount, but it is in the journal:
    ``unassigned`` is the row it was written to (kind ``in_box``), which the
    cash box counts and the technician's report lists.  The caller tells the
    customer to take the slip to the counter.
    """

    def __init__(self, transaction_no: str, state: str | None, unassigned: UnassignedNote) -> None:
        self.unassigned = unassigned
        super().__init__(transaction_no, state, f"add a note (journaled as unassigned note #{unassigned.id})")


class MoneyStacked(PaymentStateError):
    """Cancel refused: notes are stacked, the payment must be committed (money is never cancelled)."""


class NothingPaid(PaymentStateError):
    """Commit refused: no note was stacked; cancel the payment instead."""


class DuplicateAcceptorRef(JournalError):
    """An acceptor reference came back with another payment or denomination: references
    must be unique per physical note, so this is a bug in how they are built."""


class PersonalDataPurged(JournalError):
    """The payment's personal data was erased by the retention rule."""


class JournalTooNew(JournalError):
    """The file was written by a newer kiosk version; an older one must not touch it."""


class JournalRefused(JournalError):
    """The journal is missing, empty, corrupt, foreign or lost its WAL: cash stays off.

    ``inspection`` says what (its ``problem.value`` is the technician's code)."""

    def __init__(self, inspection: journal_identity.Inspection) -> None:
        super().__init__(str(inspection))
        self.inspection = inspection


class SequenceExhausted(JournalError):
    """A terminal took a million payments in one day: the format cannot number more."""
