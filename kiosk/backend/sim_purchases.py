"""The billing system's prepaid card purchases behind the simulator
(docs/api.md, 3.7 to 3.13): the cards, the purchases and their write tokens.

Its own module because a purchase is more than a payment: it is ordered
before the cash, booked with it, turned into a write token the card can
check (contract/card_token.py, the master key diversified by the card
serial), and only done when a kiosk reads the card back and confirms it.
Each of the three POSTs is idempotent under the purchase number; a purchase
paid and not confirmed is listed for its card, for any terminal to write it
again (补写卡).

It keeps its own state (cards, purchases, the bodies each key was first
used with) but runs under the billing lock (sim_billing.py): a purchase
settles arrears on the account, and one lock serialises both like a
transaction would.  The rules of what a card may buy are in sim_card_rules.py.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import unquote

from contract.card_token import PurseUpdate, WriteToken
from contract.errors import MalformedReply
from contract.purchase import CARD_SERIAL, UNWRITTEN, PurchaseStatus, write_token_body
from contract.purchase import PurchaseRefusal as Refusal
from contract.purchase_requests import (
    CardReading,
    parse_card_reading,
    parse_purchase_order,
    parse_purchase_payment,
    parse_write_confirmation,
)
from kiosk.backend.sim_billing import _settle_bills, now_iso
from kiosk.backend.sim_card_rules import amount_problem, check_card_fits, limits_for, refuse
from kiosk.backend.sim_messages import _error, _json_reply, _refuse, _Refused, _Reply, _Request

if TYPE_CHECKING:
    from kiosk.backend.sim_billing import _Billing

log = logging.getLogger("kiosk.backend.simulator")

_REPLAY = (("Idempotent-Replay", "true"),)
_Route = tuple[str, tuple[str, ...], Callable[..., _Reply]]


class _Purchases:
    """Cards and their purchases, request by request (docs/api.md, 3.7 to 3.13)."""

    def __init__(self, billing: _Billing, cards: Iterable[dict[str, Any]], master_key: bytes) -> None:
        if len(master_key) != 16:
            raise ValueError(f"the card master key is 16 bytes (AES-128), this one is {len(master_key)}")
        self._billing = billing
        self._master_key = master_key
        self.cards: dict[str, dict[str, Any]] = {c["card_serial"]: json.loads(json.dumps(c)) for c in cards}
        self.purchases: dict[str, dict[str, Any]] = {}  # purchase_no -> the purchase object, oldest first
        self._order_bodies: dict[str, Any] = {}  # purchase_no -> the order body first accepted
        self._payment_bodies: dict[str, Any] = {}  # purchase_no -> the payment body first accepted
        self._held: list[str] = []  # paid, the token held back (fault token_never_issued)
        self._hold_issue = False
        self._receipt_seq = 0
        self._routes: list[_Route] = [
            ("GET", ("cards", "*"), self._card),
            ("GET", ("cards", "*", "unwritten"), self._unwritten),
            ("POST", ("cards", "*", "quote"), self._quote),
            ("POST", ("purchases",), self._order),
            ("GET", ("purchases", "*"), self._status),
            ("POST", ("purchases", "*", "payment"), self._pay),
            ("POST", ("purchases", "*", "confirm"), self._confirm),
        ]

    @property
    def lock(self):
        return self._billing.lock

    def handle(self, request: _Request, *, hold_issue: bool = False) -> _Reply:
        """Answer one request; ``hold_issue`` books a payment without issuing its token."""
        route, args = _match(self._routes, request)
        try:
            with self.lock:
                self._hold_issue = hold_issue
                return route(request, *args)
        except _Refused as refused:
            return refused.reply

    def cancel_card(self, card_serial: str) -> None:
        """The card is reported lost or replaced (挂失/补卡): nothing more is done with it."""
        if card_serial not in self.cards:
            raise ValueError(f"no card of the simulator has the serial {card_serial!r}; see seed.DEMO_CARDS")
        self.cards[card_serial]["status"] = "cancelled"

    def issue_held(self) -> int:
        """The key system recovers: every token held back is issued now."""
        held, self._held = self._held, []
        for purchase_no in held:
            self._issue(self.purchases[purchase_no])
        return len(held)

    # --- Routes (each under the lock; a reply, or _Refused) ---------------------

    def _card(self, request: _Request, serial: str) -> _Reply:
        self._billing._terminal(request)
        card = self._active_card(serial, missing_status=404, gone_status=410)
        return _json_reply(200, {
            "card_serial": serial, "utility": card["utility"], "account_no": card["account_no"],
            "meter_no": card["meter_no"], "status": "active", "purchase_count": card["purchase_count"],
            "unwritten_purchases": len(self._unwritten_of(serial)),
        })

    def _unwritten(self, request: _Request, serial: str) -> _Reply:
        self._billing._terminal(request)
        self._active_card(serial, missing_status=404, gone_status=410)
        return _json_reply(200, {"card_serial": serial, "purchases": self._unwritten_of(serial)})

    def _quote(self, request: _Request, serial: str) -> _Reply:
        self._billing._terminal(request)
        reading = _parsed(parse_card_reading, request.json(), serial)
        card = self._active_card(serial, missing_status=422, gone_status=422)
        limits = self._limits(card, reading)
        return _json_reply(200, {"card_serial": serial, "utility": card["utility"],
                                 "account_no": card["account_no"], "limits": limits})

    def _order(self, request: _Request) -> _Reply:
        terminal = self._billing._terminal(request)
        key = _idempotency_key(request)
        body = request.json()
        order = _parsed(parse_purchase_order, body)
        _same_key(key, order.purchase_no)
        if order.terminal_id != terminal:
            raise _refuse(403, "TERMINAL_MISMATCH")
        if key in self.purchases:
            return self._repeated(self._order_bodies, key, body)
        card = self._active_card(order.reading.card_serial, missing_status=422, gone_status=422)
        limits = self._limits(card, order.reading)
        self.purchases[key] = {
            "purchase_no": key, "status": PurchaseStatus.ORDERED.value, "terminal_id": terminal,
            "card_serial": order.reading.card_serial, "utility": card["utility"],
            "account_no": card["account_no"], "purchase_count": card["purchase_count"] + 1,
            "limits": limits, "ordered_at": now_iso(),
            "amount_fen": None, "arrears_paid_fen": None, "credit_fen": None, "receipt_no": None,
            "paid_at": None, "issued_at": None, "written_at": None, "write_token": None,
        }
        self._order_bodies[key] = body
        return _json_reply(201, self.purchases[key])

    def _status(self, request: _Request, purchase_no: str) -> _Reply:
        self._billing._terminal(request)
        return _json_reply(200, self._purchase(purchase_no))

    def _pay(self, request: _Request, purchase_no: str) -> _Reply:
        terminal = self._billing._terminal(request)
        key = _idempotency_key(request)
        body = request.json()
        payment = _parsed(parse_purchase_payment, body)
        _same_key(key, payment.purchase_no, purchase_no)
        purchase = self._purchase(purchase_no)
        if terminal != payment.terminal_id or terminal != purchase["terminal_id"]:
            raise _refuse(403, "TERMINAL_MISMATCH")  # the cash is at the terminal that ordered
        if key in self._payment_bodies:
            return self._repeated(self._payment_bodies, key, body)
        self._billing._check_amount(payment.amount_fen, payment.notes)
        problem = amount_problem(purchase["limits"], payment.amount_fen)
        if problem:
            raise _refuse(422, "AMOUNT_INVALID", problem)
        card = self._active_card(purchase["card_serial"], missing_status=422, gone_status=422)
        account = self._account(card)
        if card["purchase_count"] != purchase["purchase_count"] - 1 or self._unwritten_of(card["card_serial"]):
            raise refuse(409, Refusal.ORDER_STALE, "the card's next purchase is another's")
        self._book(purchase, account, payment.amount_fen)
        self._payment_bodies[key] = body
        if self._hold_issue:
            self._held.append(purchase_no)
            log.info("purchase %s paid; its token is held back (fault token_never_issued)", purchase_no)
        else:
            self._issue(purchase)
        return _json_reply(201, purchase)

    def _confirm(self, request: _Request, purchase_no: str) -> _Reply:
        self._billing._terminal(request)  # any terminal: a card may be written again anywhere
        key = _idempotency_key(request)
        confirmation = _parsed(parse_write_confirmation, request.json())
        _same_key(key, confirmation.purchase_no, purchase_no)
        purchase = self._purchase(purchase_no)
        if purchase["write_token"] is None:
            raise refuse(409, Refusal.NOT_ISSUED, f"the purchase is {purchase['status']}")
        if confirmation.card_serial != purchase["card_serial"]:
            raise refuse(409, Refusal.CARD_MISMATCH, "this purchase is for another card")
        token = purchase["write_token"]
        if (confirmation.purchase_count, confirmation.credit_fen) != (token["purchase_count"], token["credit_fen"]):
            raise refuse(409, Refusal.WRITE_MISMATCH, "the card read back shows another count or credit")
        if purchase["status"] == PurchaseStatus.WRITTEN:
            return _json_reply(200, purchase, headers=_REPLAY)
        purchase.update(status=PurchaseStatus.WRITTEN.value, written_at=now_iso())
        return _json_reply(200, purchase)

    # --- Helpers ----------------------------------------------------------------

    def _repeated(self, first_bodies: dict[str, Any], key: str, body: Any) -> _Reply:
        """A key used again: the purchase as it is now, or 409 for another body (docs/api.md, 5)."""
        if first_bodies.get(key) != body:
            raise _refuse(409, "IDEMPOTENCY_CONFLICT", key)
        return _json_reply(200, self.purchases[key], headers=_REPLAY)

    def _active_card(self, serial: str, *, missing_status: int, gone_status: int) -> dict[str, Any]:
        if not CARD_SERIAL.fullmatch(serial):
            raise _refuse(400, "VALIDATION_FAILED", "card_serial must be 16 hexadecimal digits, upper case")
        card = self.cards.get(serial)
        if card is None:
            raise refuse(missing_status, Refusal.CARD_NOT_FOUND)
        if card["status"] != "active":
            raise refuse(gone_status, Refusal.CARD_CANCELLED)
        account = self._account(card)
        if account["status"] == "closed":
            raise _refuse(gone_status, "ACCOUNT_CLOSED")
        return card

    def _account(self, card: dict[str, Any]) -> dict[str, Any]:
        return self._billing._find_account(card["utility"], card["account_no"], missing_status=422)

    def _limits(self, card: dict[str, Any], reading: CardReading) -> dict[str, Any]:
        check_card_fits(card, reading, len(self._unwritten_of(card["card_serial"])))
        return limits_for(card, self._account(card), reading)

    def _purchase(self, purchase_no: str) -> dict[str, Any]:
        purchase = self.purchases.get(purchase_no)
        if purchase is None:
            raise refuse(404, Refusal.PURCHASE_NOT_FOUND)
        return purchase

    def _unwritten_of(self, serial: str) -> list[dict[str, Any]]:
        return [p for p in self.purchases.values() if p["card_serial"] == serial and p["status"] in UNWRITTEN]

    def _book(self, purchase: dict[str, Any], account: dict[str, Any], amount_fen: int) -> None:
        """Book the cash: the arrears promised in the order first (where the
        utility takes them first), the rest is the card's credit."""
        limits = purchase["limits"]
        to_arrears = limits["arrears_fen"] if limits["arrears_first"] else 0
        settled = min(to_arrears, account["arrears_fen"])
        account["arrears_fen"] -= settled
        # Arrears paid elsewhere since the order: their share is the account's balance (预存).
        account["balance_fen"] += to_arrears - settled
        _settle_bills(account)
        self._receipt_seq += 1
        paid_at = now_iso()
        purchase.update(status=PurchaseStatus.PAID.value, amount_fen=amount_fen, arrears_paid_fen=to_arrears,
                        credit_fen=amount_fen - to_arrears, paid_at=paid_at,
                        receipt_no=f"P{paid_at[:10].replace('-', '')}-{self._receipt_seq:06d}")

    def _issue(self, purchase: dict[str, Any]) -> None:
        """Make the write token: the purse as it will be, MAC'd with the card's own key."""
        update = PurseUpdate(purchase["card_serial"], purchase["purchase_no"],
                             purchase["credit_fen"], purchase["purchase_count"])
        token = WriteToken.issue(self._master_key, update)
        purchase.update(status=PurchaseStatus.ISSUED.value, issued_at=now_iso(), write_token=write_token_body(token))
        self.cards[purchase["card_serial"]]["purchase_count"] = purchase["purchase_count"]


def _match(routes: list[_Route], request: _Request) -> tuple[Callable[..., _Reply], tuple[str, ...]]:
    """The route for a request under /api/v1/, with its ``*`` parts; 404 or 405 otherwise."""
    parts = tuple(unquote(p) for p in request.path[len("/api/v1/"):].split("/"))
    allowed = False
    for method, pattern, route in routes:
        if len(parts) != len(pattern) or any(want not in ("*", got) for want, got in zip(pattern, parts)):
            continue
        if method == request.method:
            return route, tuple(got for want, got in zip(pattern, parts) if want == "*")
        allowed = True
    if allowed:
        return (lambda r: _error(405, "METHOD_NOT_ALLOWED", r.method)), ()
    return (lambda r: _error(404, "NOT_FOUND", f"{r.method} {r.path}")), ()


def _idempotency_key(request: _Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise _refuse(400, "IDEMPOTENCY_KEY_REQUIRED")
    return key


def _same_key(key: str, *numbers: str) -> None:
    if any(number != key for number in numbers):
        raise _refuse(400, "VALIDATION_FAILED", "Idempotency-Key, the path and purchase_no must be one purchase number")


def _parsed(parse: Callable[..., Any], *args: Any) -> Any:
    try:
        return parse(*args)
    except MalformedReply as problem:
        raise _refuse(400, "VALIDATION_FAILED", problem.detail) from None
