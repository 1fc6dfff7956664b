"""The cash collection report (清机报表): what the box should hold, the day's payments, past collections.

Plain text in fixed columns, headers in Chinese and English, for the
maintenance screen and ``kiosk journal report [--since ...]``.  A Chinese
character takes two columns on a terminal and on the slip printer, so columns
are padded by display width, not by ``len()``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from datetime import time as day_start
from typing import Sequence

from offline_store.journal import CashBox, Collection, MoneyJournal, Payment, UnassignedNote

STATUS_NAMES = {
    "opened": "已开始 opened",
    "cash_in": "收款中 cash-in",
    "committed": "已收款 received",
    "pending": "待入账 pending",
    "posted": "已入账 posted",
    "referred": "转人工 referred",
    "cancelled": "已取消 cancelled",
}
KIND_NAMES = {
    "in_box": "在钞箱 in box",
    "maybe_in_box": "待清点 count it",
    "returned_after_credit": "已退出 returned",
    "test_note": "测试纸币 test note",
}
PAST_COLLECTIONS = 10


def report(journal: MoneyJournal, since: datetime | None = None, *, now: datetime | None = None) -> str:
    """The cash box since the last collection, the payments opened since ``since``
    (default: today, from midnight local time), then the last collections."""
    now = now or datetime.now().astimezone()
    since = since or datetime.combine(now.date(), day_start(0), tzinfo=now.tzinfo)
    payments = journal.payments_between(since.timestamp(), now.timestamp() + 1)
    box = journal.cash_box(since_collection=True)
    lines = [
        "清机报表  Cash box report",
        f"打印时间 Printed: {now:%Y-%m-%d %H:%M:%S}",
        "",
        *_cash_box(box),
        "",
        *_payments(payments, since, now),
        "",
        *collections_table(journal.collections(limit=PAST_COLLECTIONS)),
    ]
    return "\n".join(lines) + "\n"


def _cash_box(box: CashBox) -> list[str]:
    since = (f"{datetime.fromtimestamp(box.since):%Y-%m-%d %H:%M:%S}" if box.since is not None
             else "启用以来 since the journal began")
    rows = [(_yuan(d), str(c), _yuan(d * c)) for d, c in box.counts.items()]
    lines = [f"钞箱（上次清机以来） Cash box since last collection: {since}"]
    lines += _table(("面额 Note", "张数 Count", "金额 Amount"), rows,
                    footer=("合计 Total", str(box.note_count), _yuan(box.total_fen)), right=(0, 1, 2))
    if box.unassigned:
        count = sum(c for _, c in box.unassigned)
        lines.append(f"其中未归属交易 Of which in no payment: {count} 张 notes, "
                     f"{_yuan(sum(d * c for d, c in box.unassigned))}")
    if box.test_notes:
        count = sum(c for _, c in box.test_notes)
        lines.append(f"其中测试纸币 Of which test notes: {count} 张 notes, "
                     f"{_yuan(sum(d * c for d, c in box.test_notes))}")
    if box.to_check:
        lines.append("")
        lines.append("需清点核对 To check at collection:")
        lines += _table(("时间 Time", "面额 Note", "交易号 Transaction", "情况 Case"),
                        [_doubt(n) for n in box.to_check])
    return lines


def _doubt(note: UnassignedNote) -> tuple[str, ...]:
    return (f"{datetime.fromtimestamp(note.recorded_at):%m-%d %H:%M:%S}",
            _yuan(note.denomination_fen) if note.denomination_fen else "?",
            note.transaction_no or "-", KIND_NAMES.get(note.kind, note.kind))


def _payments(payments: Sequence[Payment], since: datetime, now: datetime) -> list[str]:
    lines = [f"缴费记录 Payments {since:%Y-%m-%d %H:%M} – {now:%Y-%m-%d %H:%M}"]
    rows = [(f"{datetime.fromtimestamp(p.opened_at):%H:%M:%S}", p.transaction_no, p.utility,
             p.account_masked, _yuan(p.paid_fen), STATUS_NAMES.get(p.state, p.state)) for p in payments]
    paid = sum(p.paid_fen for p in payments)
    lines += _table(("时间 Time", "交易号 Transaction", "业务 Utility", "户号 Account", "实缴 Paid", "状态 Status"),
                    rows, footer=("合计 Total", f"{len(payments)} 笔 payments", "", "", _yuan(paid), ""),
                    right=(4,))
    return lines


def collections_table(collections: Sequence[Collection]) -> list[str]:
    """Past collections, newest first: who, when, the journal's figure, the count, the difference, why."""
    lines = [f"历次清机 Past collections (最近 last {PAST_COLLECTIONS})"]
    rows = [(c.number, f"{datetime.fromtimestamp(c.collected_at):%Y-%m-%d %H:%M}", c.by, _yuan(c.expected_fen),
             _yuan(c.counted_fen), _signed_yuan(c.difference_fen), str(c.to_check), c.note or "-")
            for c in collections]
    lines += _table(("清机单号 No.", "时间 Time", "清机人 Collector", "应有 Expected", "实点 Counted", "差额 Difference",
                     "待核 Doubts", "说明 Note"), rows, right=(3, 4, 5, 6))
    return lines


def _signed_yuan(fen: int) -> str:
    return ("+" if fen > 0 else "-" if fen < 0 else "") + _yuan(abs(fen))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, footer: Sequence[str] | None = None,
           right: Sequence[int] = ()) -> list[str]:
    everything = [header, *rows, *([footer] if footer else [])]
    widths = [max(_width(row[i]) for row in everything) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [_pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [line(header), rule, *(line(r) for r in rows)]
    if not rows:
        out.append("（无 none）")
    if footer:
        out += [rule, line(footer)]
    return out


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"
