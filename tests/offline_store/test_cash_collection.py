"""The cash box at collection (清机): test notes, counted figures, the difference, one transaction, the report."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offline_store.cash_report import report
from offline_store.device_archive import open_database
from offline_store.pii import PiiKey
from offline_store.journal import (
    MAYBE_IN_BOX,
    SCHEMA_VERSION,
    TEST_NOTE,
    BoxChanged,
    DuplicateAcceptorRef,
    MoneyJournal,
    UnknownCollection,
)

CHILD = Path(__file__).with_name("collection_crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


def box_figures(journal: MoneyJournal) -> tuple:
    box = journal.cash_box()
    return box.counts, box.test_notes, box.since, [n.id for n in box.to_check]


# ---------------------------------------------------------------- test notes


def test_a_test_note_is_counted_in_the_box_but_belongs_to_no_payment(journal, pay):
    payment = pay(10000)
    note = journal.record_test_note(5000, "acceptor-1/900", by="zhao.min")

    assert (note.kind, note.denomination_fen, note.transaction_no) == (TEST_NOTE, 5000, None)
    assert "zhao.min" in note.reason and "device test" in note.reason
    box = journal.cash_box()
    assert box.counts == {5000: 1, 10000: 1} and box.total_fen == 15000
    assert box.test_notes == ((5000, 1),) and box.credited == ((10000, 1),) and box.unassigned == ()
    assert box.to_check == ()  # a test note is no doubt: it is surely in the box
    assert journal.get(payment.transaction_no).paid_fen == 10000


def test_a_test_note_reported_twice_is_one_note(journal):
    first = journal.record_test_note(10000, "acceptor-1/7", by="zhao.min")
    again = journal.record_test_note(10000, "acceptor-1/7", by="zhao.min")
    assert again == first
    assert journal.cash_box().test_notes == ((10000, 1),)


def test_a_note_credited_to_a_payment_cannot_be_a_test_note_as_well(journal, pay):
    pay(10000)  # acceptor-1/1
    with pytest.raises(DuplicateAcceptorRef, match="credited to payment T0001-20261123-000001"):
        journal.record_test_note(10000, "acceptor-1/1", by="zhao.min")
    assert journal.cash_box().counts == {10000: 1}


@pytest.mark.parametrize("denomination, ref, by, message", [
    (0, "r/1", "zhao.min", "denomination_fen must be an integer number of fen >= 1"),
    (5000, "", "zhao.min", "needs its acceptor reference"),
    (5000, "r/1", " ", "needs the name of the technician"),
], ids=["no-value", "no-ref", "nobody"])
def test_a_test_note_without_its_value_reference_or_technician_is_refused(journal, denomination, ref, by, message):
    with pytest.raises(ValueError, match=message):
        journal.record_test_note(denomination, ref, by=by)
    assert journal.unassigned_notes() == []


# ---------------------------------------------------------------- collections


def test_a_collection_records_the_expected_and_counted_figures_the_difference_and_the_note(journal, pay, clock):
    pay(10000, 10000, 5000)
    journal.record_test_note(2000, "acceptor-1/test", by="zhao.min")
    clock.advance(60)
    collection = journal.record_collection("wang.li", {10000: 2, 5000: 0, 2000: 1, 1000: 1},
                                           "[doubt_absent] Note to check was not in the box")

    assert collection.number == "C-20261123-0001"
    assert collection.by == "wang.li" and collection.since is None and collection.collected_at == clock()
    assert collection.expected == {2000: 1, 5000: 1, 10000: 2}
    assert collection.counted == {1000: 1, 2000: 1, 5000: 0, 10000: 2}
    assert (collection.expected_fen, collection.counted_fen, collection.difference_fen) == (27000, 23000, -4000)
    assert collection.differences == {1000: 1, 2000: 0, 5000: -1, 10000: 0}
    assert collection.note == "[doubt_absent] Note to check was not in the box"
    assert collection.test_notes == ((2000, 1),)
    assert journal.collection("C-20261123-0001") == collection
    assert journal.last_collection() == collection


def test_after_a_collection_the_counters_start_again_and_the_next_period_starts_there(journal, pay, clock):
    pay(10000)
    first = journal.record_collection("wang.li", {10000: 1})
    assert journal.cash_box().counts == {} and journal.cash_box().since == first.collected_at
    clock.advance(3600)
    pay(5000)
    journal.record_test_note(100, "acceptor-1/t", by="zhao.min")
    second = journal.record_collection("wang.li", {5000: 1, 100: 1})

    assert second.since == first.collected_at and second.number == "C-20261123-0002"
    assert second.expected == {100: 1, 5000: 1} and second.difference_fen == 0
    assert [c.number for c in journal.collections()] == [second.number, first.number]  # newest first
    assert journal.collection(first.number).expected == {10000: 1}  # a past period reads the same again
    assert journal.cash_box(since_collection=False).counts == {100: 1, 5000: 1, 10000: 1}


def test_without_counted_figures_the_count_is_taken_to_be_the_journals(journal, pay):
    pay(10000, 5000)
    collection = journal.record_collection(by="collector 07")
    assert collection.counted == collection.expected == {5000: 1, 10000: 1} and collection.difference_fen == 0


def test_the_doubts_a_collection_settled_stay_with_it_and_leave_the_box(journal, pay):
    payment = pay(10000)
    journal.record_unassigned_note(payment.transaction_no, None, "VEND VALID without escrow")
    journal.reconcile_power_up_note("stacker", 5000, already_credited=False)  # in the box, in no payment
    collection = journal.record_collection("wang.li", {10000: 1, 5000: 1})

    assert [d.kind for d in collection.doubts] == [MAYBE_IN_BOX] and collection.to_check == 1
    assert collection.unassigned == ((5000, 1),)
    assert journal.cash_box().to_check == ()
    assert journal.collection(collection.number).doubts == collection.doubts


@pytest.mark.parametrize("counted, message", [
    ({10000: -1}, "count of 10000-fen notes must be a whole number of notes, 0 or more; got -1"),
    ({10000: "2"}, "count of 10000-fen notes must be a whole number of notes, 0 or more; got '2'"),
    ({10000: True}, "count of 10000-fen notes must be a whole number"),
    ({10000: 1, 0: 1}, "a counted denomination must be an integer number of fen >= 1, got 0"),
    ({5000: 1}, r"no count for the 10000-fen notes the journal expects \(1\): count them, 0 if the box had none"),
    ([(10000, 1)], "counted must be a dict"),
], ids=["negative", "text", "bool", "no-denomination", "missing", "not-a-dict"])
def test_a_count_that_is_not_a_number_of_notes_is_refused_and_nothing_is_recorded(journal, pay, counted, message):
    pay(10000)
    before = box_figures(journal)
    with pytest.raises(ValueError, match=message):
        journal.record_collection("wang.li", counted)
    assert journal.collections() == [] and box_figures(journal) == before


def test_a_collection_is_refused_when_the_journal_expects_other_figures_than_the_collector_saw(journal, pay):
    pay(10000)
    shown = journal.cash_box().counts
    pay(5000)  # a note journaled while the collector counted
    with pytest.raises(BoxChanged, match="check the count against the new figures") as refused:
        journal.record_collection("wang.li", {10000: 1}, expected=shown)
    assert refused.value.expected == {5000: 1, 10000: 1}
    assert journal.collections() == []
    assert journal.record_collection("wang.li", {10000: 1, 5000: 1}, expected=refused.value.expected)


def test_a_collection_needs_the_collector(journal):
    with pytest.raises(ValueError, match="collector's name"):
        journal.record_collection(" ", {})


def test_an_unknown_collection_number_says_so(journal):
    with pytest.raises(UnknownCollection, match="no collection 'C-20261123-0009'"):
        journal.collection("C-20261123-0009")


# ---------------------------------------------------------------- entirely or not at all


def test_a_write_failing_inside_the_collections_transaction_records_nothing(journal, pay):
    pay(10000, 5000)
    before = box_figures(journal)
    # The disk refuses the collection's own row, after the box was read inside the same transaction.
    journal._db.execute("CREATE TEMP TRIGGER refuse AFTER INSERT ON main.collections "
                        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk I/O error"):
        journal.record_collection("wang.li", {10000: 1, 5000: 0}, "short by 50")
    assert journal.collections() == [] and box_figures(journal) == before

    journal._db.execute("DROP TRIGGER temp.refuse")
    assert journal.record_collection("wang.li", {10000: 1, 5000: 0}, "short by 50").difference_fen == -5000


def run_child(journal_path: Path, key_path: Path, seed: int, *extra: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, str(CHILD), str(journal_path), str(key_path), str(seed), *extra],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    child.stdout.close()


def counts(text: str) -> dict[int, int]:
    return {int(d): c for d, c in json.loads(text).items()}


def test_a_power_cut_at_any_statement_of_a_collection_records_it_entirely_or_not_at_all(tmp_path):
    """Killed before each SQL statement of the collection in turn, until one gets through all of them."""
    recorded = []
    for stall_at in range(1, 100):
        folder = tmp_path / f"cut-{stall_at}"
        key = PiiKey.create(folder / "journal.key")
        child = run_child(folder / "journal.sqlite", folder / "journal.key", 7, str(stall_at))
        try:
            _, expected, counted = child.stdout.readline().split()
            where = child.stdout.readline().split()
        finally:
            kill(child)
        assert counts(counted) != counts(expected)  # seed 7 miscounts: a half-written count would show
        with MoneyJournal(folder / "journal.sqlite", key) as journal:
            assert journal.integrity_ok()
            found = journal.collections()
            if found:  # entirely: the figures, the difference, the note, and the counters restarted
                (collection,) = found
                assert (collection.expected, collection.counted) == (counts(expected), counts(counted))
                assert collection.note == "[recounted] Recounted by two people"
                assert journal.cash_box().counts == {}
            else:  # not at all: the box still holds what it held
                assert journal.cash_box().counts == counts(expected)
        recorded.append(bool(found))
        if where == ["done"]:
            break
    assert len(recorded) > 5 and recorded[-1]  # the last run got through every statement
    # Cut before any statement up to its commit, the collection is not there at all.
    assert not any(recorded[:-1])


@pytest.mark.parametrize("seed, lines, delay_s", [(1, 1, 0.0), (2, 4, 0.002), (3, 9, 0.005), (4, 20, 0.011)])
def test_a_process_killed_at_any_moment_leaves_every_collection_whole_and_every_note_in_one_period(
        journal_path, key_path, key, seed, lines, delay_s):
    child = run_child(journal_path, key_path, seed)
    try:
        seen = [child.stdout.readline().split() for _ in range(lines)]
        time.sleep(delay_s)
    finally:
        kill(child)

    with MoneyJournal(journal_path, key) as journal:
        assert journal.integrity_ok()
        collections = {c.number: c for c in journal.collections(limit=10_000)}
        for _, number, expected_fen, counted_fen in seen:  # every collection the child saw is there as it saw it
            assert (collections[number].expected_fen, collections[number].counted_fen) == (
                int(expected_fen), int(counted_fen))
        rows = journal._db.execute("SELECT counted_json, difference_fen, total_fen, note FROM collections").fetchall()
        for counted_json, difference, expected_total, note in rows:  # no half-written row
            counted = {int(d): c for d, c in json.loads(counted_json).items()}
            assert difference == sum(d * c for d, c in counted.items()) - expected_total
            assert note == "[recounted] Recounted by two people"
        # Each note is in exactly one period: the collections' expected figures plus the open box are all of them.
        everything = journal.cash_box(since_collection=False).total_fen
        assert sum(c.expected_fen for c in collections.values()) + journal.cash_box().total_fen == everything


# ---------------------------------------------------------------- an older journal file


def test_a_journal_made_before_counted_collections_is_upgraded_and_keeps_its_collections(
        journal_path, key, clock, pay, journal):
    pay(10000, 5000)
    first = journal.record_collection("collector 07")
    clock.advance(86400)
    pay(2000)
    second = journal.record_collection("collector 07")
    pay(1000)  # in the box since the second collection
    journal.close()
    db = open_database(journal_path)  # ...take the file back to what the previous schema (v4) wrote
    db.execute("DROP TABLE mobile_orders")  # v7
    db.execute("DROP TABLE purchase_outbox")  # v6, after the collections' v5
    db.execute("DROP TABLE purchases")
    db.execute("DROP INDEX collections_number")
    for column in ("number", "since", "counted_json", "difference_fen", "note"):
        db.execute(f"ALTER TABLE collections DROP COLUMN {column}")
    db.execute("PRAGMA user_version = 4")
    db.conn.close()

    with MoneyJournal(journal_path, key, clock) as upgraded:
        assert upgraded._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        old = upgraded.collections()
        assert [c.number for c in old] == ["C-20261124-0002", "C-20261123-0001"]
        assert [(c.since, c.expected, c.counted, c.difference_fen, c.note) for c in old] == [
            (first.collected_at, {2000: 1}, {2000: 1}, 0, ""), (None, {5000: 1, 10000: 1}, {5000: 1, 10000: 1}, 0, "")]
        assert old[0].collected_at == second.collected_at
        assert upgraded.cash_box().counts == {1000: 1} and upgraded.cash_box().since == second.collected_at
        assert upgraded.record_collection("wang.li", {1000: 1}).number == "C-20261124-0003"


# ---------------------------------------------------------------- kiosk journal report


def test_the_report_shows_test_notes_in_the_box_apart(journal, pay):
    pay(10000)
    journal.record_test_note(2000, "acceptor-1/test", by="zhao.min")
    box = report(journal).split("缴费记录")[0]
    assert "其中测试纸币 Of which test notes: 1 张 notes, 20.00" in box
    assert next(line for line in box.splitlines() if line.lstrip().startswith("20.00")).split() == [
        "20.00", "1", "20.00"]


def test_kiosk_journal_report_lists_past_collections_with_their_difference_and_note(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path}"\nkey_file = "{tmp_path}/journal.key"\n', encoding="utf-8")
    with MoneyJournal.open(tmp_path / "journal.sqlite", tmp_path / "journal.key") as journal:
        txn = journal.open_payment("KS-0001", "electricity", "3201100017", "张小明", "城东区", 100,
                                   cap_fen=100_000).transaction_no
        journal.start_cash_in(txn)
        journal.record_note(txn, 10_000, "r/1")
        journal.record_note(txn, 5_000, "r/2")
        journal.commit(txn, paid_at=journal.get(txn).opened_at)
        journal.record_test_note(2_000, "r/3", by="zhao.min")
        number = journal.record_collection("wang.li", {10_000: 1, 5_000: 0, 2_000: 1},
                                           "[doubt_absent] Note to check was not in the box").number

    result = subprocess.run([sys.executable, "-m", "app.cli", "journal", "report", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)

    assert result.returncode == 0, result.stderr
    past = result.stdout.split("历次清机 Past collections")[1]
    row = next(line for line in past.splitlines() if line.startswith(number))
    assert row.split()[3:7] == ["wang.li", "170.00", "120.00", "-50.00"]
    assert row.endswith("[doubt_absent] Note to check was not in the box")
    assert "3201100017" not in result.stdout
