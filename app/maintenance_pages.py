"""Which widget and model make each maintenance page, built on first use, and the login page.

Each page's wiring (``app/maint_*_wiring.py``) connects its widget's signals
to its Qt-free model through :meth:`MaintenanceController.run`, keeps the
last view the model gave, and renders it.  This module only chooses and
switches; a page module is imported when the page is first opened.
"""

from __future__ import annotations

import importlib

from kiosk.maintenance_pages import MaintPage

_WIRING = {
    MaintPage.DEVICES: ("app.maint_devices_wiring", "DevicesWiring"),
    MaintPage.COLLECTION: ("app.maint_collection_wiring", "CollectionWiring"),
    MaintPage.REPAIRS: ("app.maint_devices_wiring", "RepairsWiring"),
    MaintPage.OPERATIONS: ("app.maint_ops_wiring", "OperationsWiring"),
    MaintPage.ACCOUNTS: ("app.maint_login_wiring", "AccountsWiring"),
}


class PageWiring:
    def __init__(self, controller) -> None:
        from app.maint_login_wiring import LoginWiring

        self.controller = controller
        self.login = LoginWiring(controller)
        controller.screen.set_login_page(self.login.widget)
        self._pages: dict[MaintPage, object] = {}
        self.current: object | None = None

    def show_login(self) -> None:
        self.current = self.login
        self.login.open()

    def wiring(self, page: MaintPage):
        """The page's wiring and widget, built (its modules imported) on first use."""
        wiring = self._pages.get(page)
        if wiring is None:
            module, name = _WIRING[page]
            wiring = getattr(importlib.import_module(module), name)(self.controller)
            self._pages[page] = wiring
            self.controller.screen.set_page(page, wiring.widget)
        return wiring

    def show(self, page: MaintPage) -> None:
        self.current = self.wiring(page)
        self.current.open()

    def build_soon(self, pages: tuple[MaintPage, ...]) -> None:
        """Build the pages not built yet, one per event-loop turn (idle time after a login), so the
        first tap on each is as quick as the next."""
        from PySide6.QtCore import QTimer

        missing = [page for page in pages if page not in self._pages]
        if missing:
            self.wiring(missing[0])
            QTimer.singleShot(0, self.controller, lambda: self.build_soon(pages))

    def render(self, ctx) -> None:
        if self.current is not None:
            self.current.render(ctx)

    def wipe(self) -> None:
        for wiring in (self.login, *self._pages.values()):
            wiring.wipe()
        self.current = None
