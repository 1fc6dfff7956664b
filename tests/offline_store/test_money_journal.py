"""The money journal: a payment's states, its notes, the outbox, numbering, the cash box."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime

import pytest

from contract.models import PaymentNote, PaymentResult
from offline_store.journal import (
    IN_BOX,
    MAYBE_IN_BOX,
    RETURNED_AFTER_CREDIT,
    DuplicateAcceptorRef,
    MoneyJournal,
    MoneyStacked,
    NoteOutsideCashIn,
    NothingPaid,
    PaymentStateError,
    PersonalDataPurged,
)

from journal_helpers import ARREARS, TERMINAL_ID


def opened(journal, due_fen=12000, cap_fen=50000):
    payment = journal.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区幸福路8号", due_fen, cap_fen=cap_fen)
    journal.start_cash_in(payment.transaction_no)
    return payment.transaction_no


def result_for(txn, receipt="R20261123-000001"):
    return PaymentResult(txn, "posted", "2026-11-23T10:15:02+08:00", receipt, 0, 0)


def test_a_payment_is_numbered_by_terminal_day_and_daily_sequence(journal):
    first = journal.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 100, cap_fen=1000)
    second = journal.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 100, cap_fen=1000)
    assert (first.transaction_no, second.transaction_no) == ("T0001-20261123-000001", "T0001-20261123-000002")
    assert first.state == "opened" and first.account_masked == "32****0017" and first.holder_masked == "张*明"


def test_numbers_stay_unique_across_a_restart_and_a_clock_that_goes_back(journal_path, key, clock):
    seen = []
    with MoneyJournal(journal_path, key, clock) as journal:
        seen.append(journal.open_payment(TERMINAL_ID, *ARREARS, "张", "城", 100, cap_fen=1000).transaction_no)
        clock.set(datetime(2026, 11, 24, 9, 0))
        seen.append(journal.open_payment(TERMINAL_ID, *ARREARS, "张", "城", 100, cap_fen=1000).transaction_no)
    clock.set(datetime(2026, 11, 23, 23, 0))  # the clock went back a day, and the kiosk restarted
    with MoneyJournal(journal_path, key, clock) as journal:
        for _ in range(2):
            seen.append(journal.open_payment(TERMINAL_ID, *ARREARS, "张", "城", 100, cap_fen=1000).transaction_no)
    assert seen == ["T0001-20261123-000001", "T0001-20261124-000001",
                    "T0001-20261123-000002", "T0001-20261123-000003"]


def test_each_stacked_note_is_a_row_and_adds_to_what_was_paid(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc-1/1")
    payment = journal.record_note(txn, 5000, "acc-1/2")
    assert payment.state == "cash_in" and payment.paid_fen == 15000
    assert [(n.denomination_fen, n.acceptor_ref) for n in journal.notes_of(txn)] == [(10000, "acc-1/1"),
                                                                                     (5000, "acc-1/2")]


def test_a_note_recorded_twice_with_the_same_reference_counts_once(journal):
    txn = opened(journal)
    first = journal.record_note(txn, 10000, "acc-1/1")
    again = journal.record_note(txn, 10000, "acc-1/1")
    assert again == first and again.paid_fen == 10000 and len(journal.notes_of(txn)) == 1
    assert journal.cash_box().counts == {10000: 1}


def test_a_reference_reused_for_another_note_is_a_bug_that_is_refused(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc-1/1")
    with pytest.raises(DuplicateAcceptorRef):
        journal.record_note(txn, 5000, "acc-1/1")


def test_a_note_repeated_after_commit_is_still_counted_once(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc-1/1")
    journal.commit(txn, paid_at=datetime.now().astimezone())
    assert journal.record_note(txn, 10000, "acc-1/1").paid_fen == 10000
    assert journal.unassigned_notes() == [] and journal.cash_box().counts == {10000: 1}


def test_a_note_credited_after_commit_is_refused_but_kept_in_the_cash_box(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc-1/1")
    journal.commit(txn, paid_at=datetime.now().astimezone())
    with pytest.raises(NoteOutsideCashIn) as caught:
        journal.record_note(txn, 2000, "acc-1/2")
    late = caught.value.unassigned
    assert (late.kind, late.transaction_no, late.denomination_fen) == (IN_BOX, txn, 2000)
    assert journal.get(txn).paid_fen == 10000  # the posted amount does not change under its idempotency key
    assert journal.cash_box().counts == {2000: 1, 10000: 1}
    with pytest.raises(NoteOutsideCashIn) as again:  # the same event again: still one row
        journal.record_note(txn, 2000, "acc-1/2")
    assert again.value.unassigned == late and len(journal.unassigned_notes()) == 1


def test_a_note_for_a_payment_the_journal_does_not_hold_is_kept_unassigned(journal):
    with pytest.raises(NoteOutsideCashIn) as caught:
        journal.record_note("T0001-20261123-999999", 5000, "acc-1/9")
    assert caught.value.unassigned.transaction_no is None
    assert "does not hold" in caught.value.unassigned.reason
    assert journal.cash_box().counts == {5000: 1}


def test_commit_sums_the_notes_and_writes_the_outbox_in_the_same_transaction(journal):
    txn = opened(journal, due_fen=12345)
    for ref, denomination in enumerate((10000, 5000, 100)):
        journal.record_note(txn, denomination, f"acc/{ref}")
    statements = []
    journal._db.conn.set_trace_callback(statements.append)
    payment = journal.commit(txn, paid_at="2026-11-23T10:15:00+08:00")
    journal._db.conn.set_trace_callback(None)
    assert payment.state == "committed" and payment.paid_fen == 15100
    assert payment.credited_to_balance_fen == 15100 - 12345 and payment.notes == ((100, 1), (5000, 1), (10000, 1))
    assert [p.transaction_no for p in journal.outbox()] == [txn]
    writes = [s.split()[0] for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "UPDATE", "INSERT")]
    assert writes == ["BEGIN", "UPDATE", "INSERT", "COMMIT"]  # state and outbox in one transaction


def test_paying_less_than_due_credits_nothing_to_the_balance(pay):
    assert pay(5000, due_fen=12000).credited_to_balance_fen == 0


def test_a_crash_inside_commit_leaves_neither_the_state_nor_the_outbox(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc/1")
    conn = journal._db.conn
    with conn:
        conn.execute("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk'); END")
    with pytest.raises(sqlite3.IntegrityError):
        journal.commit(txn, paid_at="2026-11-23T10:15:00+08:00")
    assert journal.get(txn).state == "cash_in" and journal.outbox() == []


def test_the_posting_request_is_the_same_body_every_time(journal, pay):
    payment = pay(10000, 10000, 500)
    first = journal.payment_request(payment.transaction_no)
    assert first == journal.payment_request(payment.transaction_no)
    assert first.account_no == "3201100017" and first.amount_fen == 20500
    assert first.notes == (PaymentNote(500, 1), PaymentNote(10000, 2))
    assert first.paid_at.startswith("2026-11-23T10:15:03")


def test_a_payment_with_no_note_is_cancelled_and_one_with_notes_cannot_be(journal):
    empty, paid = opened(journal), opened(journal)
    journal.record_note(paid, 10000, "acc/1")
    assert journal.cancel(empty).state == "cancelled"
    with pytest.raises(MoneyStacked):
        journal.cancel(paid)
    with pytest.raises(NothingPaid):
        journal.commit(opened(journal), paid_at="2026-11-23T10:15:00+08:00")


def test_posting_outcomes_move_the_payment_out_of_the_outbox_or_keep_it(journal, pay):
    posted, pending, referred = (pay().transaction_no for _ in range(3))
    assert journal.mark_posted(posted, result_for(posted)).receipt_no == "R20261123-000001"
    assert journal.mark_posted(posted, result_for(posted)).state == "posted"  # a replay changes nothing
    journal.mark_pending(pending, "TIMEOUT", "POST /api/v1/payments: timed out")
    journal.mark_referred(referred, "ACCOUNT_CLOSED", "This account is closed")
    assert [(p.transaction_no, p.state, p.attempts) for p in journal.outbox()] == [(pending, "pending", 1)]
    assert [(p.transaction_no, p.error_code) for p in journal.referred()] == [(referred, "ACCOUNT_CLOSED")]
    with pytest.raises(PaymentStateError):
        journal.mark_posted(posted, result_for(posted, receipt="R-other"))
    with pytest.raises(PaymentStateError):
        journal.start_cash_in(posted)


def test_a_power_up_note_already_credited_in_the_stacker_is_not_credited_again(journal):
    txn = opened(journal)
    journal.record_note(txn, 10000, "acc/1")
    outcome = journal.reconcile_power_up_note("stacker", 10000, already_credited=True)
    assert outcome.action == "none" and journal.last_note().acceptor_ref == "acc/1"
    assert journal.cash_box().counts == {10000: 1} and journal.get(txn).paid_fen == 10000


def test_a_power_up_note_never_credited_in_the_stacker_is_in_the_box_but_not_the_payment(journal):
    txn = opened(journal)
    outcome = journal.reconcile_power_up_note("stacker", 5000, already_credited=False)
    assert outcome.action == "unassigned" and outcome.transaction_no == txn
    assert outcome.unassigned.kind == IN_BOX and journal.get(txn).paid_fen == 0
    assert journal.cash_box().counts == {5000: 1}


def test_a_power_up_note_in_the_acceptor_is_returned_and_flagged_only_if_it_was_credited(journal):
    txn = opened(journal)
    assert journal.reconcile_power_up_note("acceptor", 5000, already_credited=False).action == "none"
    journal.record_note(txn, 5000, "acc/1")
    flagged = journal.reconcile_power_up_note("acceptor", 5000, already_credited=True)
    assert flagged.unassigned.kind == RETURNED_AFTER_CREDIT
    assert [n.kind for n in journal.cash_box().to_check] == [RETURNED_AFTER_CREDIT]


def test_an_unaccounted_note_is_listed_for_the_collection_count_not_counted(journal):
    txn = opened(journal)
    journal.record_unassigned_note(txn, None, "VEND VALID for a note whose escrow this driver did not see")
    box = journal.cash_box()
    assert box.counts == {} and [n.kind for n in box.to_check] == [MAYBE_IN_BOX]


def test_the_cash_box_counts_notes_since_the_last_collection(journal, pay):
    pay(10000, 10000, 5000)
    assert journal.cash_box().counts == {5000: 1, 10000: 2}
    collection = journal.record_collection(by="collector 07")
    assert (collection.counts, collection.total_fen) == ({5000: 1, 10000: 2}, 25000)
    pay(2000)
    box = journal.cash_box()
    assert (box.counts, box.amounts, box.total_fen, box.since) == ({2000: 1}, {2000: 2000}, 2000,
                                                                  collection.collected_at)
    assert journal.cash_box(since_collection=False).total_fen == 27000
    assert journal.last_collection().by == "collector 07"


def test_purging_erases_personal_data_of_old_posted_payments_and_keeps_the_money(journal, pay, clock):
    old, recent, kept = pay(10000, 5000), pay(2000), pay(1000)
    journal.mark_posted(old.transaction_no, result_for(old.transaction_no))
    clock.advance(91 * 86400)
    journal.mark_posted(recent.transaction_no, result_for(recent.transaction_no, "R2"))
    assert journal.purge_personal_data(older_than_days=90) == 1
    purged = journal.get(old.transaction_no)
    assert purged.purged and purged.paid_fen == 15000 and purged.notes == ((5000, 1), (10000, 1))
    assert purged.account_masked == "32****0017" and purged.holder_masked == "张*明"
    with pytest.raises(PersonalDataPurged):
        journal.personal_data(old.transaction_no)
    assert journal.personal_data(recent.transaction_no).holder == "张小明"
    assert journal.personal_data(kept.transaction_no).account_no == "3201100017"  # not posted: kept
    assert journal.cash_box().total_fen == 18000


def test_a_backup_taken_while_notes_are_recorded_is_consistent(journal, tmp_path):
    stop = threading.Event()

    def take_cash() -> None:
        n = 0
        while not stop.is_set():
            txn = opened(journal)
            for _ in range(3):
                n += 1
                journal.record_note(txn, 100, f"w/{n}")
            journal.commit(txn, paid_at="2026-11-23T10:15:00+08:00")

    writer = threading.Thread(target=take_cash)
    writer.start()
    try:
        backups = [journal.backup_to(tmp_path / "backup" / f"journal-{i}.sqlite") for i in range(5)]
    finally:
        stop.set()
        writer.join()
    for backup in backups:
        copy = sqlite3.connect(backup)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Each committed payment's amount is the sum of its notes, and each is in the outbox.
        mismatched = copy.execute(
            "SELECT COUNT(*) FROM payments p WHERE paid_fen != (SELECT COALESCE(SUM(denomination_fen), 0) "
            "FROM notes n WHERE n.transaction_no = p.transaction_no)").fetchone()[0]
        committed, queued = copy.execute("SELECT (SELECT COUNT(*) FROM payments WHERE state = 'committed'), "
                                         "(SELECT COUNT(*) FROM outbox)").fetchone()
        copy.close()
        assert mismatched == 0 and committed == queued
    assert not list((tmp_path / "backup").glob(".*tmp*"))


def test_the_journal_passes_its_integrity_check(journal, pay):
    pay(10000)
    assert journal.integrity_ok()
