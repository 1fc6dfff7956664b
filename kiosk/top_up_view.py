"""What the screens of a card top-up show at one moment: :class:`TopUpView` in the journey's state.

The card's offer (what the card holds, what may be bought or must be
written first), the amount being typed and why it is refused, whether the
kiosk is ordering, writing or rewriting, and the result.  Plain data, no Qt;
:mod:`kiosk.journey_top_up_steps` makes every change to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.top_up_records import TopUpOffer, TopUpResult

# How many preset amounts the amount screen offers (the quote's limits decide which).
PRESETS_SHOWN = 6
_PRESET_YUAN = (20, 50, 100, 200, 300, 500, 1000, 2000)
MAX_AMOUNT_DIGITS = 5  # yuan: ¥99,999 is far above any purchase limit a utility sets

# Why the billing system or the card refused before any money, as the customer reads it.
REFUSAL_KEYS = {
    "NO_CARD": "top_up.refused.no_card",
    "CARD_MISMATCH": "top_up.refused.not_this_account",
    "CARD_NOT_FOUND": "top_up.refused.card_unknown",
    "CARD_CANCELLED": "top_up.refused.card_cancelled",
    "CARD_COUNT_MISMATCH": "top_up.refused.counter",
    "NOT_LOADED_IN_METER": "top_up.refused.meter_first",
    "LIMIT_REACHED": "top_up.refused.hoarding_limit",
    "ACCOUNT_CLOSED": "top_up.refused.account_closed",
    "ACCOUNT_NOT_FOUND": "top_up.refused.card_unknown",
    "CASH_OFF": "top_up.refused.cash_off",
    "UNWRITTEN_PURCHASE": "top_up.refused.unwritten",
    "LIMITS_CHANGED": "top_up.refused.limits_changed",
    "ORDER_STALE": "top_up.refused.counter",
    "NETWORK_UNREACHABLE": "error.network_down",
    "TIMEOUT": "error.network_down",
}
REFUSED_OTHER = "top_up.refused.other"


def refusal_key(code: str) -> str:
    return REFUSAL_KEYS.get(code, REFUSED_OTHER)


@dataclass(frozen=True)
class TopUpOrder:
    """The effect :meth:`~kiosk.journey_top_up_steps.TopUpSteps.submit_amount` asks its owner to carry out."""

    offer: TopUpOffer
    chosen_fen: int


@dataclass(frozen=True)
class RewriteRequest:
    """The effect :meth:`~kiosk.journey_top_up_steps.TopUpSteps.start_rewrite` asks for: write
    ``purchase_no`` (None: the card's oldest purchase paid and not on it) to the card in the reader."""

    purchase_no: str | None


@dataclass(frozen=True)
class TopUpView:
    offer: TopUpOffer | None = None  # None while the card is being read
    digits: str = ""  # the amount typed, whole yuan
    amount_problem: str = ""  # i18n key: why the typed amount cannot be bought ("" when it can)
    opening: bool = False  # the purchase is being journaled and ordered: no second tap
    writing: bool = False  # the credit is going to the card (a purchase or a rewrite)
    rewriting: bool = False  # a purchase paid earlier, written now (补写卡)
    result: TopUpResult | None = None
    # Paid and not written, and another card was inserted: "this is not the card of this purchase".
    wrong_card: bool = False

    @property
    def chosen_fen(self) -> int:
        return int(self.digits) * 100 if self.digits else 0

    @property
    def can_buy(self) -> bool:
        return self.offer is not None and not self.offer.rewrite_first and self.offer.limits is not None

    def presets_fen(self) -> tuple[int, ...]:
        """The preset amounts this card may buy, smallest first (the minimum itself when none fits)."""
        if not self.can_buy:
            return ()
        limits = self.offer.limits
        fitting = [y * 100 for y in _PRESET_YUAN if limits.accepts(y * 100)]
        if not fitting:
            fitting = [limits.min_amount_fen]
        return tuple(fitting[:PRESETS_SHOWN])

    def problem_of(self, fen: int) -> str:
        """Why ``fen`` cannot be bought with this card now ("" when it can)."""
        limits = self.offer.limits
        if fen == 0:
            return "top_up.amount.empty"
        if fen < limits.min_amount_fen:
            return "top_up.amount.below_min"
        if fen > limits.max_amount_fen:
            return "top_up.amount.above_max"
        if fen % limits.step_fen:
            return "top_up.amount.step"
        return ""
