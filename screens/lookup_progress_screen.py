"""While the backend looks the account up: a spinner, the seconds waited, Cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.journey_state import JourneyState
from screens.context import RenderContext, centered, set_role
from screens.spinner import Spinner


class LookupProgressScreen(QWidget):
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._ctx: RenderContext | None = None
        self._started = time.monotonic()
        self.spinner = Spinner()
        self.message = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.waited = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "subtitle")
        self.cancel = QPushButton()
        self.cancel.clicked.connect(self.cancelled)
        self._timer = QTimer(self, interval=1000, timeout=self._show_waited)

        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addLayout(centered(self.spinner))
        column.addSpacing(40)
        column.addWidget(self.message)
        column.addSpacing(12)
        column.addWidget(self.waited)
        column.addSpacing(60)
        column.addLayout(centered(self.cancel))
        column.addStretch(2)

    def render(self, ctx: RenderContext, _state: JourneyState) -> None:
        self._ctx = ctx
        self.message.setText(ctx.tr("lookup.progress"))
        self.cancel.setText(ctx.tr("lookup.cancel"))
        self._show_waited()

    def showEvent(self, event) -> None:  # noqa: N802
        self._started = time.monotonic()
        self._show_waited()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def _show_waited(self) -> None:
        if self._ctx is not None:
            seconds = int(time.monotonic() - self._started)
            self.waited.setText(self._ctx.tr("lookup.waited", seconds=seconds))

    def wipe(self) -> None:
        """Shows no customer data."""
