"""The maintenance screen's device page, without Qt: one device at a time.

What the page shows (:class:`DevicePageView`): the device's live status in
the one status model, its open faults and its history (faults and repairs,
newest first) from the maintenance archive, the state and result of its test
(``kiosk/device_tests.py``) and of a reset (``KioskDevices.reset``), and a
message for the technician.

The application layer runs the blocking methods (:meth:`refresh`,
:meth:`run_test`, :meth:`stop_test`, :meth:`reset`, :meth:`close`) on its
workers and hands statuses in (:meth:`update_status`) from the device
monitor; every change of the view goes to ``on_change`` on whichever thread
made it (a worker, or the acceptor's thread while notes are fed).  Every
test and reset is audited with who, what and how it ended.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from drivers.escpos.slip import PAPER_80MM
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, DeviceName, DeviceState, DeviceStatus
from kiosk.device_tests import (CARD_WAIT_S, AcceptorTest, AcceptorTestProgress, CardReadResult, CardReadTest,
                                PrinterTest, PrinterTestResult)
from kiosk.devices import ResetRefused
from kiosk.i18n import yuan
from kiosk.staff_notice import Notice
from offline_store.device_archive import FaultRecord, RepairRecord  # noqa: F401 - the screens read them from here

log = logging.getLogger("kiosk.maintenance.devices")

HISTORY_LIMIT = 60


class RunState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"  # notes being fed, a slip printing, waiting for a card
    STOPPING = "stopping"  # the acceptor settling
    DONE = "done"


class ResetState(StrEnum):
    IDLE = "idle"
    RESETTING = "resetting"
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True)
class DeviceTestView:
    state: RunState = RunState.IDLE
    acceptor: AcceptorTestProgress | None = None
    printer: PrinterTestResult | None = None
    card: CardReadResult | None = None


@dataclass(frozen=True)
class DevicePageView:
    device: DeviceName
    devices: tuple[DeviceName, ...]  # the fitted ones, to choose from
    status: DeviceStatus | None = None
    open_faults: tuple[FaultRecord, ...] = ()
    history: tuple[FaultRecord | RepairRecord, ...] = ()
    history_loaded: bool = False
    test: DeviceTestView = DeviceTestView()
    reset: ResetState = ResetState.IDLE
    reset_status: DeviceStatus | None = None  # what the device said after a reset
    notice: Notice | None = None
    busy: bool = False  # a blocking call of this page is running: the page's buttons wait


@dataclass(frozen=True)
class DeviceTestSetup:
    """What the tests need from the configuration."""

    terminal_id: str
    hall_zh: str
    hall_en: str
    accepted_fen: frozenset[int]
    slip_columns: int = PAPER_80MM


@dataclass
class _State:
    device: DeviceName
    statuses: dict[str, DeviceStatus] = field(default_factory=dict)
    open_faults: tuple[FaultRecord, ...] = ()
    history: tuple[FaultRecord | RepairRecord, ...] = ()
    history_loaded: bool = False
    tests: dict[str, DeviceTestView] = field(default_factory=dict)  # per device: the acceptor's runs on
    reset: ResetState = ResetState.IDLE
    reset_status: DeviceStatus | None = None
    notice: Notice | None = None
    busy: bool = False


class DevicePage:
    def __init__(self, devices, archive: Callable[[], object], journal: Callable[[], object | None], audit,
                 user: str, setup: DeviceTestSetup,
                 on_change: Callable[[DevicePageView], None] | None = None) -> None:
        """``devices``: the KioskDevices; ``archive()`` the DeviceArchive (``ArchiveWriter.opened``);
        ``journal()`` the MoneyJournal, or None while cash is off; ``audit``: an Audit."""
        self._devices = devices
        self._archive = archive
        self._journal = journal
        self._audit = audit
        self._user = user
        self._setup = setup
        self._on_change = on_change or (lambda _view: None)
        self._lock = threading.RLock()
        # The page has no chip, test or words for the scanner yet: it shows the devices it knows.
        fitted = tuple(DeviceName(d) for d in devices.fitted if d != DeviceName.SCANNER)
        self._fitted = fitted
        self._state = _State(fitted[0] if fitted else ACCEPTOR)
        self._acceptor_test: AcceptorTest | None = None
        self._card_test: CardReadTest | None = None

    # -- the view ---------------------------------------------------------------------
    def view(self) -> DevicePageView:
        with self._lock:
            s = self._state
            return DevicePageView(s.device, self._fitted, s.statuses.get(s.device), s.open_faults, s.history,
                                  s.history_loaded, s.tests.get(s.device, DeviceTestView()), s.reset,
                                  s.reset_status, s.notice, s.busy)

    def _change(self, *, test: tuple[str, DeviceTestView] | None = None, **changes) -> DevicePageView:
        """Change the state; ``test`` is (device, its test's view)."""
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)
            if test is not None:
                self._state.tests = {**self._state.tests, test[0]: test[1]}
            view = self.view()
        self._on_change(view)
        return view

    def _begin(self, device: str | None = None, test: DeviceTestView | None = None, **changes) -> bool:
        """Mark the page busy for one blocking call; False (and a notice) when one already runs."""
        with self._lock:
            if self._state.busy:
                refused = True
            else:
                refused = False
                self._state.busy = True
        if refused:
            self._change(notice=Notice("maint.devices.busy", "warning"))
            return False
        self._change(test=(device, test) if device is not None and test is not None else None, **changes)
        return True

    # -- quick calls (GUI thread) -------------------------------------------------------
    def update_status(self, status: DeviceStatus) -> None:
        with self._lock:
            statuses = {**self._state.statuses, status.device: status}
        self._change(statuses=statuses)

    def select(self, device: str) -> DevicePageView:
        """Show another device; its faults and history come with the next :meth:`refresh`."""
        device = DeviceName(device)
        if device not in self._fitted:
            return self._change(notice=Notice("maint.devices.not_fitted", "error"))
        with self._lock:
            if device == self._state.device:
                return self.view()
        return self._change(device=device, open_faults=(), history=(), history_loaded=False,
                            reset=ResetState.IDLE, reset_status=None, notice=None)

    # -- blocking calls (a worker) --------------------------------------------------------
    def refresh(self) -> DevicePageView:
        """Read the current device's open faults and history from the archive."""
        device = self.view().device
        try:
            archive = self._archive()
            open_faults = tuple(archive.open_faults(device))
            history = tuple(archive.timeline(device, HISTORY_LIMIT))
        except Exception as error:  # noqa: BLE001 - the page still shows the live status
            log.exception("device archive could not be read")
            return self._change(notice=Notice("maint.devices.archive_unreadable", "error", (("error", error),)))
        if self.view().device != device:
            return self.view()  # another device was chosen meanwhile: its own refresh follows
        return self._change(open_faults=open_faults, history=history, history_loaded=True)

    def run_test(self) -> DevicePageView:
        """The current device's test: start feeding notes, print the slip, or read the card."""
        device = self.view().device
        if device == ACCEPTOR:
            return self._start_acceptor_test()
        if not self._begin(device, DeviceTestView(RunState.RUNNING), notice=None):
            return self.view()
        return self._guarded(self._printer_test if device == PRINTER else self._card_read)

    def stop_test(self) -> DevicePageView:
        """Stop the acceptor test: inhibit, wait until it holds no note, say what was journaled."""
        test = self._acceptor_test
        if test is None or not self._begin(ACCEPTOR, DeviceTestView(RunState.STOPPING, test.progress)):
            return self.view()
        return self._guarded(lambda: self._stopped(test.stop()))

    def _stopped(self, progress: AcceptorTestProgress) -> DevicePageView:
        if progress.unsettled:
            self._audit_action("device_test", f"acceptor: stop, {progress.count} notes", "unsettled")
            return self._change(test=(ACCEPTOR, DeviceTestView(RunState.RUNNING, progress)), busy=False,
                                notice=Notice("maint.devices.acceptor_unsettled", "error"))
        self._acceptor_test = None
        self._audit_action("device_test", f"acceptor: {progress.count} test notes, {progress.total_fen} fen",
                           "failed" if progress.journal_failed else "ok")
        notice = (Notice("maint.devices.acceptor_journal_failed", "error") if progress.journal_failed else
                  Notice("maint.devices.acceptor_done", "ok",
                         (("count", progress.count), ("amount", yuan(progress.total_fen)))))
        return self._change(test=(ACCEPTOR, DeviceTestView(RunState.DONE, progress)), busy=False, notice=notice)

    def reset(self) -> DevicePageView:
        """Stop and start the current device's driver; refused while its test runs."""
        device = self.view().device
        if device == ACCEPTOR and self._acceptor_test is not None:
            return self._change(reset=ResetState.REFUSED, notice=Notice("maint.devices.reset_test_running", "error"))
        if not self._begin(reset=ResetState.RESETTING, reset_status=None, notice=None):
            return self.view()
        return self._guarded(lambda: self._reset(device))

    def _reset(self, device: DeviceName) -> DevicePageView:
        try:
            status = self._devices.reset(device)
        except ResetRefused as refused:
            self._audit_action("reset", device, f"refused: {refused.code}")
            return self._change(reset=ResetState.REFUSED, busy=False, notice=Notice(
                _REFUSAL_KEYS.get(refused.code, "maint.devices.reset_refused"), "error",
                (("detail", refused.detail),)))
        self._audit_action("reset", device, f"ok: {status.state.value} {status.reason}".strip())
        with self._lock:
            statuses = {**self._state.statuses, status.device: status}
        return self._change(reset=ResetState.DONE, reset_status=status, statuses=statuses, busy=False,
                            notice=Notice("maint.devices.reset_done", "ok" if status.usable else "warning"))

    def _guarded(self, work: Callable[[], DevicePageView]) -> DevicePageView:
        """Run one busy call; whatever it raises ends the busy state with a message, never a stuck page."""
        try:
            return work()
        except Exception as error:  # noqa: BLE001 - shown to the technician, logged in full
            log.exception("device page action failed")
            return self._change(busy=False, notice=Notice("maint.devices.failed", "error", (("error", error),)))

    def close(self) -> None:
        """Logout: a running acceptor test is stopped, whatever else runs; forget all.

        A note still inside when the wait ends is journaled when it lands: the
        test keeps listening to the driver until the acceptor settles."""
        test, self._acceptor_test = self._acceptor_test, None
        if test is not None:
            progress = test.stop()
            self._audit_action("device_test", f"acceptor: {progress.count} test notes, {progress.total_fen} fen "
                                              "(logout)", "unsettled" if progress.unsettled else "ok")
        if self._card_test is not None:
            self._card_test.close()
            self._card_test = None

    # -- the tests ---------------------------------------------------------------------------
    def _start_acceptor_test(self) -> DevicePageView:
        if self._acceptor_test is not None:
            return self.view()
        if self.view().busy:
            return self._change(notice=Notice("maint.devices.busy", "warning"))
        journal, acceptor = self._journal(), self._devices.acceptor
        if journal is None or acceptor is None:
            key = "maint.devices.acceptor_no_journal" if journal is None else "maint.devices.not_started"
            return self._change(notice=Notice(key, "error"))
        if not acceptor.status.usable:
            return self._change(notice=Notice("maint.devices.not_usable", "error",
                                              (("reason", acceptor.status.reason or acceptor.status.state.value),)))
        test = AcceptorTest(journal, acceptor, self._user, self._setup.accepted_fen, guard=_guard_of(journal),
                            on_change=self._acceptor_progress)
        self._acceptor_test = test
        self._audit_action("device_test", "acceptor: start", "started")
        progress = test.start()
        return self._change(test=(ACCEPTOR, DeviceTestView(RunState.RUNNING, progress)),
                            notice=Notice("maint.devices.feed_notes"))

    def _acceptor_progress(self, progress: AcceptorTestProgress) -> None:
        """The acceptor's thread: each note decided, stacked, returned."""
        with self._lock:
            current = self._state.tests.get(ACCEPTOR, DeviceTestView()).state
        state = current if current in (RunState.RUNNING, RunState.STOPPING) else RunState.RUNNING
        self._change(test=(ACCEPTOR, DeviceTestView(state, progress)))

    def _printer_test(self) -> DevicePageView:
        printer = self._devices.printer
        if printer is None:
            return self._change(test=(PRINTER, DeviceTestView()), busy=False,
                                notice=Notice("maint.devices.not_started", "error"))
        result = PrinterTest(printer, self._setup.terminal_id, self._setup.hall_zh, self._setup.hall_en,
                             self._setup.slip_columns).run()
        self._audit_action("device_test", "printer: test slip", f"{result.outcome.value} {result.reason}".strip())
        tone = "ok" if result.outcome == "ok" else "error"
        return self._change(test=(PRINTER, DeviceTestView(RunState.DONE, printer=result)), busy=False,
                            notice=Notice(_PRINTER_KEYS[result.outcome], tone))

    def _card_read(self) -> DevicePageView:
        reader = self._devices.card_reader
        if reader is None:
            return self._change(test=(CARD_READER, DeviceTestView()), busy=False,
                                notice=Notice("maint.devices.not_started", "error"))
        if self._card_test is None:
            self._card_test = CardReadTest(reader)
        self._change(notice=Notice("maint.devices.insert_card", "", (("seconds", int(CARD_WAIT_S)),)))
        result = self._card_test.read(wait_s=CARD_WAIT_S)
        self._audit_action("device_test", "card reader: read", f"{result.outcome.value} {result.reason}".strip())
        tone = "ok" if result.outcome == "card" else "warning" if result.outcome == "no_card" else "error"
        return self._change(test=(CARD_READER, DeviceTestView(RunState.DONE, card=result)), busy=False,
                            notice=Notice(_CARD_KEYS[result.outcome], tone))

    def prepare(self) -> None:
        """Start listening to the card reader now, so a card put in before "Read card" is read with its ATR."""
        if self._card_test is None and self._devices.card_reader is not None:
            self._card_test = CardReadTest(self._devices.card_reader)

    def _audit_action(self, action: str, what: str, result: str) -> None:
        try:
            self._audit.record(self._user, action, what, result)
        except Exception:  # noqa: BLE001 - the log keeps it; the technician's work goes on
            log.exception("maintenance audit not written",
                          extra={"user": self._user, "action": action, "what": what, "result": result})


def _guard_of(journal) -> Callable[[], str] | None:
    """The cash-in's own question before every note (the journal's disk), when the journal has a reserve."""
    from offline_store.disk_reserve import note_guard

    reserve = getattr(journal, "reserve", None)
    return note_guard(reserve) if reserve is not None else None


_REFUSAL_KEYS = {"NOT_SETTLED": "maint.devices.reset_not_settled", "DID_NOT_STOP": "maint.devices.reset_did_not_stop",
                 "NOT_STARTABLE": "maint.devices.reset_not_startable", "NOT_FITTED": "maint.devices.not_fitted"}
_PRINTER_KEYS = {"ok": "maint.devices.printer_ok", "paper_out": "maint.devices.printer_paper_out",
                 "offline": "maint.devices.printer_offline", "error": "maint.devices.printer_error"}
_CARD_KEYS = {"card": "maint.devices.card_read", "no_card": "maint.devices.card_none",
              "card_error": "maint.devices.card_error", "reader_offline": "maint.devices.card_reader_offline"}


def status_tone(status: DeviceStatus | None) -> str:
    """The badge's tone: "" (works), "warning" (busy, or works with a remark), "fault"."""
    if status is None or status.state in (DeviceState.OFFLINE, DeviceState.HARDWARE_ERROR):
        return "fault"
    if status.state is DeviceState.BUSY or status.reason:
        return "warning"
    return ""
