"""A 12-month usage bar chart drawn with QPainter (no QtCharts add-on needed)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from contract.models import UsageMonth

_BAR = QColor("#0b5394")
_LATEST_BAR = QColor("#e69100")
_AXIS = QColor("#8a99a8")
_TEXT = QColor("#33475b")


class UsageChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(640, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._months: tuple[UsageMonth, ...] = ()
        self._unit = ""
        self._empty_text = ""
        self._month_label: Callable[[int], str] = str

    def set_usage(self, months: tuple[UsageMonth, ...], unit: str, empty_text: str = "",
                  month_label: Callable[[int], str] = str) -> None:
        """``month_label(1..12)``: the month under its bar, in the customer's language (12月, Dec)."""
        self._month_label = month_label
        self._months = tuple(months)
        self._unit = unit
        self._empty_text = empty_text
        self.update()

    @property
    def months(self) -> tuple[UsageMonth, ...]:
        return self._months

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(20)
        painter.setFont(font)
        area = QRectF(self.rect()).adjusted(24, 32, -16, -40)
        painter.setPen(_AXIS)
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        if not self._months:
            painter.setPen(_TEXT)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self._empty_text)
            return
        top = max(m.quantity for m in self._months) or 1.0
        slot = area.width() / len(self._months)
        bar_width = slot * 0.62
        for index, month in enumerate(self._months):
            height = area.height() * (month.quantity / top)
            x = area.left() + slot * index + (slot - bar_width) / 2
            bar = QRectF(x, area.bottom() - height, bar_width, height)
            latest = index == len(self._months) - 1
            painter.fillRect(bar, _LATEST_BAR if latest else _BAR)
            painter.setPen(_TEXT)
            value = f"{month.quantity:.0f}"
            painter.drawText(QRectF(x - 20, bar.top() - 28, bar_width + 40, 26), Qt.AlignmentFlag.AlignCenter, value)
            label = self._month_label(int(month.month[5:7])) if len(month.month) >= 7 else month.month
            painter.drawText(
                QRectF(x - 20, area.bottom() + 6, bar_width + 40, 30), Qt.AlignmentFlag.AlignCenter, label
            )
