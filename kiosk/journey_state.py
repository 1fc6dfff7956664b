"""What the customer journey is at one moment: :class:`JourneyState` and the records it holds.

Screens render a :class:`JourneyState` and nothing else; :mod:`kiosk.journey`
makes every change to it.  Plain data, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from contract.account_number import NumberProblem
from kiosk.payment_record import CashPayment

if TYPE_CHECKING:  # only types: the journey runs before the backend is loaded
    from contract.models import Account
    from kiosk.top_up_view import TopUpView


class Step(Enum):
    HOME = "home"
    UTILITY = "utility"
    ACCOUNT = "account"
    CARD = "card"
    LOOKUP = "lookup"
    OVERVIEW = "overview"
    FAILED = "failed"
    PAY_NOTICE = "pay_notice"
    CASH_IN = "cash_in"
    PAYING = "paying"
    PAID = "paid"
    # A prepaid card's top-up (购电/购水/购气): the card's overview, the amount, then the
    # cash-in (CASH_IN, as for a bill), the write to the card and its result.
    CARD_OVERVIEW = "card_overview"
    TOP_UP_AMOUNT = "top_up_amount"
    TOP_UP_WRITING = "top_up_writing"
    TOP_UP_DONE = "top_up_done"


# Steps where money may be in the acceptor: no going back, no idle wipe.
MONEY_STEPS = (Step.CASH_IN, Step.PAYING, Step.TOP_UP_WRITING)


# The step bar shows the customer where they are; LOOKUP and FAILED sit on the
# bar position of the step they belong to.
STEP_BAR = (Step.UTILITY, Step.ACCOUNT, Step.OVERVIEW, Step.CASH_IN)
_BAR_POSITION = {
    Step.UTILITY: 0,
    Step.ACCOUNT: 1,
    Step.CARD: 0,  # with a card the first step is "insert the card"
    Step.LOOKUP: 1,
    Step.FAILED: 1,
    Step.OVERVIEW: 2,
    Step.PAY_NOTICE: 3,
    Step.CASH_IN: 3,
    Step.PAYING: 3,
    Step.PAID: 3,
    Step.CARD_OVERVIEW: 2,
    Step.TOP_UP_AMOUNT: 3,
    Step.TOP_UP_WRITING: 3,
    Step.TOP_UP_DONE: 3,
}

# What a customer should do after each kind of failure (i18n keys).
ADVICE = {
    "error.account_not_found": "advice.check_number",
    "error.account_closed": "advice.go_to_counter",
    "error.network_down": "advice.try_later_or_counter",
    "error.backend_failed": "advice.try_later_or_counter",
    "error.terminal_not_authorised": "advice.go_to_counter",
    "error.request_rejected": "advice.go_to_counter",
    "error.card_unreadable": "advice.card_reinsert",
    "error.card_unknown_utility": "advice.go_to_counter",
}


@dataclass(frozen=True)
class LookupFailure:
    """What went wrong, for the customer (i18n keys) and the technician (code)."""

    reason_key: str
    advice_key: str
    code: str
    retryable: bool


@dataclass(frozen=True)
class LookupRequest:
    """The effect :meth:`Journey.submit` asks its owner to carry out."""

    ticket: int
    utility_id: str
    account_no: str


@dataclass(frozen=True)
class IdlePrompt:
    seconds_left: int
    # During cash-in the countdown ends in paying in what was stacked, not in a wipe.
    cash_in: bool = False


@dataclass(frozen=True)
class PayNotice:
    """What the notice before cash-in tells: which notes go in, whether a slip can be printed."""

    slip_available: bool
    accepted_yuan: tuple[int, ...]


@dataclass(frozen=True)
class CashInRequest:
    """The effect :meth:`Journey.begin_cash_in` asks its owner to carry out."""

    utility_id: str
    account: Account
    amount_due_fen: int
    cap_fen: int


@dataclass(frozen=True)
class JourneyState:
    step: Step = Step.HOME
    utility_id: str | None = None
    digits: str = ""
    field_problem: NumberProblem | None = None
    account: Account | None = None
    failure: LookupFailure | None = None
    idle_prompt: IdlePrompt | None = None
    by_card: bool = False
    notice: PayNotice | None = None  # from the notice on, until the payment ends
    payment: CashPayment | None = None
    # Cash-in: the customer asked to stop with money in, or to pay less than is
    # owed; the screen asks them to confirm before the money is paid in.
    confirm_finish: bool = False
    # The customer came to pay (home's "Pay a bill"), not only to look: the
    # screens say "pay" where they would say "check".
    to_pay: bool = False
    help_shown: bool = False  # the "Need help?" card is over the step
    elder: bool = False  # elder mode (长辈模式): larger text and targets, more time
    top_up: TopUpView | None = None  # a prepaid card's top-up, from the card's reading to its result

    @property
    def step_bar_position(self) -> int | None:
        return _BAR_POSITION.get(self.step)

    @property
    def holds_customer_data(self) -> bool:
        return self.step is not Step.HOME
