"""What the operations page shows of the outbox: payments still to be posted, and those referred.

Read from the money journal's own masked columns (``account_masked``; the
failure's clear summary, whose words the journal keeps sealed) — never from
``personal_data`` or ``error_message()``, which decrypt: a technician sees
which payment waits and why, not whose it is.

:func:`sync_now` wakes the sync worker (``offline_store/outbox.py``) and
waits, bounded, for what its next attempts did, so the page can say
"2 posted, 1 still waiting" instead of "requested".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

from offline_store.journal import MoneyJournal, Payment
from offline_store.outbox import SyncStats

SYNC_WAIT_S = 20.0  # the longest "Sync now" waits for an answer (a posting's own deadline fits inside)
_POLL_S = 0.05


@dataclass(frozen=True)
class OutboxRow:
    transaction_no: str
    utility: str  # the utility's id (the page shows its name)
    account_masked: str  # as the journal holds it: 32****4567
    amount_fen: int  # what was paid in
    state: str  # committed | pending | referred
    attempts: int  # failed posting attempts so far
    error_code: str  # the last failure's code ("" when none)
    error_summary: str  # the journal's clear summary of it (its words are sealed)
    age_s: float  # since the payment was committed (went into the outbox)


@dataclass(frozen=True)
class OutboxView:
    waiting: tuple[OutboxRow, ...]  # in the outbox, oldest first: the sync worker posts them
    referred: tuple[OutboxRow, ...]  # refused for good, kept for the staffed counter

    @property
    def waiting_fen(self) -> int:
        return sum(row.amount_fen for row in self.waiting)

    @property
    def referred_fen(self) -> int:
        return sum(row.amount_fen for row in self.referred)


@dataclass(frozen=True)
class SyncOutcome:
    running: bool  # False: the sync worker is not running (the journal is off, or it stopped)
    posted: int = 0
    referred: int = 0
    failures: int = 0  # attempts that left a payment pending
    still_waiting: int = 0
    last_error: str = ""  # the worker's last failure code, when an attempt failed
    answered: bool = True  # False: nothing happened within the wait


class SyncSource(Protocol):
    """What :func:`sync_now` needs of :class:`~offline_store.outbox.SyncWorker`."""

    @property
    def running(self) -> bool: ...

    @property
    def stats(self) -> SyncStats: ...

    def wake(self) -> None: ...


def outbox_view(journal: MoneyJournal, now: float) -> OutboxView:
    """The outbox and the referred payments, masked, at epoch second ``now``."""
    return OutboxView(tuple(_row(p, now) for p in journal.outbox()),
                      tuple(_row(p, now) for p in journal.referred()))


def _row(payment: Payment, now: float) -> OutboxRow:
    committed = payment.committed_at if payment.committed_at is not None else payment.opened_at
    return OutboxRow(payment.transaction_no, payment.utility, payment.account_masked, payment.paid_fen,
                     str(payment.state), payment.attempts, payment.error_code or "", payment.error_message or "",
                     max(0.0, now - committed))


def sync_now(journal: MoneyJournal, worker: SyncSource | None, *, wait_s: float = SYNC_WAIT_S,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
             ) -> SyncOutcome:
    """Wake the sync worker and wait (at most ``wait_s``) until what was waiting has left the
    outbox and been counted, or an attempt failed (the worker then backs off by itself).

    Blocking: the application layer runs it on a worker thread.  It only wakes
    and reads back: a payment is posted once whatever this returns."""
    if worker is None or not worker.running:
        return SyncOutcome(False, still_waiting=len(journal.outbox()))
    # The worker empties the outbox row before it counts the posting: the
    # counts are read first, so nothing posted meanwhile is missed.
    before = worker.stats
    waiting_before = len(journal.outbox())
    if waiting_before == 0:
        return SyncOutcome(True, answered=False)
    worker.wake()
    deadline = clock() + wait_s
    while True:
        after = worker.stats
        waiting = len(journal.outbox())
        left_outbox = (after.posted - before.posted) + (after.referred - before.referred)
        if (waiting == 0 and left_outbox >= waiting_before) or after.failures > before.failures:
            break
        if clock() >= deadline:
            break
        sleep(_POLL_S)
    moved = (after.posted - before.posted, after.referred - before.referred, after.failures - before.failures)
    return SyncOutcome(True, *moved, still_waiting=waiting,
                       last_error=after.last_error if moved[2] else "", answered=any(moved))
