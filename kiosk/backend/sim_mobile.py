"""The billing system's mobile payment orders behind the simulator
(docs/api.md, 3.14 to 3.17), with the customer's phone and the payment
providers played by the simulator itself.

Its own module because an order lives on two clocks the rest of the
billing system does not have: it expires, a password takes its time, and a
provider's confirmation may arrive after the kiosk gave up -- which still
posts the payment, once.  Time is a :class:`_Clock` the tests move on, and
every order is brought up to date (:meth:`_Mobile._refresh`) whenever it is
read, so nothing runs in the background.

It runs under the billing lock (sim_billing.py): a paid order posts to an
account, or pays a card purchase (sim_purchases.py), and one lock serialises
all of it like a transaction would.
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote

from contract.errors import MalformedReply
from contract.mobile import LIVE, DeclineReason, MobileOrderRequest
from contract.mobile import MobileOrderStatus as Status
from contract.mobile import MobileRefusal as Refusal
from contract.mobile import PaymentMethod, PostedTo, parse_mobile_order_request
from contract.purchase import PurchaseStatus
from kiosk.backend.sim_billing import _settle_bills, now_iso
from kiosk.backend.sim_messages import _error, _json_reply, _refuse, _Refused, _Reply, _Request

if TYPE_CHECKING:
    from kiosk.backend.sim_billing import _Billing
    from kiosk.backend.sim_purchases import _Purchases

log = logging.getLogger("kiosk.backend.simulator")

_REPLAY = (("Idempotent-Replay", "true"),)
# A payment code's first two digits name its provider, as the real codes' do.
_CODE_PREFIXES = {**{str(p): "wechat" for p in range(10, 16)}, **{str(p): "alipay" for p in range(25, 31)},
                  "62": "unionpay"}
# What a scanned code does in the simulator, by its last digit (docs/api.md, 6),
# unless ``scanned_outcome`` says otherwise for every code.
SCANNED_OUTCOMES = ("paid", "password", "declined", "hold")
_OUTCOME_BY_LAST_DIGIT = {"7": "password", "8": "declined", "9": "hold"}

# code -> (message_zh, message_en); none is retryable (docs/api.md, "Error codes").
MOBILE_ERROR_TEXTS: dict[str, tuple[str, str]] = {
    Refusal.ORDER_NOT_FOUND: ("未找到该笔扫码支付订单", "No mobile payment order has this number"),
    Refusal.PAYMENT_CODE_INVALID: ("付款码无效，请刷新付款码后重试", "This is not a payment code of an accepted app"),
    Refusal.WRONG_METHOD: ("该订单不支持此操作", "This operation does not fit the order's payment method"),
    Refusal.PURCHASE_NOT_PAYABLE: ("该笔购买当前不能支付", "This purchase cannot be paid now"),
}


class _Clock:
    """The payment providers' clock: monotonic time the tests can move on."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


class _Mobile:
    """Mobile payment orders, request by request, and the phone that pays them."""

    def __init__(self, billing: _Billing, purchases: _Purchases) -> None:
        self._billing = billing
        self._purchases = purchases
        self.clock = _Clock()
        # Settings a test or the demo panel may change (docs/api.md, 6).
        self.qr_ttl_s = 120.0
        self.scanned_deadline_s = 60.0
        self.late_window_s = 300.0
        self.password_s = 3.0
        self.poll_interval_ms = 1000
        self.scanned_outcome: str | None = None
        self.orders: dict[str, dict[str, Any]] = {}  # order_no -> the order object, oldest first
        self._meta: dict[str, dict[str, Any]] = {}  # order_no -> body, clock times, hold
        self._receipt_seq = 0
        self._routes: list[tuple[str, tuple[str, ...], Callable[..., _Reply]]] = [
            ("POST", ("mobile-orders",), self._create),
            ("GET", ("mobile-orders", "*"), self._status),
            ("POST", ("mobile-orders", "*", "cancel"), self._cancel),
            ("POST", ("mobile-orders", "*", "reverse"), self._reverse),
        ]

    def handle(self, request: _Request) -> _Reply:
        route, args = self._route(request)
        try:
            with self._billing.lock:
                return route(request, *args)
        except _Refused as refused:
            return refused.reply

    # --- The phone and the providers (BackendSimulator's phone API) ------------

    def hold(self, order_no: str, provider: str = "wechat") -> None:
        """The customer's app has the order and waits for a password: user_paying until told."""
        order = self._live(order_no)
        order.update(status=Status.USER_PAYING.value, provider=order["provider"] or provider)
        self._meta[order_no]["held"] = True

    def pay(self, order_no: str, provider: str = "wechat", *, late: bool = False) -> None:
        """The provider confirms the payment; ``late``: after the order expired or was cancelled."""
        order = self._order(order_no)
        self._refresh(order)
        closed = order["status"] in (Status.EXPIRED, Status.CANCELLED) and not order["final"]
        if not (closed if late else order["status"] in LIVE):
            what = "an expired or cancelled order still open" if late else "an order waiting for the phone"
            raise ValueError(f"order {order_no} is {order['status']}: {'pay_late' if late else 'pay'} is for {what}")
        self._confirm(order, order["provider"] or provider)

    def decline(self, order_no: str, reason: str = DeclineReason.INSUFFICIENT_FUNDS.value,
                provider: str = "wechat") -> None:
        """The provider refuses the payment, for ``reason`` (a DeclineReason value)."""
        order = self._live(order_no)
        self._finish(order, Status.DECLINED, decline_reason=DeclineReason(reason).value,
                     provider=order["provider"] or provider)

    def listed(self) -> list[dict[str, Any]]:
        for order in self.orders.values():
            self._refresh(order)
        return [json.loads(json.dumps(o)) for o in self.orders.values()]

    # --- Routes (each under the lock; a reply, or _Refused) ---------------------

    def _create(self, request: _Request) -> _Reply:
        terminal = self._billing._terminal(request)
        key = _key(request)
        body = request.json()
        try:
            req = parse_mobile_order_request(body)
        except MalformedReply as problem:
            raise _refuse(400, "VALIDATION_FAILED", problem.detail) from None
        if req.order_no != key:
            raise _refuse(400, "VALIDATION_FAILED", "Idempotency-Key must equal order_no")
        if req.terminal_id != terminal:
            raise _refuse(403, "TERMINAL_MISMATCH")
        if key in self.orders:
            if self._meta[key]["body"] != body:
                raise _refuse(409, "IDEMPOTENCY_CONFLICT", key)
            return self._answer(200, key, headers=_REPLAY)
        account = self._billing._find_account(req.utility, req.account_no, missing_status=422)
        if account["status"] == "closed":
            raise _refuse(422, "ACCOUNT_CLOSED")
        if req.purchase_no is not None:
            self._check_purchase(req, terminal)
        provider = _provider(req.payment_code) if req.payment_code else None
        self._store(req, body, provider)
        if req.method is PaymentMethod.CODE_SCANNED:
            self._scanned(self.orders[key], _outcome(req.payment_code or "", self.scanned_outcome))
        return self._answer(201, key)

    def _status(self, request: _Request, order_no: str) -> _Reply:
        self._billing._terminal(request)  # any terminal: recovery may run on a replacement
        return self._answer(200, order_no)

    def _cancel(self, request: _Request, order_no: str) -> _Reply:
        order = self._own(request, order_no, PaymentMethod.QR_SHOWN)
        if order["status"] in LIVE:
            self._close(order, Status.CANCELLED)
        return self._answer(200, order_no)  # the order as it is now: paid stands

    def _reverse(self, request: _Request, order_no: str) -> _Reply:
        order = self._own(request, order_no, PaymentMethod.CODE_SCANNED)
        if order["status"] in LIVE:
            self._finish(order, Status.REVERSED)
        return self._answer(200, order_no)

    # --- Helpers ----------------------------------------------------------------

    def _store(self, req: MobileOrderRequest, body: Any, provider: str | None) -> None:
        shown = req.method is PaymentMethod.QR_SHOWN
        ttl = self.qr_ttl_s if shown else self.scanned_deadline_s
        created = datetime.fromisoformat(now_iso())
        self.orders[req.order_no] = {
            "order_no": req.order_no, "status": Status.CREATED.value, "final": False, "method": req.method.value,
            "terminal_id": req.terminal_id, "utility": req.utility, "account_no": req.account_no,
            "purchase_no": req.purchase_no, "amount_fen": req.amount_fen, "created_at": created.isoformat(),
            "expires_at": (created + timedelta(seconds=ttl)).isoformat(), "expires_in_s": math.ceil(ttl),
            "poll_interval_ms": self.poll_interval_ms,
            "qr_payload": f"https://pay.billing.example/q/{req.order_no}" if shown else None,
            "provider": provider, "provider_ref_masked": None, "decline_reason": None, "paid_at": None,
            "posted_to": None, "receipt_no": None, "posted_at": None,
            "balance_after_fen": None, "arrears_after_fen": None,
        }
        self._meta[req.order_no] = {"body": body, "expiry": self.clock.now() + ttl, "late_until": None,
                                    "password_at": None, "held": False}

    def _scanned(self, order: dict[str, Any], outcome: str) -> None:
        """A scanned code goes to its provider at once: paid, a password first, declined, or held."""
        if outcome == "paid":
            self._confirm(order, order["provider"])
        elif outcome == "declined":
            self._finish(order, Status.DECLINED, decline_reason=DeclineReason.INSUFFICIENT_FUNDS.value)
        else:
            order["status"] = Status.USER_PAYING.value
            meta = self._meta[order["order_no"]]
            meta["held"] = outcome == "hold"
            meta["password_at"] = self.clock.now() + self.password_s

    def _refresh(self, order: dict[str, Any]) -> None:
        """Bring an order to what the clock says: a password entered, a QR expired, a late window closed."""
        meta, now = self._meta[order["order_no"]], self.clock.now()
        status = order["status"]
        if status == Status.USER_PAYING and meta["password_at"] is not None and not meta["held"] \
                and now >= meta["password_at"]:
            self._confirm(order, order["provider"])
        elif status in LIVE and order["method"] == PaymentMethod.QR_SHOWN and now >= meta["expiry"]:
            self._close(order, Status.EXPIRED, at=meta["expiry"])  # read late, expired on time
        if order["status"] in (Status.EXPIRED, Status.CANCELLED) and now >= meta["late_until"]:
            order["final"] = True
        order["expires_in_s"] = max(0, math.ceil(meta["expiry"] - now))

    def _close(self, order: dict[str, Any], status: Status, at: float | None = None) -> None:
        """Expired or cancelled (at ``at``, or now): open to a late confirmation for late_window_s."""
        order["status"] = status.value
        closed_at = self.clock.now() if at is None else at
        self._meta[order["order_no"]]["late_until"] = closed_at + self.late_window_s

    def _finish(self, order: dict[str, Any], status: Status, **fields: Any) -> None:
        order.update(status=status.value, final=True, **fields)

    def _confirm(self, order: dict[str, Any], provider: str) -> None:
        """The provider confirmed: the billing system posts the payment, exactly once."""
        if order["status"] == Status.PAID:
            return
        self._receipt_seq += 1
        paid_at = now_iso()
        reference = f"4200{paid_at[:10].replace('-', '')}{self._receipt_seq:08d}"
        order.update(status=Status.PAID.value, final=True, provider=provider, paid_at=paid_at, posted_at=paid_at,
                     provider_ref_masked=reference[:4] + "*" * (len(reference) - 8) + reference[-4:])
        if not self._post_to_purchase(order):
            self._post_to_account(order)
        log.info("mobile order %s paid by %s, posted to %s as %s", order["order_no"], provider,
                 order["posted_to"], order["receipt_no"])

    def _post_to_purchase(self, order: dict[str, Any]) -> bool:
        """Pay the order's card purchase as 3.10 would, if it can still take the money."""
        purchase = self._purchases.purchases.get(order["purchase_no"] or "")
        if purchase is None or purchase["status"] != PurchaseStatus.ORDERED:
            return False  # another payment came first: the money goes to the account's balance
        card = self._purchases.cards[purchase["card_serial"]]
        if card["status"] != "active" or card["purchase_count"] != purchase["purchase_count"] - 1:
            return False
        account = self._purchases._account(card)
        self._purchases._book(purchase, account, order["amount_fen"])
        self._purchases._payment_bodies[purchase["purchase_no"]] = {"mobile_order": order["order_no"]}
        self._purchases._issue(purchase)
        order.update(posted_to=PostedTo.PURCHASE.value, receipt_no=purchase["receipt_no"])
        return True

    def _post_to_account(self, order: dict[str, Any]) -> None:
        """Post to the account as 3.4 does: arrears first, the rest to the balance (预存)."""
        account = self._billing._find_account(order["utility"], order["account_no"], missing_status=422)
        to_arrears = min(order["amount_fen"], account["arrears_fen"])
        account["arrears_fen"] -= to_arrears
        account["balance_fen"] += order["amount_fen"] - to_arrears
        _settle_bills(account)
        receipt = f"M{order['paid_at'][:10].replace('-', '')}-{self._receipt_seq:06d}"
        order.update(posted_to=PostedTo.ACCOUNT.value, receipt_no=receipt,
                     balance_after_fen=account["balance_fen"], arrears_after_fen=account["arrears_fen"])
        self._billing.postings.append({
            "transaction_no": order["order_no"], "terminal_id": order["terminal_id"], "utility": order["utility"],
            "account_no": order["account_no"], "amount_fen": order["amount_fen"], "receipt_no": receipt,
            "posted_at": order["posted_at"], "method": "mobile",
        })

    def _check_purchase(self, req: MobileOrderRequest, terminal: str) -> None:
        purchase = self._purchases.purchases.get(req.purchase_no or "")
        if purchase is None or purchase["status"] != PurchaseStatus.ORDERED or purchase["terminal_id"] != terminal \
                or (purchase["utility"], purchase["account_no"]) != (req.utility, req.account_no):
            raise _mobile_refusal(409, Refusal.PURCHASE_NOT_PAYABLE, "not an ordered purchase of this account")
        for order in self.orders.values():
            self._refresh(order)
            if order["purchase_no"] == req.purchase_no and not order["final"]:
                raise _mobile_refusal(409, Refusal.PURCHASE_NOT_PAYABLE, "another order may still pay it")
        limits = purchase["limits"]
        if not (limits["min_amount_fen"] <= req.amount_fen <= limits["max_amount_fen"]):
            raise _refuse(422, "AMOUNT_INVALID", "outside the purchase's min_amount_fen..max_amount_fen")

    def _own(self, request: _Request, order_no: str, method: PaymentMethod) -> dict[str, Any]:
        """The order a cancel or reverse is for: this terminal's, of the method the operation fits."""
        terminal = self._billing._terminal(request)
        if _key(request) != order_no:
            raise _refuse(400, "VALIDATION_FAILED", "Idempotency-Key must equal the order number in the path")
        order = self._order(order_no)
        if order["terminal_id"] != terminal:
            raise _refuse(403, "TERMINAL_MISMATCH")
        if order["method"] != method:
            raise _mobile_refusal(409, Refusal.WRONG_METHOD, f"the order is {order['method']}")
        self._refresh(order)
        return order

    def _live(self, order_no: str) -> dict[str, Any]:
        order = self._order(order_no)
        self._refresh(order)
        if order["status"] not in LIVE:
            raise ValueError(f"order {order_no} is {order['status']}, not waiting for the phone")
        return order

    def _order(self, order_no: str) -> dict[str, Any]:
        order = self.orders.get(order_no)
        if order is None:
            raise _mobile_refusal(404, Refusal.ORDER_NOT_FOUND)
        return order

    def _answer(self, status: int, order_no: str, headers: tuple[tuple[str, str], ...] = ()) -> _Reply:
        order = self._order(order_no)
        self._refresh(order)
        return _json_reply(status, order, headers=headers)

    def _route(self, request: _Request) -> tuple[Callable[..., _Reply], tuple[str, ...]]:
        parts = tuple(unquote(p) for p in request.path[len("/api/v1/"):].split("/"))
        allowed = False
        for method, pattern, route in self._routes:
            if len(parts) == len(pattern) and all(want in ("*", got) for want, got in zip(pattern, parts)):
                if method == request.method:
                    return route, tuple(got for want, got in zip(pattern, parts) if want == "*")
                allowed = True
        code = "METHOD_NOT_ALLOWED" if allowed else "NOT_FOUND"
        return (lambda r: _error(405 if allowed else 404, code, f"{r.method} {r.path}")), ()


def _key(request: _Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise _refuse(400, "IDEMPOTENCY_KEY_REQUIRED")
    return key


def _provider(code: str) -> str:
    provider = _CODE_PREFIXES.get(code[:2])
    if provider is None:
        raise _mobile_refusal(422, Refusal.PAYMENT_CODE_INVALID, "no accepted provider issues codes like it")
    return provider


def _outcome(code: str, setting: str | None) -> str:
    if setting is not None:
        return setting
    return _OUTCOME_BY_LAST_DIGIT.get(code[-1:], "paid")


def _mobile_refusal(status: int, code: str, explanation: str = "") -> _Refused:
    message_zh, message_en = MOBILE_ERROR_TEXTS[code]
    if explanation:
        message_en = f"{message_en}: {explanation}"
    return _Refused(_json_reply(status, {"error": {"code": str(code), "message_zh": message_zh,
                                                   "message_en": message_en, "retryable": False}}))

