"""One service level from the devices, the billing system and the money journal."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from drivers.status import ACCEPTOR, CARD_READER, PRINTER, SCANNER, DeviceState, DeviceStatus
from kiosk.availability import REASON_BACKEND_UNREACHABLE, BackendAvailability
from kiosk.device_monitor import DeviceMonitor
from kiosk.service_hours import REASON_HOURS_CLOSED, opening_in
from kiosk.service_monitor import CASH_OFF_ACCEPTOR, CASH_OFF_JOURNAL, CASH_OFF_STARTING, ServiceMonitor


@pytest.fixture
def clock():
    """Seconds that move only when the test sets ``clock.now``."""
    from types import SimpleNamespace

    moment = SimpleNamespace(now=0.0)
    return moment


@pytest.fixture
def monitor(clock) -> ServiceMonitor:
    devices = DeviceMonitor(None)
    for device in (ACCEPTOR, PRINTER, CARD_READER):
        devices.update(DeviceStatus(device, DeviceState.ONLINE))
    backend = BackendAvailability(grace_s=20, clock=lambda: clock.now)
    backend.record_success()
    return ServiceMonitor(devices, backend)


def test_cash_waits_for_the_journal_to_be_open_and_recovered(monitor):
    level = monitor.level()
    assert level.in_service and not level.cash and level.cash_off_key == CASH_OFF_STARTING
    monitor.journal_ready()
    assert monitor.level().cash and monitor.level().cash_off_key == ""


def test_a_journal_that_cannot_be_used_keeps_cash_off_and_says_why(monitor):
    monitor.journal_off("JOURNAL_CORRUPT", "the journal cannot be read")
    level = monitor.level()
    assert level.in_service and not level.cash and level.cash_off_key == CASH_OFF_JOURNAL
    assert level.slip and level.card  # inquiry and the rest go on
    assert level.terminal_status == "degraded"


def test_an_acceptor_that_is_down_names_the_acceptor_not_the_journal(monitor):
    monitor.journal_ready()
    monitor.devices.update(DeviceStatus(ACCEPTOR, DeviceState.OFFLINE, "SILENT", "no answer"))
    level = monitor.level()
    assert not level.cash and level.cash_off_key == CASH_OFF_ACCEPTOR


def test_the_billing_system_down_past_its_grace_is_the_sign_whatever_else_works(monitor, clock):
    monitor.journal_ready()
    monitor.backend.record_failure("TIMEOUT: no answer")
    clock.now = 21
    level = monitor.level()
    assert level.out_of_order and level.reason_code == REASON_BACKEND_UNREACHABLE
    assert level.terminal_status == "out_of_service"


def test_money_at_risk_is_the_sign_even_with_the_journal_off(monitor):
    monitor.journal_off("JOURNAL_MISSING", "gone")
    monitor.devices.update(DeviceStatus(ACCEPTOR, DeviceState.HARDWARE_ERROR, "JAM_IN_ACCEPTOR", "jammed"))
    level = monitor.level()
    assert level.out_of_order and level.reason_code == "E-ACC-JAM_IN_ACCEPTOR"


@pytest.fixture
def switch(tmp_path):
    from kiosk.maintenance_audit import Audit
    from kiosk.service_switch import ServiceSwitch
    from offline_store.maintenance_store import MaintenanceStore

    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    yield ServiceSwitch(store, Audit(store, keep_days=30, clock=lambda: 1_795_000_000.0), lambda: 1_795_000_000.0)
    store.close()


@pytest.fixture
def watched(monitor, switch) -> ServiceMonitor:
    """The same monitor, also watching the technician's switch."""
    with_switch = ServiceMonitor(monitor.devices, monitor.backend, switch)
    with_switch.journal_ready()
    return with_switch


def test_a_machine_put_out_by_hand_shows_the_sign_with_the_reason_though_all_works(watched, switch):
    assert watched.level().in_service and watched.level().cash
    switch.put_out("device_repair: Device repair", "wang.tech")
    level = watched.level()
    assert level.out_of_order and not level.cash
    assert (level.reason_code, level.detail) == ("E-MAINT-OUT", "device_repair: Device repair")
    switch.put_back("wang.tech")
    assert watched.level().in_service and watched.level().cash


def test_the_open_maintenance_screen_shows_the_sign_and_takes_no_cash(watched, switch):
    switch.maintenance_open("wang.tech")
    level = watched.level()
    assert level.out_of_order and not level.cash and level.reason_code == "E-MAINT-OPEN"
    assert "wang.tech" in level.detail
    switch.maintenance_closed()
    assert watched.level().in_service


def test_a_technicians_decision_comes_before_a_fault_or_a_dead_network(watched, switch, clock):
    watched.devices.update(DeviceStatus(ACCEPTOR, DeviceState.HARDWARE_ERROR, "JAM_IN_ACCEPTOR", "jammed"))
    watched.backend.record_failure("TIMEOUT: no answer")
    clock.now = 21
    assert watched.level().reason_code == REASON_BACKEND_UNREACHABLE
    switch.put_out("device_repair: Device repair", "wang.tech")
    assert watched.level().reason_code == "E-MAINT-OUT"
    switch.maintenance_open("wang.tech")  # at work on it now: that is what the sign says
    assert watched.level().reason_code == "E-MAINT-OPEN"
    switch.maintenance_closed()
    switch.put_back("wang.tech")
    assert watched.level().reason_code == REASON_BACKEND_UNREACHABLE  # the network still decides


class HallClock:
    """The hall's local time (a Friday), moved by the test."""

    def __init__(self) -> None:
        self.at = datetime.datetime(2026, 12, 4, 10, 0)

    def __call__(self) -> datetime.datetime:
        return self.at


@pytest.fixture
def hall_clock() -> HallClock:
    return HallClock()


@pytest.fixture
def customer() -> SimpleNamespace:
    """Whether a customer session is open (the journey away from home), as the controller tells the monitor."""
    return SimpleNamespace(served=False)


@pytest.fixture
def kept(watched, switch, hall_clock, customer) -> ServiceMonitor:
    """The same monitor, also keeping 08:00–20:00 on weekdays, in the switch's maintenance file."""
    from kiosk.config_types import ServiceHours
    from kiosk.service_hours import ServiceHoursKeeper

    hours = ServiceHours(datetime.time(8), datetime.time(20), ("mon", "tue", "wed", "thu", "fri"))
    keeper = ServiceHoursKeeper(hours, switch._store, switch._audit, hall_clock)
    kept = ServiceMonitor(watched.devices, watched.backend, switch, keeper, lambda: customer.served)
    kept.journal_ready()
    return kept


def test_outside_the_hours_the_level_is_closed_with_the_next_opening(kept, hall_clock):
    assert kept.level().in_service and kept.level().cash
    hall_clock.at = datetime.datetime(2026, 12, 4, 20, 0)  # Friday, closing time
    level = kept.level()
    assert level.out_of_order and not level.cash and not level.card
    assert level.reason_code == REASON_HOURS_CLOSED
    assert opening_in(level.detail) == datetime.datetime(2026, 12, 7, 8, 0)  # Monday morning
    assert level.terminal_status == "out_of_service"  # what the heartbeat contract knows


def test_closing_time_never_cuts_off_a_customer_being_served(kept, hall_clock, customer):
    customer.served = True  # paying since 19:58
    hall_clock.at = datetime.datetime(2026, 12, 4, 20, 1)
    assert kept.level().in_service and kept.level().cash
    customer.served = False  # back at home: now the sign
    assert kept.level().reason_code == REASON_HOURS_CLOSED


def test_the_technician_comes_before_the_hours_and_the_hours_before_the_network(kept, switch, hall_clock, clock):
    kept.backend.record_failure("TIMEOUT: no answer")
    clock.now = 21
    assert kept.level().reason_code == REASON_BACKEND_UNREACHABLE
    hall_clock.at = datetime.datetime(2026, 12, 5, 10, 0)  # Saturday
    assert kept.level().reason_code == REASON_HOURS_CLOSED
    switch.maintenance_open("wang.tech")  # a technician gets in on a closed machine, and the sign says so
    assert kept.level().reason_code == "E-MAINT-OPEN"
    switch.maintenance_closed()
    switch.put_out("device_repair: Device repair", "wang.tech")
    assert kept.level().reason_code == "E-MAINT-OUT"


def test_closed_today_by_a_technician_is_closed_now(kept):
    kept.hours.close_today("wang.tech")
    level = kept.level()
    assert level.reason_code == REASON_HOURS_CLOSED
    assert opening_in(level.detail) == datetime.datetime(2026, 12, 7, 8, 0)
    kept.hours.clear_today("wang.tech")
    assert kept.level().in_service


def test_without_hours_the_monitor_is_always_open(watched, hall_clock):
    hall_clock.at = datetime.datetime(2026, 12, 6, 3, 0)  # Sunday night: nobody asked for hours
    assert watched.hours is None and watched.level().in_service


def test_a_scanner_fault_never_turns_cash_off_and_scanning_follows_the_scanner(monitor):
    monitor.journal_ready()
    monitor.devices.update(DeviceStatus(SCANNER, DeviceState.ONLINE))
    assert monitor.level().scan and monitor.level().cash
    monitor.devices.update(DeviceStatus(SCANNER, DeviceState.OFFLINE, "PORT_GONE", "cable pulled"))
    level = monitor.level()
    assert not level.scan and level.cash and level.cash_off_key == "" and level.terminal_status == "in_service"


def test_the_sign_offers_no_scanning(monitor, clock):
    monitor.devices.update(DeviceStatus(SCANNER, DeviceState.ONLINE))
    monitor.backend.record_failure("TIMEOUT: no answer")
    clock.now = 10_000
    assert monitor.level().out_of_order and not monitor.level().scan
