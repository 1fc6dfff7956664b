"""A prepaid meter card's overview: what the card holds, what the meter last wrote back, what may be bought.

Left, the card as it was read (utility, masked account and card, credit on
the card, purchase count, the meter's last report 返写); right, what one
purchase may be (the billing system's limits, arrears first where the utility
takes them first) and the price tiers.  The one way on is "Buy credit" — or,
when a purchase paid earlier is not on the card yet, "Write it to my card"
(补写卡), and nothing is sold before that.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from kiosk.top_up_records import card_masked
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar
from screens.overview_screen import Table, field_pair, panel, set_pair, tariff_rows


class CardOverviewScreen(QWidget):
    buy_chosen = Signal()
    rewrite_chosen = Signal()
    bill_chosen = Signal()  # "Bill and usage": the account's bill, as an account card shows it

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(), "title")
        self.take_card = set_role(QLabel(), "subtitle")
        self.fields = {name: field_pair() for name in ("account", "card", "credit", "count", "meter")}
        self.limits_title = set_role(QLabel(), "fieldName")
        self.limits = Table()
        self.arrears = set_role(QLabel(wordWrap=True), "hint")
        self.tariff_title = set_role(QLabel(), "fieldName")
        self.tariff = Table()
        self.waiting = set_role(QLabel(wordWrap=True), "heading")  # a purchase paid, not on the card
        self.waiting_hint = set_role(QLabel(wordWrap=True), "subtitle")
        self.buy = set_role(QPushButton(), "primary")
        self.buy.clicked.connect(self.buy_chosen)
        self.rewrite = set_role(QPushButton(), "primary")
        self.rewrite.clicked.connect(self.rewrite_chosen)
        self.no_buy = set_role(QLabel(wordWrap=True), "degraded")
        self.no_buy.setMinimumWidth(760)
        self.bill = QPushButton()
        self.bill.clicked.connect(self.bill_chosen)
        self.nav = NavBar(self.no_buy, self.buy, self.rewrite, secondary=(self.bill,))
        self._lay_out()
        # Never all at once (the render shows one way on): hidden until then, so the screen's
        # least width is that of what is shown, not of every button side by side.
        for widget in (self.no_buy, self.rewrite, self._waiting_panel):
            widget.hide()

    def _lay_out(self) -> None:
        card, card_layout = panel()
        for name, value in self.fields.values():
            card_layout.addWidget(name)
            card_layout.addWidget(value)
        card_layout.addStretch(1)
        offer, offer_layout = panel()
        self._offer_panel = offer
        offer_layout.addWidget(self.limits_title)
        offer_layout.addWidget(self.limits)
        offer_layout.addSpacing(8)
        offer_layout.addWidget(self.arrears)
        offer_layout.addSpacing(16)
        offer_layout.addWidget(self.tariff_title)
        offer_layout.addWidget(self.tariff)
        offer_layout.addStretch(1)
        waiting, waiting_layout = panel()
        self._waiting_panel = waiting
        waiting_layout.addWidget(self.waiting)
        waiting_layout.addSpacing(12)
        waiting_layout.addWidget(self.waiting_hint)
        waiting_layout.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(24)
        body.addWidget(card, 2)
        body.addWidget(offer, 3)
        body.addWidget(waiting, 3)
        heading = QHBoxLayout()
        heading.addWidget(self.title)
        heading.addStretch(1)
        heading.addWidget(self.take_card)
        column = QVBoxLayout(self)
        column.setContentsMargins(60, 10, 60, 16)
        column.addLayout(heading)
        column.addLayout(body, 1)
        column.addSpacing(12)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        view = state.top_up
        if view is None or view.offer is None:
            self.wipe()
            return
        tr, offer = ctx.tr, view.offer
        reading = offer.reading
        self.title.setText(tr("top_up.card.title", utility=ctx.utility_name(reading.utility)))
        self.take_card.setText(tr("top_up.card.keep_in"))
        set_pair(self.fields["account"], tr("overview.account_no"), offer.account_masked)
        set_pair(self.fields["card"], tr("top_up.card.number"), card_masked(reading.card_serial))
        set_pair(self.fields["credit"], tr("top_up.card.credit"), yuan(reading.credit_fen))
        set_pair(self.fields["count"], tr("top_up.card.count"), str(reading.purchase_count))
        set_pair(self.fields["meter"], tr("top_up.card.meter"), _meter_report(ctx, reading))
        self._waiting_panel.setVisible(offer.rewrite_first)
        self._offer_panel.setVisible(not offer.rewrite_first)
        if offer.rewrite_first:
            self.waiting.setText(tr("top_up.card.waiting", count=len(offer.rewrite)))
            self.waiting_hint.setText(tr("top_up.card.waiting_hint", purchase_no=offer.rewrite[0]))
        else:
            self._render_limits(ctx, state)
        can_cash = ctx.services.cash
        self.bill.setText(tr("top_up.card.bill"))
        self.buy.setText(tr("top_up.card.buy"))
        self.buy.setVisible(view.can_buy and can_cash)
        self.rewrite.setText(tr("top_up.card.rewrite"))
        self.rewrite.setVisible(offer.rewrite_first)
        no_cash = view.can_buy and not can_cash
        self.no_buy.setText("⚠ " + tr(ctx.services.cash_off_key or "overview.no_cash") if no_cash else "")
        self.no_buy.setVisible(no_cash)

    def _render_limits(self, ctx: RenderContext, state: JourneyState) -> None:
        tr, limits = ctx.tr, state.top_up.offer.limits
        self.limits_title.setText(tr("top_up.card.limits"))
        self.limits.set_rows((tr("top_up.card.limit"), tr("top_up.card.amount")), [
            (tr("top_up.card.min"), yuan(limits.min_amount_fen)),
            (tr("top_up.card.max"), yuan(limits.max_amount_fen)),
            (tr("top_up.card.hoarding"), yuan(limits.hoarding_limit_fen)),
            (tr("top_up.card.held"), yuan(limits.held_fen)),
        ])
        if limits.arrears_fen and limits.arrears_first:
            self.arrears.setText("⚠ " + tr("top_up.card.arrears_first", arrears=yuan(limits.arrears_fen)))
        elif limits.arrears_fen:
            self.arrears.setText(tr("top_up.card.arrears", arrears=yuan(limits.arrears_fen)))
        else:
            self.arrears.setText(tr("overview.nothing_owed"))
        account = state.account
        self.tariff_title.setVisible(account is not None and bool(account.tariff_tiers))
        self.tariff_title.setText(tr("overview.tariff"))
        if account is not None and account.tariff_tiers:
            self.tariff.set_rows((tr("overview.tier"), tr("overview.tier_price", unit=ctx.unit_name(account.unit)),
                                  tr("overview.tier_range")), tariff_rows(account, ctx))
        else:
            self.tariff.clear()

    def wipe(self) -> None:
        for name, value in self.fields.values():
            name.clear()
            value.clear()
        for label in (self.title, self.waiting, self.waiting_hint, self.arrears):
            label.clear()
        self.limits.clear()
        self.tariff.clear()


def _meter_report(ctx: RenderContext, reading) -> str:
    """The meter's write-back (返写): what it last loaded and still holds, or that it has not reported."""
    if reading.meter_purchase_count is None or reading.meter_credit_fen is None:
        return ctx.tr("top_up.card.meter_none")
    return ctx.tr("top_up.card.meter_report", count=reading.meter_purchase_count,
                  credit=yuan(reading.meter_credit_fen))
