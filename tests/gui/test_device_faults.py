"""Device news from driver threads reaches the screen: degraded notices and the sign."""

from __future__ import annotations

import threading

import pytest

from drivers.status import ACCEPTOR, CARD_READER, DEVICES, PRINTER, DeviceState, DeviceStatus
from kiosk.device_monitor import DeviceMonitor
from offline_store.device_archive import DeviceArchive
from harness import wait_until


@pytest.fixture
def archive(tmp_path) -> DeviceArchive:
    return DeviceArchive.at(tmp_path / "kiosk.db")


@pytest.fixture
def kiosk_with_devices(kiosk, archive):
    kiosk.monitor = kiosk.services.devices = DeviceMonitor(archive, DEVICES)
    for device in DEVICES:
        report_from_driver_thread(kiosk, DeviceStatus(device, DeviceState.ONLINE))
    wait_until(lambda: all(s.usable for s in kiosk.monitor.statuses.values()), timeout_s=2)
    return kiosk


def report_from_driver_thread(kiosk, status: DeviceStatus) -> None:
    """As a driver does: emit on its own thread, never on the GUI thread."""
    thread = threading.Thread(target=kiosk.device_status.emit, args=(status,))
    thread.start()
    thread.join()


def test_a_jammed_acceptor_raises_the_sign_within_2_s_and_it_comes_down_when_cleared(kiosk_with_devices, archive):
    kiosk = kiosk_with_devices
    report_from_driver_thread(kiosk, DeviceStatus(ACCEPTOR, DeviceState.HARDWARE_ERROR, "JAM_IN_ACCEPTOR",
                                                  "note jammed in the transport path"))
    wait_until(lambda: kiosk.window.showing_out_of_order, timeout_s=2, what="the sign")
    assert "E-ACC-JAM_IN_ACCEPTOR" in kiosk.window.out_of_order.code.text()
    assert archive.open_faults(ACCEPTOR)[0].reason == "E-ACC-JAM_IN_ACCEPTOR"
    report_from_driver_thread(kiosk, DeviceStatus(ACCEPTOR, DeviceState.ONLINE))
    wait_until(lambda: not kiosk.window.showing_out_of_order, timeout_s=2, what="the sign to come down")
    assert archive.open_faults() == []


def test_a_printer_without_paper_is_announced_on_the_home_screen(kiosk_with_devices):
    kiosk = kiosk_with_devices
    report_from_driver_thread(kiosk, DeviceStatus(PRINTER, DeviceState.HARDWARE_ERROR, "PAPER_OUT", "roll empty"))
    home = kiosk.window.home
    wait_until(lambda: home.unavailable.isVisible() and "凭条" in home.unavailable.text(), timeout_s=2,
               what="the no-slip notice")
    assert not kiosk.window.showing_out_of_order


def test_a_missing_card_reader_hides_the_card_tile(kiosk_with_devices):
    kiosk = kiosk_with_devices
    assert kiosk.window.home.card.isVisible()
    report_from_driver_thread(kiosk, DeviceStatus(CARD_READER, DeviceState.OFFLINE, "NO_READER", "unplugged"))
    wait_until(lambda: not kiosk.window.home.card.isVisible(), timeout_s=2, what="the card tile to go")
