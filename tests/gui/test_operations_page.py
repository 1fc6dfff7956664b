"""The operations page, rendered from the real model (journal, switch, sticks) and tapped like a finger."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

import operations_world as world
from harness import tap
from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from kiosk.operations_model import OperationsModel
from kiosk.service_switch import ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore
from operations_world import WATER
from screens.context import RenderContext
from screens.maintenance.operations_page import OperationsPage
from screens.maintenance.outbox_table import VISIBLE_ROWS
from screens.stylesheet import stylesheet

clock, journal, pay, sim, worker = world.clock, world.journal, world.pay, world.sim, world.worker  # fixtures
USER = "wang.tech"
PAGE = (1640, 900)


def context(lang: str) -> RenderContext:
    return RenderContext(default_config(), Translator(lang))


@pytest.fixture
def model(tmp_path: Path, journal, clock):
    store = MaintenanceStore(tmp_path / "data" / "maintenance.sqlite")
    audit = Audit(store, keep_days=365, clock=clock)
    (tmp_path / "media" / "KINGSTON").mkdir(parents=True)
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "kiosk.log").write_text("{}\n")
    yield OperationsModel(journal=journal, sync=None, switch=ServiceSwitch(store, audit, clock), audit=audit,
                          log_dir=str(tmp_path / "log"), export_dir=str(tmp_path / "media"), terminal_id="T0001",
                          clock=clock)
    store.close()


@pytest.fixture
def page(qapp: QApplication):
    qapp.setStyleSheet(stylesheet())
    made = OperationsPage()
    made.resize(*PAGE)
    made.show()
    yield made
    made.close()


def some_payments(journal, pay, clock) -> None:
    """One queued, one retrying after two timeouts, one referred for a closed account."""
    pay(10000, 5000)
    retrying = pay(2000, account=WATER)
    journal.mark_pending(retrying.transaction_no, "TIMEOUT", "no answer")
    journal.mark_pending(retrying.transaction_no, "TIMEOUT", "no answer")
    journal.mark_referred(pay(10000).transaction_no, "ACCOUNT_CLOSED", "closed")
    clock.now += 3 * 3600 + 300


def shot(page: OperationsPage, name: str) -> None:
    QApplication.processEvents()
    page.grab().save(f"/tmp/ops_{name}.png")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_outbox_shows_each_payment_masked_with_its_state_and_what_went_wrong(page, model, journal, pay, clock,
                                                                               lang):
    some_payments(journal, pay, clock)
    view = model.view()
    page.render(context(lang), view)
    shot(page, f"outbox_{lang}")

    tr = Translator(lang)
    first_row = [label.text() for label in page.table.cells[0]]
    assert first_row[0] == view.outbox.waiting[0].transaction_no
    assert first_row[2] == view.outbox.waiting[0].account_masked and "*" in first_row[2]
    assert first_row[3] == "¥150.00"
    second = [label.text() for label in page.table.cells[1]]
    assert second[4:7] == [tr("maint.ops.state.pending"), "2", "TIMEOUT"]
    third = [label.text() for label in page.table.cells[2]]
    assert third[4] == tr("maint.ops.state.referred") and third[6] == "ACCOUNT_CLOSED"
    assert not page.table.cells[3][0].isVisible()
    assert page.put_out.isVisible() and not page.put_back.isVisible()


def test_taps_ask_for_sync_refresh_export_and_back_in_service(page, model, qtbot):
    page.render(context("en"), model.view())
    asked: list[tuple] = []
    page.sync_requested.connect(lambda: asked.append(("sync",)))
    page.refresh_requested.connect(lambda: asked.append(("refresh",)))
    page.export_requested.connect(lambda path: asked.append(("export", path)))
    page.put_back_requested.connect(lambda: asked.append(("put_back",)))
    for button in (page.sync, page.refresh, page.look_again, page.export):
        tap(button)
    stick = model.view().targets[0]
    assert stick.label == "KINGSTON"
    assert asked == [("sync",), ("refresh",), ("refresh",), ("export", stick.path)]
    shot(page, "export_en")

    page.render(context("en"), model.put_out(USER, "hall_closed", ""))
    tap(page.put_back)
    assert asked[-1] == ("put_back",)


def test_putting_out_takes_a_phrase_and_typed_words_and_the_form_closes_when_done(page, model):
    ctx = context("en")
    page.render(ctx, model.view())
    asked = []
    page.put_out_requested.connect(lambda preset, words: asked.append((preset, words)))
    tap(page.put_out)
    assert page.stack.currentWidget() is page.form
    tap(page.form.chips["device_repair"])
    for key in "belt":
        tap(page.form.pad.keys[key])
    assert page.form.recorded.text() == "Recorded as: device_repair: Device repair - belt"
    shot(page, "form_en")
    tap(page.form.confirm)
    assert asked == [("device_repair", "belt")]

    page.render(ctx, model.put_out(USER, *asked[0]))  # what the application does with the signal
    assert page.stack.currentWidget() is page.main
    assert page.service_status.text() == "Out of service"
    assert "Device repair - belt" in page.service_detail.text() and USER in page.service_detail.text()
    assert page.put_back.isVisible() and not page.put_out.isVisible()
    shot(page, "out_en")
    page.render(context("zh"), model.view())
    shot(page, "out_zh")


def test_a_refused_reason_keeps_the_form_open_with_the_message(page, model):
    ctx = context("zh")
    page.render(ctx, model.view())
    tap(page.put_out)
    tap(page.form.confirm)  # nothing chosen, nothing typed
    page.render(ctx, model.put_out(USER, page.form.chosen, page.form.pad.text()))
    assert page.stack.currentWidget() is page.form
    assert page.message.isVisible() and page.message.text() == Translator("zh")("maint.ops.switch.reason_required")
    assert page.message.property("tone") == "error"
    shot(page, "form_refused_zh")


def test_restart_asks_for_a_confirmation_first(page, model):
    page.render(context("en"), model.view())
    asked = []
    page.restart_requested.connect(lambda: asked.append("restart"))
    tap(page.restart)
    assert page.stack.currentWidget() is page.confirm_restart and asked == []
    shot(page, "restart_en")
    tap(page.restart_cancel)
    assert page.stack.currentWidget() is page.main and asked == []
    tap(page.restart)
    tap(page.restart_now)
    assert asked == ["restart"] and page.stack.currentWidget() is page.main


def test_a_long_outbox_says_how_many_more_and_busy_disables_the_actions(page, model, journal, pay, clock):
    for _ in range(VISIBLE_ROWS + 2):
        pay(10000)
    view = model.view()
    page.render(context("en"), view)
    assert page.table.more.isVisible() and page.table.more.text() == "2 more not shown"
    from dataclasses import replace

    page.render(context("en"), replace(view, busy=True))
    assert not page.sync.isEnabled() and not page.export.isEnabled() and not page.restart.isEnabled()
    shot(page, "long_busy_en")


def test_without_a_journal_the_outbox_says_why(page, tmp_path, clock):
    store = MaintenanceStore(tmp_path / "m.sqlite")
    audit = Audit(store, keep_days=30, clock=clock)
    model = OperationsModel(journal=None, sync=None, switch=ServiceSwitch(store, audit, clock), audit=audit,
                            log_dir=str(tmp_path / "nolog"), export_dir=str(tmp_path / "nomedia"),
                            terminal_id="T0001", clock=clock)
    page.render(context("en"), model.export(USER, str(tmp_path / "nomedia")))
    assert page.table.empty.text().startswith("The money journal is not open")
    assert page.no_targets.isVisible() and not page.export.isEnabled() and not page.sync.isEnabled()
    assert page.message.property("tone") == "error"
    shot(page, "no_journal_en")
    store.close()


def test_wipe_forgets_the_typed_words_the_chosen_phrase_and_the_message(page, model):
    ctx = context("en")
    page.render(ctx, model.put_out(USER, "", ""))
    tap(page.put_out)
    tap(page.form.chips["power_work"])
    tap(page.form.pad.keys["x"])
    page.wipe()
    assert page.stack.currentWidget() is page.main
    assert page.form.pad.text() == "" and page.form.chosen == ""
    assert not page.message.isVisible()
