"""The scanner as the kiosk's fourth device: built from [devices], heard, reset and stopped with the others."""

from __future__ import annotations

import queue

import pytest

from drivers.scanner.codes import CodeKind
from drivers.scanner.events import CodeRead, CodeRefused
from drivers.status import SCANNER, DeviceState
from kiosk.config import DevicesConfig
from kiosk.devices import KioskDevices
from harness import wait_until

WECHAT = "134567890123456789"


@pytest.fixture
def scanner_only():
    """Only the scanner fitted (its emulator on a pty, the real driver on it); every event and status kept."""
    devices = KioskDevices(DevicesConfig("none", "none", "none", "emulator"), realistic_emulators=False)
    statuses, events = [], queue.Queue()
    devices.open(statuses.append, lambda _event: None, on_scanner_event=events.put)
    yield devices, statuses, events
    devices.stop()


def test_an_emulated_scanner_is_fitted_and_its_codes_reach_the_scanner_listener(scanner_only):
    devices, statuses, events = scanner_only
    assert devices.fitted == (SCANNER,)
    wait_until(lambda: devices.scanner.status.state is DeviceState.ONLINE, timeout_s=3, what="the scanner online")
    assert statuses[-1].device == SCANNER and statuses[-1].usable
    devices.emulators.scanner.show(WECHAT)
    read = events.get(timeout=3)
    assert isinstance(read, CodeRead) and (read.kind, read.code) == (CodeKind.WECHAT, WECHAT)
    devices.emulators.scanner.show("https://example.com/pay")
    assert isinstance(events.get(timeout=3), CodeRefused)


def test_an_unplugged_scanner_is_reported_offline_and_comes_back_on_its_own(scanner_only):
    devices, statuses, _events = scanner_only
    wait_until(lambda: devices.scanner.status.usable, timeout_s=3, what="the scanner online")
    devices.emulators.scanner.unplug()
    wait_until(lambda: statuses[-1].reason == "PORT_GONE", timeout_s=3, what="the scanner reported gone")
    devices.emulators.scanner.replug()
    wait_until(lambda: statuses[-1].usable, timeout_s=8, what="the scanner back")


def test_a_scanner_reset_builds_a_new_driver_on_the_same_emulator_that_still_reads(scanner_only):
    devices, _statuses, events = scanner_only
    wait_until(lambda: devices.scanner.status.usable, timeout_s=3, what="the scanner online")
    old, emulator = devices.scanner, devices.emulators.scanner
    status = devices.reset(SCANNER)
    assert status.usable and devices.scanner is not old and not old.running
    assert devices.emulators.scanner is emulator
    emulator.show(WECHAT)
    assert isinstance(events.get(timeout=3), CodeRead)


def test_a_kiosk_without_a_scanner_builds_none_and_says_so_on_reset():
    devices = KioskDevices(DevicesConfig("none", "none", "none"))
    assert SCANNER not in devices.fitted and devices.emulators.scanner is None
    devices.open(lambda _status: None, lambda _event: None)
    assert devices.scanner is None
    from kiosk.devices import ResetRefused

    with pytest.raises(ResetRefused) as refused:
        devices.reset(SCANNER)
    assert refused.value.code == "NOT_FITTED"
    devices.stop()


def test_a_scanner_port_that_is_not_there_is_a_status_not_a_crash(tmp_path):
    devices = KioskDevices(DevicesConfig("none", "none", "none", str(tmp_path / "ttyACM9")))
    statuses = []
    devices.open(statuses.append, lambda _event: None)
    try:
        wait_until(lambda: statuses and statuses[-1].reason == "PORT_GONE", timeout_s=3, what="PORT_GONE")
        assert statuses[-1].device == SCANNER and not statuses[-1].usable
    finally:
        devices.stop()
