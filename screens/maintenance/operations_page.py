"""The operations page (technician, supervisor): outbox and "Sync now", the card purchases to follow,
the service switch, service hours today, log export and "Restart kiosk".

Thin: it renders an :class:`~kiosk.operations_model.OperationsView` and says
what was asked through its signals; the model does the work off the GUI
thread.  Three steps open a panel of their own over the page: the reason for
putting the machine out (chips and the text pad), today's service hours (the
keypad), and the confirmation of a restart.  Nothing typed survives :meth:`OperationsPage.wipe` (logout).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from kiosk.log_export import ExportTarget, human_size
from kiosk.maintenance_notice import TONES
from kiosk.operations_model import OperationsView
from screens.context import RenderContext, set_role
from screens.maintenance.out_of_service_form import OutOfServiceForm
from screens.maintenance.outbox_table import OutboxPanel
from screens.maintenance.service_hours_form import ServiceHoursForm, ServiceHoursPanel

MAX_TARGETS = 3  # chips (one a row) that fit the export panel; the directory itself is always among them
PATH_CHARS = 34  # a longer path shows its end: the stick's or folder's own name is there


def panel(name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = set_role(QFrame(objectName=name), "maintPanel")
    column = QVBoxLayout(frame)
    column.setContentsMargins(20, 14, 20, 14)
    column.setSpacing(10)
    return frame, column


def button(name: str, role: str = "maintAction") -> QPushButton:
    return set_role(QPushButton(objectName=name), role)


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


class OperationsPage(QWidget):
    sync_requested = Signal()
    refresh_requested = Signal()  # read the outbox and look for USB sticks again
    put_out_requested = Signal(str, str)  # (preset code or "", typed words)
    put_back_requested = Signal()
    export_requested = Signal(str)  # the chosen target's path
    restart_requested = Signal()  # confirmed
    hours_requested = Signal(str, str)  # today's (opens, closes) as typed
    closed_today_requested = Signal()
    clear_hours_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("operationsPage")
        self._view: OperationsView | None = None
        self._target = ""  # the chosen export target's path
        self._targets: tuple[ExportTarget, ...] = ()
        self._awaiting_put_out = False
        self._awaiting_hours = False
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 16, 24, 16)
        column.setSpacing(12)
        top = QHBoxLayout()
        self.title = set_role(QLabel(objectName="opsTitle"), "maintTitle")
        self.message = set_role(QLabel(objectName="opsMessage", wordWrap=True), "maintMessage")
        top.addWidget(self.title)
        top.addSpacing(24)
        top.addWidget(self.message, 1)
        column.addLayout(top)
        self.stack = QStackedWidget()
        self.main = QWidget()
        self.form = OutOfServiceForm()
        self.hours_form = ServiceHoursForm()
        self.confirm_restart = self._restart_panel()
        for widget in (self.main, self.form, self.hours_form, self.confirm_restart):
            self.stack.addWidget(widget)
        column.addWidget(self.stack, 1)
        self._build_main()
        self.form.confirmed.connect(self._put_out)
        self.form.cancelled.connect(self._back_to_main)
        self.hours_form.set_requested.connect(lambda opens, closes: self._hours(self.hours_requested, opens, closes))
        self.hours_form.closed_requested.connect(lambda: self._hours(self.closed_today_requested))
        self.hours_form.cancelled.connect(self._back_to_main)

    # -- building ---------------------------------------------------------------------
    def _build_main(self) -> None:
        column = QVBoxLayout(self.main)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(16)
        self.outbox = OutboxPanel()
        self.outbox.refresh.clicked.connect(self.refresh_requested)
        self.outbox.sync.clicked.connect(self.sync_requested)
        box = self.outbox
        self.outbox_heading, self.refresh, self.sync, self.table = box.heading, box.refresh, box.sync, box.table
        column.addWidget(self.outbox, 0)
        lower = QHBoxLayout()
        lower.setSpacing(16)
        self.hours_panel = ServiceHoursPanel()
        self.hours_panel.change_requested.connect(self._open_hours_form)
        self.hours_panel.clear_requested.connect(self.clear_hours_requested)
        lower.addWidget(self._service_panel(), 4)
        lower.addWidget(self.hours_panel, 5)
        lower.addWidget(self._export_panel(), 5)
        lower.addWidget(self._kiosk_panel(), 3)
        column.addLayout(lower, 1)

    def _service_panel(self) -> QFrame:
        frame, column = panel("opsService")
        self.service_heading = set_role(QLabel(), "maintHeading")
        self.service_status = set_role(QLabel(objectName="opsServiceStatus"), "maintStatus")
        self.service_detail = set_role(QLabel(objectName="opsServiceDetail", wordWrap=True), "maintText")
        self.put_out = button("opsPutOut", "maintDanger")
        self.put_back = button("opsPutBack")
        self.put_out.clicked.connect(self._open_form)
        self.put_back.clicked.connect(self.put_back_requested)
        row = QHBoxLayout()
        row.addWidget(self.service_heading)
        row.addStretch(1)
        row.addWidget(self.service_status)
        column.addLayout(row)
        column.addWidget(self.service_detail)
        column.addStretch(1)
        for widget in (self.put_out, self.put_back):
            column.addWidget(widget)
        return frame

    def _export_panel(self) -> QFrame:
        frame, column = panel("opsExport")
        self.export_heading = set_role(QLabel(), "maintHeading")
        self.no_targets = set_role(QLabel(objectName="opsNoTargets", wordWrap=True), "maintText")
        self.target_grid = QGridLayout()
        self.target_grid.setSpacing(8)
        self.target_chips: dict[str, QPushButton] = {}
        self.look_again = button("opsLookAgain")
        self.export = button("opsExport")
        self.look_again.clicked.connect(self.refresh_requested)
        self.export.clicked.connect(lambda: self.export_requested.emit(self._target))
        column.addWidget(self.export_heading)
        column.addWidget(self.no_targets)
        column.addLayout(self.target_grid)
        column.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(self.look_again)
        row.addWidget(self.export)
        column.addLayout(row)
        return frame

    def _kiosk_panel(self) -> QFrame:
        frame, column = panel("opsKiosk")
        self.kiosk_heading = set_role(QLabel(), "maintHeading")
        self.restart_hint = set_role(QLabel(objectName="opsRestartHint", wordWrap=True), "maintMuted")
        self.restart = button("opsRestart", "maintDanger")
        self.restart.clicked.connect(lambda: self.stack.setCurrentWidget(self.confirm_restart))
        column.addWidget(self.kiosk_heading)
        column.addWidget(self.restart_hint)
        column.addStretch(1)
        column.addWidget(self.restart)
        return frame

    def _restart_panel(self) -> QFrame:
        frame, column = panel("opsRestartConfirm")
        self.restart_heading = set_role(QLabel(), "maintHeading")
        self.restart_text = set_role(QLabel(objectName="opsRestartText", wordWrap=True), "maintText")
        self.restart_now = button("opsRestartNow", "maintDanger")
        self.restart_cancel = button("opsRestartCancel")
        self.restart_now.clicked.connect(self._restart)
        self.restart_cancel.clicked.connect(self._back_to_main)
        column.addWidget(self.restart_heading)
        column.addWidget(self.restart_text)
        row = QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(self.restart_now)
        row.addWidget(self.restart_cancel)
        row.addStretch(1)
        column.addLayout(row)
        column.addStretch(1)
        return frame

    # -- taps -------------------------------------------------------------------------
    def _open_form(self) -> None:
        self.form.wipe()
        self.stack.setCurrentWidget(self.form)

    def _open_hours_form(self) -> None:
        if self._view is not None and self._view.hours is not None:
            self.hours_form.start(self._view.hours)
            self.stack.setCurrentWidget(self.hours_form)

    def _hours(self, signal, *values: str) -> None:
        self._awaiting_hours = True
        signal.emit(*values)

    def _put_out(self, preset: str, words: str) -> None:
        self._awaiting_put_out = True
        self.put_out_requested.emit(preset, words)

    def _restart(self) -> None:
        self._back_to_main()
        self.restart_requested.emit()

    def _back_to_main(self) -> None:
        self._awaiting_put_out = self._awaiting_hours = False
        self.form.wipe()
        self.hours_form.wipe()
        self.stack.setCurrentWidget(self.main)

    def _choose_target(self, path: str) -> None:
        self._target = path
        for chip_path, chip in self.target_chips.items():
            set_role(chip, "maintChip", chosen=chip_path == path)
        self.export.setEnabled(bool(path) and not (self._view and self._view.busy))

    # -- rendering --------------------------------------------------------------------
    def render(self, ctx: RenderContext, view: OperationsView) -> None:
        self._view = view
        tr = ctx.tr
        self.title.setText(tr("maint.ops.title"))
        self._render_message(ctx, view)
        self.outbox.render(ctx, view.outbox, view.purchases, view.busy)
        self._render_service(ctx, view)
        self._render_export(ctx, view)
        self.kiosk_heading.setText(tr("maint.ops.restart.heading"))
        self.restart.setText(tr("maint.ops.restart.button"))
        self.restart_hint.setText(tr("maint.ops.restart.hint"))
        self.restart_heading.setText(tr("maint.ops.restart.heading"))
        self.restart_text.setText(tr("maint.ops.restart.confirm_text"))
        self.restart_now.setText(tr("maint.ops.restart.confirm"))
        self.restart_cancel.setText(tr("maint.ops.cancel"))
        for action in (self.refresh, self.put_out, self.put_back, self.look_again, self.restart, self.restart_now):
            action.setEnabled(not view.busy)
        self.sync.setEnabled(not view.busy and view.outbox is not None)  # no journal: nothing to send
        self.form.render(ctx, view.presets, view.busy)
        self.hours_form.render(ctx, view.busy)
        self.hours_panel.setVisible(view.hours is not None)
        if view.hours is not None:
            self.hours_panel.render(ctx, view.hours, view.busy)
        done = not view.busy and view.notice and view.notice.tone != "error"
        if (self._awaiting_put_out or self._awaiting_hours) and done:
            self._back_to_main()  # put out, or today's hours kept: the form's work is done

    def _render_message(self, ctx: RenderContext, view: OperationsView) -> None:
        said = [n for n in (view.notice, view.purchase_notice) if n is not None]  # the payments', the purchases'
        self.message.setVisible(bool(said))
        if said:
            self.message.setText(" ".join(n.text(ctx.tr) for n in said))
            set_role(self.message, "maintMessage", tone=max((n.tone for n in said), key=TONES.index))  # the worse

    def _render_service(self, ctx: RenderContext, view: OperationsView) -> None:
        tr, state = ctx.tr, view.switch
        self.service_heading.setText(tr("maint.ops.switch.heading"))
        self.service_status.setText(tr("maint.ops.switch.out" if state.out else "maint.ops.switch.in_service"))
        set_role(self.service_status, "maintStatus", tone="fault" if state.out else "")
        if state.out:
            reason = tr(view.reason_preset.key) if view.reason_preset else ""
            reason = " - ".join(part for part in (reason, view.reason_words) if part)
            detail = tr("maint.ops.switch.out_since", when=when(state.since or 0), by=state.by, reason=reason)
        elif state.since is not None:
            detail = tr("maint.ops.switch.back_since", when=when(state.since), by=state.by)
        else:
            detail = tr("maint.ops.switch.never_out")
        self.service_detail.setText(detail)
        self.put_out.setText(tr("maint.ops.switch.put_out_button"))
        self.put_back.setText(tr("maint.ops.switch.put_back_button"))
        self.put_out.setVisible(not state.out)
        self.put_back.setVisible(state.out)

    def _render_export(self, ctx: RenderContext, view: OperationsView) -> None:
        tr = ctx.tr
        self.export_heading.setText(tr("maint.ops.export.heading"))
        self.look_again.setText(tr("maint.ops.export.look_again"))
        self.export.setText(tr("maint.ops.export.button"))
        targets = view.targets
        if len(targets) > MAX_TARGETS:  # the first sticks, and the directory itself (always last)
            targets = targets[:MAX_TARGETS - 1] + targets[-1:]
        if tuple(t.path for t in targets) != tuple(t.path for t in self._targets):
            self._build_target_chips(targets)
        for target in targets:
            self.target_chips[target.path].setText(_target_text(ctx, target))
        self.no_targets.setText(tr("maint.ops.export.no_sticks"))
        self.no_targets.setVisible(not any(t.removable for t in targets))
        self._choose_target(self._target if self._target in self.target_chips else _default_target(targets))

    def _build_target_chips(self, targets: tuple[ExportTarget, ...]) -> None:
        for chip in self.target_chips.values():
            chip.deleteLater()
        self.target_chips = {}
        self._targets = targets
        for n, target in enumerate(targets):
            chip = set_role(QPushButton(objectName=f"exportTarget_{n}"), "maintChip", chosen=False)
            chip.clicked.connect(lambda _=False, path=target.path: self._choose_target(path))
            self.target_grid.addWidget(chip, n, 0)
            self.target_chips[target.path] = chip

    def wipe(self) -> None:
        """Logout: nothing typed or chosen stays for the next person."""
        self._back_to_main()
        self._target = ""
        self._view = None
        self.outbox.wipe()
        self.message.clear()
        self.message.setVisible(False)


def _default_target(targets: tuple[ExportTarget, ...]) -> str:
    """A writable stick first; the directory itself only when there is none."""
    for target in targets:
        if target.removable and target.writable:
            return target.path
    return targets[0].path if targets else ""


def _target_text(ctx: RenderContext, target: ExportTarget) -> str:
    label = target.label if len(target.label) <= PATH_CHARS else "…" + target.label[-(PATH_CHARS - 1):]
    name = label if target.removable else ctx.tr("maint.ops.export.folder", path=label)
    state = (ctx.tr("maint.ops.export.free", free=human_size(target.free_bytes)) if target.writable
             else ctx.tr("maint.ops.export.chip_read_only"))
    return f"{name} · {state}"
