"""Tap → next screen painted, over 200 taps (p50, p95, max).  Goal: p95 <= 50 ms.

A real window (offscreen unless QT_QPA_PLATFORM says otherwise) at 1920×1080
on the real backend simulator.  Each tap is a real mouse click on a real button
that changes the screen: home → utility → account entry → back → home, in a
loop.  The clock stops when the new screen receives its paint event.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kiosk.backend.simulator import BackendSimulator  # noqa: E402
from screens.stylesheet import stylesheet  # noqa: E402
from app.assembly import build_kiosk  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from harness import kiosk_config, tap, wait_until  # noqa: E402

GOAL_P95_MS = 50.0


class PaintClock(QObject):
    """Notes when a watched screen is painted."""

    def __init__(self) -> None:
        super().__init__()
        self.painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self.painted_at is None:
            self.painted_at = time.perf_counter()
        return False


def painted(clock: PaintClock, window, target, timeout_s: float = 5.0) -> float:
    """The moment the event loop has finished the pass that painted ``target``.

    The paint event marks the start of the window's paint pass; the pass (every
    child of the new screen) is done when processEvents returns.
    """
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        QApplication.processEvents()
        if clock.painted_at is not None and window.steps.currentWidget() is target:
            return time.perf_counter()
    raise TimeoutError(f"{target.__class__.__name__} was not painted within {timeout_s} s")


def measure(taps: int) -> list[float]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    sim = BackendSimulator().start()
    workdir = tempfile.TemporaryDirectory(prefix="transition-")
    whole = build_kiosk(kiosk_config(Path(workdir.name), devices="none"), backend_url=sim.url)
    kiosk = whole.controller
    window = kiosk.window
    window.resize(1920, 1080)
    window.show()
    whole.start()
    wait_until(lambda: kiosk.availability.ever_up and not window.showing_out_of_order, what="the first heartbeat")
    clock = PaintClock()
    for screen in window.screens.values():
        screen.installEventFilter(clock)
    route = [
        (lambda: window.home.inquiry, window.utility),
        (lambda: window.utility.tiles["electricity"], window.account_entry),
        (lambda: window.account_entry.nav.back, window.utility),
        (lambda: window.utility.nav.home, window.home),
    ]
    latencies = []
    try:
        for index in range(taps):
            button, target = route[index % len(route)]
            clock.painted_at = None
            started = time.perf_counter()
            tap(button())
            latencies.append((painted(clock, window, target) - started) * 1000)
    finally:
        whole.stop()
        workdir.cleanup()
        window.allow_close()
        window.close()
        sim.stop()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=200)
    args = parser.parse_args()
    latencies = measure(args.taps)
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(json.dumps({
        "bench": "transition", "taps": len(latencies), "platform": os.environ["QT_QPA_PLATFORM"],
        "p50_ms": round(statistics.median(latencies), 2), "p95_ms": round(p95, 2),
        "max_ms": round(max(latencies), 2), "goal_p95_ms": GOAL_P95_MS, "ok": p95 <= GOAL_P95_MS,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
