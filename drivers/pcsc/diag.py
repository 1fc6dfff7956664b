"""``kiosk diag card``: the card reader from a technician's terminal.

    kiosk diag card --list                 the readers pcscd sees, and a card in each
    kiosk diag card --reader NAME          wait for a card in NAME, print its ATR and account

NAME is a reader name as ``--list`` prints it (a unique prefix will do),
``pcsc`` for the first reader, or ``emulator`` for the in-process one.  The
read goes through :class:`~drivers.pcsc.reader.CardReaderDriver`, so it
exercises exactly what the kiosk runs.  Exit status:

    0  done          3  PC/SC service not running     4  no such reader
    5  no card in time                                6  card unreadable (mute, unknown, pulled)
"""

from __future__ import annotations

import logging
import queue
import sys
import time
from typing import TextIO

from drivers.pcsc import pcsc_api as api
from drivers.pcsc.card_app import CardInfo
from drivers.pcsc.emulator import EmulatedReader
from drivers.pcsc.pcsc_api import PcscError, PcscSystem
from drivers.pcsc.reader import (NO_READER, NOT_STARTED, PCSC_SERVICE_DOWN, READER_UNPLUGGED, CardError,
                                 CardInserted, CardReaderDriver)

EXIT_OK = 0
EXIT_SERVICE_DOWN = 3
EXIT_NO_READER = 4
EXIT_NO_CARD = 5
EXIT_CARD_ERROR = 6

_SERVICE_HELP = "start it with `systemctl start pcscd.socket` (or run `pcscd`), then try again"
_CARD_TYPES = {"OPEN_ACCOUNT": "open-account card", "PURCHASE": "purchase card", "REPLACEMENT": "replacement card"}


def run_diag(action: str, reader: str | None = None, timeout_s: float = 30.0, out: TextIO = sys.stdout, *,
             emulator: EmulatedReader | None = None) -> int:
    """``action`` "list" or "read"; prints to ``out``; returns the exit status."""
    if action == "list":
        return _list(out, emulator)
    if action == "read":
        return _read(reader or "pcsc", timeout_s, out, emulator)
    raise ValueError(f"action {action!r}: use 'list' or 'read'")


def _print(out: TextIO, line: str) -> None:
    print(line, file=out, flush=True)


def _list(out: TextIO, emulator: EmulatedReader | None) -> int:
    system = emulator if emulator is not None else PcscSystem()
    try:
        context = system.establish()
    except PcscError as error:
        _print(out, f"card reader: PC/SC service not running ({error}) — {_SERVICE_HELP}")
        return EXIT_SERVICE_DOWN
    try:
        readers = context.list_readers()
        if not readers:
            _print(out, "card reader: pcscd runs but sees no reader — check the reader's USB cable")
            return EXIT_NO_READER
        for name in readers:
            state = context.wait_change(name, api.STATE_UNAWARE, 0)
            if state.present:
                _print(out, f"{name}\tcard in, ATR {state.atr.hex(' ').upper()}")
            else:
                _print(out, f"{name}\tno card")
        return EXIT_OK
    except PcscError as error:
        _print(out, f"card reader: PC/SC failed while listing readers ({error}) — {_SERVICE_HELP}")
        return EXIT_SERVICE_DOWN
    finally:
        context.release()


def _setting(reader: str) -> str:
    if reader in ("emulator", "pcsc") or reader.startswith("pcsc:"):
        return reader
    return f"pcsc:{reader}"


def _read(reader: str, timeout_s: float, out: TextIO, emulator: EmulatedReader | None) -> int:
    # This command reports on ``out`` itself; with no logging set up, the
    # driver's warnings would otherwise reach the terminal as stray lines.
    quiet = logging.NullHandler()
    devices_log = logging.getLogger("kiosk.devices")
    silence = not logging.getLogger().hasHandlers()
    if silence:
        devices_log.addHandler(quiet)
    try:
        return _read_card(reader, timeout_s, out, emulator)
    finally:
        if silence:
            devices_log.removeHandler(quiet)


def _read_card(reader: str, timeout_s: float, out: TextIO, emulator: EmulatedReader | None) -> int:
    try:
        driver = CardReaderDriver(_setting(reader), poll_interval_s=0.2, apdu_timeout_s=max(0.5, min(2.0, timeout_s)),
                                  emulator=emulator)
    except ValueError as error:
        _print(out, f"card reader: {error}")
        return EXIT_NO_READER
    events: queue.SimpleQueue = queue.SimpleQueue()
    driver.subscribe(events.put)
    deadline = time.monotonic() + timeout_s
    try:
        driver.start()
        status = _first_status(driver)
        if status.reason == PCSC_SERVICE_DOWN:
            _print(out, f"card reader: PC/SC service not running — {_SERVICE_HELP}\n  {status.detail}")
            return EXIT_SERVICE_DOWN
        if status.reason in (NO_READER, READER_UNPLUGGED):
            _print(out, f"card reader: {status.detail}")
            return EXIT_NO_READER
        name = status.device_detail.reader_name if status.device_detail else reader
        _print(out, f"card reader {name}: waiting up to {timeout_s:g} s for a card")
        while True:
            try:
                event = events.get(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    _print(out, f"card reader {name}: no card inserted within {timeout_s:g} s")
                    return EXIT_NO_CARD
                if driver.status.reason == PCSC_SERVICE_DOWN:
                    _print(out, f"card reader: PC/SC service stopped — {_SERVICE_HELP}")
                    return EXIT_SERVICE_DOWN
                continue
            if isinstance(event, CardInserted):
                _report_card(out, event)
                return EXIT_OK
            if isinstance(event, CardError):
                _print(out, f"card reader {name}: card unreadable: {event.reason}\n  {event.detail}")
                return EXIT_CARD_ERROR
    finally:
        driver.stop()


def _first_status(driver: CardReaderDriver):
    """The driver's first report (it comes within one poll interval)."""
    give_up = time.monotonic() + 3.0
    while driver.status.reason == NOT_STARTED and time.monotonic() < give_up:
        time.sleep(0.01)
    return driver.status


def _report_card(out: TextIO, event: CardInserted) -> None:
    info: CardInfo = event.card_info
    _print(out, f"reader:  {event.reader}")
    _print(out, f"ATR:     {event.atr.hex(' ').upper()}")
    _print(out, f"account: {info.account_no} ({info.utility.value})")
    _print(out, f"meter:   {info.meter_no}")
    _print(out, f"card:    {_CARD_TYPES.get(info.card_type.name, info.card_type.name)}"
                f"{', serial ' + info.serial if info.serial else ''}")
    _print(out, f"purse:   ¥{info.balance_fen // 100}.{info.balance_fen % 100:02d} to load, "
                f"{info.purchase_count} purchases")
