"""The billing system's words about a payment may name the customer: they are sealed
in the journal and its backups, never kept in clear."""

from __future__ import annotations

from pathlib import Path

from offline_store.journal import MoneyJournal

LEAKY_REFUSAL = "账户 3201100017 户主 张小明 地址 城东区幸福路8号 已销户"


def raw_bytes(path: Path) -> bytes:
    """The file and its write-ahead log, as a thief with a copy would read them."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_refusal_quoting_name_address_and_account_is_sealed_in_the_journal_and_its_backup(journal, pay, tmp_path):
    payment = pay(10000)
    journal.mark_pending(payment.transaction_no, "SERVER_ERROR", LEAKY_REFUSAL)
    journal.mark_referred(payment.transaction_no, "ACCOUNT_CLOSED", LEAKY_REFUSAL)
    backup = journal.backup_to(tmp_path / "backup.sqlite")

    for stored in (raw_bytes(journal.path), backup.read_bytes()):
        for secret in ("张小明", "幸福路", "3201100017"):
            assert secret.encode() not in stored
    referred = journal.get(payment.transaction_no)
    assert referred.error_code == "ACCOUNT_CLOSED" and "张" not in referred.error_message
    assert journal.error_message(payment.transaction_no) == LEAKY_REFUSAL  # the counter's tools can read it


def test_a_journal_written_with_clear_messages_is_sealed_when_opened(journal_path, key, clock, pay, journal):
    payment = pay(10000)
    journal.mark_referred(payment.transaction_no, "ACCOUNT_CLOSED", "x")
    journal.close()
    from offline_store.device_archive import open_database

    db = open_database(journal_path)  # as an older kiosk left it
    db.execute("UPDATE payments SET error_message = ?, error_message_enc = NULL", [LEAKY_REFUSAL])
    db.conn.commit()
    db.conn.close()

    with MoneyJournal(journal_path, key, clock) as reopened:
        assert reopened.error_message(payment.transaction_no) == LEAKY_REFUSAL
        assert "张小明" not in reopened.get(payment.transaction_no).error_message
