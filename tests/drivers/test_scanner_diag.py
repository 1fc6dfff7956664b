"""``kiosk diag scanner`` against the emulated scanner: what it prints, and its exit status."""

from __future__ import annotations

import io
import threading
import time

from app.cli import main
from drivers.scanner.diag import EXIT_ABSENT, EXIT_OK, EXIT_SILENT, run_diag
from drivers.scanner.emulator import ScannerEmulator


def later(action, delay_s: float = 0.3) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay_s), action()))
    thread.start()
    return thread


def test_diag_prints_each_code_masked_with_its_kind_and_each_refusal_with_its_reason():
    with ScannerEmulator() as emulator:
        def scan():
            emulator.show("134567890123456789")
            emulator.show("https://example.com/pay?token=secret")
        thread = later(scan)
        out = io.StringIO()
        code = run_diag(emulator.port, 1.0, out=out)
        thread.join()
    text = out.getvalue()
    assert code == EXIT_OK
    assert "payment code\twechat\t**************6789" in text
    assert "134567890123456789" not in text
    assert "refused\tURL\thttps://example.com" in text and "secret" not in text


def test_diag_on_a_silent_scanner_says_so_and_exits_non_zero():
    with ScannerEmulator() as emulator:
        out = io.StringIO()
        assert run_diag(emulator.port, 0.3, out=out) == EXIT_SILENT
    assert "nothing read in 0.3 s" in out.getvalue()


def test_diag_on_an_absent_port_names_it_and_exits_non_zero(capsys):
    assert main(["diag", "scanner", "--port", "/tmp/no-such-scanner", "--seconds", "1"]) == EXIT_ABSENT
    printed = capsys.readouterr().out
    assert "/tmp/no-such-scanner" in printed and "PORT_GONE" in printed


def test_diag_in_trigger_mode_through_the_command_line_reads_a_held_code(capsys):
    with ScannerEmulator(mode="trigger") as emulator:
        emulator.show("6212345678901234567")
        code = main(["diag", "scanner", "--port", emulator.port, "--seconds", "0.6", "--mode", "trigger"])
    assert code == EXIT_OK
    assert "unionpay\t***************4567" in capsys.readouterr().out


def test_diag_refuses_a_setting_out_of_range_before_opening_anything(capsys):
    assert main(["diag", "scanner", "--port", "/dev/null", "--baudrate", "1234"]) == 1
    assert "baudrate=1234" in capsys.readouterr().err
