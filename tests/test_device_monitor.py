"""From device statuses to the services offered, and the maintenance archive."""

from __future__ import annotations

import pytest

from drivers.status import (ACCEPTOR, CARD_READER, DEVICES, PRINTER, SCANNER, AcceptorDetail, DeviceState,
                            DeviceStatus, Paper, PrinterDetail, Stacker)
from kiosk.device_monitor import DeviceMonitor
from offline_store.device_archive import DeviceArchive, open_database


def online(device: str) -> DeviceStatus:
    return DeviceStatus(device, DeviceState.ONLINE)


def fault(device: str, reason: str, state: DeviceState = DeviceState.HARDWARE_ERROR) -> DeviceStatus:
    return DeviceStatus(device, state, reason, f"{device} reports {reason}")


@pytest.fixture
def archive(tmp_path) -> DeviceArchive:
    return DeviceArchive.at(tmp_path / "kiosk.db")


@pytest.fixture
def monitor(archive) -> DeviceMonitor:
    monitor = DeviceMonitor(archive)
    for device in (ACCEPTOR, PRINTER, CARD_READER):
        monitor.update(online(device))
    return monitor


def test_all_devices_online_offer_every_service(monitor):
    level = monitor.level()
    assert (level.cash, level.slip, level.card, level.out_of_order) == (True, True, True, False)


def test_a_printer_out_of_paper_means_no_slip_and_nothing_else(monitor):
    monitor.update(DeviceStatus(PRINTER, DeviceState.HARDWARE_ERROR, "PAPER_OUT", "paper roll empty",
                                PrinterDetail(paper=Paper.OUT)))
    level = monitor.level()
    assert not level.slip and level.cash and level.card and not level.out_of_order


def test_a_card_reader_gone_hides_card_services(monitor):
    monitor.update(fault(CARD_READER, "NO_READER", DeviceState.OFFLINE))
    assert not monitor.level().card and monitor.level().cash


def test_a_silent_acceptor_leaves_inquiry_only(monitor):
    monitor.update(fault(ACCEPTOR, "SILENT", DeviceState.OFFLINE))
    level = monitor.level()
    assert not level.cash and not level.out_of_order


@pytest.mark.parametrize("reason", ["JAM_IN_ACCEPTOR", "JAM_IN_STACKER", "STACKER_OPEN", "CHEATED"])
def test_money_at_risk_puts_the_machine_out_of_order_with_a_code(monitor, reason):
    monitor.update(DeviceStatus(ACCEPTOR, DeviceState.HARDWARE_ERROR, reason, "see acceptor",
                                AcceptorDetail(stacker=Stacker.OPEN if reason == "STACKER_OPEN" else Stacker.OK)))
    level = monitor.level()
    assert level.out_of_order and level.reason_code == f"E-ACC-{reason}"


def test_no_working_device_at_all_is_out_of_order(monitor):
    for device in (ACCEPTOR, PRINTER, CARD_READER):
        monitor.update(fault(device, "UNREACHABLE", DeviceState.OFFLINE))
    assert monitor.level().out_of_order


def test_devices_that_have_not_reported_yet_do_not_raise_the_sign(archive):
    assert not DeviceMonitor(archive).level().out_of_order


def test_a_fault_and_its_recovery_are_archived_once(monitor, archive):
    jam = fault(ACCEPTOR, "JAM_IN_ACCEPTOR")
    monitor.update(jam)
    monitor.update(jam)  # the same fault reported again is not a new fault
    (record,) = archive.open_faults(ACCEPTOR)
    assert record.reason == "E-ACC-JAM_IN_ACCEPTOR" and record.state == "hardware_error"
    monitor.update(online(ACCEPTOR))
    assert archive.open_faults() == []
    (closed,) = archive.history(ACCEPTOR)
    assert closed.cleared_at is not None and closed.cleared_at >= closed.raised_at


def test_one_fault_turning_into_another_closes_the_first(monitor, archive):
    monitor.update(fault(PRINTER, "COVER_OPEN"))
    monitor.update(fault(PRINTER, "PAPER_OUT"))
    history = archive.history(PRINTER)
    assert [r.reason for r in history] == ["E-PRN-PAPER_OUT", "E-PRN-COVER_OPEN"]
    assert history[0].open and not history[1].open


def test_a_fault_left_open_by_a_restart_is_closed_when_the_device_reports_well(tmp_path):
    path = tmp_path / "kiosk.db"
    first = DeviceMonitor(DeviceArchive.at(path))
    first.update(fault(PRINTER, "PAPER_OUT"))
    archive = DeviceArchive.at(path)  # the kiosk restarted
    DeviceMonitor(archive).update(online(PRINTER))
    assert archive.open_faults() == []


def test_the_archive_is_durable_wal_with_full_sync(tmp_path):
    db = open_database(tmp_path / "kiosk.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_repair_needs_a_note(archive):
    with pytest.raises(ValueError, match="needs a note"):
        archive.record_repair(PRINTER, "tech-07", "  ")
    assert archive.record_repair(PRINTER, "tech-07", "replaced paper roll") > 0


def test_a_terminal_with_no_devices_fitted_offers_inquiry_only_without_the_sign(archive):
    level = DeviceMonitor(archive, devices=()).level()
    assert not level.out_of_order
    assert (level.cash, level.slip, level.card, level.card_reader_fitted) == (False, False, False, False)


def test_card_services_need_a_card_reader_driver(archive):
    level = DeviceMonitor(archive, devices=(ACCEPTOR, PRINTER)).level()
    assert not level.card and not level.card_reader_fitted


@pytest.mark.parametrize("reason", ["CARD_MUTE", "CARD_UNKNOWN", "CARD_PULLED"])
def test_a_bad_card_is_archived_but_keeps_card_services_for_the_next_customer(archive, reason):
    monitor = DeviceMonitor(archive, DEVICES)
    monitor.update(DeviceStatus(CARD_READER, DeviceState.HARDWARE_ERROR, reason, "the card did not answer"))

    assert monitor.level().card
    assert archive.open_faults(CARD_READER)[0].reason == f"E-CRD-{reason}"


# --------------------------------------------------------------------------- the scanner: 被扫 only


def test_a_scanner_that_reads_offers_scanning_beside_everything_else(monitor):
    assert not monitor.level().scan  # fitted but not heard from yet
    monitor.update(online(SCANNER))
    level = monitor.level()
    assert level.scan and (level.cash, level.slip, level.card, level.degraded) == (True, True, True, False)


@pytest.mark.parametrize("reason, state", [("PORT_GONE", DeviceState.OFFLINE),
                                           ("PORT_UNAVAILABLE", DeviceState.OFFLINE),
                                           ("LINE_GARBLED", DeviceState.HARDWARE_ERROR)])
def test_a_scanner_fault_takes_scanning_away_and_nothing_else(monitor, archive, reason, state):
    monitor.update(online(SCANNER))
    monitor.update(fault(SCANNER, reason, state))
    level = monitor.level()
    assert not level.scan
    assert (level.in_service, level.cash, level.slip, level.card, level.degraded) == (True, True, True, True, False)
    assert archive.open_faults(SCANNER)[0].reason == f"E-SCN-{reason}"


def test_a_scanner_that_still_reads_does_not_keep_a_machine_with_no_other_working_device_in_service(monitor):
    monitor.update(online(SCANNER))
    for device in (ACCEPTOR, PRINTER, CARD_READER):
        monitor.update(fault(device, "UNREACHABLE", DeviceState.OFFLINE))
    assert monitor.level().out_of_order and not monitor.level().scan


def test_a_scanner_not_fitted_means_no_scanning(archive):
    monitor = DeviceMonitor(archive, devices=(ACCEPTOR, PRINTER, CARD_READER))
    for device in (ACCEPTOR, PRINTER, CARD_READER):
        monitor.update(online(device))
    assert not monitor.level().scan and not monitor.level().degraded


def test_a_scanner_fault_with_money_at_risk_still_shows_the_acceptors_code(monitor):
    monitor.update(fault(SCANNER, "PORT_GONE", DeviceState.OFFLINE))
    monitor.update(fault(ACCEPTOR, "JAM_IN_ACCEPTOR"))
    assert monitor.level().reason_code == "E-ACC-JAM_IN_ACCEPTOR"
