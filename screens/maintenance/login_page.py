"""The maintenance login page: a button per staff name, the PIN as dots, the numeric keypad, Log in, Cancel.

It renders a ``kiosk.maintenance_login.LoginView`` and forwards taps as
signals; the digits stay in the Qt-free form, so no widget here ever holds
the PIN — the field shows one dot per digit typed.  Nothing of a customer is
on it: it replaces the customer screens while it is open.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.maintenance_accounts import MIN_PIN_DIGITS
from kiosk.maintenance_login import USERS_PER_PAGE, LoginView
from kiosk.maintenance_words import ROLE_KEYS
from screens.maintenance.paging_row import show_paging
from screens.context import RenderContext, set_role
from screens.keypad import Keypad

NAME_COLUMNS = 2
NAME_SHOWN = 18  # characters of a name on its button; a longer one ends in "…"
DOT, SPACE_FOR_DOT = "●", "○"


def pin_dots(typed: int) -> str:
    """A dot per digit typed, rings for the rest of the shortest PIN: counted at a glance."""
    return " ".join(DOT * typed + SPACE_FOR_DOT * max(0, MIN_PIN_DIGITS - typed))


def shown_name(name: str) -> str:
    return name if len(name) <= NAME_SHOWN else name[: NAME_SHOWN - 1] + "…"


class LoginPage(QWidget):
    user_chosen = Signal(str)
    digit_typed = Signal(str)
    backspace_pressed = Signal()
    clear_pressed = Signal()
    login_tapped = Signal()
    cancel_tapped = Signal()
    page_tapped = Signal(int)  # the page of names to show

    def __init__(self) -> None:
        super().__init__()
        self.title = set_role(QLabel(), "maintTitle")
        self.subtitle = set_role(QLabel(wordWrap=True), "maintMuted")
        self.choose_heading = set_role(QLabel(), "maintHeading")
        self.pin_heading = set_role(QLabel(), "maintHeading")
        self.pin_field = set_role(QLabel(objectName="maintPinField"), "maintTitle")
        self.pin_count = set_role(QLabel(), "maintMuted")
        self.message = set_role(QLabel(wordWrap=True), "maintMessage")
        self.keypad = Keypad()
        self.submit = set_role(QPushButton(), "maintAction")
        self.cancel = set_role(QPushButton(), "maintAction")
        self.submit.clicked.connect(self.login_tapped)
        self.cancel.clicked.connect(self.cancel_tapped)
        self.keypad.digit_pressed.connect(self.digit_typed)
        self.keypad.backspace_pressed.connect(self.backspace_pressed)
        self.keypad.clear_pressed.connect(self.clear_pressed)
        self.name_buttons = [self._name_button() for _ in range(USERS_PER_PAGE)]
        self.previous_page = set_role(QPushButton(), "maintAction")
        self.next_page = set_role(QPushButton(), "maintAction")
        self.page_label = set_role(QLabel(), "maintMuted")
        self._page = 0
        self.previous_page.clicked.connect(lambda: self.page_tapped.emit(self._page - 1))
        self.next_page.clicked.connect(lambda: self.page_tapped.emit(self._page + 1))
        self._lay_out()

    def _name_button(self) -> QPushButton:
        button = set_role(QPushButton(), "maintChip", chosen=False)
        button.clicked.connect(lambda _=False, b=button: self.user_chosen.emit(b.property("userName")))
        return button

    def _lay_out(self) -> None:
        names = QGridLayout()
        names.setSpacing(12)
        for index, button in enumerate(self.name_buttons):
            names.addWidget(button, index // NAME_COLUMNS, index % NAME_COLUMNS)
        paging = QHBoxLayout()
        paging.setSpacing(16)
        paging.addWidget(self.previous_page)
        paging.addWidget(self.page_label)
        paging.addWidget(self.next_page)
        paging.addStretch(1)
        field_panel = set_role(QWidget(), "maintPanel")
        field_row = QHBoxLayout(field_panel)
        field_row.setContentsMargins(20, 8, 20, 8)
        field_row.addWidget(self.pin_field, 1)
        field_row.addWidget(self.pin_count)
        field_panel.setMinimumHeight(76)
        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(self.choose_heading)
        left.addLayout(names)
        left.addLayout(paging)
        left.addSpacing(8)
        left.addWidget(self.pin_heading)
        left.addWidget(field_panel)
        left.addWidget(self.message)
        left.addStretch(1)
        actions = QHBoxLayout()
        actions.setSpacing(16)
        actions.addWidget(self.cancel)
        actions.addWidget(self.submit)
        right = QVBoxLayout()
        right.setSpacing(20)
        right.addWidget(self.keypad)
        right.addLayout(actions)
        right.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(48)
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 24, 40, 24)
        column.setSpacing(8)
        column.addWidget(self.title)
        column.addWidget(self.subtitle)
        column.addSpacing(12)
        column.addLayout(body, 1)

    def render(self, ctx: RenderContext, view: LoginView) -> None:
        tr = ctx.tr
        self.title.setText(tr("maint.login.title"))
        self.subtitle.setText(tr("maint.login.subtitle"))
        self.choose_heading.setText(tr("maint.login.choose_heading"))
        self.pin_heading.setText(tr("maint.login.pin_heading"))
        self._render_names(ctx, view)
        self.pin_field.setText(pin_dots(view.digits_typed))
        self.pin_count.setText(tr("maint.login.digits_typed", typed=view.digits_typed))
        set_role(self.message, "maintMessage", tone=view.notice.tone)
        self.message.setText(view.notice.text(tr))
        self.keypad.render(ctx)
        for key, button in self.keypad.keys.items():
            typing = view.chosen is not None and not view.checking
            button.setEnabled(view.can_type if key.isdigit() else typing and view.digits_typed > 0)
        self.submit.setText(tr("maint.login.submit"))
        self.submit.setEnabled(view.can_submit)
        self.cancel.setText(tr("maint.login.cancel"))
        self.cancel.setEnabled(not view.checking)

    def _render_names(self, ctx: RenderContext, view: LoginView) -> None:
        for index, button in enumerate(self.name_buttons):
            user = view.users[index] if index < len(view.users) else None
            button.setVisible(user is not None)
            if user is None:
                continue
            words = [shown_name(user.name), ctx.tr(ROLE_KEYS[user.role])]
            if user.locked:
                words.append(ctx.tr("maint.login.locked_mark"))
            button.setText(" · ".join(words))
            button.setProperty("userName", user.name)
            set_role(button, "maintChip", chosen=user.name == view.chosen)
            button.setEnabled(not view.checking)
        self._page = view.page
        show_paging(self.previous_page, self.next_page, self.page_label, view.page, view.pages,
                    (ctx.tr("maint.login.previous_page"), ctx.tr("maint.login.next_page"),
                     ctx.tr("maint.login.page_of", page=view.page + 1, pages=view.pages)))

    def wipe(self) -> None:
        """The page closes or someone logged in: no dot count, no message, no chosen name left behind."""
        self.pin_field.clear()
        self.pin_count.clear()
        self.message.clear()
        for button in self.name_buttons:
            set_role(button, "maintChip", chosen=False)
