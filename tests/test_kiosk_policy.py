"""What a card event and an acceptor failure mid-payment mean, without a window."""

from __future__ import annotations

from drivers.pcsc.card_app import CardInfo, CardType, Utility
from drivers.pcsc.events import CardError, CardInserted, CardRemoved
from kiosk.journey_state import Step
from kiosk.kiosk_policy import CardTakenOut, CardUnusable, LookUpCard, TopUpCard, card_news, must_finish_cash_in
from kiosk.service_level import ServiceLevel, out_of_order

CARD = CardInfo(Utility("electricity"), "3201100017", "000123456789")
PURCHASE_CARD = CardInfo(Utility("gas"), "5101200029", "000051012002", CardType.PURCHASE, 0, 12, "0" * 16)


def test_a_utility_card_is_looked_up_by_its_account():
    assert card_news(CardInserted(b"\x3b", CARD), ServiceLevel()) == LookUpCard("electricity", "3201100017")


def test_a_purchase_card_opens_its_top_up_where_the_kiosk_sells_credit_and_its_bill_where_not():
    inserted = CardInserted(b"\x3b", PURCHASE_CARD)
    assert card_news(inserted, ServiceLevel(), top_up=True) == TopUpCard("gas", "0" * 16)
    assert card_news(inserted, ServiceLevel(), top_up=False) == LookUpCard("gas", "5101200029")
    # An open-account card (开户卡, not a purchase card) shows its bill either way.
    opening = CardInfo(Utility("electricity"), "3201100017", "000123456789", CardType.OPEN_ACCOUNT)
    assert card_news(CardInserted(b"\x3b", opening), ServiceLevel(), top_up=True) == LookUpCard("electricity",
                                                                                            "3201100017")


def test_an_unusable_card_is_explained_and_a_removed_one_is_said_to_be_out():
    assert card_news(CardError("CARD_MUTE", "no answer"), ServiceLevel()) == CardUnusable("CARD_MUTE")
    assert card_news(CardRemoved(), ServiceLevel()) == CardTakenOut()


def test_cards_are_ignored_while_card_services_are_off():
    assert card_news(CardInserted(b"\x3b", CARD), ServiceLevel(card=False)) is None


def test_a_cash_in_is_finished_when_cash_can_no_longer_be_taken():
    assert must_finish_cash_in(Step.CASH_IN, ServiceLevel(cash=False))
    assert must_finish_cash_in(Step.CASH_IN, out_of_order("E-ACC-JAM_IN_ACCEPTOR", "jam"))
    assert not must_finish_cash_in(Step.CASH_IN, ServiceLevel())
    assert not must_finish_cash_in(Step.OVERVIEW, ServiceLevel(cash=False))
