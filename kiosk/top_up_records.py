"""What a card top-up hands the screens and the slip: the offer for the card in the reader,
the result of a purchase or a rewrite, the facts a slip prints, and refusals.

Frozen records, no Qt.  ``problem_key`` and ``advice_key`` are i18n keys
(``top_up.*``, to be added to assets/i18n/messages.toml beside ``paid.*``),
so the screen and the slip say the same thing; ``reason`` is the
technician's code (the card's or the billing system's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contract.masking import mask_account
from contract.purchase import CardIdentity, PurchaseLimits
from contract.purchase_requests import CardReading
from offline_store.journal import PurchaseRecord, PurchaseState

P = PurchaseState


class TopUpOutcome(StrEnum):
    """What the customer is told at the end."""

    WRITTEN = "written"  # on the card, read back (its confirmation may still be queued)
    NOT_WRITTEN = "not_written"  # paid, the money kept; written at the card's next insertion (补写卡)
    REFERRED = "referred"  # refused for good, the money kept: the counter, with the purchase number
    CANCELLED = "cancelled"  # no money was taken


def outcome_of(purchase: PurchaseRecord) -> TopUpOutcome:
    if purchase.on_card:
        return TopUpOutcome.WRITTEN
    if purchase.state == P.REFERRED:
        return TopUpOutcome.REFERRED
    if purchase.state == P.CANCELLED:
        return TopUpOutcome.CANCELLED
    return TopUpOutcome.NOT_WRITTEN


# Why the card does not carry a purchase, as the customer is told it.
_PROBLEMS = {
    "POSTING_PENDING": "top_up.problem.posting_pending",  # the billing system not reached: posted later
    "TOKEN_NOT_ISSUED": "top_up.problem.token_not_issued",  # booked; the key system has not made the token
    "CARD_PULLED": "top_up.problem.card_pulled",
    "NO_CARD": "top_up.problem.card_pulled",
    "CARD_MUTE": "top_up.problem.card_mute",
    "READER_GONE": "top_up.problem.reader_gone",
    "NOT_THIS_CARD": "top_up.problem.other_card",
    "COUNT_MISMATCH": "top_up.problem.other_purchase_on_card",
    "METER_BEHIND": "top_up.problem.meter_behind",
    "HOARDING_LIMIT": "top_up.problem.hoarding_limit",
    "JOURNAL_FAILED": "top_up.problem.journal",
    "ACCEPTOR_UNSETTLED": "top_up.problem.acceptor",
    "RECOVERED": "top_up.problem.interrupted",  # a restart carried it forward: the customer had left
}
WRITE_REFUSED = "top_up.problem.write_refused"  # any other refusal of the card (wrong MAC, memory failure...)
REFERRED_KEY = "top_up.problem.referred"


def problem_key(reason: str | None) -> str:
    if not reason:
        return ""
    return _PROBLEMS.get(reason, WRITE_REFUSED)


def advice_key(outcome: TopUpOutcome) -> str:
    """What to do next: insert the card again (here or at any kiosk), the counter, nothing."""
    return {TopUpOutcome.NOT_WRITTEN: "top_up.advice.insert_card_again",
            TopUpOutcome.REFERRED: "top_up.advice.counter"}.get(outcome, "")


class TopUpRefused(Exception):
    """No purchase can be made now: ``code`` (a PurchaseRefusal or contract code, NO_CARD,
    CASH_OFF...) decides what the screen says; ``detail`` is for the log.  Nothing was
    paid: a refused order is cancelled in the journal before this is raised."""

    def __init__(self, code: str, detail: str = "", *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.retryable = retryable


@dataclass(frozen=True)
class TopUpOffer:
    """The card in the reader and what may be done with it now.

    ``rewrite`` lists the purchase numbers paid and not on this card (this
    journal's and the billing system's): offered first, before anything is
    sold.  Otherwise ``limits`` says what one purchase may be (the screens
    offer ``min_amount_fen``..``max_amount_fen`` in ``step_fen``, and say so
    when ``arrears_first``)."""

    reading: CardReading
    identity: CardIdentity
    limits: PurchaseLimits | None
    rewrite: tuple[str, ...] = ()

    @property
    def rewrite_first(self) -> bool:
        return bool(self.rewrite)

    @property
    def account_masked(self) -> str:
        return mask_account(self.reading.account_no)


@dataclass(frozen=True)
class TopUpSlipData:
    """The facts a top-up slip prints (the layout and its words are the slip module's):
    masked personal data only, amounts in fen."""

    hall_name_zh: str
    hall_name_en: str
    terminal_id: str
    hotline: str
    printed_at: datetime
    purchase_no: str
    transaction_no: str
    utility_name_zh: str
    utility_name_en: str
    account_masked: str
    card_masked: str
    outcome: TopUpOutcome
    paid_fen: int
    notes: tuple[tuple[int, int], ...]
    credit_fen: int | None
    arrears_paid_fen: int | None
    receipt_no: str
    purchase_count: int | None
    problem_key: str
    advice_key: str
    recovered: bool  # printed after a restart carried the purchase forward
    card_credit_before_fen: int | None = None  # the card as read for the order (unknown for a rewrite)
    card_credit_after_fen: int | None = None  # the card read back after the write


@dataclass(frozen=True)
class TopUpResult:
    """The end of a purchase or a rewrite, for the screen (and the slip)."""

    purchase_no: str
    outcome: TopUpOutcome
    state: PurchaseState  # the journal's
    paid_fen: int  # the cash taken here (0 for a rewrite of another terminal's purchase)
    credit_fen: int | None
    arrears_paid_fen: int | None
    receipt_no: str
    card_count: int | None  # the card's purchase count read back, when written
    confirmed: bool  # the billing system has heard of the write already
    reason: str  # the technician's code: why it is not on the card ("" when it is)
    problem_key: str
    advice_key: str
    slip: TopUpSlipData | None
    slip_printed: bool = False
    more_to_rewrite: bool = False  # another paid purchase waits for this card
    card_credit_fen: int | None = None  # the credit on the card, read back after the write


def card_masked(serial: str) -> str:
    """The card serial on a slip: its last four digits, enough for the customer to know the card."""
    return "*" * (len(serial) - 4) + serial[-4:]
