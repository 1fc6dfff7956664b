"""On start: every mobile order the journal holds as not final is asked and carried towards its end.

A restart may find an order in any state: opened and never made (the kiosk
stopped between the journal and the create), created with its QR still on
nobody's screen, a scanned code whose result nobody heard, a cancel asked and
never answered, or an expired order a late confirmation may still pay.  The
customer is gone in every case, so :func:`recover_mobile_orders` settles each
as :meth:`MobilePaymentService.settle` does -- asks, cancels a shown QR,
reverses a scanned code past its deadline -- and keeps asking, pass after
pass at the billing system's poll interval, until every order is final or
the time given is up.  What is still open then is asked at the next start or
follow-up; nothing is lost, since each answer is journaled as it comes.

One order's failure (the network, a malformed reply, an answer the journal
refuses) is journaled against that order and never stops the others.  Each
order touched is returned as a :class:`MobileRecoveryCase`: a paid one needs
a recovery slip (its payment was posted by the billing system).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.mobile_payment import MobilePaymentService
from offline_store.journal import JournalError, MobileOrderRecord

log = logging.getLogger("kiosk.payment")

RECOVERY_WITHIN_S = 10.0
_PAUSE_S = 1.0  # between passes: the contract's usual poll interval


@dataclass(frozen=True)
class MobileRecoveryCase:
    """What recovery found and left for one order."""

    order_no: str
    state_before: str
    state: str
    final: bool
    amount_fen: int
    receipt_no: str | None
    error_code: str | None  # the last failure, when it is still to be asked

    @property
    def needs_slip(self) -> bool:
        """Paid while nobody was there: the payment stands, the customer gets a recovery slip."""
        return self.state == "paid"


def recover_mobile_orders(service: MobilePaymentService, *, within_s: float = RECOVERY_WITHIN_S,
                          pause_s: float = _PAUSE_S, monotonic: Callable[[], float] = time.monotonic,
                          sleep: Callable[[float], None] = time.sleep) -> list[MobileRecoveryCase]:
    """Settle every order not final, in passes, for at most ``within_s`` (plus one request's deadline)."""
    journal = service.journal
    before = {r.order_no: r for r in journal.mobile_orders_to_follow()}
    for order_no in before:
        journal.mark_mobile_recovered(order_no)
    deadline = monotonic() + within_s
    pending = list(before)
    while pending:
        pending = [no for no in pending if not _settle_one(service, no).final]
        if not pending or monotonic() + pause_s > deadline:
            break
        sleep(pause_s)
    cases = [_case(before[no], journal.get_mobile_order(no)) for no in before]
    log.info("mobile recovery: %d orders asked, %d final, %d paid", len(cases), sum(c.final for c in cases),
             sum(c.needs_slip for c in cases))
    return cases


def _settle_one(service: MobilePaymentService, order_no: str) -> MobileOrderRecord:
    try:
        return service.settle(order_no)
    except (JournalError, ValueError) as problem:  # an answer the journal refused: asked again later
        log.error("mobile order %s not settled: %s", order_no, problem)
        return service.journal.mark_mobile_failed_ask(order_no, "ANSWER_REFUSED", str(problem)[:200])


def _case(before: MobileOrderRecord, after: MobileOrderRecord) -> MobileRecoveryCase:
    return MobileRecoveryCase(after.order_no, before.state.value, after.state.value, after.final, after.amount_fen,
                              after.receipt_no, after.error_code)
