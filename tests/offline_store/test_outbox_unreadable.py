"""No reply, however malformed, stops the outbox: the billing system's own record
(GET /payments/{no}) decides, and what stays unreadable is referred so the
payments behind it are posted.  Against the real simulator on loopback."""

from __future__ import annotations

import random

import pytest
from journal_helpers import PAYMENTS_PATH, SECRET, TERMINAL_ID, wait_until

from kiosk.backend.client import BackendClient
from offline_store.outbox import UNREADABLE_LIMIT, SyncWorker


@pytest.fixture
def single_shot_client(sim):
    """No client-side retries: each fault hits exactly the attempt it is meant for."""
    with BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.5,
                       retries=0, backoff_s=0.01) as made:
        yield made


@pytest.fixture
def worker(journal, single_shot_client):
    made = []

    def make(*, with_status=True):
        made.append(SyncWorker(journal, single_shot_client.post_payment,
                               status=single_shot_client.payment_status if with_status else None,
                               base_delay_s=0.005, max_delay_s=0.02, rng=random.Random(3)))
        return made[-1]

    yield make
    for w in made:
        assert w.stop(timeout=5)


def _postings_of(sim, txn):
    return [p for p in sim.postings if p["transaction_no"] == txn]


def test_a_final_500_after_booking_is_posted_not_referred(journal, pay, sim, worker):
    payment = pay(10000)
    sim.inject("booked_then_500_final", count=1, path_prefix=PAYMENTS_PATH)
    worker().start()
    wait_until(lambda: not journal.outbox())
    assert journal.get(payment.transaction_no).state == "posted"
    assert journal.referred() == []
    assert len(_postings_of(sim, payment.transaction_no)) == 1


def test_a_balance_no_64_bit_integer_holds_does_not_block_the_queue(journal, pay, sim, worker):
    first, second = pay(10000), pay(5000)
    # Every answer about the first payment, its POSTs and its status, carries 2**64 fen.
    sim.inject("booked_then_huge_numbers", path_prefix=f"{PAYMENTS_PATH}/{first.transaction_no}")
    sim.inject("booked_then_huge_numbers", count=UNREADABLE_LIMIT, path_prefix=PAYMENTS_PATH)
    worker().start()
    wait_until(lambda: not journal.outbox())
    stuck = journal.get(first.transaction_no)
    assert stuck.state == "referred" and stuck.error_code == "REPLY_UNREADABLE"
    assert journal.get(second.transaction_no).state == "posted"
    # Booked once by the billing system, whatever the kiosk could read of it.
    assert len(_postings_of(sim, first.transaction_no)) == 1
    assert len(_postings_of(sim, second.transaction_no)) == 1


def test_an_unrecordable_answer_followed_by_a_readable_replay_is_posted(journal, pay, sim, worker):
    payment = pay(10000)
    sim.inject("booked_then_huge_numbers", path_prefix=f"{PAYMENTS_PATH}/{payment.transaction_no}")
    sim.inject("booked_then_huge_numbers", count=1, path_prefix=PAYMENTS_PATH)
    worker().start()
    wait_until(lambda: not journal.outbox())
    assert journal.get(payment.transaction_no).state == "posted"  # the repeat's replayed answer fits
    assert len(_postings_of(sim, payment.transaction_no)) == 1


def test_a_cut_short_answer_is_settled_by_the_status_endpoint(journal, pay, sim, worker):
    payment = pay(2000)
    sim.inject("booked_then_malformed", count=1, path_prefix=PAYMENTS_PATH)
    worker().start()
    wait_until(lambda: not journal.outbox())
    posted = journal.get(payment.transaction_no)
    assert posted.state == "posted" and posted.receipt_no
    assert len(_postings_of(sim, payment.transaction_no)) == 1


def test_without_a_status_endpoint_an_unreadable_payment_is_referred_after_the_limit(journal, pay, sim, worker):
    first, second = pay(10000), pay(5000)
    sim.inject("malformed_json", count=UNREADABLE_LIMIT, path_prefix=PAYMENTS_PATH)
    started = worker(with_status=False).start()
    wait_until(lambda: not journal.outbox())
    referred = journal.get(first.transaction_no)
    assert (referred.state, referred.error_code, referred.attempts) == ("referred", "REPLY_UNREADABLE",
                                                                       UNREADABLE_LIMIT - 1)
    assert journal.get(second.transaction_no).state == "posted"
    assert started.stats.referred == 1


def test_a_refusal_the_billing_system_never_booked_is_referred_with_its_code(journal, pay, sim, worker):
    from journal_helpers import CLOSED

    closed = pay(10000, account=CLOSED)
    worker().start()
    wait_until(lambda: not journal.outbox())
    referred = journal.get(closed.transaction_no)
    assert (referred.state, referred.error_code) == ("referred", "ACCOUNT_CLOSED")
    assert _postings_of(sim, closed.transaction_no) == []
