"""The two entry steps of the accounts page: a new user's name and role, and a new PIN typed twice.

Both render a ``kiosk.maintenance_staff.StaffView`` and forward taps; the
digits stay in the Qt-free form (the fields show dots), the name is typed on
the shared text pad (letters, digits and ``. _ -`` only, as user names are).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.maintenance_accounts import Role
from kiosk.maintenance_staff import NAME_CHARACTERS, NAME_MAX, PinStage, StaffView
from kiosk.maintenance_words import ROLE_KEYS
from screens.context import RenderContext, set_role
from screens.keypad import Keypad
from screens.maintenance.login_page import pin_dots
from screens.maintenance.text_pad import TextPad


class NamePanel(QWidget):
    """Adding a user, first step: the name on the text pad, the role as chips."""

    name_changed = Signal(str)
    role_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.heading = set_role(QLabel(), "maintHeading")
        self.name_field = set_role(QLabel(objectName="maintNameField"), "maintHeading")
        self.pad = TextPad(allowed=NAME_CHARACTERS, max_len=NAME_MAX)
        self.pad.text_changed.connect(self.name_changed)
        self.role_label = set_role(QLabel(), "maintText")
        self.role_chips: dict[Role, QPushButton] = {}
        roles = QHBoxLayout()
        roles.setSpacing(12)
        roles.addWidget(self.role_label)
        for role in Role:
            chip = set_role(QPushButton(), "maintChip", chosen=False)
            chip.clicked.connect(lambda _=False, r=role: self.role_chosen.emit(r.value))
            roles.addWidget(chip)
            self.role_chips[role] = chip
        roles.addStretch(1)
        field_panel = set_role(QWidget(), "maintPanel")
        field_row = QHBoxLayout(field_panel)
        field_row.setContentsMargins(20, 8, 20, 8)
        field_row.addWidget(self.name_field)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        column.addWidget(self.heading)
        column.addWidget(field_panel)
        column.addWidget(self.pad)
        column.addLayout(roles)
        column.addStretch(1)

    def render(self, ctx: RenderContext, view: StaffView) -> None:
        if self.pad.text() != view.target:  # a fresh add starts with an empty pad
            self.pad.set_text(view.target)
        self.heading.setText(ctx.tr("maint.staff.add_heading"))
        self.name_field.setText(ctx.tr("maint.staff.name_label", name=view.target + "_"))
        self.pad.render(ctx)
        self.role_label.setText(ctx.tr("maint.staff.role_label"))
        for role, chip in self.role_chips.items():
            chip.setText(ctx.tr(ROLE_KEYS[role]))
            set_role(chip, "maintChip", chosen=role is view.target_role)

    def wipe(self) -> None:
        self.pad.clear()
        self.name_field.clear()


class NewPinPanel(QWidget):
    """A new PIN, typed twice: two dot fields (the one being typed marked), the keypad beside them."""

    digit_typed = Signal(str)
    backspace_pressed = Signal()
    clear_pressed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.heading = set_role(QLabel(wordWrap=True), "maintHeading")
        self.first_label = set_role(QLabel(), "maintText")
        self.first_field = set_role(QLabel(objectName="maintPinFirst"), "maintTitle")
        self.again_label = set_role(QLabel(), "maintText")
        self.again_field = set_role(QLabel(objectName="maintPinAgain"), "maintTitle")
        self.first_panel = self._field_panel(self.first_label, self.first_field)
        self.again_panel = self._field_panel(self.again_label, self.again_field)
        self.keypad = Keypad()
        self.keypad.digit_pressed.connect(self.digit_typed)
        self.keypad.backspace_pressed.connect(self.backspace_pressed)
        self.keypad.clear_pressed.connect(self.clear_pressed)
        fields = QVBoxLayout()
        fields.setSpacing(16)
        fields.addWidget(self.heading)
        fields.addWidget(self.first_panel)
        fields.addWidget(self.again_panel)
        fields.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(48)
        keys = QVBoxLayout()
        keys.addWidget(self.keypad)
        keys.addStretch(1)  # the keys keep their size; the room left goes below them
        row.addLayout(fields, 3)
        row.addLayout(keys, 2)

    @staticmethod
    def _field_panel(label: QLabel, field: QLabel) -> QWidget:
        panel = set_role(QWidget(), "maintPanel")
        panel.setMinimumHeight(84)
        row = QHBoxLayout(panel)
        row.setContentsMargins(20, 8, 20, 8)
        row.addWidget(label)
        row.addSpacing(24)
        row.addWidget(field, 1)
        return panel

    def render(self, ctx: RenderContext, view: StaffView) -> None:
        role = ctx.tr(ROLE_KEYS[view.target_role]) if view.target_role else ""
        key = "maint.staff.pin_heading_add" if view.adding else "maint.staff.pin_heading_reset"
        self.heading.setText(ctx.tr(key, name=view.target, role=role))
        again = view.pin_stage is PinStage.AGAIN
        # The field being typed says so in its label: "▶ New PIN"; the other is plain.
        self.first_label.setText(("" if again else "▶ ") + ctx.tr("maint.staff.pin_first_label"))
        self.again_label.setText(("▶ " if again else "") + ctx.tr("maint.staff.pin_again_label"))
        set_role(self.first_label, "maintText" if again else "maintHeading")
        set_role(self.again_label, "maintHeading" if again else "maintText")
        self.first_field.setText(pin_dots(view.first_typed) if not again else " ".join("●" * view.first_typed))
        self.again_field.setText(pin_dots(view.again_typed) if again else "")
        self.keypad.render(ctx)
        typed = view.again_typed if again else view.first_typed
        for name, button in self.keypad.keys.items():
            full = typed >= view.max_digits
            button.setEnabled(not view.busy and (not full if name.isdigit() else typed > 0))

    def wipe(self) -> None:
        self.first_field.clear()
        self.again_field.clear()
