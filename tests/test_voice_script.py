"""What the kiosk says at each step: the screen's prompt, never a name, a number or an amount."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from contract.payment_state import PENDING, POSTED
from kiosk.i18n import Translator
from kiosk.journey_state import JourneyState, LookupFailure, Step
from kiosk.payment_record import CashPayment
from kiosk.voice_script import spoken_prompt

UTILITY_NAMES = {"zh": {"electricity": "电费"}, "en": {"electricity": "Electricity"}}


def say(state: JourneyState, lang: str = "zh"):
    tr = Translator(lang)
    return spoken_prompt(state, tr, lambda utility: UTILITY_NAMES[lang].get(utility or "", ""), "95598")


def test_the_home_screen_says_nothing_to_an_empty_hall():
    assert say(JourneyState()) is None


@pytest.mark.parametrize("lang, words", [("zh", "投入纸币"), ("en", "note")])
def test_cash_in_tells_the_customer_to_put_notes_in_in_their_language(lang, words):
    spoken = say(JourneyState(step=Step.CASH_IN, utility_id="electricity"), lang)
    assert words in spoken.text.lower() or words in spoken.text


def test_a_result_says_the_outcome_and_whether_the_slip_was_printed():
    paid = CashPayment(18750, 200000, "KS-0001-20261203-000001", paid_fen=20000, outcome=POSTED,
                       slip_printed=True, receipt_no="R1")
    spoken = say(JourneyState(step=Step.PAID, utility_id="electricity", payment=paid))
    assert Translator("zh")("paid.posted") in spoken.text and Translator("zh")("paid.slip_printed") in spoken.text


def test_a_new_outcome_on_the_same_step_is_a_new_moment_and_a_re_render_is_not():
    pending = CashPayment(18750, 200000, "T", paid_fen=20000, outcome=PENDING)
    state = JourneyState(step=Step.PAID, utility_id="electricity", payment=pending)
    assert say(state).moment == say(replace(state, digits="3201")).moment
    assert say(state).moment != say(replace(state, payment=replace(pending, outcome=POSTED))).moment


def test_an_error_is_spoken_with_its_advice():
    failure = LookupFailure("error.account_not_found", "advice.check_number", "ACCOUNT_NOT_FOUND", True)
    spoken = say(JourneyState(step=Step.FAILED, utility_id="electricity", digits="3201999905", failure=failure))
    assert Translator("zh")("error.account_not_found") in spoken.text


def test_no_prompt_speaks_a_digit_an_amount_or_a_code():
    paid = CashPayment(18750, 200000, "KS-0001-20261203-000001", paid_fen=20000, outcome=POSTED, receipt_no="R1")
    failure = LookupFailure("error.account_not_found", "advice.check_number", "ACCOUNT_NOT_FOUND", True)
    states = [JourneyState(step=step, utility_id="electricity", digits="3201100017", payment=paid,
                           failure=failure) for step in Step]
    for lang in ("zh", "en"):
        for state in states:
            spoken = say(state, lang)
            if spoken is not None:
                assert not re.search(r"\d{4,}|¥|ACCOUNT_", spoken.text), (state.step, spoken.text)
