"""'Need help?' — where a person is: the staffed counter, the hotline, the hours.

Laid over whatever step the customer is on (the header's help button is on
every screen); closing it leaves the step exactly as it was, money included.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from screens.context import RenderContext, centered, set_role


class HelpOverlay(QWidget):
    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("idleShade")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card = QFrame(objectName="idleCard")
        card.setFixedWidth(1040)
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.counter = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "advice")
        self.hotline = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "advice")
        self.hours = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.money = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.close_button = set_role(QPushButton(), "primary")
        self.close_button.clicked.connect(self.closed)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(60, 40, 60, 40)
        inner.setSpacing(16)
        for label in (self.title, self.counter, self.hotline, self.hours, self.money):
            inner.addWidget(label)
        inner.addSpacing(16)
        inner.addLayout(centered(self.close_button))
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.hide()

    def render(self, ctx: RenderContext, shown: bool, money_in_play: bool) -> None:
        if not shown:
            self.hide()
            return
        tr, terminal = ctx.tr, ctx.config.terminal
        self.title.setText(tr("help.title"))
        self.counter.setText(tr("help.counter", counter=tr("slip.default_counter")))
        self.hotline.setText(tr("help.hotline", hotline=terminal.hotline))
        self.hours.setText(tr("help.hours", hours=ctx.config.service_hours.text(), terminal_id=terminal.id))
        # While notes are in, the customer must know leaving the screen loses nothing.
        self.money.setText(tr("help.money_safe") if money_in_play else "")
        self.money.setVisible(money_in_play)
        self.close_button.setText(tr("help.close"))
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
