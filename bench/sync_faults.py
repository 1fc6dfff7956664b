"""Sync faults: N payments through the money journal and the sync worker, posted to
the simulator while it drops connections after committing, answers 500, drops
requests and answers too late.  Every payment must be booked exactly once.

Phase 1 journals N cash payments (open, cash-in, 1–3 notes, commit: what a
customer's payment writes, each step an fsynced transaction).  Phase 2 starts
the sync worker on the full outbox, with the real BackendClient on loopback,
and a feeder that injects one fault every ``--fault-every`` payment requests,
in rotation: drop_after_commit, http_500, drop, delay (longer than the
client's read timeout).  It ends when the outbox is empty.

    python bench/sync_faults.py [--payments 10000] [--fault-every 100] [--no-faults]

Prints the figures, and as its last line one JSON object with them.
Goal (issue 5): duplicates 0; 10,000 queued payments synced in <= 30 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.seed import DEMO_ACCOUNTS  # noqa: E402
from kiosk.backend.simulator import BackendSimulator  # noqa: E402
from offline_store.journal import MoneyJournal  # noqa: E402
from offline_store.outbox import SyncWorker  # noqa: E402
from offline_store.pii import PiiKey  # noqa: E402

PAYMENTS_PATH = "/api/v1/payments"
SECRET = "demo-terminal-secret"
DENOMINATIONS = (100, 500, 1000, 2000, 5000, 10000)
ACCOUNTS = [DEMO_ACCOUNTS[name] for name in ("electricity_arrears", "water_arrears", "gas_arrears",
                                             "electricity_paid_up", "gas_paid_up")]


def journal_payments(journal: MoneyJournal, count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    ref = itertools.count(1)
    for i in range(count):
        utility, account_no = ACCOUNTS[i % len(ACCOUNTS)]
        txn = journal.open_payment("T0001", utility, account_no, "张小明", "城东区幸福路8号",
                                   rng.randrange(0, 30000), cap_fen=1_000_000).transaction_no
        journal.start_cash_in(txn)
        for _ in range(rng.randrange(1, 4)):
            journal.record_note(txn, rng.choice(DENOMINATIONS), f"bench/{next(ref)}")
        journal.commit(txn, paid_at=time.time())
    return time.perf_counter() - started


class FaultFeeder(threading.Thread):
    """One fault every ``every`` API requests (nearly all of them payments), kinds in rotation."""

    def __init__(self, sim: BackendSimulator, every: int, delay_s: float) -> None:
        super().__init__(name="fault-feeder", daemon=True)
        self.sim, self.every, self.delay_s = sim, every, delay_s
        self.injected: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        kinds = itertools.cycle(("drop_after_commit", "http_500", "drop", "delay"))
        next_at = self.every
        while not self.stopping.wait(0.01):
            seen = len(self.sim.request_log)  # API requests: payments, and a handful of authentications
            while seen >= next_at:
                kind = next(kinds)
                self.sim.inject(kind, count=1, path_prefix=PAYMENTS_PATH, seconds=self.delay_s)
                self.injected[kind] += 1
                next_at += self.every


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--fault-every", type=int, default=100, help="payment requests between two faults")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--read-timeout", type=float, default=0.3, help="client read timeout, s")
    parser.add_argument("--dir", type=Path, default=None, help="where the journal goes (default: a temp dir)")
    args = parser.parse_args()
    # Every fault logs a warning by design; the figures below count them instead.
    logging.basicConfig(level=logging.ERROR)

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="sync-faults-"))
    workdir.mkdir(parents=True, exist_ok=True)
    journal = MoneyJournal(workdir / "journal.sqlite", PiiKey.create(workdir / f"journal-{time.time_ns()}.key"))
    journal_s = journal_payments(journal, args.payments, random.Random(1))
    print(f"journaled    : {args.payments} payments in {journal_s:.1f} s "
          f"({args.payments / journal_s:.0f} payments/s, each open + cash-in + notes + commit)")

    with BackendSimulator(port=0, terminal_secret=SECRET) as sim:
        client = BackendClient(sim.url, "T0001", SECRET, connect_timeout_s=1.0, read_timeout_s=args.read_timeout,
                               retries=2, backoff_s=0.02)
        feeder = FaultFeeder(sim, args.fault_every, delay_s=args.read_timeout * 2)
        worker = SyncWorker(journal, client.post_payment, base_delay_s=0.05, max_delay_s=1.0)
        started = time.perf_counter()
        if not args.no_faults:
            feeder.start()
        worker.start()
        while journal.outbox(limit=1):
            time.sleep(0.02)
        sync_s = time.perf_counter() - started
        feeder.stopping.set()
        worker.stop()
        time.sleep(args.read_timeout * 2 + 0.2)  # late (delayed) first attempts reach the ledger too
        postings = Counter(p["transaction_no"] for p in sim.postings)
        requests = sum(1 for _, path in sim.request_log if path.startswith(PAYMENTS_PATH))
        client.close()

    payments = journal.payments_between(0, time.time() + 86400)
    not_posted = [p.transaction_no for p in payments if p.state != "posted"]
    duplicates = sum(n - 1 for n in postings.values() if n > 1)
    missing = len({p.transaction_no for p in payments} - set(postings))
    figures = {
        "bench": "sync_faults",
        "payments": len(payments),
        "postings_seen": sum(postings.values()),
        "unique_postings": len(postings),
        "duplicates": duplicates,
        "missing": missing,
        "not_posted_in_journal": len(not_posted),
        "payment_requests": requests,
        "faults": dict(feeder.injected),
        "replayed": worker.stats.replayed,
        "worker_failures": worker.stats.failures,
        "journal_s": round(journal_s, 2),
        "sync_wall_s": round(sync_s, 2),
        "sync_payments_per_s": round(len(payments) / sync_s, 1),
        "goal_sync_s_for_10000": 30,
        "integrity_ok": journal.integrity_ok(),
    }
    journal.close()
    print(f"payments     : {figures['payments']}   postings seen by the simulator: {figures['postings_seen']}   "
          f"duplicates: {duplicates}   missing: {missing}   not posted in journal: {len(not_posted)}")
    print(f"faults       : {dict(feeder.injected)} over {requests} payment requests; "
          f"{worker.stats.replayed} answers replayed, {worker.stats.failures} attempts left pending")
    print(f"sync         : {sync_s:.1f} s wall, {figures['sync_payments_per_s']} payments/s")
    print(json.dumps(figures))
    return 0 if duplicates == 0 and missing == 0 and not not_posted else 1


if __name__ == "__main__":
    sys.exit(main())
