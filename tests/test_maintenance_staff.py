"""The supervisor's accounts page without a window: list, unlock, reset a PIN (typed twice), add a user; each
change audited with the supervisor as the user, and the machine never left without a supervisor."""

from __future__ import annotations

import pytest

from kiosk.i18n import Translator
from kiosk.maintenance_accounts import MAX_FAILURES, LoginOutcome, Role
from kiosk.maintenance_notice import clock_text
from kiosk.maintenance_staff import PinStage, StaffForm, StaffStep

from maintenance_world import LOCKOUT_S, PINS, HandClock, audit_rows, staffed_accounts

EN = Translator("en")
NEW_PIN = "605318"


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
def accounts(tmp_path, clock):
    made = staffed_accounts(tmp_path / "maintenance.sqlite", clock)
    yield made
    made.store.close()


@pytest.fixture
def form(accounts):
    made = StaffForm(accounts)
    made.load("chen.jie")
    return made


def lock_out(accounts, name: str) -> None:
    for _ in range(MAX_FAILURES):
        accounts.login(name, "000001")


def make(form: StaffForm, change) -> None:
    """The lead's worker and the GUI thread's finish, in a row."""
    assert change is not None, form.view().notice.text(EN)
    form.finish(form.apply(change))


def type_twice(form: StaffForm, first: str, again: str) -> None:
    for digit in first:
        form.digit(digit)
    form.next()
    for digit in again:
        form.digit(digit)


def said(form: StaffForm) -> str:
    return form.view().notice.text(EN)


def test_only_a_supervisor_opens_the_page(accounts):
    with pytest.raises(PermissionError, match="'zhao.min' is not a supervisor"):
        StaffForm(accounts).load("zhao.min")


def test_the_list_shows_each_role_its_wrong_pins_and_until_when_it_is_locked(accounts, clock):
    lock_out(accounts, "wang.li")
    accounts.login("zhao.min", "000001")
    form = StaffForm(accounts)
    form.load("chen.jie")
    rows = {row.name: row for row in form.view().rows}
    assert (rows["wang.li"].role, rows["wang.li"].failures) == (Role.COLLECTOR, MAX_FAILURES)
    assert rows["wang.li"].locked_until == clock_text(clock.now + LOCKOUT_S, clock.now)
    assert (rows["zhao.min"].failures, rows["zhao.min"].locked_until, rows["zhao.min"].can_unlock) == (1, None, True)
    assert rows["chen.jie"].is_you and not rows["chen.jie"].can_unlock


def test_unlocking_lets_the_user_in_at_once_and_is_audited_by_the_supervisor(accounts):
    lock_out(accounts, "wang.li")
    form = StaffForm(accounts)
    form.load("chen.jie")
    make(form, form.unlock_request("wang.li"))
    assert said(form) == "wang.li is unlocked and its wrong PINs are forgotten."
    assert not any(row.can_unlock for row in form.view().rows)
    assert accounts.login("wang.li", PINS["wang.li"]).ok
    assert ("chen.jie", "unlock", f"user wang.li, {MAX_FAILURES} wrong PINs, locked", "ok") in audit_rows(accounts)


def test_unlocking_an_account_whose_lock_ran_out_says_there_was_nothing_to_lift(accounts, clock):
    lock_out(accounts, "wang.li")
    form = StaffForm(accounts)
    form.load("chen.jie")
    clock.advance(LOCKOUT_S + 1)
    written = len(audit_rows(accounts))
    make(form, form.unlock_request("wang.li"))
    assert said(form) == "wang.li was not locked any more: nothing to unlock."
    assert len(audit_rows(accounts)) == written


def test_a_reset_pin_typed_twice_replaces_the_old_one_keeps_the_role_and_lifts_the_lock(form, accounts):
    lock_out(accounts, "zhao.min")
    form.start_reset("zhao.min")
    type_twice(form, NEW_PIN, NEW_PIN)
    view = form.view()
    assert (view.step, view.pin_stage, view.first_typed, view.again_typed, view.can_save) == (
        StaffStep.PIN, PinStage.AGAIN, 6, 6, True)
    assert NEW_PIN not in repr(view)
    change = form.save_request()
    assert NEW_PIN not in repr(change)
    make(form, change)
    assert said(form) == "zhao.min's new PIN is saved and any lock lifted. Tell them in person."
    assert form.view().step is StaffStep.LIST
    assert accounts.login("zhao.min", PINS["zhao.min"]).outcome is LoginOutcome.WRONG_PIN
    assert accounts.login("zhao.min", NEW_PIN).role is Role.TECHNICIAN
    assert ("chen.jie", "reset_pin", "user zhao.min, role technician", "ok") in audit_rows(accounts)
    assert not any(NEW_PIN in " ".join(row) for row in audit_rows(accounts))


def test_two_different_pins_change_nothing_and_ask_for_both_again(form, accounts):
    form.start_reset("zhao.min")
    type_twice(form, NEW_PIN, "605319")
    assert form.save_request() is None
    view = form.view()
    assert said(form) == "The two PINs differ: nothing was changed. Type the new PIN twice again."
    assert (view.pin_stage, view.first_typed, view.again_typed) == (PinStage.FIRST, 0, 0)
    assert accounts.login("zhao.min", PINS["zhao.min"]).ok


@pytest.mark.parametrize("pin, words", [("60531", "at least 6 digits"), ("777777", "guessed first"),
                                        ("345678", "guessed first")])
def test_a_new_pin_that_is_too_short_or_easy_is_refused_before_it_is_typed_again(form, pin, words):
    form.start_reset("zhao.min")
    for digit in pin:
        form.digit(digit)
    form.next()
    assert words in said(form) and form.view().notice.tone == "error"
    assert (form.view().pin_stage, form.view().first_typed) == (PinStage.FIRST, 0)


def test_adding_a_user_takes_a_name_a_role_and_a_pin_twice(form, accounts):
    form.start_add()
    assert not form.view().can_next
    form.set_name("li.na")
    form.choose_role(Role.TECHNICIAN)
    form.next()
    assert (form.view().step, form.view().target, form.view().target_role) == (
        StaffStep.PIN, "li.na", Role.TECHNICIAN)
    type_twice(form, NEW_PIN, NEW_PIN)
    make(form, form.save_request())
    assert said(form) == "li.na is added."
    assert "li.na" in [row.name for row in form.view().rows]
    assert accounts.login("li.na", NEW_PIN).role is Role.TECHNICIAN
    assert ("chen.jie", "add_user", "user li.na, role technician", "ok") in audit_rows(accounts)


@pytest.mark.parametrize("name, role, words", [
    ("9li", Role.TECHNICIAN, "starts with a lower-case letter"),
    ("wang.li", Role.TECHNICIAN, "wang.li already has an account"),
    ("li.na", None, "Choose the new user's role"),
])
def test_a_new_user_with_a_bad_or_taken_name_or_no_role_does_not_get_to_the_pin(form, name, role, words):
    form.start_add()
    form.set_name(name)
    if role:
        form.choose_role(role)
    form.next()
    assert words in said(form) and form.view().step is StaffStep.NAME


def test_a_name_taken_meanwhile_at_the_console_is_refused_when_saved_and_nothing_is_overwritten(form, accounts):
    form.start_add()
    form.set_name("li.na")
    form.choose_role(Role.SUPERVISOR)
    form.next()
    type_twice(form, NEW_PIN, NEW_PIN)
    change = form.save_request()
    accounts.set_pin("li.na", Role.COLLECTOR, "482915")  # the console, between the tap and the worker
    make(form, change)
    assert said(form) == ("The change to li.na was refused: li.na already has an account (collector): "
                          "reset its PIN instead")
    assert accounts.login("li.na", "482915").role is Role.COLLECTOR


def test_the_only_supervisor_cannot_be_given_another_role_until_there_is_a_second(accounts):
    with pytest.raises(ValueError, match="chen.jie is the only supervisor"):
        accounts.set_pin("chen.jie", Role.TECHNICIAN, PINS["chen.jie"])
    assert accounts.login("chen.jie", PINS["chen.jie"]).role is Role.SUPERVISOR
    accounts.add_user("sun.yu", Role.SUPERVISOR, "605318", by="chen.jie")
    accounts.set_pin("chen.jie", Role.TECHNICIAN, PINS["chen.jie"])
    assert accounts.login("chen.jie", PINS["chen.jie"]).role is Role.TECHNICIAN


def test_a_supervisor_resetting_their_own_pin_stays_a_supervisor(form, accounts):
    form.start_reset("chen.jie")
    type_twice(form, NEW_PIN, NEW_PIN)
    make(form, form.save_request())
    assert accounts.login("chen.jie", NEW_PIN).role is Role.SUPERVISOR


def test_back_and_cancel_walk_out_without_changing_anything(form, accounts):
    form.start_add()
    form.set_name("li.na")
    form.choose_role(Role.COLLECTOR)
    form.next()
    type_twice(form, NEW_PIN, "6")
    form.back()
    assert (form.view().pin_stage, form.view().first_typed) == (PinStage.FIRST, 0)
    form.back()
    assert form.view().step is StaffStep.NAME
    form.cancel()
    assert form.view().step is StaffStep.LIST and said(form) == "Cancelled: nothing was changed."
    assert accounts.store.user("li.na") is None


def test_a_save_that_could_not_be_written_says_so_and_the_form_forgets_the_pin(form):
    form.start_reset("zhao.min")
    type_twice(form, NEW_PIN, NEW_PIN)
    form.save_request()
    form.failed("database is locked")
    assert said(form).startswith("Could not save, nothing was changed: database is locked.")
    assert not form.view().busy and form.view().step is StaffStep.LIST


def test_wipe_forgets_the_supervisor_and_everything_typed(form):
    form.start_reset("zhao.min")
    form.digit("6")
    form.wipe()
    view = form.view()
    assert (view.rows, view.step, view.first_typed, form.supervisor) == ((), StaffStep.LIST, 0, "")
