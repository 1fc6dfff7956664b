"""A journal lost, emptied, corrupted, rolled back or swapped is never a silent fresh
start: cash stays off with a reason, `kiosk journal check` names the problem,
`kiosk journal restore --from BACKUP` puts a backup back, and transaction
numbers are never issued twice, even after the journal is gone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.backend.seed import DEMO_ACCOUNTS
from offline_store.journal_identity import SEQUENCE_BLOCK, identity_path
from offline_store.journal import JournalRefused, MoneyJournal
from offline_store.pii import PiiKey
from waiting import open_payments

UTILITY, NUMBER = DEMO_ACCOUNTS["electricity_arrears"]
TERMINAL = "KS-0001"


@pytest.fixture
def terminal(tmp_path: Path):
    """A terminal's files: config, journal, key (and its identity), backups."""
    (tmp_path / "data").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path}/data"\nkey_file = "{tmp_path}/keys/journal.key"\n'
                      f'backup_dir = "{tmp_path}/backup"\n', encoding="utf-8")
    return tmp_path


def journal_of(terminal: Path) -> Path:
    return terminal / "data" / "journal.sqlite"


def key_of(terminal: Path) -> Path:
    return terminal / "keys" / "journal.key"


def kiosk(terminal: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args, "--config", str(terminal / "config.toml")],
                          capture_output=True, text=True, timeout=60)


def pay(journal: MoneyJournal, fen: int = 10_000) -> str:
    txn = journal.open_payment(TERMINAL, UTILITY, NUMBER, "张*明", "城东区**路", fen, cap_fen=fen * 3).transaction_no
    journal.start_cash_in(txn)
    journal.record_note(txn, fen, f"{txn}/1")
    journal.commit(txn, paid_at="2026-12-02T10:00:00+08:00")
    return txn


def open_journal(terminal: Path) -> MoneyJournal:
    return MoneyJournal.open(journal_of(terminal), key_of(terminal))


def with_payments(terminal: Path, count: int = 3) -> list[str]:
    with open_journal(terminal) as journal:
        return [pay(journal) for _ in range(count)]


def refusal(terminal: Path) -> str:
    with pytest.raises(JournalRefused) as refused:
        open_journal(terminal)
    return refused.value.inspection.problem.value


def test_a_first_start_makes_the_journal_and_its_identity_beside_the_key(terminal):
    with_payments(terminal, 1)
    assert identity_path(key_of(terminal)).exists()
    assert kiosk(terminal, "journal", "check").returncode == 0


def test_a_deleted_journal_keeps_cash_off_and_check_names_it(terminal):
    with_payments(terminal)
    journal_of(terminal).unlink()
    assert refusal(terminal) == "JOURNAL_MISSING"
    result = kiosk(terminal, "journal", "check")
    assert result.returncode == 1 and "JOURNAL_MISSING" in result.stderr and "restore" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_zero_length_journal_keeps_cash_off(terminal):
    with_payments(terminal)
    journal_of(terminal).write_bytes(b"")
    assert refusal(terminal) == "JOURNAL_EMPTY"


def test_a_corrupt_journal_is_a_message_not_a_traceback(terminal):
    with_payments(terminal)
    data = bytearray(journal_of(terminal).read_bytes())
    data[0:100] = os.urandom(100)  # the header is gone
    journal_of(terminal).write_bytes(bytes(data))
    assert refusal(terminal) == "JOURNAL_CORRUPT"
    for command in (("journal", "check"), ("journal", "report")):
        result = kiosk(terminal, *command)
        assert result.returncode == 1, command
        assert "JOURNAL_CORRUPT" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_another_terminals_journal_under_this_key_keeps_cash_off(terminal, tmp_path_factory):
    with_payments(terminal)
    other = tmp_path_factory.mktemp("other")
    with MoneyJournal.open(other / "journal.sqlite", other / "journal.key") as journal:
        pay(journal)
    shutil.copyfile(other / "journal.sqlite", journal_of(terminal))
    assert refusal(terminal) == "JOURNAL_FOREIGN"


def test_another_terminals_key_keeps_cash_off(terminal, tmp_path_factory):
    with_payments(terminal)
    other = tmp_path_factory.mktemp("other")
    PiiKey.create(other / "journal.key")
    shutil.copyfile(other / "journal.key", key_of(terminal))
    assert refusal(terminal) == "JOURNAL_KEY_MISMATCH"


def test_a_journal_whose_wal_was_deleted_after_a_crash_keeps_cash_off(terminal):
    with_payments(terminal)  # closed cleanly: all of it in the main file
    child = f"""
import os, sys
sys.path[:0] = {sys.path!r}
from offline_store.journal import MoneyJournal
journal = MoneyJournal.open({str(journal_of(terminal))!r}, {str(key_of(terminal))!r})
txn = journal.open_payment("{TERMINAL}", "{UTILITY}", "{NUMBER}", "张*明", "路", 100, cap_fen=500).transaction_no
journal.start_cash_in(txn)
journal.record_note(txn, 100, "crash/1")
os._exit(0)  # no close: the commits are still in the WAL
"""
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    Path(f"{journal_of(terminal)}-wal").unlink()
    assert refusal(terminal) == "JOURNAL_WAL_LOST"


def test_after_a_restore_from_a_backup_no_transaction_number_is_issued_twice(terminal):
    with open_journal(terminal) as journal:
        first = pay(journal)
        backup = journal.backup_to(terminal / "backup" / "journal-1.sqlite")
        later = [pay(journal) for _ in range(SEQUENCE_BLOCK + 5)]  # past the first reserved block
    journal_of(terminal).unlink()

    restored = kiosk(terminal, "journal", "restore", "--from", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "not in the restored journal" in restored.stdout
    with open_journal(terminal) as journal:
        assert journal.get(first).state == "committed"  # what the backup held is back
        fresh = pay(journal)
    assert fresh not in [first, *later]
    assert int(fresh[-6:]) > int(later[-1][-6:])


def test_with_no_backup_a_new_journal_continues_above_every_number_issued(terminal):
    issued = with_payments(terminal, 4)
    journal_of(terminal).unlink()
    assert refusal(terminal) == "JOURNAL_MISSING"

    made = kiosk(terminal, "journal", "new", "--after-loss")
    assert made.returncode == 0, made.stderr
    with open_journal(terminal) as journal:
        fresh = pay(journal)
    assert int(fresh[-6:]) > int(issued[-1][-6:])


def test_a_backup_of_another_journal_is_not_restored(terminal, tmp_path_factory):
    with_payments(terminal, 1)
    other = tmp_path_factory.mktemp("other")
    with MoneyJournal.open(other / "journal.sqlite", other / "journal.key") as journal:
        pay(journal)
        foreign = journal.backup_to(other / "backup.sqlite")
    result = kiosk(terminal, "journal", "restore", "--from", str(foreign))
    assert result.returncode == 1 and "another terminal" in result.stderr


def test_the_kiosk_start_keeps_cash_off_and_says_why_on_the_console(terminal, capfd):
    from dataclasses import replace

    from kiosk.config import default_config
    from kiosk.devices import KioskDevices
    from kiosk.payment_stack import PaymentStack

    with_payments(terminal)
    journal_of(terminal).write_bytes(b"")
    base = default_config()
    config = replace(base, storage=replace(base.storage, data_dir=str(terminal / "data"),
                                           key_file=str(key_of(terminal)), backup_dir=str(terminal / "backup")),
                     devices=replace(base.devices, acceptor="none", printer="none", card_reader="none"))
    stack = PaymentStack(config, KioskDevices(config.devices), lambda: None)
    ready = []
    open_payments(stack, ready.append).join(10)
    assert ready == [] and stack.journal is None
    assert stack.problem[0] == "JOURNAL_EMPTY"
    assert "kiosk: cash payments are off" in capfd.readouterr().err
