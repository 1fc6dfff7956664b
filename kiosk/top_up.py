"""A prepaid card top-up (购电/购水/购气) off the screen: the offer, the order, the money,
the posting, the token, the write, the confirmation -- and the rewrite (补写卡).

:class:`TopUpService` joins the money journal, the purchase outbox's worker,
the backend client, the card reader and a :class:`~kiosk.top_up_cash.PaymentMethod`.
Like :class:`~kiosk.payments.PaymentService`, its calls block and run on worker
threads (the application layer calls them through its background operation);
every wait in them is bounded.  The steps, each committed in the journal
before the next is attempted:

1. :meth:`offer` -- the card in the reader: is it the billing system's, whose,
   is a purchase of it paid and not written (then *rewrite first*), and what
   may be bought (the quote, 3.8);
2. :meth:`open` -- the purchase journaled (``opened``, its number the
   idempotency key), *then* ordered (3.9), the order journaled, *then* the
   payment method takes money (cash: the acceptor, notes journaled one by one);
3. :meth:`complete` -- the money committed with its posting queued; the
   worker posts it (3.10) and journals the booking and the write token; the
   token goes to the card (:func:`kiosk.top_up_card.write_to_card`: journaled
   before it is sent, the card read first, never written twice); the
   confirmation (3.11) is queued with the write's record and posted by the
   worker.

The decision is always the journal's state, never whether an answer happened
to arrive in time: a posting not booked within ``posting_wait_s``, a token
not issued within ``token_wait_s``, a card pulled or mute, a reader gone --
the purchase is *paid-not-written* (``write_failed``): the money is kept, and
:meth:`rewrite` writes it the next time that card is inserted (the billing
system lists it for any kiosk, 3.12).  A different card is refused for it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from contract.errors import BackendError
from contract.purchase import PurchaseStatus
from contract.purchase_requests import PurchaseOrder
from drivers.pcsc import reasons
from kiosk.top_up_card import card_in_reader, card_reading, write_to_card
from kiosk.top_up_cash import PaymentInProgress, PaymentMethod
from kiosk.top_up_records import (
    REFERRED_KEY,
    TopUpOffer,
    TopUpOutcome,
    TopUpRefused,
    TopUpResult,
    TopUpSlipData,
    advice_key,
    card_masked,
    outcome_of,
    problem_key,
)
from offline_store.journal import JournalError, MoneyJournal, PurchaseRecord, PurchaseState

log = logging.getLogger("kiosk.top_up")
P = PurchaseState

POSTING_WAIT_S = 8.0  # how long the customer waits for the booking and its token
TOKEN_WAIT_S = 6.0  # booked without a token: how long the status is asked again
CONFIRM_WAIT_S = 4.0  # written: how long the screen waits to say "confirmed" (the outbox goes on anyway)
_POLL_S = 0.05
_STATUS_EVERY_S = 0.5


@dataclass(frozen=True)
class TopUpSession:
    """A purchase whose money is being taken: give it back to :meth:`TopUpService.complete`."""

    purchase_no: str
    transaction_no: str
    payment: PaymentInProgress
    offer: TopUpOffer

    @property
    def progress(self):
        return self.payment.progress


class TopUpService:
    def __init__(self, config, journal: MoneyJournal, sync, client, card_reader, payment: PaymentMethod, *,
                 slip_printer: Callable[[TopUpSlipData], bool] | None = None,
                 posting_wait_s: float = POSTING_WAIT_S, token_wait_s: float = TOKEN_WAIT_S,
                 confirm_wait_s: float = CONFIRM_WAIT_S) -> None:
        """``sync``: the :class:`~offline_store.purchase_outbox.PurchaseSyncWorker`; ``client``:
        a BackendClient for this service's worker thread (the sync worker has its own);
        ``card_reader``: the CardReaderDriver; ``slip_printer(data) -> printed``: the slip's
        layout and printer, or None (no slip)."""
        self.config = config
        self.journal = journal
        self.sync = sync
        self.client = client
        self.card_reader = card_reader
        self.payment = payment
        self.slip_printer = slip_printer
        self.posting_wait_s = posting_wait_s
        self.token_wait_s = token_wait_s
        self.confirm_wait_s = confirm_wait_s

    # -- on a worker: the card was inserted ---------------------------------------------
    def offer(self) -> TopUpOffer:
        """What may be done with the card in the reader; :class:`TopUpRefused` when nothing.

        A purchase of this card paid and not written -- in this journal or at
        the billing system -- is offered first (``rewrite``), before anything is sold."""
        serial = card_in_reader(self.card_reader)
        if not serial:
            raise TopUpRefused(reasons.NO_CARD, "no card of ours in the reader")
        identity = _asked(lambda: self.client.identify_card(serial))
        reading = card_reading(self.card_reader)
        if not identity.belongs_to(reading.utility, reading.account_no):
            raise TopUpRefused("CARD_MISMATCH", "the card's customer file names another account than its record")
        rewrite = [p.purchase_no for p in reversed(self.journal.purchases_of_card(serial)) if p.paid_not_written]
        if identity.unwritten_purchases:
            listed = _asked(lambda: self.client.unwritten_purchases(serial))
            rewrite += [p.purchase_no for p in listed if p.purchase_no not in rewrite
                        and not self._confirmed_soon(p.purchase_no)]
        if rewrite:
            return TopUpOffer(reading, identity, None, tuple(rewrite))
        quote = _asked(lambda: self.client.quote_purchase(reading))
        return TopUpOffer(reading, identity, quote.limits)

    def _confirmed_soon(self, no: str) -> bool:
        """A purchase the billing system lists as unwritten which this journal has on the card:
        its confirmation is queued; give the worker ``confirm_wait_s`` to deliver it."""
        try:
            purchase = self.journal.get_purchase(no)
        except JournalError:  # another terminal's: a rewrite here
            return False
        if not (purchase.on_card or purchase.state == P.CONFIRMED):
            return False
        self.sync.wake()
        self._wait(no, lambda p: p.state == P.CONFIRMED, self.confirm_wait_s)
        return True  # on the card either way: nothing to rewrite; the quote says whether to wait

    # -- on a worker: the customer chose an amount ----------------------------------------
    def open(self, offer: TopUpOffer, chosen_fen: int, on_change) -> TopUpSession:
        """Journal the purchase, order it, then let the payment method take money.

        :class:`TopUpRefused` when the order is refused or cannot be sent
        (cancelled in the journal first: no money was taken), or when the
        journal's disk cannot take a payment now (``CASH_OFF``)."""
        if offer.rewrite_first or offer.limits is None:
            raise TopUpRefused("UNWRITTEN_PURCHASE", f"rewrite {', '.join(offer.rewrite)} first")
        limits = offer.limits
        if not limits.accepts(chosen_fen):
            raise ValueError(f"{chosen_fen} fen is not a purchase the quote allows ({limits.min_amount_fen} to "
                             f"{limits.max_amount_fen} fen in steps of {limits.step_fen}): offer only those")
        self._check_disk()
        terminal = self.config.terminal.id
        record = self.journal.open_purchase(terminal, offer.reading, chosen_fen, min_amount_fen=limits.min_amount_fen,
                                            max_amount_fen=limits.max_amount_fen, method=self.payment.name)
        no = record.purchase_no
        try:
            ordered = self.client.order_purchase(PurchaseOrder(no, terminal, offer.reading))
        except BackendError as error:
            self.journal.cancel_purchase(no, error.code, error.detail)
            raise TopUpRefused(error.code, error.detail, retryable=error.retryable) from None
        record = self.journal.record_order(no, ordered)
        if not ordered.limits.accepts(chosen_fen):  # the account changed between the quote and the order
            self.journal.cancel_purchase(no, "LIMITS_CHANGED", "the order's limits exclude the amount chosen")
            raise TopUpRefused("LIMITS_CHANGED", f"{chosen_fen} fen is outside the order's limits")
        log.info("purchase %s ordered, taking money", no)
        return TopUpSession(no, record.transaction_no, self.payment.start(record, on_change), offer)

    def _check_disk(self) -> None:
        reserve = getattr(self.journal, "reserve", None)
        if reserve is not None:
            reserve.ensure()
            if refusal := reserve.refusal():
                raise TopUpRefused("CASH_OFF", refusal)

    # -- on a worker: "Done", "Cancel" or the cash-in timed out ---------------------------------
    def complete(self, session: TopUpSession) -> TopUpResult:
        """The money taken in: post it, write the card, confirm -- or say why not."""
        done = session.payment.finish()
        no = session.purchase_no
        if not done.committed or done.commit_failed:  # cancelled, or left to recovery with its notes
            return self._finish(self.journal.get_purchase(no), done.reason)
        purchase, reason = self._to_card(no)
        return self._finish(purchase, reason or done.reason, credit_before_fen=session.offer.reading.credit_fen)

    # -- on a worker: the card of a paid-not-written purchase is in the reader ---------------------
    def rewrite(self, purchase_no: str | None = None) -> TopUpResult:
        """Write a paid-not-written purchase to the card in the reader (补写卡).

        ``purchase_no``: the one the screen offered (a different card is
        refused for it, ``NOT_THIS_CARD``, nothing written); None: the oldest
        of this card's, this journal's or the billing system's (journaled
        here first).  :class:`TopUpRefused` (``NOTHING_TO_REWRITE``, ``NO_CARD``)
        when there is none."""
        serial = card_in_reader(self.card_reader)
        if not serial:
            raise TopUpRefused(reasons.NO_CARD, "no card of ours in the reader")
        if purchase_no is not None:
            target = self.journal.get_purchase(purchase_no)
            if target.card_serial != serial:
                log.warning("purchase %s not written: the card in the reader is another", purchase_no)
                return self._finish(target, "NOT_THIS_CARD")
        else:
            waiting = self._rewrites_of(serial)
            if not waiting:
                raise TopUpRefused("NOTHING_TO_REWRITE", "no purchase of this card is paid and not written")
            target = waiting[0]
        purchase, reason = self._to_card(target.purchase_no)
        more = any(p.purchase_no != purchase.purchase_no for p in self._rewrites_of(serial, ask_billing=False))
        return self._finish(purchase, reason, more_to_rewrite=more)

    def _rewrites_of(self, serial: str, *, ask_billing: bool = True) -> list[PurchaseRecord]:
        """This card's purchases paid and not written, in the order the card takes them."""
        if ask_billing:
            try:
                listed = self.client.unwritten_purchases(serial)
            except BackendError as error:  # this journal's own purchases can still be written
                log.warning("unwritten purchases of the card not listed: %s", error.code)
                listed = ()
            known = {p.purchase_no: p for p in self.journal.purchases_of_card(serial)}
            for held in listed:
                mine = known.get(held.purchase_no)
                if mine is None and held.status is PurchaseStatus.ISSUED:
                    self.journal.record_rewrite_of(held)  # another terminal took the cash
                elif mine is not None and mine.paid_not_written and held.write_token is not None:
                    self.record_held(held)
        waiting = [p for p in self.journal.purchases_of_card(serial) if p.paid_not_written]
        return sorted(waiting, key=lambda p: (p.purchase_count or 0, p.opened_at))

    # -- the chain after the money --------------------------------------------------------
    def _to_card(self, no: str) -> tuple[PurchaseRecord, str]:
        """Booked, token, write, confirmation; the record and why it is not on the card ("")."""
        purchase = self._booked(no)
        if purchase.state in (P.REFERRED, P.CONFIRMED) or purchase.on_card:
            return purchase, ""
        if purchase.receipt_no is None:
            return self._left(no, "POSTING_PENDING")
        if purchase.write_token is None:
            purchase = self._token(no)
            if purchase.on_card or purchase.state == P.CONFIRMED:
                return purchase, ""
            if purchase.write_token is None:
                return self._left(no, "TOKEN_NOT_ISSUED")
        purchase, reason = write_to_card(self.journal, self.card_reader, purchase)
        if reason:
            return self._left(no, reason) if purchase.state == P.ISSUED else (purchase, reason)
        self.sync.wake()
        return self._wait(no, lambda p: p.state == P.CONFIRMED, self.confirm_wait_s), ""

    def _booked(self, no: str) -> PurchaseRecord:
        """The purchase once the worker has booked (or referred) it, or as it is when the wait ends."""
        self.sync.wake()
        return self._wait(no, lambda p: p.receipt_no is not None or p.state in (P.REFERRED, P.CONFIRMED),
                          self.posting_wait_s)

    def _token(self, no: str) -> PurchaseRecord:
        """Booked without a token: ask the billing system again until it comes, or the wait ends."""
        purchase = self.journal.get_purchase(no)
        deadline = time.monotonic() + self.token_wait_s
        while True:
            try:
                purchase = self.record_held(self.client.purchase_status(no, purchase.card_serial)) or purchase
            except BackendError as error:
                log.warning("purchase %s: status not read (%s)", no, error.code)
            if purchase.write_token is not None or time.monotonic() + _STATUS_EVERY_S > deadline:
                return purchase
            time.sleep(_STATUS_EVERY_S)

    def record_held(self, held) -> PurchaseRecord | None:
        """Journal a token (or a confirmation from elsewhere) the billing system holds."""
        try:
            if held.status in (PurchaseStatus.ISSUED, PurchaseStatus.WRITTEN):
                record = self.journal.record_issue(held.purchase_no, held)
                if held.status is PurchaseStatus.WRITTEN:
                    record = self.journal.record_confirmed(held.purchase_no, held.written_at)
                return record
        except (JournalError, ValueError) as problem:
            log.error("purchase %s: what the billing system holds cannot be journaled: %s", held.purchase_no, problem)
        return None

    def _left(self, no: str, reason: str) -> tuple[PurchaseRecord, str]:
        """The customer leaves without the credit on the card: paid-not-written, for a rewrite."""
        purchase = self.journal.get_purchase(no)
        if purchase.state in (P.COMMITTED, P.PAID, P.ISSUED):
            purchase = self.journal.mark_write_failed(no, reason)
        log.warning("purchase %s paid and not on the card: %s", no, reason)
        return purchase, reason

    def _wait(self, no: str, done: Callable[[PurchaseRecord], bool], wait_s: float) -> PurchaseRecord:
        deadline = time.monotonic() + wait_s
        purchase = self.journal.get_purchase(no)
        while not done(purchase) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            purchase = self.journal.get_purchase(no)
        return purchase

    # -- the result and its slip ------------------------------------------------------------
    def result_of(self, purchase_no: str, reason: str) -> TopUpResult:
        """The result as the journal holds the purchase now (after a completion that failed)."""
        return self._finish(self.journal.get_purchase(purchase_no), reason)

    def _finish(self, purchase: PurchaseRecord, reason: str, *, more_to_rewrite: bool = False,
                credit_before_fen: int | None = None) -> TopUpResult:
        outcome = outcome_of(purchase)
        if outcome is TopUpOutcome.REFERRED:
            reason, key = purchase.error_code or reason, REFERRED_KEY
        else:
            key = problem_key(reason)
        slip = (replace(self.slip_data(purchase, key, reason), card_credit_before_fen=credit_before_fen)
                if outcome is not TopUpOutcome.CANCELLED else None)
        printed = self.print_slip(slip)
        log.info("top-up %s: %s %s", purchase.purchase_no, outcome.value, reason)
        return TopUpResult(purchase.purchase_no, outcome, purchase.state, purchase.paid_fen, purchase.credit_fen,
                           purchase.arrears_paid_fen, purchase.receipt_no or "", purchase.card_count_after,
                           purchase.state == P.CONFIRMED, reason, key, advice_key(outcome), slip, printed,
                           more_to_rewrite, purchase.card_credit_after_fen if purchase.on_card else None)

    def slip_data(self, purchase: PurchaseRecord, problem: str = "", reason: str = "", *,
                  recovered: bool = False) -> TopUpSlipData:
        terminal = self.config.terminal
        utility = self.config.utility(purchase.utility)
        outcome = outcome_of(purchase)
        return TopUpSlipData(
            hall_name_zh=terminal.hall_name_zh, hall_name_en=terminal.hall_name_en, terminal_id=terminal.id,
            hotline=terminal.hotline, printed_at=datetime.now().astimezone(), purchase_no=purchase.purchase_no,
            transaction_no=purchase.transaction_no or "", utility_name_zh=utility.name_zh,
            utility_name_en=utility.name_en, account_masked=purchase.account_masked,
            card_masked=card_masked(purchase.card_serial), outcome=outcome, paid_fen=purchase.paid_fen,
            notes=purchase.notes, credit_fen=purchase.credit_fen, arrears_paid_fen=purchase.arrears_paid_fen,
            receipt_no=purchase.receipt_no or "", purchase_count=purchase.purchase_count,
            problem_key=problem or (problem_key(reason) if reason else ""), advice_key=advice_key(outcome),
            recovered=recovered, card_credit_after_fen=purchase.card_credit_after_fen if purchase.on_card else None)

    def print_slip(self, slip: TopUpSlipData | None) -> bool:
        if slip is None or self.slip_printer is None:
            return False
        try:
            return bool(self.slip_printer(slip))
        except Exception:  # noqa: BLE001 - a slip never decides the money
            log.exception("top-up slip not printed", extra={"purchase": slip.purchase_no})
            return False


def _asked(call):
    """A billing system call before any money: its failure is a refusal the screen explains."""
    try:
        return call()
    except BackendError as error:
        raise TopUpRefused(error.code, error.detail, retryable=error.retryable) from None
