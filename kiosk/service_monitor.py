"""One monitor: the technician, the devices, the billing system and the money journal give one service level.

* A technician's decision comes first (:class:`~kiosk.service_switch.ServiceSwitch`):
  the maintenance screen open → the sign (``E-MAINT-OPEN``, no customer note is
  taken while staff work on the machine); put out of service by hand → the
  sign (``E-MAINT-OUT``, the reason as detail), even when everything works.
* The billing system down past its grace period → the out-of-order sign
  (inquiry needs it) — :class:`~kiosk.availability.BackendAvailability`.
* A device fault that puts money at risk, or no device working → the sign —
  :class:`~kiosk.device_monitor.DeviceMonitor`.
* Cash is offered only when the acceptor works **and** the money journal is
  open and recovered: a note must never be taken that cannot be written down.
  When it is not, the customer is told why (``cash_off_key``), never shown a
  button that does nothing.

Plain Python, no Qt: the controller feeds it and renders what it returns.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Callable

from kiosk.availability import BackendAvailability
from kiosk.device_monitor import DeviceMonitor
from kiosk.service_hours import REASON_HOURS_CLOSED, ServiceHoursKeeper, closed_detail
from kiosk.service_level import ServiceLevel, out_of_order
from kiosk.service_switch import REASON_MAINT_OPEN, REASON_MAINT_OUT, ServiceSwitch

# Why cash is not offered, as the customer reads it (assets/i18n/messages.toml).
CASH_OFF_ACCEPTOR = "home.no_cash"
CASH_OFF_JOURNAL = "home.no_cash_journal"
CASH_OFF_STARTING = "home.no_cash_starting"


class JournalReadiness(Enum):
    STARTING = "starting"  # opening, recovering: not yet
    READY = "ready"
    OFF = "off"  # missing, corrupt, foreign, disk: cash stays off (kiosk journal check says why)


class ServiceMonitor:
    def __init__(self, devices: DeviceMonitor, backend: BackendAvailability,
                 switch: ServiceSwitch | None = None, hours: ServiceHoursKeeper | None = None,
                 session_open: Callable[[], bool] | None = None) -> None:
        """``hours``: None keeps no hours (always open); ``session_open()``: True while a customer
        session is under way (the journey away from home), which closing time never cuts off."""
        self.devices = devices
        self.backend = backend
        self.switch = switch
        self.hours = hours
        self.session_open = session_open
        self.journal = JournalReadiness.STARTING
        self.journal_problem: tuple[str, str] | None = None  # (code, technician's reason)

    def journal_ready(self) -> None:
        self.journal, self.journal_problem = JournalReadiness.READY, None

    def journal_off(self, code: str, reason: str) -> None:
        """The payment stack has logged and printed why; here it only changes the level."""
        self.journal, self.journal_problem = JournalReadiness.OFF, (code, reason)

    def level(self) -> ServiceLevel:
        by_hand = self._technician_level()
        if by_hand is not None:
            return by_hand
        closed = self._closed_level()
        if closed is not None:
            return closed
        backend = self.backend.level()
        if not backend.in_service:
            return backend
        devices = self.devices.level()
        if not devices.in_service:
            return devices
        if not devices.cash:
            return replace(devices, cash_off_key=CASH_OFF_ACCEPTOR)
        if self.journal is not JournalReadiness.READY:
            key = CASH_OFF_JOURNAL if self.journal is JournalReadiness.OFF else CASH_OFF_STARTING
            return replace(devices, cash=False, cash_off_key=key)
        return devices

    def _technician_level(self) -> ServiceLevel | None:
        """The sign a technician put up (the screen open, or out by hand), or None."""
        if self.switch is None:
            return None
        screen = self.switch.screen()
        if screen is not None:
            return out_of_order(REASON_MAINT_OPEN, f"the maintenance screen is open ({screen.user})")
        state = self.switch.state()
        if state.out:
            return out_of_order(REASON_MAINT_OUT, state.reason)
        return None

    def _closed_level(self) -> ServiceLevel | None:
        """The closed sign outside service hours, or None (open, no hours kept, or a customer still served)."""
        hours = self.hours
        if hours is None or (self.session_open is not None and self.session_open()):
            return None
        now = hours.now()
        if hours.is_open(now):
            return None
        return out_of_order(REASON_HOURS_CLOSED, closed_detail(hours.next_opening(now)))
