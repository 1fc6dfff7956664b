"""The cash collection page (清机): count the box against the journal, say why it differs, record, print.

Renders a :class:`~kiosk.cash_collection_view.CollectionView` and emits what
the collector asked for; :class:`kiosk.cash_collection.CashCollection` does
the work (the application wires one to the other and runs its blocking
calls on a worker thread).

Left: the table (tap a row's counted cell to count it), the notes the count
must settle, the note, "Record collection".  Right, by what is being done:
the keypad for the chosen row, the reasons and the text pad for the note, or
the result with "Print slip again".
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.cash_collection_view import CollectionView, Editing, Message, SlipState, Stage
from kiosk.i18n import yuan
from screens.context import RenderContext, set_role
from screens.keypad import Keypad
from screens.maintenance.collection_table import CountTable
from screens.maintenance.text_pad import TextPad

DOUBTS_SHOWN = 3  # the rest are on the slip
RIGHT_WIDTH = 800  # the text pad's ten keys and their gaps


def _label(role: str, wrap: bool = False, **properties: object) -> QLabel:
    label = set_role(QLabel(), role, **properties)
    label.setWordWrap(wrap)
    return label


def _button(role: str) -> QPushButton:
    return set_role(QPushButton(), role)


def _show_message(label: QLabel, ctx: RenderContext, message: Message | None) -> None:
    label.setVisible(message is not None)
    if message is not None:
        label.setText(message.text(ctx.tr))
        set_role(label, "maintMessage", tone=message.tone)


class _DoubtList(QWidget):
    """The notes the count settles (doubts), and the notes in the box that are in no payment."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = _label("maintHeading")
        self.lines = [_label("maintText") for _ in range(DOUBTS_SHOWN)]
        self.more = _label("maintMuted")
        self.outside = _label("maintText", wrap=True)
        for widget in (self.heading, *self.lines, self.more, self.outside):
            layout.addWidget(widget)

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        self.heading.setText(ctx.tr("maint.collection.doubts_title", count=len(view.doubts)) if view.doubts
                             else ctx.tr("maint.collection.no_doubts"))
        for line, doubt in zip(self.lines, (*view.doubts, *([None] * DOUBTS_SHOWN))):
            line.setVisible(doubt is not None)
            if doubt is not None:
                note = doubt.note or ctx.tr("maint.collection.unknown_note")
                line.setText(f"{doubt.at}  {note}  {doubt.kind.text(ctx.tr)}  {doubt.transaction_no}")
        more = len(view.doubts) - DOUBTS_SHOWN
        self.more.setVisible(more > 0)
        self.more.setText(ctx.tr("maint.collection.doubts_more", count=more))
        outside = [ctx.tr(key, count=sum(c for _, c in pairs), amount=yuan(sum(d * c for d, c in pairs)))
                   for key, pairs in (("maint.collection.test_notes", view.test_notes),
                                      ("maint.collection.unassigned", view.unassigned)) if pairs]
        self.outside.setText("\n".join(outside))
        self.outside.setVisible(bool(outside))


class _CountPanel(QWidget):
    """The keypad for the chosen row, and the notes the count must settle."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        self.heading = _label("maintHeading")
        self.typed = _label("maintTitle")
        heading.addWidget(self.heading)
        heading.addStretch(1)
        heading.addWidget(self.typed)
        self.keypad = Keypad()
        self.doubts = _DoubtList()
        layout.addLayout(heading)
        layout.addWidget(self.keypad)
        layout.addWidget(self.doubts)
        layout.addStretch(1)

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        row = next((r for r in view.rows if r.selected), None)
        self.heading.setText(ctx.tr("maint.collection.counting", note=row.note) if row
                             else ctx.tr("maint.collection.keypad_hint"))
        self.typed.setText((row.typed or "0") if row else "")
        self.typed.setVisible(row is not None)
        self.keypad.render(ctx)  # a digit with no row chosen is answered by the form: "tap a row first"
        self.doubts.render(ctx, view)


class _NotePanel(QWidget):
    """Preset reasons as chips, and the text pad for anything else."""

    phrase_toggled = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = _label("maintHeading")
        self.hint = _label("maintMuted", wrap=True)
        self._chips_grid = QGridLayout()
        self._chips_grid.setSpacing(8)
        self.chips: dict[str, QPushButton] = {}
        self.typed = _label("maintText", wrap=True)
        self.pad = TextPad()
        layout.addWidget(self.heading)
        layout.addWidget(self.hint)
        layout.addLayout(self._chips_grid)
        layout.addWidget(self.typed)
        layout.addWidget(self.pad)
        layout.addStretch(1)

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        self.heading.setText(ctx.tr("maint.collection.note_title"))
        self.hint.setText(ctx.tr("maint.collection.note_hint"))
        for index, phrase in enumerate(view.phrases):
            chip = self.chips.get(phrase.key)
            if chip is None:
                chip = self.chips[phrase.key] = _button("maintChip")
                chip.clicked.connect(lambda _=False, k=phrase.key: self.phrase_toggled.emit(k))
                self._chips_grid.addWidget(chip, index // 2, index % 2)
            chip.setText(ctx.tr(phrase.key))
            set_role(chip, "maintChip", chosen=phrase.chosen)
        self.typed.setText(f"{view.note_text}_")
        self.pad.render(ctx)
        if self.pad.text() != view.note_text:
            self.pad.blockSignals(True)
            self.pad.set_text(view.note_text)
            self.pad.blockSignals(False)


class _ResultPanel(QWidget):
    """The recorded collection: its number, whether the slip printed, and a reprint."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = _label("maintTitle")
        self.number = _label("maintHeading")
        self.slip = _label("maintMessage", wrap=True)
        self.reprint = _button("maintAction")
        self.doubts = _DoubtList()
        for widget in (self.title, self.number, self.slip, self.reprint, self.doubts):
            layout.addWidget(widget)
        layout.addStretch(1)

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        self.title.setText(ctx.tr("maint.collection.recorded_title"))
        self.number.setText(ctx.tr("maint.collection.number", number=view.number))
        _show_message(self.slip, ctx, view.slip_message)
        self.reprint.setText(ctx.tr("maint.collection.reprint"))
        self.reprint.setVisible(view.slip is not SlipState.NONE)
        self.doubts.render(ctx, view)


class CollectionPage(QWidget):
    row_chosen = Signal(int)  # denomination (fen) whose count the keypad now types
    digit_pressed = Signal(str)
    backspace_pressed = Signal()
    clear_pressed = Signal()
    note_edit_requested = Signal()
    phrase_toggled = Signal(str)  # a PHRASES key
    note_text_changed = Signal(str)  # the whole free text after every key
    record_requested = Signal()
    reprint_requested = Signal(str)  # the collection number
    reload_requested = Signal()  # read the journal again (after it was refused)

    def __init__(self) -> None:
        super().__init__()
        self._view: CollectionView | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 12)
        root.setSpacing(12)
        top = QHBoxLayout()
        self.title = _label("maintTitle")
        self.period = _label("maintMuted")
        self.collector = _label("maintMuted")
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.period)
        top.addSpacing(24)
        top.addWidget(self.collector)
        root.addLayout(top)
        self.message = _label("maintMessage", wrap=True)
        root.addWidget(self.message)
        body = QHBoxLayout()
        body.setSpacing(24)
        body.addLayout(self._left_column(), 1)
        body.addWidget(self._right_column())
        root.addLayout(body, 1)
        self._connect()

    def _left_column(self) -> QVBoxLayout:
        left = QVBoxLayout()
        left.setSpacing(12)
        self.table = CountTable()
        self.limit = _label("maintMuted", wrap=True)
        self.note = _label("maintText", wrap=True)
        left.addWidget(self.table)
        left.addWidget(self.limit)
        left.addStretch(1)
        left.addWidget(self.note)
        actions = QHBoxLayout()
        actions.setSpacing(12)
        self.write_note = _button("maintAction")
        self.record = _button("maintAction")
        self.reload = _button("maintAction")
        self.reprint_last = _button("maintAction")
        actions.addWidget(self.reprint_last)
        actions.addStretch(1)
        for button in (self.write_note, self.record, self.reload):
            actions.addWidget(button)
        left.addLayout(actions)
        return left

    def _right_column(self) -> QStackedWidget:
        self.right = QStackedWidget()
        self.right.setFixedWidth(RIGHT_WIDTH)
        self.count_panel, self.note_panel, self.result_panel = _CountPanel(), _NotePanel(), _ResultPanel()
        for panel in (self.count_panel, self.note_panel, self.result_panel, QWidget()):
            self.right.addWidget(panel)
        return self.right

    def _connect(self) -> None:
        self.table.row_chosen.connect(self.row_chosen)
        keypad = self.count_panel.keypad
        keypad.digit_pressed.connect(self.digit_pressed)
        keypad.backspace_pressed.connect(self.backspace_pressed)
        keypad.clear_pressed.connect(self.clear_pressed)
        self.note_panel.phrase_toggled.connect(self.phrase_toggled)
        self.note_panel.pad.text_changed.connect(self.note_text_changed)
        self.write_note.clicked.connect(self.note_edit_requested)
        self.record.clicked.connect(self.record_requested)
        self.reload.clicked.connect(self.reload_requested)
        self.result_panel.reprint.clicked.connect(lambda: self._reprint(self._view.number if self._view else ""))
        self.reprint_last.clicked.connect(
            lambda: self._reprint(self._view.last_number if self._view else ""))

    def _reprint(self, number: str) -> None:
        if number:
            self.reprint_requested.emit(number)

    def render(self, ctx: RenderContext, view: CollectionView) -> None:
        self._view = view
        counting, recorded = view.stage is Stage.COUNTING, view.stage is Stage.RECORDED
        self.title.setText(ctx.tr("maint.collection.title"))
        self.period.setText(ctx.tr("maint.collection.period", since=view.since) if view.since
                            else ctx.tr("maint.collection.period_start"))
        self.period.setVisible(counting or recorded)
        self.collector.setText(ctx.tr("maint.collection.collector", user=view.user))
        shown = view.message or (Message("maint.collection.loading") if view.stage is Stage.UNLOADED else None)
        _show_message(self.message, ctx, shown)
        self.table.setVisible(counting or recorded)
        self.limit.setText(ctx.tr("maint.collection.limit", limit=view.limit))
        self.limit.setVisible(counting)
        self.reprint_last.setText(ctx.tr("maint.collection.reprint_last", number=view.last_number))
        self.reprint_last.setVisible(counting and bool(view.last_number))
        if counting or recorded:
            self.table.render(ctx, view)
        self.note.setText(ctx.tr("maint.collection.note_label", note=view.note) if view.note
                          else ctx.tr("maint.collection.note_empty"))
        self.note.setVisible((counting or recorded) and (bool(view.note) or view.note_required))
        self.write_note.setText(ctx.tr("maint.collection.write_note"))
        self.write_note.setVisible(counting)
        self.record.setText(ctx.tr("maint.collection.record"))
        self.record.setVisible(counting)
        self.record.setEnabled(view.can_record)
        self.reload.setText(ctx.tr("maint.collection.reload"))
        self.reload.setVisible(view.stage is Stage.REFUSED)
        self._render_right(ctx, view)

    def _render_right(self, ctx: RenderContext, view: CollectionView) -> None:
        if view.stage is Stage.RECORDED:
            self.result_panel.render(ctx, view)
            self.right.setCurrentWidget(self.result_panel)
        elif view.stage is Stage.COUNTING and view.editing is Editing.NOTE:
            self.note_panel.render(ctx, view)
            self.right.setCurrentWidget(self.note_panel)
        elif view.stage is Stage.COUNTING:
            self.count_panel.render(ctx, view)
            self.right.setCurrentWidget(self.count_panel)
        else:
            self.right.setCurrentIndex(self.right.count() - 1)

    def wipe(self) -> None:
        """Forget the typed note (logout); the next render shows whatever the model holds then."""
        self.note_panel.pad.blockSignals(True)
        self.note_panel.pad.clear()
        self.note_panel.pad.blockSignals(False)
        self.note_panel.typed.clear()
        self.count_panel.typed.clear()
        self._view = None
