"""A customer buys credit for a prepaid meter card on the assembled kiosk: the real billing simulator,
the acceptor emulator behind its driver, the in-process card reader behind the PC/SC driver, the money
journal on disk.  What the screens say is what the card carries and the billing system booked."""

from __future__ import annotations

import os
from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from app.assembly import Kiosk
from drivers.pcsc import card_app
from drivers.pcsc.card_app import CardInfo, CardType, Utility
from kiosk.backend.seed import DEMO_CARDS
from drivers.pcsc.applet import DEMO_CARD, CardImage
from kiosk.journey_state import Step
from kiosk.top_up_records import TopUpOutcome
from screens.device_panel import demo_card_image
from screens.stylesheet import stylesheet

from gui.test_payment import insert
from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until

OTHER_CARD = CardInfo(Utility.GAS, "5101200029", "000051012002", CardType.PURCHASE, 0, 12, DEMO_CARDS["gas_card"])
SHOTS = os.environ.get("KIOSK_TEST_SHOTS")  # a folder: every screen of these tests saved as PNG to look at


@pytest.fixture
def whole(qapp, sim, clock, tmp_path) -> Iterator[Kiosk]:
    qapp.setStyleSheet(stylesheet())  # as the terminal draws it (the screenshots, the sizes)
    whole = started_kiosk(kiosk_config(tmp_path), sim.url, clock)
    wait_until(lambda: whole.controller.top_up.available and whole.controller.service_level().cash,
               timeout_s=10, what="card top-ups ready")
    yield whole
    close_kiosk(whole)


def shoot(whole: Kiosk, name: str) -> None:
    if SHOTS:
        QApplication.processEvents()  # the layout catches up with the last render before the picture
        whole.window.grab().save(os.path.join(SHOTS, f"{name}.png"))


def purse(image: CardImage) -> tuple[int, int]:
    """(credit fen, purchase count) as the chip holds them: the last purchase's credit, on its way
    to the meter (docs/card.md), and how many purchases the card has carried."""
    return card_app.parse_purse(bytes(image.files[card_app.EF_PURSE]))


def step_is(whole: Kiosk, step: Step, what: str, timeout_s: float = 10) -> None:
    wait_until(lambda: whole.controller.journey.state.step is step, timeout_s=timeout_s, what=what)


def to_overview(whole: Kiosk, image: CardImage) -> None:
    whole.devices.emulators.card_reader.insert(image)
    step_is(whole, Step.CARD_OVERVIEW, "the card's overview")


def buy(whole: Kiosk, yuan: int, *notes: int) -> None:
    """From the card's overview: Buy, the amount on the keypad, Pay, the notes, Done."""
    window = whole.controller.window
    tap(window.card_overview.buy)
    step_is(whole, Step.TOP_UP_AMOUNT, "the amount screen")
    for digit in str(yuan):
        tap(window.top_up_amount.keypad.keys[digit])
    tap(window.top_up_amount.submit)
    step_is(whole, Step.CASH_IN, "the cash-in for the credit")
    insert(whole, *notes)
    tap(window.cash_in.finish)


def result(whole: Kiosk):
    step_is(whole, Step.TOP_UP_DONE, "the top-up's result", timeout_s=25)
    return whole.controller.journey.state.top_up.result


def test_credit_bought_with_cash_is_on_the_card_read_back_and_booked_once(whole, sim):
    image = demo_card_image()
    credit_before, count_before = purse(image)
    to_overview(whole, image)
    overview = whole.controller.window.card_overview
    assert overview.fields["credit"][1].text() == f"¥{credit_before // 100:,}.{credit_before % 100:02d}"
    assert overview.fields["count"][1].text() == str(count_before)
    assert overview.buy.isVisible() and not overview.rewrite.isVisible()
    shoot(whole, "card-overview")

    buy(whole, 50, 50)
    done = result(whole)
    shoot(whole, "top-up-written")
    assert done.outcome is TopUpOutcome.WRITTEN
    assert purse(image) == (5000, count_before + 1)  # the card carries the new purchase to the meter
    assert done.card_credit_fen == 5000  # what the screen shows is what was read back from the chip
    screen = whole.controller.window.top_up_done
    assert "50.00" in screen.title.text() and screen.take_card.text()
    assert not screen.rewrite.isVisible()  # nothing left to write
    booked = [p for p in sim.purchases if p["card_serial"] == DEMO_CARD.serial and p.get("amount_fen")]
    assert [p["amount_fen"] for p in booked] == [5000]


def test_an_amount_outside_the_cards_limits_is_refused_beside_the_field_before_any_money(whole):
    to_overview(whole, demo_card_image())
    window = whole.controller.window
    tap(window.card_overview.buy)
    step_is(whole, Step.TOP_UP_AMOUNT, "the amount screen")
    limits = whole.controller.journey.state.top_up.offer.limits
    too_much = str(limits.max_amount_fen // 100 + 1)
    for digit in too_much:
        tap(window.top_up_amount.keypad.keys[digit])
    tap(window.top_up_amount.submit)
    shoot(whole, "top-up-amount-too-much")
    assert whole.controller.journey.state.step is Step.TOP_UP_AMOUNT  # no order, no cash-in
    assert "✗" in window.top_up_amount.status.text()
    assert not window.top_up_amount.submit.isEnabled()
    assert whole.payments.journal.purchases_of_card(DEMO_CARD.serial) == []


def test_a_card_pulled_during_the_write_keeps_the_money_and_is_written_when_inserted_again(whole):
    image = demo_card_image()
    credit_before, count_before = purse(image)
    reader = whole.devices.emulators.card_reader
    to_overview(whole, image)
    reader.pull_on_write()
    buy(whole, 100, 100)
    pulled = result(whole)
    shoot(whole, "top-up-card-pulled")
    assert pulled.outcome is TopUpOutcome.NOT_WRITTEN
    assert purse(image) == (credit_before, count_before)  # nothing half-written

    reader.insert(OTHER_CARD)  # another card of the customer's: not the one this purchase is for
    wait_until(lambda: whole.controller.journey.state.top_up.wrong_card, what="the wrong card told")
    shoot(whole, "top-up-wrong-card")
    screen = whole.controller.window.top_up_done
    assert screen.problem.text() == "这不是本次购买的卡，请插入购买时使用的卡。"
    assert screen.figures.rows[0][1].text() == pulled.purchase_no  # the purchase number stays on screen

    to_overview(whole, image)  # the same card, back in: the paid purchase first, nothing sold
    overview = whole.controller.window.card_overview
    assert overview.rewrite.isVisible() and not overview.buy.isVisible()
    shoot(whole, "card-overview-rewrite")
    tap(overview.rewrite)
    rewritten = result(whole)
    shoot(whole, "top-up-rewritten")
    assert rewritten.outcome is TopUpOutcome.WRITTEN and rewritten.purchase_no == pulled.purchase_no
    assert purse(image) == (10000, count_before + 1)
    journal = whole.payments.journal
    assert [p.paid_fen for p in journal.purchases_of_card(DEMO_CARD.serial)] == [10000]  # paid once


def test_the_card_taken_out_before_any_money_asks_for_it_again(whole):
    to_overview(whole, demo_card_image())
    whole.devices.emulators.card_reader.remove()
    step_is(whole, Step.CARD, "the card asked for again")


def test_a_card_the_billing_system_cancelled_is_refused_with_why_and_no_money_taken(whole, sim):
    image = demo_card_image()
    sim.cancel_card(DEMO_CARD.serial)
    whole.devices.emulators.card_reader.insert(image)
    step_is(whole, Step.FAILED, "the refusal")
    shoot(whole, "top-up-card-refused")
    failure = whole.controller.journey.state.failure
    assert failure.reason_key == "top_up.refused.card_cancelled"
    assert whole.controller.window.failure.reason.text()


def test_the_billing_system_gone_after_the_money_keeps_it_and_says_the_credit_is_written_later(whole, sim):
    image = demo_card_image()
    credit_before, count_before = purse(image)
    to_overview(whole, image)
    window = whole.controller.window
    tap(window.card_overview.buy)
    step_is(whole, Step.TOP_UP_AMOUNT, "the amount screen")
    tap(window.top_up_amount.presets[0])
    chosen = whole.controller.journey.state.top_up.chosen_fen
    tap(window.top_up_amount.submit)
    step_is(whole, Step.CASH_IN, "the cash-in")
    sim.inject("drop", path_prefix="/api/v1/purchases/")  # the network goes once the order is in
    insert(whole, *([chosen // 100] if chosen // 100 in (20, 50, 100) else [10] * (chosen // 1000)))
    tap(window.cash_in.finish)
    late = result(whole, )
    shoot(whole, "top-up-billing-down")
    assert late.outcome is TopUpOutcome.NOT_WRITTEN and late.problem_key == "top_up.problem.posting_pending"
    assert purse(image) == (credit_before, count_before)
    sim.clear_faults()


def test_a_second_purchase_waits_for_the_meter_to_take_the_first_then_is_sold(whole):
    from datetime import datetime

    from drivers.pcsc.applet import PrepaidCardApplet
    from drivers.pcsc.meter import PrepaidMeter

    image = demo_card_image()
    reader = whole.devices.emulators.card_reader
    to_overview(whole, image)
    buy(whole, 50, 50)
    assert result(whole).outcome is TopUpOutcome.WRITTEN
    tap(whole.controller.window.top_up_done.done)

    reader.remove()
    reader.insert(image)  # straight back, the credit still on its way to the meter
    step_is(whole, Step.FAILED, "the second purchase refused")
    assert whole.controller.journey.state.failure.reason_key == "top_up.refused.meter_first"

    reader.remove()  # home: the meter loads the purchase and writes back
    meter = PrepaidMeter(DEMO_CARD.meter_no, purchase_count=DEMO_CARD.purchase_count)
    meter.take_card(PrepaidCardApplet(image).process, datetime.now())
    assert meter.purchase_count == DEMO_CARD.purchase_count + 1
    to_overview(whole, image)
    assert whole.controller.window.card_overview.buy.isVisible()
