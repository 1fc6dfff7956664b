"""The login form without a window: names from the file, digits counted but never shown, and a clear message
for a wrong PIN, a locked user, a PIN too short and an unknown user."""

from __future__ import annotations

import sqlite3

import pytest

from kiosk.i18n import Translator
from kiosk.maintenance_accounts import MAX_PIN_DIGITS, Role
from kiosk.maintenance_login import USERS_PER_PAGE, LoginForm
from kiosk.maintenance_notice import clock_text
from kiosk.maintenance_session import MaintenanceSession

from maintenance_world import IDLE_LOGOUT_S, LOCKOUT_S, PINS, HandClock, audit_rows, open_accounts, \
    staffed_accounts

EN, ZH = Translator("en"), Translator("zh")


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
def accounts(tmp_path, clock):
    made = staffed_accounts(tmp_path / "maintenance.sqlite", clock)
    yield made
    made.store.close()


@pytest.fixture
def session(accounts, clock):
    opened = MaintenanceSession(accounts, accounts.audit, clock, IDLE_LOGOUT_S)
    opened.entry()
    return opened


@pytest.fixture
def form(accounts):
    made = LoginForm(accounts)
    made.load()
    return made


def type_pin(form: LoginForm, digits: str) -> None:
    for digit in digits:
        form.digit(digit)


def attempt(form: LoginForm, session: MaintenanceSession, name: str, digits: str):
    """What the page and the lead's worker do together for one tap on Log in."""
    form.choose(name)
    type_pin(form, digits)
    request = form.request()
    if request is None:
        return None
    result = session.login(request.name, request.pin)
    form.finish(result)
    return result


def said(form: LoginForm, tr=EN) -> str:
    return form.view().notice.text(tr)


def test_with_no_accounts_the_page_tells_the_technician_the_console_command(tmp_path, clock):
    empty = open_accounts(tmp_path / "empty.sqlite", clock)
    form = LoginForm(empty)
    form.load()
    view = form.view()
    assert view.users == () and view.notice.tone == "warning"
    assert "kiosk maintenance set-pin --user NAME --role ROLE" in view.notice.text(EN)
    assert "kiosk maintenance set-pin --user NAME --role ROLE" in view.notice.text(ZH)
    empty.store.close()


def test_the_names_come_from_the_file_with_their_roles(form):
    assert [(u.name, u.role) for u in form.view().users] == [
        ("chen.jie", Role.SUPERVISOR), ("wang.li", Role.COLLECTOR), ("zhao.min", Role.TECHNICIAN)]


def test_the_view_counts_the_digits_and_never_holds_them(form):
    assert not form.view().can_type  # a name first
    form.digit("4")
    assert form.view().digits_typed == 0
    form.choose("wang.li")
    type_pin(form, PINS["wang.li"])
    view = form.view()
    assert view.digits_typed == 6 and view.can_submit
    assert PINS["wang.li"] not in repr(view)
    form.backspace()
    assert form.view().digits_typed == 5
    form.clear()
    assert form.view().digits_typed == 0
    type_pin(form, "1" * (MAX_PIN_DIGITS + 3))
    assert form.view().digits_typed == MAX_PIN_DIGITS and not form.view().can_type


def test_the_request_takes_the_pin_out_of_the_form_and_hides_it_from_logs(form):
    form.choose("wang.li")
    type_pin(form, PINS["wang.li"])
    request = form.request()
    assert (request.name, request.pin) == ("wang.li", PINS["wang.li"])
    assert PINS["wang.li"] not in repr(request)
    view = form.view()
    assert view.checking and view.digits_typed == 0 and not view.can_type and not view.can_submit
    assert form.request() is None  # a second tap while checking sends nothing


def test_the_right_pin_logs_in_and_the_form_forgets_the_name(form, session):
    assert attempt(form, session, "zhao.min", PINS["zhao.min"]).ok
    assert session.user == "zhao.min"
    view = form.view()
    assert view.chosen is None and view.digits_typed == 0 and not view.checking
    assert said(form) == "Welcome, zhao.min."


def test_a_wrong_pin_says_how_many_tries_are_left_and_how_long_the_lock_will_be(form, session):
    attempt(form, session, "wang.li", "000001")
    assert said(form) == "Wrong PIN. 4 more tries, then the account is locked for 15 minutes."
    assert "4" in said(form, ZH) and "15" in said(form, ZH) and form.view().notice.tone == "error"
    for _ in range(3):
        attempt(form, session, "wang.li", "000001")
    assert said(form) == "Wrong PIN. One more wrong PIN locks the account for 15 minutes."


def test_the_fifth_wrong_pin_says_until_when_the_account_is_locked(form, session, clock):
    for _ in range(5):
        attempt(form, session, "wang.li", "000001")
    until = clock_text(clock.now + LOCKOUT_S, clock.now)
    assert said(form) == (f"wang.li is locked after 5 wrong PINs in a row, until {until}. "
                          "Wait, or ask a supervisor to unlock it.")
    assert until in said(form, ZH)
    assert [u.locked for u in form.view().users if u.name == "wang.li"] == [True]


def test_choosing_a_locked_name_says_so_before_anything_is_typed(accounts, session, clock):
    for _ in range(5):
        session.login("wang.li", "000001")
    form = LoginForm(accounts)
    form.load()
    form.choose("wang.li")
    assert "until " + clock_text(clock.now + LOCKOUT_S, clock.now) in said(form)


def test_a_pin_too_short_is_refused_before_scrypt_and_is_neither_counted_nor_checked(form, accounts):
    written = len(audit_rows(accounts))
    form.choose("wang.li")
    type_pin(form, "4829")
    assert form.request() is None
    assert said(form) == ("A PIN has at least 6 digits; you typed 4. This does not count as a try: "
                          "type it again.")
    assert accounts.store.failures("wang.li").count == 0 and len(audit_rows(accounts)) == written


def test_an_account_gone_since_the_list_was_read_is_an_unknown_user_and_the_list_is_read_again(
        form, session, accounts):
    form.choose("zhao.min")
    type_pin(form, PINS["zhao.min"])
    request = form.request()
    # Another process (a restore of the maintenance file, say) removed the account meanwhile.
    other = sqlite3.connect(accounts.store.path)
    with other:
        other.execute("DELETE FROM users WHERE name = 'zhao.min'")
    other.close()
    form.finish(session.login(request.name, request.pin))
    assert said(form) == ("There is no account zhao.min on this machine (any more). Choose your name again, "
                          "or ask a supervisor.")
    assert [u.name for u in form.view().users] == ["chen.jie", "wang.li"] and form.view().chosen is None


def test_a_check_that_could_not_run_says_why_and_counts_nothing(form, accounts):
    form.choose("wang.li")
    type_pin(form, PINS["wang.li"])
    form.request()
    form.failed("disk I/O error")
    assert not form.view().checking
    assert said(form).startswith("The PIN could not be checked and nothing was counted: disk I/O error.")


def test_many_names_come_in_pages(tmp_path, clock):
    many = open_accounts(tmp_path / "many.sqlite", clock)
    for number in range(USERS_PER_PAGE + 2):
        many.set_pin(f"tech{number:02d}", Role.TECHNICIAN, "730264")
    form = LoginForm(many)
    form.load()
    assert (len(form.view().users), form.view().pages) == (USERS_PER_PAGE, 2)
    form.show_page(1)
    assert [u.name for u in form.view().users] == [f"tech{n:02d}" for n in (USERS_PER_PAGE, USERS_PER_PAGE + 1)]
    form.show_page(7)
    assert form.view().page == 1
    many.store.close()


def test_the_keypad_sends_digits_only(form):
    form.choose("wang.li")
    with pytest.raises(ValueError, match="one digit"):
        form.digit("12")
