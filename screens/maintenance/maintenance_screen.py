"""The maintenance screen's frame: the out-of-service band, the user bar, the navigation, the page.

While it is open the machine serves no customer, and the red band says so to
anyone looking at the glass.  The frame renders a
:class:`~kiosk.maintenance_pages.ShellView`; the pages are given to it (each
slice's widget) and it only shows the one the view names.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk.i18n import Translator
from kiosk.maintenance_pages import MaintPage, ShellView
from screens.context import RenderContext, set_role


class MaintenanceScreen(QWidget):
    page_chosen = Signal(str)  # a MaintPage value
    logout_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("maintRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.banner = QWidget(objectName="maintBanner")
        self.banner.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.banner_text = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        QHBoxLayout(self.banner).addWidget(self.banner_text)
        self.user_bar = QWidget(objectName="maintUserBar")
        self.user_bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.user_text = QLabel()
        self.idle_text = QLabel()
        self.logout = QPushButton(objectName="maintLogout")
        self.logout.clicked.connect(self.logout_requested)
        bar = QHBoxLayout(self.user_bar)
        bar.setContentsMargins(24, 4, 24, 4)
        bar.addWidget(self.user_text, 1)
        bar.addWidget(self.idle_text)
        bar.addSpacing(24)
        bar.addWidget(self.logout)
        self.nav = QWidget(objectName="maintNav")
        self.nav.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        nav_column = QVBoxLayout(self.nav)
        nav_column.setContentsMargins(20, 20, 20, 20)
        nav_column.setSpacing(12)
        self.nav_buttons: dict[MaintPage, QPushButton] = {}
        for page in MaintPage:
            button = QPushButton(objectName=f"maintNav_{page.value}")
            button.setProperty("maintNav", True)
            button.clicked.connect(lambda _=False, p=page: self.page_chosen.emit(p.value))
            nav_column.addWidget(button)
            self.nav_buttons[page] = button
        nav_column.addStretch(1)
        self.stack = QStackedWidget()
        self.login_slot = QWidget()  # replaced by the login page (set_login_page)
        self.stack.addWidget(self.login_slot)
        self._pages: dict[MaintPage, QWidget] = {}
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.user_bar)
        column.addLayout(body, 1)

    # -- the pages, given by the application layer --------------------------------
    def set_login_page(self, page: QWidget) -> None:
        self.stack.removeWidget(self.login_slot)
        self.login_slot = page
        self.stack.insertWidget(0, page)

    def set_page(self, page: MaintPage, widget: QWidget) -> None:
        self._pages[page] = widget
        self.stack.addWidget(widget)

    def page(self, page: MaintPage) -> QWidget | None:
        return self._pages.get(page)

    # -- rendering ----------------------------------------------------------------------
    def render(self, ctx: RenderContext, view: ShellView) -> None:
        zh, en = Translator("zh"), Translator("en")
        # Signage for the customer side: both languages, whatever the staff member reads.
        self.banner_text.setText(f"{zh('maint.shell.banner')}  ·  {en('maint.shell.banner')}")
        logged_in = view.user is not None
        self.user_bar.setVisible(logged_in)
        self.nav.setVisible(logged_in)
        if not logged_in:
            self.stack.setCurrentWidget(self.login_slot)
            return
        self.user_text.setText(ctx.tr("maint.shell.user", user=view.user, role=ctx.tr(f"maint.role.{view.role}")))
        self.idle_text.setText(ctx.tr("maint.shell.idle", seconds=view.idle_left_s))
        self.logout.setText(ctx.tr("maint.shell.logout"))
        set_role(self.logout, "maintAction")
        for page, button in self.nav_buttons.items():
            button.setVisible(page in view.pages)
            button.setText(ctx.tr(f"maint.page.{page.value}"))
            current = page is view.current
            if button.property("current") != current:  # re-polishing costs a few ms: only on a change
                button.setProperty("current", current)
                button.style().unpolish(button)
                button.style().polish(button)
        widget = self._pages.get(view.current) if view.current is not None else None
        if widget is not None:
            self.stack.setCurrentWidget(widget)

    def wipe(self) -> None:
        """Logout: every page forgets what was typed or shown."""
        for widget in (self.login_slot, *self._pages.values()):
            wipe = getattr(widget, "wipe", None)
            if wipe is not None:
                wipe()
