"""Identify by card: 'insert your prepaid meter card' while the reader waits."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.journey_state import JourneyState
from screens.context import RenderContext, centered, set_role
from screens.nav_bar import NavBar


class CardPicture(QWidget):
    """A card going into a slot, chip first: shows how, for those who do not read."""

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(420, 300)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        slot = QRectF(60, 250, 300, 22)
        painter.fillRect(slot, QColor("#33475b"))
        card = QRectF(110, 40, 200, 200)
        painter.setBrush(QColor("#00796b"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(card, 18, 18)
        painter.setBrush(QColor("#f2c14e"))
        painter.drawRoundedRect(QRectF(140, 170, 60, 46), 6, 6)  # the chip, near the slot
        arrow = QPen(QColor("#e69100"), 10)
        arrow.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(arrow)
        painter.drawLine(370, 60, 370, 220)
        painter.drawLine(370, 220, 345, 190)
        painter.drawLine(370, 220, 395, 190)


class CardScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.hint = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.picture = CardPicture()
        self.nav = NavBar()
        column = QVBoxLayout(self)
        column.setContentsMargins(80, 30, 80, 30)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(16)
        column.addWidget(self.hint)
        column.addSpacing(30)
        column.addLayout(centered(self.picture))
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, _state: JourneyState) -> None:
        self.title.setText(ctx.tr("card.title"))
        self.hint.setText(ctx.tr("card.hint"))
        self.nav.render(ctx)

    def wipe(self) -> None:
        """Nothing of a customer is shown here."""
