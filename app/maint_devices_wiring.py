"""The device pages and the repair form, wired to their models.

Statuses reach the device page from the customer side's signal (already on
the GUI thread); a running acceptor test reports from the driver's thread, so
its news comes over a queued signal.  Tests, resets and the archive run on a
worker; choosing a device or a phrase is immediate.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.maint_form_wiring import FormWiring
from kiosk.device_page import DevicePage, DeviceTestSetup
from kiosk.maintenance_pages import MaintPage
from kiosk.repair_form import RepairForm


class _Relay(QObject):
    changed = Signal(object)  # a DevicePageView, from the acceptor's thread


class DevicesWiring:
    def __init__(self, controller) -> None:
        from screens.maintenance.device_page import DevicePageWidget

        self.controller = controller
        self.widget = page = DevicePageWidget()
        self.model: DevicePage | None = None
        self.view = None
        self._relay = _Relay(controller)
        self._relay.changed.connect(self._news)
        controller.kiosk_app.device_status.connect(self._status)
        page.device_chosen.connect(self._choose)
        page.test_requested.connect(lambda: self._work(lambda model: model.run_test()))
        page.test_stop_requested.connect(lambda: self._work(lambda model: model.stop_test()))
        page.reset_requested.connect(lambda: self._work(self._reset))
        page.repair_requested.connect(self._repair)

    def open(self) -> None:
        parts = self.controller.parts
        if self.model is None:
            config = parts.config
            setup = DeviceTestSetup(config.terminal.id, config.terminal.hall_name_zh, config.terminal.hall_name_en,
                                    frozenset(config.payment.accepted_fen))
            self.model = DevicePage(parts.devices, parts.archive.opened, lambda: parts.payments.journal,
                                    parts.audit, parts.session.user, setup, on_change=self._relay.changed.emit)
            for status in self.controller.kiosk_app.monitor.statuses.values():
                self.model.update_status(status)
        self.view = self.model.view()

        def prepare(model: DevicePage):
            model.prepare()
            return model.refresh()

        self._work(prepare)

    def _status(self, status) -> None:
        if self.model is not None:
            self.model.update_status(status)
            if self.controller.is_open and self.controller.current is MaintPage.DEVICES:
                self._news(self.model.view())

    def _choose(self, device: str) -> None:
        if self.model is None:
            return
        self.controller.touch()
        self.view = self.model.select(device)
        self._work(lambda model: model.refresh())

    def _reset(self, model: DevicePage):
        view = model.reset()
        # The acceptor's driver is a new object after a reset: the payment service takes notes with it.
        service = getattr(self.controller.parts.payments, "service", None)
        if service is not None and self.controller.parts.devices.acceptor is not None:
            service.acceptor = self.controller.parts.devices.acceptor
        return view

    def _repair(self, device: str) -> None:
        self.controller.show_page(MaintPage.REPAIRS)
        repairs = self.controller.pages.current
        if isinstance(repairs, RepairsWiring):
            repairs.choose(device)

    def _work(self, action) -> None:
        self.controller.touch()
        model = self.model
        self.controller.run(lambda parts: action(model), self._shown)

    def _shown(self, view) -> None:
        self.view = view
        self.controller.render()

    def _news(self, view) -> None:
        """A status or a test note, not a tap: drawn with the rest of the burst."""
        self.view = view
        self.controller.render_soon()

    def render(self, ctx) -> None:
        if self.view is not None:
            self.widget.render(ctx, self.view)

    def wipe(self) -> None:
        """Logout: a running acceptor test is stopped (the model waits for the acceptor on a worker)."""
        model, self.model, self.view = self.model, None, None
        if model is not None:
            self.controller.run(lambda parts: model.close(), lambda _: None)
        self.widget.wipe()


class RepairsWiring(FormWiring):
    def __init__(self, controller) -> None:
        from screens.maintenance.repair_page import RepairPageWidget

        super().__init__(controller, RepairPageWidget())
        page = self.widget
        page.device_chosen.connect(self.choose)
        for signal, action in ((page.what_toggled, "toggle_what"), (page.part_toggled, "toggle_part"),
                               (page.fault_toggled, "toggle_fault"), (page.typing_into, "type_into"),
                               (page.text_typed, "set_typed")):
            signal.connect(lambda *args, name=action: self._quick(name, *args))
        page.save_requested.connect(lambda: self._work(lambda form: form.save()))

    def open(self) -> None:
        parts = self.controller.parts
        if self.form is None:
            # The repair form knows the acceptor, printer and card reader (the scanner's repairs: not yet).
            repairable = tuple(device for device in parts.devices.fitted if device != "scanner")
            self.form = RepairForm(parts.archive.opened, parts.audit, parts.session.user, repairable)
        self.view = self.form.view()
        self._work(lambda form: form.load())

    def choose(self, device: str) -> None:
        if self.form is None:
            return
        self.controller.touch()
        self.view = self.form.select_device(device)  # also while the last device's faults are read
        self._work(lambda form: form.load())  # the open faults of that device
