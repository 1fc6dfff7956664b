"""How much credit to buy: preset amounts and the keypad, the card's limits shown and checked before any money.

The limits are said before the customer types (the smallest and largest
purchase, whole yuan, that the machine gives no change and that extra notes
buy more credit up to the largest), and an amount outside them is refused
beside the field with the limit it breaks.  Where the utility takes arrears
first, the line under the field says how much of the cash settles them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from kiosk.top_up_view import PRESETS_SHOWN
from screens.context import RenderContext, set_role
from screens.keypad import Keypad
from screens.nav_bar import NavBar

PRESET_COLUMNS = 3


class TopUpAmountScreen(QWidget):
    submitted = Signal()
    preset_chosen = Signal(int)  # fen

    def __init__(self) -> None:
        super().__init__()
        # One line each (a wrapped label asks for height it does not need and squeezes the presets).
        self.title = set_role(QLabel(), "title")
        self.limits = set_role(QLabel(), "hint")
        self.field = QLabel(objectName="accountField")
        self.status = set_role(QLabel(wordWrap=True), "hint")
        self.no_change = set_role(QLabel(wordWrap=True), "hint")
        self.presets: list[QPushButton] = []
        presets = QGridLayout()
        presets.setSpacing(16)
        for index in range(PRESETS_SHOWN):
            button = QPushButton(objectName="presetAmount")
            button.clicked.connect(lambda _=False, i=index: self._preset(i))
            presets.addWidget(button, index // PRESET_COLUMNS, index % PRESET_COLUMNS)
            self.presets.append(button)
        self._preset_fen: tuple[int, ...] = ()
        self.submit = set_role(QPushButton(), "primary")
        self.submit.setMinimumWidth(440)  # "Pay ¥2,000.00 in cash" whatever the amount typed
        self.submit.clicked.connect(self.submitted)
        self.keypad = Keypad()
        self.nav = NavBar(self.submit)

        left = QVBoxLayout()
        left.setSpacing(0)  # the gaps are the ones set here (the style's default is 36 px between items)
        left.addWidget(self.title)
        left.addSpacing(8)
        left.addWidget(self.limits)
        left.addSpacing(16)
        left.addLayout(presets)
        left.addSpacing(16)
        left.addWidget(self.field)
        left.addSpacing(8)
        left.addWidget(self.status)
        left.addSpacing(8)
        left.addWidget(self.no_change)
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

    def _preset(self, index: int) -> None:
        if index < len(self._preset_fen):
            self.preset_chosen.emit(self._preset_fen[index])

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        self.keypad.render(ctx)
        view = state.top_up
        if view is None or not view.can_buy:
            self.wipe()
            return
        tr, limits = ctx.tr, view.offer.limits
        self.title.setText(tr("top_up.amount.title", utility=ctx.utility_name(view.offer.reading.utility)))
        self.limits.setText(tr("top_up.amount.limits", min=yuan(limits.min_amount_fen),
                               max=yuan(limits.max_amount_fen), step=limits.step_fen // 100))
        self._preset_fen = view.presets_fen()
        for index, button in enumerate(self.presets):
            shown = index < len(self._preset_fen)
            button.setVisible(shown)
            if shown:
                button.setText(f"¥{self._preset_fen[index] // 100}")
        self.field.setText(f"¥ {view.digits}" if view.digits else "¥ _")
        problem = view.amount_problem
        self.field.setProperty("invalid", "true" if problem else "false")
        self.field.style().unpolish(self.field)
        self.field.style().polish(self.field)
        set_role(self.status, "fieldError" if problem else ("fieldOk" if view.digits else "hint"))
        self.status.setText(_status_text(ctx, view, limits))
        self.no_change.setText(tr("top_up.amount.no_change", max=yuan(limits.max_amount_fen),
                                  notes=" ".join(f"¥{y}" for y in ctx.config.payment.accepted_notes)))
        if view.opening:
            self.submit.setText(tr("top_up.amount.opening"))
        else:  # no "Pay ¥0.00" before an amount is chosen
            self.submit.setText(tr("top_up.amount.pay", amount=yuan(view.chosen_fen)) if view.digits
                                else tr("top_up.amount.pay_nothing_yet"))
        self.submit.setEnabled(not view.opening and bool(view.digits) and not problem)
        for button in self.presets + list(self.keypad.keys.values()):
            button.setEnabled(not view.opening)

    def wipe(self) -> None:
        self.field.clear()
        self.status.clear()


def _status_text(ctx: RenderContext, view, limits) -> str:
    tr = ctx.tr
    if view.amount_problem:
        return "✗ " + tr(view.amount_problem, min=yuan(limits.min_amount_fen), max=yuan(limits.max_amount_fen),
                         step=limits.step_fen // 100)
    if not view.digits:
        return tr("top_up.amount.type")
    chosen = view.chosen_fen
    if limits.arrears_first and limits.arrears_fen:
        return tr("top_up.amount.credit_after_arrears", arrears=yuan(min(chosen, limits.arrears_fen)),
                  credit=yuan(max(0, limits.credit_for(chosen))))
    return tr("top_up.amount.credit", credit=yuan(limits.credit_for(chosen)))
