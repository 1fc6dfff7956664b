"""VoicePrompts: what the app calls to have a prompt spoken, and nothing more.

Its own module because it holds the voice's rules as the kiosk sees them,
apart from how speech is made (:mod:`kiosk.voice.synthesis`) or played
(:mod:`kiosk.voice.player`):

* no call blocks the caller (the GUI thread): :meth:`VoicePrompts.speak`
  queues the prompt; synthesis runs on one worker thread, playback on the
  player's;
* the newest prompt wins: one not yet played when a newer one comes is
  dropped, one playing is cut off;
* a voice that cannot work (no engine, no sound card, no player) turns
  itself off for the session, says why once in the log, and never raises;
* each customer starts from the defaults (:meth:`VoicePrompts.reset`).

Prompt texts are never logged: a prompt may speak an amount.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from kiosk.i18n import LANGUAGES
from kiosk.voice.errors import SynthesisFailed, VoiceUnavailable
from kiosk.voice.latest_worker import LatestWorker
from kiosk.voice.player import DEFAULT_PLAYER_COMMAND, WavPlayer
from kiosk.voice.synthesis import Synthesiser
from kiosk.voice.wav_cache import WavCache

log = logging.getLogger("kiosk.voice")

DEFAULT_VOLUME = 80
FAILURES_BEFORE_OFF = 3  # prompts in a row the engine failed on: it is broken, not busy


@dataclass(frozen=True)
class FirstSample:
    """When a prompt's first audio reached the player; both times are ``time.perf_counter()``."""

    lang: str
    requested_at: float  # speak() was called (the screen was shown)
    handed_at: float  # the first bytes were written to the player's stdin

    @property
    def latency_s(self) -> float:
        return self.handed_at - self.requested_at


@dataclass(frozen=True)
class _Request:
    text: str
    lang: str
    elder: bool
    generation: int  # the facade's count of speak/stop when asked; stale once it moves
    requested_at: float


class VoicePrompts:
    """Speaks step prompts, results and errors in the customer's language ("zh" or "en").

    ``cache_dir`` keeps the synthesised prompts; ``player_command`` plays a
    WAV from stdin (a bench gives a sink); ``on_first_sample`` is called with
    a :class:`FirstSample` on the player's thread.  ``enabled=False`` makes
    every call do nothing.
    """

    def __init__(self, cache_dir: str | os.PathLike[str], *, enabled: bool = True,
                 player_command: Sequence[str] = DEFAULT_PLAYER_COMMAND, default_volume: int = DEFAULT_VOLUME,
                 engine: str = "espeak-ng", on_first_sample: Callable[[FirstSample], None] | None = None) -> None:
        self.default_volume = default_volume
        self.on_first_sample = on_first_sample
        self.last_first_sample: FirstSample | None = None
        self._lock = threading.Lock()
        self._on = enabled
        self._off_reason = "" if enabled else "turned off by configuration"
        self._generation = 0
        self._last: tuple[str, str] | None = None
        self._muted = False
        self._elder = False
        self._failures = 0
        self.synthesiser = Synthesiser(WavCache(cache_dir), executable=engine)
        self.player = WavPlayer(player_command, on_failure=self._player_failed, volume=default_volume)
        self._worker: LatestWorker[_Request] = LatestWorker("voice-synthesis", self._synthesise_and_play)
        if not enabled:
            log.info("voice prompts are off: %s", self._off_reason)

    @property
    def enabled(self) -> bool:
        """False when constructed off, or once the voice turned itself off for the session."""
        return self._on

    @property
    def off_reason(self) -> str:
        """Why the voice is off, for a technician; empty while it is on."""
        return self._off_reason

    @property
    def volume(self) -> int:
        return self.player.volume

    @property
    def muted(self) -> bool:
        return self._muted

    def speak(self, text: str, lang: str) -> None:
        """Say ``text`` in ``lang`` soon, instead of any earlier prompt; returns at once."""
        requested_at = time.perf_counter()
        if lang not in LANGUAGES:
            raise ValueError(f"voice language must be one of {LANGUAGES}, not {lang!r}")
        if not text.strip():
            return
        with self._lock:
            if not self._on:
                return
            self._last = (text, lang)
            if self._muted:
                return
            self._generation += 1
            request = _Request(text, lang, self._elder, self._generation, requested_at)
        self._worker.submit(request)

    def repeat(self) -> None:
        """The last prompt again, from its start (the customer asked to hear it again)."""
        last = self._last
        if last is not None:
            self.speak(*last)

    def set_volume(self, volume: int) -> None:
        """0..100, from the next prompt on; a ``ValueError`` says what is wrong with another value."""
        self.player.volume = volume

    def set_muted(self, muted: bool) -> None:
        """Muted: nothing is played (the prompt playing stops), but :meth:`repeat` remembers."""
        with self._lock:
            self._muted = bool(muted)
            if self._muted:
                self._generation += 1
        self.player.muted = self._muted

    def set_elder(self, on: bool) -> None:
        """Elder mode (长辈模式): prompts from now on are spoken more slowly."""
        self._elder = bool(on)

    def stop(self) -> None:
        """Silence now; a prompt still being synthesised is dropped too."""
        with self._lock:
            self._generation += 1
        self._worker.discard()
        self.player.stop()

    def reset(self) -> None:
        """Back to the defaults for the next customer: silent, default volume, unmuted, standard speed.

        The last prompt is forgotten, so :meth:`repeat` cannot replay the
        previous customer's amount."""
        self.stop()
        with self._lock:
            self._last = None
            self._muted = False
            self._elder = False
        self.player.muted = False
        self.player.volume = self.default_volume

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is being synthesised or played (tests, benches, shutdown)."""
        deadline = time.monotonic() + timeout
        return self._worker.wait_idle(timeout) and self.player.wait_idle(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop and end the voice's threads (the kiosk is stopping)."""
        self.stop()
        self._worker.close()
        self.player.close()

    # -- on the synthesis thread ----------------------------------------------------
    def _synthesise_and_play(self, request: _Request) -> None:
        if request.generation != self._generation:
            return
        try:
            path = self.synthesiser.synthesise(request.text, request.lang, elder=request.elder)
        except VoiceUnavailable as exc:
            self._turn_off(exc.reason)
            return
        except SynthesisFailed as exc:
            self._prompt_failed(request, exc)
            return
        with self._lock:
            self._failures = 0
            if request.generation == self._generation and self._on:
                self.player.say(path, on_first_bytes=partial(self._first_bytes, request))

    def _prompt_failed(self, request: _Request, exc: SynthesisFailed) -> None:
        with self._lock:
            self._failures += 1
            failures = self._failures
        if failures >= FAILURES_BEFORE_OFF:
            self._turn_off(f"{failures} prompts in a row could not be synthesised; the last: {exc.reason}")
        else:
            log.warning("voice: a %s prompt of %d characters was not spoken: %s",
                        request.lang, len(request.text), exc.reason)

    # -- on the player's thread -----------------------------------------------------
    def _first_bytes(self, request: _Request, handed_at: float) -> None:
        sample = FirstSample(request.lang, request.requested_at, handed_at)
        self.last_first_sample = sample
        if self.on_first_sample is not None:
            self.on_first_sample(sample)

    def turn_off(self, reason: str) -> None:
        """Off for this session, for ``reason`` (a probe found no sound card, say); logged once."""
        self._turn_off(reason)

    def _player_failed(self, exc: VoiceUnavailable) -> None:
        self._turn_off(exc.reason)

    # -- on either thread -----------------------------------------------------------
    def _turn_off(self, reason: str) -> None:
        with self._lock:
            if not self._on:
                return
            self._on, self._off_reason = False, reason
            self._generation += 1
        log.warning("voice prompts are off for this session: %s", reason)
        self._worker.discard()
        self.player.stop()
