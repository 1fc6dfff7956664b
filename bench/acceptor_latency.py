"""Banknote acceptor latency: note stacked on the emulator → NoteCredited delivered.

The clock starts when the emulated acceptor enters VEND VALID (the note has
passed the point of no return and the acceptor says so on the next status
request) and stops when the driver's event reaches a subscriber on the driver
thread, where the payment layer journals it.  Both ends run in this process on
the same monotonic clock; between them are a real pty, pyserial at 9600 8E1
and the driver's poll loop, so the figure is dominated by where the poll
falls: uniform in [0, poll interval] (the emulator's stacking time is
randomised so that VEND VALID is not phase-locked to the polls).  Goal: p95 <= one poll interval + 50 ms.

    python bench/acceptor_latency.py [--notes 200] [--poll-interval 0.1]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.id003.driver import AcceptorDriver  # noqa: E402
from drivers.id003.emulator import AcceptorEmulator, Timings  # noqa: E402
from drivers.id003.events import AcceptorReady, NoteCredited  # noqa: E402

NOTES_YUAN = (1, 5, 10, 20, 50, 100)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=0.1, help="driver poll interval, s (default 0.1)")
    args = parser.parse_args()
    goal_ms = args.poll_interval * 1000 + 50

    credited_at: list[float] = []
    done = threading.Event()
    ready = threading.Event()

    def on_event(event) -> None:
        if isinstance(event, NoteCredited):
            credited_at.append(time.monotonic())
            if len(credited_at) >= args.notes:
                done.set()
        elif isinstance(event, AcceptorReady):
            ready.set()

    # Random stacking times (jitter of one poll interval) so that VEND VALID
    # falls anywhere between two polls, as with a real acceptor; fixed times
    # would phase-lock the note to the poll and flatter or punish the figure.
    timings = Timings(initialize_s=0.02, accepting_s=0.02, stacking_s=0.02, stacked_s=0.01,
                      jitter_s=args.poll_interval)
    started = time.monotonic()
    with AcceptorEmulator(timings=timings) as emulator:
        driver = AcceptorDriver(emulator.port, poll_interval_s=args.poll_interval,
                                silence_timeout_s=max(1.0, 5 * args.poll_interval))
        driver.subscribe_events(on_event)
        driver.start()
        try:
            if not ready.wait(5):
                print("acceptor never became ready", file=sys.stderr)
                return 1
            driver.enable({yuan * 100 for yuan in NOTES_YUAN})
            for index in range(args.notes):
                emulator.insert_note(NOTES_YUAN[index % len(NOTES_YUAN)])
            if not done.wait(args.notes * (4 * args.poll_interval + 0.5) + 5):
                print(f"only {len(credited_at)} of {args.notes} notes credited", file=sys.stderr)
                return 1
            time.sleep(3 * args.poll_interval)
        finally:
            driver.stop()
        vend_valid_at = list(emulator.vend_valid_times)
        stacked = sum(emulator.counters.stacked.values())

    if len(vend_valid_at) != len(credited_at) or stacked != len(credited_at):
        print(f"mismatch: {len(vend_valid_at)} VEND VALID, {len(credited_at)} credited, {stacked} stacked",
              file=sys.stderr)
        return 1
    latencies_ms = [(credit - vend) * 1000 for vend, credit in zip(vend_valid_at, credited_at)]
    median, p95 = statistics.median(latencies_ms), percentile(latencies_ms, 0.95)
    ok = p95 <= goal_ms
    print(f"notes        : {len(latencies_ms)} credited, {stacked} in the emulated cash box, "
          f"{time.monotonic() - started:.1f} s")
    print(f"poll interval: {args.poll_interval * 1000:.0f} ms  (goal: p95 <= {goal_ms:.0f} ms)")
    print(f"latency      : median {median:.1f} ms  p95 {p95:.1f} ms  max {max(latencies_ms):.1f} ms  "
          f"min {min(latencies_ms):.1f} ms  -> {'ok' if ok else 'OVER GOAL'}")
    print(json.dumps({"bench": "acceptor_latency", "notes": len(latencies_ms),
                      "poll_interval_ms": round(args.poll_interval * 1000, 1),
                      "median_ms": round(median, 1), "p95_ms": round(p95, 1),
                      "max_ms": round(max(latencies_ms), 1), "goal_ms": round(goal_ms, 1), "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
