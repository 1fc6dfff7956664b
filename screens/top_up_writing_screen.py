"""While the credit goes to the card: "do not remove your card", with how long it may take.

Paid in, booked, the write token fetched, written, read back: one wait the
service bounds (``TopUpService`` posting, token and confirmation waits), shown
with a spinner and the longest it can take, so nobody pulls the card out
because the screen seemed to hang.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from kiosk.top_up import CONFIRM_WAIT_S, POSTING_WAIT_S, TOKEN_WAIT_S
from screens.context import RenderContext, centered, set_role
from screens.spinner import Spinner

# The longest a customer waits here, rounded up (the service's bounded waits and the write itself).
LONGEST_WAIT_S = int(POSTING_WAIT_S + TOKEN_WAIT_S + CONFIRM_WAIT_S + 2)


class TopUpWritingScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.spinner = Spinner()
        self.warning = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "title")
        self.message = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.paid = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "subtitle")
        self.wait = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addLayout(centered(self.spinner))
        column.addSpacing(40)
        column.addWidget(self.warning)
        column.addSpacing(16)
        column.addWidget(self.message)
        column.addSpacing(12)
        column.addWidget(self.paid)
        column.addSpacing(12)
        column.addWidget(self.wait)
        column.addStretch(2)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        tr = ctx.tr
        view = state.top_up
        rewriting = view is not None and view.rewriting
        self.warning.setText(tr("top_up.writing.keep_card"))
        self.message.setText(tr("top_up.writing.rewriting" if rewriting else "top_up.writing.message"))
        paid = state.payment.paid_fen if state.payment else 0
        self.paid.setText(tr("top_up.writing.paid", amount=yuan(paid)) if paid else "")
        self.paid.setVisible(bool(paid))
        self.wait.setText(tr("top_up.writing.wait", seconds=LONGEST_WAIT_S))

    def wipe(self) -> None:
        self.paid.clear()
