"""The cash collection report: box counters since the last collection, the day's payments."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from contract.models import PaymentResult
from offline_store.cash_report import report


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_the_report_counts_the_box_per_denomination_and_lists_the_days_payments(journal, pay, clock):
    posted = pay(10000, 10000, 5000)
    journal.mark_posted(posted.transaction_no, PaymentResult(posted.transaction_no, "posted",
                                                             "2026-11-23T10:16:00+08:00", "R1", 0, 0))
    pending = pay(2000)
    journal.mark_pending(pending.transaction_no, "TIMEOUT")
    text = report(journal, now=datetime.fromtimestamp(clock()).astimezone())
    lines = text.splitlines()

    assert lines[0] == "清机报表  Cash box report"
    row_100 = next(line for line in lines if line.lstrip().startswith("100.00"))
    assert row_100.split() == ["100.00", "2", "200.00"]
    total = next(line for line in lines if line.startswith("合计 Total") and "4" in line.split())
    assert total.split()[-1] == "270.00"
    payment_rows = [line for line in lines if "T0001-20261123-" in line]
    assert [row.split()[1] for row in payment_rows] == [posted.transaction_no, pending.transaction_no]
    assert "32****0017" in payment_rows[0] and "3201100017" not in text
    assert payment_rows[0].split()[-2:] == ["已入账", "posted"] and "待入账 pending" in payment_rows[1]
    # Columns line up by display width (a Chinese character is two columns).
    header = next(line for line in lines if line.startswith("时间 Time") and "交易号" in line)
    status_column = width(header[: header.index("状态")])
    assert all(width(row[: row.index("已" if "已" in row else "待")]) == status_column for row in payment_rows)


def test_after_a_collection_the_box_starts_again_from_zero(journal, pay, clock):
    pay(10000)
    journal.record_collection(by="collector 07")
    text = report(journal, now=datetime.fromtimestamp(clock()).astimezone())
    box = text.split("缴费记录")[0]
    assert "（无 none）" in box and "since last collection: 2026-11-23" in box
    assert "T0001-20261123-000001" in text  # the day's payments still list it


def test_notes_the_collection_must_check_are_listed(journal):
    txn = journal.open_payment("T0001", "water", "60120001", "刘大强", "城西区", 100, cap_fen=1000).transaction_no
    journal.start_cash_in(txn)
    journal.reconcile_power_up_note("stacker", 5000, already_credited=False)
    journal.record_unassigned_note(txn, None, "VEND VALID without escrow")
    text = report(journal)
    assert "其中未归属交易 Of which in no payment: 1 张 notes, 50.00" in text
    assert "待清点 count it" in text
