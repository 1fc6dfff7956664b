"""What the card reader's worker does with the card in the reader, from arrival to removal.

It reads a card that arrives, classifies what went wrong with one (mute,
pulled, unknown, in error), follows the reader's state for a moment when
the link to a card breaks, serves the APDU exchanges other threads ask for,
and announces the card's removal.  Its own module because this is the
card's story, apart from the worker's watch over pcscd and the reader list
(``drivers/pcsc/reader.py``); it is a mixin of
:class:`~drivers.pcsc.reader.CardReaderDriver`, and runs on its worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from drivers.pcsc import card_app
from drivers.pcsc import pcsc_api as api
from drivers.pcsc.card_app import CardAppError, CardFormatError, CardInfo, StatusWordError
from drivers.pcsc.card_session import CardSession, ExchangeRequest, ExchangeResult, Job, Outcome
from drivers.pcsc.events import CardError, CardInserted, CardRemoved
from drivers.pcsc.pcsc_api import PcscError
from drivers.pcsc.reasons import (CARD_ERROR, CARD_MUTE, CARD_PULLED, CARD_UNKNOWN, DRIVER_STOPPED, NO_CARD,
                                  PCSC_SERVICE_DOWN, READER_UNPLUGGED)
from drivers.status import DeviceState

log = logging.getLogger("kiosk.devices.card_reader")

REMOVAL_GRACE_S = 1.0  # pcscd polls a reader's card every 400 ms (vpcd) or faster (CCID)


def link_failure(error: BaseException | None) -> bool:
    """A PC/SC failure on the way to the card, not the service, reader or a card's answer."""
    return isinstance(error, PcscError) and not (error.service_down or error.reader_gone or error.card_mute
                                                 or error.code == api.SCARD_E_CANCELLED)


class CardLifecycle:
    """Mixin: the card half of the driver's worker.

    The driver sets up the state below and provides ``_publish``, ``_emit``
    and ``_drop_context``; these methods run on the worker thread.
    """

    apdu_timeout_s: float
    _system: Any  # pcscd (PcscSystem) or the in-process EmulatedReader
    _stop: threading.Event
    _requests: queue.SimpleQueue[ExchangeRequest]
    _context: Any  # the worker's PC/SC context, None while there is none
    _reader: str | None
    _known: int
    _session: CardSession | None
    _present: bool
    _card: CardInfo | None
    _problem: tuple[DeviceState, str, str] | None

    def _card_arrived(self, reader: str, atr: bytes) -> None:
        for attempt in (1, 2):
            self._publish(DeviceState.BUSY, "", f"reading the card in {reader}", card_present=True)
            self._session = CardSession(self._system, reader)
            outcome = self._await(self._session.submit(
                lambda session: card_app.read_card(session.transmit, session.connect())))
            if outcome.value is not None:
                self._card = outcome.value
                log.info("card inserted", extra={"reader": reader, "utility": self._card.utility.value,
                                                 "card_type": self._card.card_type.name})
                self._publish(DeviceState.ONLINE, "", f"card reader {reader} ready, card in", card_present=True)
                self._emit(CardInserted(self._session.atr or atr, self._card, reader))
                return
            if attempt == 1 and link_failure(outcome.error):
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

    def _failed(self, reader: str, outcome: Outcome, doing: str) -> CardError | None:
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
        ``REMOVAL_GRACE_S``; a change of pcscd's event counter (the high 16
        bits of the state) means a card left, even if another is in now.
        """
        events = self._known >> 16
        deadline = time.monotonic() + REMOVAL_GRACE_S
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

    def _await(self, job: Job) -> Outcome:
        """Wait for a session job, giving each PC/SC call ``apdu_timeout_s``."""
        session = self._session
        while not job.done.wait(0.01):
            if self._stop.is_set():
                return Outcome(stopped=True)
            since = session.busy_since if session else None
            if since is not None and time.monotonic() - since > self.apdu_timeout_s:
                return Outcome(timed_out=True)
        return Outcome(job.value, job.error)

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
