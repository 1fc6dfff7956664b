"""The repair record page of the maintenance screen: device, what was done, parts, faults it clears.

Renders a :class:`~kiosk.repair_form.RepairFormView` and emits what the
technician tapped; :class:`kiosk.repair_form.RepairForm` holds the form (the
application wires the signals to it and runs ``load`` and ``save`` on a
worker).  No keyboard and no IME on the kiosk: preset phrases as chips in
the screen's language, and the text pad for anything else.

Left: device chips, the phrases, the parts, the faults, "Save".  Right: which
text the pad types into, what was typed, the pad.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drivers.status import ACCEPTOR, CARD_READER, PRINTER
from kiosk.repair_form import PARTS, WHAT_WAS_DONE, RepairFormView, TextField
from screens.context import RenderContext, set_role
from screens.maintenance.device_words import DEVICE_NAMES, when
from screens.maintenance.fixed_column import FixedColumn
from screens.maintenance.text_pad import TextPad

WHAT_COLUMNS = 3
PARTS_COLUMNS = 3
FAULT_COLUMNS = 1  # a fault chip names code, time and standing: two side by side squeeze into each other
FAULTS_SHOWN = 3
RIGHT_WIDTH = 800  # the text pad's ten keys and their 8 px gaps
LEFT_WIDTH = 1640 - 2 * 24 - RIGHT_WIDTH - 24


def _label(role: str, wrap: bool = True) -> QLabel:
    label = set_role(QLabel(), role)
    label.setWordWrap(wrap)
    return label


def _chip(name: str) -> QPushButton:
    chip = set_role(QPushButton(), "maintChip", chosen=False)
    chip.setObjectName(name)
    return chip


def _chip_grid(chips: list[QPushButton], columns: int) -> QGridLayout:
    grid = QGridLayout()
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(8)
    for index, chip in enumerate(chips):
        grid.addWidget(chip, index // columns, index % columns)
    return grid


class RepairPageWidget(QWidget):
    device_chosen = Signal(str)
    what_toggled = Signal(str)  # a preset phrase's key
    part_toggled = Signal(str)
    fault_toggled = Signal(int)  # a fault's id
    typing_into = Signal(str)  # "note" or "parts"
    text_typed = Signal(str)  # the pad's whole text, for the field it types into
    save_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._view: RepairFormView | None = None
        page = QVBoxLayout(self)
        page.setContentsMargins(24, 16, 24, 16)
        page.setSpacing(12)
        page.addLayout(self._top_row())
        columns = QHBoxLayout()
        columns.setSpacing(24)
        columns.addWidget(FixedColumn(LEFT_WIDTH, self._choices()), 0, Qt.AlignmentFlag.AlignTop)
        columns.addWidget(FixedColumn(RIGHT_WIDTH, self._typing()), 0, Qt.AlignmentFlag.AlignTop)
        page.addLayout(columns, 1)

    # -- building ------------------------------------------------------------------------
    def _top_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.title = _label("maintTitle", wrap=False)
        row.addWidget(self.title)
        row.addSpacing(24)
        self.device_chips = {}
        for device in (ACCEPTOR, PRINTER, CARD_READER):
            chip = _chip(f"repairDevice_{device}")
            chip.clicked.connect(lambda _=False, d=device: self.device_chosen.emit(str(d)))
            self.device_chips[device] = chip
            row.addWidget(chip)
        row.addStretch(1)
        return row

    def _choices(self) -> QVBoxLayout:
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        most_phrases = max(len(p) for p in WHAT_WAS_DONE.values())
        most_parts = max(len(p) for p in PARTS.values())
        self.what_heading = _label("maintHeading", wrap=False)
        self.what_chips = [_chip(f"repairWhat_{i}") for i in range(most_phrases)]
        self.parts_heading = _label("maintHeading", wrap=False)
        self.part_chips = [_chip(f"repairPart_{i}") for i in range(most_parts)]
        self.faults_heading = _label("maintHeading", wrap=False)
        self.fault_chips = [_chip(f"repairFault_{i}") for i in range(FAULTS_SHOWN)]
        self.faults_note = _label("maintMuted")
        for index, chip in enumerate(self.what_chips):
            chip.clicked.connect(lambda _=False, i=index: self._tapped(self.what_toggled, "what", i))
        for index, chip in enumerate(self.part_chips):
            chip.clicked.connect(lambda _=False, i=index: self._tapped(self.part_toggled, "parts", i))
        for index, chip in enumerate(self.fault_chips):
            chip.clicked.connect(lambda _=False, i=index: self._fault_tapped(i))
        layout.addWidget(self.what_heading)
        layout.addLayout(_chip_grid(self.what_chips, WHAT_COLUMNS))
        layout.addWidget(self.parts_heading)
        layout.addLayout(_chip_grid(self.part_chips, PARTS_COLUMNS))
        layout.addWidget(self.faults_heading)
        layout.addLayout(_chip_grid(self.fault_chips, FAULT_COLUMNS))
        layout.addWidget(self.faults_note)
        save_row = QHBoxLayout()
        self.save = set_role(QPushButton(), "maintAction")
        self.save.setObjectName("saveRepair")
        self.save.clicked.connect(self.save_requested.emit)
        save_row.addWidget(self.save)
        save_row.addStretch(1)
        layout.addLayout(save_row)
        self.message = _label("maintMessage")
        layout.addWidget(self.message)
        return layout

    def _typing(self) -> QVBoxLayout:
        layout = QVBoxLayout()
        layout.setSpacing(10)
        self.type_heading = _label("maintHeading")
        row = QHBoxLayout()
        row.setSpacing(8)
        self.field_chips = {}
        for text_field in TextField:
            chip = _chip(f"typeInto_{text_field}")
            chip.clicked.connect(lambda _=False, f=text_field: self.typing_into.emit(str(f)))
            self.field_chips[text_field] = chip
            row.addWidget(chip)
        row.addStretch(1)
        self.typed_note = _label("maintText")
        self.typed_parts = _label("maintText")
        self.pad = TextPad(max_len=160)
        self.pad.text_changed.connect(self.text_typed.emit)
        layout.addWidget(self.type_heading)
        layout.addLayout(row)
        layout.addWidget(self.typed_note)
        layout.addWidget(self.typed_parts)
        layout.addWidget(self.pad)
        layout.addStretch(1)
        return layout

    # -- taps -----------------------------------------------------------------------------
    def _tapped(self, signal, kind: str, index: int) -> None:
        view = self._view
        if view is None:
            return
        choices = view.what if kind == "what" else view.parts
        if index < len(choices):
            signal.emit(choices[index].key)

    def _fault_tapped(self, index: int) -> None:
        if self._view is not None and index < len(self._view.faults):
            self.fault_toggled.emit(self._view.faults[index].fault.id)

    def wipe(self) -> None:
        """Logout: the pad and everything drawn of the last form are cleared."""
        self._view = None
        self.pad.blockSignals(True)
        self.pad.clear()
        self.pad.blockSignals(False)
        self.typed_note.clear()
        self.typed_parts.clear()
        self.message.clear()

    # -- rendering ----------------------------------------------------------------------------
    def render(self, ctx: RenderContext, view: RepairFormView) -> None:
        self._view = view
        tr = ctx.tr
        self.title.setText(tr("maint.repair.title"))
        for device, chip in self.device_chips.items():
            chip.setVisible(device in view.devices)
            chip.setText(tr(DEVICE_NAMES[device]))
            set_role(chip, "maintChip", chosen=device == view.device)
        self.what_heading.setText(tr("maint.repair.what_heading"))
        self.parts_heading.setText(tr("maint.repair.parts_heading"))
        for chips, choices in ((self.what_chips, view.what), (self.part_chips, view.parts)):
            for index, chip in enumerate(chips):
                choice = choices[index] if index < len(choices) else None
                chip.setVisible(choice is not None)
                if choice is not None:
                    chip.setText(tr(choice.label_key))
                    set_role(chip, "maintChip", chosen=choice.chosen)
                    chip.setEnabled(not view.busy)
        self._render_faults(tr, view)
        self._render_typing(ctx, view)
        self.save.setText(tr("maint.repair.saving" if view.busy else "maint.repair.save"))
        self.save.setEnabled(not view.busy)
        self.message.setVisible(view.notice is not None)
        if view.notice is not None:
            self.message.setText(view.notice.text(tr))
            set_role(self.message, "maintMessage", tone=view.notice.tone)

    def _render_faults(self, tr, view: RepairFormView) -> None:
        self.faults_heading.setText(tr("maint.repair.faults_heading"))
        for index, chip in enumerate(self.fault_chips):
            choice = view.faults[index] if index < len(view.faults) else None
            chip.setVisible(choice is not None)
            if choice is not None:
                fault = choice.fault
                standing = tr("maint.repair.fault_open" if fault.open else "maint.repair.fault_cleared")
                chip.setText(f"#{fault.id} {fault.reason or fault.state} · {when(fault.raised_at)[5:]} · {standing}")
                set_role(chip, "maintChip", chosen=choice.chosen)
                chip.setEnabled(not view.busy)
        more = len(view.faults) - FAULTS_SHOWN
        note = (tr("maint.repair.more_faults", count=more) if more > 0 else
                tr("maint.devices.history_loading") if not view.faults_loaded else
                tr("maint.repair.no_faults") if not view.faults else "")
        self.faults_note.setVisible(bool(note))
        self.faults_note.setText(note)

    def _render_typing(self, ctx: RenderContext, view: RepairFormView) -> None:
        tr = ctx.tr
        self.type_heading.setText(tr("maint.repair.type_heading"))
        for text_field, chip in self.field_chips.items():
            key = "maint.repair.type_into_note" if text_field is TextField.NOTE else "maint.repair.type_into_parts"
            chip.setText(tr(key))
            set_role(chip, "maintChip", chosen=text_field is view.typing_into)
        nothing = tr("maint.repair.nothing_typed")
        self.typed_note.setText(tr("maint.repair.typed_note", text=view.free_note or nothing))
        self.typed_parts.setText(tr("maint.repair.typed_parts", text=view.free_parts or nothing))
        self.pad.render(ctx)
        if self.pad.text() != view.text_typed:  # the field changed, or the form was saved or wiped
            self.pad.blockSignals(True)
            self.pad.set_text(view.text_typed)
            self.pad.blockSignals(False)
        self.pad.setEnabled(not view.busy)
