"""One record of a cash payment, from the notice to the result: :class:`CashPayment`.

The cash-in fills it note by note, the payment service adds the result, the
journey keeps it in its state and the screens read it — one frozen record
handed on with :func:`dataclasses.replace`, never copied field by field into
another.  The journal keeps its own row (:class:`offline_store.journal.Payment`)
and the slip its own layout (:class:`kiosk.payment_slips.PaymentSlipData`);
all three ask :mod:`contract.payment_rules` for what goes to the balance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from contract.payment_rules import credited_to_balance_fen, still_due_fen
from contract.payment_state import PaymentState


@dataclass(frozen=True)
class CashPayment:
    """A cash payment in progress or just finished; amounts in fen."""

    amount_due_fen: int
    cap_fen: int
    transaction_no: str = ""  # known once the journal has opened the payment
    paid_fen: int = 0
    notes_fen: tuple[int, ...] = ()  # the stacked notes, in the order they went in
    returned_reason: str = ""  # i18n key: why the last note came back, until the next is stacked
    note_in_escrow: bool = False
    # The journal could not write: intake stopped (every note stacked so far
    # is journaled; the one in escrow went back); the customer is referred.
    journal_failed: bool = False
    # The result, once the payment is finished: POSTED, PENDING (received, to
    # be posted), REFERRED (go to the counter) or CANCELLED (nothing paid in).
    outcome: PaymentState | None = None
    receipt_no: str = ""
    problem_key: str = ""  # i18n key: what went wrong, for a referral
    slip_printed: bool = False

    @property
    def credited_to_balance_fen(self) -> int:
        return credited_to_balance_fen(self.paid_fen, self.amount_due_fen)

    @property
    def still_due_fen(self) -> int:
        return still_due_fen(self.paid_fen, self.amount_due_fen)

    @property
    def note_counts(self) -> dict[int, int]:
        """Denomination (fen) → how many of it went in."""
        return dict(Counter(self.notes_fen))
