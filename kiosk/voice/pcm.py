"""16-bit PCM WAV audio as the player streams it: read, scaled to a volume, headed.

Its own module because the volume is applied here, to the samples, and not by
the speech engine or the sound card's mixer: one cached WAV serves every
volume, and the kiosk needs no mixer control (no ALSA control names that
differ from board to board).  The format follows the canonical RIFF/WAVE
layout (a 16-byte ``fmt `` chunk for PCM, then the ``data`` chunk).
"""

from __future__ import annotations

import array
import struct
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

_PCM_FORMAT = 1
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


@dataclass(frozen=True)
class Pcm:
    """The frames of a WAV file and what they are: ``channels``, ``rate`` (Hz), 2 bytes a sample."""

    channels: int
    rate: int
    frames: bytes

    @property
    def duration_s(self) -> float:
        return len(self.frames) / (2 * self.channels * self.rate)

    def header(self) -> bytes:
        """The 44-byte WAV header for these frames, so they can be streamed after it."""
        block = 2 * self.channels
        size = len(self.frames)
        return _HEADER.pack(b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, _PCM_FORMAT, self.channels,
                            self.rate, self.rate * block, block, 16, b"data", size)

    def split(self, seconds: float) -> tuple[bytes, bytes]:
        """The frames of the first ``seconds`` and the rest, cut on a frame boundary."""
        block = 2 * self.channels
        cut = min(len(self.frames), int(seconds * self.rate) * block)
        return self.frames[:cut], self.frames[cut:]


def read_pcm(path: str | Path) -> Pcm:
    """A 16-bit PCM WAV file's frames; ``wave.Error`` or ``ValueError`` for anything else."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: {wav.getsampwidth() * 8}-bit samples, the player takes 16-bit")
        return Pcm(wav.getnchannels(), wav.getframerate(), wav.readframes(wav.getnframes()))


def scaled(frames: bytes, volume: int) -> bytes:
    """Little-endian 16-bit samples multiplied by ``volume`` / 100 (0..100), rounded down.

    Integer arithmetic: about 2 ms a second of audio, where floats take twice that."""
    if not 0 <= volume <= 100:
        raise ValueError(f"volume must be 0..100, not {volume}")
    if volume == 100:
        return frames
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    out = array.array("h", [s * volume // 100 for s in samples])
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()
