"""Decisions the controller used to make inline, as plain Python the tests drive without a window.

* A card event means: look this account up, tell the customer their card is
  unusable, or nothing (a card taken back: the idle timer ends the session).
* The acceptor failing in the middle of a cash-in means: finish the payment
  now with what the journal holds (the result refers the customer to the
  counter if a note may be inside).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.pcsc.events import CardError, CardInserted
from kiosk.journey_state import Step
from kiosk.service_level import ServiceLevel


@dataclass(frozen=True)
class LookUpCard:
    utility_id: str
    account_no: str


@dataclass(frozen=True)
class CardUnusable:
    reason: str


def card_news(event: object, level: ServiceLevel) -> LookUpCard | CardUnusable | None:
    """What a card reader event asks of the journey, if anything."""
    if not level.card:
        return None
    if isinstance(event, CardInserted):
        return LookUpCard(event.card_info.utility.value, event.card_info.account_no)
    if isinstance(event, CardError):
        return CardUnusable(event.reason)
    return None


def must_finish_cash_in(step: Step, level: ServiceLevel) -> bool:
    """True when a cash-in is under way but cash can no longer be taken (a jam, the box pulled)."""
    return step is Step.CASH_IN and not (level.in_service and level.cash)
