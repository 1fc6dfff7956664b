"""Step 1: which utility — electricity, water or gas (as configured)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.config import UtilityConfig
from kiosk.journey_state import JourneyState
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar


class UtilityScreen(QWidget):
    utility_chosen = Signal(str)

    def __init__(self, utilities: tuple[UtilityConfig, ...]) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.tiles: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setSpacing(48)
        row.addStretch(1)
        for utility in utilities:
            tile = set_role(QPushButton(), "tile", tile=utility.id)
            tile.clicked.connect(lambda _=False, u=utility.id: self.utility_chosen.emit(u))
            self.tiles[utility.id] = tile
            row.addWidget(tile)
        row.addStretch(1)
        self.nav = NavBar()
        column = QVBoxLayout(self)
        column.setContentsMargins(80, 30, 80, 30)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(60)
        column.addLayout(row)
        column.addStretch(2)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.title.setText(ctx.tr("utility.title_pay" if state.to_pay else "utility.title"))
        for utility_id, tile in self.tiles.items():
            tile.setText(ctx.utility_name(utility_id))
        self.nav.render(ctx)

    def wipe(self) -> None:
        """Nothing of a customer is shown here."""
