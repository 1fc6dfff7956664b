"""While the payment is committed, posted and its slip printed: a spinner and "do not leave"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from screens.context import RenderContext, centered, set_role
from screens.spinner import Spinner


class PayingScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.spinner = Spinner()
        self.message = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.paid = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "subtitle")
        self.wait = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addLayout(centered(self.spinner))
        column.addSpacing(40)
        column.addWidget(self.message)
        column.addSpacing(12)
        column.addWidget(self.paid)
        column.addSpacing(12)
        column.addWidget(self.wait)
        column.addStretch(2)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.message.setText(ctx.tr("paying.message"))
        paid = state.payment.paid_fen if state.payment else 0
        self.paid.setText(ctx.tr("paying.paid", amount=yuan(paid)))
        # Only promise a slip the printer can print.
        self.wait.setText(ctx.tr("paying.wait" if ctx.services.slip else "paying.wait_no_slip"))

    def wipe(self) -> None:
        self.paid.clear()
