"""Decisions the controller used to make inline, as plain Python the tests drive without a window.

* A card event means: look this account up, open a prepaid card's top-up
  (where the kiosk sells credit), tell the customer their card is unusable,
  or that it was taken out (before any money of a top-up, the card is asked
  for again; otherwise the idle timer ends the session).
* The acceptor failing in the middle of a cash-in means: finish the payment
  now with what the journal holds (the result refers the customer to the
  counter if a note may be inside).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.pcsc.card_app import CardType
from drivers.pcsc.events import CardError, CardInserted, CardRemoved
from kiosk.journey_state import Step
from kiosk.service_level import ServiceLevel


@dataclass(frozen=True)
class LookUpCard:
    utility_id: str
    account_no: str


@dataclass(frozen=True)
class TopUpCard:
    """A prepaid meter's purchase card (购电卡): its own overview, to buy credit or have it written."""

    utility_id: str
    card_serial: str


@dataclass(frozen=True)
class CardUnusable:
    reason: str


@dataclass(frozen=True)
class CardTakenOut:
    pass


def card_news(event: object, level: ServiceLevel, *, top_up: bool = False
              ) -> LookUpCard | TopUpCard | CardUnusable | CardTakenOut | None:
    """What a card reader event asks of the journey, if anything (``top_up``: this kiosk sells credit)."""
    if not level.card:
        return None
    if isinstance(event, CardInserted):
        info = event.card_info
        if top_up and info.card_type is CardType.PURCHASE:
            return TopUpCard(info.utility.value, info.serial)
        return LookUpCard(info.utility.value, info.account_no)
    if isinstance(event, CardRemoved):
        return CardTakenOut()
    if isinstance(event, CardError):
        return CardUnusable(event.reason)
    return None


def must_finish_cash_in(step: Step, level: ServiceLevel) -> bool:
    """True when a cash-in is under way but cash can no longer be taken (a jam, the box pulled)."""
    return step is Step.CASH_IN and not (level.in_service and level.cash)
