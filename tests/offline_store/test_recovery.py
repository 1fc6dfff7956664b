"""After a crash or a power cut: nothing stacked is lost, nothing is counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from offline_store.journal import MoneyJournal

from journal_helpers import ARREARS, TERMINAL_ID

CHILD = Path(__file__).with_name("crash_child.py")


def test_a_journal_dropped_mid_payment_is_finished_on_the_next_start(journal_path, key, clock):
    crashed = MoneyJournal(journal_path, key, clock)
    with_notes = crashed.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 12000, cap_fen=50000).transaction_no
    crashed.start_cash_in(with_notes)
    crashed.record_note(with_notes, 10000, "acc/1")
    clock.advance(5)
    crashed.record_note(with_notes, 5000, "acc/2")
    without_notes = crashed.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 100, cap_fen=50000).transaction_no
    del crashed  # no close(): the process "died" here

    clock.advance(600)
    with MoneyJournal(journal_path, key, clock) as journal:
        assert journal.integrity_ok()
        assert [p.transaction_no for p in journal.unfinished()] == [with_notes, without_notes]
        cases = journal.recover()
        assert [(c.transaction_no, c.state_before, c.action, c.paid_fen, c.note_count) for c in cases] == [
            (with_notes, "cash_in", "committed", 15000, 2), (without_notes, "opened", "cancelled", 0, 0)]
        recovered = journal.get(with_notes)
        assert recovered.recovered and recovered.state == "committed"
        assert [p.transaction_no for p in journal.outbox()] == [with_notes]
        assert journal.payment_request(with_notes).paid_at.startswith("2026-11-23T10:15:05")  # its last note
        assert journal.unfinished() == [] and journal.recover() == []


@pytest.mark.parametrize("kill_after_lines, seed", [(3, 1), (17, 2), (60, 3)])
def test_a_process_killed_while_recording_notes_leaves_a_sound_journal_that_recovers(
        journal_path, key_path, key, kill_after_lines, seed):
    child = subprocess.Popen([sys.executable, str(CHILD), str(journal_path), str(key_path), str(seed)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        seen = [child.stdout.readline().split() for _ in range(kill_after_lines)]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
        child.stdout.close()
    reported_notes = {ref: int(d) for kind, *rest in seen if kind == "note" for _, ref, d in [rest]}
    reported_commits = {rest[0] for kind, *rest in seen if kind == "commit"}

    with MoneyJournal(journal_path, key) as journal:
        assert journal.integrity_ok()
        journal.recover()
        assert journal.unfinished() == []
        conn = journal._db.conn
        journaled = dict(conn.execute("SELECT acceptor_ref, denomination_fen FROM notes"))
        # Every note the child saw journaled is there, once, with its denomination.
        assert reported_notes.items() <= journaled.items()
        # Every payment with money is committed (or further) for the sum of its notes; none lost, none cancelled.
        rows = conn.execute("SELECT p.transaction_no, p.state, p.paid_fen, COUNT(n.id), "
                            "COALESCE(SUM(n.denomination_fen), 0) FROM payments p LEFT JOIN notes n "
                            "ON n.transaction_no = p.transaction_no GROUP BY p.transaction_no").fetchall()
        for txn, state, paid, count, total in rows:
            assert (state, paid) == (("committed", total) if count else ("cancelled", 0)), txn
        assert reported_commits <= {p.transaction_no for p in journal.outbox()}
        assert journal.cash_box().total_fen == sum(journaled.values())
