"""The maintenance login page on the screen: real taps become the page's signals, the real form and session
answer them, the PIN is never in any widget's text, and every state reads well in both languages.

Screenshots of each state go to /tmp/maintenance-login-<state>-<lang>.png (the page at 1640x900, as the
shell gives it) and pass the kiosk's accessibility checker.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QVBoxLayout, QWidget

from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_login import LoginForm
from kiosk.maintenance_notice import clock_text
from kiosk.maintenance_session import MaintenanceSession
from screens.context import RenderContext
from screens.maintenance.login_page import LoginPage
from screens.stylesheet import stylesheet

from gui.accessibility import check_window
from harness import tap
from maintenance_world import IDLE_LOGOUT_S, LOCKOUT_S, PINS, HandClock, staffed_accounts


class LoginScreen:
    """The page in a maintenance-coloured frame, wired to the real form and session as the lead wires it
    (the PIN check runs inline here: the worker hand-over is the lead's)."""

    def __init__(self, accounts, clock) -> None:
        self.session = MaintenanceSession(accounts, accounts.audit, clock, IDLE_LOGOUT_S)
        self.session.entry()
        self.form = LoginForm(accounts)
        self.form.load()
        self.page = LoginPage()
        self.root = QWidget(objectName="maintRoot")
        self.root.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QVBoxLayout(self.root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.page)
        self.root.resize(1640, 900)
        self.lang = "en"
        self.cancelled = 0
        page, form = self.page, self.form
        page.user_chosen.connect(lambda name: self._then(form.choose, name))
        page.digit_typed.connect(lambda digit: self._then(form.digit, digit))
        page.backspace_pressed.connect(lambda: self._then(form.backspace))
        page.clear_pressed.connect(lambda: self._then(form.clear))
        page.page_tapped.connect(lambda number: self._then(form.show_page, number))
        page.login_tapped.connect(self._log_in)
        page.cancel_tapped.connect(self._cancel)
        self.root.show()
        self.render()

    def _then(self, action, *args) -> None:
        action(*args)
        self.render()

    def _log_in(self) -> None:
        request = self.form.request()
        if request is not None:
            self.form.finish(self.session.login(request.name, request.pin))
        self.render()

    def _cancel(self) -> None:
        self.cancelled += 1
        self.session.logout("user")

    def render(self, lang: str | None = None) -> None:
        self.lang = lang or self.lang
        self.page.render(RenderContext(default_config(), Translator(self.lang)), self.form.view())

    def name_button(self, name: str) -> QAbstractButton:
        (button,) = [b for b in self.page.name_buttons if b.isVisible() and b.property("userName") == name]
        return button

    def type_pin(self, digits: str) -> None:
        for digit in digits:
            tap(self.page.keypad.keys[digit])

    def every_text(self) -> list[str]:
        texts = []
        for widget in self.root.findChildren(QWidget):
            if isinstance(widget, (QLabel, QAbstractButton)):
                texts.append(widget.text())
            texts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription(),
                      widget.windowTitle()]
        return texts

    def shoot(self, state: str) -> list[str]:
        """Save the state in both languages; return what the accessibility checker found."""
        found = []
        for lang in ("zh", "en"):
            self.render(lang)
            QApplication.processEvents()  # a message that wraps to a new line is laid out first
            image = self.root.grab().toImage()
            image.save(f"/tmp/maintenance-login-{state}-{lang}.png")
            found += [f"{state}-{lang}: {v}" for v in check_window(self.root, image)]
        self.render("en")
        return found


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
def screen(qapp, tmp_path, clock) -> Iterator[LoginScreen]:
    qapp.setStyleSheet(stylesheet())
    accounts = staffed_accounts(tmp_path / "maintenance.sqlite", clock)
    made = LoginScreen(accounts, clock)
    yield made
    made.root.close()
    made.root.deleteLater()
    accounts.store.close()


def test_tapping_a_name_the_keypad_log_in_and_cancel_send_the_pages_signals(screen, qtbot):
    page = screen.page
    with qtbot.waitSignal(page.user_chosen) as chosen:
        tap(screen.name_button("wang.li"))
    assert chosen.args == ["wang.li"]
    with qtbot.waitSignal(page.digit_typed) as typed:
        tap(page.keypad.keys["7"])
    assert typed.args == ["7"]
    with qtbot.waitSignal(page.backspace_pressed):
        tap(page.keypad.keys["backspace"])
    screen.type_pin("48")
    with qtbot.waitSignal(page.clear_pressed):
        tap(page.keypad.keys["clear"])
    screen.type_pin(PINS["wang.li"])
    with qtbot.waitSignal(page.login_tapped):
        tap(page.submit)
    assert screen.session.user == "wang.li"
    with qtbot.waitSignal(page.cancel_tapped):
        tap(page.cancel)
    assert screen.cancelled == 1 and not screen.session.is_open


def test_the_keypad_waits_for_a_name_and_log_in_for_a_digit(screen):
    page = screen.page
    assert not page.keypad.keys["5"].isEnabled() and not page.submit.isEnabled()
    assert "Choose your name first" in page.message.text()
    tap(screen.name_button("zhao.min"))
    assert page.keypad.keys["5"].isEnabled() and not page.submit.isEnabled()
    assert screen.name_button("zhao.min").property("chosen") is True
    tap(page.keypad.keys["5"])
    assert page.submit.isEnabled()


def test_the_pin_is_shown_as_dots_and_is_in_no_widgets_text(screen):
    tap(screen.name_button("zhao.min"))
    screen.type_pin(PINS["zhao.min"])
    assert screen.page.pin_field.text() == "● ● ● ● ● ●"
    assert screen.page.pin_count.text() == "6 digits typed"
    for lang in ("zh", "en"):
        screen.render(lang)
        assert not [text for text in screen.every_text() if PINS["zhao.min"] in text]


def test_a_wrong_pin_then_the_lock_are_said_on_the_page(screen, clock):
    tap(screen.name_button("wang.li"))
    screen.type_pin("000001")
    tap(screen.page.submit)
    assert screen.page.message.text() == "Wrong PIN. 4 more tries, then the account is locked for 15 minutes."
    assert screen.page.message.property("tone") == "error" and screen.page.pin_field.text() == "○ ○ ○ ○ ○ ○"
    for _ in range(4):
        screen.type_pin("000001")
        tap(screen.page.submit)
    until = clock_text(clock.now + LOCKOUT_S, clock.now)
    assert f"locked after 5 wrong PINs in a row, until {until}." in screen.page.message.text()
    assert screen.name_button("wang.li").text() == "wang.li · Cash collector · locked"
    assert screen.session.user is None


def test_wipe_leaves_no_dots_no_message_and_no_chosen_name(screen):
    tap(screen.name_button("wang.li"))
    screen.type_pin("4829")
    screen.page.wipe()
    assert (screen.page.pin_field.text(), screen.page.message.text()) == ("", "")
    assert not any(b.property("chosen") for b in screen.page.name_buttons)


def test_each_state_reads_well_in_both_languages(screen):
    found = screen.shoot("choose")
    tap(screen.name_button("wang.li"))
    screen.type_pin("4829")
    found += screen.shoot("typing")
    tap(screen.page.submit)  # too short: no attempt counted
    found += screen.shoot("too-short")
    screen.type_pin("000001")
    tap(screen.page.submit)
    found += screen.shoot("wrong-pin")
    for _ in range(4):
        screen.type_pin("000001")
        tap(screen.page.submit)
    found += screen.shoot("locked")
    assert found == []
