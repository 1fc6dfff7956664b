"""A top-up's result: the credit on the card, or paid and not on it yet (and what to do), or the counter.

One title per outcome that says where the money and the credit are; the
problem, when there is one, in the banner under it; the advice (come back
with the same card: the credit is written here or at any kiosk, never paid
twice); the purchase number, which the slip carries too; and "please take
your card" — the card is still in the reader.  When the card can be written
here and now (paid and not on it, or another purchase waits), the primary
action does it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from kiosk.top_up_records import TopUpOutcome, TopUpResult
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar
from screens.result_figures import ResultFigures

_TITLES = {
    TopUpOutcome.WRITTEN: "top_up.done.written",
    TopUpOutcome.NOT_WRITTEN: "top_up.done.not_written",
    TopUpOutcome.REFERRED: "top_up.done.referred",
}
_MARKS = {TopUpOutcome.WRITTEN: "✓", TopUpOutcome.NOT_WRITTEN: "!", TopUpOutcome.REFERRED: "!"}


class TopUpResultScreen(QWidget):
    rewrite_chosen = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.mark = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "successMark")
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "title")
        self.problem = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.advice = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.figures = ResultFigures()
        self.slip = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.take_card = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "heading")
        self.done = set_role(QPushButton(), "primary")
        self.rewrite = QPushButton()
        self.rewrite.clicked.connect(self.rewrite_chosen)
        self.nav = NavBar(self.done, secondary=(self.rewrite,))
        # The money is settled: no Back; "Done" is the way home.
        self.nav.back.hide()
        self.nav.home.hide()
        self.done.clicked.connect(self.nav.home.click)
        self._lay_out()

    def _lay_out(self) -> None:
        heading = QHBoxLayout()
        heading.addStretch(1)
        heading.addWidget(self.mark)
        heading.addSpacing(16)
        heading.addWidget(self.title, 0)
        heading.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(160, 24, 160, 30)
        column.addStretch(1)
        column.addLayout(heading)
        column.addSpacing(8)
        column.addWidget(self.problem)
        column.addSpacing(12)
        column.addLayout(self.figures)
        for widget in (self.advice, self.slip, self.take_card):
            column.addSpacing(12)
            column.addWidget(widget)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        tr = ctx.tr
        self.done.setText(tr("paid.finish"))
        view = state.top_up
        result = view.result if view is not None else None
        if result is None:
            self.wipe()
            return
        title = _TITLES.get(result.outcome, "top_up.done.referred")
        if result.outcome is TopUpOutcome.WRITTEN and view.rewriting:
            title = "top_up.done.rewritten"
        self.title.setText(tr(title, credit=yuan(result.credit_fen or 0)))
        self.mark.setText(_MARKS.get(result.outcome, "!"))
        set_role(self.mark, "successMark" if result.outcome is TopUpOutcome.WRITTEN else "warningMark")
        # Another card inserted for this purchase: said first, over what went wrong before.
        problem = "top_up.problem.other_card" if view.wrong_card else result.problem_key
        self.problem.setText(tr(problem) if problem else "")
        self.problem.setVisible(bool(problem))
        self._fill_rows(ctx, result)
        hotline = ctx.config.terminal.hotline
        self.advice.setText(tr(result.advice_key, hotline=hotline, purchase_no=result.purchase_no)
                            if result.advice_key else tr("top_up.done.to_meter"))
        self.slip.setText(tr("top_up.done.slip" if result.slip_printed else "top_up.done.no_slip"))
        self.figures.show_code("" if result.slip_printed else result.purchase_no, tr("top_up.done.qr_caption"))
        self.take_card.setText(tr("top_up.done.take_card"))
        again = result.outcome is TopUpOutcome.NOT_WRITTEN or result.more_to_rewrite
        # Paid and not on the card: this one again; otherwise (written, or referred) the card's next waiting one.
        self.rewrite.setText(tr("top_up.done.write_again" if result.outcome is TopUpOutcome.NOT_WRITTEN
                                else "top_up.done.write_next"))
        self.rewrite.setVisible(again)

    def _fill_rows(self, ctx: RenderContext, result: TopUpResult) -> None:
        tr = ctx.tr
        rows = [(tr("top_up.done.purchase_no"), result.purchase_no)]
        if result.paid_fen:
            rows.append((tr("paid.paid"), yuan(result.paid_fen)))
        if result.arrears_paid_fen:
            rows.append((tr("top_up.done.arrears_paid"), yuan(result.arrears_paid_fen)))
        if result.credit_fen is not None:
            rows.append((tr("top_up.done.credit"), yuan(result.credit_fen)))
        if result.card_credit_fen is not None:  # read back from the card, not what was sent to it
            rows.append((tr("top_up.done.card_now"), yuan(result.card_credit_fen)))
        if result.card_count is not None and result.outcome is TopUpOutcome.WRITTEN:
            rows.append((tr("top_up.card.count"), str(result.card_count)))
        if result.receipt_no:
            rows.append((tr("paid.receipt_no"), result.receipt_no))
        self.figures.set_rows(rows)

    def wipe(self) -> None:
        self.figures.clear()
        for label in (self.mark, self.title, self.problem, self.advice, self.slip):
            label.clear()
