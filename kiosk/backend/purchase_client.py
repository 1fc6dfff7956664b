"""The kiosk's calls for a prepaid card purchase (docs/api.md, 3.7 to 3.13).

A mixin of :class:`kiosk.backend.client.BackendClient`, so every purchase
call goes through the same lock, deadline, token, size and JSON limits,
retries and error mapping as the other calls (docs/api.md, 5); this module
only says what each call sends and checks that each answer is about what was
asked -- the card, the purchase, the cash -- before it reaches the kiosk.

Every POST here is safe to repeat: the quote changes nothing, and the order,
its payment and its confirmation carry the purchase number as
Idempotency-Key, so a repeat after a lost answer does the work once.  A
refusal is a RequestRejected (AccountClosed for a closed account) whose
``code`` is a :class:`contract.purchase.PurchaseRefusal` or a code of
docs/api.md section 4; the kiosk decides on the code.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from contract.errors import MalformedReply
from contract.masking import mask_account, redact_digit_runs
from contract.purchase import (
    CardIdentity,
    Purchase,
    PurchaseQuote,
    PurchaseStatus,
    parse_card_identity,
    parse_purchase,
    parse_purchase_quote,
    parse_unwritten,
)
from contract.purchase_requests import (
    CardReading,
    PurchaseOrder,
    PurchasePayment,
    WriteConfirmation,
    check_card_serial,
    check_purchase_no,
)
from kiosk.backend.request_values import _segment
from kiosk.backend.results import _parsed, _replayed

if TYPE_CHECKING:
    from kiosk.backend.call_guard import _CallGuard
    from kiosk.backend.reply_body import _Reply

log = logging.getLogger("kiosk.backend")

API = "/api/v1"


class PurchaseCalls:
    """The purchase endpoints, for BackendClient (which provides ``_call``,
    ``_authorised`` and ``_terminal_id``)."""

    _terminal_id: str
    _call: Callable[..., Any]
    _authorised: Callable[..., _Reply]

    def identify_card(self, card_serial: str) -> CardIdentity:
        """The card as the billing system has it registered (3.7).

        CARD_NOT_FOUND and CARD_CANCELLED are RequestRejected, a closed
        account AccountClosed.  Compare :meth:`CardIdentity.belongs_to` with
        the card's own customer file before offering anything.  A serial that
        is not 16 upper-case hex digits is the caller's mistake: ValueError,
        nothing sent.
        """
        check_card_serial(card_serial)
        path = f"{API}/cards/{_segment(card_serial, 'card serial')}"
        where = f"GET {redact_digit_runs(path)}"
        identity = self._call(where, lambda guard: self._authorised(guard, "GET", path),
                              lambda reply: _about_card(_parsed(parse_card_identity, reply, where),
                                                        card_serial, reply, where))
        log.info("card %s identified: %s/%s, %d purchase(s) unwritten", redact_digit_runs(card_serial),
                 identity.utility, mask_account(identity.account_no), identity.unwritten_purchases)
        return identity

    def quote_purchase(self, reading: CardReading) -> PurchaseQuote:
        """The limits of a purchase for the card as read (3.8); fixes nothing."""
        path = f"{API}/cards/{_segment(reading.card_serial, 'card serial')}/quote"
        where = f"POST {redact_digit_runs(path)}"

        def finish(reply: _Reply) -> PurchaseQuote:
            quote = _about_card(_parsed(parse_purchase_quote, reply, where), reading.card_serial, reply, where)
            if (quote.utility, quote.account_no) != (reading.utility, reading.account_no):
                raise _off_topic(where, reply, "account_no", "another account than the card's")
            return quote

        return self._call(where, lambda guard: self._authorised(guard, "POST", path, body=reading.to_body()),
                          finish)

    def order_purchase(self, order: PurchaseOrder) -> Purchase:
        """Order a purchase before any cash is taken (3.9), under its purchase number."""
        path = f"{API}/purchases"
        purchase = self._purchase_call("POST", path, order.purchase_no, order.to_body(),
                                       card_serial=order.reading.card_serial)
        log.info("purchase %s ordered for card %s (count %d)", order.purchase_no,
                 redact_digit_runs(order.reading.card_serial), purchase.purchase_count)
        return purchase

    def pay_purchase(self, payment: PurchasePayment) -> Purchase:
        """Book the cash of an ordered purchase (3.10); the answer carries the
        write token once it is issued (status issued), or status paid while
        the key system has not made it (ask :meth:`purchase_status` later)."""
        path = f"{API}/purchases/{_segment(payment.purchase_no, 'purchase number')}/payment"
        purchase = self._purchase_call("POST", path, payment.purchase_no, payment.to_body(),
                                       amount_fen=payment.amount_fen)
        log.info("purchase %s paid, %d fen, %s%s", payment.purchase_no, payment.amount_fen,
                 purchase.status.value, " (replayed)" if purchase.replayed else "")
        return purchase

    def confirm_write(self, confirmation: WriteConfirmation) -> Purchase:
        """Tell the billing system the card now carries the purchase (3.11), from
        what the card read back after the write: from any terminal."""
        path = f"{API}/purchases/{_segment(confirmation.purchase_no, 'purchase number')}/confirm"
        purchase = self._purchase_call("POST", path, confirmation.purchase_no, confirmation.to_body(),
                                       card_serial=confirmation.card_serial)
        if purchase.status is not PurchaseStatus.WRITTEN:
            raise MalformedReply(f"POST {redact_digit_runs(path)}: a confirmation answered with a purchase that is "
                                 f"{purchase.status.value}, not written", field="status")
        log.info("purchase %s confirmed written%s", confirmation.purchase_no,
                 " (replayed)" if purchase.replayed else "")
        return purchase

    def purchase_status(self, purchase_no: str, card_serial: str = "") -> Purchase:
        """The purchase as the billing system holds it now (3.13), checked to
        be for ``card_serial`` when the caller knows the card (the journal
        does); PURCHASE_NOT_FOUND is a RequestRejected with that code."""
        check_purchase_no(purchase_no)
        path = f"{API}/purchases/{_segment(purchase_no, 'purchase number')}"
        return self._purchase_call("GET", path, purchase_no, None, card_serial=card_serial)

    def unwritten_purchases(self, card_serial: str) -> tuple[Purchase, ...]:
        """Purchases of this card paid and not confirmed written, oldest first,
        whichever terminal took the cash (3.12): offered as rewrite (补写卡)
        before anything else."""
        check_card_serial(card_serial)
        path = f"{API}/cards/{_segment(card_serial, 'card serial')}/unwritten"
        where = f"GET {redact_digit_runs(path)}"

        def finish(reply: _Reply) -> tuple[Purchase, ...]:
            if isinstance(reply.body, dict) and reply.body.get("card_serial") != card_serial:
                raise _off_topic(where, reply, "card_serial", "another card")
            return _parsed(parse_unwritten, reply, where)

        return self._call(where, lambda guard: self._authorised(guard, "GET", path), finish)

    def _purchase_call(self, method: str, path: str, purchase_no: str, body: Any, *,
                       card_serial: str = "", amount_fen: int | None = None) -> Purchase:
        """One call answered with a purchase object, checked to be that purchase."""
        where = f"{method} {redact_digit_runs(path)}"
        headers = None if method == "GET" else {"Idempotency-Key": purchase_no}

        def attempt(guard: _CallGuard) -> _Reply:
            return self._authorised(guard, method, path, body=body, headers=headers)

        def finish(reply: _Reply) -> Purchase:
            purchase = _parsed(lambda obj: parse_purchase(obj, replayed=_replayed(reply)), reply, where)
            if purchase.purchase_no != purchase_no:
                raise _off_topic(where, reply, "purchase_no", "another purchase")
            if card_serial and purchase.card_serial != card_serial:
                raise _off_topic(where, reply, "card_serial", "another card")
            if amount_fen is not None and purchase.amount_fen != amount_fen:
                raise _off_topic(where, reply, "amount_fen", "another amount than the cash taken in")
            return purchase

        return self._call(where, attempt, finish)


def _about_card(answer: Any, card_serial: str, reply: _Reply, where: str) -> Any:
    if answer.card_serial != card_serial:
        raise _off_topic(where, reply, "card_serial", "another card")
    return answer


def _off_topic(where: str, reply: _Reply, field: str, what: str) -> MalformedReply:
    return MalformedReply(f"{where} -> {reply.status}: the reply is about {what}", field=field)
