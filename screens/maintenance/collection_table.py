"""The collection page's table: per denomination what the journal expects, what was counted, the difference.

Each row's counted cell is a button: a tap chooses the row, and the keypad
beside the table types its count.  Once the collection is recorded the
figures are plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from kiosk.cash_collection_view import CollectionView, CountRow, Stage
from kiosk.collection_slip import signed, signed_yuan
from kiosk.i18n import yuan
from screens.context import RenderContext, set_role

HEADERS = ("maint.collection.col_note", "maint.collection.col_expected_count", "maint.collection.col_expected_amount",
           "maint.collection.col_counted", "maint.collection.col_difference")
NONE_YET = "—"
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def difference_text(count: int | None, fen: int | None) -> str:
    if count is None or fen is None:
        return NONE_YET
    return "0" if count == 0 and fen == 0 else f"{signed(count)} · {signed_yuan(fen)}"


class _Row:
    """The widgets of one denomination's row."""

    def __init__(self, grid: QGridLayout, line: int, chosen) -> None:
        self.note = set_role(QLabel(), "maintCell")
        self.expected_count = set_role(QLabel(), "maintCell")
        self.expected_amount = set_role(QLabel(), "maintCell")
        self.counted = set_role(QPushButton(), "maintChip")
        self.counted.setMinimumWidth(200)
        self.counted.clicked.connect(chosen)
        self.counted_text = set_role(QLabel(), "maintCell")
        self.difference = set_role(QLabel(), "maintCell")
        for label in (self.expected_count, self.expected_amount, self.counted_text, self.difference):
            label.setAlignment(_RIGHT)
        for column, widget in enumerate((self.note, self.expected_count, self.expected_amount)):
            grid.addWidget(widget, line, column)
        grid.addWidget(self.counted, line, 3)
        grid.addWidget(self.counted_text, line, 3)
        grid.addWidget(self.difference, line, 4)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.note, self.expected_count, self.expected_amount, self.counted, self.counted_text,
                self.difference)


class CountTable(QWidget):
    row_chosen = Signal(int)  # denomination in fen

    def __init__(self) -> None:
        super().__init__()
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(12)  # buttons stay 8 px apart however the rows are squeezed
        self._heads = [set_role(QLabel(), "maintCellHead") for _ in HEADERS]
        for column, head in enumerate(self._heads):
            self._grid.addWidget(head, 0, column)
            if column:
                head.setAlignment(_RIGHT)
        self.rows: dict[int, _Row] = {}
        self._total: _Row | None = None

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        for head, key in zip(self._heads, HEADERS):
            head.setText(ctx.tr(key))
        denominations = tuple(row.denomination_fen for row in view.rows)
        if denominations != tuple(self.rows):
            self._rebuild(denominations)
        editable = view.stage is Stage.COUNTING
        for row in view.rows:
            self._fill(ctx, self.rows[row.denomination_fen], row, editable)
        total = self._total
        total.note.setText(ctx.tr("maint.collection.total"))
        total.expected_count.setText(f"{view.expected_count:,}")
        total.expected_amount.setText(yuan(view.expected_fen))
        total.counted_text.setText(NONE_YET if view.counted_fen is None
                                   else f"{view.counted_count:,} · {yuan(view.counted_fen)}")
        total.difference.setText(NONE_YET if view.difference_fen is None
                                 else signed_yuan(view.difference_fen) if view.difference_fen else "0")

    def _fill(self, ctx: RenderContext, widgets: _Row, row: CountRow, editable: bool) -> None:
        widgets.note.setText(row.note)
        widgets.expected_count.setText(f"{row.expected_count:,}")
        widgets.expected_amount.setText(yuan(row.expected_fen))
        widgets.counted.setText(row.typed or ctx.tr("maint.collection.tap_to_count"))
        set_role(widgets.counted, "maintChip", chosen=row.selected)
        widgets.counted.setVisible(editable)
        widgets.counted_text.setText(row.typed or NONE_YET)
        widgets.counted_text.setVisible(not editable)
        widgets.difference.setText(difference_text(row.difference_count, row.difference_fen))

    def _rebuild(self, denominations: tuple[int, ...]) -> None:
        for row in [*self.rows.values(), *([self._total] if self._total else [])]:
            for widget in row.widgets():
                widget.hide()  # at once: the deletion waits for the event loop
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = {}
        for line, denomination in enumerate(denominations, start=1):
            self.rows[denomination] = _Row(self._grid, line, lambda _=False, d=denomination: self.row_chosen.emit(d))
        self._total = _Row(self._grid, len(denominations) + 1, lambda: None)
        self._total.counted.hide()
        for label in (self._total.note, self._total.expected_count, self._total.expected_amount,
                      self._total.counted_text, self._total.difference):
            set_role(label, "maintCellHead")
