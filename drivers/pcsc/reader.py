"""The IC card reader driver: finds the reader, sees cards come and go, reads them.

One worker thread owns a PC/SC context (pcscd through pyscard, or the
in-process :class:`~drivers.pcsc.emulator.EmulatedReader`).  It waits on
``SCardGetStatusChange`` with a timeout of ``poll_interval_s``, so a card put
in or taken out is seen at once and a stopped service or a vanished reader
within one interval.  When a card arrives it is read (SELECT MF, SELECT DF01,
READ BINARY of the customer info and purse files — :func:`card_app.read_card`)
on a *card session*: a thread of its own with a PC/SC context of its own,
because ``SCardTransmit`` to a mute card never returns (vpcd has no timeout,
and a call on a context blocks every other call on that context).  The worker
gives every APDU ``apdu_timeout_s``; past it the card is declared mute and its
session abandoned — it ends by itself when the card or the service goes.

Consumers get, on the worker thread:

* events — :class:`CardInserted` (after the account info was read),
  :class:`CardRemoved` (only after a ``CardInserted``), :class:`CardError`
  (a card that could not be read: reason and technician detail);
* status — a :class:`~drivers.status.DeviceStatus` for ``card_reader`` through
  :attr:`CardReaderDriver.publisher`, in the XFS4IoT vocabulary of
  :mod:`drivers.status`.

Reasons, on the status and on :class:`CardError`:

=================== ============== ==========================================
reason              state          when
=================== ============== ==========================================
PCSC_SERVICE_DOWN   offline        pcscd not running or lost
NO_READER           offline        no reader (or not the configured one)
READER_UNPLUGGED    offline        the reader in use left the reader list
CARD_MUTE           hardware_error the card in the reader does not answer;
                                   clears when it is taken out
CARD_UNKNOWN        online         a card without this application (event +
                                   status while it stays in the reader)
CARD_ERROR          online         the card refused a command (event + status)
CARD_PULLED         online         taken out during an exchange (event only)
=================== ============== ==========================================

Nothing here raises into the caller once constructed: every failure becomes
a status, an event or an :class:`ExchangeResult` with an error.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from drivers.pcsc import card_app
from drivers.pcsc import pcsc_api as api
from drivers.pcsc.card_app import CardAppError, CardFormatError, CardInfo, StatusWordError
from drivers.pcsc.emulator import EmulatedReader
from drivers.pcsc.events import CardError, CardEvent, CardInserted, CardRemoved  # noqa: F401 - the driver's events
from drivers.pcsc.pcsc_api import PcscError, PcscSystem
from drivers.status import CARD_READER, CardReaderDetail, DeviceState, DeviceStatus, StatusPublisher

log = logging.getLogger("kiosk.devices.card_reader")

PCSC_SERVICE_DOWN = "PCSC_SERVICE_DOWN"
NO_READER = "NO_READER"
READER_UNPLUGGED = "READER_UNPLUGGED"
CARD_MUTE = "CARD_MUTE"
CARD_UNKNOWN = "CARD_UNKNOWN"
CARD_ERROR = "CARD_ERROR"
CARD_PULLED = "CARD_PULLED"
NO_CARD = "NO_CARD"
DRIVER_STOPPED = "DRIVER_STOPPED"
NOT_STARTED = "NOT_STARTED"

_SERVICE_HINT = "start it (systemctl start pcscd.socket) and check with `kiosk diag card --list`"
_REMOVAL_GRACE_S = 1.0  # pcscd polls a reader's card every 400 ms (vpcd) or faster (CCID)

EventListener = Callable[[CardEvent], None]


@dataclass(frozen=True)
class ExchangeResult:
    """What :meth:`CardReaderDriver.exchange` got: raw responses, or an error."""

    responses: tuple[bytes, ...] = ()
    error: CardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_reader_setting(setting: str) -> tuple[str, str | None]:
    """``"emulator"``, ``"pcsc"`` or ``"pcsc:<name>"`` → (kind, reader name or None)."""
    if setting == "emulator":
        return "emulator", None
    if setting == "pcsc":
        return "pcsc", None
    if setting.startswith("pcsc:") and setting[5:].strip():
        return "pcsc", setting[5:].strip()
    raise ValueError(f'card reader {setting!r}: use "emulator", "pcsc" or "pcsc:<reader name>"')


def _swapped(previous: int, state: api.ReaderState) -> bool:
    """A card then, a card now, but pcscd counted events in between: it was taken out and put in."""
    return (previous != api.STATE_UNAWARE and bool(previous & api.STATE_PRESENT) and state.present
            and (previous >> 16) != (state.known >> 16))


def _link_failure(error: BaseException | None) -> bool:
    """A PC/SC failure on the way to the card, not the service, reader or a card's answer."""
    return isinstance(error, PcscError) and not (error.service_down or error.reader_gone or error.card_mute
                                                 or error.code == api.SCARD_E_CANCELLED)


# ----------------------------------------------------------------- the card session
class _Job:
    def __init__(self, work: Callable[["_CardSession"], Any]) -> None:
        self.work = work
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class _CardSession:
    """One card on its own thread and PC/SC context; PC/SC calls are timed."""

    def __init__(self, system, reader: str) -> None:
        self._system = system
        self.reader = reader
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._context = None
        self._card = None
        self.atr = b""
        self.busy_since: float | None = None
        self.last_call = ""
        self.abandoned = False
        self._thread = threading.Thread(target=self._run, name="card-session", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[["_CardSession"], Any]) -> _Job:
        job = _Job(work)
        self._jobs.put(job)
        return job

    def close(self) -> None:
        self._jobs.put(None)

    def abandon(self) -> None:
        """Leave a session stuck in a call; it cleans up when the call returns."""
        self.abandoned = True
        self._jobs.put(None)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    # --- called by jobs, on the session thread
    def connect(self) -> bytes:
        def connect():
            self._context = self._system.establish()
            self._card = self._context.connect(self.reader)
            return self._card.atr

        self.atr = self._timed("SCardConnect", connect)
        return self.atr

    def transmit(self, apdu: bytes) -> bytes:
        return self._timed(f"APDU {apdu.hex(' ').upper()}", lambda: self._card.transmit(apdu))

    def _timed(self, call: str, function: Callable[[], Any]) -> Any:
        if self.abandoned:  # the worker gave up on this card: send it nothing more
            raise PcscError(api.SCARD_E_CANCELLED, call, "card session abandoned")
        self.last_call = call
        self.busy_since = time.monotonic()
        try:
            return function()
        finally:
            self.busy_since = None

    def _run(self) -> None:
        try:
            while not self.abandoned:
                job = self._jobs.get()
                if job is None:
                    break
                try:
                    job.value = job.work(self)
                except BaseException as error:  # noqa: BLE001 - handed to the worker, which classifies it
                    job.error = error
                finally:
                    job.done.set()
        finally:
            if self._card is not None:
                self._card.disconnect()
            if self._context is not None:
                self._context.release()


@dataclass(frozen=True)
class _Outcome:
    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    stopped: bool = False


class _Request:
    def __init__(self, apdus: Sequence[bytes]) -> None:
        self.apdus = tuple(bytes(a) for a in apdus)
        self.done = threading.Event()
        self.result = ExchangeResult(error=CardError(DRIVER_STOPPED, "the card reader driver stopped"))


# ----------------------------------------------------------------- the driver
class CardReaderDriver:
    """The card reader: ``"pcsc"`` (first reader), ``"pcsc:<name>"`` or ``"emulator"``.

    ``start()`` runs the worker; ``stop()`` ends it.  ``subscribe(listener)``
    hears events; ``publisher`` carries the status.  With ``"emulator"``,
    :attr:`emulator` is the in-process reader to script (insert a card, …);
    pass ``emulator=`` to share one the caller made.  ``ValueError`` for a
    setting or interval out of range is the only exception it raises.
    """

    def __init__(self, reader: str = "pcsc", poll_interval_s: float = 0.3, apdu_timeout_s: float = 2.0, *,
                 emulator: EmulatedReader | None = None) -> None:
        kind, self.reader_name = parse_reader_setting(reader)
        if not 0.01 <= poll_interval_s <= 10:
            raise ValueError(f"poll_interval_s {poll_interval_s} is outside 0.01..10")
        if not 0.05 <= apdu_timeout_s <= 60:
            raise ValueError(f"apdu_timeout_s {apdu_timeout_s} is outside 0.05..60")
        self.setting = reader
        self.poll_interval_s = poll_interval_s
        self.apdu_timeout_s = apdu_timeout_s
        if kind == "emulator":  # the caller (the demo's device panel) may own the emulated reader
            self.emulator: EmulatedReader | None = emulator or EmulatedReader()
        else:
            self.emulator = None
        self._system = self.emulator if self.emulator is not None else PcscSystem()
        self.publisher = StatusPublisher(DeviceStatus(
            CARD_READER, DeviceState.OFFLINE, NOT_STARTED, "card reader driver not started",
            CardReaderDetail()))
        self._listeners: list[EventListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Worker state: touched by the worker thread only.
        self._context = None
        self._reader: str | None = None
        self._known = api.STATE_UNAWARE
        self._seen_reader = False
        self._session: _CardSession | None = None
        self._present = False
        self._card: CardInfo | None = None
        self._problem: tuple[DeviceState, str, str] | None = None

    # ------------------------------------------------------------- public
    @property
    def status(self) -> DeviceStatus:
        return self.publisher.status

    @property
    def card(self) -> CardInfo | None:
        """The card announced by the last :class:`CardInserted`, while it is in."""
        return self._card

    def subscribe(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def start(self) -> "CardReaderDriver":
        with self._lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="card-reader", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        self._wake_worker()
        if thread is not None:
            thread.join(timeout_s)

    def __enter__(self) -> "CardReaderDriver":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def exchange(self, apdus: Sequence[bytes], timeout_s: float | None = None) -> ExchangeResult:
        """Send command APDUs to the card in the reader, in order; wait for the answers.

        For worker threads (a top-up, the technician CLI) — never the GUI
        thread: it waits up to ``timeout_s`` (default: long enough for every
        APDU to time out and a pulled card to be seen).  Stops at the first
        failure; never raises.
        """
        request = _Request(apdus)
        if self._thread is None:
            return request.result
        self._requests.put(request)
        self._wake_worker()
        wait = timeout_s if timeout_s is not None else self.apdu_timeout_s * (len(request.apdus) + 1) + \
            2 * self.poll_interval_s + _REMOVAL_GRACE_S
        if not request.done.wait(wait):
            return ExchangeResult(error=CardError(CARD_MUTE, f"no answer within {wait:.1f} s", self._reader or ""))
        return request.result

    # ------------------------------------------------------------- worker
    def _wake_worker(self) -> None:
        self._wake.set()
        context = self._context
        if context is not None:
            context.cancel()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._cycle()
                except Exception:  # noqa: BLE001 - a bug here must not take the reader down for good
                    log.exception("card reader worker failed; starting over")
                    self._drop_context()
                    self._pause()
        finally:
            self._end_session(abandon=self._session is not None and self._session.busy_since is not None)
            self._drop_context()
            self._fail_requests()
            self._publish(DeviceState.OFFLINE, NOT_STARTED, "card reader driver stopped", card_present=False)

    def _pause(self) -> None:
        self._wake.wait(self.poll_interval_s)
        self._wake.clear()

    def _cycle(self) -> None:
        context = self._ensure_context()
        if context is None:
            self._pause()
            return
        try:
            reader = self._choose(context.list_readers())
        except PcscError as error:
            self._pcsc_failed(error)
            return
        if reader is None:
            return
        self._wake.clear()
        try:
            state = context.wait_change(reader, self._known, 0 if not self._requests.empty() else
                                        self.poll_interval_s)
        except PcscError as error:
            self._pcsc_failed(error)
            return
        previous, self._known = self._known, state.known
        if state.gone:
            return  # the next list shows whether the reader left for good
        self._present = state.present
        if _swapped(previous, state) and (self._card is not None or self._problem is not None):
            self._card_left(reader)  # out and in again between two looks: another card, maybe
        if state.present and not state.mute:
            if self._card is None and self._problem is None:
                self._card_arrived(reader, state.atr)
        elif state.present and state.mute and self._problem is None:
            self._card_problem(reader, DeviceState.HARDWARE_ERROR, CARD_MUTE,
                               f"the card in {reader} gives no answer to reset — "
                               "ask the customer to take it out and check it is the right way up")
        elif not state.present and (self._card is not None or self._problem is not None or self._session is not None):
            self._card_left(reader)
        self._serve_requests(reader)
        self._publish_idle()

    # --- context and reader
    def _ensure_context(self):
        if self._context is None:
            try:
                self._context = self._system.establish()
            except PcscError as error:
                self._service_down(error)
                return None
            self._known = api.STATE_UNAWARE
        return self._context

    def _drop_context(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.release()

    def _choose(self, readers: list[str]) -> str | None:
        """The reader to use from pcscd's list; publishes why when there is none."""
        wanted = self.reader_name
        if wanted is None:
            chosen = readers[0] if readers else None
        elif wanted in readers:
            chosen = wanted
        else:  # "ACS ACR39U" matches "ACS ACR39U 00 00" when only one does
            matches = [name for name in readers if name.startswith(wanted)]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is not None:
            if chosen != self._reader:
                log.info("card reader in use", extra={"reader": chosen})
                self._reader, self._known, self._seen_reader = chosen, api.STATE_UNAWARE, True
            return chosen
        self._forget_card()
        present = ", ".join(readers) if readers else "none"
        if self._seen_reader:
            self._publish(DeviceState.OFFLINE, READER_UNPLUGGED,
                          f"card reader {self._reader} disappeared (readers now: {present}) — check its USB "
                          "cable; `kiosk diag card --list` shows what pcscd sees", card_present=False)
        elif wanted is None:
            self._publish(DeviceState.OFFLINE, NO_READER,
                          "no PC/SC card reader connected — plug in the reader; "
                          "`kiosk diag card --list` shows what pcscd sees", card_present=False)
        else:
            self._publish(DeviceState.OFFLINE, NO_READER,
                          f"no card reader named {wanted!r} (readers present: {present}) — check the reader's "
                          "USB cable or devices.card_reader in config.toml", card_present=False)
        self._pause()
        return None

    def _pcsc_failed(self, error: PcscError) -> None:
        if error.service_down or error.code == api.SCARD_E_INVALID_HANDLE:
            # A restarted pcscd (socket activation, an upgrade) breaks the old
            # context but takes a new one at once: only that is a fault.
            self._forget_card()
            self._drop_context()
            if self._ensure_context() is not None:
                log.info("PC/SC context re-established", extra={"error": str(error)})
        elif error.reader_gone:
            self._forget_card()
            self._known = api.STATE_UNAWARE
        else:
            log.warning("PC/SC call failed", extra={"error": str(error)})
            self._drop_context()
        self._pause()

    def _service_down(self, error: PcscError) -> None:
        self._forget_card()
        self._drop_context()
        self._publish(DeviceState.OFFLINE, PCSC_SERVICE_DOWN,
                      f"PC/SC service (pcscd) not running: {error} — {_SERVICE_HINT}", card_present=False)

    # --- cards
    def _card_arrived(self, reader: str, atr: bytes) -> None:
        for attempt in (1, 2):
            self._publish(DeviceState.BUSY, "", f"reading the card in {reader}", card_present=True)
            self._session = _CardSession(self._system, reader)
            outcome = self._await(self._session.submit(
                lambda session: card_app.read_card(session.transmit, session.connect())))
            if outcome.value is not None:
                self._card = outcome.value
                log.info("card inserted", extra={"reader": reader, "utility": self._card.utility.value,
                                                 "card_type": self._card.card_type.name})
                self._publish(DeviceState.ONLINE, "", f"card reader {reader} ready, card in", card_present=True)
                self._emit(CardInserted(self._session.atr or atr, self._card, reader))
                return
            if attempt == 1 and _link_failure(outcome.error):
                # The link to the card broke.  Taken out — or swapped faster
                # than pcscd polls, or a transmission hiccup: a card that is
                # in the reader once things settle is read once more.
                present, _swapped = self._settle(reader)
                if present:
                    log.info("reading the card again after a link failure", extra={"error": str(outcome.error)})
                    self._end_session()
                    continue
                self._card_pulled(reader, f"the card was taken out of {reader} while reading it ({outcome.error})")
                return
            self._failed(reader, outcome, "reading the card")
            return

    def _failed(self, reader: str, outcome: _Outcome, doing: str) -> CardError | None:
        """Classify a failed card job: the card is mute, pulled, unknown or in error."""
        session = self._session
        if outcome.stopped:
            return CardError(DRIVER_STOPPED, "the card reader driver stopped", reader)
        if outcome.timed_out:
            call = session.last_call if session else "?"
            self._end_session(abandon=True)
            return self._card_problem(
                reader, DeviceState.HARDWARE_ERROR, CARD_MUTE,
                f"the card in {reader} did not answer {call} within {self.apdu_timeout_s:g} s while "
                f"{doing} — ask the customer to take it out; if every card does this, clean or replace the reader")
        error = outcome.error
        if isinstance(error, PcscError):
            if error.service_down:
                self._forget_card()
                self._drop_context()  # the next cycle re-establishes or reports the service down
                return CardError(PCSC_SERVICE_DOWN, str(error), reader)
            if error.reader_gone:
                self._forget_card()
                self._known = api.STATE_UNAWARE
                return CardError(READER_UNPLUGGED, str(error), reader)
            if error.card_mute:
                self._end_session()
                return self._card_problem(reader, DeviceState.HARDWARE_ERROR, CARD_MUTE,
                                          f"the card in {reader} does not respond ({error})")
            present, swapped = self._settle(reader)
            if not present or swapped:
                return self._card_pulled(reader, f"the card was taken out of {reader} while {doing} ({error})")
            self._end_session()
            return self._card_problem(reader, DeviceState.ONLINE, CARD_ERROR,
                                      f"the card in {reader} failed while {doing}: {error}")
        self._end_session()
        if isinstance(error, CardFormatError) or (isinstance(error, StatusWordError) and error.not_this_application):
            return self._card_problem(reader, DeviceState.ONLINE, CARD_UNKNOWN,
                                      f"the card in {reader} is not a prepaid meter card of this utility: {error}")
        if isinstance(error, CardAppError):
            return self._card_problem(reader, DeviceState.ONLINE, CARD_ERROR,
                                      f"the card in {reader} refused a command while {doing}: {error}")
        log.error("unexpected failure on the card", exc_info=error)
        return self._card_problem(reader, DeviceState.ONLINE, CARD_ERROR,
                                  f"unexpected failure while {doing}: {error!r}")

    def _settle(self, reader: str) -> tuple[bool, bool]:
        """After a broken link: (is a card in the reader, did one leave meanwhile)?

        pcscd sees a card leave or arrive only at its next poll of the reader
        (every 400 ms for vpcd), so this follows the reader's state for
        ``_REMOVAL_GRACE_S``; a change of pcscd's event counter (the high 16
        bits of the state) means a card left, even if another is in now.
        """
        events = self._known >> 16
        deadline = time.monotonic() + _REMOVAL_GRACE_S
        present, swapped = self._present, False
        while self._context is not None and (remaining := deadline - time.monotonic()) > 0:
            try:
                state = self._context.wait_change(reader, self._known, remaining)
            except PcscError:
                break
            self._known = state.known
            if state.gone:
                return False, True
            present = state.present
            swapped = swapped or (state.known >> 16) != events or not present
        self._present = present
        return present, swapped

    def _card_pulled(self, reader: str, detail: str) -> CardError:
        error = CardError(CARD_PULLED, detail, reader)
        log.warning("card pulled during an exchange", extra={"reader": reader})
        self._emit(error)
        self._card_left(reader)
        return error

    def _card_problem(self, reader: str, state: DeviceState, reason: str, detail: str) -> CardError:
        error = CardError(reason, detail, reader)
        self._problem = (state, reason, detail)
        log.warning("card problem", extra={"reader": reader, "reason": reason, "detail": detail})
        self._publish(state, reason, detail, card_present=True)
        self._emit(error)
        return error

    def _card_left(self, reader: str) -> None:
        announced = self._card is not None
        self._end_session()
        self._card, self._problem, self._present = None, None, False
        self._publish(DeviceState.ONLINE, "", f"card reader {reader} ready, no card", card_present=False)
        if announced:
            log.info("card removed", extra={"reader": reader})
            self._emit(CardRemoved(reader))

    def _forget_card(self) -> None:
        """The reader or the service went: the card in it is gone for us too."""
        announced = self._card is not None
        self._end_session(abandon=self._session is not None and self._session.busy_since is not None)
        self._card, self._problem, self._present = None, None, False
        if announced:
            self._emit(CardRemoved(self._reader or ""))

    def _end_session(self, abandon: bool = False) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if abandon:
            session.abandon()
        else:
            session.close()
            session.join(self.apdu_timeout_s)

    def _await(self, job: _Job) -> _Outcome:
        """Wait for a session job, giving each PC/SC call ``apdu_timeout_s``."""
        session = self._session
        while not job.done.wait(0.01):
            if self._stop.is_set():
                return _Outcome(stopped=True)
            since = session.busy_since if session else None
            if since is not None and time.monotonic() - since > self.apdu_timeout_s:
                return _Outcome(timed_out=True)
        return _Outcome(job.value, job.error)

    # --- exchanges asked for by other threads
    def _serve_requests(self, reader: str) -> None:
        while not self._requests.empty():
            request = self._requests.get()
            if self._card is None or self._session is None:
                why = self._problem[2] if self._problem else f"no card in {reader}"
                request.result = ExchangeResult(error=CardError(NO_CARD, why, reader))
            else:
                outcome = self._await(self._session.submit(
                    lambda session, apdus=request.apdus: tuple(session.transmit(a) for a in apdus)))
                if outcome.error is None and not outcome.timed_out and not outcome.stopped:
                    request.result = ExchangeResult(outcome.value)
                else:
                    error = self._failed(reader, outcome, "exchanging APDUs")
                    request.result = ExchangeResult(error=error)
            request.done.set()

    def _fail_requests(self) -> None:
        while not self._requests.empty():
            self._requests.get().done.set()

    # --- status and events
    def _publish_idle(self) -> None:
        if self._problem is not None:
            state, reason, detail = self._problem
            self._publish(state, reason, detail, card_present=True)
        else:
            self._publish(DeviceState.ONLINE, "", f"card reader {self._reader} ready, "
                          f"{'card in' if self._present else 'no card'}", card_present=self._present)

    def _publish(self, state: DeviceState, reason: str, detail: str, *, card_present: bool) -> None:
        reader_present = state is not DeviceState.OFFLINE
        previous = self.publisher.status
        status = DeviceStatus(CARD_READER, state, reason, detail, CardReaderDetail(
            reader_present=reader_present, card_present=card_present and reader_present,
            reader_name=(self._reader or "") if reader_present else (self._reader or self.reader_name or "")))
        if (previous.state, previous.reason) != (state, reason):
            level = logging.INFO if state in (DeviceState.ONLINE, DeviceState.BUSY) else logging.WARNING
            log.log(level, "card reader status", extra={"state": state.value, "reason": reason, "detail": detail})
        self.publisher.publish(status)

    def _emit(self, event: CardEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a consumer's bug must not stop the reader
                log.exception("card event listener failed")
