"""Why the machine is put out of service: a preset phrase (chips) and/or words on the text pad.

The form only collects; the model composes and checks the reason (a reason
is required, and the model says so when none is given).  The line "will be
recorded as" shows the exact words the audit log and the sign's detail get.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.operations_model import ReasonPreset, compose_reason
from screens.context import RenderContext, set_role
from screens.maintenance.text_pad import TextPad

CHIPS_PER_ROW = 6
MAX_WORDS = 120


class OutOfServiceForm(QWidget):
    confirmed = Signal(str, str)  # (preset code or "", typed words)
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        set_role(self, "maintPanel")
        self._presets: tuple[ReasonPreset, ...] = ()
        self._chosen = ""
        self._ctx: RenderContext | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 16, 24, 16)
        column.setSpacing(12)
        self.heading = set_role(QLabel(objectName="outFormHeading"), "maintHeading")
        self.hint = set_role(QLabel(objectName="outFormHint", wordWrap=True), "maintMuted")
        self.chip_grid = QGridLayout()
        self.chip_grid.setSpacing(8)
        self.chips: dict[str, QPushButton] = {}
        column.addWidget(self.heading)
        column.addWidget(self.hint)
        column.addLayout(self.chip_grid)
        row = QHBoxLayout()
        row.setSpacing(24)
        self.pad = TextPad(max_len=MAX_WORDS)
        self.pad.text_changed.connect(self._show_reason)
        row.addWidget(self.pad, 3)
        row.addLayout(self._side(), 2)
        column.addLayout(row)
        column.addStretch(1)

    def _side(self) -> QVBoxLayout:
        side = QVBoxLayout()
        side.setSpacing(12)
        self.typed = set_role(QLabel(objectName="outFormTyped", wordWrap=True), "maintText")
        self.recorded = set_role(QLabel(objectName="outFormRecorded", wordWrap=True), "maintMuted")
        self.stays_out = set_role(QLabel(objectName="outFormStaysOut", wordWrap=True), "maintText")
        self.confirm = set_role(QPushButton(objectName="outFormConfirm"), "maintDanger")
        self.cancel = set_role(QPushButton(objectName="outFormCancel"), "maintAction")
        self.confirm.clicked.connect(lambda: self.confirmed.emit(self._chosen, self.pad.text()))
        self.cancel.clicked.connect(self.cancelled)
        for widget in (self.typed, self.recorded, self.stays_out):
            side.addWidget(widget)
        side.addStretch(1)
        buttons = QHBoxLayout()
        buttons.setSpacing(16)
        buttons.addWidget(self.confirm)
        buttons.addWidget(self.cancel)
        side.addLayout(buttons)
        return side

    def render(self, ctx: RenderContext, presets: tuple[ReasonPreset, ...], busy: bool) -> None:
        self._ctx = ctx
        if presets != self._presets:
            self._build_chips(presets)
        self.heading.setText(ctx.tr("maint.ops.switch.form_heading"))
        self.hint.setText(ctx.tr("maint.ops.switch.form_hint"))
        for code, chip in self.chips.items():
            chip.setText(ctx.tr(self._preset(code).key))
        self.stays_out.setText(ctx.tr("maint.ops.switch.stays_out"))
        self.confirm.setText(ctx.tr("maint.ops.switch.confirm"))
        self.cancel.setText(ctx.tr("maint.ops.cancel"))
        self.confirm.setEnabled(not busy)
        self.pad.render(ctx)
        self._show_reason()

    def _build_chips(self, presets: tuple[ReasonPreset, ...]) -> None:
        for chip in self.chips.values():
            chip.deleteLater()
        self.chips = {}
        self._presets = presets
        for n, preset in enumerate(presets):
            chip = set_role(QPushButton(objectName=f"reasonChip_{preset.code}"), "maintChip", chosen=False)
            chip.clicked.connect(lambda _=False, code=preset.code: self._choose(code))
            self.chip_grid.addWidget(chip, n // CHIPS_PER_ROW, n % CHIPS_PER_ROW)
            self.chips[preset.code] = chip

    def _preset(self, code: str) -> ReasonPreset:
        return next(p for p in self._presets if p.code == code)

    def _choose(self, code: str) -> None:
        """A second tap on the chosen phrase takes it back."""
        self._chosen = "" if code == self._chosen else code
        for chip_code, chip in self.chips.items():
            set_role(chip, "maintChip", chosen=chip_code == self._chosen)
        self._show_reason()

    def _show_reason(self, *_: object) -> None:
        if self._ctx is None:
            return
        tr = self._ctx.tr
        self.typed.setText(tr("maint.ops.switch.typed", text=self.pad.text() or "—"))
        reason = compose_reason(self._chosen, self.pad.text())
        self.recorded.setText(tr("maint.ops.switch.recorded", reason=reason or "—"))

    @property
    def chosen(self) -> str:
        return self._chosen

    def wipe(self) -> None:
        self.pad.clear()
        if self._chosen:
            self._choose(self._chosen)
