"""Cash-in: the acceptor is open; the running total, what is still owed, and Done/Cancel.

Once money is in, "Cancel" no longer cancels: it says what it does ("Pay
with what I put in") and, like "Done" with less than is owed, asks the
customer to confirm — the amount, that notes are not given back, what stays
owed — before the money is paid in.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from screens.account_strip import AccountStrip
from screens.context import RenderContext, set_role


class CashInScreen(QWidget):
    done = Signal()
    cancelled = Signal()
    confirmed = Signal()
    keep_paying = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.strip = AccountStrip()
        self.hint = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.due_name, self.due = _pair()
        self.paid_name, self.paid = _pair()
        self.rest_name, self.rest = _pair()
        self.notes = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.returned = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")
        self.kept = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.cancel = QPushButton()
        self.cancel.clicked.connect(self.cancelled)
        self.finish = set_role(QPushButton(), "primary")
        self.finish.clicked.connect(self.done)
        # Shown under a disabled "Done": a tap on it gives no signal, the words say why.
        self.finish_hint = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignRight), "hint")
        self.confirm = _Confirmation()
        self.confirm.pay.clicked.connect(self.confirmed)
        self.confirm.more.clicked.connect(self.keep_paying)

        amounts = QGridLayout()
        amounts.setHorizontalSpacing(80)
        for column, (name, value) in enumerate(((self.due_name, self.due), (self.paid_name, self.paid),
                                                (self.rest_name, self.rest))):
            amounts.addWidget(name, 0, column, Qt.AlignmentFlag.AlignCenter)
            amounts.addWidget(value, 1, column, Qt.AlignmentFlag.AlignCenter)
        self.buttons = QWidget()
        buttons = QHBoxLayout(self.buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.finish_hint)
        buttons.addSpacing(24)
        buttons.addWidget(self.finish)
        column = QVBoxLayout(self)
        column.setContentsMargins(160, 30, 160, 30)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(8)
        column.addWidget(self.strip)
        column.addSpacing(12)
        column.addWidget(self.hint)
        column.addSpacing(36)
        column.addLayout(amounts)
        column.addSpacing(24)
        column.addWidget(self.notes)
        column.addSpacing(16)
        column.addWidget(self.returned)
        column.addWidget(self.kept)
        column.addWidget(self.confirm)
        column.addStretch(2)
        column.addWidget(self.buttons)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        payment = state.payment
        if payment is None:
            self.wipe()
            return
        tr = ctx.tr
        words = _TOP_UP_WORDS if state.top_up is not None else _BILL_WORDS
        self.title.setText(tr(words["title"]))
        self.strip.render(ctx, state)
        self.hint.setText(tr(words["hint"], cap=yuan(payment.cap_fen)))
        self.due_name.setText(tr(words["due"]))
        self.due.setText(yuan(payment.amount_due_fen))
        self.paid_name.setText(tr("cash.paid"))
        self.paid.setText(yuan(payment.paid_fen))
        set_role(self.paid, "bigAmount", settled="true")
        over = payment.paid_fen > payment.amount_due_fen
        self.rest_name.setText(tr(words["over"]) if over else tr(words["short"]))
        self.rest.setText(yuan(payment.credited_to_balance_fen if over else payment.still_due_fen))
        set_role(self.rest, "bigAmount", settled="true" if over or not payment.still_due_fen else "false")
        counts = Counter(payment.notes_fen)
        self.notes.setText(tr("cash.notes", notes="  ".join(
            f"¥{fen // 100} × {count}" for fen, count in sorted(counts.items()))) if counts else tr("cash.no_notes"))
        self.returned.setText("⚠ " + tr(payment.returned_reason) if payment.returned_reason else "")
        self.returned.setVisible(bool(payment.returned_reason))
        # Money in the box is never given back: say so before Cancel is tapped.
        self.kept.setText(tr("cash.kept") if payment.paid_fen else "")
        self.kept.setVisible(bool(payment.paid_fen))
        self.cancel.setText(tr("cash.pay_what_is_in") if payment.paid_fen else tr("cash.cancel"))
        self.finish.setText(tr("cash.done"))
        # A card's credit starts at the smallest purchase: Done waits for it, and says so.
        least = state.top_up.offer.limits.min_amount_fen if state.top_up is not None else 1
        self.finish.setEnabled(payment.paid_fen >= least and not payment.note_in_escrow)
        if payment.paid_fen >= least:
            self.finish_hint.setText("")
        else:
            self.finish_hint.setText(tr("top_up.cash.at_least", least=yuan(least)) if payment.paid_fen
                                     else tr("cash.insert_first"))
        self.confirm.render(ctx, payment, shown=state.confirm_finish, top_up=state.top_up is not None)
        self.buttons.setVisible(not state.confirm_finish)
        # The question takes the place of the hint and the notice it repeats.
        self.hint.setVisible(not state.confirm_finish)
        self.kept.setVisible(bool(payment.paid_fen) and not state.confirm_finish)

    def wipe(self) -> None:
        for label in (self.due, self.paid, self.rest, self.notes, self.returned, self.kept, self.strip):
            label.clear()
        self.confirm.hide()


class _Confirmation(QWidget):
    """"Pay {paid} now?" — what happens to the money, and the two ways on."""

    def __init__(self) -> None:
        super().__init__()
        set_role(self, "confirmPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.question = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "heading")
        self.facts = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.more = QPushButton()
        self.pay = set_role(QPushButton(), "primary")
        row = QHBoxLayout()
        row.addWidget(self.more)
        row.addStretch(1)
        row.addWidget(self.pay)
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 24, 40, 24)
        column.addWidget(self.question)
        column.addSpacing(8)
        column.addWidget(self.facts)
        column.addSpacing(16)
        column.addLayout(row)
        self.hide()

    def render(self, ctx: RenderContext, payment, *, shown: bool, top_up: bool = False) -> None:
        self.setVisible(shown)
        if not shown:
            return
        tr = ctx.tr
        self.question.setText(tr("cash.confirm_title", paid=yuan(payment.paid_fen)))
        facts = [tr("cash.confirm_kept")]
        if top_up:
            facts.append(tr("top_up.cash.confirm_credit", paid=yuan(payment.paid_fen)))
        elif payment.still_due_fen:
            facts.append(tr("cash.confirm_still_owed", rest=yuan(payment.still_due_fen)))
        elif payment.credited_to_balance_fen:
            facts.append(tr("cash.confirm_to_balance", extra=yuan(payment.credited_to_balance_fen)))
        self.facts.setText(("" if ctx.lang == "zh" else " ").join(facts))
        self.more.setText(tr("cash.keep_paying"))
        self.pay.setText(tr("cash.confirm_pay"))


# What the amounts are called: a bill's (owed, still owed, to the balance) or a card's credit.
_BILL_WORDS = {"title": "cash.title", "hint": "cash.hint", "due": "pay.amount_due", "over": "cash.to_balance",
               "short": "cash.still_due"}
_TOP_UP_WORDS = {"title": "top_up.cash.title", "hint": "top_up.cash.hint", "due": "top_up.cash.chosen",
                 "over": "top_up.cash.extra", "short": "top_up.cash.short"}


def _pair() -> tuple[QLabel, QLabel]:
    return set_role(QLabel(), "fieldName"), set_role(QLabel(), "bigAmount")
