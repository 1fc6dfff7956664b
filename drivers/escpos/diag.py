"""``kiosk diag printer --device URL (--status | --test-slip)``: a technician's check of the printer.

Runs the link synchronously (a terminal may wait; the kiosk never does) and
prints one line per finding: the status, then what the printer answered when
the link connected (``drivers/escpos/probe.py``) and so how a slip is
confirmed on it.  Exit codes, for scripts:

    0  ok (online; paper near end is a warning; a write-only device file cannot be checked)
    1  the printer answers but cannot print, or the test slip failed
    2  the URL is not understood
    3  absent: cannot connect or open the device
    4  silent: connected, but no answer to the status request
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TextIO

from drivers.escpos.link import PrinterLink, PrintOutcome
from drivers.escpos.realtime import Reason
from drivers.escpos.slip import PAPER_80MM, test_slip
from drivers.status import DeviceState, DeviceStatus, Paper, PrinterDetail

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ABSENT, EXIT_SILENT = 0, 1, 2, 3, 4
ACTIONS = ("status", "test_slip")


def run_diag(url: str, action: str, timeout_s: float = 2.0, out: TextIO = sys.stdout, *,
             hall: str = "城东供电供水供气营业厅", hall_en: str = "Chengdong Utility Business Hall",
             terminal_id: str = "KS-0001", columns: int = PAPER_80MM) -> int:
    if action not in ACTIONS:
        raise ValueError(f"action {action!r}: one of {', '.join(ACTIONS)}")
    try:
        link = PrinterLink(url, timeout_s=timeout_s, print_timeout_s=max(10.0, 5 * timeout_s))
    except ValueError as error:
        print(f"printer: {error}", file=out)
        return EXIT_USAGE
    try:
        status = link.query_status()
        print(_describe(link.url, status), file=out)
        if link.capabilities is not None:
            print(f"printer {link.url}: {link.capabilities.describe()}", file=out)
        code = _exit_code(status)
        if action == "status" or code != EXIT_OK:
            if action == "test_slip" and code != EXIT_OK:
                print("printer: test slip not printed", file=out)
            return code
        slip = test_slip(hall, terminal_id, hall_en=hall_en, columns=columns)
        result = link.print_bytes(slip.render())
        if result.ok:
            note = "" if result.outcome is PrintOutcome.PRINTED else " — not confirmed: the device cannot answer"
            print(f"printer: test slip printed ({result.bytes_total} bytes, {columns} columns){note}", file=out)
            if result.outcome is PrintOutcome.PRINTED:
                print(f"printer: {result.detail}", file=out)
            return EXIT_OK
        print(f"printer: test slip {result.outcome.value} [{result.reason}] — {result.detail}", file=out)
        return EXIT_ERROR
    finally:
        link.close()


def _describe(url: str, status: DeviceStatus) -> str:
    sensors_known = isinstance(status.device_detail, PrinterDetail)
    detail = status.device_detail if sensors_known else PrinterDetail()
    status = replace(status, detail=status.detail.removeprefix(f"{url}: "))
    if status.state is DeviceState.OFFLINE:
        what = {Reason.UNREACHABLE: "absent (cannot connect)",
                Reason.SILENT: "silent (connected, no answer)"}.get(status.reason, "offline")
        return f"printer {url}: {what} [{status.reason}] — {status.detail}"
    paper = detail.paper.value.replace("_", " ")
    cover = "open" if detail.cover_open else "closed"
    sensors = f"paper {paper}, cover {cover}"
    if status.reason == Reason.NO_STATUS:
        return f"printer {url}: status unknown [{status.reason}] — {status.detail}"
    if status.state is DeviceState.ONLINE and not status.reason and detail.paper is not Paper.UNKNOWN:
        return f"printer {url}: online — {sensors}"
    if status.state is DeviceState.ONLINE and not status.reason:
        return f"printer {url}: online — {status.detail}"
    return f"printer {url}: {status.state.value} [{status.reason}] — {status.detail} ({sensors})"


def _exit_code(status: DeviceStatus) -> int:
    if status.usable:
        return EXIT_OK
    if status.reason == Reason.UNREACHABLE:
        return EXIT_ABSENT
    if status.reason == Reason.SILENT:
        return EXIT_SILENT
    return EXIT_ERROR
