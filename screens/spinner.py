"""A busy indicator: a turning arc, so a person sees the kiosk is working."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget


class Spinner(QWidget):
    def __init__(self, diameter: int = 140) -> None:
        super().__init__()
        self.setFixedSize(diameter, diameter)
        self._angle = 0
        self._timer = QTimer(self, interval=50, timeout=self._advance)

    def showEvent(self, event) -> None:  # noqa: N802
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def _advance(self) -> None:
        self._angle = (self._angle + 12) % 360
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        painter.setPen(QPen(QColor("#d0dae4"), 14))
        painter.drawEllipse(rect)
        painter.setPen(QPen(QColor("#0b5394"), 14))
        painter.drawArc(rect, -self._angle * 16, 100 * 16)
