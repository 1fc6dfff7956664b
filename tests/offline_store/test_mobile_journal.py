"""Mobile payment orders in the money journal (offline_store/journal/mobile_orders.py): journaled
before they are made, every answer of the real simulator recorded, a paid order's one receipt
kept, nothing queued for posting, the account sealed -- and a v6 file upgraded to hold them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contract.mobile import PaymentMethod
from offline_store.device_archive import open_database
from offline_store.journal import (
    SCHEMA_VERSION,
    MobileOrderState,
    MobileOrderStateError,
    MoneyJournal,
    UnknownMobileOrder,
)

from journal_helpers import ARREARS, TERMINAL_ID

UTILITY, ACCOUNT = ARREARS
QR = PaymentMethod.QR_SHOWN


def _open(journal: MoneyJournal, amount_fen: int = 23758, method=QR):
    return journal.open_mobile_order(TERMINAL_ID, UTILITY, ACCOUNT, amount_fen, method)


def _made(journal, client, amount_fen: int = 23758):
    record = _open(journal, amount_fen)
    return record, journal.record_mobile_order(record.order_no, client.create_mobile_order(
        journal.mobile_order_request(record.order_no)))


def test_an_order_is_journaled_opened_with_its_number_and_its_account_sealed(journal, journal_path):
    record = _open(journal)
    assert record.order_no == "T0001-M20261123-000001"
    assert (record.state, record.final, record.account_masked) == (MobileOrderState.OPENED, False, "32****0017")
    assert journal.mobile_account_no(record.order_no) == ACCOUNT
    assert ACCOUNT.encode() not in journal_path.read_bytes() + journal_path.with_name("journal.sqlite-wal").read_bytes()
    assert journal.mobile_orders_to_follow() == [record]


def test_a_journal_whose_only_sealed_data_is_a_mobile_order_is_known_to_need_its_key(journal, journal_path):
    from offline_store.journal_file import file_holds_personal_data

    assert not file_holds_personal_data(journal_path)
    _open(journal)  # no cash payment at all: the order's account number is the only sealed value
    journal.close()
    assert file_holds_personal_data(journal_path)  # a lost key is refused, never silently replaced


def test_order_numbers_share_the_payments_sequence_so_none_repeats(journal):
    payment = journal.open_payment(TERMINAL_ID, UTILITY, ACCOUNT, "张小明", "城东区", 100, cap_fen=200)
    order = _open(journal)
    assert payment.transaction_no.endswith("-000001") and order.order_no.endswith("-000002")


def test_the_create_body_is_the_same_on_every_attempt(journal, clock):
    record = _open(journal)
    first = journal.mobile_order_request(record.order_no)
    clock.advance(30)
    assert journal.mobile_order_request(record.order_no).to_body() == first.to_body()
    assert first.created_at == record.created_at


def test_a_value_the_contract_cannot_carry_is_refused_before_anything_is_journaled(journal):
    with pytest.raises(ValueError, match="amount_fen"):
        _open(journal, amount_fen=2_000_000)
    assert journal.mobile_orders_to_follow() == []


def test_a_paid_order_keeps_its_one_receipt_and_is_queued_for_no_posting(journal, client, sim):
    record, made = _made(journal, client)
    assert made.state is MobileOrderState.CREATED and made.qr_payload and made.deadline_at is not None
    sim.pay(record.order_no)
    paid = journal.record_mobile_order(record.order_no, client.mobile_order_status(record.order_no))
    assert (paid.state, paid.final, paid.posted_to) == (MobileOrderState.PAID, True, "account")
    assert paid.receipt_no and "*" in paid.provider_ref_masked
    again = journal.record_mobile_order(record.order_no, client.mobile_order_status(record.order_no))
    assert (again.receipt_no, again.asked) == (paid.receipt_no, paid.asked + 1)
    assert journal.outbox() == [] and journal.purchase_outbox() == []
    assert [p["receipt_no"] for p in sim.postings if p["transaction_no"] == record.order_no] == [paid.receipt_no]
    assert journal.mobile_orders_to_follow() == []


def test_a_cancelled_order_that_is_paid_late_is_recorded_paid(journal, client, sim):
    record, _ = _made(journal, client)
    journal.mark_mobile_asked(record.order_no, "cancel")
    cancelled = journal.record_mobile_order(record.order_no, client.cancel_mobile_order(record.order_no))
    assert (cancelled.state, cancelled.final) == (MobileOrderState.CANCELLED, False)
    assert cancelled.cancel_asked_at is not None
    sim.pay_late(record.order_no)
    paid = journal.record_mobile_order(record.order_no, client.mobile_order_status(record.order_no))
    assert paid.state is MobileOrderState.PAID and paid.receipt_no


def test_an_answer_contradicting_a_final_order_is_refused_and_the_row_kept(journal, client, sim):
    record, _ = _made(journal, client)
    sim.pay(record.order_no)
    paid_answer = client.mobile_order_status(record.order_no)
    journal.record_mobile_order(record.order_no, paid_answer)
    with pytest.raises(MobileOrderStateError, match="final"):
        journal.record_mobile_order(record.order_no, replace(paid_answer, receipt_no="M20261123-999999"))
    assert journal.get_mobile_order(record.order_no).receipt_no == paid_answer.receipt_no


def test_an_expired_order_cannot_go_back_to_waiting(journal, client, sim):
    record, made = _made(journal, client)
    waiting = client.mobile_order_status(record.order_no)
    sim.mobile.clock.advance(121)
    journal.record_mobile_order(record.order_no, client.mobile_order_status(record.order_no))
    with pytest.raises(MobileOrderStateError, match="go back to created"):
        journal.record_mobile_order(record.order_no, waiting)
    assert journal.get_mobile_order(record.order_no).state is MobileOrderState.EXPIRED


def test_an_answer_about_another_order_or_amount_is_refused(journal, client):
    record, _ = _made(journal, client)
    other = _open(journal, amount_fen=100)
    with pytest.raises(ValueError, match="not the order"):
        journal.record_mobile_order(other.order_no, client.mobile_order_status(record.order_no))
    assert journal.get_mobile_order(other.order_no).state is MobileOrderState.OPENED


def test_never_made_is_final_and_only_from_opened(journal, client):
    record = _open(journal)
    gone = journal.mark_mobile_not_created(record.order_no, "ORDER_NOT_FOUND")
    assert (gone.state, gone.final, gone.error_code) == (MobileOrderState.NOT_CREATED, True, "ORDER_NOT_FOUND")
    made, _ = _made(journal, client)
    with pytest.raises(MobileOrderStateError):
        journal.mark_mobile_not_created(made.order_no, "ORDER_NOT_FOUND")


def test_a_cancel_is_refused_for_a_scanned_order_and_a_reverse_for_a_shown_one(journal):
    shown = _open(journal)
    scanned = _open(journal, method=PaymentMethod.CODE_SCANNED)
    with pytest.raises(MobileOrderStateError):
        journal.mark_mobile_asked(shown.order_no, "reverse")
    with pytest.raises(MobileOrderStateError):
        journal.mark_mobile_asked(scanned.order_no, "cancel")
    assert journal.mark_mobile_asked(scanned.order_no, "reverse").reverse_asked_at is not None


def test_a_failed_ask_counts_and_keeps_the_state(journal):
    record = _open(journal)
    failed = journal.mark_mobile_failed_ask(record.order_no, "MALFORMED_REPLY", "status: not JSON")
    assert (failed.state, failed.attempts, failed.error_code) == (MobileOrderState.OPENED, 1, "MALFORMED_REPLY")
    with pytest.raises(UnknownMobileOrder):
        journal.mark_mobile_failed_ask("T0001-M20261123-999999", "X")


def test_retention_purges_the_account_of_final_orders_only(journal, clock):
    done = _open(journal)
    journal.mark_mobile_not_created(done.order_no, "ORDER_NOT_FOUND")
    open_one = _open(journal)
    clock.advance(400 * 86400)
    assert journal.purge_personal_data(older_than_days=365) == 1
    assert journal.get_mobile_order(done.order_no).purged
    with pytest.raises(MobileOrderStateError, match="purged"):
        journal.mobile_account_no(done.order_no)
    assert journal.mobile_account_no(open_one.order_no) == ACCOUNT


def test_a_v6_journal_with_money_in_it_is_upgraded_to_hold_mobile_orders(journal_path, key, clock):
    with MoneyJournal(journal_path, key, clock) as journal:
        txn = journal.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 12000, cap_fen=50000).transaction_no
        journal.start_cash_in(txn)
        journal.record_note(txn, 10000, "acc/1")
        journal.commit(txn, paid_at="2026-11-23T10:15:00+08:00")
    db = open_database(journal_path)  # take the file back to what v6 was
    db.execute("DROP TABLE mobile_orders")
    db.execute("PRAGMA user_version = 6")
    db.conn.close()

    with MoneyJournal(journal_path, key, clock) as journal:
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert (journal.get(txn).state, journal.cash_box().counts) == ("committed", {10000: 1})
        order = _open(journal)
        assert order.order_no.endswith("-000002")  # the sequence went on from the v6 payments
