"""Spoken prompts: the kiosk says its steps, results and errors aloud, offline.

Qt-free and device-free: :class:`VoicePrompts` is what the app calls; it
synthesises with espeak-ng (:mod:`kiosk.voice.synthesis`, cached on disk by
:mod:`kiosk.voice.wav_cache`) and plays through a command such as aplay
(:mod:`kiosk.voice.player`).  Without a sound card the kiosk runs silent.
"""

from kiosk.voice.errors import SynthesisFailed, VoiceError, VoiceUnavailable
from kiosk.voice.player import DEFAULT_PLAYER_COMMAND, WavPlayer
from kiosk.voice.prompts import DEFAULT_VOLUME, FirstSample, VoicePrompts
from kiosk.voice.synthesis import Synthesiser
from kiosk.voice.wav_cache import WavCache

__all__ = [
    "DEFAULT_PLAYER_COMMAND", "DEFAULT_VOLUME", "FirstSample", "Synthesiser", "SynthesisFailed",
    "VoiceError", "VoicePrompts", "VoiceUnavailable", "WavCache", "WavPlayer",
]
