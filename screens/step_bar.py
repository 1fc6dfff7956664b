"""Step bar: where the customer is in the journey (rule 1 of MISSION.md)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from kiosk.journey_state import STEP_BAR
from screens.context import RenderContext, set_role


class StepBar(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("stepBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.labels = [QLabel() for _ in STEP_BAR]
        for label in self.labels:
            # Room inside the "current" pill; the stylesheet's padding alone is
            # not counted in a QLabel's size hint.
            label.setContentsMargins(22, 2, 22, 2)
        row = QHBoxLayout(self)
        row.setContentsMargins(40, 6, 40, 6)
        row.addStretch(1)
        for index, label in enumerate(self.labels):
            if index:
                arrow = QLabel("›")
                arrow.setStyleSheet("font-size: 34px; color: #8a99a8;")
                row.addSpacing(24)
                row.addWidget(arrow)
                row.addSpacing(24)
            row.addWidget(label)
        row.addStretch(1)

    def render(self, ctx: RenderContext, position: int | None) -> None:
        self.setVisible(position is not None)
        for index, (label, step) in enumerate(zip(self.labels, STEP_BAR)):
            if position is None or index > position:
                state, mark = "todo", f"{index + 1}"
            elif index == position:
                state, mark = "current", f"{index + 1}"
            else:
                state, mark = "done", "✓"
            label.setText(f"{mark}  {ctx.tr('step.' + step.value)}")
            set_role(label, "step", stepState=state)
