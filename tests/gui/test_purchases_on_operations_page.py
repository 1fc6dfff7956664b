"""A card purchase paid and not written, on the assembled kiosk: the customer pulls the card while the
credit is being written, leaves, and the technician who logs in next finds it on the operations page,
masked, with why it is not on the card.  The real billing simulator, the acceptor emulator, the
in-process card reader behind the PC/SC driver, the money journal on disk."""

from __future__ import annotations

import os
from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from app.assembly import Kiosk
from drivers.pcsc.applet import DEMO_CARD
from kiosk.i18n import Translator
from kiosk.journey_state import Step
from kiosk.maintenance_pages import MaintPage
from kiosk.top_up_records import TopUpOutcome
from screens.device_panel import demo_card_image
from screens.maintenance.outbox_table import PURCHASE_COLUMNS, PURCHASES
from screens.stylesheet import stylesheet

from gui.maintenance_hands import enter_as, give_staff_accounts, go_to
from gui.test_payment import insert
from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until

SHOTS = os.environ.get("KIOSK_TEST_SHOTS")  # a folder: the page saved as PNG to look at


@pytest.fixture
def whole(qapp, sim, clock, tmp_path) -> Iterator[Kiosk]:
    qapp.setStyleSheet(stylesheet())
    config = kiosk_config(tmp_path)
    give_staff_accounts(config)
    whole = started_kiosk(config, sim.url, clock)
    wait_until(lambda: whole.controller.top_up.available and whole.controller.service_level().cash,
               timeout_s=10, what="card top-ups ready")
    yield whole
    close_kiosk(whole)


def step_is(whole: Kiosk, step: Step, what: str, timeout_s: float = 10) -> None:
    wait_until(lambda: whole.controller.journey.state.step is step, timeout_s=timeout_s, what=what)


def buy_and_pull_the_card(whole: Kiosk, yuan: int) -> str:
    """A customer buys ``yuan`` of credit in cash and pulls the card mid-write; the purchase number."""
    window = whole.controller.window
    reader = whole.devices.emulators.card_reader
    reader.insert(demo_card_image())
    step_is(whole, Step.CARD_OVERVIEW, "the card's overview")
    tap(window.card_overview.buy)
    step_is(whole, Step.TOP_UP_AMOUNT, "the amount screen")
    for digit in str(yuan):
        tap(window.top_up_amount.keypad.keys[digit])
    tap(window.top_up_amount.submit)
    step_is(whole, Step.CASH_IN, "the cash-in for the credit")
    insert(whole, yuan)
    reader.pull_on_write()
    tap(window.cash_in.finish)
    step_is(whole, Step.TOP_UP_DONE, "the top-up's result", timeout_s=25)
    result = whole.controller.journey.state.top_up.result
    assert result.outcome is TopUpOutcome.NOT_WRITTEN
    tap(window.top_up_done.done)  # the customer leaves without the credit on the card
    step_is(whole, Step.HOME, "the home screen")
    return result.purchase_no


def cells(table, row: int) -> dict[str, str]:
    return {key: label.text() for (key, _), label in zip(PURCHASE_COLUMNS, table.cells[row])}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_purchase_whose_card_was_pulled_mid_write_is_listed_for_the_technician(whole, lang):
    purchase_no = buy_and_pull_the_card(whole, 100)
    if whole.controller.lang != lang:
        tap(whole.window.header.language_switch)

    enter_as(whole, "li.wei")
    go_to(whole, MaintPage.OPERATIONS)
    page = whole.maintenance.pages.current.widget
    tr = Translator(lang)
    assert page.outbox.list_chips[PURCHASES].text() == tr("maint.purchases.tab.purchases", count=1)
    assert not page.outbox.purchase_table.isVisible()  # the payments' list first, as before
    tap(page.outbox.list_chips[PURCHASES])
    QApplication.processEvents()
    if SHOTS:
        whole.window.grab().save(os.path.join(SHOTS, f"operations-purchases-{lang}.png"))

    assert page.outbox.purchase_table.isVisible() and not page.table.isVisible()
    row = cells(page.outbox.purchase_table, 0)
    assert row["maint.purchases.col.purchase"] == purchase_no
    assert row["maint.purchases.col.card"] == "*" * 12 + DEMO_CARD.serial[-4:]
    assert row["maint.ops.col.amount"] == "¥100.00"
    assert row["maint.ops.col.state"] == tr("maint.purchases.state.write_failed")
    assert row["maint.purchases.col.writes"] == "1"
    assert row["maint.purchases.col.why"] not in ("", "—")  # the card's reason for it
    assert "*" in row["maint.ops.col.account"]
    assert not page.outbox.purchase_table.cells[1][0].isVisible()  # one purchase, one row
    assert page.outbox_heading.text() == tr("maint.purchases.heading", not_written=1, amount="¥100.00", referred=0,
                                            queued=0)
    needs = whole.window.minimumSizeHint()
    assert needs.width() <= 1920 and needs.height() <= 1080  # the page still fits its screen
