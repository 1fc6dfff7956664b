"""``kiosk diag card``: the card reader from a technician's terminal.

    kiosk diag card --list                 the readers pcscd sees, and a card in each
    kiosk diag card --reader NAME          wait for a card in NAME, print its ATR, account, purse
                                           and write-back file (what its meter last reported)

Every card gets its reader's name and its ATR in hex — ours, another
utility's, a bank card, one that cannot be read: the ATR is what identifies
a card the kiosk does not know.  The driver reports a card it cannot use
without its ATR, and such a card may be taken out before that report, so
``--reader`` keeps its own look at the reader (a PC/SC context of its own)
and remembers the ATR of the card from the moment it is seen.

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
from drivers.pcsc.purse_write import PurseReadError, read_purse
from drivers.pcsc.reader import (NO_READER, NOT_STARTED, PCSC_SERVICE_DOWN, READER_UNPLUGGED, CardError,
                                 CardInserted, CardReaderDriver)
from drivers.pcsc.write_back import MeterStatus

EXIT_OK = 0
EXIT_SERVICE_DOWN = 3
EXIT_NO_READER = 4
EXIT_NO_CARD = 5
EXIT_CARD_ERROR = 6

_SERVICE_HELP = "start it with `systemctl start pcscd.socket` (or run `pcscd`), then try again"
_NO_ATR = "the card did not answer the reset (mute, dirty contacts, or inserted the wrong way round)"
_METER_FLAGS = ((MeterStatus.RELAY_OPEN, "supply cut off"), (MeterStatus.CREDIT_LOW, "credit below the alarm level"),
                (MeterStatus.OVERDRAFT, "on overdraft"))
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
            if state.present and state.atr:
                _print(out, f"{name}\tcard in, ATR {_hex(state.atr)}")
            elif state.present:
                _print(out, f"{name}\tcard in, no ATR — {_NO_ATR}")
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
    driver.subscribe_events(events.put)
    deadline = time.monotonic() + timeout_s
    watch: _AtrWatch | None = None
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
        watch = _AtrWatch(emulator if emulator is not None else PcscSystem(), name)
        while True:
            # Half of each tick in the reader's state, which returns at once when a card comes
            # or goes: pcscd shows a card for at least one of its polls, so even one pulled
            # while it is read has its ATR seen.
            watch.look(wait_s=max(0.0, min(0.05, deadline - time.monotonic())))
            try:
                event = events.get(timeout=max(0.0, min(0.05, deadline - time.monotonic())))
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
                _report_purse(out, driver)
                return EXIT_OK
            if isinstance(event, CardError):
                watch.look()
                _report_card_identity(out, event.reader or name, watch)
                _print(out, f"card reader {name}: card unreadable: {event.reason}\n  {event.detail}")
                return EXIT_CARD_ERROR
    finally:
        if watch is not None:
            watch.close()
        driver.stop()


def _first_status(driver: CardReaderDriver):
    """The driver's first report (it comes within one poll interval)."""
    give_up = time.monotonic() + 3.0
    while driver.status.reason == NOT_STARTED and time.monotonic() < give_up:
        time.sleep(0.01)
    return driver.status


class _AtrWatch:
    """The diag's own look at one reader: the ATR of the last card seen in it.

    A context of its own, used from the diag's thread only (pcsc_api: one
    context per thread); every look is one ``SCardGetStatusChange``.  A look
    that finds nothing new keeps what was seen, so the ATR of a card taken
    out before the driver reported it stays known.
    """

    def __init__(self, system, reader: str) -> None:
        self.reader = reader
        self.atr = b""
        self.seen = False  # a card was in the reader at one of the looks
        self._known = api.STATE_UNAWARE
        try:
            self._context = system.establish()
        except PcscError:
            self._context = None  # the driver reports the service; the ATR is then unknown

    def look(self, wait_s: float = 0.0) -> None:
        """Take in the reader's state, waiting up to ``wait_s`` for it to change."""
        if self._context is None:
            return
        try:
            state = self._context.wait_change(self.reader, self._known, wait_s)
        except PcscError:
            return
        if state.flags == self._known:
            return  # nothing changed since the last look
        self._known = state.known
        if state.present:
            self.seen = True
            self.atr = state.atr

    def close(self) -> None:
        if self._context is not None:
            self._context.release()
            self._context = None


def _report_card_identity(out: TextIO, reader: str, watch: _AtrWatch) -> None:
    """Reader and ATR of a card the kiosk cannot use: what a technician identifies it by."""
    _print(out, f"reader:  {reader}")
    if watch.atr:
        _print(out, f"ATR:     {_hex(watch.atr)}")
        _print(out, f"         {describe_atr(watch.atr)}")
    elif watch.seen:
        _print(out, f"ATR:     none — {_NO_ATR}")
    else:
        _print(out, "ATR:     not seen — the card left the reader before it could be looked at")


def describe_atr(atr: bytes) -> str:
    """The protocols and historical bytes of an ATR (ISO/IEC 7816-3 §8.2), for identifying a card.

    TS, then T0 (high nibble: which of TA1–TD1 follow; low nibble K: the
    number of historical bytes); each TDi's low nibble is a protocol T and its
    high nibble says which interface bytes follow it; then the K historical
    bytes, and TCK when a protocol other than T=0 is indicated.
    """
    if len(atr) < 2:
        return f"too short for an ATR ({len(atr)} byte{'s' if len(atr) != 1 else ''})"
    index, indicator, protocols = 1, atr[1], []
    historical_count = atr[1] & 0x0F
    while True:
        index += 1 + bin(indicator & 0x70).count("1")  # past this TDi-1/T0 and its TA, TB, TC
        if not indicator & 0x80:
            break
        if index >= len(atr):
            return "interface bytes cut short: not a valid ATR"
        indicator = atr[index]
        protocols.append(indicator & 0x0F)
    historical = atr[index:index + historical_count]
    if len(historical) < historical_count:
        return f"says {historical_count} historical bytes but has {len(historical)}: not a valid ATR"
    offered = ", ".join(f"T={t}" for t in dict.fromkeys(protocols or [0]))
    text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in historical)
    readable = f' "{text}"' if sum(char != "." for char in text) >= 4 else ""
    return f"protocols {offered}; {historical_count} historical bytes: {_hex(historical) or '-'}{readable}"


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


def _yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def _report_purse(out: TextIO, driver: CardReaderDriver) -> None:
    """The purse read again, and the write-back file: what the card's meter last said."""
    try:
        reading = read_purse(driver)
    except PurseReadError as error:
        _print(out, f"write-back: could not be read ({error.reason}: {error.detail})")
        return
    report = reading.write_back
    if report is None:
        _print(out, "write-back: empty — the card has not been in its meter since it was issued")
        return
    flags = [name for flag, name in _METER_FLAGS if flag in report.status] or ["supply on"]
    _print(out, f"write-back: meter {report.meter_no} on {report.written_at:%Y-%m-%d %H:%M}: "
                f"{_yuan(report.remaining_fen)} left, overdraft {_yuan(report.overdraft_fen)}, "
                f"loaded purchase {report.purchase_count}; {', '.join(flags)}")
    if reading.meter_behind:
        _print(out, f"            the card's purchase {reading.purchase_count} is not in the meter yet")


def _report_card(out: TextIO, event: CardInserted) -> None:
    info: CardInfo = event.card_info
    _print(out, f"reader:  {event.reader}")
    _print(out, f"ATR:     {_hex(event.atr)}")
    _print(out, f"         {describe_atr(event.atr)}")
    _print(out, f"account: {info.account_no} ({info.utility.value})")
    _print(out, f"meter:   {info.meter_no}")
    _print(out, f"card:    {_CARD_TYPES.get(info.card_type.name, info.card_type.name)}"
                f"{', serial ' + info.serial if info.serial else ''}")
    _print(out, f"purse:   ¥{info.balance_fen // 100}.{info.balance_fen % 100:02d} to load, "
                f"{info.purchase_count} purchases")
