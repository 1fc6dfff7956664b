"""Step 3: the account overview — masked holder, what is owed, bills, usage, tariff."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from contract.bill_standing import Standing, bill_standings
from contract.models import Account
from kiosk.i18n import yuan
from kiosk.journey_state import JourneyState
from contract.masking import mask_account
from screens.context import RenderContext, set_role
from screens.nav_bar import NavBar
from screens.usage_chart import UsageChart

RECENT_BILLS_SHOWN = 5


def panel() -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame(objectName="card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(24, 14, 24, 14)
    layout.setSpacing(4)
    return frame, layout


class Table(QWidget):
    """A few rows of labels; rebuilt on each render, emptied on wipe."""

    def __init__(self) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(28)
        self.grid.setVerticalSpacing(2)

    def set_rows(self, head: tuple[str, ...], rows: list[tuple[str, ...]], marks: list[str] | None = None) -> None:
        """``marks``: per row, a ``billStatus`` for the last cell (what is still owed stands out)."""
        self.clear()
        for column, text in enumerate(head):
            self.grid.addWidget(set_role(QLabel(text), "tableHead"), 0, column)
        for row_index, row in enumerate(rows, start=1):
            for column, text in enumerate(row):
                align = Qt.AlignmentFlag.AlignRight if column == 1 else Qt.AlignmentFlag.AlignLeft
                label = set_role(QLabel(text), "tableCell")
                label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if marks is not None and column == len(row) - 1:
                    label.setProperty("billStatus", marks[row_index - 1])
                self.grid.addWidget(label, row_index, column)

    def clear(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()

    def texts(self) -> list[str]:
        return [self.grid.itemAt(i).widget().text() for i in range(self.grid.count())]


class OverviewScreen(QWidget):
    pay_chosen = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(), "title")
        self.take_card = set_role(QLabel(), "subtitle")  # after a card: take it back
        self.holder = field_pair()
        self.account_no = field_pair()
        self.address = field_pair()
        self.arrears_name = set_role(QLabel(), "fieldName")
        self.arrears = set_role(QLabel(), "bigAmount")
        self.balance = field_pair()
        self.chart_title = set_role(QLabel(), "fieldName")
        self.chart = UsageChart()
        self.bills_title = set_role(QLabel(), "fieldName")
        self.bills = Table()
        self.tariff_title = set_role(QLabel(), "fieldName")
        self.tariff = Table()
        self.pay = set_role(QPushButton(), "primary")
        self.pay.clicked.connect(self.pay_chosen)
        # Where "Pay" would be when cash cannot be taken: why, and where to pay instead.
        self.no_pay = set_role(QLabel(wordWrap=True), "degraded")
        self.no_pay.setMinimumWidth(760)
        self.nav = NavBar(self.no_pay, self.pay)
        self._lay_out()

    def _lay_out(self) -> None:
        who, who_layout = panel()
        for name, value in (self.holder, self.account_no, self.address, self.balance):
            who_layout.addWidget(name)
            who_layout.addWidget(value)
        who_layout.addWidget(self.arrears_name)
        who_layout.addWidget(self.arrears)
        who_layout.addStretch(1)

        chart, chart_layout = panel()
        self._chart_card = chart
        chart_layout.addWidget(self.chart_title)
        chart_layout.addWidget(self.chart, 1)
        bills, bills_layout = panel()
        bills_layout.addWidget(self.bills_title)
        bills_layout.addWidget(self.bills)
        bills_layout.addStretch(1)
        tariff, tariff_layout = panel()
        self._tariff_card = tariff
        tariff_layout.addWidget(self.tariff_title)
        tariff_layout.addWidget(self.tariff)
        tariff_layout.addStretch(1)

        lower = QHBoxLayout()
        lower.setSpacing(24)
        lower.addWidget(bills, 1)
        lower.addWidget(tariff, 1)
        right = QVBoxLayout()
        right.setSpacing(24)
        right.addWidget(chart, 1)
        right.addLayout(lower)
        body = QHBoxLayout()
        body.setSpacing(24)
        body.addWidget(who, 2)
        body.addLayout(right, 5)
        column = QVBoxLayout(self)
        column.setContentsMargins(60, 10, 60, 16)
        heading = QHBoxLayout()
        heading.addWidget(self.title)
        heading.addStretch(1)
        heading.addWidget(self.take_card)
        column.addLayout(heading)
        column.addLayout(body, 1)
        column.addSpacing(12)
        column.addWidget(self.nav)

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        self.nav.render(ctx)
        account = state.account
        if account is None:
            self.wipe()
            return
        tr = ctx.tr
        self.pay.setText(tr("overview.pay"))
        # Cash only when the acceptor works, and never into a closed account.
        self.pay.setVisible(ctx.services.cash and not account.closed)
        no_cash = not ctx.services.cash and not account.closed
        self.no_pay.setText("⚠ " + tr(ctx.services.cash_off_key or "overview.no_cash") if no_cash else "")
        self.no_pay.setVisible(no_cash)
        self.title.setText(tr("overview.title", utility=ctx.utility_name(account.utility)))
        self.take_card.setText(tr("card.take_back") if state.by_card else "")
        # Elder mode: fewer things at once — what is owed, the bills, and Pay.
        self._chart_card.setVisible(not state.elder)
        self._tariff_card.setVisible(not state.elder)
        set_pair(self.holder, tr("overview.holder"), account.holder_masked)
        set_pair(self.account_no, tr("overview.account_no"), mask_account(account.account_no))
        set_pair(self.address, tr("overview.address"), account.address_masked)
        set_pair(self.balance, tr("overview.balance"), yuan(account.balance_fen))
        owes = account.arrears_fen > 0
        self.arrears_name.setText(tr("overview.arrears") if owes else tr("overview.nothing_owed"))
        self.arrears.setText(yuan(account.arrears_fen))
        set_role(self.arrears, "bigAmount", settled="false" if owes else "true")
        self.chart_title.setText(tr("overview.usage", unit=ctx.unit_name(account.unit)) + _period(ctx, account))
        self.chart.set_usage(account.usage, ctx.unit_name(account.unit), tr("overview.no_usage"),
                             month_label=lambda month: tr(f"month.{month}"))
        self.bills_title.setText(tr("overview.recent_bills", count=min(RECENT_BILLS_SHOWN, len(account.bills))))
        self.bills.set_rows(
            (tr("overview.bill_period"), tr("overview.bill_amount"), tr("overview.bill_status")),
            *_bill_rows_and_marks(account, tr),
        )
        self.tariff_title.setText(tr("overview.tariff"))
        self.tariff.set_rows(
            (tr("overview.tier"), tr("overview.tier_price", unit=ctx.unit_name(account.unit)), tr("overview.tier_range")),
            tariff_rows(account, ctx),
        )

    def wipe(self) -> None:
        for name, value in (self.holder, self.account_no, self.address, self.balance):
            name.clear()
            value.clear()
        self.title.clear()
        self.arrears.clear()
        self.arrears_name.clear()
        self.chart.set_usage((), "")
        self.bills.clear()
        self.tariff.clear()


def field_pair() -> tuple[QLabel, QLabel]:
    return set_role(QLabel(), "fieldName"), set_role(QLabel(wordWrap=True), "fieldValue")


def set_pair(pair: tuple[QLabel, QLabel], name: str, value: str) -> None:
    pair[0].setText(name)
    pair[1].setText(value)


def _bill_rows_and_marks(account: Account, tr) -> tuple[list[tuple[str, ...]], list[str]]:
    """The recent bills' rows, and per row its standing, which marks the status cell of a bill still owed."""
    rows, marks = [], []
    for standing in bill_standings(account)[:RECENT_BILLS_SHOWN]:
        status = (tr("overview.bill_partly_paid", owed=yuan(standing.owed_fen))
                  if standing.standing is Standing.PARTLY_PAID else tr("overview.bill_" + standing.standing))
        rows.append((standing.bill.period, yuan(standing.bill.amount_fen), status))
        marks.append(standing.standing)
    return rows, marks


def tariff_rows(account: Account, ctx: RenderContext) -> list[tuple[str, ...]]:
    rows = []
    lower = 0.0
    for tier in account.tariff_tiers:
        name = tier.name_zh if ctx.lang == "zh" else tier.name_en
        price = f"¥{tier.price_fen_per_unit / 100:.4f}"
        if tier.up_to is None:
            span = ctx.tr("overview.tier_above", lower=f"{lower:g}")
        else:
            span = f"{lower:g}–{tier.up_to:g}"
            lower = tier.up_to
        rows.append((name, price, span))
    return rows


def _period(ctx: RenderContext, account) -> str:
    """" · 2025年12月–2026年11月": which months the twelve bars are, with their years."""
    months = [m.month for m in account.usage if len(m.month) >= 7]
    if not months:
        return ""

    def name(year_month: str) -> str:
        return ctx.tr("month.with_year", year=year_month[:4], month=ctx.tr(f"month.{int(year_month[5:7])}"))
    return f" · {name(months[0])}–{name(months[-1])}"

