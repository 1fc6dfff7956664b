"""The device page of the maintenance screen: one device's status, faults, test, reset and history.

Renders a :class:`~kiosk.device_page.DevicePageView` and emits what the
technician asked for; :class:`kiosk.device_page.DevicePage` does the work
(the application runs its blocking calls on a worker).  The page itself
keeps only what is drawn: which page of the history is shown, and whether
the reset waits for its confirmation.

Left: the device chips, the live status, the open faults, the test and the
reset.  Right: the history (faults and repairs, newest first), a page at a
time (no scrolling on a touch screen without a keyboard).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drivers.status import ACCEPTOR, CARD_READER, PRINTER
from kiosk.device_page import DevicePageView, ResetState, RunState, status_tone
from screens.context import RenderContext, set_role
from screens.maintenance import device_words as words
from screens.maintenance.fixed_column import FixedColumn, scrolling

FAULTS_SHOWN = 1  # the newest with its detail, the rest counted below it and listed in the history (900 px)
HISTORY_ROWS = 4  # each may take three lines: four fit the column with its paging (it scrolls past that)
RESULT_LINES = 5
LEFT_WIDTH = 880
RIGHT_WIDTH = 1640 - 2 * 24 - LEFT_WIDTH - 16


def _label(role: str, wrap: bool = True, **properties: object) -> QLabel:
    label = set_role(QLabel(), role, **properties)
    label.setWordWrap(wrap)
    return label


def _button(role: str, name: str) -> QPushButton:
    button = set_role(QPushButton(), role)
    button.setObjectName(name)
    return button


def _panel() -> tuple[QWidget, QVBoxLayout]:
    panel = set_role(QWidget(), "maintPanel")
    panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(16, 12, 16, 12)
    layout.setSpacing(8)
    return panel, layout


def _show(label: QLabel, text: str) -> None:
    label.setVisible(bool(text))
    label.setText(text)


class DevicePageWidget(QWidget):
    device_chosen = Signal(str)
    test_requested = Signal()  # acceptor: start feeding notes; printer: print; card reader: read
    test_stop_requested = Signal()  # the acceptor test
    reset_requested = Signal()  # confirmed on the page first
    repair_requested = Signal(str)  # open the repair form for this device

    def __init__(self) -> None:
        super().__init__()
        self._view: DevicePageView | None = None
        self._history_page = 0
        self._confirming_reset = False
        page = QVBoxLayout(self)
        page.setContentsMargins(24, 16, 24, 16)
        page.setSpacing(12)
        page.addLayout(self._top_row())
        columns = QHBoxLayout()
        columns.setSpacing(16)
        left = QVBoxLayout()
        left.setSpacing(12)
        for panel in (self._status_panel(), self._test_panel(), self._reset_panel()):
            left.addWidget(panel)
        self.message = _label("maintMessage")
        left.addWidget(self.message)
        left.addStretch(1)
        columns.addWidget(scrolling(FixedColumn(LEFT_WIDTH, left)))
        columns.addWidget(scrolling(FixedColumn(RIGHT_WIDTH, self._history_panel())))
        page.addLayout(columns, 1)
        # Nothing to show yet: lines that may stay empty start hidden, so the page
        # never asks the shell for the room of every line at once.
        for title, detail in (*self.fault_rows, *self.history_rows):
            title.hide()
            detail.hide()
        for widget in (*self.result_lines, self.more_faults, self.message, self.confirm_reset, self.cancel_reset,
                       self.stop_button, self.reason, self.status_detail, self.sensors, self.history_empty):
            widget.hide()

    # -- building ------------------------------------------------------------------------
    def _top_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.title = _label("maintTitle", wrap=False)
        row.addWidget(self.title)
        row.addSpacing(24)
        self.chips = {}
        for device in (ACCEPTOR, PRINTER, CARD_READER):
            chip = _button("maintChip", f"deviceChip_{device}")
            chip.clicked.connect(lambda _=False, d=device: self.device_chosen.emit(str(d)))
            self.chips[device] = chip
            row.addWidget(chip)
        row.addStretch(1)
        self.repair = _button("maintAction", "recordRepair")
        self.repair.clicked.connect(lambda: self._view and self.repair_requested.emit(str(self._view.device)))
        row.addWidget(self.repair)
        return row

    def _status_panel(self) -> QWidget:
        panel, layout = _panel()
        head = QHBoxLayout()
        self.status_heading = _label("maintHeading", wrap=False)
        self.badge = _label("maintStatus", wrap=False)
        self.reason = _label("maintMuted", wrap=False)
        head.addWidget(self.status_heading)
        head.addSpacing(12)
        head.addWidget(self.badge)
        head.addWidget(self.reason)
        head.addStretch(1)
        layout.addLayout(head)
        self.status_detail = _label("maintText")
        self.sensors = _label("maintText")
        self.faults_heading = _label("maintHeading", wrap=False)
        self.fault_rows = [(_label("maintCell", wrap=False), _label("maintMuted")) for _ in range(FAULTS_SHOWN)]
        self.more_faults = _label("maintMuted", wrap=False)
        for widget in (self.status_detail, self.sensors, self.faults_heading):
            layout.addWidget(widget)
        for title, detail in self.fault_rows:
            layout.addWidget(title)
            layout.addWidget(detail)
        layout.addWidget(self.more_faults)
        return panel

    def _test_panel(self) -> QWidget:
        panel, layout = _panel()
        self.test_heading = _label("maintHeading", wrap=False)
        self.test_hint = _label("maintMuted")
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.test_button = _button("maintAction", "runTest")
        self.test_button.clicked.connect(self.test_requested.emit)
        self.stop_button = _button("maintAction", "stopTest")
        self.stop_button.clicked.connect(self.test_stop_requested.emit)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        self.result_lines = [_label("maintText") for _ in range(RESULT_LINES)]
        layout.addWidget(self.test_heading)
        layout.addWidget(self.test_hint)
        layout.addLayout(buttons)
        for line in self.result_lines:
            layout.addWidget(line)
        return panel

    def _reset_panel(self) -> QWidget:
        panel, layout = _panel()
        self.reset_heading = _label("maintHeading", wrap=False)
        self.reset_hint = _label("maintMuted")
        row = QHBoxLayout()
        row.setSpacing(8)
        self.reset_button = _button("maintDanger", "resetDevice")
        self.reset_button.clicked.connect(self._ask_reset)
        self.confirm_reset = _button("maintDanger", "confirmReset")
        self.confirm_reset.clicked.connect(self._confirm_reset)
        self.cancel_reset = _button("maintAction", "cancelReset")
        self.cancel_reset.clicked.connect(self._cancel_reset)
        for button in (self.reset_button, self.confirm_reset, self.cancel_reset):
            row.addWidget(button)
        row.addStretch(1)
        layout.addWidget(self.reset_heading)
        layout.addWidget(self.reset_hint)
        layout.addLayout(row)
        return panel

    def _history_panel(self) -> QWidget:
        panel, layout = _panel()
        self.history_heading = _label("maintHeading", wrap=False)
        layout.addWidget(self.history_heading)
        self.history_rows = [(_label("maintCell", wrap=False), _label("maintMuted")) for _ in range(HISTORY_ROWS)]
        for title, detail in self.history_rows:
            layout.addWidget(title)
            layout.addWidget(detail)
        self.history_empty = _label("maintMuted")
        layout.addWidget(self.history_empty)
        layout.addStretch(1)
        paging = QHBoxLayout()
        paging.setSpacing(8)
        self.newer = _button("maintAction", "historyNewer")
        self.newer.clicked.connect(lambda: self._turn(-1))
        self.older = _button("maintAction", "historyOlder")
        self.older.clicked.connect(lambda: self._turn(1))
        self.page_label = _label("maintMuted", wrap=False)
        paging.addWidget(self.newer)
        paging.addWidget(self.page_label, 1, Qt.AlignmentFlag.AlignCenter)
        paging.addWidget(self.older)
        layout.addLayout(paging)
        return panel

    # -- taps that stay on the page ---------------------------------------------------------
    def _ask_reset(self) -> None:
        self._confirming_reset = True
        self._redraw()

    def _confirm_reset(self) -> None:
        self._confirming_reset = False
        self.reset_requested.emit()
        self._redraw()

    def _cancel_reset(self) -> None:
        self._confirming_reset = False
        self._redraw()

    def _turn(self, pages: int) -> None:
        self._history_page = max(0, self._history_page + pages)
        self._redraw()

    def wipe(self) -> None:
        """Logout: nothing of the last technician's session stays drawn."""
        self._view = None
        self._history_page = 0
        self._confirming_reset = False
        for label in (self.message, *self.result_lines):
            label.clear()

    # -- rendering ----------------------------------------------------------------------------
    def render(self, ctx: RenderContext, view: DevicePageView) -> None:
        if self._view is not None and self._view.device != view.device:
            self._history_page = 0
            self._confirming_reset = False
        self._view, self._ctx = view, ctx
        self._redraw()

    def _redraw(self) -> None:
        view, ctx = self._view, getattr(self, "_ctx", None)
        if view is None or ctx is None:
            return
        tr = ctx.tr
        self.title.setText(tr("maint.devices.title"))
        for device, chip in self.chips.items():
            chip.setVisible(device in view.devices)
            chip.setText(tr(words.DEVICE_NAMES[device]))
            set_role(chip, "maintChip", chosen=device == view.device)
        self.repair.setText(tr("maint.devices.repair_button"))
        self._render_status(tr, view)
        self._render_test(ctx, view)
        self._render_reset(tr, view)
        self._render_history(tr, view)
        self.message.setVisible(view.notice is not None)
        if view.notice is not None:
            self.message.setText(view.notice.text(tr))
            set_role(self.message, "maintMessage", tone=view.notice.tone)

    def _render_status(self, tr, view: DevicePageView) -> None:
        status = view.status
        self.status_heading.setText(tr("maint.devices.status_heading"))
        set_role(self.badge, "maintStatus", tone=status_tone(status))  # the tone first: it sets the font
        self.badge.setText(words.state_text(tr, status))
        self.badge.updateGeometry()
        _show(self.reason, status.reason if status is not None else "")
        _show(self.status_detail, status.detail if status is not None else "")
        _show(self.sensors, words.detail_line(tr, status))
        self.faults_heading.setText(tr("maint.devices.faults_heading", count=len(view.open_faults)))
        shown = view.open_faults[:FAULTS_SHOWN]
        for index, (title, detail) in enumerate(self.fault_rows):
            fault = shown[index] if index < len(shown) else None
            _show(title, words.fault_line(fault) if fault else "")
            _show(detail, fault.detail if fault else "")
        if view.history_loaded and not view.open_faults:
            _show(self.fault_rows[0][0], tr("maint.devices.no_faults"))
        more = len(view.open_faults) - FAULTS_SHOWN
        _show(self.more_faults, tr("maint.devices.more_faults", count=more) if more > 0 else "")

    def _render_test(self, ctx: RenderContext, view: DevicePageView) -> None:
        tr, test, device = ctx.tr, view.test, view.device
        self.test_heading.setText(tr(words.TEST_HEADINGS[device]))
        self.test_hint.setText(tr(words.TEST_HINTS[device]))
        running = test.state in (RunState.RUNNING, RunState.STOPPING)
        acceptor_running = device == ACCEPTOR and running
        self.test_button.setVisible(not acceptor_running)
        self.test_button.setText(tr(words.TEST_BUTTONS[device]))
        self.test_button.setEnabled(not view.busy and not running)
        self.stop_button.setVisible(acceptor_running)
        self.stop_button.setText(tr("maint.devices.stop_test"))
        self.stop_button.setEnabled(test.state is RunState.RUNNING and not view.busy)
        if device == ACCEPTOR:
            lines = words.acceptor_lines(tr, test.acceptor)
        elif device == PRINTER:
            lines = words.printer_lines(tr, test.printer)
        else:
            lines = words.card_lines(tr, test.card, ctx.utility_name)
        for label, text in zip(self.result_lines, [*lines, *[""] * RESULT_LINES]):
            _show(label, text)

    def _render_reset(self, tr, view: DevicePageView) -> None:
        self.reset_heading.setText(tr("maint.devices.reset_heading"))
        resetting = view.reset is ResetState.RESETTING
        self.reset_hint.setText(tr("maint.devices.resetting" if resetting else "maint.devices.reset_hint"))
        self.reset_button.setText(tr("maint.devices.reset_button"))
        self.confirm_reset.setText(tr("maint.devices.reset_confirm"))
        self.cancel_reset.setText(tr("maint.devices.cancel"))
        self.reset_button.setVisible(not self._confirming_reset)
        test_running = view.test.state in (RunState.RUNNING, RunState.STOPPING)
        self.reset_button.setEnabled(not view.busy and not test_running)
        self.confirm_reset.setVisible(self._confirming_reset)
        self.confirm_reset.setEnabled(not view.busy)
        self.cancel_reset.setVisible(self._confirming_reset)

    def _render_history(self, tr, view: DevicePageView) -> None:
        self.history_heading.setText(tr("maint.devices.history_heading"))
        pages = max(1, -(-len(view.history) // HISTORY_ROWS))
        self._history_page = min(self._history_page, pages - 1)
        start = self._history_page * HISTORY_ROWS
        shown = view.history[start:start + HISTORY_ROWS]
        for index, (title, detail) in enumerate(self.history_rows):
            first, second = words.history_line(tr, shown[index]) if index < len(shown) else ("", "")
            _show(title, first)
            _show(detail, second)
        empty = "" if view.history else tr("maint.devices.history_empty" if view.history_loaded
                                            else "maint.devices.history_loading")
        _show(self.history_empty, empty)
        self.newer.setText(tr("maint.devices.newer"))
        self.older.setText(tr("maint.devices.older"))
        self.newer.setEnabled(self._history_page > 0)
        self.older.setEnabled(self._history_page < pages - 1)
        self.page_label.setText(tr("maint.devices.page", page=self._history_page + 1, pages=pages))
