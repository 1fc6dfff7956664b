"""What can go wrong with spoken prompts, as types.

Its own module because both halves of the voice (synthesis and playback)
raise these and the facade sorts them: :class:`VoiceUnavailable` turns the
voice off for the rest of the session, :class:`SynthesisFailed` loses one
prompt only.  Neither is ever shown to a customer -- a kiosk without a voice
still works -- so each carries only the technician's ``reason``.
"""

from __future__ import annotations


class VoiceError(Exception):
    """Base of the voice's failures; ``reason`` says what a technician would check."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class VoiceUnavailable(VoiceError):
    """The voice cannot work in this session: no engine, no player, no sound card."""


class SynthesisFailed(VoiceError):
    """One prompt could not be made into audio (the engine failed or timed out on it)."""
