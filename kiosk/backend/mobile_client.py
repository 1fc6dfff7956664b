"""The kiosk's calls for a mobile payment order (docs/api.md, 3.14 to 3.17).

A mixin of :class:`kiosk.backend.client.BackendClient`, so every call goes
through the same lock, deadline, token, size and JSON limits, retries and
error mapping as the others (docs/api.md, 5); this module says what each
call sends and checks that each answer is the order that was asked about --
its number, amount, method and account -- and, after a cancel or a reverse,
that it is no longer waiting for the phone.

Every call is safe to repeat, so each is retried like the others: the
status is a read, and the create, the cancel and the reverse carry the order
number as Idempotency-Key (a repeated create answers the same order; a
cancel or reverse of an order already closed answers it as it is).  A
refusal is a RequestRejected (AccountClosed for a closed account) whose
``code`` is a :class:`contract.mobile.MobileRefusal` or a code of section 4.
The payment code a scanner read is sent in the body and never logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from contract.errors import MalformedReply
from contract.masking import mask_account, redact_digit_runs
from contract.mobile import LIVE, ORDER_NO, MobileOrder, MobileOrderRequest, parse_mobile_order
from kiosk.backend.request_values import _segment
from kiosk.backend.results import _parsed, _replayed

if TYPE_CHECKING:
    from kiosk.backend.call_guard import _CallGuard
    from kiosk.backend.reply_body import _Reply

log = logging.getLogger("kiosk.backend")

API = "/api/v1"


class MobileCalls:
    """The mobile order endpoints, for BackendClient (which provides ``_call``
    and ``_authorised``)."""

    _call: Callable[..., Any]
    _authorised: Callable[..., _Reply]

    def create_mobile_order(self, request: MobileOrderRequest) -> MobileOrder:
        """Make the order (3.14) under its order number, journaled before this call.

        For ``qr_shown`` the answer carries the QR payload and its expiry; for
        ``code_scanned`` the billing system has already sent the code on, and
        the answer may be paid, declined or user_paying.  A repeat after any
        failure answers the same order (``replayed`` True), never a second one.
        """
        order = self._order_call("POST", f"{API}/mobile-orders", request.order_no, request.to_body())
        expected = (request.method, request.amount_fen, request.utility, request.account_no, request.purchase_no)
        actual = (order.method, order.amount_fen, order.utility, order.account_no, order.purchase_no)
        names = ("method", "amount_fen", "utility", "account_no", "purchase_no")
        for name, want, got in zip(names, expected, actual):
            if want != got:
                raise MalformedReply(f"POST {API}/mobile-orders: the reply is an order with another {name} "
                                     "than asked", field=name)
        log.info("mobile order %s of %d fen (%s) for %s/%s: %s%s", request.order_no, request.amount_fen,
                 request.method.value, request.utility, mask_account(request.account_no), order.status.value,
                 " (replayed)" if order.replayed else "")
        return order

    def mobile_order_status(self, order_no: str) -> MobileOrder:
        """The order as the billing system holds it now (3.15); poll it every
        ``poll_interval_ms`` until ``final``.  ORDER_NOT_FOUND is a
        RequestRejected with that code (the create never arrived)."""
        _check_order_no(order_no)
        return self._order_call("GET", f"{API}/mobile-orders/{_segment(order_no, 'order number')}", order_no, None)

    def cancel_mobile_order(self, order_no: str) -> MobileOrder:
        """Close a qr_shown order (3.16).  The answer is the order as it is
        after the cancel: ``cancelled`` -- or ``paid`` when the provider
        confirmed first, and then the payment stands and is posted."""
        return self._closing_call(order_no, "cancel")

    def reverse_mobile_order(self, order_no: str) -> MobileOrder:
        """Reverse (撤销) a code_scanned order whose result stayed unknown past
        its deadline (3.17): ``reversed`` and nothing charged -- or ``paid``
        when the provider confirmed first, and then the payment stands."""
        return self._closing_call(order_no, "reverse")

    def _closing_call(self, order_no: str, action: str) -> MobileOrder:
        _check_order_no(order_no)
        path = f"{API}/mobile-orders/{_segment(order_no, 'order number')}/{action}"
        order = self._order_call("POST", path, order_no, None)
        if order.status in LIVE:
            raise MalformedReply(f"POST {redact_digit_runs(path)}: a {action} answered with an order that is still "
                                 f"{order.status.value}", field="status")
        log.info("mobile order %s %s: now %s", order_no, action, order.status.value)
        return order

    def _order_call(self, method: str, path: str, order_no: str, body: Any) -> MobileOrder:
        """One call answered with a mobile order, checked to be that order."""
        where = f"{method} {redact_digit_runs(path)}"
        headers = None if method == "GET" else {"Idempotency-Key": order_no}

        def attempt(guard: _CallGuard) -> _Reply:
            return self._authorised(guard, method, path, body=body, headers=headers)

        def finish(reply: _Reply) -> MobileOrder:
            order = _parsed(lambda obj: parse_mobile_order(obj, replayed=_replayed(reply)), reply, where)
            if order.order_no != order_no:
                raise MalformedReply(f"{where} -> {reply.status}: the reply is about another order", field="order_no")
            return order

        return self._call(where, attempt, finish)


def _check_order_no(value: Any) -> None:
    """ValueError unless ``value`` is an order number the contract can carry; nothing is sent."""
    if not isinstance(value, str) or not ORDER_NO.fullmatch(value):
        raise ValueError(f"order_no must be 1 to 32 letters, digits and -, got {value!r}")
