"""The sync worker posts the outbox to the real simulator: each payment exactly once."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from journal_helpers import CLOSED, PAYMENTS_PATH, wait_until

from offline_store.outbox import SyncWorker


@pytest.fixture
def worker(journal, client):
    made = []

    def make(**options):
        options = {"base_delay_s": 0.005, "max_delay_s": 0.05, "rng": random.Random(5), **options}
        made.append(SyncWorker(journal, client.post_payment, **options))
        return made[-1]

    yield make
    for w in made:
        assert w.stop(timeout=5)


def test_every_payment_is_posted_exactly_once_while_the_backend_misbehaves(journal, pay, sim, worker):
    payments = [pay(10000, 5000) if i % 3 else pay(100) for i in range(200)]
    for _ in range(4):  # blocks of faults, used up in this order by consecutive payment requests
        sim.inject("drop_after_commit", count=6, path_prefix=PAYMENTS_PATH)
        sim.inject("http_500", count=4, path_prefix=PAYMENTS_PATH)
        sim.inject("drop", count=3, path_prefix=PAYMENTS_PATH)
        sim.inject("delay", count=1, seconds=0.4, path_prefix=PAYMENTS_PATH)  # beyond the 0.3 s read timeout
    worker().start()
    wait_until(lambda: not journal.outbox())
    time.sleep(0.5)  # let late (delayed) first attempts reach the simulator's ledger too

    postings = Counter(p["transaction_no"] for p in sim.postings)
    assert set(postings) == {p.transaction_no for p in payments}
    assert max(postings.values()) == 1  # no duplicate
    receipts = {p["transaction_no"]: p["receipt_no"] for p in sim.postings}
    for payment in payments:
        posted = journal.get(payment.transaction_no)
        assert posted.state == "posted" and posted.receipt_no == receipts[payment.transaction_no]
    assert sum(p["amount_fen"] for p in sim.postings) == sum(p.paid_fen for p in payments)


def test_a_closed_account_is_referred_and_kept_and_the_next_payment_still_posts(journal, pay, sim, worker):
    closed = pay(10000, account=CLOSED)
    fine = pay(5000)
    worker().start()
    wait_until(lambda: not journal.outbox())
    referred = journal.get(closed.transaction_no)
    assert (referred.state, referred.error_code, referred.paid_fen) == ("referred", "ACCOUNT_CLOSED", 10000)
    assert journal.referred() == [referred]  # kept for the counter, never dropped
    assert journal.get(fine.transaction_no).state == "posted"
    assert [p["transaction_no"] for p in sim.postings] == [fine.transaction_no]


def test_while_the_network_is_down_the_payment_stays_pending_with_growing_backoff(journal, pay, sim, worker):
    payment = pay(10000)
    sim.inject("drop", path_prefix=PAYMENTS_PATH)  # until cleared
    delays = []

    def sleep(seconds):
        delays.append(seconds)
        if len(delays) == 7:
            assert journal.get(payment.transaction_no).state == "pending"
            sim.clear_faults()  # the network is back

    worker(base_delay_s=1.0, max_delay_s=16.0, jitter=0.2, sleep=sleep).start()
    wait_until(lambda: journal.get(payment.transaction_no).state == "posted")
    for n, delay in enumerate(delays, start=1):
        expected = min(16.0, 2 ** (n - 1))
        assert expected * 0.8 <= delay <= expected * 1.2
    assert delays[-1] >= 16 * 0.8 and len(set(delays)) == len(delays)  # capped, and jittered
    assert [p["transaction_no"] for p in sim.postings] == [payment.transaction_no]
    assert journal.get(payment.transaction_no).attempts == 7


def test_wake_posts_a_new_payment_at_once(journal, pay, sim, worker):
    running = worker().start()
    time.sleep(0.1)  # idle now, waiting for work
    payment = pay(2000)
    started = time.monotonic()
    running.wake()
    wait_until(lambda: journal.get(payment.transaction_no).state == "posted", timeout_s=2)
    assert time.monotonic() - started < 1.0


def test_stop_ends_a_long_backoff_at_once(journal, pay, sim, worker):
    pay(10000)
    sim.inject("http_500", path_prefix=PAYMENTS_PATH)
    running = worker(base_delay_s=120, max_delay_s=300).start()
    wait_until(lambda: running.stats.failures >= 1)
    started = time.monotonic()
    assert running.stop(timeout=2) and time.monotonic() - started < 1.0
    assert [p.state for p in journal.outbox()] == ["pending"]
