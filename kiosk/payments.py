"""A cash payment's work off the screen: open it, take the notes, commit, post, print.

:class:`PaymentService` joins the money journal, the acceptor, the sync worker
and the printer.  Its two calls block and run on worker threads (the GUI
calls them through ``BackgroundOp``); every wait in them is bounded.

Posting has one path only: the sync worker posts what the journal's outbox
holds, with the transaction number as idempotency key.  After a commit the
service wakes it and waits a few seconds for the journal to say *posted* or
*referred*; if neither comes in time the customer is told "received, will be
posted" (pending) and the worker goes on trying — the decision is the
journal's state, never whether a reply happened to arrive.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Callable

from contract.payment_state import CANCELLED, FINAL, PENDING, REFERRED
from kiosk.cash_in import CashIn
from kiosk.config import KioskConfig
from kiosk.journey_state import CashInRequest
from kiosk.payment_record import CashPayment
from kiosk.slip_printing import SLIP_WAIT_S, print_slip_on
from offline_store.disk_reserve import note_guard

log = logging.getLogger("kiosk.payment")

POSTING_WAIT_S = 8.0  # how long the customer waits for "posted" before "received, will be posted"
_POLL_S = 0.05


class CashUnavailable(Exception):
    """The journal cannot take a payment now (its disk); ``str()`` is the technician's reason."""


class PaymentService:
    def __init__(self, config: KioskConfig, journal, sync, acceptor, printer=None, *,
                 posting_wait_s: float = POSTING_WAIT_S, clock: Callable[[], float] = time.time) -> None:
        """``acceptor``: the AcceptorDriver; ``printer``: the PrinterDriver or None (no slip);
        ``sync``: the SyncWorker posting the journal's outbox."""
        self.config = config
        self.journal = journal
        self.sync = sync
        self.acceptor = acceptor
        self.printer = printer
        self.posting_wait_s = posting_wait_s
        self._clock = clock

    # -- on a worker: the customer goes on from the notice --------------------------
    def open(self, request: CashInRequest, on_change: Callable[[CashPayment], None]) -> CashIn:
        """Journal the payment (opened), then enable the acceptor for it.

        Raises :class:`CashUnavailable` when the journal's disk cannot take a
        payment (too little free space, reserve spent): no note is taken."""
        reserve = getattr(self.journal, "reserve", None)
        if reserve is not None:
            reserve.ensure()
            if refusal := reserve.refusal():
                log.critical("cash payment refused: %s", refusal)
                raise CashUnavailable(refusal)
        account = request.account
        payment = self.journal.open_payment(
            self.config.terminal.id, request.utility_id, account.account_no, account.holder_masked,
            account.address_masked, request.amount_due_fen, cap_fen=request.cap_fen)
        cash_in = CashIn(self.journal, self.acceptor, payment.transaction_no, request.amount_due_fen,
                         request.cap_fen, self.config.payment.accepted_fen, on_change, clock=self._clock,
                         guard=note_guard(reserve) if reserve is not None else None)
        on_change(cash_in.start())
        return cash_in

    # -- on a worker: "Done", "Cancel" or the cash-in timed out --------------------------
    def complete(self, cash_in: CashIn) -> CashPayment:
        """The payment finished: the cash-in's record with its result."""
        result = cash_in.finish()
        txn = result.transaction_no
        if not result.committed:
            return replace(cash_in.progress, outcome=CANCELLED, paid_fen=0, notes_fen=(), note_in_escrow=False)
        if result.commit_failed:
            return self._uncommitted(cash_in, result)
        self.sync.wake()
        payment = self._wait_for_posting(txn)
        problem = ""
        if result.acceptor_unsettled or cash_in.progress.journal_failed:
            problem = "pay.problem_journal" if cash_in.progress.journal_failed else "pay.problem_acceptor"
        if payment.state == REFERRED:
            problem = problem or "pay.problem_account_rejected"
        outcome = payment.state if payment.state in FINAL else PENDING
        # A problem (a note may be left in the acceptor) does not change where
        # the money went; the screen and the slip add it and send to the counter.
        try:
            slip_printed = self._print_slip(payment, outcome, problem)
        except Exception:  # noqa: BLE001 - a slip never decides the money
            log.exception("slip could not be laid out", extra={"txn": txn})
            slip_printed = False
        log.info("payment finished", extra={"txn": txn, "outcome": outcome, "paid_fen": result.paid_fen,
                                            "slip": slip_printed})
        return replace(cash_in.progress, outcome=outcome, paid_fen=result.paid_fen, note_in_escrow=False,
                       receipt_no=getattr(payment, "receipt_no", "") or "", problem_key=problem,
                       slip_printed=slip_printed)

    def _uncommitted(self, cash_in: CashIn, result) -> CashPayment:
        """The disk failed the commit: every note is journaled and recovery posts it at
        the next start; the customer takes a referral slip to the counter."""
        txn = result.transaction_no
        try:
            slip_printed = self._print_slip(self.journal.get(txn), PENDING, "pay.problem_journal")
        except Exception:  # noqa: BLE001 - a journal that cannot even be read: the screen shows the number
            log.exception("referral slip not printed", extra={"txn": txn})
            slip_printed = False
        return replace(cash_in.progress, outcome=PENDING, paid_fen=result.paid_fen, note_in_escrow=False,
                       problem_key="pay.problem_journal", slip_printed=slip_printed)

    def _wait_for_posting(self, txn: str):
        deadline = time.monotonic() + self.posting_wait_s
        payment = self.journal.get(txn)
        while payment.state not in FINAL and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            payment = self.journal.get(txn)
        return payment

    def print_recovery_slip(self, transaction_no: str) -> bool:
        """After a restart finished this payment: a slip saying so, if the printer can."""
        from kiosk.payment_slips import recovery_slip

        payment = self.journal.get(transaction_no)
        if payment.state == CANCELLED or self.printer is None:
            return False
        try:  # the printer may not have been polled yet this early after start
            self.printer.refresh().result(timeout=SLIP_WAIT_S)
        except Exception:  # noqa: BLE001 - no status: treat as no printer
            return False
        outcome = payment.state if payment.state in FINAL else PENDING
        return self._print(recovery_slip(self.slip_data(payment, outcome)), transaction_no)

    def _print_slip(self, payment, outcome: str, problem_key: str = "") -> bool:
        from kiosk.payment_slips import payment_slip, referral_slip

        data = self.slip_data(payment, outcome)
        if problem_key:  # what happened, in both languages, for the counter
            from kiosk.i18n import Translator

            slip = referral_slip(data, Translator("zh")(problem_key), Translator("en")(problem_key))
        else:
            slip = payment_slip(data)
        return self._print(slip, payment.transaction_no)

    def _print(self, slip, transaction_no: str) -> bool:
        return print_slip_on(self.printer, slip, {"txn": transaction_no}, wait_s=SLIP_WAIT_S)

    def slip_data(self, payment, outcome: str):
        from kiosk.payment_slips import PaymentSlipData

        terminal = self.config.terminal
        utility = self.config.utility(payment.utility)
        return PaymentSlipData(
            hall_name_zh=terminal.hall_name_zh, hall_name_en=terminal.hall_name_en, terminal_id=terminal.id,
            hotline=terminal.hotline, printed_at=datetime.now().astimezone(),
            transaction_no=payment.transaction_no, utility_name_zh=utility.name_zh,
            utility_name_en=utility.name_en, account_masked=payment.account_masked,
            holder_masked=payment.holder_masked, amount_due_fen=payment.amount_due_fen,
            paid_fen=payment.paid_fen, notes=tuple(sorted(payment.note_counts.items())),
            status=outcome,
            receipt_no=payment.receipt_no or "", balance_after_fen=payment.balance_after_fen)
