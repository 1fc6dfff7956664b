"""The outbox as a table on the operations page: payments waiting to be sent, then those referred;
or, with the purchase columns, the card purchases to follow (kiosk/purchase_view.py).

Only what the journal keeps in clear: transaction or purchase number, utility,
the masked account (and card), amount, state, attempts, the last failure's
code and how long it has waited.  A fixed number of rows (the page has no
scrolling on a touch screen): the count of the rest is said below it, or the
page shows the rows a page at a time.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk.i18n import Translator, yuan
from kiosk.outbox_view import OutboxRow, OutboxView
from kiosk.purchase_view import PurchaseRow, PurchaseView
from screens.context import RenderContext, set_role
from screens.maintenance.paging_row import show_paging

VISIBLE_ROWS = 6
PAYMENTS, PURCHASES = "payments", "purchases"  # the outbox panel's two lists
COLUMNS = (
    ("maint.ops.col.transaction", 5), ("maint.ops.col.utility", 2), ("maint.ops.col.account", 3),
    ("maint.ops.col.amount", 2), ("maint.ops.col.state", 2), ("maint.ops.col.attempts", 1),
    ("maint.ops.col.error", 4), ("maint.ops.col.age", 2),
)
PURCHASE_COLUMNS = (
    ("maint.purchases.col.purchase", 5), ("maint.ops.col.utility", 2), ("maint.ops.col.account", 3),
    ("maint.purchases.col.card", 4), ("maint.ops.col.amount", 2), ("maint.ops.col.state", 4),
    ("maint.purchases.col.writes", 1), ("maint.ops.col.attempts", 1), ("maint.purchases.col.why", 4),
    ("maint.purchases.col.age", 2),
)
_NUMBERS = ("maint.ops.col.amount", "maint.ops.col.attempts", "maint.purchases.col.writes")  # right-aligned
STATE_KEYS = {
    "committed": "maint.ops.state.committed",
    "pending": "maint.ops.state.pending",
    "referred": "maint.ops.state.referred",
}
PURCHASE_STATE_KEYS = {  # the states a purchase to follow can be in (kiosk/purchase_view.py)
    "committed": "maint.purchases.state.committed",
    "paid": "maint.purchases.state.paid",
    "issued": "maint.purchases.state.issued",
    "write_failed": "maint.purchases.state.write_failed",
    "written": "maint.purchases.state.written",
    "rewritten": "maint.purchases.state.rewritten",
    "referred": "maint.purchases.state.referred",
}
LIST_KEYS = {PAYMENTS: "maint.purchases.tab.payments", PURCHASES: "maint.purchases.tab.purchases"}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def age_text(tr: Translator, seconds: float) -> str:
    """How long, as a person says it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    whole = int(seconds)
    if whole < 60:
        return tr("maint.ops.age.seconds", n=whole)
    if whole < 3600:
        return tr("maint.ops.age.minutes", n=whole // 60)
    if whole < 86_400:
        return tr("maint.ops.age.hours", h=whole // 3600, m=whole % 3600 // 60)
    return tr("maint.ops.age.days", d=whole // 86_400, h=whole % 86_400 // 3600)


def row_cells(ctx: RenderContext, row: OutboxRow) -> tuple[str, ...]:
    """One row's texts, in the order of :data:`COLUMNS`."""
    state = ctx.tr(STATE_KEYS[row.state]) if row.state in STATE_KEYS else row.state
    return (row.transaction_no, ctx.utility_name(row.utility), row.account_masked, yuan(row.amount_fen), state,
            str(row.attempts), row.error_code or "—", age_text(ctx.tr, row.age_s))


def purchase_cells(ctx: RenderContext, row: PurchaseRow) -> tuple[str, ...]:
    """One card purchase's texts, in the order of :data:`PURCHASE_COLUMNS`; "why" is the reason
    it is not on the card and the last posting failure's code, whichever there are."""
    key = PURCHASE_STATE_KEYS.get(row.state)
    why = " · ".join(part for part in (row.reason, row.error_code) if part) or "—"
    return (row.purchase_no, ctx.utility_name(row.utility), row.account_masked, row.card_masked,
            yuan(row.amount_fen), ctx.tr(key) if key else row.state, str(row.write_attempts),
            str(row.attempts), why, age_text(ctx.tr, row.age_s))


class OutboxTable(QWidget):
    """``columns``: (catalogue key of the heading, stretch) each; :data:`COLUMNS` for the payments."""

    def __init__(self, columns: tuple[tuple[str, int], ...] = COLUMNS) -> None:
        super().__init__()
        self.columns = columns
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.grid = grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.heads = [self._cell(grid, 0, n, "maintCellHead") for n in range(len(columns))]
        self.cells = [[self._cell(grid, r + 1, n, "maintCell") for n in range(len(columns))]
                      for r in range(VISIBLE_ROWS)]
        for n, (_, stretch) in enumerate(columns):
            grid.setColumnStretch(n, stretch)
        column.addLayout(grid)
        self.empty = set_role(QLabel(objectName="outboxEmpty"), "maintMuted")
        self.more = set_role(QLabel(objectName="outboxMore"), "maintMuted")
        column.addWidget(self.empty)
        column.addWidget(self.more)
        column.addStretch(1)

    def _cell(self, grid: QGridLayout, row: int, column: int, role: str) -> QLabel:
        label = set_role(QLabel(), role)
        label.setAlignment(_RIGHT if self.columns[column][0] in _NUMBERS else _LEFT)
        label.setMinimumHeight(40)
        grid.addWidget(label, row, column)
        return label

    def render(self, ctx: RenderContext, outbox: OutboxView | None) -> None:
        """The payments: the first rows, and how many more there are."""
        rows = () if outbox is None else outbox.waiting + outbox.referred
        hidden = len(rows) - VISIBLE_ROWS
        self.show_rows(ctx, tuple(row_cells(ctx, row) for row in rows[:VISIBLE_ROWS]),
                       ctx.tr("maint.ops.outbox.journal_off") if outbox is None else ctx.tr("maint.ops.outbox.empty"),
                       ctx.tr("maint.ops.outbox.more", count=hidden) if hidden > 0 else "")

    def show_rows(self, ctx: RenderContext, rows: tuple[tuple[str, ...], ...], empty: str, more: str = "") -> None:
        """At most :data:`VISIBLE_ROWS` rows of texts; ``empty`` said when there is none, ``more`` below."""
        for label, (key, _) in zip(self.heads, self.columns):
            label.setText(ctx.tr(key))
            label.setVisible(bool(rows))
        for cells, texts in zip(self.cells, rows + (None,) * VISIBLE_ROWS):
            for label, text in zip(cells, texts or ("",) * len(self.columns)):
                label.setText(text)
                label.setVisible(texts is not None)
        self.empty.setText(empty)
        self.empty.setVisible(not rows)
        self.more.setText(more)
        self.more.setVisible(bool(more))
        # Rows hidden while this table is the stack's hidden page do not tell its layout, which would
        # keep the height of rows gone and push the panel (and the page) taller than it is.
        self.grid.invalidate()
        self.layout().invalidate()
        self.updateGeometry()


class OutboxPanel(QFrame):
    """The operations page's outbox panel: the payments' list or the card purchases' (one at a
    time, chosen by two chips, so the page keeps its height), "Refresh" and "Sync now".  The
    purchases are shown a page at a time; the choice and the page are forgotten at :meth:`wipe`."""

    def __init__(self) -> None:
        super().__init__(objectName="opsOutbox")
        set_role(self, "maintPanel")
        self._list, self._page = PAYMENTS, 0
        self._last: tuple | None = None  # the last render's arguments: a chip tapped renders again
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 14, 20, 14)
        column.setSpacing(10)
        head = QHBoxLayout()
        self.heading = set_role(QLabel(objectName="opsOutboxHeading", wordWrap=True), "maintHeading")
        head.addWidget(self.heading, 1)
        self.list_chips = {name: self._button(f"opsList_{name}", "maintChip") for name in (PAYMENTS, PURCHASES)}
        for name, chip in self.list_chips.items():
            chip.clicked.connect(lambda _=False, name=name: self._choose(name, 0))
        self.previous_page = self._button("opsPreviousPage", "maintChip")
        self.next_page = self._button("opsNextPage", "maintChip")
        self.page_label = set_role(QLabel(objectName="opsPageLabel"), "maintMuted")
        self.previous_page.clicked.connect(lambda: self._choose(self._list, self._page - 1))
        self.next_page.clicked.connect(lambda: self._choose(self._list, self._page + 1))
        self.refresh, self.sync = self._button("opsRefresh"), self._button("opsSync")
        for widget in (*self.list_chips.values(), self.previous_page, self.page_label, self.next_page):
            head.addWidget(widget)
        for widget in (self.refresh, self.sync):
            head.addSpacing(8)
            head.addWidget(widget)
        column.addLayout(head)
        self.tables = QStackedWidget()
        self.table, self.purchase_table = OutboxTable(), OutboxTable(PURCHASE_COLUMNS)
        self.tables.addWidget(self.table)
        self.tables.addWidget(self.purchase_table)
        column.addWidget(self.tables, 1)

    @staticmethod
    def _button(name: str, role: str = "maintAction") -> QPushButton:
        return set_role(QPushButton(objectName=name), role)

    @property
    def showing(self) -> str:
        return self._list

    def _choose(self, name: str, page: int) -> None:
        self._list, self._page = name, page
        if self._last is not None:
            self.render(*self._last)

    def render(self, ctx: RenderContext, outbox: OutboxView | None, purchases: PurchaseView | None,
               busy: bool = False) -> None:
        self._last = (ctx, outbox, purchases, busy)
        tr = ctx.tr
        on_purchases = self._list == PURCHASES and purchases is not None
        if outbox is None:
            self.heading.setText(tr("maint.ops.outbox.heading_off"))
        elif on_purchases:
            self.heading.setText(tr("maint.purchases.heading", not_written=purchases.not_written,
                                    amount=yuan(purchases.not_written_fen), referred=purchases.referred,
                                    queued=purchases.queued))
        else:
            self.heading.setText(tr("maint.ops.outbox.heading", count=len(outbox.waiting),
                                    amount=yuan(outbox.waiting_fen), referred=len(outbox.referred)))
        self.refresh.setText(tr("maint.ops.refresh"))
        self.sync.setText(tr("maint.ops.sync.button"))
        counts = {PAYMENTS: len(outbox.waiting) + len(outbox.referred) if outbox else 0,
                  PURCHASES: purchases.total if purchases else 0}
        for name, chip in self.list_chips.items():
            chip.setText(tr(LIST_KEYS[name], count=counts[name]))
            set_role(chip, "maintChip", chosen=name == self._list)
            chip.setVisible(purchases is not None)  # no journal: no list to choose
        self.table.render(ctx, outbox)
        self._render_purchases(ctx, purchases, on_purchases, busy)
        self.tables.setCurrentWidget(self.purchase_table if on_purchases else self.table)

    def _render_purchases(self, ctx: RenderContext, purchases: PurchaseView | None, shown: bool, busy: bool) -> None:
        """A page of the newest card purchases; those older than the view holds are counted below."""
        tr = ctx.tr
        rows = purchases.rows if purchases is not None else ()
        pages = max(1, -(-len(rows) // VISIBLE_ROWS))
        self._page = page = min(max(self._page, 0), pages - 1)
        older = purchases.total - len(rows) if purchases is not None else 0
        self.purchase_table.show_rows(
            ctx, tuple(purchase_cells(ctx, row) for row in rows[page * VISIBLE_ROWS:(page + 1) * VISIBLE_ROWS]),
            tr("maint.purchases.empty"), tr("maint.purchases.older", count=older) if older > 0 else "")
        show_paging(self.previous_page, self.next_page, self.page_label, page, pages if shown else 1,
                    (tr("maint.purchases.previous_page"), tr("maint.purchases.next_page"),
                     tr("maint.purchases.page_of", page=page + 1, pages=pages)), enabled=not busy)

    def wipe(self) -> None:
        """Logout: the next person starts on the payments' list."""
        self._list, self._page, self._last = PAYMENTS, 0, None
