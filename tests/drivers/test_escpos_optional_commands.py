"""Printers that leave out optional status commands: the driver probes what they answer and prints on them.

Against the emulator as such models (``PrinterEmulator(gs_r=False)``, one
that takes ``GS r 1`` in silence; ``PrinterEmulator(dle_eot=(1, 2, 4))``, one
without ``DLE EOT 3``), over real TCP, through the real driver, link and
``kiosk diag printer``.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime

import pytest

from drivers.escpos.diag import EXIT_OK, run_diag
from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.escpos.link import PrinterLink, PrintOutcome
from drivers.escpos.print_time import estimated_print_s, paper_length_mm
from drivers.escpos.realtime import RealtimeStatus
from drivers.escpos.slip import QrCode, Slip, Text, test_slip
from drivers.status import DeviceState, Paper

INTERVAL_S = 0.05
TIMEOUT_S = 0.3
PRINT_TIMEOUT_S = 10.0  # what `kiosk diag printer` allows: the finding's slip failed after exactly this
SLIP = test_slip("城东供电供水供气营业厅", "KS-0001", now=datetime(2024, 5, 1, 9, 30))
CUT = b"\x1dV"


def wait_for(condition, timeout_s=3.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError(f"{what} not met within {timeout_s} s")


@pytest.fixture
def no_gs_r():
    with PrinterEmulator(gs_r=False) as emulator:
        yield emulator


def started_driver(url: str) -> PrinterDriver:
    driver = PrinterDriver(url, status_interval_s=INTERVAL_S, timeout_s=TIMEOUT_S, print_timeout_s=PRINT_TIMEOUT_S)
    driver.start()
    wait_for(lambda: driver.status.reason != "NOT_STARTED", what="first status")
    return driver


@pytest.fixture
def driver(no_gs_r):
    driver = started_driver(no_gs_r.url)
    yield driver
    driver.stop()


# ---------------------------------------------------------------- a printer that does not answer GS r 1


def test_a_slip_on_a_printer_that_ignores_gs_r_is_reported_printed_in_about_its_print_time(driver, no_gs_r):
    print_s = estimated_print_s(SLIP.render())
    started = time.monotonic()
    result = driver.print_slip(SLIP).result(PRINT_TIMEOUT_S + 5)
    took_s = time.monotonic() - started
    assert (result.outcome, result.reason) == (PrintOutcome.PRINTED, ""), result.detail
    assert "does not answer GS r 1" in result.detail
    printed = no_gs_r.decoded()
    assert printed.qr_codes == ("KIOSK-TEST|KS-0001|20240501093000",) and printed.cuts == 1
    # Not the 10 s of waiting for an answer that never comes; not less than the slip needs to print.
    assert print_s <= took_s < print_s + 1.5, f"confirmed after {took_s:.2f} s, slip prints in {print_s:.2f} s"
    assert driver.status.state is DeviceState.ONLINE


def test_paper_running_out_mid_slip_on_a_printer_that_ignores_gs_r_is_still_a_failure(driver, no_gs_r):
    no_gs_r.fail_after(300, "paper_out")
    result = driver.print_slip(SLIP).result(PRINT_TIMEOUT_S + 5)
    assert (result.outcome, result.reason) == (PrintOutcome.FAILED, "PAPER_OUT")
    printed = no_gs_r.decoded()
    assert printed.texts[0] == "打印机测试" and printed.qr_codes == () and printed.cuts == 0


def test_paper_running_out_after_the_slip_was_taken_but_before_it_can_have_printed_is_a_failure(driver, no_gs_r):
    # The whole slip reached the printer; the roll ends while it would still be printing.
    result_box = []
    done = threading.Event()
    driver.print_slip(SLIP, on_done=lambda result: (result_box.append(result), done.set()))
    wait_for(lambda: CUT in no_gs_r.received, what="the whole slip taken by the printer")
    no_gs_r.set_paper(Paper.OUT)
    assert done.wait(PRINT_TIMEOUT_S + 5)
    assert (result_box[0].outcome, result_box[0].reason) == (PrintOutcome.FAILED, "PAPER_OUT")


def test_diag_test_slip_prints_on_a_printer_that_ignores_gs_r(no_gs_r):
    out = io.StringIO()
    started = time.monotonic()
    code = run_diag(no_gs_r.url, "test_slip", timeout_s=TIMEOUT_S, out=out, terminal_id="KS-0042")
    took_s = time.monotonic() - started
    text = out.getvalue()
    assert code == EXIT_OK, text
    assert "test slip printed" in text
    assert f"printer {no_gs_r.url}: answers DLE EOT 1, 2, 3, 4, not GS r 1 — a slip is confirmed by DLE EOT" in text
    assert took_s < 4.0, f"diag took {took_s:.2f} s"
    assert no_gs_r.decoded().cuts == 1


def test_a_serial_printer_that_ignores_gs_r_prints_and_is_reported_printed():
    with PrinterEmulator(pty=True, gs_r=False) as printer:
        link = PrinterLink(printer.url + "?baudrate=115200", timeout_s=TIMEOUT_S, print_timeout_s=PRINT_TIMEOUT_S)
        try:
            result = link.print_bytes(SLIP.render())
            assert (result.outcome, result.reason) == (PrintOutcome.PRINTED, ""), result.detail
            assert printer.decoded().cuts == 1
        finally:
            link.close()


# ---------------------------------------------------------------- a printer that does not answer DLE EOT 3


@pytest.fixture
def no_error_cause():
    with PrinterEmulator(dle_eot=(1, 2, 4)) as emulator:
        yield emulator


def test_a_printer_without_dle_eot_3_is_online_and_prints(no_error_cause):
    driver = started_driver(no_error_cause.url)
    try:
        wait_for(lambda: (driver.status.state, driver.status.reason) == (DeviceState.ONLINE, ""),
                 what=f"online (last: {driver.status})")
        result = driver.print_slip(SLIP).result(PRINT_TIMEOUT_S + 5)
        assert (result.outcome, result.reason) == (PrintOutcome.PRINTED, ""), result.detail
        assert no_error_cause.decoded().cuts == 1
    finally:
        driver.stop()


def test_a_printer_without_dle_eot_3_still_reports_paper_out_and_an_error_without_its_cause(no_error_cause):
    link = PrinterLink(no_error_cause.url, timeout_s=TIMEOUT_S)
    try:
        no_error_cause.set_paper(Paper.OUT)
        assert link.query_status().reason == "PAPER_OUT"
        no_error_cause.set_paper(Paper.OK)
        no_error_cause.set_error("autocutter")
        status = link.query_status()
        assert (status.state, status.reason) == (DeviceState.HARDWARE_ERROR, "OFFLINE_ERROR")
        assert "without a cause" in status.detail
        assert link.capabilities.realtime == (1, 2, 4)
    finally:
        link.close()


def test_diag_status_names_the_dle_eot_the_printer_ignores(no_error_cause):
    out = io.StringIO()
    assert run_diag(no_error_cause.url, "status", timeout_s=TIMEOUT_S, out=out) == EXIT_OK
    assert out.getvalue().splitlines()[1] == (
        f"printer {no_error_cause.url}: answers DLE EOT 1, 2, 4 (not 3: error cause) and GS r 1 — a slip is "
        "confirmed when GS r 1, sent after it, is answered")


# ---------------------------------------------------------------- probing, per connection


def test_what_a_printer_answers_is_learnt_per_connection_and_again_after_a_reconnect():
    with PrinterEmulator() as printer:
        link = PrinterLink(printer.url, timeout_s=TIMEOUT_S)
        try:
            assert link.query_status().state is DeviceState.ONLINE
            assert link.capabilities.paper_status is True
            printer.answers_gs_r = False  # another model behind the same address from now on
            link.query_status()
            assert link.capabilities.paper_status is True  # same connection: not asked again
            printer.disconnect()
            printer.reconnect()
            assert link.query_status().state is DeviceState.ONLINE
            assert link.capabilities.paper_status is False
            result = link.print_bytes(SLIP.render())
            assert result.outcome is PrintOutcome.PRINTED and "does not answer GS r 1" in result.detail
        finally:
            link.close()


def test_gs_r_is_not_probed_while_the_printer_is_stopped(no_gs_r):
    # A stopped printer does not execute GS r: silence then says nothing about the model,
    # and the command would wait in its buffer.
    no_gs_r.set_paper(Paper.OUT)
    link = PrinterLink(no_gs_r.url, timeout_s=TIMEOUT_S)
    try:
        assert link.query_status().reason == "PAPER_OUT"
        assert link.capabilities.paper_status is None
        assert b"\x1dr\x01" not in no_gs_r.received
        no_gs_r.set_paper(Paper.OK)
        assert link.query_status().state is DeviceState.ONLINE
        assert link.capabilities.paper_status is False
    finally:
        link.close()


def test_a_printer_that_answers_gs_r_is_confirmed_by_it_without_waiting_out_the_print_time():
    with PrinterEmulator() as printer:
        link = PrinterLink(printer.url, timeout_s=TIMEOUT_S)
        try:
            link.query_status()
            started = time.monotonic()
            result = link.print_bytes(SLIP.render())
            assert result.outcome is PrintOutcome.PRINTED and "confirmed by GS r 1" in result.detail
            assert time.monotonic() - started < estimated_print_s(SLIP.render()) / 2
        finally:
            link.close()


# ---------------------------------------------------------------- the pure parts


def test_a_status_from_some_dle_eot_n_reads_the_others_as_nothing_set():
    stopped = RealtimeStatus.parse(bytes([0x1A, 0x32, 0x7E]), (1, 2, 4)).device_status()
    assert (stopped.state, stopped.reason, stopped.device_detail.paper) == (
        DeviceState.HARDWARE_ERROR, "PAPER_OUT", Paper.OUT)
    ready = RealtimeStatus.parse(bytes([0x12]), (1,)).device_status()
    assert (ready.state, ready.device_detail.paper) == (DeviceState.ONLINE, Paper.UNKNOWN)
    assert "paper and cover unknown" in ready.detail


def test_the_print_time_grows_with_what_the_slip_puts_on_paper():
    short = Slip((Text("x"),)).render()
    long = Slip(tuple(Text(f"line {n}") for n in range(60))).render()
    with_qr = Slip((Text("x"), QrCode("T20240501-000123"))).render()
    assert paper_length_mm(short) < paper_length_mm(with_qr) < paper_length_mm(long)
    assert 60 * 4.2 < paper_length_mm(long) < 60 * 4.3 + 40  # 1/6 inch a line, plus the feed to the cutter
    assert estimated_print_s(long, speed_mm_s=50) == pytest.approx(
        2 * estimated_print_s(long, speed_mm_s=100) - 0.5)  # the cutter's allowance does not scale
