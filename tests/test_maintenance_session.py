"""The maintenance session: a role opens only its pages, an idle screen closes itself, a lock survives a
restart, a slip of the finger is not a wrong PIN, and every step is in the audit log."""

from __future__ import annotations

import threading

import pytest

from kiosk.maintenance_accounts import MAX_FAILURES, LoginOutcome, Role
from kiosk.maintenance_pages import MaintPage
from kiosk.maintenance_session import NOBODY, MaintenanceSession

from maintenance_world import IDLE_LOGOUT_S, PINS, HandClock, audit_rows, open_accounts, staffed_accounts


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "maintenance.sqlite"


@pytest.fixture
def accounts(path, clock):
    made = staffed_accounts(path, clock)
    yield made
    made.store.close()


def open_session(accounts, clock) -> MaintenanceSession:
    session = MaintenanceSession(accounts, accounts.audit, clock, IDLE_LOGOUT_S)
    session.entry()
    return session


@pytest.fixture
def session(accounts, clock):
    return open_session(accounts, clock)


def after_seeding(accounts):
    """The audit rows written since the three console set-pins."""
    return audit_rows(accounts)[3:]


@pytest.mark.parametrize("name, pages", [
    ("zhao.min", (MaintPage.DEVICES, MaintPage.REPAIRS, MaintPage.OPERATIONS)),
    ("wang.li", (MaintPage.COLLECTION,)),
    ("chen.jie", tuple(MaintPage)),
])
def test_each_role_is_offered_exactly_its_own_pages(session, name, pages):
    assert session.pages == ()
    assert session.login(name, PINS[name]).ok
    assert session.user == name and session.pages == pages


def test_a_collector_cannot_open_the_device_tests_and_nobody_opens_anything_before_the_pin(session):
    assert not session.may(MaintPage.COLLECTION)
    session.login("wang.li", PINS["wang.li"])
    assert session.role is Role.COLLECTOR
    assert session.may(MaintPage.COLLECTION) and session.may("collection")
    assert not session.may(MaintPage.DEVICES) and not session.may(MaintPage.ACCOUNTS)


def test_untouched_for_the_configured_time_the_session_expires_and_the_idle_logout_is_audited(session, clock,
                                                                                                accounts):
    session.login("zhao.min", PINS["zhao.min"])
    clock.advance(IDLE_LOGOUT_S - 1)
    assert not session.expired() and session.idle_left_s() == pytest.approx(1)
    session.touch()  # a tap on any page starts the time again
    clock.advance(IDLE_LOGOUT_S - 1)
    assert not session.expired()
    clock.advance(1)
    assert session.expired() and session.idle_left_s() == 0
    session.logout("idle")
    assert (session.user, session.is_open, session.pages, session.expired()) == (None, False, (), False)
    assert after_seeding(accounts)[-1] == ("zhao.min", "logout", "idle", "ok")


def test_a_login_page_left_open_closes_too_so_the_machine_returns_to_customers(session, clock, accounts):
    clock.advance(IDLE_LOGOUT_S)
    assert session.expired()
    session.logout("idle")
    assert not session.is_open
    assert after_seeding(accounts)[-1] == (NOBODY, "entry", "closed from the login page (idle)", "ok")


def test_five_wrong_pins_lock_the_account_even_after_a_restart(session, path, clock, accounts):
    for left in range(MAX_FAILURES - 1, 0, -1):
        assert session.login("wang.li", "000001").attempts_left == left
    locked = session.login("wang.li", "000001")
    assert locked.outcome is LoginOutcome.LOCKED and session.user is None
    accounts.store.close()

    restarted = open_accounts(path, clock)  # a new store object on the same file
    after_restart = open_session(restarted, clock)
    again = after_restart.login("wang.li", PINS["wang.li"])  # even the right PIN
    assert again.outcome is LoginOutcome.LOCKED and again.locked_until == locked.locked_until
    assert after_restart.user is None
    restarted.store.close()


def test_an_unknown_user_is_refused_and_audited(session, accounts):
    result = session.login("li.na", "482915")
    assert result.outcome is LoginOutcome.UNKNOWN_USER and session.user is None
    assert after_seeding(accounts)[-1] == ("li.na", "login", "unknown user", "refused")


def test_a_pin_too_short_to_be_one_is_not_counted_as_a_wrong_pin(session, accounts):
    for _ in range(MAX_FAILURES - 1):
        session.login("wang.li", "000001")
    short = session.login("wang.li", "4829")
    assert short.outcome is LoginOutcome.TOO_SHORT and short.attempts_left == 1
    assert accounts.store.failures("wang.li").count == MAX_FAILURES - 1  # one wrong PIN still to go
    assert session.login("wang.li", PINS["wang.li"]).ok  # so the right one still gets in
    assert ("wang.li", "login", "PIN too short (4 digits), not counted", "refused") in after_seeding(accounts)


def test_opening_refusing_logging_in_working_and_logging_out_are_all_audited(session, accounts, clock):
    clock.advance(IDLE_LOGOUT_S - 1)
    session.entry()  # the login page opened again: afresh, its idle time too
    assert session.idle_left_s() == IDLE_LOGOUT_S
    session.entry_refused("a customer session is open")
    session.login("chen.jie", "000001")
    session.login("chen.jie", PINS["chen.jie"])
    session.record("sync_now", "outbox 3 payments", "ok")
    session.entry()  # already open: the logged-in supervisor stays, nothing is written
    assert session.user == "chen.jie"
    session.logout("user")
    session.logout("user")  # Log out tapped as the idle timer fired: one logout
    assert after_seeding(accounts) == [
        (NOBODY, "entry", "maintenance screen opened", "ok"),
        (NOBODY, "entry", "maintenance screen opened", "ok"),
        (NOBODY, "entry", "a customer session is open", "refused"),
        ("chen.jie", "login", "wrong PIN", "refused"),
        ("chen.jie", "login", "role supervisor", "ok"),
        ("chen.jie", "sync_now", "outbox 3 payments", "ok"),
        ("chen.jie", "logout", "user", "ok"),
    ]
    assert not any(pin in " ".join(row) for row in after_seeding(accounts) for pin in PINS.values())


def test_nobody_can_act_or_log_in_on_a_closed_screen_and_a_second_login_needs_a_logout(session, accounts, clock):
    with pytest.raises(RuntimeError, match="nobody is logged in"):
        session.record("sync_now", "outbox", "ok")
    session.login("zhao.min", PINS["zhao.min"])
    with pytest.raises(RuntimeError, match="zhao.min is logged in"):
        session.login("chen.jie", PINS["chen.jie"])
    session.logout("user")
    with pytest.raises(RuntimeError, match="not open"):
        session.login("chen.jie", PINS["chen.jie"])
    with pytest.raises(ValueError, match="'user' or 'idle'"):
        open_session(accounts, clock).logout("timeout")


def test_wrong_pins_from_several_workers_at_once_are_each_counted(session, accounts):
    # A double tap can start two checks; each must read and write the count whole.
    workers = [threading.Thread(target=session.login, args=("zhao.min", "000001")) for _ in range(MAX_FAILURES - 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert accounts.store.failures("zhao.min").count == MAX_FAILURES - 1
    assert session.login("zhao.min", "000001").outcome is LoginOutcome.LOCKED
