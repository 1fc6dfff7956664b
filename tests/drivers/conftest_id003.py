"""The world the acceptor tests run in: a real ID-003 emulator on a pty, and
drivers talking to it through pyserial on the pty's path (STYLE.md: fixtures,
not patches).  Imported by the test modules; not a conftest.py on purpose."""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

import pytest

from drivers.id003.driver import AcceptorDriver
from drivers.id003.emulator import AcceptorEmulator
from drivers.id003.events import AcceptorReady
from drivers.status import DeviceState, DeviceStatus

ALL_FEN = frozenset({100, 500, 1000, 2000, 5000, 10000})
FAST = dict(poll_interval_s=0.02, silence_timeout_s=0.4, response_timeout_s=0.1, reconnect_backoff_s=(0.05, 0.2))


class Recorder:
    """Collects a driver's events and statuses, and waits for them (they arrive on the driver thread)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.events: list = []
        self.statuses: list[DeviceStatus] = []

    def on_event(self, event) -> None:
        with self._lock:
            self.events.append(event)
            self._lock.notify_all()

    def on_status(self, status: DeviceStatus) -> None:
        with self._lock:
            self.statuses.append(status)
            self._lock.notify_all()

    def of(self, kind: type) -> list:
        with self._lock:
            return [event for event in self.events if isinstance(event, kind)]

    def wait(self, predicate: Callable[[], bool], timeout: float = 3.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                         f"events={self.events[-8:]} statuses={[(s.state.value, s.reason) for s in self.statuses[-8:]]}")
                self._lock.wait(min(remaining, 0.02))

    def wait_events(self, kind: type, count: int = 1, timeout: float = 3.0) -> list:
        self.wait(lambda: len([e for e in self.events if isinstance(e, kind)]) >= count, timeout,
                  f"{count} × {kind.__name__}")
        return self.of(kind)

    def wait_state(self, driver: AcceptorDriver, state: DeviceState, reason: str | None = None,
                   timeout: float = 3.0) -> DeviceStatus:
        def matches() -> bool:
            status = driver.status
            return status.state is state and (reason is None or status.reason == reason)

        self.wait(matches, timeout, f"{state.value} {reason or ''}")
        return driver.status


@pytest.fixture
def emulator() -> Iterator[AcceptorEmulator]:
    with AcceptorEmulator() as emulated:
        yield emulated


@pytest.fixture
def make_driver() -> Iterator[Callable[..., tuple[AcceptorDriver, Recorder]]]:
    """Started drivers with a recorder attached; keyword arguments override FAST. All stopped afterwards."""
    made: list[AcceptorDriver] = []

    def make(port: str, **options) -> tuple[AcceptorDriver, Recorder]:
        recorder = Recorder()
        driver = AcceptorDriver(port, **{**FAST, **options})
        driver.subscribe_events(recorder.on_event)
        driver.subscribe_status(recorder.on_status)
        made.append(driver)
        driver.start()
        return driver, recorder

    yield make
    for driver in made:
        assert driver.stop(2.0), "driver thread did not stop within 2 s"


@pytest.fixture
def ready(emulator, make_driver) -> tuple[AcceptorEmulator, AcceptorDriver, Recorder]:
    """An emulator and a driver that has reset it, read its table and enabled every note."""
    driver, recorder = make_driver(emulator.port)
    recorder.wait_events(AcceptorReady)
    driver.enable(ALL_FEN)
    recorder.wait(lambda: driver.status.detail == "Accepting notes.", what="acceptor enabled")
    return emulator, driver, recorder
