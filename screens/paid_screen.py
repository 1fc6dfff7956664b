"""The result: posted, received and to be posted, or refer to the counter — and what to do now."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from screens.account_strip import AccountStrip
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar

_TITLE = {"posted": "paid.posted", "pending": "paid.pending", "referred": "paid.referred"}
ADVICE = {"posted": "paid.posted_advice", "pending": "paid.pending_advice", "referred": "paid.referred_advice"}


_MARK = {"posted": "✓", "pending": "✓"}


class PaidScreen(QWidget):
    another = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.mark = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "successMark")
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.strip = AccountStrip()
        self.problem = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.advice = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.fields = QGridLayout()
        self.fields.setHorizontalSpacing(40)
        self._rows: list[tuple[QLabel, QLabel]] = []
        for row in range(6):
            name, value = set_role(QLabel(), "fieldName"), set_role(QLabel(), "fieldValue")
            self.fields.addWidget(name, row, 0, Qt.AlignmentFlag.AlignRight)
            self.fields.addWidget(value, row, 1, Qt.AlignmentFlag.AlignLeft)
            self._rows.append((name, value))
        self.slip = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.done = set_role(QPushButton(), "primary")
        self.pay_another = QPushButton()
        self.pay_another.clicked.connect(self.another)
        self.nav = NavBar(self.done, secondary=(self.pay_another,))
        # The payment is done: no Back; "Done" (the primary, on the right) is the way home.
        self.nav.back.hide()
        self.nav.home.hide()
        self.done.clicked.connect(self.nav.home.click)

        column = QVBoxLayout(self)
        column.setContentsMargins(160, 30, 160, 30)
        column.addStretch(1)
        heading = QHBoxLayout()
        heading.addStretch(1)
        heading.addWidget(self.mark)
        heading.addSpacing(16)
        heading.addWidget(self.title)
        heading.addStretch(1)
        column.addLayout(heading)
        column.addSpacing(8)
        column.addWidget(self.strip)
        column.addSpacing(8)
        column.addWidget(self.problem)
        column.addSpacing(12)
        column.addLayout(self.fields)
        column.addSpacing(12)
        column.addWidget(self.advice)
        column.addSpacing(12)
        column.addWidget(self.slip)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        self.done.setText(ctx.tr("paid.finish"))
        self.pay_another.setText(ctx.tr("paid.pay_another"))
        payment = state.payment
        if payment is None or payment.outcome not in _TITLE:
            self.wipe()
            return
        tr = ctx.tr
        self.title.setText(tr(_TITLE[payment.outcome]))
        self.mark.setText("" if payment.problem_key else _MARK.get(payment.outcome, ""))
        self.mark.setVisible(bool(self.mark.text()))
        self.strip.render(ctx, state)
        self.problem.setText(tr(payment.problem_key) if payment.problem_key else "")
        self.problem.setVisible(bool(payment.problem_key))
        rows = [(tr("paid.transaction_no"), payment.transaction_no),
                (tr("paid.paid"), yuan(payment.paid_fen)),
                (tr("pay.amount_due"), yuan(payment.amount_due_fen)),
                (tr("cash.to_balance"), yuan(payment.credited_to_balance_fen))]
        if payment.still_due_fen:
            rows.append((tr("paid.still_owed"), yuan(payment.still_due_fen)))
        if payment.receipt_no:
            rows.append((tr("paid.receipt_no"), payment.receipt_no))
        for (name, value), (text_name, text_value) in zip(self._rows, rows + [("", "")] * 6):
            name.setText(text_name)
            value.setText(text_value)
        # Whatever the outcome, a problem (a note may be inside the acceptor) sends to the counter.
        advice = "paid.referred_advice" if payment.problem_key else ADVICE[payment.outcome]
        advice_text = tr(advice, hotline=ctx.config.terminal.hotline, transaction_no=payment.transaction_no)
        if payment.still_due_fen:
            advice_text += ("" if ctx.lang == "zh" else " ") + tr("paid.still_owed_advice",
                                                                  rest=yuan(payment.still_due_fen))
        self.advice.setText(advice_text)
        self.slip.setText(tr("paid.slip_printed") if payment.slip_printed else tr("paid.no_slip"))

    def wipe(self) -> None:
        for name, value in self._rows:
            name.clear()
            value.clear()
        for label in (self.mark, self.title, self.strip, self.problem, self.advice, self.slip):
            label.clear()
