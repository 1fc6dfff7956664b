"""``kiosk diag acceptor``: check a banknote acceptor from a terminal, with real hardware or the emulator.

    kiosk diag acceptor --port /dev/ttyS0
    kiosk diag acceptor --port /dev/ttyS0 --take-notes 3 --timeout 60

Prints the status, the firmware version and the currency table.  With
``--take-notes N`` it enables every denomination, stacks up to N notes and
prints each credited note as one JSON line (``{"event": "credited", "yuan":
50}``), then a JSON summary line with the total.  Exit codes: 0 ok (also
when fewer than N notes came before the timeout: the summary says so),
2 port absent or unusable, 3 acceptor silent or not speaking ID-003,
4 acceptor in error (the reason and what to do are printed).
"""

from __future__ import annotations

import json
import queue
import sys
import time
from typing import TextIO

from drivers.id003.driver import AcceptorDriver
from drivers.id003.events import NoteCredited, NoteRejected, NoteReturned, NoteUnaccounted, PowerUpWithNote
from drivers.status import DeviceState

EXIT_OK, EXIT_ABSENT, EXIT_SILENT, EXIT_ERROR = 0, 2, 3, 4
_ABSENT = {"PORT_GONE", "PORT_UNAVAILABLE"}
_SETTLED = {DeviceState.ONLINE, DeviceState.HARDWARE_ERROR}


def run_diag(port_url: str, take_notes: int | None, timeout_s: float, out: TextIO = sys.stdout,
             *, poll_interval_s: float = 0.1) -> int:
    if take_notes is not None and take_notes < 1:
        print("kiosk diag acceptor: --take-notes must be 1 or more", file=out)
        return 1
    deadline = time.monotonic() + timeout_s
    events: queue.Queue = queue.Queue()
    driver = AcceptorDriver(port_url, poll_interval_s=poll_interval_s,
                            silence_timeout_s=max(1.0, min(3.0, timeout_s / 2)),
                            reconnect_backoff_s=(0.2, 1.0))
    driver.subscribe_events(events.put)
    driver.start()
    try:
        code = _wait_settled(driver, port_url, deadline, out)
        if code != EXIT_OK or take_notes is None:
            return code
        return _take_notes(driver, events, take_notes, deadline, out)
    finally:
        driver.inhibit()
        driver.stop()


def _wait_settled(driver: AcceptorDriver, port_url: str, deadline: float, out: TextIO) -> int:
    """Wait until the acceptor is usable or clearly not; print what was found."""
    while time.monotonic() < deadline:
        status = driver.status
        if status.state in _SETTLED and driver.denominations:
            break
        if status.state is DeviceState.HARDWARE_ERROR and status.reason == "NO_CURRENCY_TABLE":
            break
        if status.state is DeviceState.OFFLINE and status.reason in _ABSENT | {"SILENT", "COMMUNICATION_ERROR"}:
            break
        time.sleep(0.05)
    status = driver.status
    print(f"acceptor on {port_url}: {status.state.value}{' ' + status.reason if status.reason else ''}", file=out)
    if status.detail:
        print(f"  {status.detail}", file=out)
    if status.state is DeviceState.OFFLINE:
        if status.reason in _ABSENT:
            return EXIT_ABSENT
        if status.reason in ("CONNECTING", "STOPPED"):
            print("  no answer within the timeout", file=out)
        return EXIT_SILENT
    print(f"  version: {driver.version or '(not reported)'}", file=out)
    table = driver.denominations
    if table:
        notes = ", ".join(f"{code:02X}h=¥{fen // 100}" for code, fen in sorted(table.items()))
        print(f"  currency table: {notes}", file=out)
    if status.state is DeviceState.HARDWARE_ERROR:
        return EXIT_ERROR
    if status.state is DeviceState.BUSY and not table:
        print("  the acceptor did not finish initialising within the timeout", file=out)
        return EXIT_ERROR
    return EXIT_OK


def _take_notes(driver: AcceptorDriver, events: queue.Queue, wanted: int, deadline: float, out: TextIO) -> int:
    driver.enable(set(driver.denominations.values()))
    print(f"  insert up to {wanted} note(s); waiting {max(0.0, deadline - time.monotonic()):.0f} s", file=out,
          flush=True)
    credited: list[int] = []
    failure = None
    while len(credited) < wanted and time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.05)
        except queue.Empty:
            status = driver.status
            if status.state in (DeviceState.HARDWARE_ERROR, DeviceState.OFFLINE):
                failure = status
                if len(credited) == wanted or status.state is DeviceState.HARDWARE_ERROR or \
                        status.reason in _ABSENT | {"SILENT", "COMMUNICATION_ERROR"}:
                    break
            continue
        if isinstance(event, NoteCredited):
            credited.append(event.denomination_fen)
            if len(credited) == wanted:
                driver.inhibit()
            print(json.dumps({"event": "credited", "yuan": event.denomination_fen // 100}), file=out, flush=True)
        elif isinstance(event, NoteReturned):
            print(f"  note returned ({_yuan(event.denomination_fen)})", file=out)
        elif isinstance(event, NoteRejected):
            print(f"  note rejected: {event.reason}", file=out)
        elif isinstance(event, (NoteUnaccounted, PowerUpWithNote)):
            print(f"  attention: {event}", file=out)
    total_fen = sum(credited)
    summary = {"event": "summary", "notes": len(credited), "total_yuan": total_fen // 100,
               "timed_out": len(credited) < wanted and failure is None}
    print(json.dumps(summary), file=out, flush=True)
    if failure is not None and len(credited) < wanted:
        print(f"acceptor stopped taking notes: {failure.state.value} {failure.reason}", file=out)
        print(f"  {failure.detail}", file=out)
        return EXIT_ERROR if failure.state is DeviceState.HARDWARE_ERROR else (
            EXIT_ABSENT if failure.reason in _ABSENT else EXIT_SILENT)
    return EXIT_OK


def _yuan(fen: int | None) -> str:
    return f"¥{fen // 100}" if fen is not None else "unknown value"
