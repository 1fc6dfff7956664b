"""Whether the kiosk can serve at all, decided from the backend's heartbeats.

Inquiry needs the billing system.  A backend that does not answer is given a
grace period (``backend.startup_grace_s``) — a switch rebooting in the morning
should not put the out-of-order sign up — and past it the kiosk shows the sign
with a reason code and the hotline, and takes it down by itself on the first
answer.  :class:`~kiosk.service_monitor.ServiceMonitor` joins this with the
devices and the money journal.
"""

from __future__ import annotations

import time
from typing import Callable

from kiosk.service_level import ServiceLevel, out_of_order

# Reason codes shown on the out-of-order sign; a technician looks them up in docs.
REASON_BACKEND_UNREACHABLE = "E-NET-01"


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
        return out_of_order(REASON_BACKEND_UNREACHABLE, self._last_detail)
