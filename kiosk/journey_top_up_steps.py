"""The customer journey's card top-up steps: the card read, its overview, the amount, the write, the result.

A part of :class:`kiosk.journey.Journey` (which inherits it), like the cash
steps.  The money itself goes through the cash steps (``CASH_IN`` with
``state.top_up`` set); what is the top-up's own:

* a prepaid card inserted → ``LOOKUP`` (the card and the billing system are
  asked, :class:`~kiosk.top_up.TopUpService.offer`) → ``CARD_OVERVIEW``, or
  ``FAILED`` with what the refusal means;
* ``CARD_OVERVIEW`` → "Buy credit" → ``TOP_UP_AMOUNT`` (presets and the
  keypad, the limits checked before any money) → the order → ``CASH_IN``;
  or, when a purchase paid earlier is not on the card, "Write it now" →
  ``TOP_UP_WRITING`` (补写卡) — nothing is sold before that is written;
* after the cash-in: ``TOP_UP_WRITING`` ("do not remove the card", a money
  step: neither Back nor an idle customer ends it) → ``TOP_UP_DONE``.

A card taken out before any money goes back to "insert your card"; one taken
out after is the write's business (the result says what became of the money).
Plain Python, no Qt.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from kiosk.journey_state import JourneyState, LookupFailure, Step
from kiosk.payment_record import CashPayment
from kiosk.top_up_records import TopUpOffer, TopUpOutcome, TopUpResult
from kiosk.top_up_view import MAX_AMOUNT_DIGITS, RewriteRequest, TopUpOrder, TopUpView, refusal_key

if TYPE_CHECKING:  # only types: the journey runs before the backend is loaded
    from contract.models import Account

# Where a prepaid card inserted starts its own top-up (a customer who inserts a card means it).
CARD_WELCOME_STEPS = (Step.HOME, Step.CARD, Step.FAILED, Step.TOP_UP_DONE)
_BEFORE_MONEY = (Step.CARD_OVERVIEW, Step.TOP_UP_AMOUNT)
ADVICE_OF_REFUSAL = {
    "error.network_down": "advice.try_later_or_counter",
    "top_up.refused.no_card": "advice.card_reinsert",
    "top_up.refused.unwritten": "advice.card_reinsert",
    "top_up.refused.limits_changed": "advice.card_reinsert",
    "top_up.refused.meter_first": "top_up.advice.meter_first",
    "top_up.refused.hoarding_limit": "top_up.advice.meter_first",
    "top_up.refused.cash_off": "advice.try_later_or_counter",
}


class TopUpSteps:
    """Card read → overview → amount → (cash-in) → writing → result, as :class:`~kiosk.journey.Journey` methods."""

    _state: JourneyState
    _set: Callable[[JourneyState], None]
    touch: Callable[[], None]
    _pending_ticket: int | None
    _tickets: object

    # -- the card ------------------------------------------------------------------
    def top_up_card_read(self, utility_id: str) -> int | None:
        """A prepaid card was read: ask what it may do (the ticket of that question), or None
        when the customer is busy with something else."""
        if self._state.step not in CARD_WELCOME_STEPS:
            return None
        self.touch()
        ticket = next(self._tickets)
        self._pending_ticket = ticket
        self._set(JourneyState(step=Step.LOOKUP, utility_id=utility_id, by_card=True, top_up=TopUpView()))
        return ticket

    def top_up_offered(self, ticket: int, offer: TopUpOffer, account: Account | None = None) -> None:
        """What the card may do; ``account``: its bill's account (the tariff, the holder), when it was found."""
        if not self._top_up_current(ticket):
            return
        self._pending_ticket = None
        self._set(replace(self._state, step=Step.CARD_OVERVIEW, top_up=TopUpView(offer), account=account))

    def top_up_refused(self, ticket: int | None, code: str, *, retryable: bool = False) -> None:
        """The card or the billing system said no before any money (``ticket`` None: while ordering)."""
        state = self._state
        if ticket is not None and not self._top_up_current(ticket):
            return
        if ticket is None and not (state.top_up and (state.top_up.opening or state.top_up.writing)):
            return
        self._pending_ticket = None
        reason = refusal_key(code)
        failure = LookupFailure(reason, ADVICE_OF_REFUSAL.get(reason, "advice.go_to_counter"), code, retryable)
        self._set(replace(state, step=Step.FAILED, failure=failure))

    def _top_up_current(self, ticket: int) -> bool:
        state = self._state
        return ticket == self._pending_ticket and state.step is Step.LOOKUP and state.top_up is not None

    def top_up_card_inserted(self, utility_id: str, card_serial: str) -> int | None:
        """A prepaid card inserted: its offer's ticket, or None.  On the result of a purchase paid and
        not written, a card other than the purchase's is told it is the wrong one (the result stays:
        the customer still needs its purchase number); the purchase's own card is offered the rewrite."""
        state = self._state
        view = state.top_up
        if (state.step is Step.TOP_UP_DONE and view is not None and view.result is not None
                and view.result.outcome is TopUpOutcome.NOT_WRITTEN and view.offer is not None
                and card_serial != view.offer.reading.card_serial):
            self.touch()
            self._set(replace(state, top_up=replace(view, wrong_card=True)))
            return None
        return self.top_up_card_read(utility_id)

    def top_up_card_removed(self) -> None:
        """The card taken out before any money: the customer is asked for it again."""
        state = self._state
        if state.top_up is not None and state.step in _BEFORE_MONEY and not state.top_up.opening:
            self.touch()
            self._set(JourneyState(step=Step.CARD, by_card=True))

    # -- the amount ----------------------------------------------------------------
    def buy_credit(self) -> None:
        self.touch()
        state = self._state
        if state.step is Step.CARD_OVERVIEW and state.top_up and state.top_up.can_buy:
            self._set(replace(state, step=Step.TOP_UP_AMOUNT, top_up=replace(state.top_up, digits="",
                                                                             amount_problem="")))

    def amount_digit(self, digit: str) -> None:
        self.touch()
        view = self._amount_view()
        if view is None or not (len(digit) == 1 and digit.isascii() and digit.isdigit()):
            return
        digits = (view.digits + digit).lstrip("0")
        if len(digits) > MAX_AMOUNT_DIGITS:
            return
        self._set_amount(replace(view, digits=digits, amount_problem=""))

    def amount_backspace(self) -> None:
        self.touch()
        view = self._amount_view()
        if view is not None and view.digits:
            self._set_amount(replace(view, digits=view.digits[:-1], amount_problem=""))

    def amount_clear(self) -> None:
        self.touch()
        view = self._amount_view()
        if view is not None:
            self._set_amount(replace(view, digits="", amount_problem=""))

    def amount_preset(self, fen: int) -> None:
        self.touch()
        view = self._amount_view()
        if view is not None:
            self._set_amount(replace(view, digits=str(fen // 100), amount_problem=view.problem_of(fen)))

    def submit_amount(self) -> TopUpOrder | None:
        """"Pay": the amount checked against the card's limits; valid, the order to place."""
        self.touch()
        view = self._amount_view()
        if view is None:
            return None
        problem = view.problem_of(view.chosen_fen)
        if problem:
            self._set_amount(replace(view, amount_problem=problem))
            return None
        self._set_amount(replace(view, opening=True, amount_problem=""))
        return TopUpOrder(view.offer, view.chosen_fen)

    def _amount_view(self) -> TopUpView | None:
        state = self._state
        if state.step is not Step.TOP_UP_AMOUNT or state.top_up is None or state.top_up.opening:
            return None
        return state.top_up

    def _set_amount(self, view: TopUpView) -> None:
        self._set(replace(self._state, top_up=view))

    def top_up_opened(self, chosen_fen: int, max_fen: int, transaction_no: str) -> None:
        """The purchase is journaled and ordered: the acceptor takes notes for it now."""
        state = self._state
        if state.step is not Step.TOP_UP_AMOUNT or state.top_up is None or not state.top_up.opening:
            return
        self._set(replace(state, step=Step.CASH_IN, top_up=replace(state.top_up, opening=False),
                          payment=CashPayment(chosen_fen, max_fen, transaction_no)))

    def top_up_below_minimum(self) -> bool:
        """Whether the notes in are still less than the smallest purchase (Done waits for more)."""
        state = self._state
        if state.top_up is None or state.top_up.offer is None or state.payment is None:
            return False
        return state.payment.paid_fen < state.top_up.offer.limits.min_amount_fen

    # -- the write -------------------------------------------------------------------
    def start_rewrite(self) -> RewriteRequest | None:
        """"Write it to my card" (补写卡): what to write, or None when there is nothing to write here."""
        self.touch()
        state, view = self._state, self._state.top_up
        if view is None:
            return None
        if state.step is Step.CARD_OVERVIEW and view.offer is not None and view.offer.rewrite_first:
            number: str | None = view.offer.rewrite[0]
        elif state.step is Step.TOP_UP_DONE and view.result is not None and _rewritable(view.result):
            # This purchase again only while it is paid and not on the card; after one written or
            # referred (refused for good: never written again), the card's next waiting purchase.
            number = view.result.purchase_no if view.result.outcome is TopUpOutcome.NOT_WRITTEN else None
        else:
            return None
        self._set(replace(state, step=Step.TOP_UP_WRITING, payment=None,
                          top_up=replace(view, writing=True, rewriting=True, result=None)))
        return RewriteRequest(number)

    def top_up_finished(self, result: TopUpResult) -> None:
        """The purchase's or the rewrite's end: its result; nothing taken goes back to the card."""
        state = self._state
        if state.top_up is None or state.step not in (Step.TOP_UP_WRITING, Step.CASH_IN):
            return
        self.touch()
        view = replace(state.top_up, writing=False, opening=False)
        if result.outcome is TopUpOutcome.CANCELLED:
            self._set(replace(state, step=Step.CARD_OVERVIEW, payment=None, top_up=replace(view, result=None)))
        else:
            self._set(replace(state, step=Step.TOP_UP_DONE, top_up=replace(view, result=result),
                              payment=state.payment and replace(state.payment, note_in_escrow=False)))

    def _top_up_back(self, state: JourneyState) -> bool:
        """Back within a top-up; True when it was one."""
        if state.top_up is None:
            return False
        if state.step is Step.TOP_UP_AMOUNT and not state.top_up.opening:
            self._set(replace(state, step=Step.CARD_OVERVIEW))
        elif state.step is Step.CARD_OVERVIEW:
            self._set(JourneyState(step=Step.CARD, by_card=True))
        elif state.step is not Step.TOP_UP_DONE:
            return False
        return True


def _rewritable(result: TopUpResult) -> bool:
    """A result after which this card may be written again here: paid and not on it, or another waits."""
    return result.outcome is TopUpOutcome.NOT_WRITTEN or result.more_to_rewrite
