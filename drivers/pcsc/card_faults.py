"""The two faults a card can be scripted with, shared by both card emulators.

The in-process reader (:mod:`drivers.pcsc.emulator`) and the card behind vpcd
(:mod:`drivers.pcsc.virtual_card`) hold their card under one
``threading.Condition`` (``self._cond``); a mute card and a card pulled in the
middle of an exchange are the same story in both, so it is told once here.
"""

from __future__ import annotations

import threading


class ScriptedCardFaults:
    """Mixin: the host class sets ``self._cond`` before calling :meth:`_init_card_faults`."""

    _cond: threading.Condition

    def _init_card_faults(self) -> None:
        self._muted = False
        self._pull_countdown = 0
        self.apdus_seen = 0

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

    def _count_apdu_and_check_pull(self) -> bool:
        """Count one arriving APDU; True if it is the one the card is pulled on.  Call with ``_cond`` held."""
        self.apdus_seen += 1
        if self._pull_countdown:
            self._pull_countdown -= 1
            return self._pull_countdown == 0
        return False
