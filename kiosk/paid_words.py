"""Which words a payment's result is told in: the title and the advice, chosen by its outcome.

The paid screen shows them and the voice says them; one table, so the two
never tell a customer different things.
"""

from __future__ import annotations

from contract.payment_state import PENDING, POSTED, REFERRED
from kiosk.payment_record import CashPayment

TITLE = {POSTED: "paid.posted", PENDING: "paid.pending", REFERRED: "paid.referred"}
# A problem (a note may be inside the acceptor, the journal failed) sends to the counter whatever the outcome.
TITLE_WITH_PROBLEM = {POSTED: "paid.posted_with_problem", PENDING: "paid.pending_with_problem",
                      REFERRED: "paid.referred"}
ADVICE = {POSTED: "paid.posted_advice", PENDING: "paid.pending_advice", REFERRED: "paid.referred_advice"}


def has_result(payment: CashPayment | None) -> bool:
    return payment is not None and payment.outcome in TITLE


def title_key(payment: CashPayment) -> str:
    return (TITLE_WITH_PROBLEM if payment.problem_key else TITLE)[payment.outcome]


def advice_key(payment: CashPayment) -> str:
    key = "paid.referred_advice" if payment.problem_key else ADVICE[payment.outcome]
    if key == "paid.posted_advice" and not payment.slip_printed:
        key = "paid.posted_advice_no_slip"
    return key


def slip_key(payment: CashPayment) -> str:
    return "paid.slip_printed" if payment.slip_printed else "paid.no_slip"
