"""What the kiosk says aloud at each step: the screen's own prompt, in the customer's language.

Spoken: the step's title and the one instruction that says what to do next;
every result and every error.  Never spoken: names, account numbers, amounts
— a business hall is a public place, and spoken prompts are cached as sound
files.  Nothing is said to an empty hall (the home screen waits in silence).

:func:`spoken_prompt` is plain Python over the journey's state; the
application layer hands its text to :class:`kiosk.voice.VoicePrompts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kiosk import paid_words
from kiosk.journey_state import JourneyState, Step

Translate = Callable[..., str]


@dataclass(frozen=True)
class Spoken:
    """One prompt: ``moment`` tells a new screen from a re-render of the same one."""

    moment: tuple
    text: str


def spoken_prompt(state: JourneyState, tr: Translate, utility_name: Callable[[str | None], str],
                  hotline: str) -> Spoken | None:
    """What to say for ``state``, or None for a screen that says nothing."""
    if state.help_shown:
        return Spoken(("help",), tr("help.title"))
    if state.idle_prompt is not None:
        return Spoken(("idle", state.step), tr("idle.question"))
    text = _step_text(state, tr, utility_name, hotline)
    if not text:
        return None
    payment = state.payment
    outcome = (payment.outcome, payment.problem_key) if payment is not None else None
    failure = state.failure.reason_key if state.failure is not None else None
    result = state.top_up.result.outcome if state.top_up is not None and state.top_up.result else None
    return Spoken((state.step, state.utility_id, outcome, failure, result), text)


def _step_text(state: JourneyState, tr: Translate, utility_name: Callable[[str | None], str],
               hotline: str) -> str:
    step, utility = state.step, utility_name(state.utility_id) if state.utility_id else ""
    if step is Step.UTILITY:
        return tr("utility.title_pay" if state.to_pay else "utility.title")
    if step is Step.ACCOUNT:
        return tr("account.title", utility=utility)
    if step is Step.CARD:
        return _join(tr("card.title"), tr("card.hint"))
    if step is Step.OVERVIEW:
        return tr("overview.title", utility=utility)
    if step is Step.FAILED and state.failure is not None:
        return _join(tr(state.failure.reason_key), tr(state.failure.advice_key, hotline=hotline))
    if step is Step.PAY_NOTICE:
        return tr("pay.notice_title", utility=utility)
    if step is Step.CASH_IN:
        return tr("cash.title")
    if step is Step.PAYING:
        return tr("paying.message")
    if step is Step.PAID and paid_words.has_result(state.payment):
        return _join(tr(paid_words.title_key(state.payment)), tr(paid_words.slip_key(state.payment)))
    if state.top_up is not None:
        return _top_up_text(state, tr, utility)
    return ""  # home, the lookup's few seconds


def _top_up_text(state: JourneyState, tr: Translate, utility: str) -> str:
    """A card's top-up: the step's title; the write's warning; the result's title (never the amounts)."""
    step, result = state.step, state.top_up.result
    if step is Step.CARD_OVERVIEW:
        return tr("top_up.card.title", utility=utility)
    if step is Step.TOP_UP_AMOUNT:
        return tr("top_up.amount.title", utility=utility)
    if step is Step.TOP_UP_WRITING:
        return tr("top_up.writing.keep_card")
    if step is Step.TOP_UP_DONE and result is not None:
        title = "top_up.done.to_meter" if result.outcome.value == "written" else "top_up.done.not_written"
        if result.outcome.value == "referred":
            title = "top_up.done.referred"
        return _join(tr(title), tr("top_up.done.take_card"))
    return ""


def _join(*sentences: str) -> str:
    return " ".join(sentence.strip() for sentence in sentences if sentence.strip())
