"""Service hours today on the operations page: the panel that says what holds, and the form that changes it.

The panel shows the configured hours, today's override if any, and whether
the machine is open now.  The form takes other hours for today on the keypad
(tap "Opens" or "Closes", type four digits) or closes the whole day; it only
collects, the model (:class:`~kiosk.service_hours.ServiceHoursKeeper`) checks
and refuses with a message the page shows.  Today only: from midnight the
configured hours hold again, which both say.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.service_hours import HoursToday, days_text, hours_text, opening_text
from screens.context import RenderContext, set_role
from screens.keypad import Keypad

FIELDS = ("open", "close")
DIGITS = 4  # HHMM


def _when(epoch: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(epoch).strftime("%H:%M")


def _shown(digits: str) -> str:
    """What a field shows while typed: 08:3_ for "083"."""
    padded = digits.ljust(DIGITS, "_")
    return f"{padded[:2]}:{padded[2:]}"


def _entered(digits: str) -> str:
    """What the model gets: HH:MM for four digits, the digits as typed otherwise (it says what is wrong)."""
    return f"{digits[:2]}:{digits[2:]}" if len(digits) == DIGITS else digits


class ServiceHoursPanel(QFrame):
    change_requested = Signal()
    clear_requested = Signal()

    def __init__(self) -> None:
        super().__init__(objectName="opsHours")
        set_role(self, "maintPanel")
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 14, 20, 14)
        column.setSpacing(10)
        self.heading = set_role(QLabel(objectName="opsHoursHeading"), "maintHeading")
        self.status = set_role(QLabel(objectName="opsHoursStatus"), "maintStatus")
        self.today = set_role(QLabel(objectName="opsHoursToday", wordWrap=True), "maintText")
        self.usual = set_role(QLabel(objectName="opsHoursUsual", wordWrap=True), "maintMuted")
        self.change = set_role(QPushButton(objectName="opsHoursChange"), "maintAction")
        self.clear = set_role(QPushButton(objectName="opsHoursClear"), "maintAction")
        self.change.clicked.connect(self.change_requested)
        self.clear.clicked.connect(self.clear_requested)
        row = QHBoxLayout()
        row.addWidget(self.heading)
        row.addStretch(1)
        row.addWidget(self.status)
        column.addLayout(row)
        column.addWidget(self.today)
        column.addWidget(self.usual)
        column.addStretch(1)
        column.addWidget(self.clear)
        column.addWidget(self.change)

    def render(self, ctx: RenderContext, hours: HoursToday, busy: bool) -> None:
        tr = ctx.tr
        self.heading.setText(tr("maint.hours.heading"))
        self.status.setText(tr("maint.hours.open_now" if hours.open_now else "maint.hours.closed_now"))
        set_role(self.status, "maintStatus", tone="" if hours.open_now else "warning")
        self.today.setText(" ".join(part for part in (self._today(ctx, hours), self._next(ctx, hours)) if part))
        configured = hours.configured
        self.usual.setText(tr("maint.hours.usual", hours=configured.text(), days=days_text(tr, configured.days)))
        self.change.setText(tr("maint.hours.change_button"))
        self.clear.setText(tr("maint.hours.clear_button"))
        self.clear.setVisible(hours.override is not None)
        for button in (self.change, self.clear):
            button.setEnabled(not busy)

    @staticmethod
    def _today(ctx: RenderContext, hours: HoursToday) -> str:
        tr, override = ctx.tr, hours.override
        if override is not None and override.hours is None:
            return tr("maint.hours.override_closed", by=override.by, when=_when(override.at))
        if override is not None:
            return tr("maint.hours.override_hours", hours=hours_text(override.hours), by=override.by,
                      when=_when(override.at))
        if hours.today is None:
            return tr("maint.hours.day_off")
        return tr("maint.hours.open_until", hours=hours_text(hours.today), closes=f"{hours.today[1]:%H:%M}")

    @staticmethod
    def _next(ctx: RenderContext, hours: HoursToday) -> str:
        if hours.open_now:
            return ""
        if hours.next_opening is None:
            return ctx.tr("maint.hours.no_opening")
        return ctx.tr("maint.hours.next_opening", opening=opening_text(ctx.tr, hours.next_opening))


class ServiceHoursForm(QWidget):
    set_requested = Signal(str, str)  # (opens, closes) as typed: "HH:MM", or the digits when fewer than four
    closed_requested = Signal()
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        set_role(self, "maintPanel")
        self._ctx: RenderContext | None = None
        self._digits = {"open": "", "close": ""}
        self._field = "open"
        self._fresh = True  # the first digit after choosing a field starts it afresh
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 16, 24, 16)
        column.setSpacing(12)
        self.heading = set_role(QLabel(objectName="hoursFormHeading"), "maintHeading")
        self.hint = set_role(QLabel(objectName="hoursFormHint", wordWrap=True), "maintMuted")
        column.addWidget(self.heading)
        column.addWidget(self.hint)
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addLayout(self._fields(), 2)
        self.keypad = Keypad()
        self.keypad.digit_pressed.connect(self._digit)
        self.keypad.backspace_pressed.connect(lambda: self._edit(self._digits[self._field][:-1]))
        self.keypad.clear_pressed.connect(lambda: self._edit(""))
        row.addWidget(self.keypad, 3)
        row.addLayout(self._side(), 3)
        column.addLayout(row)
        column.addStretch(1)

    def _fields(self) -> QVBoxLayout:
        fields = QVBoxLayout()
        fields.setSpacing(12)
        self.field_chips: dict[str, QPushButton] = {}
        for name in FIELDS:
            chip = set_role(QPushButton(objectName=f"hoursField_{name}"), "maintChip", chosen=False)
            chip.clicked.connect(lambda _=False, field=name: self._choose(field))
            fields.addWidget(chip)
            self.field_chips[name] = chip
        fields.addStretch(1)
        return fields

    def _side(self) -> QVBoxLayout:
        side = QVBoxLayout()
        side.setSpacing(12)
        self.session_note = set_role(QLabel(objectName="hoursFormNote", wordWrap=True), "maintText")
        self.confirm = set_role(QPushButton(objectName="hoursFormConfirm"), "maintAction")
        self.closed = set_role(QPushButton(objectName="hoursFormClosed"), "maintDanger")
        self.cancel = set_role(QPushButton(objectName="hoursFormCancel"), "maintAction")
        self.confirm.clicked.connect(
            lambda: self.set_requested.emit(_entered(self._digits["open"]), _entered(self._digits["close"])))
        self.closed.clicked.connect(self.closed_requested)
        self.cancel.clicked.connect(self.cancelled)
        side.addWidget(self.session_note)
        side.addStretch(1)
        for button in (self.confirm, self.closed, self.cancel):
            side.addWidget(button)
        return side

    def start(self, hours: HoursToday) -> None:
        """Opened afresh: today's hours (or the configured ones, on a day closed) to change from."""
        current = hours.today or (hours.configured.open, hours.configured.close)
        self._digits = {"open": f"{current[0]:%H%M}", "close": f"{current[1]:%H%M}"}
        self._choose("open")

    def render(self, ctx: RenderContext, busy: bool) -> None:
        self._ctx = ctx
        self.heading.setText(ctx.tr("maint.hours.form_heading"))
        self.hint.setText(ctx.tr("maint.hours.form_hint"))
        self.session_note.setText(ctx.tr("maint.hours.session_note"))
        self.confirm.setText(ctx.tr("maint.hours.set_button"))
        self.closed.setText(ctx.tr("maint.hours.closed_button"))
        self.cancel.setText(ctx.tr("maint.ops.cancel"))
        for button in (self.confirm, self.closed):
            button.setEnabled(not busy)
        self.keypad.render(ctx)
        self._show()

    def _choose(self, field: str) -> None:
        self._field, self._fresh = field, True
        for name, chip in self.field_chips.items():
            set_role(chip, "maintChip", chosen=name == field)
        self._show()

    def _digit(self, digit: str) -> None:
        typed = "" if self._fresh else self._digits[self._field]
        if len(typed) < DIGITS:
            self._edit(typed + digit)

    def _edit(self, digits: str) -> None:
        self._digits[self._field], self._fresh = digits, False
        self._show()

    def _show(self) -> None:
        if self._ctx is None:
            return
        tr = self._ctx.tr
        self.field_chips["open"].setText(tr("maint.hours.opens", time=_shown(self._digits["open"])))
        self.field_chips["close"].setText(tr("maint.hours.closes", time=_shown(self._digits["close"])))

    def typed(self, field: str) -> str:
        return self._digits[field]

    def wipe(self) -> None:
        self._digits = {"open": "", "close": ""}
        self._choose("open")
