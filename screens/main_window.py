"""The kiosk window: header, step bar, the current screen, footer — or the sign.

It renders a :class:`~kiosk.journey.JourneyState` and a
:class:`~kiosk.availability.ServiceLevel`; it decides nothing itself.  It is
also where the kiosk is locked down: no frame, no Esc, no context menu, no
close by the window manager.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from kiosk.availability import ServiceLevel
from kiosk.config import KioskConfig
from kiosk.journey import JourneyState, Step
from screens.account_entry_screen import AccountEntryScreen
from screens.context import RenderContext
from screens.failure_screen import FailureScreen
from screens.footer import Footer
from screens.header import Header
from screens.home_screen import HomeScreen
from screens.idle_prompt import IdlePromptOverlay
from screens.lookup_progress_screen import LookupProgressScreen
from screens.out_of_order_screen import OutOfOrderScreen
from screens.overview_screen import OverviewScreen
from screens.step_bar import StepBar
from screens.utility_screen import UtilityScreen


class MainWindow(QMainWindow):
    def __init__(self, config: KioskConfig) -> None:
        super().__init__()
        self.setWindowTitle("Utility self-service kiosk")
        self.setObjectName("kioskRoot")
        self._allow_close = False

        self.header = Header()
        self.step_bar = StepBar()
        self.footer = Footer()
        self.home = HomeScreen()
        self.utility = UtilityScreen(config.utilities)
        self.account_entry = AccountEntryScreen()
        self.lookup_progress = LookupProgressScreen()
        self.overview = OverviewScreen()
        self.failure = FailureScreen()
        self.out_of_order = OutOfOrderScreen()
        self.screens = {
            Step.HOME: self.home,
            Step.UTILITY: self.utility,
            Step.ACCOUNT: self.account_entry,
            Step.LOOKUP: self.lookup_progress,
            Step.OVERVIEW: self.overview,
            Step.FAILED: self.failure,
        }
        self.steps = QStackedWidget()
        for screen in self.screens.values():
            self.steps.addWidget(screen)

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
        self.pages.addWidget(self.out_of_order)
        self.setCentralWidget(self.pages)
        self.idle_prompt = IdlePromptOverlay(self.pages)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)

    # -- rendering -------------------------------------------------------
    def render(self, ctx: RenderContext, state: JourneyState, level: ServiceLevel) -> None:
        if not level.in_service and state.step is Step.HOME:
            self.out_of_order.render(ctx, level)
            self.pages.setCurrentWidget(self.out_of_order)
            self.idle_prompt.hide()
            return
        self.pages.setCurrentIndex(0)
        self.header.render(ctx)
        self.footer.render(ctx)
        self.step_bar.render(ctx, state.step_bar_position)
        if state.step is Step.HOME:
            self.wipe()
        screen = self.screens[state.step]
        screen.render(ctx, state)
        self.steps.setCurrentWidget(screen)
        self.idle_prompt.render(ctx, state.idle_prompt)

    def wipe(self) -> None:
        """Forget every customer's trace in every widget (rule 5)."""
        for screen in self.screens.values():
            screen.wipe()
        self.idle_prompt.hide()

    @property
    def showing_out_of_order(self) -> bool:
        return self.pages.currentWidget() is self.out_of_order

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
        if self.idle_prompt.isVisible():
            self.idle_prompt.setGeometry(self.pages.rect())


class KioskLockdown(QObject):
    """Application-wide filter: Esc and context menus never reach a widget."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ContextMenu:
            return True
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            if isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
                return True
        return False
