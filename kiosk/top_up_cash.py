"""How a card purchase is paid: the interface a payment method implements, and cash.

A purchase does not care how it is paid, only that the money is in the
journal before anyone is told: :class:`PaymentMethod` is what the top-up
service (:mod:`kiosk.top_up`) asks.  ``start`` begins taking money for an
ordered purchase; ``finish`` stops, and before it returns the journal holds
the purchase as ``committed`` (its payment posting queued in the purchase
outbox, :meth:`MoneyJournal.commit_purchase_cash`) or ``cancelled`` (nothing
taken).  Both block and run on a worker thread; every wait in them is bounded.

:class:`CashPaymentMethod` is the one there is: the bill payment's own
:class:`~kiosk.cash_in.CashIn` (escrow decisions, write-ahead marks, one
journal row per stacked note, the settle wait), handed a small adapter,
:class:`PurchaseCashJournal`, in place of the journal: notes go to the
purchase's cash row exactly as to a payment's, and only its commit and
cancel are the purchase's.  The cap is the order's most (the machine gives
no change: it stops taking notes there), the amount due the one chosen; the
billing contract (docs/api.md 3.10) makes all of the cash the purchase's, so
cash above the chosen amount buys more credit, up to that cap.

Another method (a bank card, a QR code) implements the same two calls; its
money has no notes, which 3.10 expects today: that needs the contract first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from kiosk.cash_in import CashIn
from kiosk.payment_record import CashPayment
from offline_store.journal import MoneyJournal, PurchaseRecord


@dataclass(frozen=True)
class PaymentDone:
    """How taking the money ended."""

    paid_fen: int
    committed: bool  # False: nothing was taken, the purchase is cancelled
    commit_failed: bool = False  # the journal holds the money but not its commit: recovery finishes it
    reason: str = ""  # JOURNAL_FAILED, ACCEPTOR_UNSETTLED: what the counter should know ("" when none)


class PaymentInProgress(Protocol):
    @property
    def progress(self) -> CashPayment:
        """What the screen shows now (amount chosen, paid so far, why a note came back)."""

    def finish(self) -> PaymentDone:
        """Stop taking money; committed or cancelled in the journal before it returns."""


class PaymentMethod(Protocol):
    name: str  # journaled with the purchase ("cash")

    def start(self, purchase: PurchaseRecord, on_change: Callable[[CashPayment], None]) -> PaymentInProgress:
        """Begin taking money for an ordered purchase (journaled ``opened`` with its order)."""


class PurchaseCashJournal:
    """The journal as :class:`~kiosk.cash_in.CashIn` sees it, for one purchase's cash row.

    Escrow marks and notes are the payment row's (the same methods, so a note
    is credited once and counted in the box); starting, committing and
    cancelling move the purchase and its row together."""

    def __init__(self, journal: MoneyJournal, purchase_no: str) -> None:
        self._journal = journal
        self.purchase_no = purchase_no

    def start_cash_in(self, txn: str):
        return self._journal.start_purchase_cash(self.purchase_no)

    def mark_escrow(self, txn: str, denomination_fen: int) -> int:
        return self._journal.mark_escrow(txn, denomination_fen)

    def close_escrow_mark(self, mark_id: int, outcome: str) -> None:
        self._journal.close_escrow_mark(mark_id, outcome)

    def record_note(self, txn: str, denomination_fen: int, acceptor_ref: str, *, mark_id: int | None = None):
        return self._journal.record_note(txn, denomination_fen, acceptor_ref, mark_id=mark_id)

    def commit(self, txn: str, paid_at: float | datetime | str):
        return self._journal.commit_purchase_cash(self.purchase_no, paid_at)

    def cancel(self, txn: str):
        return self._journal.cancel_purchase(self.purchase_no, "NOTHING_PAID", "the customer left before a note")


class _CashInProgress:
    def __init__(self, cash_in: CashIn) -> None:
        self._cash_in = cash_in

    @property
    def progress(self) -> CashPayment:
        return self._cash_in.progress

    def finish(self) -> PaymentDone:
        result = self._cash_in.finish()
        progress = self._cash_in.progress
        reason = ("JOURNAL_FAILED" if progress.journal_failed or result.commit_failed
                  else "ACCEPTOR_UNSETTLED" if result.acceptor_unsettled else "")
        return PaymentDone(result.paid_fen, result.committed, result.commit_failed, reason)


class CashPaymentMethod:
    """Cash through the acceptor, as a bill payment takes it (see the module docstring)."""

    name = "cash"

    def __init__(self, journal: MoneyJournal, acceptor, accepted_fen: frozenset[int], *,
                 clock: Callable[[], float], guard: Callable[[], str] | None = None) -> None:
        """``acceptor``: the AcceptorDriver; ``guard()``: why the journal should take no more notes."""
        self._journal = journal
        self._acceptor = acceptor
        self._accepted = frozenset(accepted_fen)
        self._clock = clock
        self._guard = guard

    def start(self, purchase: PurchaseRecord, on_change: Callable[[CashPayment], None]) -> PaymentInProgress:
        cash_in = CashIn(PurchaseCashJournal(self._journal, purchase.purchase_no), self._acceptor,
                         purchase.transaction_no, purchase.chosen_fen, purchase.max_amount_fen, self._accepted,
                         on_change, clock=self._clock, guard=self._guard)
        on_change(cash_in.start())
        return _CashInProgress(cash_in)
