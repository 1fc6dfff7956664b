"""Payments coming up at start: recovery before intake, power-up notes, housekeeping.

Real parts throughout: the acceptor and printer emulators behind the real
drivers, the money journal on disk, the simulator on loopback.  No Qt.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from waiting import open_payments, wait_for

from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from kiosk.config import default_config
from kiosk.devices import KioskDevices
from kiosk.payment_stack import PaymentStack, check_journal_key, journal_path
from offline_store.journal import MoneyJournal


@pytest.fixture
def sim():
    with BackendSimulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def config(tmp_path: Path):
    base = default_config()
    storage = replace(base.storage, data_dir=str(tmp_path / "data"), key_file=str(tmp_path / "data" / "journal.key"),
                      backup_dir=str(tmp_path / "backup"))
    devices = replace(base.devices, card_reader="none")
    return replace(base, storage=storage, devices=devices)


def start(config, sim, before_drivers=lambda devices: None):
    devices = KioskDevices(config.devices, realistic_emulators=False)
    clients = []

    def client():
        if not clients:
            clients.append(BackendClient(sim.url, terminal_id=config.terminal.id,
                                         secret=config.backend.terminal_secret, connect_timeout_s=0.5,
                                         read_timeout_s=2.0, retries=1))
        return clients[0]

    stack = PaymentStack(config, devices, client)
    ready = []
    devices.start(lambda status: None, lambda event: None, on_acceptor_event=stack.acceptor_event)
    open_payments(stack, ready.append)
    return devices, stack, ready


def stop(devices, stack):
    devices.stop()
    stack.stop()


def test_a_payment_left_open_by_a_power_cut_is_committed_and_posted_once_at_start(config, sim):
    assert check_journal_key(config) is None  # a fresh terminal: the key is created
    utility, number = DEMO_ACCOUNTS["electricity_arrears"]
    with MoneyJournal.open(journal_path(config), config.storage.key_file) as journal:
        txn = journal.open_payment(config.terminal.id, utility, number, "张*明", "城东区**路", 23_758,
                                   cap_fen=73_758).transaction_no
        journal.start_cash_in(txn)
        journal.record_note(txn, 10_000, "before-the-cut/1")
        journal.record_note(txn, 5_000, "before-the-cut/2")
        # ... and the power went: no commit.

    devices, stack, ready = start(config, sim)
    try:
        wait_for(lambda: ready, what="the payment service")
        wait_for(lambda: [p["transaction_no"] for p in sim.postings] == [txn], what="the recovered payment posted")
        assert sim.postings[0]["amount_fen"] == 15_000
        wait_for(lambda: stack.journal.get(txn).state == "posted", what="the journal to say posted")
        assert stack.journal.get(txn).recovered
    finally:
        stop(devices, stack)


def test_a_note_the_acceptor_reports_in_the_stacker_at_power_up_is_kept_for_the_counter(config, sim):
    devices, stack, ready = start(config, sim)
    try:
        wait_for(lambda: ready and devices.acceptor.status.state.value == "online", what="the acceptor ready")
        devices.emulators.acceptor.power_up_with_note("stacker", 50)  # power lost and back, a note inside
        wait_for(lambda: stack.journal.unassigned_notes(), what="the power-up note in the journal")
        (note,) = stack.journal.unassigned_notes()
        assert note.kind == "in_box" and "stacker" in note.reason
        assert sim.postings == []  # never credited to anybody's account
    finally:
        stop(devices, stack)


def test_the_journal_is_backed_up_at_start_and_the_backup_is_whole(config, sim):
    devices, stack, ready = start(config, sim)
    try:
        wait_for(lambda: list(Path(config.storage.backup_dir).glob("journal-*.sqlite")), what="a backup")
        (backup,) = Path(config.storage.backup_dir).glob("journal-*.sqlite")
        with MoneyJournal.open(backup, config.storage.key_file, attach_identity=False) as copy:
            assert copy.integrity_ok()
    finally:
        stop(devices, stack)


def test_without_its_key_a_journal_with_personal_data_refuses_the_start(config, sim):
    utility, number = DEMO_ACCOUNTS["electricity_arrears"]
    with MoneyJournal.open(journal_path(config), config.storage.key_file) as journal:
        journal.open_payment(config.terminal.id, utility, number, "张*明", "城东区**路", 100, cap_fen=100)
    Path(config.storage.key_file).unlink()

    message = check_journal_key(config)

    assert message is not None and config.storage.key_file in message
