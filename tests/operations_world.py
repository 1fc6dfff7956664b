"""The world of the operations tests: a real money journal, payments in it, the real billing
simulator and a real sync worker (imported by module name, as tests/loop_disk.py)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from offline_store.journal import MoneyJournal, Payment
from offline_store.outbox import SyncWorker
from offline_store.pii import PiiKey

TERMINAL_ID = "T0001"
SECRET = "demo-terminal-secret"
PAYMENTS_PATH = "/api/v1/payments"
HOLDER, ADDRESS = "张小明", "城东区幸福路8号"
ARREARS = DEMO_ACCOUNTS["electricity_arrears"]
WATER = DEMO_ACCOUNTS["water_arrears"]
CLOSED = DEMO_ACCOUNTS["electricity_closed"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 15).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Iterator[MoneyJournal]:
    key = PiiKey.create(tmp_path / "keys" / "journal.key")
    with MoneyJournal(tmp_path / "data" / "journal.sqlite", key, clock) as opened:
        yield opened


@pytest.fixture
def pay(journal: MoneyJournal, clock: Clock):
    """A committed payment (in the outbox) of the given notes, a minute after the one before."""
    refs = iter(range(1, 10_000))

    def make(*notes_fen: int, account: tuple[str, str] = ARREARS) -> Payment:
        clock.now += 60
        utility, account_no = account
        payment = journal.open_payment(TERMINAL_ID, utility, account_no, HOLDER, ADDRESS, 12000, cap_fen=200000)
        journal.start_cash_in(payment.transaction_no)
        for fen in notes_fen or (10000,):
            journal.record_note(payment.transaction_no, fen, f"acceptor-1/{next(refs)}")
        return journal.commit(payment.transaction_no, paid_at=clock())

    return make


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0, terminal_secret=SECRET) as simulator:
        yield simulator


@pytest.fixture
def worker(journal, sim) -> Iterator[SyncWorker]:
    """The sync worker, not started; after a failure it waits a minute unless woken ("Sync now")."""
    with BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.5, retries=1,
                       backoff_s=0.01) as client:
        made = SyncWorker(journal, client.post_payment, status=client.payment_status, base_delay_s=60,
                          max_delay_s=60)
        yield made
        assert made.stop(timeout=5)


def wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)
