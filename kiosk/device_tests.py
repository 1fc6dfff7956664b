"""The device tests of the maintenance screen, on the real drivers.

* :class:`AcceptorTest` — the technician feeds notes.  Each is decided like a
  customer's (``kiosk/cash_in.py``): refused unless its denomination is
  accepted and the journal can take it (``guard()``).  A note the acceptor
  declares valid is journaled with :meth:`MoneyJournal.record_test_note` on
  the driver's thread, *before* the driver acknowledges VEND VALID: a test
  note is money in the box, in no payment, never credited to a customer, and
  counted at the next collection.
* :class:`PrinterTest` — a test slip (``kiosk/test_slip.py``) through the
  driver; the result is OK, paper out, offline or another error, with the
  driver's reason code and sentence.
* :class:`CardReadTest` — the card in the reader now (or the next one put
  in): its ATR, type, utility and account number, masked (rule 5).

Plain Python, no Qt.  ``start``/``decide`` return at once; ``stop``, ``run``
and ``read`` block and are run on a worker by the application layer.
Snapshots go to ``on_change`` on the driver's thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Callable

from contract.masking import mask_account
from drivers.escpos.slip import PAPER_80MM
from drivers.id003.events import NoteCredited, NoteRejected, NoteReturned
from drivers.pcsc.events import CardError, CardInserted, CardRemoved
from drivers.status import CardReaderDetail, DeviceState
from kiosk.test_slip import PrinterFacts, TestSlipData, printer_test_slip

log = logging.getLogger("kiosk.maintenance.devices")

SETTLE_TIMEOUT_S = 10.0  # as a customer's cash-in: a real acceptor stacks a note in about a second
PRINT_WAIT_S = 40.0  # longer than the driver's own print timeout: its answer comes first
CARD_WAIT_S = 20.0  # how long "insert a card now" waits
_POLL_S = 0.02

# Why a test note went back; the page says it in the technician's language.
JOURNAL_UNAVAILABLE = "journal_unavailable"
NOTE_NOT_ACCEPTED = "note_not_accepted"
NOTE_REJECTED = "note_rejected"


# ---------------------------------------------------------------- the acceptor
@dataclass(frozen=True)
class AcceptorTestProgress:
    running: bool = False
    notes_fen: tuple[int, ...] = ()  # journaled test notes, in the order they were stacked
    returned_reason: str = ""  # why the last note went back ("" when it did not)
    note_in_escrow: bool = False
    journal_failed: bool = False  # a stacked note could not be journaled: it is in the log; count the box
    unsettled: bool = False  # stop() ended with a note still inside: it is still journaled when it lands

    @property
    def count(self) -> int:
        return len(self.notes_fen)

    @property
    def total_fen(self) -> int:
        return sum(self.notes_fen)


class AcceptorTest:
    def __init__(self, journal, acceptor, by: str, accepted_fen: frozenset[int],
                 guard: Callable[[], str] | None = None,
                 on_change: Callable[[AcceptorTestProgress], None] | None = None) -> None:
        """``by``: the technician (journaled with every note); ``guard()`` says why the
        journal should take no more notes ("" when it can), asked before every note."""
        if not by.strip():
            raise ValueError("an acceptor test needs the technician's name: it is journaled with every note")
        self._journal = journal
        self._acceptor = acceptor
        self._by = by.strip()
        self._accepted = frozenset(accepted_fen)
        self._guard = guard
        self._on_change = on_change or (lambda _progress: None)
        # Unique across restarts and driver instances: the journal keeps the first row of a reference.
        self._ref_prefix = f"TEST/{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._closing = False
        self._intake_stopped = False
        self._stop_listening: Callable[[], None] = lambda: None
        self._progress = AcceptorTestProgress()

    @property
    def progress(self) -> AcceptorTestProgress:
        with self._lock:
            return self._progress

    def start(self) -> AcceptorTestProgress:
        self._stop_listening = self._acceptor.subscribe_events(self._on_event)
        self._acceptor.set_decider(self.decide)
        with self._lock:
            self._progress = replace(self._progress, running=True)
        self._acceptor.enable(self._accepted)
        log.info("acceptor test started", extra={"by": self._by, "ref": self._ref_prefix})
        return self.progress

    def stop(self, settle_timeout_s: float = SETTLE_TIMEOUT_S) -> AcceptorTestProgress:
        """Inhibit, wait (bounded) until no note is inside; blocks.  While one still is, the test
        keeps listening, so a note that lands later is still journaled; call stop() again."""
        with self._lock:
            self._closing = True  # a note reaching escrow from now on goes back
        self._acceptor.inhibit()
        deadline = time.monotonic() + settle_timeout_s
        while not self._acceptor.settled and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        settled = self._acceptor.settled
        if settled:
            self._acceptor.set_decider(None)
            self._stop_listening()
        with self._lock:
            self._progress = replace(self._progress, running=False, note_in_escrow=not settled,
                                     unsettled=not settled)
            progress = self._progress
        log.info("acceptor test stopped", extra={"by": self._by, "notes": progress.count,
                                                  "total_fen": progress.total_fen, "settled": settled})
        self._on_change(progress)
        return progress

    # -- the driver's thread ------------------------------------------------------
    def decide(self, denomination_fen: int) -> bool:
        """Stack this note?  Never unless the journal can record it."""
        with self._lock:
            closing, stopped = self._closing, self._intake_stopped
        if closing:
            return False
        reason = JOURNAL_UNAVAILABLE if stopped else self._refusal(denomination_fen)
        with self._lock:
            if reason == JOURNAL_UNAVAILABLE:
                self._intake_stopped = True
            self._progress = replace(self._progress, returned_reason=reason, note_in_escrow=not reason)
            progress = self._progress
        self._on_change(progress)
        if reason == JOURNAL_UNAVAILABLE:
            self._acceptor.inhibit()  # no more notes until the journal's disk is put right
        return not reason

    def _refusal(self, denomination_fen: int) -> str:
        if denomination_fen not in self._accepted:
            return NOTE_NOT_ACCEPTED
        try:
            problem = self._guard() if self._guard is not None else ""
        except Exception as error:  # noqa: BLE001 - a guard that cannot tell is a no
            problem = f"the journal guard failed: {error}"
        if problem:
            log.critical("journal cannot take a test note: returning it", extra={"problem": str(problem)})
            return JOURNAL_UNAVAILABLE
        return ""

    def _on_event(self, event) -> None:
        if isinstance(event, NoteCredited):
            self._credit(event)
        elif isinstance(event, NoteReturned | NoteRejected):
            with self._lock:
                reason = self._progress.returned_reason or NOTE_REJECTED
                self._progress = replace(self._progress, note_in_escrow=False, returned_reason=reason)
                progress = self._progress
            self._on_change(progress)

    def _credit(self, event: NoteCredited) -> None:
        ref = f"{self._ref_prefix}/{event.sequence}"  # one test, one driver: its sequence
        try:
            # On disk before the driver acknowledges VEND VALID (it waits for us).
            self._journal.record_test_note(event.denomination_fen, ref, self._by)
        except Exception:  # noqa: BLE001 - the note is in the box: never lose it silently
            log.critical("test note stacked but not journaled: count the cash box", exc_info=True,
                         extra={"denomination_fen": event.denomination_fen, "ref": ref, "by": self._by})
            with self._lock:
                self._intake_stopped = True
                self._progress = replace(self._progress, journal_failed=True, note_in_escrow=False)
                progress = self._progress
            self._acceptor.inhibit()
            self._on_change(progress)
            return
        with self._lock:
            self._progress = replace(self._progress, notes_fen=self._progress.notes_fen + (event.denomination_fen,),
                                     note_in_escrow=False, returned_reason="")
            progress = self._progress
        self._on_change(progress)


# ---------------------------------------------------------------- the printer
class PrinterOutcome(StrEnum):
    OK = "ok"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"  # not reachable, silent, or its driver is not running
    ERROR = "error"  # reachable but cannot print: cover open, cutter, ...


_OFFLINE_REASONS = frozenset({"UNREACHABLE", "SILENT", "NOT_STARTED", "STOPPED", "CONNECTION_LOST",
                              "WRITE_TIMEOUT"})


@dataclass(frozen=True)
class PrinterTestResult:
    outcome: PrinterOutcome
    reason: str  # the driver's code ("" when printed)
    detail: str  # the driver's sentence, for the technician
    facts: PrinterFacts
    confirmed: bool = True  # False: written to a device that cannot say it printed


class PrinterTest:
    def __init__(self, printer, terminal_id: str, hall_zh: str, hall_en: str, columns: int = PAPER_80MM,
                 now: Callable[[], datetime] = datetime.now) -> None:
        self._printer = printer
        self._terminal_id = terminal_id
        self._hall = (hall_zh, hall_en)
        self._columns = columns
        self._now = now

    def run(self, wait_s: float = PRINT_WAIT_S) -> PrinterTestResult:
        """Print the test slip and wait for the driver's result (blocks: a worker's call)."""
        facts = PrinterFacts.of(self._printer, self._columns)
        slip = printer_test_slip(TestSlipData(self._terminal_id, *self._hall, self._now(), facts))
        try:
            result = self._printer.print_slip(slip).result(timeout=wait_s)
        except FutureTimeout:
            return PrinterTestResult(PrinterOutcome.ERROR, "PRINT_TIMEOUT",
                                     f"the printer driver gave no result within {wait_s:g} s", facts)
        facts = PrinterFacts.of(self._printer, self._columns)  # what the printer says after the slip
        log.info("printer test", extra={"outcome": result.outcome.value, "reason": result.reason})
        if result.ok:
            return PrinterTestResult(PrinterOutcome.OK, result.reason, result.detail, facts,
                                     confirmed=result.outcome.value == "printed")
        status = self._printer.status
        if result.reason == "PAPER_OUT":
            outcome = PrinterOutcome.PAPER_OUT
        elif result.reason in _OFFLINE_REASONS or status.state is DeviceState.OFFLINE:
            outcome = PrinterOutcome.OFFLINE
        else:
            outcome = PrinterOutcome.ERROR
        return PrinterTestResult(outcome, result.reason, result.detail, facts)


# ---------------------------------------------------------------- the card reader
class CardOutcome(StrEnum):
    CARD = "card"
    NO_CARD = "no_card"
    CARD_ERROR = "card_error"  # a card is in, but it cannot be read (mute, unknown, ...)
    READER_OFFLINE = "reader_offline"


@dataclass(frozen=True)
class CardReadResult:
    outcome: CardOutcome
    atr_hex: str = ""  # "" for a card that was in before the test began listening
    card_type: str = ""  # drivers.pcsc.card_app.CardType name
    utility: str = ""  # drivers.pcsc.card_app.Utility value
    account_masked: str = ""
    reason: str = ""
    detail: str = ""


class CardReadTest:
    """Listens from when it is made, so the card put in while the page is open is read with its ATR."""

    def __init__(self, reader) -> None:
        self._reader = reader
        self._cond = threading.Condition()
        self._last: CardInserted | CardError | None = None
        self._stop_listening = reader.subscribe_events(self._on_event)

    def close(self) -> None:
        self._stop_listening()

    def _on_event(self, event) -> None:
        with self._cond:
            self._last = None if isinstance(event, CardRemoved) else event
            self._cond.notify_all()

    def read(self, wait_s: float = 0.0) -> CardReadResult:
        """The card in the reader now; with none, the next one put in within ``wait_s`` (blocks)."""
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                result = self._now()
                if result.outcome is not CardOutcome.NO_CARD or (remaining := deadline - time.monotonic()) <= 0:
                    return result
                self._cond.wait(min(remaining, 0.1))

    def _now(self) -> CardReadResult:
        status = self._reader.status
        if status.state is DeviceState.OFFLINE:
            return CardReadResult(CardOutcome.READER_OFFLINE, reason=status.reason, detail=status.detail)
        card = self._reader.card
        if card is not None:
            atr = self._last.atr.hex(" ").upper() if isinstance(self._last, CardInserted) else ""
            return CardReadResult(CardOutcome.CARD, atr, card.card_type.name, card.utility.value,
                                  mask_account(card.account_no))
        detail = status.device_detail
        if isinstance(detail, CardReaderDetail) and detail.card_present and isinstance(self._last, CardError):
            return CardReadResult(CardOutcome.CARD_ERROR, reason=self._last.reason, detail=self._last.detail)
        if isinstance(detail, CardReaderDetail) and detail.card_present and status.reason:
            return CardReadResult(CardOutcome.CARD_ERROR, reason=status.reason, detail=status.detail)
        return CardReadResult(CardOutcome.NO_CARD, reason=status.reason, detail=status.detail)
