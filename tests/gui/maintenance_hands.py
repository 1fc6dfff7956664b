"""A technician's hands on the assembled kiosk: the hidden entry, the login, the pages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.assembly import Kiosk
from kiosk.config import KioskConfig
from kiosk.maintenance_cli import open_accounts
from kiosk.maintenance_pages import MaintPage

from harness import tap, wait_until

STAFF = {  # name: (role, PIN)
    "li.wei": ("technician", "258036"),
    "zhao.min": ("collector", "369147"),
    "chen.jie": ("supervisor", "147258"),
}


def give_staff_accounts(config: KioskConfig) -> None:
    """The accounts an installer sets at the console (kiosk maintenance set-pin), before the kiosk starts."""
    accounts = open_accounts(config)
    try:
        for name, (role, pin) in STAFF.items():
            accounts.set_pin(name, role, pin)
    finally:
        accounts.store.close()


def tap_hidden_spot(whole: Kiosk, times: int = 5) -> None:
    """Taps on the header's hall name, as a finger gives them (the label is no button)."""
    spot = whole.window.header.hall_name
    if whole.window.showing_out_of_order:
        spot = whole.window.out_of_order.code
    for _ in range(times):
        QTest.mouseClick(spot, Qt.MouseButton.LeftButton)


def open_login(whole: Kiosk) -> None:
    tap_hidden_spot(whole)
    maintenance = whole.maintenance
    wait_until(lambda: maintenance.is_open and maintenance.pages.login.form is not None and not maintenance.busy,
               what="the maintenance login page")


def type_pin(whole: Kiosk, pin: str) -> None:
    page = whole.maintenance.pages.login.widget
    for digit in pin:
        tap(page.keypad.keys[digit])


def choose_user(whole: Kiosk, name: str) -> None:
    page = whole.maintenance.pages.login.widget
    (button,) = [b for b in page.name_buttons if b.isVisible() and b.property("userName") == name]
    tap(button)


def log_in(whole: Kiosk, name: str, pin: str | None = None) -> None:
    """Choose the name, type the PIN, log in; waits for the PIN check."""
    maintenance = whole.maintenance
    page = maintenance.pages.login.widget
    choose_user(whole, name)
    type_pin(whole, pin or STAFF[name][1])
    tap(page.submit)
    wait_until(lambda: not maintenance.busy, what="the PIN check")


def logged_in(whole: Kiosk, name: str) -> None:
    maintenance = whole.maintenance
    wait_until(lambda: maintenance.parts.session.user == name and maintenance.current is not None
               and not maintenance.busy, what=f"{name} logged in")


def enter_as(whole: Kiosk, name: str) -> None:
    open_login(whole)
    log_in(whole, name)
    logged_in(whole, name)


def go_to(whole: Kiosk, page: MaintPage) -> None:
    maintenance = whole.maintenance
    tap(maintenance.screen.nav_buttons[page])
    wait_until(lambda: maintenance.current is page and not maintenance.busy
               and getattr(maintenance.pages.current, "view", True) is not None, what=f"the {page} page")


def log_out(whole: Kiosk) -> None:
    tap(whole.maintenance.screen.logout)
    wait_until(lambda: not whole.maintenance.is_open and not whole.maintenance.busy, what="the screen to close")
