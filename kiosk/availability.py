"""Whether the kiosk can serve at all, decided from the backend's heartbeats.

Inquiry needs the billing system.  A backend that does not answer is given a
grace period (``backend.startup_grace_s``) — a switch rebooting in the morning
should not put the out-of-order sign up — and past it the kiosk shows the sign
with a reason code and the hotline, and takes it down by itself on the first
answer.  Device faults join this in the device monitor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

# Reason codes shown on the out-of-order sign; a technician looks them up in docs.
REASON_BACKEND_UNREACHABLE = "E-NET-01"


@dataclass(frozen=True)
class ServiceLevel:
    """What the kiosk offers now: nothing (the sign), or inquiry plus whichever
    of cash, slip and card the devices allow."""

    in_service: bool
    reason_code: str = ""
    detail: str = ""
    cash: bool = True
    slip: bool = True
    card: bool = True
    card_reader_fitted: bool = True

    @property
    def degraded(self) -> bool:
        return self.in_service and not (self.cash and self.slip and (self.card or not self.card_reader_fitted))


def combine(backend: ServiceLevel, devices) -> ServiceLevel:
    """The backend's word and the device monitor's (a DeviceLevel) together."""
    if not backend.in_service:
        return backend
    if devices.out_of_order:
        return ServiceLevel(False, devices.out_of_order_code, devices.out_of_order_detail)
    return ServiceLevel(True, cash=devices.cash, slip=devices.slip, card=devices.card,
                        card_reader_fitted=devices.card_reader_fitted)


class BackendAvailability:
    def __init__(self, grace_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._grace_s = grace_s
        self._clock = clock
        self._down_since: float | None = clock()  # unknown at start counts as down
        self._last_detail = "no answer from the billing system yet"
        self._ever_up = False

    def record_success(self) -> None:
        self._down_since = None
        self._ever_up = True

    def record_failure(self, detail: str) -> None:
        self._last_detail = detail
        if self._down_since is None:
            self._down_since = self._clock()

    @property
    def ever_up(self) -> bool:
        return self._ever_up

    def level(self) -> ServiceLevel:
        if self._down_since is None:
            return ServiceLevel(True)
        if self._clock() - self._down_since < self._grace_s:
            return ServiceLevel(True)
        return ServiceLevel(False, REASON_BACKEND_UNREACHABLE, self._last_detail)
