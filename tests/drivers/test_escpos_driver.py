"""The printer driver against the ESC/POS emulator over real TCP (and a pty): every status, every fault."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest

from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.escpos.link import PrinterLink, PrintOutcome
from drivers.escpos.slip import Field, QrCode, Slip, Text, Title, test_slip
from drivers.status import DeviceState, Paper, PrinterDetail

INTERVAL_S = 0.05
TIMEOUT_S = 0.3
SLIP = test_slip("城东供电供水供气营业厅", "KS-0001", now=datetime(2024, 5, 1, 9, 30))


def wait_for(condition, timeout_s=3.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"{what} not met within {timeout_s} s")


@pytest.fixture
def printer():
    with PrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def driver(printer):
    driver = PrinterDriver(printer.url, status_interval_s=INTERVAL_S, timeout_s=TIMEOUT_S, print_timeout_s=3.0)
    driver.start()
    wait_for(lambda: driver.status.reason != "NOT_STARTED", what="first status")
    yield driver
    driver.stop()


def reaches(driver, state, reason, timeout_s=3.0):
    wait_for(lambda: (driver.status.state, driver.status.reason) == (state, reason), timeout_s,
             f"{state.value}/{reason} (last: {driver.status.state.value}/{driver.status.reason})")
    return driver.status


def test_a_ready_printer_is_online_with_paper(driver):
    status = reaches(driver, DeviceState.ONLINE, "")
    assert status.device_detail == PrinterDetail(paper=Paper.OK, cover_open=False)


def test_paper_near_end_stays_online(driver, printer):
    printer.set_paper(Paper.NEAR_END)
    status = reaches(driver, DeviceState.ONLINE, "PAPER_NEAR_END")
    assert status.device_detail.paper is Paper.NEAR_END and status.usable


def test_paper_out_is_a_hardware_error_and_recovers(driver, printer):
    printer.set_paper(Paper.OUT)
    assert reaches(driver, DeviceState.HARDWARE_ERROR, "PAPER_OUT").device_detail.paper is Paper.OUT
    printer.set_paper(Paper.OK)
    reaches(driver, DeviceState.ONLINE, "")


def test_cover_open_is_a_hardware_error_and_recovers(driver, printer):
    printer.open_cover(True)
    assert reaches(driver, DeviceState.HARDWARE_ERROR, "COVER_OPEN").device_detail.cover_open
    printer.open_cover(False)
    reaches(driver, DeviceState.ONLINE, "")


def test_cutter_error_is_named(driver, printer):
    printer.set_error("autocutter")
    assert "cutter" in reaches(driver, DeviceState.HARDWARE_ERROR, "CUTTER_ERROR").detail


def test_a_silent_printer_goes_offline_and_comes_back(driver, printer):
    printer.go_silent(True)
    status = reaches(driver, DeviceState.OFFLINE, "SILENT")
    assert status.device_detail.paper is Paper.UNKNOWN
    printer.go_silent(False)
    reaches(driver, DeviceState.ONLINE, "")


def test_a_pulled_cable_goes_offline_and_reconnects_by_itself(driver, printer):
    accepted = printer.connections_accepted
    printer.disconnect()
    reaches(driver, DeviceState.OFFLINE, "UNREACHABLE")
    wait_for(lambda: "refused" in driver.status.detail, what="connection refused")
    printer.reconnect()
    reaches(driver, DeviceState.ONLINE, "")
    assert printer.connections_accepted > accepted


def test_no_printer_at_all_is_unreachable():
    with PrinterEmulator() as gone:
        url = gone.url
    driver = PrinterDriver(url, status_interval_s=INTERVAL_S, timeout_s=TIMEOUT_S)
    driver.start()
    try:
        reaches(driver, DeviceState.OFFLINE, "UNREACHABLE")
        assert driver.print_slip(SLIP).result(1).outcome is PrintOutcome.REFUSED
    finally:
        driver.stop()


def test_listeners_hear_each_change_once(driver, printer):
    heard = []
    driver.subscribe_status(lambda status: heard.append(status.reason))
    printer.set_paper(Paper.OUT)
    reaches(driver, DeviceState.HARDWARE_ERROR, "PAPER_OUT")
    time.sleep(5 * INTERVAL_S)
    assert heard == ["PAPER_OUT"]


def test_a_slip_prints_and_reads_back(driver, printer):
    slip = Slip((Title("缴费凭条"), Field("实收 Paid", "¥100.00"), QrCode("T20240501-000123")))
    result = driver.print_slip(slip).result(5)
    assert (result.outcome, result.ok, result.reason) == (PrintOutcome.PRINTED, True, "")
    printed = printer.decoded()
    assert printed.texts[0] == "缴费凭条"
    assert printed.line_with("￥100.00").columns == 48
    assert printed.qr_codes == ("T20240501-000123",) and printed.cuts == 1
    reaches(driver, DeviceState.ONLINE, "")


def test_print_slip_returns_at_once_and_calls_back_on_the_driver_thread(driver, printer):
    printer.go_silent(True)  # whatever the printer does, the caller does not wait
    called = threading.Event()
    threads = []
    started = time.monotonic()
    future = driver.print_slip(SLIP, on_done=lambda result: (threads.append(threading.current_thread()),
                                                              called.set()))
    assert time.monotonic() - started < 0.05
    assert called.wait(5)
    assert threads[0] is not threading.current_thread()
    assert not future.result().ok


def test_a_slip_is_refused_before_one_byte_when_paper_is_out(driver, printer):
    printer.set_paper(Paper.OUT)
    reaches(driver, DeviceState.HARDWARE_ERROR, "PAPER_OUT")
    printer.clear()
    result = driver.print_slip(SLIP).result(2)
    assert (result.outcome, result.reason, result.bytes_sent) == (PrintOutcome.REFUSED, "PAPER_OUT", 0)
    assert "paper" in result.detail
    time.sleep(3 * INTERVAL_S)
    assert printer.decoded().lines == () and printer.decoded().cuts == 0


def test_paper_running_out_after_the_last_poll_still_refuses_before_printing(printer):
    # A long interval: the driver still believes the paper is fine when the slip comes.
    driver = PrinterDriver(printer.url, status_interval_s=60, timeout_s=TIMEOUT_S)
    driver.start()
    try:
        reaches(driver, DeviceState.ONLINE, "")
        printer.open_cover(True)
        printer.clear()
        result = driver.print_slip(SLIP).result(2)
        assert (result.outcome, result.reason) == (PrintOutcome.REFUSED, "COVER_OPEN")
        assert printer.decoded().lines == ()
        assert driver.status.reason == "COVER_OPEN"
    finally:
        driver.stop()


@pytest.mark.parametrize("fault, reason", [
    ("paper_out", "PAPER_OUT"),
    ("cover_open", "COVER_OPEN"),
    ("error", "CUTTER_ERROR"),
    ("disconnect", "CONNECTION_LOST"),
    ("silent", "SILENT"),
])
def test_a_failure_mid_slip_is_reported_by_name(driver, printer, fault, reason):
    printer.clear()
    printer.fail_after(300, fault)
    result = driver.print_slip(SLIP).result(5)
    assert (result.outcome, result.reason) == (PrintOutcome.FAILED, reason)
    assert result.bytes_total == len(SLIP.render())
    printed = printer.decoded()
    assert printed.texts[0] == "打印机测试"  # the slip was started ...
    assert printed.qr_codes == () and printed.cuts == 0  # ... and not finished


def test_a_slip_stopped_by_paper_end_finishes_when_paper_is_loaded(driver, printer):
    printer.fail_after(300, "paper_out")
    assert driver.print_slip(SLIP).result(5).reason == "PAPER_OUT"
    printer.set_paper(Paper.OK)
    assert printer.decoded().cuts == 1  # as a real printer does: the rest waited in its buffer
    reaches(driver, DeviceState.ONLINE, "")


def test_stop_refuses_what_is_still_queued(printer):
    printer.go_silent(True)
    driver = PrinterDriver(printer.url, status_interval_s=INTERVAL_S, timeout_s=TIMEOUT_S)
    driver.start()
    futures = [driver.print_slip(SLIP) for _ in range(3)]
    driver.stop()
    results = [future.result(1) for future in futures]
    assert all(not result.ok for result in results)
    assert "STOPPED" in {result.reason for result in results}
    assert driver.status.reason == "STOPPED"
    assert driver.print_slip(SLIP).result(0).reason == "NOT_STARTED"


def test_a_missing_logo_refuses_the_slip_without_stopping_the_driver(driver, printer):
    from drivers.escpos.slip import Logo

    result = driver.print_slip(Slip((Logo("/nonexistent/logo.png"), Text("x")))).result(2)
    assert (result.outcome, result.reason) == (PrintOutcome.REFUSED, "SLIP_LAYOUT")
    assert driver.print_slip(SLIP).result(5).ok


def test_refresh_reads_the_status_now(printer):
    driver = PrinterDriver(printer.url, status_interval_s=60, timeout_s=TIMEOUT_S)
    driver.start()
    try:
        reaches(driver, DeviceState.ONLINE, "")
        printer.set_paper(Paper.NEAR_END)
        assert driver.refresh().result(2).reason == "PAPER_NEAR_END"
    finally:
        driver.stop()


def test_a_bad_url_is_refused_when_the_driver_is_made():
    with pytest.raises(ValueError, match="not understood"):
        PrinterDriver("emulator")


# ---------------------------------------------------------------- serial line, on a pseudo-terminal


def test_serial_printer_on_a_pty_reports_status_and_prints():
    with PrinterEmulator(pty=True) as printer:
        link = PrinterLink(printer.url + "?baudrate=115200", timeout_s=TIMEOUT_S)
        try:
            assert link.query_status().state is DeviceState.ONLINE
            printer.set_paper(Paper.OUT)
            assert link.query_status().reason == "PAPER_OUT"
            printer.set_paper(Paper.OK)
            assert link.print_bytes(SLIP.render()).outcome is PrintOutcome.PRINTED
            assert printer.decoded().qr_codes == ("KIOSK-TEST|KS-0001|20240501093000",)
            printer.go_silent(True)
            assert link.query_status().reason == "SILENT"
            printer.go_silent(False)
            printer.disconnect()  # the USB-serial adapter pulled out
            assert link.query_status().reason == "UNREACHABLE"
        finally:
            link.close()


# ---------------------------------------------------------------- device file, written only


def test_a_device_file_prints_but_cannot_tell_its_status(tmp_path):
    target = tmp_path / "lp0"
    driver = PrinterDriver(f"file://{target}", status_interval_s=INTERVAL_S, timeout_s=TIMEOUT_S)
    driver.start()
    try:
        status = reaches(driver, DeviceState.ONLINE, "NO_STATUS")
        assert status.device_detail.paper is Paper.UNKNOWN and "write-only" in status.detail
        result = driver.print_slip(SLIP).result(2)
        assert (result.outcome, result.ok) == (PrintOutcome.PRINTED_UNCONFIRMED, True)
    finally:
        driver.stop()
    from drivers.escpos.decode import decode

    assert decode(target.read_bytes()).texts[0] == "打印机测试"
