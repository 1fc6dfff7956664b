"""The supervisor's accounts page: the staff list (unlock, reset PIN, add a user), then the entry steps.

It renders a ``kiosk.maintenance_staff.StaffView`` — the list, a new user's
name and role, or a new PIN twice — and forwards every tap as a signal; the
supervisor's form does the work and the lead's worker makes the change.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk.maintenance_staff import ROWS_PER_PAGE, PinStage, StaffRow, StaffStep, StaffView
from kiosk.maintenance_words import ROLE_KEYS
from screens.maintenance.paging_row import show_paging
from screens.context import RenderContext, set_role
from screens.maintenance.account_entry import NamePanel, NewPinPanel

COLUMNS = ("maint.staff.col_name", "maint.staff.col_role", "maint.staff.col_failures", "maint.staff.col_state")


class StaffRowWidgets:
    """One line of the list: four cells and the two actions on that account."""

    def __init__(self, grid: QGridLayout, line: int, page: "AccountsPage") -> None:
        self.cells = [set_role(QLabel(), "maintCell") for _ in COLUMNS]
        self.state = set_role(QLabel(), "maintStatus")
        self.unlock = set_role(QPushButton(), "maintAction")
        self.reset = set_role(QPushButton(), "maintAction")
        self.name = ""
        self.unlock.clicked.connect(lambda: page.unlock_tapped.emit(self.name))
        self.reset.clicked.connect(lambda: page.reset_tapped.emit(self.name))
        for column, cell in enumerate(self.cells[:3]):
            grid.addWidget(cell, line, column)
        # The state is a chip as wide as its words; the free room (column 4) keeps the actions on the right.
        grid.addWidget(self.state, line, 3, alignment=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.unlock, line, 5)
        grid.addWidget(self.reset, line, 6)

    def widgets(self) -> list[QWidget]:
        return [*self.cells[:3], self.state, self.unlock, self.reset]

    def render(self, ctx: RenderContext, row: StaffRow | None, busy: bool) -> None:
        for widget in self.widgets():
            widget.setVisible(row is not None)
        if row is None:
            return
        self.name = row.name
        self.cells[0].setText(ctx.tr("maint.staff.you_mark", name=row.name) if row.is_you else row.name)
        self.cells[1].setText(ctx.tr(ROLE_KEYS[row.role]))
        self.cells[2].setText(str(row.failures))
        if row.locked_until is not None:
            set_role(self.state, "maintStatus", tone="fault")
            self.state.setText(ctx.tr("maint.staff.state_locked", until=row.locked_until))
        else:
            set_role(self.state, "maintStatus", tone="warning" if row.failures else "")
            self.state.setText(ctx.tr("maint.staff.state_active"))
        self.unlock.setText(ctx.tr("maint.staff.unlock"))
        self.unlock.setEnabled(row.can_unlock and not busy)
        self.reset.setText(ctx.tr("maint.staff.reset"))
        self.reset.setEnabled(not busy)


class AccountsPage(QWidget):
    unlock_tapped = Signal(str)
    reset_tapped = Signal(str)
    add_tapped = Signal()
    page_tapped = Signal(int)
    name_changed = Signal(str)  # the text pad's whole text
    role_chosen = Signal(str)
    digit_typed = Signal(str)
    backspace_pressed = Signal()
    clear_pressed = Signal()
    next_tapped = Signal()
    back_tapped = Signal()
    save_tapped = Signal()
    cancel_tapped = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(), "maintTitle")
        self.message = set_role(QLabel(wordWrap=True), "maintMessage")
        self.stack = QStackedWidget()
        self.list_panel = self._list_panel()
        self.name_panel = NamePanel()
        self.pin_panel = NewPinPanel()
        for panel in (self.list_panel, self.name_panel, self.pin_panel):
            self.stack.addWidget(panel)
        self.name_panel.name_changed.connect(self.name_changed)
        self.name_panel.role_chosen.connect(self.role_chosen)
        self.pin_panel.digit_typed.connect(self.digit_typed)
        self.pin_panel.backspace_pressed.connect(self.backspace_pressed)
        self.pin_panel.clear_pressed.connect(self.clear_pressed)
        self.back = set_role(QPushButton(), "maintAction")
        self.cancel = set_role(QPushButton(), "maintAction")
        self.next = set_role(QPushButton(), "maintAction")
        self.save = set_role(QPushButton(), "maintAction")
        for button, signal in ((self.back, self.back_tapped), (self.cancel, self.cancel_tapped),
                               (self.next, self.next_tapped), (self.save, self.save_tapped)):
            button.clicked.connect(signal)
        steps = QHBoxLayout()
        steps.setSpacing(16)
        steps.addWidget(self.back)
        steps.addWidget(self.cancel)
        steps.addStretch(1)
        steps.addWidget(self.next)
        steps.addWidget(self.save)
        column = QVBoxLayout(self)
        column.setContentsMargins(32, 20, 32, 20)
        column.setSpacing(14)
        column.addWidget(self.title)
        column.addWidget(self.message)  # under the title on every step: where the eye returns after a tap
        column.addWidget(self.stack, 1)
        column.addLayout(steps)

    def _list_panel(self) -> QWidget:
        panel = QWidget()
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(10)
        self.heads = [set_role(QLabel(), "maintCellHead") for _ in COLUMNS]
        for column, head in enumerate(self.heads):
            grid.addWidget(head, 0, column)
        self.rows = [StaffRowWidgets(grid, line + 1, self) for line in range(ROWS_PER_PAGE)]
        grid.setColumnMinimumWidth(0, 360)
        grid.setColumnMinimumWidth(3, 260)
        grid.setColumnStretch(4, 1)
        self.add = set_role(QPushButton(), "maintAction")
        self.add.clicked.connect(self.add_tapped)
        self.previous_page = set_role(QPushButton(), "maintAction")
        self.next_page = set_role(QPushButton(), "maintAction")
        self.page_label = set_role(QLabel(), "maintMuted")
        self._page = 0
        self.previous_page.clicked.connect(lambda: self.page_tapped.emit(self._page - 1))
        self.next_page.clicked.connect(lambda: self.page_tapped.emit(self._page + 1))
        below = QHBoxLayout()
        below.setSpacing(16)
        below.addWidget(self.add)
        below.addStretch(1)
        below.addWidget(self.previous_page)
        below.addWidget(self.page_label)
        below.addWidget(self.next_page)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(16)
        column.addLayout(grid)
        column.addLayout(below)
        column.addStretch(1)
        return panel

    def render(self, ctx: RenderContext, view: StaffView) -> None:
        tr = ctx.tr
        self.title.setText(tr("maint.staff.title"))
        panels = {StaffStep.LIST: self.list_panel, StaffStep.NAME: self.name_panel, StaffStep.PIN: self.pin_panel}
        self.stack.setCurrentWidget(panels[view.step])
        if view.step is StaffStep.LIST:
            self._render_list(ctx, view)
        elif view.step is StaffStep.NAME:
            self.name_panel.render(ctx, view)
        else:
            self.pin_panel.render(ctx, view)
        set_role(self.message, "maintMessage", tone=view.notice.tone)
        self.message.setText(view.notice.text(tr))
        entering = view.step is not StaffStep.LIST
        saving = view.step is StaffStep.PIN and view.pin_stage is PinStage.AGAIN
        # Back from the name would be Cancel again: offered on the PIN step only.
        for button, key, shown in ((self.back, "maint.staff.back", view.step is StaffStep.PIN),
                                   (self.cancel, "maint.staff.cancel", entering),
                                   (self.next, "maint.staff.next", entering and not saving),
                                   (self.save, "maint.staff.save", saving)):
            button.setText(tr(key))
            button.setVisible(shown)
            button.setEnabled(not view.busy)
        self.next.setEnabled(view.can_next)
        self.save.setEnabled(view.can_save)

    def _render_list(self, ctx: RenderContext, view: StaffView) -> None:
        for head, key in zip(self.heads, COLUMNS):
            head.setText(ctx.tr(key))
        for index, widgets in enumerate(self.rows):
            widgets.render(ctx, view.rows[index] if index < len(view.rows) else None, view.busy)
        self.add.setText(ctx.tr("maint.staff.add"))
        self.add.setEnabled(not view.busy)
        self._page = view.page
        show_paging(self.previous_page, self.next_page, self.page_label, view.page, view.pages,
                    (ctx.tr("maint.staff.previous_page"), ctx.tr("maint.staff.next_page"),
                     ctx.tr("maint.staff.page_of", page=view.page + 1, pages=view.pages)), not view.busy)

    def wipe(self) -> None:
        """Logout: no name on the pad, no dots, no message, the list empty."""
        self.name_panel.wipe()
        self.pin_panel.wipe()
        self.message.clear()
        for widgets in self.rows:
            for widget in widgets.widgets():
                widget.setVisible(False)
        self.stack.setCurrentWidget(self.list_panel)
