"""Schema migrations: each version a function, applied in order, data kept."""

from __future__ import annotations

import pytest

from offline_store.device_archive import open_database
from offline_store.journal import SCHEMA_VERSION, JournalTooNew, MoneyJournal, migrate

from journal_helpers import ARREARS, TERMINAL_ID


def tables(db) -> set[str]:
    return set(db.table_names())


def test_an_empty_file_is_migrated_from_v0_to_the_current_version(journal_path, key, clock):
    with MoneyJournal(journal_path, key, clock) as journal:
        version = journal._db.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION == 7
        expected = {"payments", "notes", "outbox", "txn_sequence", "unassigned_notes", "collections", "purchases",
                    "purchase_outbox"}
        assert expected <= tables(journal._db)
        mode, sync = (journal._db.execute(p).fetchone()[0] for p in ("PRAGMA journal_mode", "PRAGMA synchronous"))
        assert (mode, sync) == ("wal", 2)  # 2 = FULL


def test_a_v1_journal_with_money_in_it_is_upgraded_and_keeps_its_payments(journal_path, key, clock):
    with MoneyJournal(journal_path, key, clock) as journal:  # write through the v1 tables only...
        txn = journal.open_payment(TERMINAL_ID, *ARREARS, "张小明", "城东区", 12000, cap_fen=50000).transaction_no
        journal.start_cash_in(txn)
        journal.record_note(txn, 10000, "acc/1")
        journal.commit(txn, paid_at="2026-11-23T10:15:00+08:00")
    db = open_database(journal_path)  # ...then take the file back to what v1 was
    db.execute("DROP TABLE mobile_orders")  # v7
    db.execute("DROP TABLE purchase_outbox")  # v6
    db.execute("DROP TABLE purchases")
    db.execute("DROP TABLE unassigned_notes")
    db.execute("DROP TABLE collections")
    db.execute("DROP TABLE escrow_marks")  # v3
    db.execute("ALTER TABLE payments DROP COLUMN error_message_enc")  # v4
    db.execute("PRAGMA user_version = 1")
    db.conn.close()

    with MoneyJournal(journal_path, key, clock) as journal:
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        payment = journal.get(txn)
        assert (payment.state, payment.paid_fen) == ("committed", 10000)
        assert journal.payment_request(txn).account_no == "3201100017"
        assert journal.cash_box().counts == {10000: 1}  # v2's counters see the v1 notes


def test_migrating_step_by_step_gives_the_same_schema_as_at_once(tmp_path):
    stepwise = open_database(tmp_path / "a.sqlite")
    assert migrate(stepwise, upto=1) == 1
    assert "collections" not in tables(stepwise)
    assert migrate(stepwise) == SCHEMA_VERSION
    at_once = open_database(tmp_path / "b.sqlite")
    migrate(at_once)
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    assert stepwise.execute(schema).fetchall() == at_once.execute(schema).fetchall()


def test_a_journal_from_a_newer_kiosk_is_refused(journal_path, key, clock):
    db = open_database(journal_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.conn.close()
    with pytest.raises(JournalTooNew, match="never an older one"):
        MoneyJournal(journal_path, key, clock)
