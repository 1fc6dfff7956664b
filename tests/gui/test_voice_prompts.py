"""The kiosk speaks each new screen once, in the customer's language, with the real engine and a real player
process; "hear again", louder, softer and sound off are the customer's, and the next customer starts afresh."""

from __future__ import annotations

import shutil

import pytest

from kiosk.i18n import Translator
from kiosk.voice import VoicePrompts
from kiosk.voice_link import VoiceLink

from gui.test_help_call import accessibility_problems
from gui.test_inquiry_screens import look_up
from harness import tap, wait_until
from voice_sink import Sink

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (Debian package espeak-ng)")


@pytest.fixture
def spoken(kiosk, tmp_path):
    """The kiosk's voice, playing into a sink process instead of a sound card this machine lacks."""
    sink = Sink(tmp_path / "sink")
    cards = tmp_path / "cards"
    cards.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n")
    kiosk.voice = VoiceLink(VoicePrompts(tmp_path / "cache", player_command=sink.command), kiosk.config,
                            sound_cards=str(cards))
    assert kiosk.voice.probe()
    kiosk.render()
    yield sink
    kiosk.voice.close()


def played_count(sink: Sink, count: int) -> None:
    wait_until(lambda: len(sink.played()) >= count, timeout_s=20, what=f"{count} prompt(s) played")


def test_a_new_screen_is_spoken_once_however_often_it_is_drawn(kiosk, spoken):
    assert kiosk.window.header.repeat.isVisible()
    tap(kiosk.window.home.inquiry)
    played_count(spoken, 1)
    kiosk.render()
    kiosk.render()
    assert kiosk.voice.voice.wait_idle(10)
    assert len(spoken.started()) == 1  # a re-render is not a new screen
    assert kiosk.voice.voice.synthesiser.runs == 1


def test_hear_again_plays_the_prompt_again_and_switching_language_speaks_it_in_english(kiosk, spoken):
    tap(kiosk.window.home.inquiry)
    played_count(spoken, 1)
    tap(kiosk.window.header.repeat)
    played_count(spoken, 2)
    tap(kiosk.window.header.language_switch)
    played_count(spoken, 3)
    assert kiosk.voice.voice.synthesiser.runs == 2  # the repeat came from the cache; English is new
    first, again, english = spoken.played()
    assert first.read_bytes() == again.read_bytes() != english.read_bytes()


def test_the_customer_sets_the_volume_and_mutes_and_the_next_customer_starts_at_the_default(kiosk, spoken):
    look_up(kiosk, "electricity_arrears")
    default = kiosk.voice.voice.volume
    tap(kiosk.window.header.help)
    card = kiosk.window.help_overlay
    assert card.voice_row.isVisible()
    assert accessibility_problems(kiosk) == []
    tap(card.voice_buttons["softer"])
    assert kiosk.voice.voice.volume == default - 20
    tap(card.voice_buttons["mute"])
    assert kiosk.voice.voice.muted and card.voice_buttons["mute"].text() == Translator("zh")("voice.unmute")
    tap(card.close_button)
    tap(kiosk.window.overview.nav.home)  # the customer leaves
    assert (kiosk.voice.voice.volume, kiosk.voice.voice.muted) == (default, False)


def test_a_machine_without_a_sound_card_offers_no_voice_buttons(kiosk, tmp_path):
    cards = tmp_path / "cards"
    cards.write_text("--- no soundcards ---\n")
    kiosk.voice = VoiceLink(VoicePrompts(tmp_path / "cache"), kiosk.config, sound_cards=str(cards))
    assert not kiosk.voice.probe()
    kiosk.render()
    assert not kiosk.window.header.repeat.isVisible()
    tap(kiosk.window.header.help)
    assert not kiosk.window.help_overlay.voice_row.isVisible()
    kiosk.voice.close()
