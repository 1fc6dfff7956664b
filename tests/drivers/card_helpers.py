"""What the card reader tests share: a recorder of a driver's events and statuses."""

from __future__ import annotations

import threading
import time
from typing import Callable

from drivers.pcsc.reader import CardError, CardInserted, CardReaderDriver, CardRemoved
from drivers.status import DeviceState, DeviceStatus

CARD_THREADS = ("card-reader", "card-session", "virtual-card")


class Recorder:
    """Everything a driver tells, in order, with a way to wait for what is expected."""

    def __init__(self, driver: CardReaderDriver) -> None:
        self._cond = threading.Condition()
        self.events: list = []
        self.statuses: list[DeviceStatus] = []
        driver.subscribe_events(self._add_event)
        driver.subscribe_status(self._add_status)
        self.driver = driver

    def _add_event(self, event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def _add_status(self, status: DeviceStatus) -> None:
        with self._cond:
            self.statuses.append(status)
            self._cond.notify_all()

    def of(self, kind: type) -> list:
        with self._cond:
            return [event for event in self.events if isinstance(event, kind)]

    def wait_event(self, kind: type, timeout_s: float = 5.0, count: int = 1):
        """The ``count``-th event of ``kind``; AssertionError naming what came instead."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.of(kind)) >= count, timeout_s):
                raise AssertionError(f"no {kind.__name__} #{count} within {timeout_s} s; events: {self.events}; "
                                     f"status: {self.driver.status}")
            return self.of(kind)[count - 1]

    def wait_status(self, predicate: Callable[[DeviceStatus], bool], timeout_s: float = 5.0) -> DeviceStatus:
        """Wait until the driver's *current* status satisfies ``predicate``."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.driver.status), timeout_s):
                raise AssertionError(f"status never matched within {timeout_s} s; now {self.driver.status}; "
                                     f"seen {[(s.state.value, s.reason) for s in self.statuses]}")
            return self.driver.status

    def wait_reason(self, state: DeviceState, reason: str, timeout_s: float = 5.0) -> DeviceStatus:
        return self.wait_status(lambda s: (s.state, s.reason) == (state, reason), timeout_s)

    def wait_online(self, card_present: bool, timeout_s: float = 5.0) -> DeviceStatus:
        return self.wait_status(lambda s: s.state is DeviceState.ONLINE and not s.reason
                                and s.device_detail.card_present is card_present, timeout_s)


def card_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(CARD_THREADS)]


def wait_for_no_card_threads(timeout_s: float = 3.0) -> list[str]:
    """Names of card threads still alive after ``timeout_s`` (empty when all ended)."""
    deadline = time.monotonic() + timeout_s
    while card_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    return card_threads()


__all__ = ["CardError", "CardInserted", "CardRemoved", "Recorder", "wait_for_no_card_threads"]
