"""A 2xx reply turned into the contract's result, and checked to be about
what was asked.

Its own module because a well-formed answer can still be the wrong one --
another account, another transaction, a closed account sent with 200 -- and
these checks are what stands between such a reply and the customer's money.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from contract.assistance import AssistanceReply, parse_assistance_reply
from contract.errors import AccountClosed, MalformedReply
from contract.models import Account, PaymentResult, parse_account, parse_payment_result
from kiosk.backend.reply_body import _Reply

T = TypeVar("T")


def _parsed(parse: Callable[[Any], T], reply: _Reply, where: str) -> T:
    """Parse a reply body, adding where it came from to a contract breach."""
    try:
        return parse(reply.body)
    except MalformedReply as err:
        raise MalformedReply(
            f"{where} -> {reply.status}: {err.detail}", field=err.field
        ) from None


def _checked_account(reply: _Reply, where: str, utility: str, account_no: str) -> Account:
    account = _parsed(parse_account, reply, where)
    if (account.utility, account.account_no) != (utility, account_no):
        raise MalformedReply(
            f"{where} -> {reply.status}: the reply is about another account",
            field="account_no",
        )
    if account.closed:
        raise AccountClosed(f"{where} -> {reply.status}: status is closed")
    return account


def _replayed(reply: _Reply) -> bool:
    return reply.headers.get("Idempotent-Replay", "").strip().lower() == "true"


def _checked_assistance(reply: _Reply, where: str) -> AssistanceReply:
    return _parsed(lambda body: parse_assistance_reply(body, replayed=_replayed(reply)), reply, where)


def _checked_payment_result(reply: _Reply, where: str, transaction_no: str) -> PaymentResult:
    result = _parsed(
        lambda body: parse_payment_result(body, replayed=_replayed(reply)), reply, where
    )
    if result.transaction_no != transaction_no:
        raise MalformedReply(
            f"{where} -> {reply.status}: the reply is about another transaction",
            field="transaction_no",
        )
    return result
