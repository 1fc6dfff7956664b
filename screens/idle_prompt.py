"""'Need more time?' — laid over whatever step an idle customer left."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.journey_state import IdlePrompt
from screens.context import RenderContext, set_role


class IdlePromptOverlay(QWidget):
    more_time = Signal()
    finish = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("idleShade")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card = QFrame(objectName="idleCard")
        card.setFixedWidth(980)
        self.question = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.countdown = QLabel(objectName="idleCountdown", alignment=Qt.AlignmentFlag.AlignCenter)
        self.explain = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.continue_button = set_role(QPushButton(), "primary")
        self.finish_button = QPushButton()
        self.continue_button.clicked.connect(self.more_time)
        self.finish_button.clicked.connect(self.finish)
        buttons = QHBoxLayout()
        buttons.setSpacing(40)
        buttons.addWidget(self.finish_button)
        buttons.addWidget(self.continue_button)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(60, 50, 60, 50)
        inner.addWidget(self.question)
        inner.addWidget(self.countdown)
        inner.addWidget(self.explain)
        inner.addSpacing(30)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.hide()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        # A tap on the shade around the card also means "I am still here".
        self.more_time.emit()
        event.accept()

    def render(self, ctx: RenderContext, prompt: IdlePrompt | None) -> None:
        if prompt is None:
            self.hide()
            return
        self.question.setText(ctx.tr("idle.question"))
        self.countdown.setText(str(prompt.seconds_left))
        self.explain.setText(ctx.tr("idle.explain_cash_in" if prompt.cash_in else "idle.explain",
                                    seconds=prompt.seconds_left))
        self.continue_button.setText(ctx.tr("idle.more_time"))
        self.finish_button.setText(ctx.tr("cash.done" if prompt.cash_in else "idle.finish"))
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
