"""The sync worker: posts the journal's outbox to the billing system, each payment once.

One background thread takes the outbox oldest first and posts each payment
with its transaction number as idempotency key (docs/api.md, 3.4 and 5).
What it does with the outcome is always written to the journal first:

* posted (201, or 200 replayed after an earlier attempt whose answer was
  lost) → ``mark_posted``;
* a failure that may pass (``BackendError.retryable``: unreachable, timeout,
  5xx, malformed reply), or the terminal not being authorised (not the
  payment's fault) → ``mark_pending``, then an exponential backoff with
  jitter before the head of the outbox is tried again.  The order is kept: a
  network that is down is down for every payment;
* a refusal of the payment itself (account closed or unknown, amount invalid,
  idempotency conflict: retryable False) → first ``GET /payments/{no}``
  (``status``): a server may refuse after it booked.  Booked → posted; not
  booked → ``mark_referred``: kept in the journal for the staffed counter,
  never dropped, and the worker goes on with the next payment;
* an answer the kiosk cannot use (malformed, too large, numbers that do not
  fit, anything the journal cannot record) → the status endpoint decides;
  when that cannot be read either, the payment stays pending, and after
  ``UNREADABLE_LIMIT`` such attempts it is referred with the reason.  No
  reply, however malformed, stops the queue behind it.

Exactly once: the billing system books a transaction number at most once,
and the worker repeats a payment until the journal says posted or referred,
so every committed payment ends up booked once.  A crash between the answer
and ``mark_posted`` only means one more (replayed) posting after the restart.

``post`` is normally ``BackendClient(...).post_payment``.  ``clock`` and
``sleep`` are injectable: ``sleep(seconds)`` is called for every backoff (the
default waits on an event that :meth:`wake` and :meth:`stop` cut short).
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from contract.errors import AuthenticationFailed, BackendError, MalformedReply
from contract.models import PaymentRequest, PaymentResult
from offline_store.journal import MoneyJournal, PersonalDataPurged
from offline_store.pii import PiiDecryptionError

log = logging.getLogger("kiosk.sync")

# Attempts whose answer cannot be read (and whose status cannot be learnt)
# before the payment is referred to the counter and the queue moves on.
UNREADABLE_LIMIT = 3
# An answer the journal cannot write down: a number no SQLite integer holds,
# a value of the wrong type, text that is not text.
_UNRECORDABLE = (OverflowError, ValueError, TypeError, sqlite3.InterfaceError, UnicodeError)
_NOT_BOOKED = object()
_UNKNOWN = object()

IDLE_RECHECK_S = 30.0  # with nothing to post, look at the outbox again this often anyway
_BATCH = 64  # outbox entries read at a time


@dataclass(frozen=True)
class SyncStats:
    posted: int = 0
    replayed: int = 0  # posted by an earlier attempt whose answer was lost
    referred: int = 0
    failures: int = 0  # attempts that left a payment pending
    last_error: str = ""


class SyncWorker:
    def __init__(self, journal: MoneyJournal, post: Callable[[PaymentRequest], PaymentResult], *,
                 status: Callable[[str], PaymentResult] | None = None, base_delay_s: float = 1.0, max_delay_s: float = 300.0, jitter: float = 0.2,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] | None = None,
                 rng: random.Random | None = None) -> None:
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter is a fraction in [0, 1), got {jitter}")
        self._journal = journal
        self._post = post
        self._status = status
        self._strikes: dict[str, int] = {}  # transaction number -> unreadable answers in a row
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._jitter = jitter
        self._clock = clock
        self._sleep = sleep or self._wait
        self._rng = rng or random.Random()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._stats = SyncStats()
        self._failures_in_a_row = 0
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> SyncWorker:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Post now (a payment was just committed, or the network is back): ends a backoff."""
        self._wakeup.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the posting in flight, then end; True if the thread ended in time."""
        self._stopping.set()
        self._wakeup.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stats(self) -> SyncStats:
        with self._lock:
            return self._stats

    def backoff_delay(self, failures_in_a_row: int) -> float:
        """``base × 2^(n-1)``, at most ``max``, spread by ±``jitter`` so terminals that lost
        the network together do not all come back in the same second."""
        delay = min(self._max_delay_s, self._base_delay_s * 2 ** min(failures_in_a_row - 1, 62))
        return delay * (1 + self._jitter * (2 * self._rng.random() - 1))

    # -- the thread ------------------------------------------------------------------
    def _run(self) -> None:
        log.info("sync worker started")
        while not self._stopping.is_set():
            self._wakeup.clear()  # before reading the outbox: a wake() from now on is seen
            try:
                worked = self._drain()
            except Exception:  # noqa: BLE001 - a journal failure must not end the worker
                log.exception("sync worker: the journal failed; trying again after a backoff")
                self._failed("JOURNAL_ERROR")
                self._backoff()
                continue
            if not worked:
                self._wakeup.wait(IDLE_RECHECK_S)
        log.info("sync worker stopped")

    def _drain(self) -> bool:
        """Post the outbox until it is empty or an attempt fails; False if it was empty."""
        did_something = False
        while not self._stopping.is_set():
            batch = self._journal.outbox(limit=_BATCH)
            if not batch:
                return did_something
            did_something = True
            for payment in batch:
                if self._stopping.is_set():
                    return True
                if not self._post_one(payment.transaction_no):
                    self._backoff()
                    break  # read the outbox again: order is kept, the head goes first
        return True

    def _post_one(self, txn: str) -> bool:
        """One attempt; True unless it failed in a way that may pass (then the queue backs off)."""
        try:
            request = self._journal.payment_request(txn)
        except (PiiDecryptionError, PersonalDataPurged) as problem:
            # Never block the whole outbox behind one unreadable entry: the
            # counter settles it with the transaction number and the notes.
            log.critical("payment %s cannot be posted, its journal entry is unreadable: %s", txn, problem)
            self._refer(txn, "JOURNAL_UNREADABLE", str(problem))
            return True
        try:
            result = self._post(request)
        except BackendError as error:
            return self._after_failure(txn, error)
        except Exception as error:  # noqa: BLE001 - whatever broke, the answer could not be read
            log.exception("sync worker: posting %s failed unexpectedly", txn)
            return self._unreadable(txn, f"{type(error).__name__} while posting")
        return self._record_posted(txn, result)

    def _record_posted(self, txn: str, result: PaymentResult) -> bool:
        """Journal the billing system's answer; an answer the journal cannot hold is unreadable."""
        problem = self._journal_posted(txn, result)
        return True if problem is None else self._unreadable(txn, problem, ask_status=True)

    def _journal_posted(self, txn: str, result: PaymentResult) -> str | None:
        """``mark_posted``; None when done, else why the answer could not be written down."""
        try:
            self._journal.mark_posted(txn, result)
        except _UNRECORDABLE as problem:
            log.error("payment %s: the billing system's answer cannot be journaled: %s", txn, problem)
            return f"answer not recordable ({type(problem).__name__})"
        self._strikes.pop(txn, None)
        self._failures_in_a_row = 0
        with self._lock:
            self._stats = replace(self._stats, posted=self._stats.posted + 1,
                                   replayed=self._stats.replayed + int(result.replayed))
        log.info("payment %s posted as %s%s", txn, result.receipt_no, " (replayed)" if result.replayed else "")
        return None

    def _after_failure(self, txn: str, error: BackendError) -> bool:
        if isinstance(error, AuthenticationFailed):
            return self._pending(txn, error.code, error.detail)  # the terminal's problem, not the payment's
        if isinstance(error, MalformedReply):
            return self._unreadable(txn, f"{error.code}: {error.detail}")
        if error.retryable:
            return self._pending(txn, error.code, error.detail)
        # A refusal.  A server may say "do not retry" after it booked the payment:
        # what it holds decides, not what it said.
        if self._status is None:  # nobody to ask: the refusal stands
            return self._refer(txn, error.code, error.message_en or error.detail)
        booked = self._booked(txn)
        if isinstance(booked, PaymentResult):
            problem = self._journal_posted(txn, booked)
            return True if problem is None else self._unreadable(txn, problem, ask_status=False)
        if booked is _NOT_BOOKED:
            return self._refer(txn, error.code, error.message_en or error.detail)
        return self._unreadable(txn, f"refused with {error.code}, and its status cannot be read")

    def _unreadable(self, txn: str, why: str, *, ask_status: bool = True) -> bool:
        """An answer the kiosk cannot use: ask the status endpoint; after
        ``UNREADABLE_LIMIT`` such attempts refer the payment and go on, so one
        payment can never hold up the queue behind it."""
        booked = self._booked(txn) if ask_status else _UNKNOWN
        if isinstance(booked, PaymentResult):
            problem = self._journal_posted(txn, booked)
            if problem is None:
                return True
            why = f"{why}; its status is {problem} too"
        strikes = self._strikes[txn] = self._strikes.get(txn, 0) + 1
        if strikes >= UNREADABLE_LIMIT:
            self._strikes.pop(txn, None)
            state = "not booked" if booked is _NOT_BOOKED else "status unknown"
            return self._refer(txn, "REPLY_UNREADABLE",
                               f"{strikes} answers could not be read ({why}); billing system: {state}")
        return self._pending(txn, "REPLY_UNREADABLE", why)

    def _booked(self, txn: str) -> PaymentResult | object:
        """What the billing system holds for ``txn`` (docs/api.md 3.5): its result,
        ``_NOT_BOOKED``, or ``_UNKNOWN`` when that cannot be learnt now."""
        if self._status is None:
            return _UNKNOWN
        try:
            return self._status(txn)
        except BackendError as error:
            return _NOT_BOOKED if error.code == "PAYMENT_NOT_FOUND" else _UNKNOWN
        except Exception:  # noqa: BLE001 - a status we cannot read is no status
            log.exception("sync worker: status of %s could not be read", txn)
            return _UNKNOWN

    def _pending(self, txn: str, code: str, detail: str) -> bool:
        self._journal.mark_pending(txn, code, detail)
        self._failed(code)
        log.warning("payment %s still pending: %s", txn, code)
        return False

    def _refer(self, txn: str, code: str, message: str) -> bool:
        self._journal.mark_referred(txn, code, message)
        self._failures_in_a_row = 0
        with self._lock:
            self._stats = replace(self._stats, referred=self._stats.referred + 1, last_error=code)
        log.error("payment %s referred to the counter: %s", txn, code)
        return True

    def _failed(self, code: str) -> None:
        self._failures_in_a_row += 1
        with self._lock:
            self._stats = replace(self._stats, failures=self._stats.failures + 1, last_error=code)

    def _backoff(self) -> None:
        if self._stopping.is_set():
            return
        self._wakeup.clear()
        self._sleep(self.backoff_delay(max(1, self._failures_in_a_row)))

    def _wait(self, seconds: float) -> None:
        """The default sleep: ends early on wake() or stop()."""
        deadline = self._clock() + seconds
        while not self._stopping.is_set():
            left = deadline - self._clock()
            if left <= 0 or self._wakeup.wait(left):
                return
