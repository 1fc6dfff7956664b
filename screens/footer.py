"""Footer: complaint hotline and service hours, on every screen (rules 7 and 8)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from screens.context import RenderContext


class Footer(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("footer")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hotline = QLabel()
        self.hours = QLabel()
        self.terminal = QLabel()
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 0, 32, 0)
        row.addWidget(self.hotline)
        row.addStretch(1)
        row.addWidget(self.hours)
        row.addStretch(1)
        row.addWidget(self.terminal)

    def render(self, ctx: RenderContext) -> None:
        terminal = ctx.config.terminal
        self.hotline.setText(ctx.tr("footer.hotline", hotline=terminal.hotline))
        self.hours.setText(ctx.tr("footer.hours", hours=ctx.config.service_hours.text()))
        self.terminal.setText(ctx.tr("footer.terminal", terminal_id=terminal.id))
