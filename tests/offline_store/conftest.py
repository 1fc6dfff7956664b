"""The world the journal tests run in: a key file and a journal in a temporary
directory, a clock the test moves, and the real backend simulator on loopback
with a real client (STYLE.md: fixtures, not patches)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import pytest

from kiosk.backend.client import BackendClient
from kiosk.backend.simulator import BackendSimulator
from offline_store.journal import MoneyJournal, Payment
from offline_store.pii import PiiKey

from journal_helpers import ARREARS, SECRET, TERMINAL_ID, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 10, 15, 0))


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "journal.key"


@pytest.fixture
def key(key_path: Path) -> PiiKey:
    return PiiKey.create(key_path)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "journal.sqlite"


@pytest.fixture
def journal(journal_path: Path, key: PiiKey, clock: FakeClock) -> Iterator[MoneyJournal]:
    with MoneyJournal(journal_path, key, clock) as opened:
        yield opened


@pytest.fixture
def pay(journal: MoneyJournal, clock: FakeClock) -> Callable[..., Payment]:
    """A committed payment of the given notes (default one 100-yuan note)."""
    counter = iter(range(1, 1_000_000))

    def make(*notes_fen: int, account: tuple[str, str] = ARREARS, due_fen: int = 12000) -> Payment:
        utility, account_no = account
        payment = journal.open_payment(TERMINAL_ID, utility, account_no, "张小明", "城东区幸福路8号",
                                       due_fen, cap_fen=200000)
        journal.start_cash_in(payment.transaction_no)
        for denomination in notes_fen or (10000,):
            clock.advance(1)
            journal.record_note(payment.transaction_no, denomination, f"acceptor-1/{next(counter)}")
        return journal.commit(payment.transaction_no, paid_at=clock())

    return make


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0, terminal_secret=SECRET) as simulator:
        yield simulator


@pytest.fixture
def client(sim: BackendSimulator) -> Iterator[BackendClient]:
    with BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.3,
                       retries=1, backoff_s=0.01) as made:
        yield made
