"""``kiosk diag scanner``: what a barcode/QR scanner sends, and what the kiosk makes of it.

    kiosk diag scanner --port /dev/ttyACM0 --seconds 20
    kiosk diag scanner --port /dev/ttyS1 --mode trigger --trigger honeywell

Opens the port with the kiosk's own driver, then for ``--seconds`` prints
every line read: a payment code by kind and masked (last four digits), any
other line with the reason it is refused.  In trigger mode it starts a read
and starts another whenever one ends.  Exit status:

    0  at least one line read      2  port absent or unusable
    3  port open, nothing read in time (silent)
"""

from __future__ import annotations

import logging
import queue
import sys
import time
from typing import TextIO

from drivers.scanner.driver import ScannerDriver
from drivers.scanner.events import CodeRead, CodeRefused, ReadTimedOut, ScannerReason
from drivers.scanner.settings import ScanMode, ScannerSettings
from drivers.status import DeviceState

EXIT_OK, EXIT_ABSENT, EXIT_SILENT = 0, 2, 3
OPEN_WAIT_S = 1.0


def run_diag(port_url: str, seconds: float, settings: ScannerSettings | None = None,
             out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up now: whoever redirected stdout since import gets the report
    settings = settings or ScannerSettings()
    events: queue.Queue = queue.Queue()
    # This command reports on ``out`` itself: keep the driver's log lines off the terminal.
    quiet = logging.getLogger("kiosk.devices.scanner")
    was_propagating, quiet.propagate = quiet.propagate, False
    driver = ScannerDriver(port_url, settings, reconnect_backoff_s=(0.2, 1.0))
    driver.subscribe_events(events.put)
    driver.start()
    try:
        if not _opened(driver, port_url, out):
            return EXIT_ABSENT
        print(f"scanner on {port_url}: online, {settings.baudrate} baud, terminator "
              f"{settings.terminator.value.upper()}, {settings.mode.value} mode; reading for {seconds:g} s — "
              f"show a code to the scanner", file=out, flush=True)
        return _read(driver, events, seconds, out)
    finally:
        driver.stop()
        quiet.propagate = was_propagating


def _opened(driver: ScannerDriver, port_url: str, out: TextIO) -> bool:
    deadline = time.monotonic() + OPEN_WAIT_S
    while time.monotonic() < deadline and driver.status.reason == ScannerReason.CONNECTING:
        time.sleep(0.01)
    status = driver.status
    if status.state is DeviceState.ONLINE:
        return True
    print(f"scanner on {port_url}: {status.state.value} {status.reason}", file=out)
    print(f"  {status.detail or 'the port did not open in time'}", file=out)
    return False


def _read(driver: ScannerDriver, events: queue.Queue, seconds: float, out: TextIO) -> int:
    lines = 0
    deadline = time.monotonic() + seconds
    driver.trigger()
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=min(0.05, max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            if driver.status.state is DeviceState.OFFLINE:
                print(f"  the port went away: {driver.status.detail}", file=out)
                return EXIT_ABSENT
            continue
        if isinstance(event, CodeRead):
            lines += 1
            print(f"  payment code\t{event.kind.value}\t{event.masked}\t({len(event.code)} digits)", file=out,
                  flush=True)
        elif isinstance(event, CodeRefused):
            lines += 1
            print(f"  refused\t{event.reason.value}\t{event.shown or '-'}\t({event.length} characters): "
                  f"{event.explanation}", file=out, flush=True)
        if isinstance(event, (CodeRead, CodeRefused, ReadTimedOut)) and driver.settings.mode is ScanMode.TRIGGER:
            driver.trigger()
    if driver.status.state is DeviceState.HARDWARE_ERROR:
        print(f"  {driver.status.reason}: {driver.status.detail}", file=out)
    if lines == 0:
        print(f"  nothing read in {seconds:g} s — show a code to the scanner; if it beeps but nothing arrives, "
              f"check its speed ({driver.settings.baudrate} baud), its terminator and that it is set to a serial "
              f"(RS-232 / USB COM port) interface, not keyboard (HID)", file=out)
        return EXIT_SILENT
    print(f"  {lines} line(s) read", file=out)
    return EXIT_OK
