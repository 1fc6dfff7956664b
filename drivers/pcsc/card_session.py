"""The card session: one card on a thread and a PC/SC context of its own, and the exchanges asked of it.

Its own module because it is the one place that copes with ``SCardTransmit``
never returning from a mute card (vpcd has no timeout, and a call on a
context blocks every other call on that context): the session marks when
each call started (:attr:`CardSession.busy_since`), so the driver's worker
can time it and abandon the session, which ends by itself once the card or
the service goes.  The worker runs jobs on it; other threads' APDU
exchanges reach the worker as :class:`ExchangeRequest` and come back as
:class:`ExchangeResult`.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from drivers.pcsc import pcsc_api as api
from drivers.pcsc.events import CardError
from drivers.pcsc.pcsc_api import PcscError
from drivers.pcsc.reasons import DRIVER_STOPPED


@dataclass(frozen=True)
class ExchangeResult:
    """What :meth:`CardReaderDriver.exchange` got: raw responses, or an error."""

    responses: tuple[bytes, ...] = ()
    error: CardError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Job:
    """One piece of work for the session thread, and the value or error it ended with."""

    def __init__(self, work: Callable[["CardSession"], Any]) -> None:
        self.work = work
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CardSession:
    """One card on its own thread and PC/SC context; PC/SC calls are timed."""

    def __init__(self, system, reader: str) -> None:
        self._system = system
        self.reader = reader
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._context = None
        self._card = None
        self.atr = b""
        self.busy_since: float | None = None
        self.last_call = ""
        self.abandoned = False
        self._thread = threading.Thread(target=self._run, name="card-session", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[["CardSession"], Any]) -> Job:
        job = Job(work)
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
class Outcome:
    """How a job ended, as the worker saw it: a value, an error, a call past its time, or the driver stopping."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    stopped: bool = False


class ExchangeRequest:
    """APDUs another thread asked the worker to send; ``done`` is set once ``result`` is final."""

    def __init__(self, apdus: Sequence[bytes]) -> None:
        self.apdus = tuple(bytes(a) for a in apdus)
        self.done = threading.Event()
        self.result = ExchangeResult(error=CardError(DRIVER_STOPPED, "the card reader driver stopped"))
