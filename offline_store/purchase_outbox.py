"""The purchase outbox's worker: posts each card purchase's payment (3.10) and the
confirmation of its write (3.11) to the billing system, each exactly once.

A module of its own beside :mod:`offline_store.outbox` rather than more of
it: the postings are other requests with other answers (a purchase object
that may carry a write token, or say the card was confirmed elsewhere) and
other refusals, while the thread, ``wake``/``stop``, the backoff and its
jitter are the payment worker's -- :class:`PurchaseSyncWorker` is a
:class:`~offline_store.outbox.SyncWorker` that drains another queue.
``outbox.py`` is unchanged.

What each outcome becomes is written to the journal first
(:mod:`offline_store.journal.purchase_steps`):

* payment booked → ``record_issue`` (with its token), ``record_paid``
  (no token yet), or also ``record_confirmed`` when the answer says another
  terminal has confirmed the write already;
* confirmation answered → ``record_confirmed``;
* a failure that may pass (unreachable, timeout, 5xx, the terminal not
  authorised) → ``mark_purchase_pending``, a backoff, and the head of the
  queue again (a network that is down is down for every entry);
* a refusal → first ``GET /purchases/{no}`` (3.13): what the billing system
  holds decides, not what it said.  Booked (or written) → recorded so;
  not → ``mark_purchase_referred``: the money stays in the journal for the
  counter, and the queue goes on;
* an answer the kiosk cannot use → the status decides; when that cannot be
  read either, pending, and after ``UNREADABLE_LIMIT`` such attempts referred.

Exactly once: the purchase number is the Idempotency-Key of both postings,
the billing system books and confirms a number at most once, and an entry
stays queued until the journal says booked, confirmed or referred.  A crash
between an answer and its record only means one more (replayed) request.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable

from contract.errors import AuthenticationFailed, BackendError, MalformedReply
from contract.purchase import Purchase, PurchaseStatus
from contract.purchase_requests import PurchasePayment, WriteConfirmation
from offline_store.journal import JournalError, MoneyJournal, PurchaseOutboxEntry
from offline_store.journal.states import CONFIRM_STEP, PAYMENT_STEP
from offline_store.outbox import _UNRECORDABLE, UNREADABLE_LIMIT, SyncWorker

log = logging.getLogger("kiosk.sync")

_BATCH = 64
_NOT_HELD = object()  # the billing system has nothing of it (never booked, never confirmed)
_UNKNOWN = object()  # what it holds cannot be learnt now


class PurchaseSyncWorker(SyncWorker):
    """``pay`` is ``client.pay_purchase``, ``confirm`` ``client.confirm_write``, ``status``
    ``client.purchase_status`` (purchase number, card serial); the keyword arguments
    are :class:`SyncWorker`'s (backoff, clock, sleep, rng)."""

    def __init__(self, journal: MoneyJournal, pay: Callable[[PurchasePayment], Purchase],
                 confirm: Callable[[WriteConfirmation], Purchase], status: Callable[[str, str], Purchase],
                 **worker: object) -> None:
        super().__init__(journal, pay, **worker)
        self._pay = pay
        self._confirm = confirm
        self._purchase_status = status

    def start(self) -> PurchaseSyncWorker:
        if self._thread is None:
            import threading

            self._thread = threading.Thread(target=self._run, name="purchase-sync", daemon=True)
            self._thread.start()
        return self

    def _drain(self) -> bool:
        """Post the purchase outbox until it is empty or an attempt fails; False if it was empty."""
        did_something = False
        while not self._stopping.is_set():
            batch = self._journal.purchase_outbox(limit=_BATCH)
            if not batch:
                return did_something
            did_something = True
            for entry in batch:
                if self._stopping.is_set():
                    return True
                if not self._post_entry(entry):
                    self._backoff()
                    break  # read the outbox again: the head goes first
        return True

    def _post_entry(self, entry: PurchaseOutboxEntry) -> bool:
        """One attempt; True unless it failed in a way that may pass (then the queue backs off)."""
        no = entry.purchase_no
        try:
            if entry.step == PAYMENT_STEP:
                request, call = self._journal.purchase_payment_request(no), self._pay
            elif entry.step == CONFIRM_STEP:
                request, call = self._journal.write_confirmation(no), self._confirm
            else:
                return self._refer(no, "JOURNAL_UNREADABLE", f"unknown outbox step {entry.step!r}")
        except JournalError as problem:  # never block the queue behind one unreadable entry
            log.critical("purchase %s cannot be posted, its journal entry is unreadable: %s", no, problem)
            return self._refer(no, "JOURNAL_UNREADABLE", str(problem))
        try:
            answer = call(request)
        except BackendError as error:
            return self._after_failure(entry, error)
        except Exception as error:  # noqa: BLE001 - whatever broke, the answer could not be read
            log.exception("purchase sync: %s of %s failed unexpectedly", entry.step, no)
            return self._unreadable(entry, f"{type(error).__name__} while posting")
        problem = self._record(no, answer)
        return True if problem is None else self._unreadable(entry, problem)

    def _record(self, no: str, held: Purchase) -> str | None:
        """Journal what the billing system holds of ``no``; None when done, else why it could not be."""
        try:
            if held.status is PurchaseStatus.PAID:
                self._journal.record_paid(no, held)
            elif held.status in (PurchaseStatus.ISSUED, PurchaseStatus.WRITTEN):
                self._journal.record_issue(no, held)
                if held.status is PurchaseStatus.WRITTEN:
                    self._journal.record_confirmed(no, held.written_at)
            else:
                return f"the billing system holds it as {held.status.value}: not booked"
        except (*_UNRECORDABLE, JournalError) as problem:
            log.error("purchase %s: the billing system's answer cannot be journaled: %s", no, problem)
            return f"answer not recordable ({type(problem).__name__}: {problem})"
        self._strikes.pop(no, None)
        self._failures_in_a_row = 0
        with self._lock:
            self._stats = replace(self._stats, posted=self._stats.posted + 1,
                                  replayed=self._stats.replayed + int(held.replayed))
        log.info("purchase %s recorded as %s%s", no, held.status.value, " (replayed)" if held.replayed else "")
        return None

    def _after_failure(self, entry: PurchaseOutboxEntry, error: BackendError) -> bool:
        no = entry.purchase_no
        if isinstance(error, AuthenticationFailed) or (error.retryable and not isinstance(error, MalformedReply)):
            return self._pending(no, error.code, error.detail)
        if isinstance(error, MalformedReply):
            return self._unreadable(entry, f"{error.code}: {error.detail}")
        # A refusal: what the billing system holds decides, not what it said.
        held = self._held(no)
        if isinstance(held, Purchase) and self._settles(entry, held):
            problem = self._record(no, held)
            return True if problem is None else self._unreadable(entry, problem, ask=False)
        if held is _UNKNOWN:
            return self._unreadable(entry, f"refused with {error.code}, and its status cannot be read", ask=False)
        return self._refer(no, error.code, error.detail)

    @staticmethod
    def _settles(entry: PurchaseOutboxEntry, held: Purchase) -> bool:
        """Whether what the billing system holds is what this entry was to bring about."""
        if entry.step == PAYMENT_STEP:
            return held.status is not PurchaseStatus.ORDERED
        return held.status is PurchaseStatus.WRITTEN

    def _held(self, no: str) -> Purchase | object:
        """The purchase as the billing system holds it (3.13), ``_NOT_HELD`` or ``_UNKNOWN``."""
        try:
            serial = self._journal.get_purchase(no).card_serial
            return self._purchase_status(no, serial)
        except BackendError as error:
            return _NOT_HELD if error.code == "PURCHASE_NOT_FOUND" else _UNKNOWN
        except Exception:  # noqa: BLE001 - a status we cannot read is no status
            log.exception("purchase sync: status of %s could not be read", no)
            return _UNKNOWN

    def _unreadable(self, entry: PurchaseOutboxEntry, why: str, *, ask: bool = True) -> bool:
        """An answer the kiosk cannot use: the status decides; after ``UNREADABLE_LIMIT``
        such attempts the purchase is referred, so it never holds up the queue."""
        no = entry.purchase_no
        held = self._held(no) if ask else _UNKNOWN
        if isinstance(held, Purchase) and self._settles(entry, held):
            problem = self._record(no, held)
            if problem is None:
                return True
            why = f"{why}; its status is {problem} too"
        strikes = self._strikes[no] = self._strikes.get(no, 0) + 1
        if strikes >= UNREADABLE_LIMIT:
            self._strikes.pop(no, None)
            return self._refer(no, "REPLY_UNREADABLE", f"{strikes} answers could not be used ({why})")
        return self._pending(no, "REPLY_UNREADABLE", why)

    def _pending(self, no: str, code: str, detail: str) -> bool:
        self._journal.mark_purchase_pending(no, code, detail)
        self._failed(code)
        log.warning("purchase %s still queued: %s", no, code)
        return False

    def _refer(self, no: str, code: str, detail: str) -> bool:
        self._journal.mark_purchase_referred(no, code, detail)
        self._failures_in_a_row = 0
        with self._lock:
            self._stats = replace(self._stats, referred=self._stats.referred + 1, last_error=code)
        log.error("purchase %s referred to the counter: %s", no, code)
        return True
