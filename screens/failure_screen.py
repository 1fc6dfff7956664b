"""A lookup that failed, explained: why, what to do next, and a code for the counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.journey_state import JourneyState
from screens.account_entry_screen import grouped_with_blanks
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar


class FailureScreen(QWidget):
    retry_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.icon = QLabel("!", objectName="failureIcon", alignment=Qt.AlignmentFlag.AlignCenter)
        self.reason = set_role(QLabel(wordWrap=True), "reason")
        self.advice = set_role(QLabel(wordWrap=True), "advice")
        self.code = set_role(QLabel(wordWrap=True), "code")
        self.retry = set_role(QPushButton(), "primary")
        self.retry.clicked.connect(self.retry_requested)
        self.nav = NavBar(self.retry)

        text = QVBoxLayout()
        text.addWidget(self.reason)
        text.addSpacing(20)
        text.addWidget(self.advice)
        text.addSpacing(20)
        text.addWidget(self.code)
        body = QHBoxLayout()
        body.setSpacing(48)
        body.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(text, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(160, 60, 160, 30)
        column.addStretch(1)
        column.addLayout(body)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        failure = state.failure
        self.nav.render(ctx)
        # Back goes where the number came from: the keypad, or the card slot.
        self.nav.back.setText(ctx.tr("failure.reinsert" if state.by_card else "failure.reenter"))
        if failure is None:
            self.wipe()
            return
        reason = ctx.tr(failure.reason_key)
        if failure.reason_key == "error.account_not_found" and state.digits:
            # The number as typed, to compare with the bill; and the utility, which may be the mistake.
            reason = ctx.tr("error.account_not_found_number", number=grouped_with_blanks(state.digits, 0))
            advice = ctx.tr("advice.check_number_and_utility", utility=ctx.utility_name(state.utility_id))
        else:
            advice = ctx.tr(failure.advice_key, hotline=ctx.config.terminal.hotline)
        self.reason.setText(reason)
        self.advice.setText(advice)
        self.code.setText(ctx.tr("failure.code", code=failure.code, terminal_id=ctx.config.terminal.id))
        self.retry.setText(ctx.tr("failure.retry"))
        self.retry.setVisible(failure.retryable)

    def wipe(self) -> None:
        for label in (self.reason, self.advice, self.code):
            label.clear()
