"""Paying a bill in cash, as plain Python: the journey's side of it (no Qt, no devices)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contract.account_number import AccountNumberRule
from contract.models import parse_account
from contract.payment_state import CANCELLED, PENDING
from kiosk.backend.seed import DEMO_ACCOUNTS, seed_accounts
from kiosk.journey import Journey
from kiosk.journey_state import Step
from kiosk.payment_record import CashPayment

NOTES = (1, 5, 10, 20, 50, 100)


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


def account(name: str):
    number = DEMO_ACCOUNTS[name][1]
    return parse_account(next(a for a in seed_accounts() if a["account_no"] == number))


def stacked(journey: Journey, transaction_no: str, notes_fen: tuple[int, ...]) -> CashPayment:
    """What the cash-in reports once these notes are stacked."""
    return replace(journey.state.payment, transaction_no=transaction_no, paid_fen=sum(notes_fen),
                   notes_fen=notes_fen)


def at_overview(journey: Journey, name: str = "electricity_arrears") -> Journey:
    journey.start_inquiry()
    journey.choose_utility("electricity")
    for digit in DEMO_ACCOUNTS[name][1]:
        journey.press_digit(digit)
    request = journey.submit()
    journey.lookup_succeeded(request.ticket, account(name))
    assert journey.state.step is Step.OVERVIEW
    return journey


def cashing_in(journey: Journey):
    at_overview(journey)
    journey.start_payment(cap_fen=50_000, slip_available=True, accepted_yuan=NOTES)
    return journey.begin_cash_in()


def test_pay_shows_the_notice_with_the_amount_due_before_any_money_goes_in(journey):
    at_overview(journey)
    owed = journey.state.account.arrears_fen

    journey.start_payment(cap_fen=50_000, slip_available=False, accepted_yuan=NOTES)

    state = journey.state
    assert state.step is Step.PAY_NOTICE
    assert state.payment.amount_due_fen == owed > 0
    assert not state.notice.slip_available  # the notice says so, the customer chooses


def test_back_from_the_notice_returns_to_the_account_without_a_payment(journey):
    at_overview(journey)
    journey.start_payment(cap_fen=50_000, slip_available=True, accepted_yuan=NOTES)

    journey.back()

    assert journey.state.step is Step.OVERVIEW and journey.state.payment is None


def test_a_closed_account_cannot_be_paid(journey):
    at_overview(journey)
    journey._state = journey.state.__class__(step=Step.OVERVIEW, account=account("electricity_closed"))

    journey.start_payment(cap_fen=50_000, slip_available=True, accepted_yuan=NOTES)

    assert journey.state.step is Step.OVERVIEW


def test_going_on_asks_the_owner_to_open_the_payment_for_this_account(journey):
    request = cashing_in(journey)

    assert journey.state.step is Step.CASH_IN
    assert request.account.account_no == DEMO_ACCOUNTS["electricity_arrears"][1]
    assert request.cap_fen == 50_000 and request.amount_due_fen == journey.state.payment.amount_due_fen


def test_each_stacked_note_shows_the_running_total_and_what_is_still_due(journey):
    cashing_in(journey)
    due = journey.state.payment.amount_due_fen

    journey.cash_in_progress(stacked(journey, "KS-0001-20261123-000001", (10_000,)))

    payment = journey.state.payment
    assert payment.paid_fen == 10_000 and payment.still_due_fen == max(0, due - 10_000)
    assert payment.transaction_no == "KS-0001-20261123-000001"


def test_money_in_play_cannot_be_left_by_back_or_home(journey):
    cashing_in(journey)
    journey.cash_in_progress(stacked(journey, "T1", (5_000,)))

    journey.back()
    journey.go_home()

    assert journey.state.step is Step.CASH_IN and journey.state.payment.paid_fen == 5_000


def test_an_idle_customer_is_asked_during_cash_in_and_the_timeout_pays_in_what_was_stacked(journey, clock):
    cashing_in(journey)
    journey.cash_in_progress(stacked(journey, "T1", (2_000,)))

    clock.now += 46
    assert journey.tick() is False
    assert journey.state.idle_prompt.seconds_left == 44 and journey.state.idle_prompt.cash_in
    clock.now += 44

    assert journey.tick() is True  # the owner finishes the cash-in now
    assert journey.state.step is Step.PAYING and journey.state.payment.paid_fen == 2_000


def test_a_note_during_the_prompt_means_the_customer_is_still_there(journey, clock):
    cashing_in(journey)
    clock.now += 50
    journey.tick()
    assert journey.state.idle_prompt is not None

    journey.cash_in_progress(stacked(journey, "T1", (1_000,)))

    assert journey.state.idle_prompt is None
    clock.now += 50
    assert journey.tick() is False and journey.state.step is Step.CASH_IN


def test_finishing_twice_finishes_once(journey):
    cashing_in(journey)

    assert journey.finish_cash_in() is True
    assert journey.finish_cash_in() is False


def test_waiting_for_the_posting_is_not_idleness(journey, clock):
    cashing_in(journey)
    journey.finish_cash_in()

    clock.now += 500
    assert journey.tick() is False and journey.state.step is Step.PAYING


def test_a_pending_payment_is_shown_as_received_and_then_wiped_when_idle(journey, clock):
    cashing_in(journey)
    journey.cash_in_progress(stacked(journey, "T1", (10_000,)))
    journey.finish_cash_in()

    journey.payment_finished(replace(journey.state.payment, outcome=PENDING, slip_printed=True))

    assert journey.state.step is Step.PAID and journey.state.payment.outcome == "pending"
    clock.now += 61
    journey.tick()
    clock.now += 21
    journey.tick()
    assert journey.state.step is Step.HOME and journey.state.payment is None


def test_nothing_paid_in_returns_to_the_account(journey):
    cashing_in(journey)
    journey.finish_cash_in()

    journey.payment_finished(replace(journey.state.payment, outcome=CANCELLED))

    assert journey.state.step is Step.OVERVIEW and journey.state.payment is None


def test_more_than_owed_is_credited_to_the_balance(journey):
    cashing_in(journey)
    due = journey.state.payment.amount_due_fen

    journey.cash_in_progress(stacked(journey, "T1", (due + 1_500,)))

    assert journey.state.payment.credited_to_balance_fen == 1_500


def test_done_with_less_than_owed_asks_first_and_put_in_more_goes_back(journey):
    cashing_in(journey)
    due = journey.state.payment.amount_due_fen
    assert journey.ask_to_finish() is False and not journey.state.confirm_finish  # nothing in: nothing to finish
    journey.cash_in_progress(stacked(journey, "T1", (1_000,)))

    assert journey.ask_to_finish() is False and journey.state.confirm_finish
    journey.keep_paying()
    assert not journey.state.confirm_finish and journey.state.step is Step.CASH_IN

    journey.cash_in_progress(stacked(journey, "T1", (1_000, due)))
    assert journey.ask_to_finish() is True and journey.state.step is Step.PAYING


def test_cancel_with_nothing_in_cancels_and_with_money_in_asks_first(journey):
    cashing_in(journey)
    journey.cash_in_progress(stacked(journey, "T1", (2_000,)))
    assert journey.ask_to_cancel() is False and journey.state.confirm_finish
    assert journey.finish_cash_in() is True and not journey.state.confirm_finish


def test_pay_another_bill_forgets_this_account_and_starts_at_the_utilities(journey):
    cashing_in(journey)
    journey.cash_in_progress(stacked(journey, "T1", (10_000,)))
    journey.finish_cash_in()
    journey.payment_finished(replace(journey.state.payment, outcome=PENDING))

    journey.pay_another()

    assert journey.state.step is Step.UTILITY
    assert journey.state.account is None and journey.state.payment is None and journey.state.digits == ""
