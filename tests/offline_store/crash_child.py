"""A cash-in loop to be killed with SIGKILL by tests/offline_store/test_recovery.py.

Usage: python crash_child.py JOURNAL KEY SEED

Opens payments and records notes into the journal for ever, committing some
payments and leaving none alone.  After each call returns it prints what the
journal now holds ("note TXN REF DENOMINATION", "commit TXN") and flushes, so
what the parent read is a lower bound of what is on disk.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from offline_store.journal import MoneyJournal  # noqa: E402
from offline_store.pii import PiiKey  # noqa: E402

DENOMINATIONS = (100, 500, 1000, 2000, 5000, 10000)


def main(journal_path: str, key_path: str, seed: int) -> None:
    rng = random.Random(seed)
    journal = MoneyJournal(journal_path, PiiKey.load(key_path))
    print("ready", flush=True)
    ref = 0
    while True:
        txn = journal.open_payment("T0001", "electricity", "3201100017", "张小明", "城东区幸福路8号",
                                   rng.randrange(0, 50000), cap_fen=10_000_000).transaction_no
        journal.start_cash_in(txn)
        for _ in range(rng.randrange(0, 6)):
            ref += 1
            denomination = rng.choice(DENOMINATIONS)
            journal.record_note(txn, denomination, f"child-{seed}/{ref}")
            print(f"note {txn} child-{seed}/{ref} {denomination}", flush=True)
        if journal.get(txn).paid_fen:
            journal.commit(txn, paid_at=1795400000.0)
            print(f"commit {txn}", flush=True)
        else:
            journal.cancel(txn)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
