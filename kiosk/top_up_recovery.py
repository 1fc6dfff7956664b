"""Card top-ups after a restart: each purchase a crash or power cut left unfinished is carried forward.

Run once at start, after the journal is open and recovered
(:meth:`MoneyJournal.recover` has already finished the purchases' cash:
notes stacked → committed, none → cancelled) and the purchase outbox's worker
runs, before the kiosk takes a new top-up.  Blocks (bounded): a worker thread.

The customer of an interrupted purchase has gone, and their card with them,
so nothing is written here; what each purchase becomes:

* ``committed`` (its posting queued): posted -- the worker is woken and given
  ``posting_wait_s`` for all of them together -- then as ``paid``;
* ``paid`` (booked, no token): the token is fetched once (3.13), then as ``issued``;
* ``issued`` (the token in the journal, perhaps sent to the card when the
  kiosk died): marked for rewrite (``write_failed``, reason ``RECOVERED``).
  The next insertion of the card reads it first: a card that already shows
  the purchase is confirmed, not written again;
* refused meanwhile by the billing system: ``referred`` (the worker did it);
* ``write_failed`` without its token: the token is fetched once;
* ``written`` / ``rewritten``: the worker confirms them; nothing to do.

A recovery slip is printed for each purchase the crash interrupted while its
customer was there (committed, paid or issued at start), when there is a
printer: it says the money was received and what to do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from contract.errors import BackendError
from kiosk.top_up import TopUpService
from kiosk.top_up_records import problem_key
from offline_store.journal import PurchaseRecord, PurchaseState

log = logging.getLogger("kiosk.top_up")
P = PurchaseState
INTERRUPTED = (P.COMMITTED, P.PAID, P.ISSUED)
_POLL_S = 0.05


@dataclass(frozen=True)
class TopUpRecoveryCase:
    """What recovery did with one purchase, for the log and the slip."""

    purchase_no: str
    state_before: PurchaseState
    state_after: PurchaseState
    action: str  # "marked for rewrite", "referred", "confirming", "token fetched", "waiting for its token"
    slip_printed: bool


def recover_top_ups(service: TopUpService, posting_wait_s: float | None = None) -> list[TopUpRecoveryCase]:
    """Carry every unfinished purchase forward (module docstring); returns what was done."""
    journal = service.journal
    journal.recover_purchase_cash()  # already done by journal.recover() at open; harmless again
    before = {p.purchase_no: p for p in journal.unfinished_purchases()}
    if not before:
        return []
    _wait_for_postings(service, before.values(), service.posting_wait_s if posting_wait_s is None else posting_wait_s)
    cases = []
    for no, was in before.items():
        now = journal.get_purchase(no)
        if now.write_token is None and now.receipt_no is not None and not now.on_card:
            now = _fetch_token(service, now)
        if now.state in INTERRUPTED:
            now = journal.mark_write_failed(no, "RECOVERED", f"carried forward after a restart (was {was.state})")
        interrupted = was.state in INTERRUPTED
        printed = interrupted and service.print_slip(
            service.slip_data(now, problem_key("RECOVERED"), "RECOVERED", recovered=True))
        cases.append(TopUpRecoveryCase(no, was.state, now.state, _action(now), printed))
        log.warning("top-up carried forward after a restart", extra={"case": str(cases[-1])})
    return cases


def _wait_for_postings(service: TopUpService, purchases, wait_s: float) -> None:
    """Wake the worker and give it ``wait_s`` to book every queued payment among ``purchases``."""
    queued = [p.purchase_no for p in purchases if p.receipt_no is None and p.state in (P.COMMITTED, P.WRITE_FAILED)]
    if not queued:
        return
    service.sync.wake()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if all(_booked_or_final(service.journal.get_purchase(no)) for no in queued):
            return
        time.sleep(_POLL_S)


def _booked_or_final(purchase: PurchaseRecord) -> bool:
    return purchase.receipt_no is not None or purchase.state in (P.REFERRED, P.CONFIRMED, P.CANCELLED)


def _fetch_token(service: TopUpService, purchase: PurchaseRecord) -> PurchaseRecord:
    """One status call (3.13): the token, if the billing system has made it."""
    try:
        held = service.client.purchase_status(purchase.purchase_no, purchase.card_serial)
    except BackendError as error:
        log.warning("purchase %s: token not fetched at start (%s)", purchase.purchase_no, error.code)
        return purchase
    return service.record_held(held) or purchase


def _action(purchase: PurchaseRecord) -> str:
    if purchase.state == P.REFERRED:
        return "referred"
    if purchase.on_card or purchase.state == P.CONFIRMED:
        return "confirming"
    if purchase.write_token is None:
        return "marked for rewrite, waiting for its token"
    return "marked for rewrite"
