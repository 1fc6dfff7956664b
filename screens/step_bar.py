"""Step bar: where the customer is in the journey (rule 1 of MISSION.md)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from kiosk.journey_state import STEP_BAR, JourneyState, Step
from screens.context import RenderContext, set_role


class StepBar(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("stepBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.labels = [QLabel() for _ in STEP_BAR]
        self.arrows: list[QLabel] = []
        for label in self.labels:
            # Room inside the "current" pill; the stylesheet's padding alone is
            # not counted in a QLabel's size hint.
            label.setContentsMargins(22, 2, 22, 2)
        row = QHBoxLayout(self)
        row.setContentsMargins(40, 6, 40, 6)
        row.addStretch(1)
        for index, label in enumerate(self.labels):
            if index:
                arrow = QLabel("›", objectName="stepArrow")
                self.arrows.append(arrow)
                row.addSpacing(24)
                row.addWidget(arrow)
                row.addSpacing(24)
            row.addWidget(label)
        row.addStretch(1)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        position = state.step_bar_position
        self.setVisible(position is not None)
        # Paying is promised only while cash can be taken (the overview says why not).
        shown = len(STEP_BAR) if ctx.services.cash or position == len(STEP_BAR) - 1 else len(STEP_BAR) - 1
        for index, (label, step) in enumerate(zip(self.labels, STEP_BAR)):
            if position is None or index > position:
                step_state, mark = "todo", f"{index + 1}"
            elif index == position:
                step_state, mark = "current", f"{index + 1}"
            else:
                step_state, mark = "done", "✓"
            # Shown first: a style set on a hidden label is not applied when it reappears.
            label.setVisible(index < shown)
            if index:
                self.arrows[index - 1].setVisible(index < shown)
            label.setText(f"{mark}  {ctx.tr(_label_key(step, state.by_card, state.top_up is not None))}")
            set_role(label, "step", stepState=step_state)


def _label_key(step: Step, by_card: bool, top_up: bool = False) -> str:
    """With a card, the first two steps are the card's: insert it, read the number; a card's
    top-up shows the card and buys credit where a bill is seen and paid."""
    if top_up and step in (Step.OVERVIEW, Step.CASH_IN):
        return "step.top_up_" + step.value
    if by_card and step in (Step.UTILITY, Step.ACCOUNT):
        return "step.card_" + step.value
    return "step." + step.value
