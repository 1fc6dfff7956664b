"""The operations page's outbox: a real money journal, a real sync worker, the real billing simulator."""

from __future__ import annotations

import time

from kiosk.outbox_view import outbox_view, sync_now
import operations_world as world
from operations_world import ADDRESS, ARREARS, CLOSED, HOLDER, PAYMENTS_PATH, WATER, wait_for

clock, journal, pay, sim, worker = world.clock, world.journal, world.pay, world.sim, world.worker  # fixtures


def test_the_view_lists_waiting_payments_oldest_first_and_the_referred_apart(journal, pay, clock):
    first, second, third = pay(10000, 5000), pay(2000, account=WATER), pay(10000)
    journal.mark_pending(second.transaction_no, "TIMEOUT", "no answer within 3 s")
    journal.mark_pending(second.transaction_no, "HTTP_503", "service unavailable")
    journal.mark_referred(third.transaction_no, "ACCOUNT_CLOSED", "account closed")
    clock.now += 30

    view = outbox_view(journal, clock())

    assert [r.transaction_no for r in view.waiting] == [first.transaction_no, second.transaction_no]
    assert [r.transaction_no for r in view.referred] == [third.transaction_no]
    queued, retrying = view.waiting
    assert (queued.state, queued.amount_fen, queued.attempts, queued.error_code) == ("committed", 15000, 0, "")
    assert queued.age_s == 120 + 30  # committed two payments (a minute each) and 30 s ago
    assert (retrying.utility, retrying.state, retrying.attempts, retrying.error_code) == ("water", "pending", 2,
                                                                                          "HTTP_503")
    assert retrying.error_summary.startswith("HTTP_503")
    assert view.referred[0].state == "referred" and view.referred[0].error_code == "ACCOUNT_CLOSED"
    assert (view.waiting_fen, view.referred_fen) == (17000, 10000)


def test_no_field_of_the_view_holds_an_account_number_a_name_an_address_or_the_sealed_words(journal, pay, clock):
    payment = pay(10000)
    refused = pay(10000)
    journal.mark_pending(payment.transaction_no, "TIMEOUT", f"posting for {ARREARS[1]} timed out")
    journal.mark_referred(refused.transaction_no, "ACCOUNT_CLOSED", f"{HOLDER}'s account {ARREARS[1]} is closed")

    view = outbox_view(journal, clock())

    everything = repr(view)
    for secret in (ARREARS[1], HOLDER, ADDRESS, "timed out", "is closed"):
        assert secret not in everything, f"{secret!r} is in the view"
    assert view.waiting[0].account_masked == ARREARS[1][:2] + "*" * (len(ARREARS[1]) - 6) + ARREARS[1][-4:]


def test_sync_now_after_the_network_came_back_posts_what_waited_and_says_so(journal, pay, sim, worker):
    payments = [pay(10000), pay(5000)]
    sim.inject("drop", path_prefix=PAYMENTS_PATH)
    worker.start()
    wait_for(lambda: journal.get(payments[0].transaction_no).attempts == 1)  # now in its minute of backoff
    sim.clear_faults()  # the network is back

    outcome = sync_now(journal, worker, wait_s=10)

    assert (outcome.running, outcome.posted, outcome.still_waiting, outcome.answered) == (True, 2, 0, True)
    assert {journal.get(p.transaction_no).state for p in payments} == {"posted"}
    assert outbox_view(journal, 0).waiting == ()


def test_sync_now_while_the_network_is_down_reports_the_failure_and_what_still_waits(journal, pay, sim, worker):
    pay(10000)
    sim.inject("http_500", path_prefix=PAYMENTS_PATH)
    worker.start()
    wait_for(lambda: worker.stats.failures == 1)

    outcome = sync_now(journal, worker, wait_s=10)

    assert outcome.failures == 1 and outcome.posted == 0 and outcome.still_waiting == 1
    assert outcome.last_error  # the worker's code for it, shown on the page


def test_sync_now_reports_a_refusal_as_referred_to_the_counter(journal, pay, sim, worker):
    sim.inject("drop", path_prefix=PAYMENTS_PATH)
    pay(10000, account=CLOSED)
    worker.start()
    wait_for(lambda: worker.stats.failures == 1)
    sim.clear_faults()

    outcome = sync_now(journal, worker, wait_s=10)

    assert (outcome.referred, outcome.still_waiting) == (1, 0)
    assert outbox_view(journal, 0).referred[0].error_code == "ACCOUNT_CLOSED"


def test_sync_now_without_a_running_worker_says_so_and_sends_nothing(journal, pay, sim, worker):
    pay(10000)
    outcome = sync_now(journal, worker, wait_s=10)  # never started
    assert (outcome.running, outcome.still_waiting) == (False, 1)
    assert sim.postings == []
    assert sync_now(journal, None).running is False


def test_sync_now_with_nothing_waiting_returns_at_once(journal, worker):
    worker.start()
    started = time.monotonic()
    outcome = sync_now(journal, worker, wait_s=10)
    assert outcome.running and outcome.still_waiting == 0 and not outcome.answered
    assert time.monotonic() - started < 1
