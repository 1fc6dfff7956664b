"""What the operations page shows of card purchases: paid and not on the card, referred, or still queued.

A technician needs to know which purchases took money and left the card
without its credit (``write_failed``, or committed/paid/issued and not yet
written: 补写卡 at the card's next insertion), which the billing system
refused for good (the staffed counter settles them with the purchase
number), and whose payment or write confirmation still waits in the
purchase outbox.  Read from the journal's clear columns only
(:meth:`~offline_store.journal.purchases.PurchaseBook.purchases_to_follow`):
the masked account, the card serial masked as on the slip, codes, never a
name, an address or the technician's detail words.

:func:`wake_purchase_sync` and :func:`wait_purchase_sync` are "Sync now" for
the purchase outbox's worker (``offline_store/purchase_outbox.py``): woken
before the payments' sync waits, so both drain at the same time, and read
back after it, so the page says what the purchases' postings did too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from kiosk.outbox_view import SyncOutcome, SyncSource
from kiosk.top_up_records import card_masked
from offline_store.journal import MoneyJournal
from offline_store.journal.purchases import PurchaseToFollow
from offline_store.journal.states import PAID_NOT_WRITTEN
from offline_store.outbox import SyncStats

SHOWN = 50  # the newest ones the page holds: enough to page through, fast on a journal of years
_POLL_S = 0.05


@dataclass(frozen=True)
class PurchaseRow:
    purchase_no: str
    utility: str  # the utility's id (the page shows its name)
    account_masked: str  # as the journal holds it: 32****4567
    card_masked: str  # the card serial's last four digits, as on the slip
    amount_fen: int  # the cash taken here (for a rewrite of another terminal's purchase: what it bought)
    state: str  # a PurchaseState value
    reason: str  # why it is not on the card ("" when it is, or when nobody said)
    write_attempts: int  # writes to the card begun
    queued: str  # the posting waiting: "payment", "confirm", or ""
    attempts: int  # failed posting attempts so far
    error_code: str  # the last posting failure's code ("" when none)
    age_s: float  # since the purchase was opened

    @property
    def not_written(self) -> bool:
        return self.state in PAID_NOT_WRITTEN


@dataclass(frozen=True)
class PurchaseView:
    rows: tuple[PurchaseRow, ...]  # newest first, at most SHOWN
    total: int  # all there are (the page says how many it does not hold)
    not_written: int
    not_written_fen: int  # the money of all of them, held or not
    referred: int
    queued: int


@dataclass(frozen=True)
class PurchaseSyncStart:
    """The purchase worker's counts when "Sync now" woke it (None: no worker, or not running)."""

    worker: SyncSource | None
    before: SyncStats | None
    waiting: int  # postings in the purchase outbox then


def purchase_view(journal: MoneyJournal, now: float, limit: int = SHOWN) -> PurchaseView:
    """The purchases to follow, masked, at epoch second ``now``."""
    found = journal.purchases_to_follow(limit)
    return PurchaseView(tuple(_row(p, now) for p in found.rows), found.total, found.not_written,
                        found.not_written_fen, found.referred, found.queued)


def _row(purchase: PurchaseToFollow, now: float) -> PurchaseRow:
    amount = purchase.paid_fen if purchase.method == "cash" else purchase.chosen_fen
    reason = (purchase.write_reason or "") if purchase.state in PAID_NOT_WRITTEN else ""
    return PurchaseRow(purchase.purchase_no, purchase.utility, purchase.account_masked,
                       card_masked(purchase.card_serial), amount, str(purchase.state), reason,
                       purchase.write_attempts, purchase.queued or "", purchase.attempts, purchase.error_code or "",
                       max(0.0, now - purchase.opened_at))


def wake_purchase_sync(journal: MoneyJournal, worker: SyncSource | None) -> PurchaseSyncStart:
    """Wake the purchase worker when something waits; its counts are read first, so nothing
    it posts from now on is missed."""
    waiting = len(journal.purchase_outbox())
    if worker is None or not worker.running:
        return PurchaseSyncStart(None, None, waiting)
    before = worker.stats
    if waiting:
        worker.wake()
    return PurchaseSyncStart(worker, before, waiting)


def wait_purchase_sync(journal: MoneyJournal, start: PurchaseSyncStart, *, wait_s: float,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> SyncOutcome:
    """Wait (at most ``wait_s``) until what was waiting has left the purchase outbox and been
    counted, or an attempt failed (the worker then backs off by itself).  Blocking."""
    worker, before = start.worker, start.before
    if worker is None or before is None:
        return SyncOutcome(False, still_waiting=len(journal.purchase_outbox()))
    if start.waiting == 0:
        return SyncOutcome(True, answered=False)
    deadline = clock() + wait_s
    while True:
        after = worker.stats
        waiting = len(journal.purchase_outbox())
        left_outbox = (after.posted - before.posted) + (after.referred - before.referred)
        done = waiting == 0 and left_outbox >= start.waiting
        if done or after.failures > before.failures or clock() >= deadline:
            break
        sleep(_POLL_S)
    moved = (after.posted - before.posted, after.referred - before.referred, after.failures - before.failures)
    return SyncOutcome(True, *moved, still_waiting=waiting, last_error=after.last_error if moved[2] else "",
                       answered=any(moved))

