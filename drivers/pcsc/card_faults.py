"""The faults a card can be scripted with, shared by both card emulators.

The in-process reader (:mod:`drivers.pcsc.emulator`) and the card behind vpcd
(:mod:`drivers.pcsc.virtual_card`) hold their card under one
``threading.Condition`` (``self._cond``); a mute card, a card pulled in the
middle of an exchange and a purse write that goes wrong are the same story in
both, so it is told once here.  Each host asks :meth:`_on_arrival` what to do
with every APDU that arrives and does it in its own way (raise the PC/SC error
pcscd gives, or drop the vpcd connection).

The two the device panel offers for the top-up are :meth:`pull_on_write`
("pull the card during the next write") and :meth:`spoil_next_mac` ("make the
next write fail verification").
"""

from __future__ import annotations

import threading
from enum import Enum

from drivers.pcsc.purse_command import is_purse_write, with_spoiled_mac


class Arrival(Enum):
    """What the card does with an APDU that arrives."""

    ANSWER = "answer"  # process it and answer (after waiting while muted)
    PULL = "pull"  # leave the reader before processing it
    PULL_AFTER = "pull_after"  # process it, then leave the reader without answering


class ScriptedCardFaults:
    """Mixin: the host class sets ``self._cond`` before calling :meth:`_init_card_faults`."""

    _cond: threading.Condition

    def _init_card_faults(self) -> None:
        self._muted = False
        self._pull_countdown = 0
        self._mute_countdown = 0
        self._write_fault: Arrival | None = None
        self._mute_on_write = False
        self._spoil_mac = False
        self.apdus_seen = 0
        self.writes_seen = 0  # purse write commands that reached the card

    def mute(self, on: bool = True) -> None:
        """Stop (or resume) answering APDUs; a held APDU is answered on resume.

        A mute card holds the reader as a real one does: no answer and no
        timeout of its own (vpcd has none either)."""
        with self._cond:
            self._muted = on
            self._cond.notify_all()

    def pull_on_apdu(self, nth: int = 1) -> None:
        """The card leaves the reader when the ``nth`` APDU from now arrives, unanswered."""
        with self._cond:
            self._pull_countdown = nth

    def mute_on_apdu(self, nth: int = 1) -> None:
        """The card falls silent when the ``nth`` APDU from now arrives (e.g. 3: after the two SELECTs)."""
        with self._cond:
            self._mute_countdown = nth

    def pull_on_write(self, after_writing: bool = False) -> None:
        """The card leaves the reader when the next purse write arrives.

        ``after_writing``: it takes the write first and leaves before its
        answer — the kiosk cannot tell the two apart until it reads the card
        again."""
        with self._cond:
            self._write_fault = Arrival.PULL_AFTER if after_writing else Arrival.PULL

    def mute_on_write(self) -> None:
        """The card falls silent when the next purse write arrives, before taking it."""
        with self._cond:
            self._mute_on_write = True

    def spoil_next_mac(self) -> None:
        """The next purse write arrives with one bit of its MAC flipped: the card must refuse it (6988)."""
        with self._cond:
            self._spoil_mac = True

    def _on_arrival(self, apdu: bytes) -> tuple[Arrival, bytes]:
        """Count one arriving APDU; what to do with it, and the APDU as the card gets it.  Call with ``_cond`` held."""
        self.apdus_seen += 1
        action = Arrival.ANSWER
        if self._pull_countdown:
            self._pull_countdown -= 1
            if self._pull_countdown == 0:
                action = Arrival.PULL
        if self._mute_countdown:
            self._mute_countdown -= 1
            self._muted = self._muted or self._mute_countdown == 0
        if is_purse_write(apdu):
            self.writes_seen += 1
            self._cond.notify_all()
            if self._spoil_mac:
                apdu, self._spoil_mac = with_spoiled_mac(apdu), False
            if self._mute_on_write:
                self._muted, self._mute_on_write = True, False
            if self._write_fault is not None and action is Arrival.ANSWER:
                action, self._write_fault = self._write_fault, None
        return action, apdu

    def wait_for_writes(self, count: int, timeout_s: float = 5.0) -> bool:
        """Until ``count`` purse writes have reached the card (a test's cue to act mid-write)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.writes_seen >= count, timeout_s)
