"""What the tests drive a kiosk with: the production assembly, real taps, bounded waits.

Every GUI test and bench gets its kiosk from :func:`app.assembly.build_kiosk`
through :func:`started_kiosk`, so the tests exercise the very hand-over a
terminal runs.  The kiosk's files live in the test's own folder; its billing
system is the test's simulator (to inject faults); its devices are the fast
emulators behind the real drivers, or none.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEvent, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton

from app.assembly import Kiosk, build_kiosk
from kiosk.config import KioskConfig, default_config

SCREEN = (1920, 1080)


class ManualClock:
    """A monotonic clock a test moves forward (the journey's idle timers run on it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def tap(button: QAbstractButton) -> None:
    """A real press and release in the middle of a visible, enabled button."""
    if not button.isVisible() or not button.isEnabled():
        raise AssertionError(f"cannot tap {button.text()!r}: it is not visible and enabled")
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() // 2, button.height() // 2))


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    """Run the event loop until ``condition()`` holds; fail after ``timeout_s``."""
    deadline = QDeadlineTimer(int(timeout_s * 1000))
    while not condition():
        if deadline.hasExpired():
            raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what or 'the condition'}")
        QCoreApplication.processEvents()
        QTest.qWait(10)


def kiosk_config(folder: Path, *, devices: str = "emulator", base: KioskConfig | None = None) -> KioskConfig:
    """The embedded defaults with short backend timeouts, no start-up grace, files in ``folder``,
    and every device ``devices`` ("emulator" or "none")."""
    config = base or default_config()
    backend = replace(config.backend, connect_timeout_s=0.5, read_timeout_s=2.0, retries=1, startup_grace_s=0.0)
    storage = replace(config.storage, data_dir=str(folder / "data"), key_file=str(folder / "keys" / "journal.key"),
                      backup_dir=str(folder / "backup"))
    logging = replace(config.logging, dir=str(folder / "log"))
    fitted = replace(config.devices, acceptor=devices, printer=devices, card_reader=devices, scanner=devices)
    return replace(config, backend=backend, storage=storage, logging=logging, devices=fitted)


def started_kiosk(config: KioskConfig, backend_url: str, clock: Callable[[], float]) -> Kiosk:
    """A whole kiosk, shown at 1920×1080 and started, once its first heartbeat is in."""
    kiosk = build_kiosk(config, backend_url=backend_url, clock=clock, realistic_emulators=False)
    kiosk.window.pin_size(*SCREEN)
    kiosk.window.show()
    kiosk.start()
    # No start-up grace: the sign is up until the first heartbeat.
    wait_until(lambda: kiosk.controller.availability.ever_up and not kiosk.window.showing_out_of_order,
               what="the first heartbeat")
    return kiosk


def close_kiosk(kiosk: Kiosk, *extra_widgets) -> None:
    """Stop it and delete its Qt objects now (one collected in a later test's loop crashes it)."""
    kiosk.stop()
    window = kiosk.window
    window.allow_close()
    window.close()
    for widget in (*extra_widgets, window, kiosk.controller):
        if widget is not None:
            widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
