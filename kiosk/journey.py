"""The customer journey, as plain Python (no Qt).

home → utility → account number (or card) → lookup → account overview (or an
explained failure) → back/home; from the overview, a cash payment: notice (no
change given, what happens to the excess, whether a slip can be printed) →
cash-in → paying (commit, post, print) → the result.  Screens only render :class:`JourneyState` and forward
taps; every decision (what is valid, which step comes next, when an idle
customer is prompted and then forgotten) is made here, so tests drive the whole
journey without a window.

Time comes from an injected clock (``time.monotonic`` by default) and the owner
calls :meth:`Journey.tick` about once a second; nothing here sleeps or waits.
The money steps (notice, cash-in, paying) are in :mod:`kiosk.journey_cash_steps`,
a prepaid card's top-up in :mod:`kiosk.journey_top_up_steps`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Mapping

from contract.account_number import AccountNumberRule, NumberProblem
from kiosk.journey_cash_steps import CashInSteps
from kiosk.journey_top_up_steps import TopUpSteps
from kiosk.journey_state import (
    ADVICE,
    MONEY_STEPS,
    IdlePrompt,
    JourneyState,
    LookupFailure,
    LookupRequest,
    Step,
)

if TYPE_CHECKING:  # only types: the journey runs before the backend is loaded
    from contract.errors import BackendError
    from contract.models import Account


Listener = Callable[[JourneyState], None]

# Elder mode: every idle prompt and timeout waits this many times longer.
ELDER_TIME_FACTOR = 2.0


class Journey(CashInSteps, TopUpSteps):
    """One customer's inquiry at a time; :meth:`go_home` forgets all of it."""

    def __init__(
        self,
        rules: Mapping[str, AccountNumberRule],
        idle_prompt_after_s: float,
        idle_countdown_s: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        cash_in_prompt_after_s: float = 60.0,
        cash_in_timeout_s: float = 120.0,
    ) -> None:
        if not rules:
            raise ValueError("a journey needs at least one utility")
        self._rules = dict(rules)
        self._prompt_after_s = idle_prompt_after_s
        self._countdown_s = idle_countdown_s
        self._cash_in_prompt_s = cash_in_prompt_after_s
        self._cash_in_timeout_s = cash_in_timeout_s
        self._clock = clock
        self._state = JourneyState()
        self._last_touch = clock()
        self._prompt_deadline: float | None = None
        self._tickets = itertools.count(1)
        self._pending_ticket: int | None = None
        self._listeners: list[Listener] = []
        self._elder = False

    # -- observing -----------------------------------------------------
    @property
    def state(self) -> JourneyState:
        return self._state

    def rule(self, utility_id: str) -> AccountNumberRule:
        return self._rules[utility_id]

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _set(self, state: JourneyState) -> None:
        # Elder mode belongs to the customer, not to a step: every new state keeps it.
        if state.elder != self._elder:
            state = replace(state, elder=self._elder)
        if state == self._state:
            return
        self._state = state
        for listener in list(self._listeners):
            listener(state)

    # -- customer actions ------------------------------------------------
    def start_inquiry(self) -> None:
        self.touch()
        self._set(JourneyState(step=Step.UTILITY))

    def start_paying(self) -> None:
        """Home's "Pay a bill": the same way to the account, said as paying."""
        self.touch()
        self._set(JourneyState(step=Step.UTILITY, to_pay=True))

    def start_card_inquiry(self) -> None:
        """Home → "insert your card"; the card reader's news arrives through
        :meth:`card_read` or :meth:`card_unreadable`."""
        self.touch()
        self._set(JourneyState(step=Step.CARD, by_card=True))

    def card_read(self, utility_id: str, account_no: str) -> LookupRequest | None:
        """A card was read: look its account up (from home too — a customer
        who simply inserts a card means it)."""
        if self._state.step not in (Step.HOME, Step.CARD, Step.CARD_OVERVIEW):  # the overview: "Bill and usage"
            return None
        self.touch()
        rule = self._rules.get(utility_id)
        if rule is None or rule.problem(account_no) is not None:
            reason = "error.card_unknown_utility" if rule is None else "error.card_unreadable"
            self._fail_card(reason, "CARD_UNKNOWN_UTILITY" if rule is None else "CARD_BAD_ACCOUNT_NO")
            return None
        ticket = next(self._tickets)
        self._pending_ticket = ticket
        self._set(JourneyState(step=Step.LOOKUP, utility_id=utility_id, digits=account_no, by_card=True))
        return LookupRequest(ticket, utility_id, account_no)

    def card_unreadable(self, code: str) -> None:
        """The card could not be read (pulled too early, mute, not ours)."""
        if self._state.step in (Step.HOME, Step.CARD):
            self.touch()
            self._fail_card("error.card_unreadable", code)

    def _fail_card(self, reason_key: str, code: str) -> None:
        failure = LookupFailure(reason_key, ADVICE[reason_key], code, retryable=False)
        self._set(JourneyState(step=Step.FAILED, failure=failure, by_card=True))

    def choose_utility(self, utility_id: str) -> None:
        if utility_id not in self._rules:
            raise KeyError(f"unknown utility {utility_id!r}; configured: {', '.join(self._rules)}")
        self.touch()
        self._set(JourneyState(step=Step.ACCOUNT, utility_id=utility_id, to_pay=self._state.to_pay))

    def press_digit(self, digit: str) -> None:
        self.touch()
        state = self._state
        if state.step is not Step.ACCOUNT:
            return
        rule = self._rules[state.utility_id]
        if not (len(digit) == 1 and digit.isascii() and digit.isdigit()):
            self._set(replace(state, field_problem=NumberProblem.NOT_DIGITS))
            return
        if not rule.accepts_more_digits(state.digits):
            # Complete: the extra digit is ignored; a number known to be wrong stays marked wrong.
            if state.field_problem is None:
                self._set(replace(state, field_problem=NumberProblem.TOO_LONG))
            return
        digits = state.digits + digit
        self._set(replace(state, digits=digits, field_problem=_problem_while_typing(rule, digits)))

    def backspace(self) -> None:
        self.touch()
        state = self._state
        if state.step is Step.ACCOUNT and state.digits:
            digits = state.digits[:-1]
            rule = self._rules[state.utility_id]
            self._set(replace(state, digits=digits, field_problem=_problem_while_typing(rule, digits)))

    def clear(self) -> None:
        self.touch()
        if self._state.step is Step.ACCOUNT:
            self._set(replace(self._state, digits="", field_problem=None))

    def submit(self) -> LookupRequest | None:
        """Validate the number; if it is valid, start a lookup and return it."""
        self.touch()
        state = self._state
        if state.step is not Step.ACCOUNT:
            return None
        problem = self._rules[state.utility_id].problem(state.digits)
        if problem is not None:
            self._set(replace(state, field_problem=problem))
            return None
        ticket = next(self._tickets)
        self._pending_ticket = ticket
        self._set(replace(state, step=Step.LOOKUP, field_problem=None))
        return LookupRequest(ticket, state.utility_id, state.digits)

    def retry(self) -> LookupRequest | None:
        """After a failure, look the same number up again."""
        state = self._state
        if state.step is not Step.FAILED:
            return None
        if state.by_card:
            if state.utility_id is None:  # the card itself failed: insert it again
                self.start_card_inquiry()
                return None
            return self._card_lookup_again(state)
        self._set(replace(state, step=Step.ACCOUNT, failure=None))
        return self.submit()

    def _card_lookup_again(self, state: JourneyState) -> LookupRequest:
        ticket = next(self._tickets)
        self._pending_ticket = ticket
        self._set(replace(state, step=Step.LOOKUP, failure=None))
        return LookupRequest(ticket, state.utility_id, state.digits)

    def cancel_lookup(self) -> None:
        self.touch()
        if self._state.step is Step.LOOKUP:
            self._pending_ticket = None
            if self._state.by_card:
                self._set(JourneyState(step=Step.CARD, by_card=True))
            else:
                self._set(replace(self._state, step=Step.ACCOUNT))

    def back(self) -> None:
        """One step back; from the first step, home."""
        self.touch()
        state = self._state
        if self._top_up_back(state):
            return
        if state.step in (Step.UTILITY, Step.CARD):
            self.go_home()
        elif state.step is Step.ACCOUNT:
            self._set(JourneyState(step=Step.UTILITY, to_pay=state.to_pay))
        elif state.step is Step.LOOKUP:
            self.cancel_lookup()
        elif state.step is Step.PAY_NOTICE:
            self._set(replace(state, step=Step.OVERVIEW, notice=None, payment=None))
        elif state.step in MONEY_STEPS or state.step is Step.PAID:
            return  # money in play: only "Done"/"Cancel" on the cash-in screen end it
        elif state.by_card and state.step in (Step.FAILED, Step.OVERVIEW):
            self._set(JourneyState(step=Step.CARD, by_card=True))
        elif state.step in (Step.FAILED, Step.OVERVIEW):
            # Back to the keypad with the number still there to correct it.
            self._set(JourneyState(step=Step.ACCOUNT, utility_id=state.utility_id, digits=state.digits,
                                   to_pay=state.to_pay))

    # -- paying in cash: inherited from :class:`~kiosk.journey_cash_steps.CashInSteps` --

    # -- this customer's session ----------------------------------------

    def set_elder(self, on: bool) -> None:
        """Elder mode (长辈模式) on or off for this customer: larger everything, and
        twice the time before any prompt or timeout.  The next customer starts without it."""
        self.touch()
        self._elder = on
        self._set(self._state)

    def waited_s(self, seconds: float) -> float:
        """A wait as this customer gets it: no time pressure in elder mode."""
        return seconds * ELDER_TIME_FACTOR if self._elder else seconds

    def show_help(self, shown: bool = True) -> None:
        """"Need help?" opens the card over the step (closing it changes nothing else)."""
        self.touch()
        if self._state.help_shown != shown:
            self._set(replace(self._state, help_shown=shown))

    def pay_another(self) -> None:
        """"Pay another bill" on the result screen: this account is forgotten, the
        same customer chooses the next utility (in the language they chose)."""
        if self._state.step is not Step.PAID:
            return
        self.touch()
        self._pending_ticket = None
        self._set(JourneyState(step=Step.UTILITY, to_pay=True))

    def go_home(self) -> None:
        """Forget the customer: number, account, failure — everything.

        Not while money is in play (cash-in, paying): that ends with its result."""
        if self._state.step in MONEY_STEPS:
            return
        self._pending_ticket = None
        self._prompt_deadline = None
        self._last_touch = self._clock()
        self._elder = False  # the next customer starts in the standard mode
        self._set(JourneyState())

    # -- lookup results (from a worker, delivered on the owner's thread) --
    def lookup_succeeded(self, ticket: int, account: Account) -> None:
        if not self._is_current(ticket):
            return
        self._pending_ticket = None
        self._set(replace(self._state, step=Step.OVERVIEW, account=account))

    def lookup_failed(self, ticket: int, error: BackendError) -> None:
        if not self._is_current(ticket):
            return
        self._pending_ticket = None
        failure = LookupFailure(
            reason_key=error.reason_key,
            advice_key=ADVICE.get(error.reason_key, "advice.try_later_or_counter"),
            code=error.code,
            retryable=error.retryable,
        )
        self._set(replace(self._state, step=Step.FAILED, failure=failure))

    def _is_current(self, ticket: int) -> bool:
        # A reply for a customer who has gone (or cancelled) must never show.
        return ticket == self._pending_ticket and self._state.step is Step.LOOKUP

    # -- idle --------------------------------------------------------------
    def touch(self) -> None:
        """Any tap: the customer is still here."""
        self._last_touch = self._clock()
        if self._prompt_deadline is not None or self._state.idle_prompt is not None:
            self._prompt_deadline = None
            self._set(replace(self._state, idle_prompt=None))

    def tick(self) -> bool:
        """Advance the idle prompt and wipe the session when it runs out.

        During cash-in an idle customer is asked too, but nothing is wiped:
        when the cash-in times out it is finished (what was stacked is paid
        in) and True is returned — the owner then finishes it, as for "Done".
        """
        state = self._state
        if state.step is Step.HOME:
            return False
        now = self._clock()
        if state.step in MONEY_STEPS:
            return self._tick_cash_in(state, now)
        if self._prompt_deadline is None:
            if state.step is Step.LOOKUP or (state.top_up is not None and state.top_up.opening):
                # Waiting on us is not the customer being idle.
                self._last_touch = now
                return False
            if now - self._last_touch >= self.waited_s(self._prompt_after_s):
                countdown = self.waited_s(self._countdown_s)
                self._prompt_deadline = now + countdown
                self._set(replace(state, idle_prompt=IdlePrompt(int(round(countdown)))))
            return False
        left = self._prompt_deadline - now
        if left <= 0:
            self.go_home()
        else:
            self._set(replace(state, idle_prompt=IdlePrompt(int(left + 0.999))))
        return False

    def _tick_cash_in(self, state: JourneyState, now: float) -> bool:
        if state.step in (Step.PAYING, Step.TOP_UP_WRITING):  # waiting on us is not the customer being idle
            self._last_touch = now
            return False
        idle = now - self._last_touch
        timeout = self.waited_s(self._cash_in_timeout_s)
        if idle >= timeout:
            return self.finish_cash_in()
        if idle >= self.waited_s(self._cash_in_prompt_s):
            self._set(replace(state, idle_prompt=IdlePrompt(int(timeout - idle + 0.999), cash_in=True)))
        return False


def _problem_while_typing(rule: AccountNumberRule, digits: str) -> NumberProblem | None:
    """Only complain while typing when the number is complete and still wrong."""
    if len(digits) < rule.length:
        return None
    return rule.problem(digits)
