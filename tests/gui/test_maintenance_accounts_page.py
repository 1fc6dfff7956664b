"""The supervisor's accounts page on the screen: real taps through the real form and accounts file — unlock,
reset a PIN typed twice, add a user on the text pad — with no PIN in any widget's text.

Screenshots of each state go to /tmp/maintenance-accounts-<state>-<lang>.png (1640x900) and pass the
kiosk's accessibility checker.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QVBoxLayout, QWidget

from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_accounts import MAX_FAILURES, Role
from kiosk.maintenance_staff import StaffForm
from screens.context import RenderContext
from screens.maintenance.accounts_page import AccountsPage
from screens.stylesheet import stylesheet

from gui.accessibility import check_window
from harness import tap
from maintenance_world import PINS, HandClock, audit_rows, staffed_accounts

NEW_PIN = "605318"


class AccountsScreen:
    """The page in a maintenance-coloured frame, wired to the real staff form as the lead wires it
    (each change made inline here: the worker hand-over is the lead's)."""

    def __init__(self, accounts) -> None:
        self.accounts = accounts
        self.form = StaffForm(accounts)
        self.form.load("chen.jie")
        self.page = AccountsPage()
        self.root = QWidget(objectName="maintRoot")
        self.root.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QVBoxLayout(self.root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.page)
        self.root.resize(1640, 900)
        self.lang = "en"
        page, form = self.page, self.form
        page.unlock_tapped.connect(lambda name: self._make(form.unlock_request(name)))
        page.save_tapped.connect(lambda: self._make(form.save_request()))
        for signal, action in ((page.reset_tapped, form.start_reset), (page.add_tapped, form.start_add),
                               (page.page_tapped, form.show_page), (page.name_changed, form.set_name),
                               (page.role_chosen, form.choose_role), (page.digit_typed, form.digit),
                               (page.backspace_pressed, form.backspace), (page.clear_pressed, form.clear),
                               (page.next_tapped, form.next), (page.back_tapped, form.back),
                               (page.cancel_tapped, form.cancel)):
            signal.connect(lambda *args, act=action: self._then(act, *args))
        self.root.show()
        self.render()

    def _then(self, action, *args) -> None:
        action(*args)
        self.render()

    def _make(self, change) -> None:
        if change is not None:
            self.form.finish(self.form.apply(change))
        self.render()

    def render(self, lang: str | None = None) -> None:
        self.lang = lang or self.lang
        self.page.render(RenderContext(default_config(), Translator(self.lang)), self.form.view())

    def row(self, name: str):
        (found,) = [row for row in self.page.rows if row.name == name and row.reset.isVisible()]
        return found

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            tap(self.page.pin_panel.keypad.keys[digit])

    def type_name(self, name: str) -> None:
        keys = self.page.name_panel.pad.keys
        for character in name:
            tap(keys[character])

    def every_text(self) -> list[str]:
        return [w.text() for w in self.root.findChildren(QWidget) if isinstance(w, (QLabel, QAbstractButton))]

    def shoot(self, state: str) -> list[str]:
        found = []
        for lang in ("zh", "en"):
            self.render(lang)
            QApplication.processEvents()
            image = self.root.grab().toImage()
            image.save(f"/tmp/maintenance-accounts-{state}-{lang}.png")
            found += [f"{state}-{lang}: {v}" for v in check_window(self.root, image)]
        self.render("en")
        return found


@pytest.fixture
def accounts(tmp_path):
    made = staffed_accounts(tmp_path / "maintenance.sqlite", HandClock())
    for _ in range(MAX_FAILURES):
        made.login("wang.li", "000001")
    made.login("zhao.min", "000001")
    yield made
    made.store.close()


@pytest.fixture
def screen(qapp, accounts) -> Iterator[AccountsScreen]:
    qapp.setStyleSheet(stylesheet())
    made = AccountsScreen(accounts)
    yield made
    made.root.close()
    made.root.deleteLater()


def test_the_list_marks_the_locked_account_and_offers_unlock_only_where_there_is_something_to_lift(screen):
    wang, zhao, chen = screen.row("wang.li"), screen.row("zhao.min"), screen.row("chen.jie")
    assert wang.state.text().startswith("Locked until ") and wang.state.property("tone") == "fault"
    assert (zhao.cells[2].text(), zhao.state.text()) == ("1", "Active")
    assert wang.unlock.isEnabled() and zhao.unlock.isEnabled() and not chen.unlock.isEnabled()
    assert chen.cells[0].text() == "chen.jie (you)"


def test_tapping_unlock_lifts_the_lock_and_says_so(screen, accounts):
    tap(screen.row("wang.li").unlock)
    assert screen.page.message.text() == "wang.li is unlocked and its wrong PINs are forgotten."
    assert screen.row("wang.li").state.text() == "Active" and not screen.row("wang.li").unlock.isEnabled()
    assert accounts.login("wang.li", PINS["wang.li"]).ok


def test_a_reset_is_typed_twice_on_the_keypad_and_the_pin_is_in_no_widget(screen, accounts):
    tap(screen.row("zhao.min").reset)
    assert screen.page.stack.currentWidget() is screen.page.pin_panel
    screen.type_digits(NEW_PIN)
    tap(screen.page.next)
    screen.type_digits(NEW_PIN)
    assert not [text for text in screen.every_text() if NEW_PIN in text]
    assert screen.page.save.isVisible() and not screen.page.next.isVisible()
    tap(screen.page.save)
    assert "zhao.min's new PIN is saved" in screen.page.message.text()
    assert accounts.login("zhao.min", NEW_PIN).role is Role.TECHNICIAN


def test_a_user_is_added_with_the_text_pad_a_role_chip_and_the_pin_twice(screen, accounts):
    tap(screen.page.add)
    screen.type_name("li.na")
    assert screen.page.name_panel.name_field.text() == "User name: li.na_"
    assert not screen.page.next.isEnabled()  # no role yet
    tap(screen.page.name_panel.role_chips[Role.COLLECTOR])
    tap(screen.page.next)
    screen.type_digits(NEW_PIN)
    tap(screen.page.next)
    screen.type_digits(NEW_PIN)
    tap(screen.page.save)
    assert screen.page.message.text() == "li.na is added."
    assert screen.row("li.na").cells[1].text() == "Cash collector"
    assert ("chen.jie", "add_user", "user li.na, role collector", "ok") in audit_rows(accounts)


def test_wipe_leaves_no_name_no_dots_and_no_list(screen):
    tap(screen.page.add)
    screen.type_name("li")
    screen.page.wipe()
    assert screen.page.name_panel.pad.text() == "" and screen.page.message.text() == ""
    assert not any(row.reset.isVisible() for row in screen.page.rows)


def test_each_state_reads_well_in_both_languages(screen):
    found = screen.shoot("list")
    tap(screen.page.add)
    screen.type_name("li.na")
    tap(screen.page.name_panel.role_chips[Role.TECHNICIAN])
    found += screen.shoot("add-name")
    tap(screen.page.next)
    screen.type_digits("6053")
    found += screen.shoot("pin-first")
    screen.type_digits("18")
    tap(screen.page.next)
    screen.type_digits("605319")
    found += screen.shoot("pin-again")
    tap(screen.page.save)
    found += screen.shoot("pins-differ")
    tap(screen.page.cancel)
    tap(screen.row("wang.li").unlock)
    found += screen.shoot("unlocked")
    assert found == []


def test_a_long_staff_list_comes_in_pages(screen, accounts):
    for number in range(5):
        accounts.set_pin(f"tech{number}", Role.TECHNICIAN, "730264")
    screen.form.load("chen.jie")
    screen.render()
    page = screen.page
    assert page.page_label.text() == "Page 1 of 2" and not page.previous_page.isEnabled()
    tap(page.next_page)
    assert page.page_label.text() == "Page 2 of 2"
    assert [row.name for row in page.rows if row.reset.isVisible()] == ["wang.li", "zhao.min"]
    assert screen.shoot("list-page-2") == []
