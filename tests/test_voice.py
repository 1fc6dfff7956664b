"""Spoken prompts, with the real espeak-ng and a real process as the sound card.

The player command is a small sink script (``sink.py`` below): it reads the
WAV stream aplay would get, notes when the first bytes arrived, can hold on
(as aplay does while it plays) and keeps what it got.  Nothing of ours is
patched.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import time
import wave
from array import array
from pathlib import Path

import pytest

from kiosk.voice import DEFAULT_VOLUME, Synthesiser, SynthesisFailed, VoicePrompts, VoiceUnavailable, WavCache
from voice_sink import Sink
from waiting import wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (Debian package espeak-ng): these tests use the real engine",
)

NO_SOUNDCARD = [sys.executable, "-c",
                "import sys; print('aplay: device_list:274: no soundcards found...', file=sys.stderr); sys.exit(1)"]
ZH, EN = "请投入纸币", "Please insert a note"



def samples(path: Path) -> array:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1)
        out = array("h")
        out.frombytes(wav.readframes(wav.getnframes()))
    return out


@pytest.fixture
def sink(tmp_path):
    return Sink(tmp_path / "sink")


@pytest.fixture
def voice(tmp_path, sink):
    prompts = VoicePrompts(tmp_path / "cache", player_command=sink.command)
    yield prompts
    prompts.close()


def heard(voice: VoicePrompts, text: str, lang: str) -> list[int]:
    """The samples of the prompt as the player should get them: the cached WAV at the voice's volume."""
    return [s * voice.volume // 100 for s in samples(voice.synthesiser.synthesise(text, lang))]


def spoken(voice: VoicePrompts, text: str, lang: str) -> None:
    voice.speak(text, lang)
    assert voice.wait_idle(20), "the prompt was not spoken within 20 s"


def test_a_prompt_is_synthesised_once_and_then_comes_from_the_disk_cache(tmp_path, voice, sink):
    spoken(voice, ZH, "zh")
    assert voice.synthesiser.runs == 1
    [entry] = (tmp_path / "cache").glob("*.wav")
    written = entry.stat().st_mtime_ns
    spoken(voice, ZH, "zh")
    assert voice.synthesiser.runs == 1 and entry.stat().st_mtime_ns == written
    again = VoicePrompts(tmp_path / "cache", player_command=sink.command)  # the next session
    try:
        spoken(again, ZH, "zh")
        assert again.synthesiser.runs == 0
    finally:
        again.close()
    first, second, third = sink.played()
    assert samples(first) == samples(second) == samples(third)
    assert list(samples(first)) == heard(voice, ZH, "zh")


def test_each_language_has_its_own_voice_and_elder_mode_speaks_more_slowly(tmp_path):
    synthesiser = Synthesiser(WavCache(tmp_path))
    zh, en = synthesiser.synthesise(ZH, "zh"), synthesiser.synthesise(ZH, "en")
    assert zh != en and samples(zh) != samples(en)
    slow = synthesiser.synthesise(EN, "en", elder=True)
    assert len(samples(slow)) > 1.2 * len(samples(synthesiser.synthesise(EN, "en")))
    assert synthesiser.runs == 4
    with pytest.raises(ValueError, match="language"):
        synthesiser.synthesise(EN, "fr")


def test_a_second_prompt_cuts_off_the_first_by_killing_its_player(voice, sink):
    sink.hold(30)  # the first player takes its time, as aplay does while it plays
    voice.speak(ZH, "zh")
    wait_for(lambda: len(sink.started()) == 1, 10, "the first player to get audio")
    first_pid = int(sink.started()[0].read_text().split()[0])
    sink.hold(0)
    began = time.monotonic()
    spoken(voice, EN, "en")
    assert time.monotonic() - began < 10, "the second prompt waited for the first to finish"
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)
    [played] = sink.played()  # only the second one got to its end
    assert not played.name.endswith(f"-{first_pid}.wav")
    assert list(samples(played)) == heard(voice, EN, "en")
    assert voice.enabled, "a player killed on purpose is not a failing player"


def test_of_several_prompts_in_a_row_the_last_is_the_one_heard(voice, sink):
    texts = ["请选择缴费类型", "请输入户号", "请确认金额", "请投入纸币"]
    for text in texts:
        voice.speak(text, "zh")
    assert voice.wait_idle(20)
    assert list(samples(sink.played()[-1])) == heard(voice, texts[-1], "zh")


def test_volume_50_halves_every_sample(voice, sink):
    voice.set_volume(100)
    spoken(voice, EN, "en")
    voice.set_volume(50)
    spoken(voice, EN, "en")
    full, half = (samples(path) for path in sink.played())
    assert len(full) == len(half) and max(full) > 1000
    assert list(half) == [s * 50 // 100 for s in full]


def test_muted_plays_nothing_and_stops_what_plays(voice, sink):
    sink.hold(30)
    voice.speak(ZH, "zh")
    wait_for(lambda: len(sink.started()) == 1, 10, "the player to get audio")
    voice.set_muted(True)
    assert voice.wait_idle(5), "muting did not stop the prompt playing"
    started = voice.player.started
    spoken(voice, EN, "en")
    voice.repeat()
    assert voice.wait_idle(5)
    assert voice.player.started == started and sink.played() == []
    sink.hold(0)
    voice.set_muted(False)
    voice.repeat()  # the prompt asked for while muted
    assert voice.wait_idle(20)
    assert list(samples(sink.played()[-1])) == heard(voice, EN, "en")


def test_reset_brings_back_the_defaults_for_the_next_customer(voice, sink):
    spoken(voice, EN, "en")
    voice.set_volume(20)
    voice.set_elder(True)
    voice.set_muted(True)
    sink.hold(30)
    voice.set_muted(False)
    voice.speak(ZH, "zh")
    wait_for(lambda: len(sink.started()) == 2, 10, "the player to get audio")
    voice.reset()
    assert voice.wait_idle(5), "reset did not stop the prompt playing"
    assert (voice.volume, voice.muted, voice.enabled) == (DEFAULT_VOLUME, False, True)
    voice.repeat()  # the previous customer's prompt is forgotten
    assert voice.wait_idle(5) and voice.player.started == 2
    sink.hold(0)
    runs = voice.synthesiser.runs
    spoken(voice, EN, "en")
    assert voice.synthesiser.runs == runs, "after reset the standard speed again (already cached)"
    assert list(samples(sink.played()[-1])) == heard(voice, EN, "en")


def test_a_player_without_a_sound_card_turns_the_voice_off_once_and_never_raises(tmp_path, caplog):
    voice = VoicePrompts(tmp_path / "cache", player_command=NO_SOUNDCARD)
    with caplog.at_level(logging.INFO, logger="kiosk.voice"):
        voice.speak(ZH, "zh")
        assert voice.wait_idle(20)
        assert not voice.enabled and "no soundcards found" in voice.off_reason
        started = voice.player.started
        durations = []
        for _ in range(20):
            began = time.perf_counter()
            voice.speak(EN, "en")
            voice.repeat()
            voice.set_volume(30)
            durations.append(time.perf_counter() - began)
        assert voice.wait_idle(5)
    voice.close()
    assert voice.player.started == started == 1
    assert max(durations) < 0.005
    off = [r for r in caplog.records if "off for this session" in r.getMessage()]
    assert len(off) == 1 and "no soundcards found" in off[0].getMessage()


def test_a_missing_player_or_engine_turns_the_voice_off(tmp_path):
    no_player = VoicePrompts(tmp_path / "a", player_command=[str(tmp_path / "aplay-not-installed")])
    no_engine = VoicePrompts(tmp_path / "b", engine="espeak-ng-not-installed")
    for voice in (no_player, no_engine):
        voice.speak(EN, "en")
        assert voice.wait_idle(20)
        voice.close()
    assert not no_player.enabled and "does not start" in no_player.off_reason
    assert not no_engine.enabled and "not installed" in no_engine.off_reason
    with pytest.raises(VoiceUnavailable, match="espeak-ng-not-installed"):
        Synthesiser(WavCache(tmp_path / "c"), executable="espeak-ng-not-installed").synthesise(EN, "en")


def test_a_voice_turned_off_by_configuration_does_nothing(tmp_path, sink):
    voice = VoicePrompts(tmp_path / "cache", enabled=False, player_command=sink.command)
    voice.speak(ZH, "zh")
    voice.repeat()
    assert voice.wait_idle(1) and not voice.enabled
    assert (voice.synthesiser.runs, voice.player.started) == (0, 0)
    assert not (tmp_path / "cache").exists()


def test_no_call_holds_the_caller_for_more_than_a_few_milliseconds(voice, sink):
    durations = []
    for i in range(40):
        began = time.perf_counter()
        voice.speak(f"第{i % 7}步" if i % 2 else f"step {i % 5}", "zh" if i % 2 else "en")
        durations.append(time.perf_counter() - began)
        time.sleep(0.01)  # the workers are busy meanwhile: synthesising, streaming
    for call in (voice.repeat, voice.stop, voice.reset, lambda: voice.set_volume(60)):
        began = time.perf_counter()
        call()
        durations.append(time.perf_counter() - began)
    assert voice.wait_idle(20)
    assert statistics.median(durations) < 0.001 and max(durations) < 0.02, [round(d * 1000, 2) for d in durations]


def test_the_first_sample_hook_times_speak_to_the_first_audio_handed_to_the_player(tmp_path, sink):
    seen = []
    voice = VoicePrompts(tmp_path / "cache", player_command=sink.command, on_first_sample=seen.append)
    before = time.perf_counter()
    spoken(voice, ZH, "zh")
    voice.close()
    [sample] = seen
    assert sample == voice.last_first_sample and sample.lang == "zh"
    assert before <= sample.requested_at < sample.handed_at and 0 < sample.latency_s < 5


def test_a_cache_that_cannot_be_written_falls_back_to_a_temporary_directory(tmp_path, caplog):
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("a file where the cache directory should be")
    synthesiser = Synthesiser(WavCache(in_the_way))
    with caplog.at_level(logging.WARNING, logger="kiosk.voice"):
        first = synthesiser.synthesise(ZH, "zh")
        second = synthesiser.synthesise(EN, "en")
    assert first.parent == second.parent != in_the_way and samples(first)
    assert len([r for r in caplog.records if "cannot be written" in r.getMessage()]) == 1
    shutil.rmtree(first.parent)


def test_the_cache_keeps_its_size_by_dropping_the_oldest_prompts(tmp_path):
    synthesiser = Synthesiser(WavCache(tmp_path, max_bytes=120_000))
    oldest = synthesiser.synthesise(ZH, "zh")
    os.utime(oldest, (1, 1))
    kept = [synthesiser.synthesise(text, "en") for text in ("one", "two", "three")]
    assert not oldest.exists() and all(path.exists() for path in kept)
    assert sum(p.stat().st_size for p in tmp_path.glob("*.wav")) <= 120_000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in kept)


def test_an_engine_that_fails_or_hangs_leaves_no_file_and_three_failures_turn_the_voice_off(tmp_path):
    engine = tmp_path / "espeak-ng"
    engine.write_text("#!/bin/sh\n[ \"$1\" = --version ] && { echo fake 1.0; exit 0; }\n"
                      "[ -e \"$0.hang\" ] && exec sleep 30\necho half > \"$8\"; echo broken >&2; exit 2\n")
    engine.chmod(0o755)
    cache = tmp_path / "cache"
    synthesiser = Synthesiser(WavCache(cache), executable=str(engine), timeout_s=0.5)
    with pytest.raises(SynthesisFailed, match="exited 2: broken"):
        synthesiser.synthesise(EN, "en")
    (tmp_path / "espeak-ng.hang").touch()
    began = time.monotonic()
    with pytest.raises(SynthesisFailed, match="took over 0.5 s"):
        synthesiser.synthesise(EN, "en")
    assert time.monotonic() - began < 5 and list(cache.iterdir()) == []
    (tmp_path / "espeak-ng.hang").unlink()
    voice = VoicePrompts(tmp_path / "cache2", engine=str(engine), player_command=NO_SOUNDCARD)
    for text in ("one", "two", "three"):
        voice.speak(text, "en")
        assert voice.wait_idle(10)
    voice.close()
    assert not voice.enabled and "3 prompts in a row" in voice.off_reason
