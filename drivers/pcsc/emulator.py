"""An in-process card reader: the PC/SC interface without pcscd.

:class:`EmulatedReader` offers what :class:`~drivers.pcsc.pcsc_api.PcscSystem`
offers — contexts that list readers, wait for state changes, connect and
transmit — and answers with the same card application as the virtual card
behind vpcd (:class:`~drivers.pcsc.applet.PrepaidCardApplet`).  The driver
cannot tell it from pcscd, so ``make demo`` runs the real driver on a machine
without pcscd, and the device panel plays every fault through the scripting
methods: insert, remove, mute, pull the card mid-exchange or mid-write,
spoil a purse write's MAC, unplug the reader, stop the service.  Failures carry the PC/SC return codes pcscd gives in the
same situation (see PLATFORM.md and :mod:`drivers.pcsc.pcsc_api`).
"""

from __future__ import annotations

import threading
import time

from drivers.pcsc import pcsc_api as api
from drivers.pcsc.applet import DEMO_CARD, CardImage, PrepaidCardApplet
from drivers.pcsc.card_app import CardInfo
from drivers.pcsc.card_faults import Arrival, ScriptedCardFaults
from drivers.pcsc.pcsc_api import PcscError, ReaderState

EMULATED_READER_NAME = "Kiosk Emulated Reader 00 00"


class EmulatedReader(ScriptedCardFaults):
    """One emulated reader and the card in it; every method is thread safe."""

    def __init__(self, name: str = EMULATED_READER_NAME, *, status_call_latency_s: float = 0.0) -> None:
        """``status_call_latency_s``: how long a ``wait_change`` takes to reach the service, as a
        SCardGetStatusChange takes its trip over pcscd's socket; a ``cancel`` in that time finds
        nothing waiting and is lost, as it is with pcscd (tests of the driver's wake-up use it)."""
        if not 0 <= status_call_latency_s <= 1:
            raise ValueError(f"status_call_latency_s {status_call_latency_s} is outside 0..1")
        self.name = name
        self.status_call_latency_s = status_call_latency_s
        self._cond = threading.Condition()
        self._applet: PrepaidCardApplet | None = None
        self._init_card_faults()
        self._plugged = True
        self._service_up = True
        self._service_epoch = 0  # contexts made before a service restart are dead
        self._events = 0

    # ------------------------------------------------------------- scripting
    def insert(self, card: CardInfo | CardImage = DEMO_CARD) -> PrepaidCardApplet:
        image = card if isinstance(card, CardImage) else CardImage.of(card)
        with self._cond:
            self._applet = PrepaidCardApplet(image)
            self._changed()
            return self._applet

    def remove(self) -> None:
        with self._cond:
            if self._applet is not None:
                self._applet = None
                self._changed()

    def unplug(self) -> None:
        """Pull the reader's cable: it disappears from the reader list."""
        with self._cond:
            self._plugged = False
            self._changed()

    def plug(self) -> None:
        with self._cond:
            self._plugged = True
            self._changed()

    def stop_service(self) -> None:
        """As if pcscd stopped: every context breaks, new ones are refused."""
        with self._cond:
            self._service_up = False
            self._service_epoch += 1
            self._changed()

    def start_service(self) -> None:
        with self._cond:
            self._service_up = True
            self._changed()

    @property
    def card_present(self) -> bool:
        with self._cond:
            return self._applet is not None

    # ------------------------------------------------------------- the PC/SC side
    def establish(self) -> "_Context":
        with self._cond:
            if not self._service_up:
                raise PcscError(api.SCARD_E_NO_SERVICE, "SCardEstablishContext")
            return _Context(self, self._service_epoch)

    def _changed(self) -> None:
        self._events += 1
        self._cond.notify_all()

    def _check_service(self, epoch: int, call: str) -> None:
        # pcscd gone: calls say "service not available"; a context from before
        # a restart has lost its connection ("RPC transport error").
        if not self._service_up:
            raise PcscError(api.SCARD_E_NO_SERVICE, call)
        if epoch != self._service_epoch:
            raise PcscError(api.SCARD_F_COMM_ERROR, call)

    def _state(self, reader: str) -> int:
        if reader != self.name or not self._plugged:
            flags = api.STATE_UNKNOWN
        elif self._applet is None:
            flags = api.STATE_EMPTY
        else:
            flags = api.STATE_PRESENT
        return (self._events & 0xFFFF) << 16 | flags


class _Context:
    def __init__(self, reader: EmulatedReader, epoch: int) -> None:
        self._reader = reader
        self._epoch = epoch
        self._cancelled = False

    def list_readers(self) -> list[str]:
        reader = self._reader
        with reader._cond:
            reader._check_service(self._epoch, "SCardListReaders")
            return [reader.name] if reader._plugged else []

    def wait_change(self, name: str, known: int, timeout_s: float) -> ReaderState:
        reader = self._reader
        deadline = time.monotonic() + timeout_s
        if reader.status_call_latency_s:
            time.sleep(reader.status_call_latency_s)
        with reader._cond:
            self._cancelled = False  # SCardCancel reaches only a call already waiting in pcscd
            while True:
                reader._check_service(self._epoch, "SCardGetStatusChange")
                current = reader._state(name)
                if current != known:
                    atr = reader._applet.atr if reader._applet is not None and current & api.STATE_PRESENT else b""
                    return ReaderState(current | api.STATE_CHANGED, atr)
                remaining = deadline - time.monotonic()
                if self._cancelled or remaining <= 0:
                    return ReaderState(known)
                reader._cond.wait(remaining)

    def cancel(self) -> None:
        with self._reader._cond:
            self._cancelled = True
            self._reader._cond.notify_all()

    def connect(self, name: str) -> "_Card":
        reader = self._reader
        with reader._cond:
            reader._check_service(self._epoch, "SCardConnect")
            if name != reader.name:
                raise PcscError(api.SCARD_E_UNKNOWN_READER, "SCardConnect")
            if not reader._plugged:
                raise PcscError(api.SCARD_E_READER_UNAVAILABLE, "SCardConnect")
            if reader._applet is None:
                raise PcscError(api.SCARD_E_NO_SMARTCARD, "SCardConnect")
            reader._applet.reset()
            return _Card(reader, self._epoch, reader._applet)

    def release(self) -> None:
        pass


class _Card:
    def __init__(self, reader: EmulatedReader, epoch: int, applet: PrepaidCardApplet) -> None:
        self._reader = reader
        self._epoch = epoch
        self._applet = applet
        self.atr = applet.atr

    def _check(self) -> None:
        reader = self._reader
        reader._check_service(self._epoch, "SCardTransmit")
        if not reader._plugged:
            raise PcscError(api.SCARD_E_READER_UNAVAILABLE, "SCardTransmit")
        if reader._applet is not self._applet:
            raise PcscError(api.SCARD_W_REMOVED_CARD, "SCardTransmit")

    def transmit(self, apdu: bytes) -> bytes:
        reader = self._reader
        with reader._cond:
            self._check()
            action, apdu = reader._on_arrival(bytes(apdu))
            if action is Arrival.PULL:
                self._pulled()
            while reader._muted:
                reader._cond.wait()
                self._check()
        response = self._applet.process(apdu)
        if action is Arrival.PULL_AFTER:
            with reader._cond:
                self._pulled()
        return response

    def _pulled(self) -> None:
        """The card left mid-command: pcscd says "transaction failed" (PLATFORM.md).  Call with the lock held."""
        self._reader._applet = None
        self._reader._changed()
        raise PcscError(api.SCARD_E_NOT_TRANSACTED, "SCardTransmit")

    def disconnect(self) -> None:
        pass
