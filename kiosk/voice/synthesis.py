"""Text and a language in, the path of a WAV file out: espeak-ng, run once per prompt.

Its own module because it is the only place that knows the speech engine:
its command line, its voices for the kiosk's languages, its speeds, how long
it may take.  The WAV it writes is kept in a :class:`~kiosk.voice.wav_cache.WavCache`
under a hash of everything that shapes the sound (the engine's version, the
voice, the speed, the text), so a prompt is synthesised the first time it is
needed and read from disk ever after -- and an engine upgrade cannot serve
the old sound.

Every run of the engine has a total timeout.  The text goes in on stdin, as
UTF-8: a prompt that starts with "-" cannot be read as an option, and no
prompt appears in the process list.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import wave
from pathlib import Path

from kiosk.i18n import LANGUAGES
from kiosk.voice.errors import SynthesisFailed, VoiceUnavailable
from kiosk.voice.wav_cache import WavCache, entry_name

log = logging.getLogger("kiosk.voice")

ESPEAK_VOICES = {"zh": "cmn", "en": "en"}  # espeak-ng's Mandarin and English voices
STANDARD_WPM = 160  # a little slower than espeak-ng's 175: a kiosk is spoken to strangers
ELDER_WPM = 120  # elder mode (长辈模式): more time for every word
SYNTHESIS_TIMEOUT_S = 10.0  # a prompt takes about 20 ms; this is a hung engine
VERSION_TIMEOUT_S = 5.0

__all__ = ["Synthesiser", "SynthesisFailed", "VoiceUnavailable", "espeak_command"]


def espeak_command(executable: str, voice: str, wpm: int, out_path: Path) -> list[str]:
    """espeak-ng writing the text it reads on stdin (UTF-8) to ``out_path`` as a WAV."""
    return [executable, "-v", voice, "-s", str(wpm), "-b", "1", "-w", str(out_path), "--stdin"]


class Synthesiser:
    """Makes prompts into WAV files with espeak-ng, each text once, through ``cache``.

    ``runs`` counts the engine's runs (not the cache's hits).  Raises
    :class:`VoiceUnavailable` when the engine is missing or broken, and
    :class:`SynthesisFailed` when one prompt fails.
    """

    def __init__(self, cache: WavCache, *, executable: str = "espeak-ng", standard_wpm: int = STANDARD_WPM,
                 elder_wpm: int = ELDER_WPM, timeout_s: float = SYNTHESIS_TIMEOUT_S) -> None:
        for setting, wpm in (("standard_wpm", standard_wpm), ("elder_wpm", elder_wpm)):
            if not 80 <= wpm <= 450:  # espeak-ng's own range
                raise ValueError(f"voice {setting} must be 80..450 words per minute, not {wpm}")
        self.cache = cache
        self.executable = executable
        self.standard_wpm = standard_wpm
        self.elder_wpm = elder_wpm
        self.timeout_s = timeout_s
        self.runs = 0
        self._engine_id: str | None = None

    def synthesise(self, text: str, lang: str, *, elder: bool = False) -> Path:
        """The WAV file that speaks ``text`` in ``lang`` ("zh" or "en"), made now or found."""
        if lang not in LANGUAGES:
            raise ValueError(f"voice language must be one of {LANGUAGES}, not {lang!r}")
        if not text.strip():
            raise ValueError("a voice prompt needs some text")
        voice, wpm = ESPEAK_VOICES[lang], self.elder_wpm if elder else self.standard_wpm
        key = "\n".join((self.engine_id(), voice, str(wpm), text))
        name = entry_name(hashlib.sha256(key.encode("utf-8")).hexdigest()[:40])
        found = self.cache.find(name)
        if found is not None:
            return found
        try:
            return self.cache.store(name, lambda out: self._run_engine(text, voice, wpm, out))
        except OSError as exc:
            raise SynthesisFailed(f"voice cache {self.cache.directory}: {type(exc).__name__}: {exc}") from exc

    def engine_id(self) -> str:
        """The engine's version line, asked once: it is part of every cache key."""
        if self._engine_id is None:
            self._engine_id = self._ask_version()
        return self._engine_id

    def _ask_version(self) -> str:
        if shutil.which(self.executable) is None:
            raise VoiceUnavailable(f"the speech engine {self.executable!r} is not installed "
                                   "(Debian package espeak-ng)")
        try:
            done = subprocess.run([self.executable, "--version"], capture_output=True, text=True,
                                  timeout=VERSION_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceUnavailable(f"the speech engine {self.executable!r} does not start: {exc}") from exc
        line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
        if done.returncode != 0 or not line:
            raise VoiceUnavailable(f"the speech engine {self.executable!r} --version exited "
                                   f"{done.returncode}: {_last_line(done.stderr)}")
        return line

    def _run_engine(self, text: str, voice: str, wpm: int, out: Path) -> None:
        self.runs += 1
        command = espeak_command(self.executable, voice, wpm, out)
        try:
            done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                                  timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise SynthesisFailed(f"{self.executable} -v {voice} took over {self.timeout_s:g} s "
                                  f"on a prompt of {len(text)} characters") from exc
        except OSError as exc:
            raise VoiceUnavailable(f"the speech engine {self.executable!r} does not start: {exc}") from exc
        if done.returncode != 0:
            raise SynthesisFailed(f"{self.executable} -v {voice} exited {done.returncode}: "
                                  f"{_last_line(done.stderr.decode('utf-8', 'replace'))}")
        _check_wav(out, voice)


def _check_wav(path: Path, voice: str) -> None:
    """What the player can play: 16-bit PCM with at least one frame."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnframes() == 0:
                raise SynthesisFailed(f"espeak-ng -v {voice} wrote {wav.getnframes()} frames of "
                                      f"{wav.getsampwidth() * 8}-bit audio")
    except (wave.Error, EOFError) as exc:
        raise SynthesisFailed(f"espeak-ng -v {voice} wrote no readable WAV: {exc}") from exc


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else "(no message)"
