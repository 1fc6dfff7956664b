"""The operations page wired to its model: outbox, card purchases and sync now, out of service, service
hours today, log export, restart."""

from __future__ import annotations

from dataclasses import replace

from kiosk.operations_model import OperationsModel


class OperationsWiring:
    def __init__(self, controller) -> None:
        from screens.maintenance.operations_page import OperationsPage

        self.controller = controller
        self.widget = page = OperationsPage()
        self.model: OperationsModel | None = None
        self.view = None
        page.refresh_requested.connect(lambda: self._do(lambda model, user: model.view()))
        page.sync_requested.connect(lambda: self._do(lambda model, user: model.sync_now(user)))
        page.put_out_requested.connect(
            lambda preset, words: self._do(lambda model, user: model.put_out(user, preset, words), level=True))
        page.put_back_requested.connect(lambda: self._do(lambda model, user: model.put_back(user), level=True))
        page.hours_requested.connect(lambda opens, closes: self._do(
            lambda model, user: model.set_hours_today(user, opens, closes), level=True))
        page.closed_today_requested.connect(lambda: self._do(lambda model, user: model.close_today(user), level=True))
        page.clear_hours_requested.connect(
            lambda: self._do(lambda model, user: model.clear_hours_today(user), level=True))
        page.export_requested.connect(lambda path: self._do(lambda model, user: model.export(user, path)))
        page.restart_requested.connect(
            lambda: self._do(lambda model, user: model.restart(user), then=controller.restart_kiosk))

    def open(self) -> None:
        self._do(lambda model, user: model.view())

    def _model(self, parts) -> OperationsModel:
        """Built again when the journal or the card top-ups came up (or went) since the last time: it
        reads the stack's.  The hours are the service monitor's own keeper, so what the page sets is
        what the sign obeys."""
        journal = parts.payments.journal
        hours = getattr(self.controller.kiosk_app.services, "hours", None)
        purchase_sync = getattr(getattr(parts.payments, "top_up", None), "sync", None)  # None: no card top-ups
        model = self.model
        if (model is None or model.journal is not journal or model.hours is not hours
                or model.purchase_sync is not purchase_sync):
            self.model = OperationsModel.from_config(parts.config, journal=journal, sync=parts.payments.sync,
                                                     switch=parts.switch, audit=parts.audit, hours=hours,
                                                     purchase_sync=purchase_sync)
        return self.model

    def _do(self, action, *, level: bool = False, then=None) -> None:
        """``action(model, user)`` on a worker; its view is shown.  ``level``: the service switch changed,
        so the customer side's level (and the heartbeat) follow at once."""
        self.controller.touch()
        if self.view is not None:
            self.view = replace(self.view, busy=True)
            self.controller.render()
        user = self.controller.parts.user if self.controller.parts else ""

        def done(view) -> None:
            self.view = view
            if level:
                self.controller.kiosk_app.heartbeat()
            if then is not None:
                then()

        self.controller.run(lambda parts: action(self._model(parts), user), done)

    def render(self, ctx) -> None:
        if self.view is not None:
            self.widget.render(ctx, self.view)

    def wipe(self) -> None:
        if self.model is not None:
            self.model.wipe()
        self.view = None
        self.widget.wipe()
