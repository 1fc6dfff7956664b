"""The result: posted, received and to be posted, or refer to the counter — and what to do now.

One message per outcome, never two that disagree: the title says where the
money is (a device problem changes the title, not only a banner under a
"success"), the banner says what went wrong and what it means for the money
(a note stuck in the acceptor is not in this payment), the advice says what
to do, and the slip line says whether there is a slip.  When there is none,
a QR code of the transaction number stands in for it, to photograph.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from contract.payment_state import PENDING, POSTED
from kiosk import paid_words
from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from kiosk.payment_record import CashPayment
from screens.account_strip import AccountStrip
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar
from screens.result_figures import ResultFigures


class PaidScreen(QWidget):
    another = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.mark = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "successMark")
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.strip = AccountStrip()
        self.problem = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.advice = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.figures = ResultFigures()
        self.qr = self.figures.qr
        self.slip = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.done = set_role(QPushButton(), "primary")
        self.pay_another = QPushButton()
        self.pay_another.clicked.connect(self.another)
        self.nav = NavBar(self.done, secondary=(self.pay_another,))
        # The payment is done: no Back; "Done" (the primary, on the right) is the way home.
        self.nav.back.hide()
        self.nav.home.hide()
        self.done.clicked.connect(self.nav.home.click)
        self._lay_out()

    def _lay_out(self) -> None:
        heading = QHBoxLayout()
        heading.addStretch(1)
        heading.addWidget(self.mark)
        heading.addSpacing(16)
        heading.addWidget(self.title)
        heading.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(160, 30, 160, 30)
        column.addStretch(1)
        column.addLayout(heading)
        for spacing, widget in ((8, self.strip), (8, self.problem)):
            column.addSpacing(spacing)
            column.addWidget(widget)
        column.addSpacing(12)
        column.addLayout(self.figures)
        for widget in (self.advice, self.slip):
            column.addSpacing(12)
            column.addWidget(widget)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        self.done.setText(ctx.tr("paid.finish"))
        self.pay_another.setText(ctx.tr("paid.pay_another"))
        payment = state.payment
        if not paid_words.has_result(payment):
            self.wipe()
            return
        tr = ctx.tr
        self.title.setText(tr(paid_words.title_key(payment)))
        self.mark.setText("✓" if payment.outcome in (POSTED, PENDING) and not payment.problem_key else "")
        self.mark.setVisible(bool(self.mark.text()))
        self.strip.render(ctx, state)
        self.problem.setText(tr(payment.problem_key) if payment.problem_key else "")
        self.problem.setVisible(bool(payment.problem_key))
        self._fill_rows(ctx, payment, state.elder)
        self.advice.setText(self._advice(ctx, payment, state.elder))
        slip = tr(paid_words.slip_key(payment))
        self.slip.setText(slip + (("" if ctx.lang == "zh" else " ") + tr("card.take_back") if state.by_card else ""))
        # No slip: the transaction number as a QR code, to photograph and show at the counter.
        self.figures.show_code("" if payment.slip_printed else payment.transaction_no, tr("paid.qr_caption"))

    def _fill_rows(self, ctx: RenderContext, payment: CashPayment, elder: bool) -> None:
        tr = ctx.tr
        rows = [(tr("paid.transaction_no"), payment.transaction_no),
                (tr("paid.paid"), yuan(payment.paid_fen))]
        # Elder mode: fewer things at once — what was paid and what is still owed,
        # not the arithmetic between them (the slip has every figure).
        if not elder:
            rows.append((tr("pay.amount_due"), yuan(payment.amount_due_fen)))
        if not elder or payment.credited_to_balance_fen:
            rows.append((tr("cash.to_balance"), yuan(payment.credited_to_balance_fen)))
        if payment.still_due_fen:
            rows.append((tr("paid.still_owed"), yuan(payment.still_due_fen)))
        if payment.receipt_no:
            rows.append((tr("paid.receipt_no"), payment.receipt_no))
        self.figures.set_rows(rows)

    def _advice(self, ctx: RenderContext, payment: CashPayment, elder: bool = False) -> str:
        text = ctx.tr(paid_words.advice_key(payment), hotline=ctx.config.terminal.hotline, transaction_no=payment.transaction_no)
        if payment.still_due_fen and not elder:  # elder mode: the row above says it, once
            text += ("" if ctx.lang == "zh" else " ") + ctx.tr("paid.still_owed_advice",
                                                              rest=yuan(payment.still_due_fen))
        return text

    def wipe(self) -> None:
        self.figures.clear()
        for label in (self.mark, self.title, self.strip, self.problem, self.advice, self.slip):
            label.clear()
