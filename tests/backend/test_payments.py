"""Payments are posted exactly once, whatever happens to the answer."""

from __future__ import annotations

import time

import pytest

from contract.errors import (
    AccountClosed,
    AccountNotFound,
    BackendTimeout,
    BackendUnreachable,
    RequestRejected,
)
from contract.models import PaymentNote
from kiosk.backend.seed import DEMO_ACCOUNTS

PAYMENTS_PATH = "/api/v1/payments"


def test_payment_is_posted_with_a_receipt(client, sim, payment):
    arrears = client.lookup_account(*DEMO_ACCOUNTS["electricity_arrears"]).arrears_fen
    result = client.post_payment(payment())
    assert result.status == "posted" and result.receipt_no and not result.replayed
    assert result.posted_at.endswith("+08:00")
    # No change is given: what is paid beyond the arrears is credited.
    assert result.arrears_after_fen == max(0, arrears - 30000)
    assert result.balance_after_fen == max(0, 30000 - arrears)
    assert [p["transaction_no"] for p in sim.postings] == ["T0001-20261123-0001"]


def test_same_key_posted_twice_is_posted_once_and_replayed(client, sim, payment):
    first = client.post_payment(payment())
    second = client.post_payment(payment())
    assert len(sim.postings) == 1
    assert second.replayed and not first.replayed
    assert second.receipt_no == first.receipt_no
    assert second.balance_after_fen == first.balance_after_fen


def test_same_key_with_a_different_body_is_a_conflict(client, sim, payment):
    client.post_payment(payment())
    with pytest.raises(RequestRejected) as caught:
        client.post_payment(payment(amount_fen=5000, notes=(PaymentNote(5000, 1),)))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"
    assert caught.value.reason_key == "error.request_rejected" and not caught.value.retryable
    assert len(sim.postings) == 1


def test_answer_lost_after_posting_is_recovered_by_the_retry(client, sim, payment):
    sim.inject("drop_after_commit", count=1, path_prefix=PAYMENTS_PATH)
    result = client.post_payment(payment())
    assert result.replayed  # the retry learnt what the first attempt did
    assert len(sim.postings) == 1


def test_answer_lost_with_no_retry_left_is_posted_once_when_sent_again(
    make_client, sim, payment
):
    client = make_client(retries=0)
    sim.inject("drop_after_commit", count=1, path_prefix=PAYMENTS_PATH)
    with pytest.raises(BackendUnreachable) as caught:
        client.post_payment(payment())
    assert caught.value.retryable  # keep it and post again: never drop it
    assert len(sim.postings) == 1
    assert client.post_payment(payment()).replayed
    assert len(sim.postings) == 1


def test_late_answer_then_retry_posts_once(make_client, sim, payment):
    client = make_client(read_timeout_s=0.2, retries=1)
    sim.inject("delay", count=1, seconds=0.5, path_prefix=PAYMENTS_PATH)
    result = client.post_payment(payment())  # the retry overtakes the late first attempt
    assert result.status == "posted"
    time.sleep(0.5)  # let the late first attempt reach the ledger too
    assert client.payment_status(result.transaction_no).receipt_no == result.receipt_no
    assert len(sim.postings) == 1


def test_timeout_on_every_attempt_surfaces_as_timeout(make_client, sim, payment):
    client = make_client(read_timeout_s=0.2, retries=0)
    sim.inject("delay", count=1, seconds=0.4, path_prefix=PAYMENTS_PATH)
    with pytest.raises(BackendTimeout):
        client.post_payment(payment())


def test_payment_status_returns_the_posted_result(client, payment):
    posted = client.post_payment(payment())
    status = client.payment_status(posted.transaction_no)
    assert status == posted  # replayed is False for both


def test_payment_status_of_an_unknown_transaction_is_not_found(client):
    with pytest.raises(RequestRejected) as caught:
        client.payment_status("T0001-20261123-9999")
    assert caught.value.code == "PAYMENT_NOT_FOUND"


def test_notes_that_do_not_add_up_are_an_invalid_amount(client, sim, payment):
    with pytest.raises(RequestRejected) as caught:
        client.post_payment(payment(amount_fen=25000))
    assert caught.value.code == "AMOUNT_INVALID" and not caught.value.retryable
    assert sim.postings == []


def test_payment_to_a_closed_account_is_refused(client, payment):
    utility, account_no = DEMO_ACCOUNTS["electricity_closed"]
    with pytest.raises(AccountClosed):
        client.post_payment(payment(utility=utility, account_no=account_no))


def test_payment_to_an_unknown_account_is_refused(client, payment):
    utility, account_no = DEMO_ACCOUNTS["electricity_unknown"]
    with pytest.raises(AccountNotFound):
        client.post_payment(payment(utility=utility, account_no=account_no))


def test_posted_payment_settles_the_bills_it_covers(client, payment):
    utility, account_no = DEMO_ACCOUNTS["water_arrears"]
    before = client.lookup_account(utility, account_no)
    amount = before.arrears_fen + (100 - before.arrears_fen % 100)  # whole yuan, no change
    notes = (PaymentNote(100, amount // 100),)
    client.post_payment(
        payment(utility=utility, account_no=account_no, amount_fen=amount, notes=notes)
    )
    after = client.lookup_account(utility, account_no)
    assert after.arrears_fen == 0
    assert after.balance_fen == before.balance_fen + amount - before.arrears_fen
    assert all(bill.status == "paid" for bill in after.bills)
