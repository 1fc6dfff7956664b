"""Service hours today, tapped like a finger: on the operations page, and on the assembled kiosk, where the
closed sign follows what the technician set, lets the technician back in, and never cuts off a payment."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication

import operations_world as world
from app.assembly import Kiosk
from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.journey_state import Step
from kiosk.maintenance_audit import Audit
from kiosk.maintenance_pages import MaintPage
from kiosk.operations_model import OperationsModel
from kiosk.service_hours import REASON_HOURS_CLOSED, ServiceHoursKeeper
from kiosk.service_switch import ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore
from screens.context import RenderContext
from screens.maintenance.operations_page import OperationsPage
from screens.stylesheet import stylesheet

from gui.maintenance_hands import enter_as, give_staff_accounts, go_to, log_out
from gui.test_payment import at_overview, cash_in, insert
from harness import ManualClock, close_kiosk, kiosk_config, started_kiosk, tap, wait_until

clock, journal, pay, sim, worker = world.clock, world.journal, world.pay, world.sim, world.worker  # fixtures
USER = "li.wei"
PAGE = (1640, 900)
FRIDAY_10 = dt.datetime(2026, 12, 4, 10, 0)  # the configured hours: 08:00–20:00 every day


class WallClock:
    """The hall's local time, moved by the test (the journey's clock is another one)."""

    def __init__(self, at: dt.datetime = FRIDAY_10) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def context(lang: str) -> RenderContext:
    return RenderContext(default_config(), Translator(lang))


def shot(widget, name: str) -> None:
    QApplication.processEvents()
    widget.grab().save(f"/tmp/hours_{name}.png")


# -- the page, on the real model ---------------------------------------------------------------------
@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def model(tmp_path, journal, clock, wall):
    store = MaintenanceStore(tmp_path / "data" / "maintenance.sqlite")
    audit = Audit(store, keep_days=365, clock=clock)
    (tmp_path / "log").mkdir()
    keeper = ServiceHoursKeeper.from_config(default_config(), store, wall)
    yield OperationsModel(journal=journal, sync=None, switch=ServiceSwitch(store, audit, clock), audit=audit,
                          log_dir=str(tmp_path / "log"), export_dir=str(tmp_path / "media"), terminal_id="T0001",
                          clock=clock, hours=keeper)
    store.close()


@pytest.fixture
def page(qapp):
    qapp.setStyleSheet(stylesheet())
    made = OperationsPage()
    made.resize(*PAGE)
    made.show()
    yield made
    made.close()


def type_time(page: OperationsPage, field: str, digits: str) -> None:
    tap(page.hours_form.field_chips[field])
    for digit in digits:
        tap(page.hours_form.keypad.keys[digit])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_panel_shows_the_configured_hours_and_that_the_machine_is_open(page, model, lang):
    page.render(context(lang), model.view())
    shot(page, f"panel_{lang}")
    tr = Translator(lang)
    panel = page.hours_panel
    assert panel.status.text() == tr("maint.hours.open_now")
    assert "08:00–20:00" in panel.today.text() and "08:00–20:00" in panel.usual.text()
    assert panel.change.isVisible() and not panel.clear.isVisible()  # nothing to clear yet


def test_other_hours_for_today_are_typed_on_the_keypad_and_shown_with_who_set_them(page, model):
    ctx = context("en")
    page.render(ctx, model.view())
    asked = []
    page.hours_requested.connect(lambda opens, closes: asked.append((opens, closes)))
    tap(page.hours_panel.change)
    assert page.stack.currentWidget() is page.hours_form
    assert page.hours_form.field_chips["open"].text() == "Opens 08:00"  # today's hours to start from
    type_time(page, "open", "0930")
    type_time(page, "close", "16")
    assert page.hours_form.field_chips["close"].text() == "Closes 16:__"
    tap(page.hours_form.keypad.keys["0"])
    tap(page.hours_form.keypad.keys["0"])
    shot(page, "form_en")
    tap(page.hours_form.confirm)
    assert asked == [("09:30", "16:00")]
    page.render(ctx, model.set_hours_today(USER, *asked[0]))  # what the application does with the signal
    shot(page, "override_en")
    assert page.stack.currentWidget() is page.main
    assert "Today only: 09:30–16:00 (set by li.wei at" in page.hours_panel.today.text()
    assert page.hours_panel.clear.isVisible()
    assert page.message.text() == "Today's service hours are now 09:30–16:00."


def test_hours_that_run_backwards_keep_the_form_open_with_what_is_wrong(page, model):
    ctx = context("zh")
    page.render(ctx, model.view())
    tap(page.hours_panel.change)
    type_time(page, "open", "1800")
    type_time(page, "close", "0900")
    tap(page.hours_form.confirm)
    page.render(ctx, model.set_hours_today(USER, "18:00", "09:00"))
    shot(page, "refused_zh")
    assert page.stack.currentWidget() is page.hours_form
    assert page.message.text() == Translator("zh")("maint.hours.refused.close_not_after_open", open="18:00",
                                                    close="09:00")
    assert model.hours.override() is None


def test_closed_today_and_back_to_the_configured_hours(page, model):
    ctx = context("zh")
    page.render(ctx, model.view())
    closed, cleared = [], []
    page.closed_today_requested.connect(lambda: closed.append(True))
    page.clear_hours_requested.connect(lambda: cleared.append(True))
    tap(page.hours_panel.change)
    tap(page.hours_form.closed)
    assert closed == [True]
    page.render(ctx, model.close_today(USER))
    shot(page, "closed_zh")
    panel = page.hours_panel
    assert panel.status.text() == "停止营业" and "今天全天停止营业" in panel.today.text()
    assert "12月5日（周六）08:00" in panel.today.text()  # the next opening: tomorrow morning
    tap(panel.clear)
    assert cleared == [True]
    page.render(ctx, model.clear_hours_today(USER))
    assert panel.status.text() == "营业中" and not panel.clear.isVisible()


# -- the assembled kiosk -------------------------------------------------------------------------------
@pytest.fixture
def hall(qapp, sim, tmp_path) -> Iterator[tuple[Kiosk, WallClock]]:
    """The whole kiosk, keeping its service hours on a wall clock the test moves, as `kiosk run` keeps them."""
    config = kiosk_config(tmp_path)
    give_staff_accounts(config)
    whole = started_kiosk(config, sim.url, ManualClock())  # the journey's clock (this module's `clock` is money's)
    wall = WallClock()
    whole.controller.services.hours = ServiceHoursKeeper.from_config(config, whole.maintenance.store, wall)
    wait_until(lambda: whole.controller.payments is not None and whole.controller.service_level().cash,
               timeout_s=5, what="payments ready")
    yield whole, wall
    close_kiosk(whole)


def test_closed_today_by_a_technician_puts_up_the_closed_sign_which_lets_the_technician_back_in(hall):
    whole, _ = hall
    enter_as(whole, USER)
    go_to(whole, MaintPage.OPERATIONS)
    page = whole.maintenance.pages.current.widget
    tap(page.hours_panel.change)
    tap(page.hours_form.closed)
    wait_until(lambda: whole.controller.services.hours.override() is not None and not whole.maintenance.busy,
               what="closed today")
    log_out(whole)
    wait_until(lambda: whole.window.showing_out_of_order, what="the closed sign")
    shot(whole.window, "sign")
    sign = whole.window.out_of_order
    assert whole.controller.service_level().reason_code == REASON_HOURS_CLOSED
    assert sign.title_zh.text() == "暂停营业" and sign.title_en.text() == "Closed"
    assert "12月5日（周六）08:00" in sign.text_zh.text() and "95598" in sign.text_zh.text()
    assert "on Sat 5 Dec at 08:00" in sign.text_en.text()
    assert sign.property("sign") == "closed"

    enter_as(whole, USER)  # the hidden entry on the sign's code line
    go_to(whole, MaintPage.OPERATIONS)
    tap(whole.maintenance.pages.current.widget.hours_panel.clear)
    wait_until(lambda: whole.controller.services.hours.override() is None and not whole.maintenance.busy,
               what="back to the configured hours")
    log_out(whole)
    wait_until(lambda: not whole.window.showing_out_of_order, what="the sign down")
    assert whole.controller.service_level().in_service


def test_a_payment_under_way_at_closing_time_is_finished_and_the_sign_waits_for_home(hall):
    whole, wall = hall
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    insert(whole, 20)
    wall.at = FRIDAY_10.replace(hour=20, minute=0, second=30)  # closing time passes while the customer pays
    insert(whole, 100, 100)  # still taken (the acceptor was not inhibited), and now more than is owed
    assert kiosk.journey.state.step is Step.CASH_IN and kiosk.service_level().cash
    tap(kiosk.window.cash_in.finish)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
    assert kiosk.journey.state.payment.paid_fen == 22_000
    assert not whole.window.showing_out_of_order  # the customer reads the result
    kiosk.journey.go_home()
    wait_until(lambda: whole.window.showing_out_of_order, what="the closed sign once the customer left")
    assert kiosk.service_level().reason_code == REASON_HOURS_CLOSED
