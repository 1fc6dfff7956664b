"""The hidden maintenance screen on the assembled kiosk: reached by the hidden entry, never over a
customer's money, out of service while open, and a technician's out-of-service kept across a restart."""

from __future__ import annotations

from typing import Iterator

import pytest

from app.assembly import Kiosk
from kiosk.journey_state import Step
from kiosk.maintenance_pages import MaintPage
from offline_store.maintenance_store import MaintenanceStore

from gui.maintenance_hands import (
    STAFF, choose_user, enter_as, give_staff_accounts, go_to, log_in, log_out, open_login, tap_hidden_spot, type_pin)
from gui.test_payment import at_overview, cash_in, insert
from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until


@pytest.fixture
def config(tmp_path):
    config = kiosk_config(tmp_path)
    give_staff_accounts(config)
    return config


@pytest.fixture
def whole(qapp, sim, clock, config) -> Iterator[Kiosk]:
    whole = started_kiosk(config, sim.url, clock)
    wait_until(lambda: whole.controller.payments is not None and whole.controller.service_level().cash,
               timeout_s=5, what="payments ready")
    yield whole
    close_kiosk(whole)


def audit_rows(config) -> list[tuple[str, str, str, str]]:
    store = MaintenanceStore(config.maintenance.store_path(config.storage))
    try:
        return [(e.user, e.action, e.what, e.result) for e in store.audit_since(0)]
    finally:
        store.close()


def test_five_taps_on_the_hall_name_open_the_login_and_take_the_machine_out_of_service(whole, sim):
    tap_hidden_spot(whole, times=4)
    assert not whole.maintenance.is_open  # four taps are a customer's fidgeting
    open_login(whole)
    assert whole.window.pages.currentWidget() is whole.maintenance.screen
    assert whole.controller.service_level().reason_code == "E-MAINT-OPEN"
    wait_until(lambda: sim.heartbeats[-1]["status"] == "out_of_service", what="the heartbeat to say so")
    tap(whole.maintenance.pages.login.widget.cancel)
    wait_until(lambda: not whole.maintenance.is_open and whole.controller.service_level().in_service,
               what="the customer side back")
    assert whole.window.pages.currentIndex() == 0 and whole.controller.journey.state.step is Step.HOME


def test_a_technician_sees_the_technicians_pages_and_a_collector_only_the_collection(whole):
    enter_as(whole, "li.wei")
    shown = {page for page, button in whole.maintenance.screen.nav_buttons.items() if button.isVisible()}
    assert shown == {MaintPage.DEVICES, MaintPage.REPAIRS, MaintPage.OPERATIONS}
    log_out(whole)
    enter_as(whole, "zhao.min")
    shown = {page for page, button in whole.maintenance.screen.nav_buttons.items() if button.isVisible()}
    assert shown == {MaintPage.COLLECTION}
    whole.maintenance.show_page(MaintPage.DEVICES)  # a page not of the role, asked for anyway
    assert whole.maintenance.current is MaintPage.COLLECTION


def test_the_entry_is_refused_while_money_is_in_play(whole, config):
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    insert(whole, 20)
    tap_hidden_spot(whole)
    wait_until(lambda: not whole.maintenance.busy, what="the refusal to be audited")
    assert not whole.maintenance.is_open
    assert kiosk.journey.state.step is Step.CASH_IN and kiosk.journey.state.payment.paid_fen == 2000
    assert ("-", "entry", "money in play: a customer is paying", "refused") in audit_rows(config)


def test_a_wrong_pin_says_how_many_tries_are_left_and_five_lock_the_account_across_a_restart(
        qapp, sim, clock, config):
    whole = started_kiosk(config, sim.url, clock)
    try:
        open_login(whole)
        for _ in range(5):
            log_in(whole, "li.wei", "111222")
        view = whole.maintenance.pages.login.form.view()
        assert view.notice.key == "maint.login.locked"
        assert whole.maintenance.parts.session.user is None
    finally:
        close_kiosk(whole)
    whole = started_kiosk(config, sim.url, clock)  # the kiosk restarted: the lock holds
    try:
        open_login(whole)
        log_in(whole, "li.wei")  # the right PIN, now
        assert whole.maintenance.parts.session.user is None
        assert whole.maintenance.pages.login.form.view().notice.key == "maint.login.locked"
    finally:
        close_kiosk(whole)
    assert [r for r in audit_rows(config) if r[1] == "lockout"] == [
        ("li.wei", "lockout", "5 wrong PINs in a row", "locked")]


def test_out_of_service_set_by_a_technician_holds_across_a_restart_until_put_back(qapp, sim, clock, config):
    whole = started_kiosk(config, sim.url, clock)
    try:
        enter_as(whole, "li.wei")
        go_to(whole, MaintPage.OPERATIONS)
        page = whole.maintenance.pages.current.widget
        tap(page.put_out)
        tap(page.form.chips["device_repair"])
        tap(page.form.confirm)
        wait_until(lambda: whole.maintenance.parts.switch.state().out and not whole.maintenance.busy,
                   what="out of service")
        log_out(whole)
        assert whole.window.showing_out_of_order
        assert whole.controller.service_level().reason_code == "E-MAINT-OUT"
    finally:
        close_kiosk(whole)
    whole = started_kiosk_out_of_service(config, sim.url, clock)
    try:
        assert whole.controller.service_level().reason_code == "E-MAINT-OUT"
        enter_as(whole, "li.wei")  # the entry works on the sign too (its code line)
        go_to(whole, MaintPage.OPERATIONS)
        tap(whole.maintenance.pages.current.widget.put_back)
        wait_until(lambda: not whole.maintenance.parts.switch.state().out and not whole.maintenance.busy,
                   what="back in service")
        log_out(whole)
        wait_until(lambda: not whole.window.showing_out_of_order, what="the sign down")
        assert whole.controller.service_level().in_service
    finally:
        close_kiosk(whole)


def started_kiosk_out_of_service(config, url, clock) -> Kiosk:
    """The harness's start waits for the sign to come down; this kiosk must keep it up."""
    from app.assembly import build_kiosk
    from harness import SCREEN

    whole = build_kiosk(config, backend_url=url, clock=clock, realistic_emulators=False)
    whole.window.pin_size(*SCREEN)
    whole.window.show()
    whole.start()
    wait_until(lambda: whole.controller.availability.ever_up and whole.window.showing_out_of_order,
               what="the first heartbeat, with the sign up")
    return whole


def test_a_login_page_left_alone_closes_and_the_machine_serves_again(whole, clock, config):
    open_login(whole)
    choose_user(whole, "li.wei")
    type_pin(whole, STAFF["li.wei"][1][:3])
    clock.advance(config.maintenance.idle_logout_s + 1)
    wait_until(lambda: not whole.maintenance.is_open and not whole.maintenance.busy, timeout_s=3,
               what="the idle close")
    assert whole.controller.service_level().in_service
    assert ("-", "entry", "closed from the login page (idle)", "ok") in audit_rows(config)


def test_a_logged_in_technician_is_logged_out_when_idle(whole, clock, config):
    enter_as(whole, "li.wei")
    clock.advance(config.maintenance.idle_logout_s + 1)
    wait_until(lambda: not whole.maintenance.is_open and not whole.maintenance.busy, timeout_s=5,
               what="the idle logout")
    assert ("li.wei", "logout", "idle", "ok") in audit_rows(config)


def test_a_technician_tests_each_device_against_its_emulator_and_records_a_repair(whole):
    enter_as(whole, "li.wei")
    wiring = whole.maintenance.pages.current
    page = wiring.widget
    wait_until(lambda: wiring.view is not None and not whole.maintenance.busy, what="the device page")
    tap(page.test_button)  # the acceptor: two test notes
    wait_until(lambda: wiring.view.test.acceptor is not None and not whole.maintenance.busy, what="intake on")
    for yuan in (10, 20):
        whole.devices.emulators.acceptor.insert_note(yuan)
    wait_until(lambda: wiring.view.test.acceptor.count == 2, timeout_s=5, what="two test notes")
    tap(page.stop_button)
    wait_until(lambda: not whole.maintenance.busy and wiring.view.test.state.value != "running", what="stopped")
    journal = whole.payments.journal
    assert journal.cash_box().test_notes == ((1000, 1), (2000, 1)) and journal.unfinished() == []

    tap(page.chips["printer"])
    tap(page.test_button)
    wait_until(lambda: not whole.maintenance.busy and wiring.view.test.printer is not None, what="the test slip")
    assert "KS-0001" in whole.devices.emulators.printer.decoded().text

    tap(page.chips["card_reader"])
    whole.devices.emulators.card_reader.insert()
    tap(page.test_button)
    wait_until(lambda: not whole.maintenance.busy and wiring.view.test.card is not None, what="the card read")
    card = wiring.view.test.card
    assert card.atr_hex and "****" in card.account_masked
    assert whole.controller.journey.state.step is Step.HOME  # the card started no customer's lookup

    go_to(whole, MaintPage.REPAIRS)
    repairs = whole.maintenance.pages.current
    tap(repairs.widget.what_chips[0])
    tap(repairs.widget.save)
    wait_until(lambda: not whole.maintenance.busy and repairs.view.saved_id is not None, what="the repair")
    (repair,) = whole.archive.opened().repairs("acceptor", 10)
    assert repair.technician == "li.wei" and repair.note


def test_no_customers_unmasked_data_is_on_any_maintenance_page(whole):
    from kiosk.backend.seed import DEMO_ACCOUNTS
    from PySide6.QtWidgets import QAbstractButton, QLabel

    kiosk = whole.controller
    at_overview(kiosk)
    account = kiosk.journey.state.account
    cash_in(kiosk)
    insert(whole, 100)
    tap(kiosk.window.cash_in.finish)
    if kiosk.window.cash_in.confirm.isVisible():
        tap(kiosk.window.cash_in.confirm.pay)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
    tap(kiosk.window.paid.done)
    secrets = {DEMO_ACCOUNTS["electricity_arrears"][1], account.account_no}  # the name is masked by the billing system
    enter_as(whole, "chen.jie")  # the supervisor sees every page
    seen = []
    for page in MaintPage:
        go_to(whole, page)
        seen += [w.text() for w in whole.maintenance.screen.findChildren(QLabel) + whole.maintenance.screen
                 .findChildren(QAbstractButton) if w.text()]
    text = "\n".join(seen)
    assert not [secret for secret in secrets if secret and secret in text]
    assert "¥100.00" in text  # the payment itself is there (in the outbox or the box), masked
