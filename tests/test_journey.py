"""The inquiry journey as plain Python: no Qt, no network."""

from __future__ import annotations

import subprocess
import sys

import pytest

from contract.account_number import AccountNumberRule, NumberProblem, luhn_check_digit
from contract.errors import AccountNotFound, BackendUnreachable
from contract.models import parse_account
from kiosk.backend.seed import seed_accounts
from kiosk.journey import Journey
from kiosk.journey_state import Step

ELECTRICITY = AccountNumberRule(length=10, check="luhn")
WATER = AccountNumberRule(length=8)
VALID_ELECTRICITY = "320123456" + luhn_check_digit("320123456")


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
    return Journey({"electricity": ELECTRICITY, "water": WATER}, idle_prompt_after_s=60,
                   idle_countdown_s=20, clock=clock)


@pytest.fixture
def some_account():
    return parse_account(seed_accounts()[0])


def type_number(journey: Journey, number: str) -> None:
    for digit in number:
        journey.press_digit(digit)


def at_account_entry(journey: Journey, utility: str = "electricity") -> Journey:
    journey.start_inquiry()
    journey.choose_utility(utility)
    return journey


def test_the_journey_and_the_core_import_no_qt():
    probe = "import sys, kiosk.journey, kiosk.availability, kiosk.config; print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_customer_walks_from_home_to_the_overview(journey, some_account):
    at_account_entry(journey)
    assert journey.state.step is Step.ACCOUNT
    type_number(journey, VALID_ELECTRICITY)
    request = journey.submit()
    assert request is not None and request.account_no == VALID_ELECTRICITY
    assert journey.state.step is Step.LOOKUP
    journey.lookup_succeeded(request.ticket, some_account)
    assert journey.state.step is Step.OVERVIEW
    assert journey.state.account is some_account
    assert journey.state.step_bar_position == 2


def test_typing_stops_at_the_utilitys_length(journey):
    at_account_entry(journey, "water")
    type_number(journey, "123456789")
    assert journey.state.digits == "12345678"
    assert journey.state.field_problem is NumberProblem.TOO_LONG


def test_a_wrong_check_digit_is_shown_as_soon_as_the_number_is_complete(journey):
    at_account_entry(journey)
    wrong = VALID_ELECTRICITY[:-1] + str((int(VALID_ELECTRICITY[-1]) + 1) % 10)
    type_number(journey, wrong[:-1])
    assert journey.state.field_problem is None  # no nagging while still typing
    journey.press_digit(wrong[-1])
    assert journey.state.field_problem is NumberProblem.BAD_CHECK_DIGIT
    assert journey.submit() is None
    assert journey.state.step is Step.ACCOUNT


def test_submitting_a_short_number_says_it_is_too_short(journey):
    at_account_entry(journey)
    type_number(journey, "3201")
    assert journey.submit() is None
    assert journey.state.field_problem is NumberProblem.TOO_SHORT


def test_a_non_digit_key_is_refused(journey):
    at_account_entry(journey)
    journey.press_digit("a")
    assert journey.state.digits == ""
    assert journey.state.field_problem is NumberProblem.NOT_DIGITS


def test_backspace_corrects_the_last_digit_and_clears_the_error(journey):
    at_account_entry(journey)
    wrong_last = "1" if VALID_ELECTRICITY[-1] == "0" else "0"
    type_number(journey, VALID_ELECTRICITY[:-1] + wrong_last)
    assert journey.state.field_problem is NumberProblem.BAD_CHECK_DIGIT
    journey.backspace()
    assert journey.state.field_problem is None
    journey.press_digit(VALID_ELECTRICITY[-1])
    assert journey.state.field_problem is None


def test_a_failed_lookup_explains_why_and_what_to_do(journey):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    request = journey.submit()
    journey.lookup_failed(request.ticket, AccountNotFound("GET /api/v1/accounts → 404", code="ACCOUNT_NOT_FOUND"))
    failure = journey.state.failure
    assert journey.state.step is Step.FAILED
    assert failure.reason_key == "error.account_not_found"
    assert failure.advice_key == "advice.check_number"
    assert failure.code == "ACCOUNT_NOT_FOUND"


def test_network_down_can_be_retried_with_the_same_number(journey, some_account):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    first = journey.submit()
    journey.lookup_failed(first.ticket, BackendUnreachable("connection refused"))
    assert journey.state.failure.retryable
    second = journey.retry()
    assert second is not None and second.ticket != first.ticket
    assert second.account_no == VALID_ELECTRICITY
    journey.lookup_succeeded(second.ticket, some_account)
    assert journey.state.step is Step.OVERVIEW


def test_back_from_a_failure_keeps_the_number_to_correct_it(journey):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    request = journey.submit()
    journey.lookup_failed(request.ticket, AccountNotFound("404"))
    journey.back()
    assert journey.state.step is Step.ACCOUNT
    assert journey.state.digits == VALID_ELECTRICITY


def test_a_reply_arriving_after_the_customer_left_is_never_shown(journey, some_account):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    request = journey.submit()
    journey.go_home()
    journey.lookup_succeeded(request.ticket, some_account)
    assert journey.state.step is Step.HOME
    assert journey.state.account is None


def test_a_reply_to_a_cancelled_lookup_is_ignored(journey, some_account):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    request = journey.submit()
    journey.cancel_lookup()
    journey.lookup_succeeded(request.ticket, some_account)
    assert journey.state.step is Step.ACCOUNT
    assert journey.state.account is None


def test_an_idle_customer_is_asked_then_forgotten(journey, clock):
    at_account_entry(journey)
    type_number(journey, "3201")
    clock.now += 59
    journey.tick()
    assert journey.state.idle_prompt is None
    clock.now += 2
    journey.tick()
    assert journey.state.idle_prompt.seconds_left == 20
    clock.now += 12
    journey.tick()
    assert journey.state.idle_prompt.seconds_left == 8
    clock.now += 9
    journey.tick()
    assert journey.state.step is Step.HOME
    assert journey.state.digits == ""
    assert not journey.state.holds_customer_data


def test_a_touch_during_the_prompt_gives_more_time(journey, clock):
    at_account_entry(journey)
    clock.now += 61
    journey.tick()
    assert journey.state.idle_prompt is not None
    journey.touch()
    assert journey.state.idle_prompt is None
    clock.now += 30
    journey.tick()
    assert journey.state.step is Step.ACCOUNT


def test_waiting_for_the_backend_does_not_count_as_idle(journey, clock):
    at_account_entry(journey)
    type_number(journey, VALID_ELECTRICITY)
    journey.submit()
    clock.now += 120
    journey.tick()
    assert journey.state.idle_prompt is None
    assert journey.state.step is Step.LOOKUP


def test_home_is_never_idle(journey, clock):
    clock.now += 3600
    journey.tick()
    assert journey.state.idle_prompt is None


def test_the_step_bar_follows_the_customer(journey):
    assert journey.state.step_bar_position is None
    journey.start_inquiry()
    assert journey.state.step_bar_position == 0
    journey.choose_utility("water")
    assert journey.state.step_bar_position == 1


def test_an_unknown_utility_is_refused_with_the_configured_ones_named(journey):
    journey.start_inquiry()
    with pytest.raises(KeyError, match="electricity, water"):
        journey.choose_utility("heat")


# -- identifying by the prepaid meter card ------------------------------------------


def test_a_card_read_looks_up_its_account(journey, some_account):
    journey.start_card_inquiry()
    assert journey.state.step is Step.CARD and journey.state.step_bar_position == 0  # "insert the card" is where a card customer starts
    request = journey.card_read("electricity", VALID_ELECTRICITY)
    assert request.account_no == VALID_ELECTRICITY and journey.state.step is Step.LOOKUP
    journey.lookup_succeeded(request.ticket, some_account)
    assert journey.state.step is Step.OVERVIEW


def test_a_card_inserted_on_the_home_screen_starts_the_inquiry(journey):
    assert journey.card_read("water", "60120001") is not None
    assert journey.state.step is Step.LOOKUP


def test_a_card_is_ignored_while_a_customer_types_a_number(journey):
    at_account_entry(journey)
    assert journey.card_read("water", "60120001") is None
    assert journey.state.step is Step.ACCOUNT


def test_a_card_of_a_utility_this_hall_does_not_serve_is_explained(journey):
    journey.start_card_inquiry()
    assert journey.card_read("gas", "5101200011") is None
    assert journey.state.failure.reason_key == "error.card_unknown_utility"


def test_an_unreadable_card_asks_to_insert_it_again(journey):
    journey.start_card_inquiry()
    journey.card_unreadable("CARD_PULLED")
    failure = journey.state.failure
    assert failure.reason_key == "error.card_unreadable" and failure.advice_key == "advice.card_reinsert"
    assert failure.code == "CARD_PULLED"
    journey.retry()
    assert journey.state.step is Step.CARD


def test_back_from_a_card_lookup_returns_to_the_card_prompt(journey, some_account):
    journey.start_card_inquiry()
    request = journey.card_read("electricity", VALID_ELECTRICITY)
    journey.lookup_succeeded(request.ticket, some_account)
    journey.back()
    assert journey.state.step is Step.CARD and journey.state.account is None


def test_a_digit_past_the_end_of_a_wrong_number_keeps_it_marked_wrong(journey):
    at_account_entry(journey)
    wrong = VALID_ELECTRICITY[:-1] + str((int(VALID_ELECTRICITY[-1]) + 1) % 10)
    type_number(journey, wrong + "7")
    assert journey.state.digits == wrong
    assert journey.state.field_problem is NumberProblem.BAD_CHECK_DIGIT


def test_elder_mode_stays_for_the_customer_doubles_the_time_and_ends_with_them(journey, clock):
    journey.set_elder(True)
    journey.start_inquiry()
    assert journey.state.elder  # a new step keeps it
    clock.now += 61
    journey.tick()
    assert journey.state.idle_prompt is None  # twice the time before anyone is asked
    clock.now += 60
    journey.tick()
    assert journey.state.idle_prompt is not None and journey.state.idle_prompt.seconds_left == 40
    clock.now += 41
    journey.tick()
    assert journey.state.step is Step.HOME and not journey.state.elder  # the next customer starts standard
