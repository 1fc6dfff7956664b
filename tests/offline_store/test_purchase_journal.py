"""Card purchases in the money journal: the states, each step on disk before the next,
a repeated step that changes nothing, the cash that is a payment's, recovery, and the
upgrade of a v5 journal.  The billing system's answers come from the real simulator
through the real client (tests/offline_store/conftest.py)."""

from __future__ import annotations

import sqlite3

import pytest

from contract.errors import RequestRejected
from contract.models import PaymentNote
from contract.purchase_requests import CardReading, PurchaseOrder
from kiosk.backend.seed import DEMO_ACCOUNTS, DEMO_CARDS
from offline_store.device_archive import open_database
from offline_store.journal import (
    SCHEMA_VERSION,
    MoneyJournal,
    MoneyStacked,
    PaymentStateError,
    PurchaseStateError,
    purchase_number,
)

from journal_helpers import TERMINAL_ID

SERIAL = DEMO_CARDS["electricity_card"]  # electricity_arrears, 3 purchases so far
UTILITY, ACCOUNT_NO = DEMO_ACCOUNTS["electricity_arrears"]
READING = CardReading(SERIAL, UTILITY, ACCOUNT_NO, purchase_count=3, credit_fen=5000,
                      meter_purchase_count=3, meter_credit_fen=1200)


def on_disk(journal: MoneyJournal, purchase_no: str) -> tuple:
    """The purchase's state and outbox as another connection reads the file: what a power cut would leave."""
    with sqlite3.connect(journal.path) as other:
        state = other.execute("SELECT state FROM purchases WHERE purchase_no = ?", [purchase_no]).fetchone()[0]
        steps = [s for (s,) in other.execute("SELECT step FROM purchase_outbox WHERE purchase_no = ? ORDER BY id",
                                             [purchase_no])]
    return state, steps


def opened(journal: MoneyJournal, client, chosen_fen: int = 5000):
    quote = client.quote_purchase(READING)
    limits = quote.limits
    purchase = journal.open_purchase(TERMINAL_ID, READING, chosen_fen, min_amount_fen=limits.min_amount_fen,
                                     max_amount_fen=limits.max_amount_fen)
    return purchase


def ordered(journal: MoneyJournal, client, chosen_fen: int = 5000):
    purchase = opened(journal, client, chosen_fen)
    answer = client.order_purchase(PurchaseOrder(purchase.purchase_no, TERMINAL_ID, READING))
    return journal.record_order(purchase.purchase_no, answer)


def paid_in(journal: MoneyJournal, client, *notes_fen: int, clock=None):
    purchase = ordered(journal, client, sum(notes_fen))
    journal.start_purchase_cash(purchase.purchase_no)
    for index, fen in enumerate(notes_fen):
        journal.record_note(purchase.transaction_no, fen, f"acceptor-1/{purchase.purchase_no}/{index}")
    return journal.commit_purchase_cash(purchase.purchase_no, paid_at="2026-11-23T10:16:40+08:00")


def test_a_purchase_goes_from_opened_to_confirmed_and_each_step_is_on_disk_before_the_next(journal, client):
    purchase = opened(journal, client)
    no = purchase.purchase_no
    assert on_disk(journal, no) == ("opened", [])
    assert purchase.purchase_count is None  # not ordered yet: nothing fixed

    purchase = journal.record_order(no, client.order_purchase(PurchaseOrder(no, TERMINAL_ID, READING)))
    assert (purchase.state, purchase.purchase_count) == ("opened", 4)
    journal.start_purchase_cash(no)
    assert on_disk(journal, no) == ("cash_in", [])
    journal.record_note(purchase.transaction_no, 5000, "acceptor-1/1")
    journal.commit_purchase_cash(no, paid_at="2026-11-23T10:16:40+08:00")
    assert on_disk(journal, no) == ("committed", ["payment"])

    request = journal.purchase_payment_request(no)
    assert (request.amount_fen, request.notes, request.paid_at) == (5000, (PaymentNote(5000, 1),),
                                                                     "2026-11-23T10:16:40+08:00")
    purchase = journal.record_issue(no, client.pay_purchase(request))
    assert on_disk(journal, no) == ("issued", [])
    assert purchase.write_token.update.purchase_count == 4 and purchase.receipt_no

    journal.begin_write(no)
    purchase = journal.record_write(no, "written", card_count=4, card_credit_fen=5000)
    assert on_disk(journal, no) == ("written", ["confirm"])
    answer = client.confirm_write(journal.write_confirmation(no))
    purchase = journal.record_confirmed(no, answer.written_at)
    assert on_disk(journal, no) == ("confirmed", [])
    assert (purchase.write_attempts, purchase.card_count_after, purchase.finished_at is not None) == (1, 4, True)


def test_every_step_repeated_changes_nothing(journal, client):
    purchase = paid_in(journal, client, 5000)
    no = purchase.purchase_no
    again = journal.commit_purchase_cash(no, paid_at="2026-11-23T11:00:00+08:00")
    assert again.paid_at == "2026-11-23T10:16:40+08:00"  # the body posted stays the first one
    issued = client.pay_purchase(journal.purchase_payment_request(no))
    first = journal.record_issue(no, issued)
    assert journal.record_issue(no, issued) == first
    assert journal.record_order(no, client.purchase_status(no)) == first  # a late order answer
    journal.begin_write(no)
    written = journal.record_write(no, "written", card_count=4, card_credit_fen=5000)
    assert journal.record_write(no, "already_written", card_count=4, card_credit_fen=5000) == written
    done = journal.record_confirmed(no, "2026-11-23T10:17:00+08:00")
    assert journal.record_confirmed(no, "2026-11-23T10:18:00+08:00") == done
    assert journal.purchase_outbox() == []


def test_the_cash_is_a_payment_row_whose_notes_count_once_and_never_enter_the_payment_outbox(journal, client):
    purchase = ordered(journal, client, 5000)
    journal.start_purchase_cash(purchase.purchase_no)
    txn = purchase.transaction_no
    journal.record_note(txn, 5000, "acceptor-1/7")
    journal.record_note(txn, 5000, "acceptor-1/7")  # the driver's event seen twice
    assert journal.get(txn).paid_fen == 5000 and journal.cash_box().counts == {5000: 1}

    with pytest.raises(PaymentStateError, match="posted by the purchase outbox"):
        journal.commit(txn, paid_at="2026-11-23T10:16:40+08:00")  # the bill-payment path
    assert journal.get(txn).state == "cash_in" and journal.outbox() == []

    journal.commit_purchase_cash(purchase.purchase_no, paid_at="2026-11-23T10:16:40+08:00")
    assert journal.outbox() == [] and journal.get(txn).state == "committed"
    journal.record_issue(purchase.purchase_no, client.pay_purchase(journal.purchase_payment_request(purchase.purchase_no)))
    payment = journal.get(txn)
    assert (payment.state, payment.receipt_no) == ("posted", journal.get_purchase(purchase.purchase_no).receipt_no)


def test_the_order_must_come_before_the_cash_and_money_stacked_is_never_cancelled(journal, client):
    purchase = opened(journal, client)
    with pytest.raises(PurchaseStateError, match="before the billing system took its order"):
        journal.start_purchase_cash(purchase.purchase_no)
    assert journal.cancel_purchase(purchase.purchase_no, "UNWRITTEN_PURCHASE").state == "cancelled"
    assert journal.get(purchase.transaction_no).state == "cancelled"

    paid = ordered(journal, client)
    journal.start_purchase_cash(paid.purchase_no)
    journal.record_note(paid.transaction_no, 1000, "acceptor-1/9")
    with pytest.raises(MoneyStacked):
        journal.cancel_purchase(paid.purchase_no)


def test_recovery_commits_a_purchase_a_crash_left_taking_cash_and_cancels_one_without_notes(journal, client, clock):
    with_money = ordered(journal, client, 2000)
    journal.start_purchase_cash(with_money.purchase_no)
    clock.advance(5)
    journal.record_note(with_money.transaction_no, 2000, "acceptor-1/11")
    empty = opened(journal, client)

    cases = journal.recover()

    assert cases == []  # no bill payment to finish: the purchases' cash is theirs
    recovered = journal.get_purchase(with_money.purchase_no)
    assert (recovered.state, recovered.paid_fen, recovered.recovered) == ("committed", 2000, True)
    assert [(e.purchase_no, e.step) for e in journal.purchase_outbox()] == [(with_money.purchase_no, "payment")]
    assert journal.get_purchase(empty.purchase_no).state == "cancelled"
    assert journal.outbox() == [] and journal.unfinished() == []


def test_a_failed_write_leaves_it_paid_not_written_until_a_rewrite_puts_it_on_the_card(journal, client):
    purchase = paid_in(journal, client, 5000)
    no = purchase.purchase_no
    journal.record_issue(no, client.pay_purchase(journal.purchase_payment_request(no)))
    journal.begin_write(no)
    failed = journal.record_write(no, "unknown", reason="CARD_PULLED", detail="the card left during the write")
    assert (failed.state, failed.paid_not_written, failed.write_reason) == ("write_failed", True, "CARD_PULLED")
    assert journal.purchases_of_card(SERIAL)[0].purchase_no == no

    journal.begin_write(no)
    rewritten = journal.record_write(no, "already_written", card_count=4, card_credit_fen=5000)
    assert (rewritten.state, rewritten.write_attempts, rewritten.on_card) == ("rewritten", 2, True)
    assert [e.step for e in journal.purchase_outbox()] == ["confirm"]


def test_a_read_back_that_does_not_show_the_token_is_not_taken_for_a_write(journal, client):
    purchase = paid_in(journal, client, 5000)
    no = purchase.purchase_no
    journal.record_issue(no, client.pay_purchase(journal.purchase_payment_request(no)))
    with pytest.raises(ValueError, match="that is not on the card"):
        journal.record_write(no, "written", card_count=3, card_credit_fen=5000)
    assert journal.get_purchase(no).state == "issued"


def test_a_purchase_the_customer_left_before_its_token_came_is_paid_not_written(journal, client, sim):
    sim.inject("token_never_issued", count=1)
    purchase = paid_in(journal, client, 5000)
    no = purchase.purchase_no
    paid = journal.record_paid(no, client.pay_purchase(journal.purchase_payment_request(no)))
    assert paid.state == "paid" and paid.write_token is None
    with pytest.raises(PurchaseStateError, match="no write token yet"):
        journal.begin_write(no)
    left = journal.mark_write_failed(no, "TOKEN_NOT_ISSUED")
    assert (left.state, left.paid_not_written) == ("write_failed", True)
    sim.issue_held_tokens()
    later = journal.record_issue(no, client.purchase_status(no, SERIAL))
    assert later.state == "write_failed" and later.write_token is not None  # written at the next insertion


def test_a_refusal_refers_the_purchase_with_its_money_kept_for_the_counter(journal, client, sim):
    sim.inject("issue_refused", count=1)
    purchase = paid_in(journal, client, 5000)
    with pytest.raises(RequestRejected) as refusal:
        client.pay_purchase(journal.purchase_payment_request(purchase.purchase_no))
    referred = journal.mark_purchase_referred(purchase.purchase_no, refusal.value.code, refusal.value.detail)
    assert (referred.state, referred.paid_fen, referred.error_code) == ("referred", 5000, "ISSUE_REFUSED")
    assert journal.purchase_outbox() == []
    assert [p.transaction_no for p in journal.referred()] == [purchase.transaction_no]
    assert journal.cash_box().counts == {5000: 1}  # the note is in the box all the same


def test_another_terminals_purchase_is_journaled_for_its_rewrite_here_without_cash(journal, client):
    issued = client.pay_purchase(journal.purchase_payment_request(paid_in(journal, client, 5000).purchase_no))
    other = MoneyJournal(journal.path.with_name("other.sqlite"), journal._key, journal._clock)
    try:
        record = other.record_rewrite_of(issued)
        assert (record.state, record.method, record.transaction_no, record.paid_fen) == (
            "write_failed", "elsewhere", None, 0)
        assert other.record_rewrite_of(issued) == record
        assert other.cash_box().counts == {}
    finally:
        other.close()


def test_a_purchase_number_is_the_terminal_and_the_cash_rows_sequence(journal, client):
    purchase = opened(journal, client)
    assert purchase.purchase_no == purchase_number(TERMINAL_ID, purchase.transaction_no)
    assert purchase.purchase_no == f"{TERMINAL_ID}-P{purchase.transaction_no[len(TERMINAL_ID) + 1:]}"
    with pytest.raises(ValueError, match="at most 15 characters"):
        purchase_number("KS-HALL-EAST-000017", "KS-HALL-EAST-000017-20261123-000001")


def test_a_v5_journal_is_upgraded_with_its_payments_and_collections_kept(journal_path, key, clock, pay, journal):
    payment = pay(10000)
    collection = journal.record_collection("collector 07")
    journal.close()
    db = open_database(journal_path)  # take the file back to what v5 wrote
    db.execute("DROP TABLE mobile_orders")  # v7
    db.execute("DROP TABLE purchase_outbox")
    db.execute("DROP TABLE purchases")
    db.execute("PRAGMA user_version = 5")
    db.conn.close()

    with MoneyJournal(journal_path, key, clock) as upgraded:
        assert upgraded._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert upgraded.get(payment.transaction_no).paid_fen == 10000
        assert upgraded.outbox()[0].transaction_no == payment.transaction_no
        assert upgraded.collections()[0].number == collection.number
        assert upgraded.unfinished_purchases() == [] and upgraded.integrity_ok()
