"""Voice prompt latency: speak() called → the first audio bytes handed to the player.

``speak()`` stands in for "the screen is shown"; the clock stops in the
player's thread when the WAV header and the first 50 ms of samples have been
written to the player's stdin (``VoicePrompts.on_first_sample``).  Both ends
are ``time.perf_counter()`` in this process.  In between: the hand-over to
the synthesis thread, espeak-ng (cold cache only), reading and scaling the
WAV, and starting the player process.  The player is a sink (a Python process
that reads stdin and throws it away) unless ``--player`` names a real one.

Four cases, N prompts each: zh and en, cold cache (every text new, so
synthesised now) and warm (the same texts again, read from the cache).  Goal:
p95 <= 100 ms in every case -- a prompt that starts within a tenth of a
second seems to come with the screen.  The first prompt of the session (which
also starts the threads and asks espeak-ng its version) is shown apart.

    python bench/voice_latency.py [--prompts 30] [--player "aplay -q -"]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.voice import FirstSample, VoicePrompts  # noqa: E402

GOAL_P95_MS = 100.0
SINK = [sys.executable, "-c", "import sys; sys.stdin.buffer.read()"]
TEXTS = {
    "zh": "请投入纸币，本次应缴{n}元",
    "en": "Please insert a note. The amount due is {n} yuan.",
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Timed:
    """speak() and wait for its first sample; the latency and how long speak() held the caller."""

    def __init__(self, voice: VoicePrompts) -> None:
        self.voice = voice
        self._arrived = threading.Event()
        voice.on_first_sample = self._on_first_sample

    def _on_first_sample(self, sample: FirstSample) -> None:
        self._arrived.set()

    def speak(self, text: str, lang: str) -> tuple[float, float]:
        self._arrived.clear()
        began = time.perf_counter()
        self.voice.speak(text, lang)
        call_s = time.perf_counter() - began
        if not self._arrived.wait(20) or not self.voice.wait_idle(60):
            raise RuntimeError(f"no audio reached the player: {self.voice.off_reason or 'timed out'}")
        return self.voice.last_first_sample.latency_s, call_s


def figures(latencies_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in latencies_s]
    return {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1),
            "max_ms": round(max(ms), 1)}


def measure(command: list[str], prompts: int) -> tuple[float, dict[str, dict[str, float]], list[float], int]:
    """The first prompt's latency, the figures of each case, every speak() call's duration, engine runs."""
    cases: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as cache:
        timed = Timed(VoicePrompts(cache, player_command=command))
        try:
            first_s, first_call = timed.speak("欢迎使用自助缴费机", "zh")
            calls = [first_call]
            for warmth in ("cold", "warm"):  # warm speaks the texts cold has just put in the cache
                for lang, text in TEXTS.items():
                    runs = [timed.speak(text.format(n=100 + i), lang) for i in range(prompts)]
                    cases[f"{lang}_{warmth}"] = figures([latency for latency, _ in runs])
                    calls += [call for _, call in runs]
        finally:
            timed.voice.close()
        return first_s, cases, calls, timed.voice.synthesiser.runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--player", help="a player command reading a WAV on stdin (default: a sink)")
    args = parser.parse_args()
    command = shlex.split(args.player) if args.player else SINK
    player = "custom" if args.player else "sink"
    try:
        first_s, cases, calls, synthesised = measure(command, args.prompts)
    except RuntimeError as exc:
        print(f"voice_latency: {exc}", file=sys.stderr)
        print(json.dumps({"bench": "voice_latency", "player": player, "error": str(exc), "ok": False}))
        return 2
    print(f"player: {' '.join(command) if args.player else 'sink (a process reading stdin)'}; "
          f"{args.prompts} prompts a case; espeak-ng ran {synthesised} times")
    print(f"first prompt of the session: {first_s * 1000:.1f} ms")
    for name, figure in cases.items():
        print(f"{name:9}: median {figure['median_ms']:6.1f} ms  p95 {figure['p95_ms']:6.1f} ms  "
              f"max {figure['max_ms']:6.1f} ms")
    call_ms = [s * 1000 for s in calls]
    print(f"speak() held the caller: median {statistics.median(call_ms):.3f} ms, max {max(call_ms):.3f} ms")
    ok = all(figure["p95_ms"] <= GOAL_P95_MS for figure in cases.values())
    print(json.dumps({
        "bench": "voice_latency", "prompts": args.prompts, "player": player,
        "first_prompt_ms": round(first_s * 1000, 1), **cases,
        "speak_call_median_ms": round(statistics.median(call_ms), 3), "speak_call_max_ms": round(max(call_ms), 3),
        "goal_p95_ms": GOAL_P95_MS, "ok": ok,
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
