"""`kiosk journal report`: the cash box and the day's payments, from the journal on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.backend.seed import DEMO_ACCOUNTS
from offline_store.journal import MoneyJournal


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path}"\nkey_file = "{tmp_path}/journal.key"\n', encoding="utf-8")
    return path


def kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=60)


def test_the_report_counts_the_notes_in_the_box_and_lists_the_payment(tmp_path):
    config = write_config(tmp_path)
    utility, number = DEMO_ACCOUNTS["electricity_arrears"]
    with MoneyJournal.open(tmp_path / "journal.sqlite", tmp_path / "journal.key") as journal:
        txn = journal.open_payment("KS-0001", utility, number, "张*明", "城东区**路", 23_758, cap_fen=73_758)
        journal.start_cash_in(txn.transaction_no)
        journal.record_note(txn.transaction_no, 10_000, "r/1")
        journal.record_note(txn.transaction_no, 10_000, "r/2")
        journal.record_note(txn.transaction_no, 5_000, "r/3")
        journal.commit(txn.transaction_no, paid_at=journal.get(txn.transaction_no).opened_at)

    result = kiosk("journal", "report", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert txn.transaction_no in result.stdout
    assert "250.00" in result.stdout  # ¥100 × 2 + ¥50
    assert number not in result.stdout  # the account number only masked


def test_without_a_journal_the_report_says_where_it_looked(tmp_path):
    result = kiosk("journal", "report", "--config", str(write_config(tmp_path)))

    assert result.returncode == 1
    assert f"no money journal at {tmp_path}/journal.sqlite" in result.stderr
