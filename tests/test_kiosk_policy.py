"""What a card event and an acceptor failure mid-payment mean, without a window."""

from __future__ import annotations

from drivers.pcsc.card_app import CardInfo, Utility
from drivers.pcsc.events import CardError, CardInserted, CardRemoved
from kiosk.journey_state import Step
from kiosk.kiosk_policy import CardUnusable, LookUpCard, card_news, must_finish_cash_in
from kiosk.service_level import ServiceLevel, out_of_order

CARD = CardInfo(Utility("electricity"), "3201100017", "000123456789")


def test_a_utility_card_is_looked_up_by_its_account():
    assert card_news(CardInserted(b"\x3b", CARD), ServiceLevel()) == LookUpCard("electricity", "3201100017")


def test_an_unusable_card_is_explained_and_a_removed_one_changes_nothing():
    assert card_news(CardError("CARD_MUTE", "no answer"), ServiceLevel()) == CardUnusable("CARD_MUTE")
    assert card_news(CardRemoved(), ServiceLevel()) is None


def test_cards_are_ignored_while_card_services_are_off():
    assert card_news(CardInserted(b"\x3b", CARD), ServiceLevel(card=False)) is None


def test_a_cash_in_is_finished_when_cash_can_no_longer_be_taken():
    assert must_finish_cash_in(Step.CASH_IN, ServiceLevel(cash=False))
    assert must_finish_cash_in(Step.CASH_IN, out_of_order("E-ACC-JAM_IN_ACCEPTOR", "jam"))
    assert not must_finish_cash_in(Step.CASH_IN, ServiceLevel())
    assert not must_finish_cash_in(Step.OVERVIEW, ServiceLevel(cash=False))
