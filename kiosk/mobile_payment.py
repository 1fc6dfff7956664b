"""A mobile payment order's work off the screen (扫码支付, docs/api.md 3.14 to 3.17): journal, create, poll, close.

:class:`MobilePaymentService` joins the money journal and the billing
system's client; no Qt.  Its calls block and run on worker threads, and every
wait in them is bounded (the client's own deadline per request, a fixed
number of create attempts, ``wait`` until a time given).

Money first: the order is journaled before it is created, so its number --
the Idempotency-Key -- exists before the QR is shown or a scanned code is
sent; a create whose answer was lost is sent again under the same number and
answers the same order.  Every answer is journaled before it is returned.  A
cancel or a reverse is journaled as asked before it is sent, and whatever
the billing system then says is recorded -- a payment confirmed after the
cancel stands (the billing system posted it), and the journal keeps its
receipt.  The kiosk never posts a mobile payment itself.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from contract.errors import AccountClosed, AccountNotFound, BackendError, RequestRejected
from contract.mobile import MobileOrder, MobileRefusal, PaymentMethod
from offline_store.journal import MobileOrderRecord, MobileOrderState

log = logging.getLogger("kiosk.payment")

CREATE_ATTEMPTS = 3  # each is one client call with its own retries and deadline
RETRY_PAUSE_S = 0.5
_STEP_S = 0.05  # wait's slice: a deadline is never overshot by more
# Refusals of a create: the billing system made nothing under the number.
_REFUSALS = (RequestRejected, AccountClosed, AccountNotFound)


class MobilePaymentService:
    """Mobile orders for one terminal: ``journal`` is the MoneyJournal, ``client`` the BackendClient."""

    def __init__(self, journal, client, terminal_id: str, *, create_attempts: int = CREATE_ATTEMPTS,
                 retry_pause_s: float = RETRY_PAUSE_S, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """``clock``: epoch seconds, the journal's (deadlines are on it)."""
        self.journal = journal
        self.client = client
        self.terminal_id = terminal_id
        self.create_attempts = max(1, create_attempts)
        self.retry_pause_s = retry_pause_s
        self._clock = clock
        self._sleep = sleep
        self._intervals: dict[str, float] = {}  # order_no -> seconds, as the billing system last said

    # -- on a worker: the customer chose to pay by phone ---------------------------------
    def open(self, utility: str, account_no: str, amount_fen: int, method: PaymentMethod | str, *,
             purchase_no: str | None = None, scanned_code: str | None = None) -> MobileOrderRecord:
        """Journal the order (opened), then create it (3.14).

        Returns the order as journaled: ``created`` with its QR payload (or, for
        a scanned code, perhaps already ``paid``, ``declined``, ``user_paying``);
        ``not_created`` when the billing system refused it (``error_code`` says
        why; nothing charged); ``opened`` with ``error_code`` when it could not
        be reached -- that order is followed up (:meth:`settle`, recovery).
        ``scanned_code`` is held in memory only, for the attempts of this call."""
        record = self.journal.open_mobile_order(self.terminal_id, utility, account_no, amount_fen, method,
                                                purchase_no=purchase_no)
        return self._create(record.order_no, scanned_code)

    def _create(self, order_no: str, scanned_code: str | None) -> MobileOrderRecord:
        request = self.journal.mobile_order_request(order_no, scanned_code)
        record = self.journal.get_mobile_order(order_no)
        for attempt in range(1, self.create_attempts + 1):
            try:
                return self._record(order_no, self.client.create_mobile_order(request))
            except _REFUSALS as refused:
                if not refused.retryable:  # nothing was made: the number is spent, nothing charged
                    log.warning("mobile order %s refused: %s", order_no, refused.code)
                    return self.journal.mark_mobile_not_created(order_no, refused.code, refused.detail[:200])
                record = self._failed(order_no, refused)
            except BackendError as error:  # the answer may be lost: the same key again is the same order
                record = self._failed(order_no, error)
                if not error.retryable:
                    return record
            if attempt < self.create_attempts:
                self._sleep(self.retry_pause_s)
        return record

    # -- on a worker: while the customer waits -------------------------------------------
    def poll(self, order_no: str) -> MobileOrderRecord:
        """Ask the order's status once (3.15) and journal it; a failure leaves it to be asked again.

        An order still ``opened`` that the billing system says it never got
        (ORDER_NOT_FOUND) becomes ``not_created``: no QR was shown and no code
        reached a provider, so nothing can be charged; the customer gets a new
        order, never this one again (a scanned code is not kept to resend)."""
        record = self.journal.get_mobile_order(order_no)
        if record.final:
            return record
        try:
            return self._record(order_no, self.client.mobile_order_status(order_no))
        except RequestRejected as refused:
            if refused.code == MobileRefusal.ORDER_NOT_FOUND and record.state is MobileOrderState.OPENED:
                return self.journal.mark_mobile_not_created(order_no, refused.code, "the create never arrived")
            return self._failed(order_no, refused)
        except BackendError as error:
            return self._failed(order_no, error)

    def wait(self, order_no: str, until: float, *, settled: Callable[[MobileOrderRecord], bool] | None = None
             ) -> MobileOrderRecord:
        """Poll at the order's interval until ``settled`` (default: no longer waiting for the
        phone) or ``until`` (the journal's clock) has passed; the order as last journaled."""
        settled = settled or (lambda r: not r.waiting or r.final)
        record = self.poll(order_no)
        while not settled(record) and self._clock() < until:
            pause = max(0.2, min(10.0, self._interval_s(order_no)))
            self._sleep(min(pause, max(_STEP_S, until - self._clock())))
            record = self.poll(order_no)
        return record

    # -- on a worker: the customer gives up, or a scanned code's result stays unknown -----
    def cancel(self, order_no: str) -> MobileOrderRecord:
        """Close a qr_shown order (3.16), journaled as asked first.  The answer is journaled:
        ``cancelled``, or ``paid`` when the phone came first (the payment stands)."""
        return self._close(order_no, "cancel")

    def reverse(self, order_no: str) -> MobileOrderRecord:
        """Reverse (撤销) a code_scanned order past its deadline (3.17), journaled as asked
        first: ``reversed``, or ``paid`` when the provider confirmed first."""
        record = self.journal.get_mobile_order(order_no)
        if record.waiting and record.deadline_at is not None and self._clock() < record.deadline_at:
            raise ValueError(f"mobile order {order_no}: its deadline has not passed, the customer may still be "
                             "confirming on the phone (poll it)")
        return self._close(order_no, "reverse")

    def settle(self, order_no: str) -> MobileOrderRecord:
        """The customer is gone: close what may still be paid, as the method allows, and
        journal what comes back (a qr_shown order is cancelled, a scanned one past its
        deadline reversed, any other asked).  One request or two; never waits."""
        record = self.poll(order_no)
        if record.final or not record.waiting:
            return record
        if record.state is MobileOrderState.OPENED:
            return record  # not reachable now: asked again at the next follow-up
        if record.method == PaymentMethod.QR_SHOWN:
            return self.cancel(order_no)
        if record.deadline_at is not None and self._clock() >= record.deadline_at:
            return self.reverse(order_no)
        return record

    def _close(self, order_no: str, action: str) -> MobileOrderRecord:
        record = self.journal.get_mobile_order(order_no)
        if record.final or not (record.waiting or record.state in (MobileOrderState.CANCELLED,
                                                                   MobileOrderState.EXPIRED)):
            return record
        self.journal.mark_mobile_asked(order_no, action)
        if record.state is MobileOrderState.OPENED:  # made? ask first: a close of nothing is ORDER_NOT_FOUND
            record = self.poll(order_no)
            if record.state in (MobileOrderState.OPENED, MobileOrderState.NOT_CREATED):
                return record
        call = self.client.cancel_mobile_order if action == "cancel" else self.client.reverse_mobile_order
        try:
            return self._record(order_no, call(order_no))
        except BackendError as error:
            return self._failed(order_no, error)

    # -- helpers ----------------------------------------------------------------------------
    def _record(self, order_no: str, order: MobileOrder) -> MobileOrderRecord:
        record = self.journal.record_mobile_order(order_no, order)
        log.info("mobile order %s: %s%s", order_no, record.state.value, " (final)" if record.final else "")
        self._intervals[order_no] = order.poll_interval_ms / 1000
        return record

    def _failed(self, order_no: str, error: BackendError) -> MobileOrderRecord:
        log.warning("mobile order %s: %s (%s)", order_no, error.code, error.detail)
        return self.journal.mark_mobile_failed_ask(order_no, error.code, error.detail[:200])

    def _interval_s(self, order_no: str) -> float:
        return self._intervals.get(order_no, 1.0)
