"""The maintenance screen on the GUI thread: the hidden entry, the login, the pages, the idle logout.

Every page's work (a PIN's scrypt, the journal, the archive, a driver, the
printer, a USB stick) runs as a :class:`~screens.background.BackgroundOp`,
one at a time (the maintenance file has one connection, and a person does one
thing at a time); the screen shows the frame as busy meanwhile and never waits.
While the screen is open the service monitor puts the machine out of service
(the heartbeat says so) and the acceptor takes no note but a test note.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from kiosk.config import KioskConfig
from kiosk.hidden_entry import TapSequence
from kiosk.journey_state import MONEY_STEPS, Step
from kiosk.maintenance_pages import MaintPage, ShellView
from screens.background import BackgroundOp

log = logging.getLogger("kiosk.maintenance")


class MaintenanceController(QObject):
    def __init__(self, config: KioskConfig, kiosk_app, parts_factory: Callable[[], object] | None, *,
                 monotonic: Callable[[], float] = time.monotonic, unavailable: str = "") -> None:
        """``kiosk_app``: the customer side's controller (its window, journey, services);
        ``parts_factory()`` builds the Qt-free maintenance parts (runs once, on a worker);
        ``unavailable``: why there is no maintenance file (every entry is refused, and logged)."""
        super().__init__(kiosk_app)
        self.unavailable = unavailable
        self.config = config
        self.kiosk_app = kiosk_app
        self.window = kiosk_app.window
        self._parts_factory = parts_factory
        self.parts = None  # app.maintenance_parts.MaintenanceParts, once built
        self.screen = None  # screens.maintenance.maintenance_screen.MaintenanceScreen, built on first entry
        self.pages = None  # app.maintenance_pages.PageWiring
        self.taps = TapSequence(clock=monotonic)
        self.current: MaintPage | None = None
        self._io = threading.Lock()  # one maintenance operation at a time
        self._running = 0
        self._render_queued = False
        self.window.hidden_spot_tapped.connect(self._spot_tapped)
        self._idle = QTimer(self, interval=1000, timeout=self._idle_tick)

    @property
    def is_open(self) -> bool:
        return self.window.showing_maintenance

    @property
    def busy(self) -> bool:
        return self._running > 0

    # -- the hidden entry ---------------------------------------------------------
    def _spot_tapped(self) -> None:
        if self.is_open or not self.taps.tap():
            return
        refusal = self.entry_refusal()
        if refusal is not None:
            log.warning("maintenance entry refused", extra={"why": refusal})
            if not self.unavailable:
                self.run(lambda parts: parts.session.entry_refused(refusal), lambda _: None)
            return
        self.open()

    def entry_refusal(self) -> str | None:
        """Why the maintenance screen may not open now, or None: never over a customer's session."""
        if self.unavailable:
            return self.unavailable
        step = self.kiosk_app.journey.state.step
        if step in MONEY_STEPS or getattr(self.kiosk_app, "_cash_in", None) is not None:
            return "money in play: a customer is paying"
        if step is not Step.HOME:
            return f"a customer session is open ({step.value})"
        return None

    def open(self) -> None:
        """The screen, at its login page; the customer side goes out of service meanwhile."""
        from app.maintenance_pages import PageWiring
        from screens.maintenance.maintenance_screen import MaintenanceScreen

        if self.screen is None:
            self.screen = MaintenanceScreen()
            self.pages = PageWiring(self)
            self.screen.page_chosen.connect(lambda value: self.show_page(MaintPage(value)))
            self.screen.logout_requested.connect(lambda: self.logout("user"))
        self.current = None
        self.window.show_maintenance(self.screen)
        self._switch(lambda switch: switch.maintenance_open("nobody yet, at the login page"))
        self.run(lambda parts: parts.opened(), lambda _: self._after_open())

    def _after_open(self) -> None:
        self._idle.start()  # a login page left alone closes too, or the machine would stay out of service
        self.kiosk_app.render()  # the heartbeat and the level now say "out of service"
        self.kiosk_app.heartbeat()
        self.pages.show_login()
        self.render()

    def close(self, why: str = "user") -> None:
        """Back to the customer side (after a logout, or "Cancel" at the login); audited with ``why``
        ("user", "idle") in one operation, so nothing can audit it first with another reason."""
        if not self.is_open:
            return
        self._idle.stop()
        self.pages.wipe()
        self.screen.wipe()
        self.current = None
        self.window.hide_maintenance()
        self._switch(lambda switch: switch.maintenance_closed())
        self.kiosk_app.render()
        self.kiosk_app.heartbeat()
        self.run(lambda parts: parts.closed(why), lambda _: None)

    def _switch(self, change) -> None:
        """The service switch's in-memory state (the screen open or not): here, so the level changes
        with the screen, not a worker's turn later."""
        switch = getattr(self.kiosk_app.services, "switch", None)
        if switch is not None:
            change(switch)

    # -- logged in ----------------------------------------------------------------
    def logged_in(self) -> None:
        self.current = None
        pages = self.shell_view().pages
        self.show_page(pages[0])
        self.pages.build_soon(pages[1:])

    def logout(self, why: str) -> None:
        self.close(why)

    def show_page(self, page: MaintPage) -> None:
        session = self.parts.session
        if not session.may(page):
            return
        session.touch()
        self.current = page
        self.pages.show(page)
        self.render()

    def touch(self) -> None:
        if self.parts is not None and self.parts.session.user is not None:
            self.parts.session.touch()

    def _idle_tick(self) -> None:
        if self.parts is None:
            return
        session = self.parts.session
        if session.expired():
            log.info("maintenance screen closed after idle time", extra={"user": session.user})
            self.logout("idle")
        elif session.user is not None:
            self.render()  # the countdown in the user bar

    # -- rendering and work ----------------------------------------------------------
    def shell_view(self) -> ShellView:
        session = self.parts.session if self.parts else None
        if session is None or session.user is None:
            return ShellView(busy=self.busy)
        view = ShellView.logged_in(session.user, session.role, self.current, int(session.idle_left_s()))
        return view if not self.busy else ShellView(**{**view.__dict__, "busy": True})

    def render_soon(self) -> None:
        """One render for a burst of news (statuses and test notes come several per turn)."""
        if not self._render_queued:
            self._render_queued = True
            QTimer.singleShot(0, self, self._render_queued_now)

    def _render_queued_now(self) -> None:
        self._render_queued = False
        self.render()

    def render(self) -> None:
        if self.screen is None or not self.is_open:
            return
        ctx = self.kiosk_app.context()
        self.screen.render(ctx, self.shell_view())
        self.pages.render(ctx)

    def run(self, work: Callable[[object], object], done: Callable[[object], None],
            failed: Callable[[BaseException], None] | None = None) -> None:
        """``work(parts)`` on a worker, one at a time; ``done(result)`` or ``failed(error)`` here."""
        self._running += 1

        def op():
            with self._io:
                if self.parts is None:
                    self.parts = self._parts_factory()
                return work(self.parts)

        def finish(callback, value) -> None:
            self._running -= 1
            callback(value)
            self.render()

        def failure(error: BaseException) -> None:
            log.error("maintenance operation failed", exc_info=error)
            if failed is not None:
                failed(error)

        BackgroundOp(self, op=op, success=lambda value: finish(done, value)) \
            .failure(lambda error: finish(failure, error)).run_in_background()

    def restart_kiosk(self) -> None:
        """The restart the operations page confirmed (audited there): the process exits with the code
        systemd restarts on (``kiosk run`` by hand starts itself again)."""
        from PySide6.QtWidgets import QApplication

        from app.runtime import EXIT_RESTART

        log.warning("kiosk restart asked for on the maintenance screen",
                    extra={"user": self.parts.session.user if self.parts else None})
        self.window.allow_close()
        QApplication.instance().exit(EXIT_RESTART)
