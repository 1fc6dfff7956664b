"""The kiosk's voice follows the customer: each new screen's prompt once, in their language.

Qt-free glue between the journey and :class:`kiosk.voice.VoicePrompts`: the
controller hands it every state; it speaks when the moment changes (a new
step, a new result, another language), not on every re-render, and resets
the voice (volume, mute, speed, the last prompt) when the customer leaves.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.i18n import Translator
from kiosk.journey_state import JourneyState, Step
from kiosk.voice_script import spoken_prompt

log = logging.getLogger("kiosk.voice")

VOLUME_STEP = 20
SOUND_CARDS = "/proc/asound/cards"  # ALSA's list; "--- no soundcards ---" when there is none


def voice_for(config: KioskConfig):
    """The voice a kiosk of ``config`` has: :class:`VoicePrompts` when ``[voice] enabled``, else None."""
    if not config.voice.enabled:
        return None
    from kiosk.voice import VoicePrompts

    return VoicePrompts(Path(config.storage.data_dir) / "voice-cache", default_volume=config.voice.volume)


@dataclass(frozen=True)
class VoiceView:
    """What the screens show of the voice: its buttons, and whether it is muted."""

    muted: bool
    volume: int


class VoiceLink:
    def __init__(self, voice, config: KioskConfig, sound_cards: str = SOUND_CARDS) -> None:
        self.voice = voice  # kiosk.voice.VoicePrompts, or None: a terminal without speech
        self.config = config
        self.sound_cards = sound_cards
        self._last_moment: tuple | None = None
        self._in_session = False
        self._probed = False  # nothing is offered or said before the probe found a voice

    @property
    def available(self) -> bool:
        """Speech works on this machine (espeak-ng and a sound card); the screens offer its buttons then."""
        return self._probed and self.voice is not None and self.voice.enabled

    def view(self) -> VoiceView | None:
        return VoiceView(self.voice.muted, self.voice.volume) if self.available else None

    def control(self, action: str) -> None:
        """A tap on the voice's buttons: "repeat", "louder", "softer" or "mute"."""
        {"repeat": self.repeat, "louder": self.louder, "softer": self.softer, "mute": self.toggle_mute}[action]()

    def probe(self) -> bool:
        """Can this machine speak?  Reads the sound cards and looks for the engine: off the GUI thread.

        Without a sound card or espeak-ng the voice is off for the session
        (one log line) and the screens do not offer its buttons."""
        if self.voice is None:
            return False
        if shutil.which("espeak-ng") is None:
            self.voice.turn_off("espeak-ng is not installed (apt install espeak-ng)")
        else:
            try:
                cards = Path(self.sound_cards).read_text(errors="replace")
            except OSError:
                cards = ""
            if not cards.strip() or "no soundcards" in cards:
                self.voice.turn_off(f"no sound card ({self.sound_cards} lists none)")
        self._probed = True
        return self.available

    def follow(self, state: JourneyState, lang: str) -> None:
        if not self.available:
            return
        if state.step is Step.HOME and not state.help_shown:
            if self._in_session:  # the customer left: the next one starts with the defaults
                self.voice.reset()
                self._in_session = False
            self._last_moment = None
            return
        self._in_session = True
        self.voice.set_elder(state.elder)
        tr = Translator(lang)
        spoken = spoken_prompt(state, tr, self._utility_name(lang), self.config.terminal.hotline)
        if spoken is None:
            return
        moment = (lang, spoken.moment)
        if moment != self._last_moment:
            self._last_moment = moment
            self.voice.speak(spoken.text, lang)

    def repeat(self) -> None:
        if self.available:
            self.voice.repeat()

    def louder(self) -> None:
        if self.available:
            self.voice.set_volume(min(100, self.voice.volume + VOLUME_STEP))

    def softer(self) -> None:
        if self.available:
            self.voice.set_volume(max(0, self.voice.volume - VOLUME_STEP))

    def toggle_mute(self) -> None:
        if self.available:
            self.voice.set_muted(not self.voice.muted)

    def close(self) -> None:
        if self.voice is not None:
            self.voice.close()

    def _utility_name(self, lang: str):
        def name(utility_id: str | None) -> str:
            return self.config.utility(utility_id).name(lang) if utility_id else ""
        return name
