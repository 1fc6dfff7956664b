"""Plays one WAV at a time through an external command (aplay), on its own thread.

Its own module because this is where the voice meets a process that may not
work at all: a kiosk without a sound card (or without aplay) must go on
silently, so a failing player is reported once to ``on_failure`` and never
raised to the caller.  The caller's thread only flips state and kills a
process; reading, scaling and streaming happen on the player's thread.

The audio goes to the command's stdin as a WAV stream, so the command is
anything that plays (or records, on a bench) a WAV from stdin -- by default
``aplay -q -``.  A command should ``exec`` its player: interrupting a prompt
kills the process started, not its children.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.voice.errors import VoiceUnavailable
from kiosk.voice.latest_worker import LatestWorker
from kiosk.voice.pcm import read_pcm, scaled

log = logging.getLogger("kiosk.voice")

DEFAULT_PLAYER_COMMAND = ("aplay", "-q", "-")
# Handed over before the rest is scaled, so the first sound does not wait for the whole prompt.
FIRST_CHUNK_S = 0.05
FINISH_MARGIN_S = 5.0  # beyond the prompt's own length: a player this late is hung


@dataclass(frozen=True)
class _Playback:
    path: Path
    volume: int
    generation: int  # the player's count of say/stop when this was asked for; stale once it moves
    on_first_bytes: Callable[[float], None] | None


class WavPlayer:
    """One prompt at a time: a new :meth:`say` cuts off the one playing.

    ``on_failure`` gets a :class:`VoiceUnavailable` (on the player's thread)
    when the command cannot start or exits non-zero without being told to
    stop; ``on_first_bytes`` gets the ``time.perf_counter()`` at which the
    first audio was written to the command's stdin.
    """

    def __init__(self, command: Sequence[str] = DEFAULT_PLAYER_COMMAND, *,
                 on_failure: Callable[[VoiceUnavailable], None] | None = None, volume: int = 100,
                 finish_margin_s: float = FINISH_MARGIN_S) -> None:
        if not command:
            raise ValueError("the voice player command is empty")
        self.command = tuple(command)
        self.on_failure = on_failure
        self.finish_margin_s = finish_margin_s
        self.started = 0  # player processes started, for tests and benches
        self._lock = threading.Lock()
        self._generation = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._volume = _checked_volume(volume)
        self._muted = False
        self._worker: LatestWorker[_Playback] = LatestWorker("voice-player", self._play)

    @property
    def volume(self) -> int:
        return self._volume

    @volume.setter
    def volume(self, value: int) -> None:
        """0..100, applied to the samples from the next prompt on."""
        self._volume = _checked_volume(value)

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._muted = bool(value)
        if self._muted:
            self.stop()

    def say(self, path: str | Path, on_first_bytes: Callable[[float], None] | None = None) -> None:
        """Play ``path`` instead of whatever is playing; returns at once."""
        generation = self._interrupt()
        if not self._muted:
            self._worker.submit(_Playback(Path(path), self._volume, generation, on_first_bytes))

    def stop(self) -> None:
        """Silence now: the prompt playing is cut off, one waiting is dropped."""
        self._worker.discard()
        self._interrupt()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is playing or waiting to play; False if ``timeout`` passed first."""
        return self._worker.wait_idle(timeout)

    def close(self) -> None:
        self.stop()
        self._worker.close()

    def _interrupt(self) -> int:
        with self._lock:
            self._generation += 1
            process, self._process = self._process, None
            generation = self._generation
        if process is not None:
            _kill(process)
        return generation

    def _is_current(self, playback: _Playback) -> bool:
        with self._lock:
            return playback.generation == self._generation

    # -- on the player's thread ---------------------------------------------------
    def _play(self, playback: _Playback) -> None:
        if not self._is_current(playback) or playback.volume == 0:
            return
        try:
            pcm = read_pcm(playback.path)
        except (OSError, EOFError, wave.Error, ValueError) as exc:
            log.warning("voice: cannot play %s: %s: %s", playback.path.name, type(exc).__name__, exc)
            return
        first, rest = pcm.split(FIRST_CHUNK_S)
        process = self._spawn(playback)
        if process is None:
            return
        try:
            handed = self._hand_over(process, pcm.header() + scaled(first, playback.volume), playback)
            errors = self._finish(process, scaled(rest, playback.volume) if handed else None,
                                  pcm.duration_s + self.finish_margin_s)
        finally:
            with self._lock:
                if self._process is process:
                    self._process = None
        if errors is not None and process.returncode != 0 and self._is_current(playback):
            self._fail(f"the audio player {self.command[0]!r} exited {process.returncode}: "
                       f"{_telling_line(errors)}")

    def _spawn(self, playback: _Playback) -> subprocess.Popen[bytes] | None:
        """The player's process, registered so that a say() or stop() can kill it."""
        try:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, bufsize=0)
        except OSError as exc:
            self._fail(f"the audio player {self.command[0]!r} does not start: {exc.strerror or exc}")
            return None
        self.started += 1
        with self._lock:
            current = playback.generation == self._generation
            if current:
                self._process = process
        if not current:  # a newer say() or a stop() came while it was starting
            _kill(process)
            self._finish(process, None, self.finish_margin_s)
            return None
        return process

    def _hand_over(self, process: subprocess.Popen[bytes], head: bytes, playback: _Playback) -> bool:
        """Write the header and the first audio; False if the player is already gone."""
        try:
            _write_all(process.stdin, head)
        except OSError:  # it exited (or was killed): its exit status says why
            return False
        if playback.on_first_bytes is not None:
            try:
                playback.on_first_bytes(time.perf_counter())
            except Exception:
                log.exception("voice: the first-bytes hook failed")
        return True

    def _finish(self, process: subprocess.Popen[bytes], rest: bytes | None, timeout_s: float) -> str | None:
        """Stream the rest and wait for the end; the player's stderr, or None if it hung."""
        try:
            _, errors = process.communicate(rest, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            log.warning("voice: the audio player %r was still running after %.1f s; cut off",
                        self.command[0], timeout_s)
            try:
                process.communicate(timeout=self.finish_margin_s)
            except subprocess.TimeoutExpired:
                pass  # a child of it holds stderr open; the process itself is dead
            return None
        return errors.decode("utf-8", "replace")

    def _fail(self, reason: str) -> None:
        if self.on_failure is None:
            log.warning("voice: %s", reason)
            return
        self.on_failure(VoiceUnavailable(reason))


def _checked_volume(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"voice volume must be a whole number 0..100, not {value!r}")
    return value


def _write_all(stream, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[stream.write(view):]


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        process.kill()
    except OSError:
        pass  # it has exited already


def _telling_line(errors: str) -> str:
    """The player's line that names the card if there is one (ALSA says several things), else its last."""
    lines = [line.strip() for line in errors.strip().splitlines() if line.strip()]
    naming = [line for line in lines if "card" in line.lower()]
    if naming:
        return naming[0][:200]
    return lines[-1][:200] if lines else "(no message)"
