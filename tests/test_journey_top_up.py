"""A prepaid card's top-up, the journey's side of it: plain Python, no Qt, no network, no devices.

The offer, the limits and the results are built by hand as the top-up service would hand
them over; what is pinned down is which step follows which, what is refused and with which
words, and that money in play is never abandoned by Back, Home or an idle customer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contract.account_number import AccountNumberRule
from contract.models import parse_account
from contract.purchase import CardIdentity, PurchaseLimits
from contract.purchase_requests import CardReading
from kiosk.backend.seed import seed_accounts
from kiosk.i18n import catalog
from kiosk.journey import Journey
from kiosk.journey_state import Step
from kiosk.journey_top_up_steps import ADVICE_OF_REFUSAL
from kiosk.payment_record import CashPayment
from kiosk.top_up_records import TopUpOffer, TopUpOutcome, TopUpResult
from kiosk.top_up_view import MAX_AMOUNT_DIGITS, REFUSAL_KEYS, REFUSED_OTHER, RewriteRequest, TopUpOrder
from offline_store.journal.states import PurchaseState

SERIAL = "3201100017000001"
READING = CardReading(SERIAL, "electricity", "3201100017", purchase_count=3, credit_fen=5000,
                      meter_purchase_count=3, meter_credit_fen=1200)
IDENTITY = CardIdentity(SERIAL, "electricity", "3201100017", "000012345678", "active", 3, 0)
# One purchase: ¥10 to ¥500 in whole yuan.
LIMITS = PurchaseLimits(min_purchase_fen=1000, max_purchase_fen=50_000, hoarding_limit_fen=100_000, held_fen=6200,
                        min_credit_fen=1000, max_credit_fen=50_000, arrears_fen=0, arrears_first=False,
                        min_amount_fen=1000, max_amount_fen=50_000, step_fen=100)
OFFER = TopUpOffer(READING, IDENTITY, LIMITS)
REWRITE_OFFER = TopUpOffer(READING, replace(IDENTITY, unwritten_purchases=1), None, rewrite=("T01-0007", "T01-0009"))
CAP_FEN = 50_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journey(clock: Clock) -> Journey:
    return Journey({"electricity": AccountNumberRule(length=10, check="luhn")}, idle_prompt_after_s=60,
                   idle_countdown_s=20, clock=clock, cash_in_prompt_after_s=45, cash_in_timeout_s=90)


def result(outcome: TopUpOutcome, purchase_no: str = "T01-0010", *, more: bool = False) -> TopUpResult:
    """A purchase's or a rewrite's end, as the top-up service reports it."""
    state = {TopUpOutcome.WRITTEN: PurchaseState.WRITTEN, TopUpOutcome.NOT_WRITTEN: PurchaseState.WRITE_FAILED,
             TopUpOutcome.REFERRED: PurchaseState.REFERRED, TopUpOutcome.CANCELLED: PurchaseState.CANCELLED}[outcome]
    written = outcome is TopUpOutcome.WRITTEN
    return TopUpResult(purchase_no, outcome, state, paid_fen=5000, credit_fen=5000, arrears_paid_fen=0,
                       receipt_no="R-1", card_count=4 if written else None, confirmed=False,
                       reason="" if written else "CARD_PULLED", problem_key="", advice_key="", slip=None,
                       more_to_rewrite=more)


def at_card_overview(journey: Journey, offer: TopUpOffer = OFFER) -> Journey:
    ticket = journey.top_up_card_read("electricity")
    journey.top_up_offered(ticket, offer)
    assert journey.state.step is Step.CARD_OVERVIEW
    return journey


def type_amount(journey: Journey, yuan: str) -> None:
    for digit in yuan:
        journey.amount_digit(digit)


def ordered(journey: Journey, yuan: str = "50") -> TopUpOrder:
    at_card_overview(journey)
    journey.buy_credit()
    type_amount(journey, yuan)
    return journey.submit_amount()


def cashing_in(journey: Journey, yuan: str = "50") -> Journey:
    order = ordered(journey, yuan)
    journey.top_up_opened(order.chosen_fen, CAP_FEN, "TX-1")
    assert journey.state.step is Step.CASH_IN
    return journey


def notes_in(journey: Journey, *yuan: int) -> None:
    notes = tuple(y * 100 for y in yuan)
    journey.cash_in_progress(replace(journey.state.payment, paid_fen=sum(notes), notes_fen=notes))


def writing(journey: Journey) -> Journey:
    cashing_in(journey)
    notes_in(journey, 50)
    assert journey.ask_to_finish()
    assert journey.state.step is Step.TOP_UP_WRITING
    return journey


# -- the card ---------------------------------------------------------------------------------

def test_a_purchase_card_inserted_at_home_is_read_with_a_ticket_of_its_own(journey):
    ticket = journey.top_up_card_read("electricity")

    state = journey.state
    assert ticket is not None
    assert state.step is Step.LOOKUP and state.by_card and state.utility_id == "electricity"
    assert state.top_up is not None and state.top_up.offer is None  # being read


@pytest.mark.parametrize("where", ["insert_card", "after_a_result", "after_a_refusal"])
def test_a_purchase_card_is_welcome_on_the_card_step_after_a_result_and_after_a_refusal(journey, where):
    if where == "insert_card":
        journey.start_card_inquiry()
    elif where == "after_a_result":
        writing(journey)
        journey.top_up_finished(result(TopUpOutcome.WRITTEN))
        assert journey.state.step is Step.TOP_UP_DONE
    else:
        journey.top_up_refused(journey.top_up_card_read("electricity"), "CARD_CANCELLED")
        assert journey.state.step is Step.FAILED

    assert journey.top_up_card_read("electricity") is not None
    assert journey.state.step is Step.LOOKUP and journey.state.top_up.offer is None


def test_a_purchase_card_inserted_during_a_cash_in_is_not_read(journey):
    cashing_in(journey)
    assert journey.top_up_card_read("electricity") is None
    assert journey.state.step is Step.CASH_IN

    journey.go_home()  # not while money may go in
    assert journey.state.step is Step.CASH_IN


def test_a_purchase_card_inserted_on_a_bills_overview_is_not_read(journey):
    journey.start_card_inquiry()
    request = journey.card_read("electricity", "3201100017")
    journey.lookup_succeeded(request.ticket, parse_account(seed_accounts()[0]))
    assert journey.state.step is Step.OVERVIEW

    assert journey.top_up_card_read("electricity") is None
    assert journey.state.step is Step.OVERVIEW and journey.state.top_up is None


def test_the_cards_offer_opens_its_overview(journey):
    at_card_overview(journey)

    view = journey.state.top_up
    assert view.offer == OFFER and view.can_buy
    assert journey.state.step_bar_position == 2


def test_an_offer_for_a_customer_who_went_home_is_never_shown(journey):
    stale = journey.top_up_card_read("electricity")
    journey.go_home()
    journey.top_up_offered(stale, OFFER)
    assert journey.state.step is Step.HOME and journey.state.top_up is None

    fresh = journey.top_up_card_read("electricity")  # the next customer's card
    journey.top_up_offered(stale, OFFER)
    journey.top_up_refused(stale, "CARD_CANCELLED")
    assert journey.state.step is Step.LOOKUP
    journey.top_up_offered(fresh, OFFER)
    assert journey.state.step is Step.CARD_OVERVIEW


def test_a_card_with_a_purchase_paid_and_not_on_it_is_written_first_and_sold_nothing(journey):
    at_card_overview(journey, REWRITE_OFFER)
    assert not journey.state.top_up.can_buy

    journey.buy_credit()
    assert journey.state.step is Step.CARD_OVERVIEW

    assert journey.start_rewrite() == RewriteRequest("T01-0007")  # the oldest: the card takes them in order
    state = journey.state
    assert state.step is Step.TOP_UP_WRITING and state.top_up.writing and state.top_up.rewriting
    assert state.payment is None


# -- the amount -------------------------------------------------------------------------------

def test_the_amount_is_typed_in_whole_yuan_without_leading_zeros_and_corrected(journey):
    at_card_overview(journey)
    journey.buy_credit()
    assert journey.state.step is Step.TOP_UP_AMOUNT and journey.state.top_up.digits == ""

    type_amount(journey, "0012x")
    assert journey.state.top_up.digits == "12"  # a leading zero is no digit, a letter is ignored
    journey.amount_backspace()
    assert journey.state.top_up.chosen_fen == 100
    journey.amount_clear()
    assert journey.state.top_up.digits == ""


def test_the_amount_takes_no_more_digits_than_any_purchase_needs(journey):
    at_card_overview(journey)
    journey.buy_credit()

    type_amount(journey, "9" * (MAX_AMOUNT_DIGITS + 2))

    assert journey.state.top_up.digits == "9" * MAX_AMOUNT_DIGITS


def test_the_presets_are_the_amounts_this_card_may_buy(journey):
    at_card_overview(journey)
    journey.buy_credit()
    view = journey.state.top_up
    assert view.presets_fen() == (2000, 5000, 10_000, 20_000, 30_000, 50_000)

    journey.amount_preset(20_000)
    assert journey.state.top_up.digits == "200" and journey.state.top_up.amount_problem == ""

    narrow = replace(LIMITS, min_amount_fen=1500, max_amount_fen=1800)  # no preset fits: the minimum is offered
    assert replace(view, offer=replace(OFFER, limits=narrow)).presets_fen() == (1500,)


@pytest.mark.parametrize("limits, yuan, problem", [
    (LIMITS, "", "top_up.amount.empty"),
    (LIMITS, "9", "top_up.amount.below_min"),
    (LIMITS, "501", "top_up.amount.above_max"),
    (replace(LIMITS, step_fen=1000), "55", "top_up.amount.step"),  # this utility sells in tens of yuan
])
def test_an_amount_outside_the_cards_limits_is_refused_with_why_and_nothing_is_ordered(journey, limits, yuan,
                                                                                         problem):
    at_card_overview(journey, replace(OFFER, limits=limits))
    journey.buy_credit()
    type_amount(journey, yuan)

    assert journey.submit_amount() is None

    view = journey.state.top_up
    assert journey.state.step is Step.TOP_UP_AMOUNT and view.amount_problem == problem and not view.opening
    assert problem in catalog()


def test_a_valid_amount_is_ordered_once_and_the_screen_waits_for_the_order(journey, clock):
    order = ordered(journey, "50")

    assert order == TopUpOrder(OFFER, 5000)
    assert journey.state.top_up.opening
    assert journey.submit_amount() is None  # a second tap places no second order
    journey.amount_digit("5")
    journey.back()
    assert journey.state.step is Step.TOP_UP_AMOUNT and journey.state.top_up.digits == "50"

    clock.now += 600  # the billing system is slow: that is not the customer being idle
    journey.tick()
    assert journey.state.idle_prompt is None and journey.state.step is Step.TOP_UP_AMOUNT


def test_the_order_placed_opens_the_cash_in_for_the_chosen_amount(journey):
    order = ordered(journey, "50")

    journey.top_up_opened(order.chosen_fen, CAP_FEN, "TX-1")

    state = journey.state
    assert state.step is Step.CASH_IN and not state.top_up.opening
    assert state.payment == CashPayment(5000, CAP_FEN, "TX-1")


# -- the money --------------------------------------------------------------------------------

def test_done_with_less_than_the_smallest_purchase_waits_for_more_notes(journey):
    cashing_in(journey)
    notes_in(journey, 5)

    assert journey.ask_to_finish() is False
    assert journey.state.step is Step.CASH_IN and not journey.state.confirm_finish


@pytest.mark.parametrize("notes", [(50,), (20, 20, 20)])
def test_done_with_the_chosen_amount_or_more_goes_straight_to_the_write(journey, notes):
    cashing_in(journey)
    notes_in(journey, *notes)

    assert journey.ask_to_finish() is True

    assert journey.state.step is Step.TOP_UP_WRITING and journey.state.top_up.writing


def test_done_with_less_than_chosen_asks_first_then_writes_what_was_paid(journey):
    cashing_in(journey)
    notes_in(journey, 20)

    assert journey.ask_to_finish() is False
    assert journey.state.confirm_finish and journey.state.step is Step.CASH_IN

    assert journey.finish_cash_in()
    assert journey.state.step is Step.TOP_UP_WRITING and not journey.state.confirm_finish


def test_neither_back_nor_home_nor_an_idle_customer_ends_the_write(journey, clock):
    writing(journey)

    journey.back()
    journey.go_home()
    clock.now += 3600
    assert journey.tick() is False

    state = journey.state
    assert state.step is Step.TOP_UP_WRITING and state.idle_prompt is None and state.payment.paid_fen == 5000


def test_a_purchase_that_took_no_money_returns_to_the_cards_overview(journey):
    cashing_in(journey)
    assert journey.ask_to_cancel()  # nothing in: cancelled at once

    journey.top_up_finished(result(TopUpOutcome.CANCELLED))

    state = journey.state
    assert state.step is Step.CARD_OVERVIEW and state.payment is None
    assert state.top_up.result is None and not state.top_up.writing


@pytest.mark.parametrize("outcome", [TopUpOutcome.WRITTEN, TopUpOutcome.NOT_WRITTEN])
def test_a_purchase_paid_ends_on_its_result(journey, outcome):
    writing(journey)

    journey.top_up_finished(result(outcome))

    state = journey.state
    assert state.step is Step.TOP_UP_DONE and state.top_up.result.outcome is outcome
    assert not state.top_up.writing and not state.payment.note_in_escrow


def test_another_card_on_a_paid_not_written_result_is_told_it_is_the_wrong_one_and_the_result_stays(journey):
    writing(journey)
    journey.top_up_finished(result(TopUpOutcome.NOT_WRITTEN))

    assert journey.top_up_card_inserted("gas", "5A4B000000000033") is None  # no offer asked for it

    state = journey.state
    assert state.step is Step.TOP_UP_DONE and state.top_up.wrong_card
    assert state.top_up.result.purchase_no == "T01-0010"
    # The purchase's own card, back in: its offer (the rewrite first) is asked for.
    assert journey.top_up_card_inserted("electricity", SERIAL) is not None
    assert journey.state.step is Step.LOOKUP


def test_another_card_after_a_written_result_is_a_new_customers_card(journey):
    writing(journey)
    journey.top_up_finished(result(TopUpOutcome.WRITTEN))

    assert journey.top_up_card_inserted("gas", "5A4B000000000033") is not None
    assert journey.state.step is Step.LOOKUP and not journey.state.top_up.wrong_card


@pytest.mark.parametrize("outcome, more, rewrite", [
    (TopUpOutcome.NOT_WRITTEN, False, RewriteRequest("T01-0010")),  # this one, paid and not on the card
    (TopUpOutcome.WRITTEN, True, RewriteRequest(None)),  # the card's oldest purchase still waiting
    (TopUpOutcome.REFERRED, True, RewriteRequest(None)),  # never the one refused for good
    (TopUpOutcome.WRITTEN, False, None),  # nothing left to write
])
def test_from_the_result_the_purchase_still_waiting_for_the_card_is_written(journey, outcome, more, rewrite):
    writing(journey)
    journey.top_up_finished(result(outcome, "T01-0010", more=more))

    assert journey.start_rewrite() == rewrite

    state = journey.state
    if rewrite is None:
        assert state.step is Step.TOP_UP_DONE
    else:
        assert state.step is Step.TOP_UP_WRITING and state.top_up.rewriting and state.top_up.result is None


# -- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code, reason, advice", [
    ("CARD_CANCELLED", "top_up.refused.card_cancelled", "advice.go_to_counter"),
    ("NOT_LOADED_IN_METER", "top_up.refused.meter_first", "top_up.advice.meter_first"),
    ("LIMIT_REACHED", "top_up.refused.hoarding_limit", "top_up.advice.meter_first"),
    ("UNWRITTEN_PURCHASE", "top_up.refused.unwritten", "advice.card_reinsert"),
    ("NETWORK_UNREACHABLE", "error.network_down", "advice.try_later_or_counter"),
    ("SOMETHING_NEW", REFUSED_OTHER, "advice.go_to_counter"),
])
def test_a_refusal_before_any_money_says_why_and_what_to_do(journey, code, reason, advice):
    ticket = journey.top_up_card_read("electricity")

    journey.top_up_refused(ticket, code, retryable=code == "NETWORK_UNREACHABLE")

    state = journey.state
    assert state.step is Step.FAILED
    assert (state.failure.reason_key, state.failure.advice_key, state.failure.code) == (reason, advice, code)
    assert state.failure.retryable is (code == "NETWORK_UNREACHABLE")


def test_an_order_refused_while_it_is_placed_says_why_but_a_late_refusal_changes_nothing(journey):
    at_card_overview(journey)
    journey.top_up_refused(None, "CASH_OFF")  # no order is being placed: nothing to refuse
    assert journey.state.step is Step.CARD_OVERVIEW

    journey.buy_credit()
    type_amount(journey, "50")
    journey.submit_amount()
    journey.top_up_refused(None, "CASH_OFF")

    assert journey.state.step is Step.FAILED
    assert journey.state.failure.reason_key == "top_up.refused.cash_off"


def test_every_refusal_and_its_advice_is_worded_in_both_languages():
    words = catalog()
    keys = {*REFUSAL_KEYS.values(), REFUSED_OTHER, *ADVICE_OF_REFUSAL, *ADVICE_OF_REFUSAL.values(),
            "advice.go_to_counter"}
    missing = sorted(k for k in keys if not (words.get(k, {}).get("zh") and words.get(k, {}).get("en")))
    assert missing == []


# -- the card taken out, the customer gone ------------------------------------------------------

@pytest.mark.parametrize("step", [Step.CARD_OVERVIEW, Step.TOP_UP_AMOUNT])
def test_the_card_taken_out_before_any_money_asks_for_it_again(journey, step):
    at_card_overview(journey)
    if step is Step.TOP_UP_AMOUNT:
        journey.buy_credit()
        type_amount(journey, "50")

    journey.top_up_card_removed()

    state = journey.state
    assert state.step is Step.CARD and state.by_card and state.top_up is None and state.utility_id is None


def test_the_card_taken_out_once_the_order_is_placed_changes_nothing(journey):
    ordered(journey)
    journey.top_up_card_removed()
    assert journey.state.step is Step.TOP_UP_AMOUNT and journey.state.top_up.opening

    journey.top_up_opened(5000, CAP_FEN, "TX-1")
    notes_in(journey, 20)
    journey.top_up_card_removed()  # the write will say what became of the money
    assert journey.state.step is Step.CASH_IN and journey.state.payment.paid_fen == 2000

    journey.finish_cash_in()
    journey.top_up_finished(result(TopUpOutcome.NOT_WRITTEN))
    journey.top_up_card_removed()  # the result stays until the customer has read it
    assert journey.state.step is Step.TOP_UP_DONE


@pytest.mark.parametrize("leave", ["home", "idle"])
def test_a_customer_who_leaves_takes_everything_of_the_card_with_them(journey, clock, leave):
    writing(journey)
    journey.top_up_finished(result(TopUpOutcome.WRITTEN))

    if leave == "home":
        journey.go_home()
    else:
        clock.now += 60
        journey.tick()
        clock.now += 20
        journey.tick()

    state = journey.state
    assert state.step is Step.HOME and state.top_up is None and state.payment is None
    assert state.utility_id is None and not state.by_card and not state.holds_customer_data
