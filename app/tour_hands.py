"""The tour's hands: real taps on real buttons, a clock it moves forward, and waiting for the screen.

Its own module so the tour reads as the list of states it visits; the GUI
tests have the same three in ``tests/harness.py`` (tests do not import the
product's tour, and the product does not import tests).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton


class ManualClock:
    """A monotonic clock the tour (and tests) can move forward."""

    def __init__(self) -> None:
        import time

        self._base = time.monotonic
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def tap(button: QAbstractButton) -> None:
    """A real press and release in the middle of a visible button."""
    if not button.isVisible() or not button.isEnabled():
        raise RuntimeError(f"cannot tap {button.text()!r}: it is not visible and enabled")
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() // 2, button.height() // 2))


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = QDeadlineTimer(int(timeout_s * 1000))
    while not condition():
        if deadline.hasExpired():
            raise TimeoutError(f"tour: gave up waiting {timeout_s:.0f} s for {what or 'the screen'}")
        QCoreApplication.processEvents()
        QTest.qWait(10)
