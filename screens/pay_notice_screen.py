"""Before any money goes in: what is owed, that no change is given, where the excess goes, and the slip."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from screens.account_strip import AccountStrip
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar


class PayNoticeScreen(QWidget):
    go_on = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.strip = AccountStrip()
        self.due_name = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "fieldName")
        self.due = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "bigAmount")
        self.no_change = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.notes = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.no_slip = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.start = set_role(QPushButton(), "primary")
        self.start.clicked.connect(self.go_on)
        self.nav = NavBar(self.start)

        column = QVBoxLayout(self)
        column.setContentsMargins(160, 30, 160, 30)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(8)
        column.addWidget(self.strip)
        column.addSpacing(24)
        column.addWidget(self.due_name)
        column.addWidget(self.due)
        column.addSpacing(24)
        column.addWidget(self.no_change)
        column.addSpacing(12)
        column.addWidget(self.notes)
        column.addSpacing(24)
        column.addWidget(self.no_slip)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        payment, notice = state.payment, state.notice
        if payment is None or notice is None:
            self.wipe()
            return
        tr = ctx.tr
        self.title.setText(tr("pay.notice_title", utility=ctx.utility_name(state.utility_id)))
        self.strip.render(ctx, state)
        owes = payment.amount_due_fen > 0
        self.due_name.setText(tr("pay.amount_due") if owes else tr("pay.nothing_owed"))
        self.due.setText(yuan(payment.amount_due_fen))
        set_role(self.due, "bigAmount", settled="false" if owes else "true")
        self.no_change.setText(tr("pay.no_change"))
        notes = "、".join(f"¥{n}" for n in notice.accepted_yuan) if ctx.lang == "zh" else \
            ", ".join(f"¥{n}" for n in notice.accepted_yuan)
        self.notes.setText(tr("pay.accepted_notes", notes=notes, cap=yuan(payment.cap_fen)))
        self.no_slip.setText("⚠ " + tr("pay.no_slip"))
        self.no_slip.setVisible(not notice.slip_available)
        self.start.setText(tr("pay.start"))

    def wipe(self) -> None:
        for label in (self.title, self.due_name, self.due, self.notes):
            label.clear()
