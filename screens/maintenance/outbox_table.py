"""The outbox as a table on the operations page: payments waiting to be sent, then those referred.

Only what the journal keeps in clear: transaction number, utility, the masked
account, amount, state, attempts, the last failure's code and how long it has
waited.  A fixed number of rows (the page has no scrolling on a touch screen);
the count of the rest is said below it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import Translator, yuan
from kiosk.outbox_view import OutboxRow, OutboxView
from screens.context import RenderContext, set_role

VISIBLE_ROWS = 6
COLUMNS = (
    ("maint.ops.col.transaction", 5), ("maint.ops.col.utility", 2), ("maint.ops.col.account", 3),
    ("maint.ops.col.amount", 2), ("maint.ops.col.state", 2), ("maint.ops.col.attempts", 1),
    ("maint.ops.col.error", 4), ("maint.ops.col.age", 2),
)
STATE_KEYS = {
    "committed": "maint.ops.state.committed",
    "pending": "maint.ops.state.pending",
    "referred": "maint.ops.state.referred",
}
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


class OutboxTable(QWidget):
    def __init__(self) -> None:
        super().__init__()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.heads = [self._cell(grid, 0, n, "maintCellHead") for n in range(len(COLUMNS))]
        self.cells = [[self._cell(grid, r + 1, n, "maintCell") for n in range(len(COLUMNS))]
                      for r in range(VISIBLE_ROWS)]
        for n, (_, stretch) in enumerate(COLUMNS):
            grid.setColumnStretch(n, stretch)
        column.addLayout(grid)
        self.empty = set_role(QLabel(objectName="outboxEmpty"), "maintMuted")
        self.more = set_role(QLabel(objectName="outboxMore"), "maintMuted")
        column.addWidget(self.empty)
        column.addWidget(self.more)
        column.addStretch(1)

    @staticmethod
    def _cell(grid: QGridLayout, row: int, column: int, role: str) -> QLabel:
        label = set_role(QLabel(), role)
        label.setAlignment(_RIGHT if COLUMNS[column][0] in ("maint.ops.col.amount", "maint.ops.col.attempts")
                           else _LEFT)
        label.setMinimumHeight(40)
        grid.addWidget(label, row, column)
        return label

    def render(self, ctx: RenderContext, outbox: OutboxView | None) -> None:
        for label, (key, _) in zip(self.heads, COLUMNS):
            label.setText(ctx.tr(key))
        rows = () if outbox is None else outbox.waiting + outbox.referred
        for cells, row in zip(self.cells, rows + (None,) * VISIBLE_ROWS):
            texts = row_cells(ctx, row) if row is not None else ("",) * len(COLUMNS)
            for label, text in zip(cells, texts):
                label.setText(text)
                label.setVisible(row is not None)
        for label in self.heads:
            label.setVisible(bool(rows))
        self.empty.setText(ctx.tr("maint.ops.outbox.journal_off") if outbox is None
                           else ctx.tr("maint.ops.outbox.empty"))
        self.empty.setVisible(not rows)
        hidden = len(rows) - VISIBLE_ROWS
        self.more.setText(ctx.tr("maint.ops.outbox.more", count=hidden) if hidden > 0 else "")
        self.more.setVisible(hidden > 0)
