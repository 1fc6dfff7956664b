"""Home: a welcome and the services this machine offers now, paying first (its main job)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.journey_state import JourneyState
from screens.context import RenderContext, set_role


class HomeScreen(QWidget):
    pay_chosen = Signal()
    inquiry_chosen = Signal()
    card_chosen = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.subtitle = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "subtitle")
        self.pay = set_role(QPushButton(), "tile", tile="pay")
        self.pay.clicked.connect(self.pay_chosen)
        self.inquiry = set_role(QPushButton(), "tile", tile="inquiry")
        self.inquiry.clicked.connect(self.inquiry_chosen)
        self.card = set_role(QPushButton(), "tile", tile="card")
        self.card.clicked.connect(self.card_chosen)
        self.notice = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        # What this machine cannot do right now, said before anyone starts.
        self.unavailable = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "degraded")

        tiles = QHBoxLayout()
        tiles.addStretch(1)
        tiles.setSpacing(48)
        tiles.addWidget(self.pay)
        tiles.addWidget(self.inquiry)
        tiles.addWidget(self.card)
        tiles.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(80, 40, 80, 40)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addSpacing(16)
        column.addWidget(self.subtitle)
        column.addSpacing(60)
        column.addLayout(tiles)
        column.addSpacing(60)
        column.addWidget(self.unavailable)
        column.addSpacing(12)
        column.addWidget(self.notice)
        column.addStretch(2)

    def render(self, ctx: RenderContext, _state: JourneyState) -> None:
        self.title.setText(ctx.tr("home.title"))
        self.subtitle.setText(ctx.tr("home.subtitle"))
        self.pay.setText(ctx.tr("home.pay") + "\n" + ctx.tr("home.pay_detail"))
        # No cash, no "Pay" tile: the line below says why and where to pay instead.
        self.pay.setVisible(ctx.services.cash)
        self.inquiry.setText(ctx.tr("home.inquiry") + "\n" + ctx.tr("home.inquiry_detail"))
        self.card.setText(ctx.tr("home.card") + "\n" + ctx.tr("home.card_detail"))
        self.card.setVisible(ctx.services.card)
        self.notice.setText(ctx.tr("home.privacy_notice"))
        missing = [ctx.tr(key) for key, offered in ((ctx.services.cash_off_key or "home.no_cash", ctx.services.cash),
                                                     ("home.no_slip", ctx.services.slip),
                                                     ("home.no_card", ctx.services.card
                                                      or not ctx.services.card_reader_fitted)) if not offered]
        self.unavailable.setText("⚠ " + "；".join(missing) if missing and ctx.lang == "zh" else
                                 "⚠ " + "; ".join(missing) if missing else "")
        self.unavailable.setVisible(bool(missing))

    def wipe(self) -> None:
        """Home holds nothing of a customer."""
