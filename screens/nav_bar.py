"""The row at the bottom of every customer step: the layout grammar's action bar.

Back, then Home, on the left, always at the same place; secondary actions
after them; the step's primary action on the right, alone.  Screens never
place these buttons themselves, so none moves between screens.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from screens.context import RenderContext


class NavBar(QWidget):
    def __init__(self, *extra: QPushButton, secondary: tuple[QPushButton, ...] = ()) -> None:
        """``extra``: the primary action(s), on the right; ``secondary``: after Back and Home."""
        super().__init__()
        self.back = QPushButton()
        self.home = QPushButton()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(24)
        row.addWidget(self.back)
        row.addWidget(self.home)
        for button in secondary:
            row.addWidget(button)
        row.addStretch(1)
        for button in extra:
            row.addWidget(button)

    def render(self, ctx: RenderContext) -> None:
        self.back.setText(ctx.tr("nav.back"))
        self.home.setText(ctx.tr("nav.home"))
