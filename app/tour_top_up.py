"""The tour's card top-up pass: a prepaid meter card bought for, written, pulled, rewritten, refused.

Every state is played for real on the tour's kiosk: the demo card (issued
with its purchase key) in the card reader emulator, notes in the acceptor
emulator, the billing simulator booking and issuing the write token, and
between two purchases the card goes into a meter (:class:`~drivers.pcsc.meter.PrepaidMeter`)
that loads the credit and writes back, as at the customer's home — so the
same card buys again in every language.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtTest import QTest

from app.tour_hands import tap, wait_until
from drivers.pcsc.applet import DEMO_CARD, PrepaidCardApplet
from drivers.pcsc.card_app import CardInfo, CardType, Utility
from drivers.pcsc.meter import PrepaidMeter
from kiosk.backend.seed import DEMO_CARDS
from kiosk.journey_state import Step

# A gas card of the billing system's that the tour has it cancel (挂失): refused before any money.
LOST_GAS_CARD = CardInfo(Utility.GAS, "5101200029", "000051012002", CardType.PURCHASE, 0, 12, DEMO_CARDS["gas_card"])
WRITE_S = 25  # the longest a top-up's write waits (its posting, token and confirmation waits)


class TourTopUp:
    def __init__(self, tour) -> None:
        from screens.device_panel import demo_card_image

        self.tour = tour
        self.reader = tour.devices.emulators.card_reader
        # One card and its meter for the whole tour, as a customer has them.
        self.card = getattr(tour, "top_up_card", None) or demo_card_image()
        tour.top_up_card = self.card
        self.meter = getattr(tour, "top_up_meter", None) or PrepaidMeter(DEMO_CARD.meter_no,
                                                                         purchase_count=DEMO_CARD.purchase_count)
        tour.top_up_meter = self.meter

    @property
    def window(self):
        return self.tour.window

    def step(self, step: Step, what: str, timeout_s: float = 10) -> None:
        wait_until(lambda: self.tour.kiosk.journey.state.step is step, timeout_s=timeout_s, what=what)

    def visit(self, lang: str) -> None:
        wait_until(lambda: self.tour.kiosk.top_up.available, timeout_s=10, what="card top-ups open")
        self.bought_and_written(lang)
        self.pulled_and_rewritten(lang)
        self.billing_down_after_the_money(lang)
        self.refused_card(lang)
        self.to_meter()  # loaded: the next pass (another language) finds a card that may buy
        self.tour.home(lang)

    def to_meter(self) -> None:
        """The customer goes home and puts the card into the meter: the credit is loaded, the count written back."""
        self.reader.remove()
        self.meter.take_card(PrepaidCardApplet(self.card).process, datetime.now())

    def insert_card(self, lang: str) -> None:
        self.tour.home(lang)
        self.reader.insert(self.card)
        self.step(Step.CARD_OVERVIEW, "the card's overview")

    def to_cash_in(self, yuan: int) -> None:
        tap(self.window.card_overview.buy)
        self.step(Step.TOP_UP_AMOUNT, "the amount screen")
        amount = self.window.top_up_amount
        tap(amount.keypad.keys["clear"])
        for digit in str(yuan):
            tap(amount.keypad.keys[digit])
        tap(amount.submit)
        self.step(Step.CASH_IN, "the cash-in for the credit")

    def finish(self) -> None:
        tap(self.window.cash_in.finish)
        self.step(Step.TOP_UP_DONE, "the top-up's result", WRITE_S)

    def bought_and_written(self, lang: str) -> None:
        self.to_meter()
        self.insert_card(lang)
        self.tour.shoot("top-up-card-overview", lang)
        tap(self.window.card_overview.buy)
        self.step(Step.TOP_UP_AMOUNT, "the amount screen")
        self.tour.shoot("top-up-amount", lang)
        for digit in "9999":
            tap(self.window.top_up_amount.keypad.keys[digit])
        tap(self.window.top_up_amount.submit)
        self.tour.shoot("top-up-amount-refused", lang)
        tap(self.window.top_up_amount.keypad.keys["clear"])
        tap(self.window.top_up_amount.presets[1])  # ¥50
        tap(self.window.top_up_amount.submit)
        self.step(Step.CASH_IN, "the cash-in for the credit")
        self.tour.insert(20)
        self.tour.shoot("top-up-cash-in", lang)
        self.tour.insert(20, 10)
        self.tour.sim.inject("delay", seconds=1.5, path_prefix="/api/v1/purchases/")  # long enough to see
        tap(self.window.cash_in.finish)
        self.step(Step.TOP_UP_WRITING, "the write")
        QTest.qWait(600)
        self.tour.shoot("top-up-writing", lang)
        self.step(Step.TOP_UP_DONE, "the credit on the card", WRITE_S)
        self.tour.sim.clear_faults()
        self.tour.shoot("top-up-written", lang)

    def pulled_and_rewritten(self, lang: str) -> None:
        self.to_meter()
        self.insert_card(lang)
        self.to_cash_in(100)
        self.tour.insert(100)
        self.reader.pull_on_write()
        self.finish()
        self.tour.shoot("top-up-card-pulled", lang)
        self.reader.insert(LOST_GAS_CARD)  # another card for this purchase: told it is the wrong one
        wait_until(lambda: self.tour.kiosk.journey.state.top_up.wrong_card, what="the wrong card told")
        self.tour.shoot("top-up-wrong-card", lang)
        self.reader.insert(self.card)  # the same card, back in: the paid purchase is offered first
        self.step(Step.CARD_OVERVIEW, "the rewrite offered")
        self.tour.shoot("top-up-rewrite-offered", lang)
        tap(self.window.card_overview.rewrite)
        self.step(Step.TOP_UP_DONE, "the rewrite", WRITE_S)
        self.tour.shoot("top-up-rewritten", lang)

    def billing_down_after_the_money(self, lang: str) -> None:
        self.to_meter()
        self.insert_card(lang)
        self.to_cash_in(20)
        self.tour.insert(20)
        self.tour.sim.inject("drop", path_prefix="/api/v1/purchases/")  # the network goes once the order is in
        self.finish()
        self.tour.shoot("top-up-billing-down", lang)
        self.tour.sim.clear_faults()
        # Written at the card's next insertion, once the outbox has booked it (the next language buys again).
        self.reader.remove()
        self.reader.insert(self.card)
        self.step(Step.CARD_OVERVIEW, "the rewrite offered after the billing system came back", WRITE_S)
        tap(self.window.card_overview.rewrite)
        self.step(Step.TOP_UP_DONE, "the late rewrite", WRITE_S)

    def refused_card(self, lang: str) -> None:
        self.reader.remove()
        self.tour.home(lang)
        self.tour.sim.cancel_card(LOST_GAS_CARD.serial)
        self.reader.insert(LOST_GAS_CARD)
        self.step(Step.FAILED, "the cancelled card refused")
        self.tour.shoot("top-up-card-refused", lang)
        self.reader.remove()
