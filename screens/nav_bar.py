"""The row of Back / Home buttons at the bottom of a customer step."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from screens.context import RenderContext


class NavBar(QWidget):
    def __init__(self, *extra: QPushButton) -> None:
        super().__init__()
        self.back = QPushButton()
        self.home = QPushButton()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(24)
        row.addWidget(self.back)
        row.addWidget(self.home)
        row.addStretch(1)
        for button in extra:
            row.addWidget(button)

    def render(self, ctx: RenderContext) -> None:
        self.back.setText(ctx.tr("nav.back"))
        self.home.setText(ctx.tr("nav.home"))
