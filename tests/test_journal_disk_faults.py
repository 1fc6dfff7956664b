"""A note is never stacked unless the journal can record it: the disk fills up or
turns read-only in the middle of a cash payment.

The journal lives on a small tmpfs mounted for each test (CI runs as root);
the acceptor emulator sits behind the real ID-003 driver on a pty, the
simulator on loopback.  What the emulator stacked is compared with what the
journal credited after every fault, and again after a restart's recovery.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from loop_disk import LOOP_DISK_NEEDS, MIB, SmallDisk, fill, loop_disks_possible

from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from kiosk.config import default_config
from kiosk.devices import KioskDevices
from kiosk.journey_state import CashInRequest
from kiosk.payment_stack import PaymentStack
from kiosk.payments import CashUnavailable

pytestmark = pytest.mark.skipif(not loop_disks_possible(), reason=LOOP_DISK_NEEDS)
from waiting import open_payments, wait_for


@pytest.fixture
def small_disk(tmp_path: Path):
    disk = SmallDisk(tmp_path)
    yield disk.mount_point
    disk.unmount()


@pytest.fixture
def failing_disk(tmp_path: Path):
    disk = SmallDisk(tmp_path)
    yield disk
    disk.unmount()


@pytest.fixture
def sim():
    with BackendSimulator(port=0) as simulator:
        yield simulator


def config_on(disk: Path, tmp_path: Path, *, reserve_mib: int = 2, min_free_mib: int = 2):
    base = default_config()
    storage = replace(base.storage, data_dir=str(disk / "data"), key_file=str(tmp_path / "keys" / "journal.key"),
                      backup_dir=str(tmp_path / "backup"), reserve_mib=reserve_mib, min_free_mib=min_free_mib)
    return replace(base, storage=storage, devices=replace(base.devices, card_reader="none", printer="none"))


class Kiosk:
    """The payment side of a kiosk: devices, journal, sync worker, service."""

    def __init__(self, config, sim, devices=None) -> None:
        self.devices = devices or KioskDevices(config.devices, realistic_emulators=False)
        self._client = BackendClient(sim.url, terminal_id=config.terminal.id, secret=config.backend.terminal_secret,
                                     connect_timeout_s=0.5, read_timeout_s=2.0, retries=1)
        self.stack = PaymentStack(config, self.devices, lambda: self._client)
        self.ready = []
        if devices is None:
            self.devices.start(lambda status: None, lambda event: None, on_acceptor_event=self.stack.acceptor_event)
        open_payments(self.stack, self.ready.append)
        wait_for(lambda: self.ready and self.devices.acceptor.status.state.value == "online", what="kiosk ready")
        self.service = self.ready[0]
        self.emulator = self.devices.emulators.acceptor

    def open_payment(self, due_fen: int = 23_758):
        utility, number = DEMO_ACCOUNTS["electricity_arrears"]
        account = self._client.lookup_account(utility, number)  # as the journey has it
        request = CashInRequest(utility, account, due_fen, due_fen + 50_000)
        self.progress = []
        return self.service.open(request, self.progress.append)

    def feed(self, yuan: int, *, credited_fen: int | None = None, cash_in=None) -> None:
        """Insert a note and wait until the acceptor is done with it."""
        before = sum(self.emulator.counters.stacked.values()) + sum(self.emulator.counters.returned.values())
        self.emulator.insert_note(yuan)
        wait_for(lambda: sum(self.emulator.counters.stacked.values())
                 + sum(self.emulator.counters.returned.values()) > before, what=f"the ¥{yuan} note handled")
        if credited_fen is not None:
            wait_for(lambda: cash_in.progress.paid_fen == credited_fen, what=f"{credited_fen} fen credited")

    def stop(self) -> None:
        self.devices.stop()
        self.stack.stop()


def journaled_fen(stack) -> int:
    box = stack.journal.cash_box()
    return box.total_fen


def test_a_disk_filling_up_mid_payment_returns_the_next_note_and_the_payment_still_commits(small_disk, tmp_path, sim):
    config = config_on(small_disk, tmp_path)
    kiosk = Kiosk(config, sim)
    try:
        cash_in = kiosk.open_payment()
        kiosk.feed(50, credited_fen=5_000, cash_in=cash_in)
        fill(small_disk, leave_bytes=MIB)  # under min_free_mib: the ballast must carry the rest
        kiosk.feed(20)
        kiosk.feed(10)

        counters = kiosk.emulator.counters
        assert dict(counters.stacked) == {50: 1}  # nothing stacked the journal could not take
        assert counters.returned[20] == 1 and counters.returned[10] == 1
        assert cash_in.progress.journal_failed and cash_in.progress.returned_reason == "cash.journal_unavailable"
        outcome = kiosk.service.complete(cash_in)
        assert (outcome.outcome, outcome.paid_fen) == ("posted", 5_000)  # finished on the freed ballast
        assert journaled_fen(kiosk.stack) == counters.stacked_total_yuan * 100
        assert [p["amount_fen"] for p in sim.postings] == [5_000]
        with pytest.raises(CashUnavailable, match="free disk space"):
            kiosk.open_payment()  # out of service for cash until there is room again
    finally:
        kiosk.stop()


def test_a_journal_write_that_fails_returns_the_note_in_escrow_and_stops_intake(small_disk, tmp_path, sim):
    config = config_on(small_disk, tmp_path, reserve_mib=1, min_free_mib=0)  # no free-space floor: the write itself fails
    kiosk = Kiosk(config, sim)
    try:
        cash_in = kiosk.open_payment()
        kiosk.feed(100, credited_fen=10_000, cash_in=cash_in)
        fill(small_disk, leave_bytes=0)
        counters = kiosk.emulator.counters
        for _ in range(40):  # SQLite reuses its WAL's frames: the first writes may still fit
            kiosk.feed(1)
            if counters.returned[1]:
                break
        assert counters.returned[1] == 1 and cash_in.progress.returned_reason == "cash.journal_unavailable"
        stacked_before = sum(counters.stacked.values())
        kiosk.feed(5)
        assert sum(counters.stacked.values()) == stacked_before  # intake stays stopped
        assert journaled_fen(kiosk.stack) == counters.stacked_total_yuan * 100
    finally:
        kiosk.stop()


def test_a_disk_failing_mid_payment_loses_no_note_and_recovery_posts_it_once(failing_disk, tmp_path, sim):
    config = config_on(failing_disk.mount_point, tmp_path)
    kiosk = Kiosk(config, sim)
    try:
        cash_in = kiosk.open_payment()
        kiosk.feed(100, credited_fen=10_000, cash_in=cash_in)
        kiosk.feed(50, credited_fen=15_000, cash_in=cash_in)
        failing_disk.fail()  # every write (and read) fails from here on
        kiosk.feed(20)
        assert dict(kiosk.emulator.counters.stacked) == {100: 1, 50: 1}
        assert kiosk.emulator.counters.returned[20] == 1
        outcome = kiosk.service.complete(cash_in)
        assert (outcome.outcome, outcome.problem_key, outcome.paid_fen) == ("pending", "pay.problem_journal", 15_000)
    finally:
        kiosk.stop()
    failing_disk.repair()

    again = Kiosk(config, sim)  # the technician fixed the disk; the kiosk starts again
    try:
        wait_for(lambda: sim.postings, what="the recovered payment posted")
        assert [p["amount_fen"] for p in sim.postings] == [15_000]
        assert journaled_fen(again.stack) == 15_000
    finally:
        again.stop()
