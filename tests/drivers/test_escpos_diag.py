"""``kiosk diag printer`` against the emulator: what a technician reads, and the exit codes."""

from __future__ import annotations

import io

import pytest

from drivers.escpos.diag import EXIT_ABSENT, EXIT_ERROR, EXIT_OK, EXIT_SILENT, EXIT_USAGE, run_diag
from drivers.escpos.emulator import PrinterEmulator
from drivers.status import Paper

TIMEOUT_S = 0.3


@pytest.fixture
def printer():
    with PrinterEmulator() as emulator:
        yield emulator


def diag(url, action="status"):
    out = io.StringIO()
    code = run_diag(url, action, timeout_s=TIMEOUT_S, out=out, hall="城东营业厅", hall_en="Chengdong Hall",
                    terminal_id="KS-0042")
    return code, out.getvalue()


def test_status_of_a_ready_printer(printer):
    code, text = diag(printer.url)
    assert code == EXIT_OK
    assert text == (f"printer {printer.url}: online — paper ok, cover closed\n"
                    f"printer {printer.url}: answers DLE EOT 1, 2, 3, 4 and GS r 1 — a slip is confirmed when "
                    "GS r 1, sent after it, is answered\n")


def test_status_warns_of_paper_near_end_but_passes(printer):
    printer.set_paper(Paper.NEAR_END)
    code, text = diag(printer.url)
    assert code == EXIT_OK and "[PAPER_NEAR_END]" in text and "replace it soon" in text


@pytest.mark.parametrize("fault, words", [
    (lambda p: p.set_paper(Paper.OUT), "[PAPER_OUT]"),
    (lambda p: p.open_cover(True), "[COVER_OPEN]"),
    (lambda p: p.set_error("unrecoverable"), "[OFFLINE_ERROR]"),
])
def test_status_of_a_printer_in_error(printer, fault, words):
    fault(printer)
    code, text = diag(printer.url)
    assert code == EXIT_ERROR and "hardware_error" in text and words in text


def test_status_of_an_absent_printer():
    with PrinterEmulator() as gone:
        url = gone.url
    code, text = diag(url)
    assert code == EXIT_ABSENT and "absent (cannot connect)" in text and "refused" in text


def test_status_of_a_silent_printer(printer):
    printer.go_silent(True)
    code, text = diag(printer.url)
    assert code == EXIT_SILENT and "silent (connected, no answer)" in text and "0 of 4" in text


def test_a_bad_url_is_a_usage_error():
    code, text = diag("emulator")
    assert code == EXIT_USAGE and "not understood" in text


def test_test_slip_prints_both_languages_and_a_qr_code(printer):
    code, text = diag(printer.url, "test_slip")
    assert code == EXIT_OK and "test slip printed" in text
    printed = printer.decoded()
    assert {"打印机测试", "Printer test slip", "城东营业厅", "Chengdong Hall"} <= set(printed.texts)
    assert printed.qr_codes[0].startswith("KIOSK-TEST|KS-0042|")
    assert printed.cuts == 1 and printed.suspect == ()


def test_test_slip_is_not_printed_when_the_cover_is_open(printer):
    printer.open_cover(True)
    code, text = diag(printer.url, "test_slip")
    assert code == EXIT_ERROR and "test slip not printed" in text
    assert printer.decoded().lines == ()


def test_test_slip_failing_midway_says_what_happened(printer):
    printer.fail_after(200, "paper_out")
    code, text = diag(printer.url, "test_slip")
    assert code == EXIT_ERROR and "test slip failed [PAPER_OUT]" in text


def test_test_slip_to_a_device_file_is_written_but_unconfirmed(tmp_path):
    code, text = diag(f"file://{tmp_path / 'lp0'}", "test_slip")
    assert code == EXIT_OK and "status unknown" in text and "not confirmed" in text
