"""The three drivers share one life cycle and one way to listen (drivers/device.py)."""

from __future__ import annotations

import threading

import pytest

from drivers.device import Device, SettingKind, parse_device_setting
from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.id003.driver import AcceptorDriver
from drivers.id003.emulator import AcceptorEmulator
from drivers.pcsc.reader import CardInserted, CardReaderDriver, CardRemoved
from drivers.status import DeviceState


@pytest.fixture
def drivers():
    acceptor_line = AcceptorEmulator().start()
    printer_line = PrinterEmulator().start()
    made = [AcceptorDriver(acceptor_line.port, 0.05, 1.0), PrinterDriver(printer_line.url, status_interval_s=0.2),
            CardReaderDriver("emulator", poll_interval_s=0.05)]
    yield made
    for driver in made:
        driver.stop(3.0)
    acceptor_line.stop()
    printer_line.stop()


def test_every_driver_is_a_device_that_starts_reports_and_stops_in_time(drivers):
    for driver in drivers:
        assert isinstance(driver, Device)
        online = threading.Event()
        unsubscribe = driver.subscribe_status(
            lambda status, seen=online: seen.set() if status.state is DeviceState.ONLINE else None)
        assert driver.start() is driver
        assert online.wait(5), f"{type(driver).__name__} never reported online"
        unsubscribe()
        assert callable(driver.subscribe_events(lambda event: None))
        assert driver.stop(3.0) is True


def test_an_unsubscribed_listener_hears_no_more_events(drivers):
    reader = drivers[2].start()
    heard: list = []
    inserted = threading.Event()
    unsubscribe = reader.subscribe_events(lambda event: (heard.append(event), inserted.set()))
    removed = threading.Event()
    reader.subscribe_events(lambda event: removed.set() if isinstance(event, CardRemoved) else None)
    reader.emulator.insert()
    assert inserted.wait(5) and isinstance(heard[-1], CardInserted)
    unsubscribe()
    reader.emulator.remove()
    assert removed.wait(5)
    assert not any(isinstance(event, CardRemoved) for event in heard)


def test_a_driver_takes_the_parsed_setting_config_hands_it():
    setting = parse_device_setting("card_reader", "emulator")
    assert setting.kind is SettingKind.EMULATOR
    assert CardReaderDriver(setting).emulator is not None
    printer = parse_device_setting("printer", "tcp://127.0.0.1:9")
    assert PrinterDriver(printer).endpoint is printer
