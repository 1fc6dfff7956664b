"""Payments, test notes and collections for ever, to be killed with SIGKILL by
tests/offline_store/test_cash_collection.py.

Usage: python collection_crash_child.py JOURNAL KEY SEED [STALL_AT]

Without STALL_AT: payments, test notes and collections for ever; after each
collection returns it prints "collection NUMBER EXPECTED_FEN COUNTED_FEN"
and flushes, so what the parent read is a lower bound of what is on disk.

With STALL_AT: one round, then "figures EXPECTED COUNTED" (JSON, fen: notes)
and a collection of those counts that stops before its STALL_AT-th SQL
statement (the connection's trace callback, called as each statement
starts) and prints "inside STATEMENT"; the parent's kill then is a power cut
at exactly that point.  A collection that gets through all of its
statements prints "done".
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from offline_store.journal import MoneyJournal  # noqa: E402
from offline_store.pii import PiiKey  # noqa: E402

DENOMINATIONS = (100, 500, 1000, 2000, 5000, 10000)
NOTE = "[recounted] Recounted by two people"


def stall_before_statement(journal: MoneyJournal, stall_at: int) -> None:
    seen = 0

    def trace(statement: str) -> None:
        nonlocal seen
        seen += 1
        if seen == stall_at:
            print(f"inside {' '.join(statement.split())[:40]}", flush=True)
            time.sleep(3600)  # until the parent's SIGKILL

    journal._db.conn.set_trace_callback(trace)


def one_round(journal: MoneyJournal, rng: random.Random, seed: int, ref: int) -> tuple[dict, int]:
    """A payment of a few notes, sometimes a test note; the box's figures and the count to record."""
    txn = journal.open_payment("T0001", "electricity", "3201100017", "张小明", "城东区幸福路8号", 100,
                               cap_fen=10_000_000).transaction_no
    journal.start_cash_in(txn)
    for _ in range(rng.randrange(1, 4)):
        ref += 1
        journal.record_note(txn, rng.choice(DENOMINATIONS), f"child-{seed}/{ref}")
    journal.commit(txn, paid_at=1795400000.0)
    if rng.random() < 0.3:
        ref += 1
        journal.record_test_note(rng.choice(DENOMINATIONS), f"child-{seed}/{ref}", "zhao.min")
    expected = journal.cash_box().counts
    return {d: max(0, c + rng.choice((-1, 0, 0, 1))) for d, c in expected.items()}, ref


def main(journal_path: str, key_path: str, seed: int, stall_at: int | None) -> None:
    rng = random.Random(seed)
    journal = MoneyJournal(journal_path, PiiKey.load(key_path))
    print("ready", flush=True)
    ref = 0
    if stall_at is not None:
        counted, ref = one_round(journal, rng, seed, ref)
        compact = {"separators": (",", ":")}
        print(f"figures {json.dumps(journal.cash_box().counts, **compact)} {json.dumps(counted, **compact)}",
              flush=True)
        stall_before_statement(journal, stall_at)
        journal.record_collection("wang.li", counted, NOTE)
        print("done", flush=True)
        time.sleep(3600)
    while True:
        counted, ref = one_round(journal, rng, seed, ref)
        collection = journal.record_collection("wang.li", counted, NOTE)
        print(f"collection {collection.number} {collection.expected_fen} {collection.counted_fen}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None)
