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

Reasons, on the status and on :class:`CardError`, are the constants of
``drivers/pcsc/reasons.py`` (importable from here too).  What the worker does
with the card in the reader — reading it, classifying what went wrong,
serving :meth:`CardReaderDriver.exchange` — is ``drivers/pcsc/card_lifecycle.py``;
the card session is ``drivers/pcsc/card_session.py``.

Nothing here raises into the caller once constructed: every failure becomes
a status, an event or an :class:`ExchangeResult` with an error.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Sequence

from drivers.pcsc import pcsc_api as api
from drivers.pcsc.card_app import CardInfo
from drivers.pcsc.card_lifecycle import REMOVAL_GRACE_S, CardLifecycle
from drivers.pcsc.card_session import CardSession, ExchangeRequest, ExchangeResult
from drivers.pcsc.emulator import EmulatedReader
from drivers.pcsc.events import CardError, CardEvent, CardInserted, CardRemoved  # noqa: F401 - the driver's events
from drivers.pcsc.pcsc_api import PcscError, PcscSystem
from drivers.pcsc.reasons import (  # noqa: F401 - the driver's reasons, importable from here
    CARD_ERROR,
    CARD_MUTE,
    CARD_PULLED,
    CARD_UNKNOWN,
    DRIVER_STOPPED,
    NO_CARD,
    NO_READER,
    NOT_STARTED,
    PCSC_SERVICE_DOWN,
    READER_UNPLUGGED,
)
from drivers.device import DeviceSetting, SettingKind, parse_device_setting
from drivers.listeners import EventListeners, Unsubscribe
from drivers.status import CARD_READER, CardReaderDetail, DeviceState, DeviceStatus, StatusPublisher

log = logging.getLogger("kiosk.devices.card_reader")

_SERVICE_HINT = "start it (systemctl start pcscd.socket) and check with `kiosk diag card --list`"
# SCardCancel wakes only a SCardGetStatusChange already waiting in pcscd: one
# sent while the worker is on its way into the call is lost, and the request
# would wait out the poll.  So an exchange knocks again until the worker has
# taken its request off the queue: soon at first (the way into the call is a
# socket round trip, about a millisecond), then every _REWAKE_S at most.
_FIRST_REWAKE_S = 0.001
_REWAKE_S = 0.02

EventListener = Callable[[CardEvent], None]


def parse_reader_setting(setting: str | DeviceSetting) -> tuple[str, str | None]:
    """``"emulator"``, ``"pcsc"`` or ``"pcsc:<name>"`` (the one device grammar) → (kind, reader name or None)."""
    parsed = setting if isinstance(setting, DeviceSetting) else parse_device_setting(CARD_READER, setting)
    if parsed.kind is SettingKind.EMULATOR:
        return "emulator", None
    if parsed.kind is SettingKind.PCSC:
        return "pcsc", parsed.target or None
    raise ValueError(f'card reader {parsed.text!r}: use "emulator", "pcsc" or "pcsc:<reader name>"')


def _swapped(previous: int, state: api.ReaderState) -> bool:
    """A card then, a card now, but pcscd counted events in between: it was taken out and put in."""
    return (previous != api.STATE_UNAWARE and bool(previous & api.STATE_PRESENT) and state.present
            and (previous >> 16) != (state.known >> 16))


# ----------------------------------------------------------------- the driver
class CardReaderDriver(CardLifecycle):
    """The card reader: ``"pcsc"`` (first reader), ``"pcsc:<name>"`` or ``"emulator"``.

    ``start()`` runs the worker; ``stop()`` ends it.  ``subscribe_events``
    hears card events, ``subscribe_status`` the status (``drivers/device.py``).  With ``"emulator"``,
    :attr:`emulator` is the in-process reader to script (insert a card, …);
    pass ``emulator=`` to share one the caller made.  ``ValueError`` for a
    setting or interval out of range is the only exception it raises.
    """

    def __init__(self, reader: str | DeviceSetting = "pcsc", poll_interval_s: float = 0.3, apdu_timeout_s: float = 2.0, *,
                 emulator: EmulatedReader | None = None) -> None:
        kind, self.reader_name = parse_reader_setting(reader)
        if not 0.01 <= poll_interval_s <= 10:
            raise ValueError(f"poll_interval_s {poll_interval_s} is outside 0.01..10")
        if not 0.05 <= apdu_timeout_s <= 60:
            raise ValueError(f"apdu_timeout_s {apdu_timeout_s} is outside 0.05..60")
        self.setting = reader.text if isinstance(reader, DeviceSetting) else reader
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
        self._listeners = EventListeners(log)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._requests: queue.SimpleQueue[ExchangeRequest] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Worker state: touched by the worker thread only.
        self._context = None
        self._reader: str | None = None
        self._known = api.STATE_UNAWARE
        self._seen_reader = False
        self._session: CardSession | None = None
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

    def subscribe_events(self, listener: EventListener) -> Unsubscribe:
        """``listener(event)`` for every card event (inserted, removed, error), on the driver's thread."""
        return self._listeners.subscribe(listener)

    def subscribe_status(self, listener: Callable[[DeviceStatus], None]) -> Unsubscribe:
        return self.publisher.subscribe(listener)

    def start(self) -> "CardReaderDriver":
        with self._lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="card-reader", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> bool:
        """End the worker; True if it ended within ``timeout_s``."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        self._wake_worker()
        if thread is not None:
            thread.join(timeout_s)
        return thread is None or not thread.is_alive()

    def __enter__(self) -> "CardReaderDriver":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def exchange(self, apdus: Sequence[bytes], timeout_s: float | None = None) -> ExchangeResult:
        """Send command APDUs to the card in the reader, in order; wait for the answers.

        For worker threads (a top-up, the technician CLI) — never the GUI
        thread: it waits up to ``timeout_s`` (default: long enough for every
        APDU to time out and a pulled card to be seen).  Stops at the first
        failure; never raises.  It never waits for the worker's poll: it
        wakes the worker until the request is taken (see ``_REWAKE_S``).
        """
        request = ExchangeRequest(apdus)
        if self._thread is None:
            return request.result
        wait = timeout_s if timeout_s is not None else self.apdu_timeout_s * (len(request.apdus) + 1) + \
            2 * self.poll_interval_s + REMOVAL_GRACE_S
        deadline = time.monotonic() + wait
        self._requests.put(request)
        self._wake_worker()
        knock_s = _FIRST_REWAKE_S
        while not request.done.wait(min(knock_s, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return ExchangeResult(error=CardError(CARD_MUTE, f"no answer within {wait:.1f} s", self._reader or ""))
            if not self._requests.empty():  # not taken yet: the last cancel may have been lost
                self._cancel_wait()
            knock_s = min(2 * knock_s, _REWAKE_S)
        return request.result

    # ------------------------------------------------------------- worker
    def _wake_worker(self) -> None:
        self._wake.set()  # an Event keeps it: a pause that starts later ends at once
        self._cancel_wait()

    def _cancel_wait(self) -> None:
        """End the worker's SCardGetStatusChange, if it is waiting in one yet (else lost: see _REWAKE_S)."""
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
        self._listeners.emit(event)
