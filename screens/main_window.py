"""The kiosk window: header, step bar, the current screen, footer — or the sign.

It renders a :class:`~kiosk.journey.JourneyState` and a
:class:`~kiosk.service_level.ServiceLevel`; it decides nothing itself.  It is
also where the kiosk is locked down: no frame, no Esc, no context menu, no
close by the window manager.
"""

from __future__ import annotations

import importlib

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from typing import Callable

from kiosk.service_level import ServiceLevel
from kiosk.config import KioskConfig
from kiosk.journey_state import MONEY_STEPS, JourneyState, Step
from screens.context import RenderContext
from screens.footer import Footer
from screens.header import Header
from screens.home_screen import HomeScreen
from screens.step_bar import StepBar


# Screens other than home are built on first use (or in idle time after
# start-up), so the home screen is on the glass sooner; their modules are
# imported then for the same reason.
_LAZY_SCREENS = {
    Step.UTILITY: ("screens.utility_screen", "UtilityScreen"),
    Step.ACCOUNT: ("screens.account_entry_screen", "AccountEntryScreen"),
    Step.CARD: ("screens.card_screen", "CardScreen"),
    Step.LOOKUP: ("screens.lookup_progress_screen", "LookupProgressScreen"),
    Step.OVERVIEW: ("screens.overview_screen", "OverviewScreen"),
    Step.FAILED: ("screens.failure_screen", "FailureScreen"),
    Step.PAY_NOTICE: ("screens.pay_notice_screen", "PayNoticeScreen"),
    Step.CASH_IN: ("screens.cash_in_screen", "CashInScreen"),
    Step.PAYING: ("screens.paying_screen", "PayingScreen"),
    Step.PAID: ("screens.paid_screen", "PaidScreen"),
    Step.CARD_OVERVIEW: ("screens.card_overview_screen", "CardOverviewScreen"),
    Step.TOP_UP_AMOUNT: ("screens.top_up_amount_screen", "TopUpAmountScreen"),
    Step.TOP_UP_WRITING: ("screens.top_up_writing_screen", "TopUpWritingScreen"),
    Step.TOP_UP_DONE: ("screens.top_up_result_screen", "TopUpResultScreen"),
}


def _build_screen(step: Step, config: KioskConfig) -> QWidget:
    try:
        module, name = _LAZY_SCREENS[step]
    except KeyError:
        raise ValueError(f"no screen is built lazily for {step}") from None
    screen_class = getattr(importlib.import_module(module), name)
    # The utility tiles are the configured utilities; every other screen is data-free until rendered.
    return screen_class(config.utilities) if step is Step.UTILITY else screen_class()


class MainWindow(QMainWindow):
    help_closed = Signal()  # the customer closed the "Need help?" card
    # A tap on the hidden maintenance spot: the header's hall name, the sign's code line.
    hidden_spot_tapped = Signal()

    def __init__(self, config: KioskConfig,
                 on_screen_built: Callable[[Step, QWidget], None] = lambda step, screen: None) -> None:
        super().__init__()
        self.setWindowTitle("Utility self-service kiosk")
        self.setObjectName("kioskRoot")
        self._allow_close = False
        self._config = config
        self._on_screen_built = on_screen_built

        self.header = Header()
        self.step_bar = StepBar()
        self.footer = Footer()
        self.home = HomeScreen()
        self.header.hall_name.installEventFilter(self)
        self._maintenance: QWidget | None = None  # the maintenance screen, while it is open
        self._out_of_order = None
        self._held_out_of_order: ServiceLevel | None = None  # a failed start's sign, for good
        self._idle_prompt = None
        self._help = None  # the "Need help?" card, built on first use
        self.elder_mode = False
        self._screens: dict[Step, QWidget] = {Step.HOME: self.home}
        self.steps = QStackedWidget()
        self.steps.addWidget(self.home)

        serving = QWidget()
        column = QVBoxLayout(serving)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(self.step_bar)
        column.addWidget(self.steps, 1)
        column.addWidget(self.footer)
        self.pages = QStackedWidget()
        self.pages.addWidget(serving)
        self.setCentralWidget(self.pages)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)

    # -- screens, built on first use ------------------------------------------
    def screen(self, step: Step) -> QWidget:
        screen = self._screens.get(step)
        if screen is None:
            screen = _build_screen(step, self._config)
            self._screens[step] = screen
            self.steps.addWidget(screen)
            self._on_screen_built(step, screen)
        return screen

    def build_remaining_screens(self) -> None:
        """Build one screen per event-loop turn until all exist (idle time)."""
        missing = [step for step in Step if step not in self._screens]
        if missing:
            self.screen(missing[0])
            # With the window as context the call is dropped if the window is deleted first.
            QTimer.singleShot(0, self, self.build_remaining_screens)

    @property
    def screens(self) -> dict[Step, QWidget]:
        return {step: self.screen(step) for step in Step}

    utility = property(lambda self: self.screen(Step.UTILITY))
    account_entry = property(lambda self: self.screen(Step.ACCOUNT))
    lookup_progress = property(lambda self: self.screen(Step.LOOKUP))
    overview = property(lambda self: self.screen(Step.OVERVIEW))
    failure = property(lambda self: self.screen(Step.FAILED))
    card = property(lambda self: self.screen(Step.CARD))
    pay_notice = property(lambda self: self.screen(Step.PAY_NOTICE))
    cash_in = property(lambda self: self.screen(Step.CASH_IN))
    paying = property(lambda self: self.screen(Step.PAYING))
    paid = property(lambda self: self.screen(Step.PAID))
    card_overview = property(lambda self: self.screen(Step.CARD_OVERVIEW))
    top_up_amount = property(lambda self: self.screen(Step.TOP_UP_AMOUNT))
    top_up_writing = property(lambda self: self.screen(Step.TOP_UP_WRITING))
    top_up_done = property(lambda self: self.screen(Step.TOP_UP_DONE))

    @property
    def out_of_order(self):
        if self._out_of_order is None:
            from screens.out_of_order_screen import OutOfOrderScreen

            self._out_of_order = OutOfOrderScreen()
            self._out_of_order.code.installEventFilter(self)
            self.pages.addWidget(self._out_of_order)
        return self._out_of_order

    @property
    def help_overlay(self):
        if self._help is None:
            from screens.help_overlay import HelpOverlay

            self._help = HelpOverlay(self.pages)
            self._help.closed.connect(self.help_closed)
        return self._help

    @property
    def idle_prompt(self):
        if self._idle_prompt is None:
            from screens.idle_prompt import IdlePromptOverlay

            self._idle_prompt = IdlePromptOverlay(self.pages)
            self._on_screen_built(None, self._idle_prompt)
        return self._idle_prompt

    def hold_out_of_order(self, ctx: RenderContext, level: ServiceLevel) -> None:
        """Show the sign with ``level``'s reason and keep it whatever is rendered later:
        the kiosk could not start, and no half-started home screen may replace it."""
        self._held_out_of_order = level
        self.render(ctx, JourneyState(), level)

    # -- the maintenance screen covers everything while it is open --------------
    def show_maintenance(self, screen: QWidget) -> None:
        if self.pages.indexOf(screen) < 0:
            self.pages.addWidget(screen)
        self._maintenance = screen
        for overlay in (self._idle_prompt, self._help):
            if overlay is not None:
                overlay.hide()
        self.pages.setCurrentWidget(screen)

    def hide_maintenance(self) -> None:
        """Back to the customer side; the caller renders it."""
        self._maintenance = None

    @property
    def showing_maintenance(self) -> bool:
        return self._maintenance is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self.hidden_spot_tapped.emit()
        return False

    # -- rendering -------------------------------------------------------
    def render(self, ctx: RenderContext, state: JourneyState, level: ServiceLevel) -> None:
        if self._maintenance is not None:
            return  # the customer side is not on the glass; it is rendered when the screen closes
        if self._held_out_of_order is not None:
            level, state = self._held_out_of_order, JourneyState()
        if not level.in_service and state.step is Step.HOME:
            self.out_of_order.render(ctx, level)
            self.pages.setCurrentWidget(self.out_of_order)
            for overlay in (self._idle_prompt, self._help):
                if overlay is not None:
                    overlay.hide()
            return
        self.pages.setCurrentIndex(0)
        self._apply_elder_mode(state.elder)
        self.header.render(ctx, state.elder)
        self.footer.render(ctx)
        self.step_bar.render(ctx, state)
        if state.step is Step.HOME:
            self.wipe()
        screen = self.screen(state.step)
        screen.render(ctx, state)
        self.steps.setCurrentWidget(screen)
        if state.idle_prompt is not None or self._idle_prompt is not None:
            self.idle_prompt.render(ctx, state.idle_prompt)
        if state.help_shown or self._help is not None:
            self.help_overlay.render(ctx, state.help_shown, money_in_play=state.step in MONEY_STEPS)

    def _apply_elder_mode(self, on: bool) -> None:
        """Elder mode is a stylesheet laid over the kiosk's, on this window only."""
        if on == self.elder_mode:
            return
        from screens.stylesheet import elder_stylesheet

        self.elder_mode = on
        self.setStyleSheet(elder_stylesheet() if on else "")

    def wipe(self) -> None:
        """Forget every customer's trace in every widget (rule 5)."""
        for screen in self._screens.values():
            screen.wipe()
        if self._idle_prompt is not None:
            self._idle_prompt.hide()

    @property
    def showing_out_of_order(self) -> bool:
        return self._out_of_order is not None and self.pages.currentWidget() is self._out_of_order

    def pin_size(self, width: int, height: int) -> None:
        """The window is the screen and never grows past it: a screen whose content
        needs more room squeezes (and the accessibility tests catch it) instead of
        pushing the bottom row of buttons off the glass."""
        self.setFixedSize(width, height)

    # -- lockdown ----------------------------------------------------------
    def allow_close(self) -> None:
        """Only the process owner (Ctrl+C in the demo, systemd stop) may close."""
        self._allow_close = True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._allow_close:
            event.accept()
        else:
            event.ignore()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._idle_prompt is not None and self._idle_prompt.isVisible():
            self._idle_prompt.setGeometry(self.pages.rect())


class KioskLockdown(QObject):
    """Application-wide filter: Esc and context menus never reach a widget."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ContextMenu:
            return True
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            if isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
                return True
        return False
