"""Step 2: the account number (户号), typed on the on-screen keypad."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from contract.account_number import NumberProblem
from kiosk.journey_state import JourneyState
from screens.context import RenderContext, set_role
from screens.keypad import Keypad
from screens.nav_bar import NavBar


def grouped_with_blanks(digits: str, length: int) -> str:
    """3201234 of 10 → '3201 234_ __': the customer sees how many are left."""
    padded = digits + "_" * max(0, length - len(digits))
    return " ".join(padded[i : i + 4] for i in range(0, len(padded), 4))


class AccountEntryScreen(QWidget):
    submitted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(wordWrap=True), "title")
        self.hint = set_role(QLabel(wordWrap=True), "hint")
        self.field = QLabel(objectName="accountField")
        self.status = set_role(QLabel(wordWrap=True), "fieldOk")
        self.submit = set_role(QPushButton(), "primary")
        self.submit.clicked.connect(self.submitted)
        self.keypad = Keypad()
        self.nav = NavBar(self.submit)  # the primary on the right, as on every step

        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addSpacing(12)
        left.addWidget(self.hint)
        left.addSpacing(20)
        left.addWidget(self.field)
        left.addSpacing(12)
        left.addWidget(self.status)
        left.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(80)
        body.addLayout(left, 3)
        body.addWidget(self.keypad, 2)
        column = QVBoxLayout(self)
        column.setContentsMargins(80, 16, 80, 20)
        column.addLayout(body, 1)
        column.addSpacing(12)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        utility = ctx.config.utility(state.utility_id) if state.utility_id else None
        length = utility.account_length if utility else 0
        self.title.setText(ctx.tr("account.title", utility=ctx.utility_name(state.utility_id)))
        self.hint.setText(ctx.tr("account.hint", length=length))
        self.field.setText(grouped_with_blanks(state.digits, length))
        # A digit past the end is not a wrong number: the number stays as it was
        # (still right if it was), and a neutral line says it is complete.
        problem = state.field_problem
        full = problem is NumberProblem.TOO_LONG
        invalid = problem is not None and not full
        self.field.setProperty("invalid", "true" if invalid else "false")
        self.field.style().unpolish(self.field)
        self.field.style().polish(self.field)
        if invalid:
            set_role(self.status, "fieldError")
            self.status.setText("✗ " + ctx.tr("account.problem." + problem.value, length=length))
        elif full:
            set_role(self.status, "hint")
            self.status.setText(ctx.tr("account.full", length=length))
        else:
            complete = len(state.digits) == length
            set_role(self.status, "fieldOk" if complete else "hint")
            self.status.setText(ctx.tr("account.count", typed=len(state.digits), length=length))
        # A number known to be wrong cannot be looked up; the line above says why.
        self.submit.setEnabled(not invalid)
        self.submit.setText(ctx.tr("account.submit"))
        self.keypad.render(ctx)
        self.nav.render(ctx)

    def wipe(self) -> None:
        self.field.clear()
        self.status.clear()
