"""The scanner driver against its emulator over a real pty: codes, split codes, garbage,
trigger mode, and the cable pulled and put back."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from drivers.scanner.codes import CodeKind, RefusalReason
from drivers.scanner.driver import ScannerDriver
from drivers.scanner.emulator import ScannerEmulator
from drivers.scanner.events import CodeRead, CodeRefused, ReadTimedOut
from drivers.scanner.settings import TRIGGER_PRESETS, ScanMode, ScannerSettings
from drivers.status import DeviceState

WECHAT = "134567890123456789"
ALIPAY = "281234567890123456"
UNIONPAY = "6212345678901234567"


class Heard:
    """A driver's events and statuses, waited for (they arrive on the driver thread)."""

    def __init__(self, driver: ScannerDriver) -> None:
        self._cond = threading.Condition()
        self.events: list = []
        self.states: list[tuple[DeviceState, str]] = []
        driver.subscribe_events(self._add_event)
        driver.subscribe_status(lambda status: self._add_state((status.state, str(status.reason))))

    def _add_event(self, event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def _add_state(self, state) -> None:
        with self._cond:
            self.states.append(state)
            self._cond.notify_all()

    def wait(self, predicate, timeout_s: float = 3.0):
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self), timeout_s), (self.events, self.states)

    def of(self, kind) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def online(heard: Heard) -> bool:
    return bool(heard.states) and heard.states[-1][0] is DeviceState.ONLINE


@pytest.fixture
def world(request):
    """An emulated scanner, a driver on its pty, and what the driver said."""
    settings = getattr(request, "param", ScannerSettings())
    emulator = ScannerEmulator(settings.terminator, settings.mode, settings.trigger).start()
    driver = ScannerDriver(emulator.port, settings, reconnect_backoff_s=(0.05, 0.2), garbled_limit=3)
    heard = Heard(driver)
    driver.start()
    heard.wait(online)
    yield emulator, driver, heard
    assert driver.stop(2.0)
    emulator.close()


def test_codes_of_each_kind_are_read_in_order(world):
    emulator, _, heard = world
    for code in (WECHAT, ALIPAY, UNIONPAY):
        emulator.show(code)
    heard.wait(lambda h: len(h.of(CodeRead)) == 3)
    assert [(event.kind, event.code) for event in heard.of(CodeRead)] == [
        (CodeKind.WECHAT, WECHAT), (CodeKind.ALIPAY, ALIPAY), (CodeKind.UNIONPAY, UNIONPAY)]


def test_a_code_split_over_several_writes_is_read_once_and_whole(world):
    emulator, _, heard = world
    emulator.show_split(WECHAT, pieces=5, gap_s=0.03)
    heard.wait(lambda h: h.of(CodeRead))
    time.sleep(0.1)
    assert [event.code for event in heard.of(CodeRead)] == [WECHAT]
    assert heard.of(CodeRefused) == []


def test_garbage_and_non_payment_codes_are_refused_and_never_read_as_codes(world):
    emulator, _, heard = world
    emulator.send_raw(b"\x00\x13\x07\r")
    emulator.show("https://example.com/x")
    emulator.show("6901234567892")
    emulator.send_raw(WECHAT[:10].encode())  # cut short: no terminator ever comes
    heard.wait(lambda h: len(h.of(CodeRefused)) == 4)
    emulator.show(WECHAT)
    heard.wait(lambda h: h.of(CodeRead))
    assert [event.reason for event in heard.of(CodeRefused)] == [
        RefusalReason.CONTROL_BYTES, RefusalReason.URL, RefusalReason.EAN13, RefusalReason.INCOMPLETE]
    assert [event.code for event in heard.of(CodeRead)] == [WECHAT]


def test_only_garbage_from_an_open_port_is_a_hardware_error_until_a_clean_line(world):
    emulator, driver, heard = world
    for _ in range(3):
        emulator.send_raw(b"\xf0\x8f\xfe\r")  # what a wrong baud rate looks like
    heard.wait(lambda h: h.states[-1] == (DeviceState.HARDWARE_ERROR, "LINE_GARBLED"))
    assert "9600 baud" in driver.status.detail  # tells the technician what to check
    emulator.show(ALIPAY)
    heard.wait(online)
    assert [event.code for event in heard.of(CodeRead)] == [ALIPAY]


def test_the_cable_pulled_is_offline_and_put_back_is_online_and_reading(world):
    emulator, driver, heard = world
    emulator.unplug()
    heard.wait(lambda h: h.states[-1] == (DeviceState.OFFLINE, "PORT_GONE"))
    time.sleep(0.3)  # several reconnect attempts fail meanwhile
    emulator.replug()
    heard.wait(lambda h: online(h) and len(h.states) >= 3)
    emulator.show(UNIONPAY)
    heard.wait(lambda h: h.of(CodeRead))
    assert heard.of(CodeRead)[0].code == UNIONPAY
    assert driver.counters["port_opens"] >= 2


def test_a_port_that_never_existed_is_offline_port_gone():
    driver = ScannerDriver("/tmp/no-such-scanner-port", reconnect_backoff_s=(0.05, 0.1))
    heard = Heard(driver)
    driver.start()
    try:
        heard.wait(lambda h: h.states and h.states[-1] == (DeviceState.OFFLINE, "PORT_GONE"))
        assert "/tmp/no-such-scanner-port" in driver.status.detail
    finally:
        assert driver.stop(2.0)


def test_the_log_never_holds_a_whole_payment_code(world, caplog):
    emulator, _, heard = world
    with caplog.at_level(logging.DEBUG, logger="kiosk.devices.scanner"):
        emulator.show(WECHAT)
        heard.wait(lambda h: h.of(CodeRead))
        logging.getLogger("kiosk.devices.scanner").info("event %r", heard.of(CodeRead)[0])
    assert "6789" in caplog.text
    assert WECHAT not in caplog.text


TRIGGERED = ScannerSettings(mode=ScanMode.TRIGGER, read_timeout_s=0.5)


@pytest.mark.parametrize("world", [TRIGGERED], indirect=True)
def test_in_trigger_mode_a_code_is_read_only_once_the_driver_triggers(world):
    emulator, driver, heard = world
    emulator.show(WECHAT)
    time.sleep(0.2)
    assert heard.of(CodeRead) == []
    driver.trigger()
    heard.wait(lambda h: h.of(CodeRead))
    assert emulator.triggers_seen == 1


@pytest.mark.parametrize("world", [TRIGGERED], indirect=True)
def test_a_triggered_read_that_sees_no_code_stops_at_its_deadline(world):
    emulator, driver, heard = world
    started = time.monotonic()
    driver.trigger()
    heard.wait(lambda h: h.of(ReadTimedOut))
    assert 0.45 <= time.monotonic() - started < 1.5
    time.sleep(0.05)
    assert emulator.stops_seen == 1  # SYN U CR sent


@pytest.mark.parametrize("world", [ScannerSettings(mode=ScanMode.TRIGGER, trigger=TRIGGER_PRESETS["gm65"],
                                                   terminator="crlf")], indirect=True)
def test_an_engine_that_acknowledges_the_trigger_still_reads_the_bare_code(world):
    emulator, driver, heard = world
    emulator.show(ALIPAY)
    driver.trigger()
    heard.wait(lambda h: h.of(CodeRead) or h.of(CodeRefused))
    assert [event.code for event in heard.of(CodeRead)] == [ALIPAY]
