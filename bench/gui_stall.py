"""GUI-thread stalls caused by the device drivers: lateness of a 10 ms timer.

The kiosk runs as in production: the real window at 1920×1080 (offscreen
unless QT_QPA_PLATFORM says otherwise), the backend simulator on loopback, the
three real drivers talking to their emulators (acceptor on a pty, printer on
loopback TCP, the in-process card reader), statuses and card events reaching
the GUI thread as queued signals, the maintenance archive and the log file in
a temporary directory.  A precise 10 ms QTimer on the GUI thread records how
late each tick comes (actual interval − 10 ms); a tick late by more than one
frame at 60 Hz (16 ms) is a frame the customer would see stutter.

Three phases of equal length, in one run (machines are shared and noisy, so
the figures that matter are ratios to the baseline measured alongside):

* baseline  — the kiosk window up, no device started;
* idle      — all three drivers polling their emulators;
* busy      — a script thread inserts a note every 0.3 s, toggles the
              printer's paper and cover and prints a test slip every 2 s,
              and inserts the card every 1 s (each insert is read by the
              driver, looked up on the simulator and shown: real GUI work)
              and takes it out, going home, half a second later.

Goal (devices must never block the GUI thread): max lateness < 16 ms while
the devices run, idle or busy.  To tell the drivers' cost from the GUI's, each
tick over 16 ms in the busy phase is put down to what the GUI thread handled in
it: a screen change (the customer's own doing), only device statuses (the same
screen redrawn), only a card event, or none of these.  ``--busy notes,printer``
plays only those parts (no card: the screen never changes).

    python bench/gui_stall.py [--seconds 10] [--busy notes,printer,card] [--json]

Exit status 0 when the goal is met, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kiosk.backend.simulator import BackendSimulator  # noqa: E402
from kiosk.config import KioskConfig  # noqa: E402
from kiosk.devices import KioskDevices  # noqa: E402
from kiosk.journey_state import Step  # noqa: E402
from kiosk.logging_setup import configure_logging  # noqa: E402
from app.assembly import Kiosk, build_kiosk  # noqa: E402
from app.controller import KioskApp  # noqa: E402
from screens.stylesheet import stylesheet  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from harness import kiosk_config  # noqa: E402

TICK_MS = 10
FRAME_MS = 16.0  # one frame at 60 Hz: the goal for the worst tick
NOTES_FEN = frozenset({100, 500, 1000, 2000, 5000, 10000})
NOTES_YUAN = (1, 5, 10, 20, 50, 100)
NOTE_EVERY_S = 0.3
PRINTER_EVERY_S = 2.0
CARD_EVERY_S = 1.0
CARD_OUT_AFTER_S = 0.5
# A ratio against a baseline lateness of a few microseconds means nothing;
# below this the baseline counts as this.
RATIO_FLOOR_MS = 0.1
PHASES = ("baseline", "idle", "busy")
BUSY_PARTS = ("notes", "printer", "card")


# ---------------------------------------------------------------- measuring on the GUI thread


class TickRecorder(QObject):
    """A precise 10 ms timer on the GUI thread; notes each tick's lateness in the current phase."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness_ms: dict[str, list[float]] = {}
        self.worst_at: dict[str, float] = {}  # phase → seconds into the phase of its latest tick
        self.stalls: dict[str, list[tuple[float, float]]] = {}  # phase → (start, end) of ticks > 16 ms
        self._phase: str | None = None
        self._phase_started = 0.0
        self._last: float | None = None
        self._worst = float("-inf")
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def record(self, phase: str | None) -> None:
        """Ticks from now on count for ``phase`` (None: count nothing)."""
        self._phase = phase
        self._phase_started = time.perf_counter()
        # The first tick of a phase has no interval of its own in that phase.
        self._last = None
        self._worst = float("-inf")
        if phase is not None:
            self.lateness_ms[phase] = []
            self.stalls[phase] = []

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        if self._phase is not None and self._last is not None:
            late = (now - self._last) * 1000 - TICK_MS
            if late > self._worst:
                self._worst = late
                self.worst_at[self._phase] = self._last - self._phase_started
            if late > FRAME_MS:
                self.stalls[self._phase].append((self._last, now))
            self.lateness_ms[self._phase].append(late)
        self._last = now


class GuiThreadNews(QObject):
    """When device news and screen changes were handled on the GUI thread (busy phase only).

    Connected to the kiosk's signals after the kiosk itself, so each slot runs
    just after the kiosk has handled the same news: its time falls in the tick
    interval that paid for the handling.
    """

    def __init__(self) -> None:
        super().__init__()
        self.counting = False
        self.statuses: list[float] = []
        self.card_events: list[float] = []
        self.screen_changes: list[float] = []
        self.lookups_shown = 0  # the overview reached: a card read, looked up and shown
        self.off_gui_thread = 0  # should stay 0: the kiosk's signals are meant to be queued
        self._step = None

    def _arrived(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            self.off_gui_thread += 1
        return self.counting

    @Slot(object)
    def on_status(self, _status) -> None:
        if self._arrived():
            self.statuses.append(time.perf_counter())

    @Slot(object)
    def on_card_event(self, _event) -> None:
        if self._arrived():
            self.card_events.append(time.perf_counter())

    def on_journey(self, state) -> None:
        """A journey listener (called on the GUI thread); only a new step changes the screen."""
        if state.step is not self._step:
            self._step = state.step
            if self.counting:
                self.screen_changes.append(time.perf_counter())
                # A prepaid card's own overview (the billing system asked, the card read) or an account's bill.
                self.lookups_shown += state.step in (Step.OVERVIEW, Step.CARD_OVERVIEW)


def stall_causes(stalls: list[tuple[float, float]], news: GuiThreadNews) -> dict[str, int]:
    """What the GUI thread handled during each late tick.

    A screen change is the customer's own doing (real GUI work); a device
    status with no screen change only redraws what is already shown.
    """
    def during(times: list[float], start: float, end: float) -> bool:
        return any(start <= t <= end for t in times)

    causes = {"screen_change": 0, "device_status_only": 0, "card_event_only": 0, "none_seen": 0}
    for start, end in stalls:
        if during(news.screen_changes, start, end):
            causes["screen_change"] += 1
        elif during(news.statuses, start, end):
            causes["device_status_only"] += 1
        elif during(news.card_events, start, end):
            causes["card_event_only"] += 1
        else:
            causes["none_seen"] += 1
    return causes


class HomeButton(QObject):
    """Lets the script thread send the journey home; the journey lives on the GUI thread."""

    pressed = Signal()

    def __init__(self, kiosk: KioskApp) -> None:
        super().__init__()
        self._kiosk = kiosk
        self.pressed.connect(self._go_home)  # queued when emitted on the script thread

    @Slot()
    def _go_home(self) -> None:
        self._kiosk.journey.go_home()


# ---------------------------------------------------------------- the customer at the devices


@dataclass
class Cue:
    """``action(n)`` for n = 0, 1, 2 … at ``offset_s + n * every_s`` after the script starts."""

    every_s: float
    offset_s: float
    action: Callable[[int], None]
    done: int = 0

    def due(self, elapsed_s: float) -> bool:
        return elapsed_s >= self.offset_s + self.done * self.every_s


@dataclass
class ScriptCounts:
    notes_inserted: int = 0
    slips_sent: int = 0
    cards_inserted: int = 0
    printer_results: list = field(default_factory=list)  # futures of PrintResult


class BusyScript:
    """Plays a busy customer on the emulators from a thread of its own (never the GUI thread)."""

    def __init__(self, devices: KioskDevices, home: HomeButton, slip, parts: tuple[str, ...] = BUSY_PARTS) -> None:
        self._devices = devices
        self._emulators = devices.emulators
        self._home = home
        self._slip = slip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-script", daemon=True)
        self.counts = ScriptCounts()
        cues = {
            "notes": [Cue(NOTE_EVERY_S, 0.0, self._insert_note)],
            "printer": [Cue(PRINTER_EVERY_S, 0.1, self._printer_step)],
            "card": [Cue(CARD_EVERY_S, 0.2, self._insert_card),
                     Cue(CARD_EVERY_S, 0.2 + CARD_OUT_AFTER_S, self._remove_card)],
        }
        self._cues = [cue for part in parts for cue in cues[part]]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(0.01):
            elapsed = time.monotonic() - started
            for cue in self._cues:
                if cue.due(elapsed):
                    cue.action(cue.done)
                    cue.done += 1

    def _insert_note(self, n: int) -> None:
        # Notes queue in the emulator if the acceptor is still busy with the last.
        self._emulators.acceptor.insert_note(NOTES_YUAN[n % len(NOTES_YUAN)])
        self.counts.notes_inserted += 1

    def _printer_step(self, n: int) -> None:
        """ok + slip → paper out → ok + slip → cover open → …, one step every 2 s."""
        printer, emulator = self._devices.printer, self._emulators.printer
        step = n % 4
        if step in (0, 2):
            emulator.open_cover(False)
            emulator.set_paper("ok")
        elif step == 1:
            emulator.set_paper("out")
        else:
            emulator.open_cover(True)
        # Ask for the status now (on the driver's thread), so the driver sees
        # each state before the next step and does not refuse the slip for a
        # fault that is already cleared.
        printer.refresh().result(timeout=3)
        if step in (0, 2):
            result = printer.print_slip(self._slip)
            self.counts.printer_results.append(result)
            self.counts.slips_sent += 1

    def _insert_card(self, _n: int) -> None:
        self._emulators.card_reader.insert()
        self.counts.cards_inserted += 1

    def _remove_card(self, _n: int) -> None:
        self._emulators.card_reader.remove()
        # The next insert must find the home screen, or the kiosk ignores it.
        self._home.pressed.emit()


# ---------------------------------------------------------------- running the kiosk


def bench_config(data_dir: str) -> KioskConfig:
    """The embedded defaults (all three devices emulated), short backend timeouts, files in ``data_dir``."""
    return kiosk_config(Path(data_dir))


def run_loop(seconds: float) -> None:
    """Turn the real event loop (as app.exec does) for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gui_stall: gave up waiting {timeout_s:.0f} s for {what}")
        run_loop(0.05)


def all_devices_usable(kiosk: KioskApp) -> bool:
    statuses = kiosk.monitor.statuses
    return bool(statuses) and all(status.usable for status in statuses.values())


def busy_counts(devices: KioskDevices) -> tuple[int, int]:
    """(notes the driver credited, notes in the emulated cash box) so far."""
    return devices.acceptor.stats().notes_credited, sum(devices.emulators.acceptor.counters.stacked.values())


@dataclass
class Rig:
    """The kiosk as ``kiosk run`` wires it, devices not yet started, with the bench's probes attached."""

    workdir: tempfile.TemporaryDirectory
    config: KioskConfig
    sim: BackendSimulator
    whole: Kiosk  # as build_kiosk makes it for `kiosk run`
    devices: KioskDevices
    kiosk: KioskApp
    news: GuiThreadNews
    home: HomeButton
    recorder: TickRecorder


def build_rig() -> Rig:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    workdir = tempfile.TemporaryDirectory(prefix="gui-stall-")
    config = bench_config(workdir.name)
    # The kiosk logs to a file in production, also from the GUI thread; so does the bench.
    configure_logging(workdir.name, config.logging.level, stderr=False)
    sim = BackendSimulator(terminal_secret=config.backend.terminal_secret).start()
    whole = build_kiosk(config, backend_url=sim.url, realistic_emulators=False)
    kiosk = whole.controller
    kiosk.window.resize(1920, 1080)
    kiosk.window.show()
    whole.start(devices=False)  # the baseline phase measures the screen alone
    news = GuiThreadNews()  # connected after the kiosk's own slots: see its docstring
    kiosk.device_status.connect(news.on_status)
    kiosk.card_event.connect(news.on_card_event)
    kiosk.journey.subscribe(news.on_journey)
    recorder = TickRecorder()
    recorder.start()
    return Rig(workdir, config, sim, whole, whole.devices, kiosk, news, HomeButton(kiosk), recorder)


def close_rig(rig: Rig) -> None:
    rig.recorder.stop()
    rig.whole.stop()
    rig.kiosk.window.allow_close()
    rig.kiosk.window.close()
    rig.sim.stop()
    rig.workdir.cleanup()


def record_phase(rig: Rig, phase: str, seconds: float) -> None:
    rig.recorder.record(phase)
    run_loop(seconds)
    rig.recorder.record(None)


def start_devices(rig: Rig) -> None:
    """Start the drivers as ``kiosk run`` does and wait until all three report usable."""
    devices = rig.devices
    rig.whole.start_devices()
    run_until(lambda: devices.wait_started(0) and all_devices_usable(rig.kiosk), 15, "all three devices online")
    devices.acceptor.enable(NOTES_FEN)  # otherwise inserted notes are refused, never escrowed
    run_loop(1.0)  # the enable and the first printer poll settle outside the measured phases


def play_busy(rig: Rig, seconds: float, parts: tuple[str, ...]) -> dict:
    """The busy phase; returns what the devices and the GUI thread did meanwhile."""
    from drivers.escpos.slip import test_slip

    config, devices, news = rig.config, rig.devices, rig.news
    credited0, stacked0 = busy_counts(devices)
    slip = test_slip(config.hall_name("zh"), config.terminal.id, hall_en=config.hall_name("en"))
    script = BusyScript(devices, rig.home, slip, parts)
    news.counting = True
    script.start()
    try:
        record_phase(rig, "busy", seconds)
    finally:
        news.counting = False
        script.stop()
    # Notes already in the acceptor finish stacking before they are counted.
    run_until(lambda: devices.emulators.acceptor.pending_notes == 0, 10, "the queued notes")
    run_loop(1.0)
    credited1, stacked1 = busy_counts(devices)
    counts = script.counts
    printed = [future.result(0) for future in counts.printer_results if future.done()]
    return {
        "parts": list(parts),
        "status_changes_on_gui": len(news.statuses),
        "card_events_on_gui": len(news.card_events),
        "screen_changes": len(news.screen_changes),
        "news_off_gui_thread": news.off_gui_thread,
        "card_lookups_shown": news.lookups_shown,
        "cards_inserted": counts.cards_inserted,
        "notes_inserted": counts.notes_inserted,
        "notes_credited": credited1 - credited0,
        "notes_stacked": stacked1 - stacked0,
        "slips_sent": counts.slips_sent,
        "slips_printed": sum(1 for result in printed if result.ok),
    }


def measure(seconds: float, parts: tuple[str, ...] = BUSY_PARTS) -> dict:
    rig = build_rig()
    try:
        run_until(lambda: rig.kiosk.availability.ever_up, 10, "the first heartbeat")
        run_loop(1.0)  # the remaining screens are built, the first paints done
        record_phase(rig, "baseline", seconds)
        start_devices(rig)
        record_phase(rig, "idle", seconds)
        busy = play_busy(rig, seconds, parts)
    finally:
        close_rig(rig)
    return {
        "lateness_ms": rig.recorder.lateness_ms,
        "worst_at_s": rig.recorder.worst_at,
        "busy_stall_causes": stall_causes(rig.recorder.stalls["busy"], rig.news),
        "busy": busy,
    }


# ---------------------------------------------------------------- figures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summarise(lateness_ms: list[float]) -> dict:
    return {
        "ticks": len(lateness_ms),
        "p50_ms": round(percentile(lateness_ms, 0.50), 2),
        "p95_ms": round(percentile(lateness_ms, 0.95), 2),
        "p99_ms": round(percentile(lateness_ms, 0.99), 2),
        "max_ms": round(max(lateness_ms), 2),
        "over_frame": sum(1 for late in lateness_ms if late > FRAME_MS),
    }


def ratio(value: float, baseline: float) -> float:
    return value / max(baseline, RATIO_FLOOR_MS)


def print_table(seconds: float, figures: dict, worst_at_s: dict) -> None:
    print(f"GUI-thread timer: {TICK_MS} ms PreciseTimer, {seconds:g} s per phase, "
          f"platform {os.environ['QT_QPA_PLATFORM']}; lateness = interval - {TICK_MS} ms")
    print(f"{'phase':<9} {'ticks':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'>16ms':>6}   max at")
    for phase in PHASES:
        row = figures[phase]
        print(f"{phase:<9} {row['ticks']:>6} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['p99_ms']:>7.2f} "
              f"{row['max_ms']:>7.2f} {row['over_frame']:>6}   +{worst_at_s[phase]:.2f} s")
    base = figures["baseline"]
    for phase in ("idle", "busy"):
        row = figures[phase]
        print(f"{phase:<9} vs baseline: p99 x{ratio(row['p99_ms'], base['p99_ms']):.1f}  "
              f"max x{ratio(row['max_ms'], base['max_ms']):.1f}  (baseline floored at {RATIO_FLOOR_MS} ms)")


def print_busy_work(work: dict, causes: dict) -> None:
    print(f"busy ({'+'.join(work['parts'])}): {work['status_changes_on_gui']} status changes and "
          f"{work['card_events_on_gui']} card events reached the GUI thread ({work['news_off_gui_thread']} off it); "
          f"{work['screen_changes']} screen changes, {work['card_lookups_shown']} card lookups shown "
          f"of {work['cards_inserted']} cards inserted")
    print(f"  notes: {work['notes_inserted']} inserted, {work['notes_credited']} credited by the driver, "
          f"{work['notes_stacked']} stacked on the emulator; slips: {work['slips_printed']} printed "
          f"of {work['slips_sent']} sent")
    print(f"  ticks > {FRAME_MS:.0f} ms handled: a screen change {causes['screen_change']}, "
          f"only device statuses (same screen redrawn) {causes['device_status_only']}, "
          f"only a card event {causes['card_event_only']}, none of these {causes['none_seen']}")


def report(seconds: float, result: dict) -> dict:
    figures = {phase: summarise(result["lateness_ms"][phase]) for phase in PHASES}
    # The goal holds whenever the devices run, idle or busy.
    worst = max(figures["idle"]["max_ms"], figures["busy"]["max_ms"])
    met = worst < FRAME_MS
    print_table(seconds, figures, result["worst_at_s"])
    print_busy_work(result["busy"], result["busy_stall_causes"])
    print(f"goal max < {FRAME_MS:.0f} ms with devices running: {'met' if met else 'not met'} "
          f"(worst {worst:.2f} ms)")
    return {"bench": "gui_stall", "seconds_per_phase": seconds, "platform": os.environ["QT_QPA_PLATFORM"],
            "phases": figures, "busy_work": result["busy"], "busy_stall_causes": result["busy_stall_causes"],
            "goal_max_ms": FRAME_MS, "ok": met}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase, s (default 10)")
    parser.add_argument("--busy", default=",".join(BUSY_PARTS),
                        help=f"what the busy phase plays, comma-separated (default {','.join(BUSY_PARTS)})")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object at the end")
    args = parser.parse_args()
    parts = tuple(part for part in args.busy.split(",") if part)
    if unknown := set(parts) - set(BUSY_PARTS):
        parser.error(f"--busy: unknown {', '.join(sorted(unknown))}; choose from {', '.join(BUSY_PARTS)}")
    figures = report(args.seconds, measure(args.seconds, parts))
    if args.json:
        print(json.dumps(figures))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
