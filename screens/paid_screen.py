"""The result: posted, received and to be posted, or refer to the counter — and what to do now."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar

_TITLE = {"posted": "paid.posted", "pending": "paid.pending", "referred": "paid.referred"}
ADVICE = {"posted": "paid.posted_advice", "pending": "paid.pending_advice", "referred": "paid.referred_advice"}


class PaidScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "title")
        self.problem = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.advice = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.fields = QGridLayout()
        self.fields.setHorizontalSpacing(40)
        self._rows: list[tuple[QLabel, QLabel]] = []
        for row in range(5):
            name, value = set_role(QLabel(), "fieldName"), set_role(QLabel(), "fieldValue")
            self.fields.addWidget(name, row, 0, Qt.AlignmentFlag.AlignRight)
            self.fields.addWidget(value, row, 1, Qt.AlignmentFlag.AlignLeft)
            self._rows.append((name, value))
        self.slip = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.nav = NavBar()
        self.nav.back.hide()  # the payment is done: only "Home" (finish)

        column = QVBoxLayout(self)
        column.setContentsMargins(160, 30, 160, 30)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(12)
        column.addWidget(self.problem)
        column.addSpacing(24)
        column.addLayout(self.fields)
        column.addSpacing(24)
        column.addWidget(self.advice)
        column.addSpacing(12)
        column.addWidget(self.slip)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        self.nav.home.setText(ctx.tr("paid.finish"))
        payment = state.payment
        if payment is None or payment.outcome not in _TITLE:
            self.wipe()
            return
        tr = ctx.tr
        self.title.setText(tr(_TITLE[payment.outcome]))
        self.problem.setText(tr(payment.problem_key) if payment.problem_key else "")
        self.problem.setVisible(bool(payment.problem_key))
        rows = [(tr("paid.transaction_no"), payment.transaction_no),
                (tr("paid.paid"), yuan(payment.paid_fen)),
                (tr("pay.amount_due"), yuan(payment.amount_due_fen)),
                (tr("cash.to_balance"), yuan(payment.credited_to_balance_fen))]
        if payment.receipt_no:
            rows.append((tr("paid.receipt_no"), payment.receipt_no))
        for (name, value), (text_name, text_value) in zip(self._rows, rows + [("", "")] * 5):
            name.setText(text_name)
            value.setText(text_value)
        # Whatever the outcome, a problem (a note may be inside the acceptor) sends to the counter.
        advice = "paid.referred_advice" if payment.problem_key else ADVICE[payment.outcome]
        self.advice.setText(tr(advice, hotline=ctx.config.terminal.hotline,
                               transaction_no=payment.transaction_no))
        self.slip.setText(tr("paid.slip_printed") if payment.slip_printed else tr("paid.no_slip"))

    def wipe(self) -> None:
        for name, value in self._rows:
            name.clear()
            value.clear()
        for label in (self.title, self.problem, self.advice, self.slip):
            label.clear()
