"""A mobile payment order (扫码支付) as the billing system answers it
(docs/api.md, 3.14 to 3.17): what the kiosk asks for, the order as it is now,
and the codes an order is refused with.

Its own module because an order is money the customer's phone pays to the
billing system (which fronts the payment providers; the kiosk never talks to
one, MISSION.md rule 9), so what comes back must say exactly which order,
which amount and which state, and a paid order must carry the receipt of its
one posting.  Every reply is read field by field
(:class:`contract.json_fields.Fields`) and then for consistency: a status
without what it promises (``paid`` without a receipt, ``declined`` without a
reason), a QR payload on a scanned order, an order that says it can still
change when it cannot -- each is a MalformedReply naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contract.errors import MalformedReply
from contract.json_fields import Fields
from contract.models import UTILITIES
from contract.purchase import PURCHASE_NO

# An order number: chosen by the kiosk and journaled before the order is made,
# unique across terminals (it embeds the terminal id); the Idempotency-Key.
ORDER_NO = PURCHASE_NO
# A payment code (付款码) as the customer's app shows it: digits only.  The
# providers' codes are 16 to 24 digits; the contract leaves room either side.
PAYMENT_CODE = re.compile(r"[0-9]{10,32}")
# One order's amount: 1 fen to 10 000 yuan (the providers' per-payment limit
# for a terminal of this kind; docs/api.md, 3.14 "Limits").
MIN_AMOUNT_FEN = 1
MAX_AMOUNT_FEN = 1_000_000
MAX_QR_PAYLOAD = 512  # characters: a QR code of version 15 or less at level M
_QR_PAYLOAD = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what every phone app reads alike
_REFERENCE = re.compile(r"[A-Za-z0-9*][A-Za-z0-9\-_/.*]*")
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_DIGITS = re.compile(r"[0-9]+")
MIN_POLL_MS = 200
MAX_POLL_MS = 10_000
MAX_EXPIRES_IN_S = 24 * 3600


class PaymentMethod(StrEnum):
    QR_SHOWN = "qr_shown"  # 主扫: the terminal shows a QR code, the customer's phone scans it
    CODE_SCANNED = "code_scanned"  # 被扫: the terminal's scanner reads the customer's payment code


class MobileOrderStatus(StrEnum):
    """Where an order is on the billing system (docs/api.md, 3.14)."""

    CREATED = "created"  # waiting for the customer's phone
    USER_PAYING = "user_paying"  # the customer's app has it: entering a password or confirming
    PAID = "paid"  # the provider confirmed; the billing system posted it (receipt_no)
    EXPIRED = "expired"  # nobody paid before expires_at
    CANCELLED = "cancelled"  # the kiosk closed it (3.16)
    DECLINED = "declined"  # the provider refused (decline_reason)
    REVERSED = "reversed"  # 撤销 (3.17): nothing is charged


# Statuses after which nothing can change at all; expired and cancelled may
# still turn paid while ``final`` is false (a late confirmation stands).
ALWAYS_FINAL = (MobileOrderStatus.PAID, MobileOrderStatus.DECLINED, MobileOrderStatus.REVERSED)
LIVE = (MobileOrderStatus.CREATED, MobileOrderStatus.USER_PAYING)


class Provider(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


class DeclineReason(StrEnum):
    """Why a provider refused, as the billing system passes it on; the kiosk words each."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    CODE_EXPIRED = "code_expired"  # the payment code was refreshed or timed out: show a new one
    PASSWORD_FAILED = "password_failed"
    LIMIT_EXCEEDED = "limit_exceeded"  # the customer's own daily or per-payment limit
    RISK_REFUSED = "risk_refused"  # the provider's risk control
    USER_CANCELLED = "user_cancelled"  # the customer cancelled in the app
    OTHER = "other"


class PostedTo(StrEnum):
    ACCOUNT = "account"  # a payment to the account, as 3.4 books it
    PURCHASE = "purchase"  # the cash of the purchase, as 3.10 books it


class MobileRefusal(StrEnum):
    """The error codes of the mobile order endpoints (docs/api.md, 4); the
    client raises them as RequestRejected with ``code`` set to the value."""

    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"  # no order has this number: create it again under the same number
    PAYMENT_CODE_INVALID = "PAYMENT_CODE_INVALID"  # not a payment code of an accepted provider; nothing sent on
    WRONG_METHOD = "WRONG_METHOD"  # cancel of a code_scanned order, or reverse of a qr_shown one
    PURCHASE_NOT_PAYABLE = "PURCHASE_NOT_PAYABLE"  # the purchase is not ordered, or another order pays it


@dataclass(frozen=True)
class MobileOrderRequest:
    """What the kiosk asks for (3.14), journaled before it is sent.

    ``purchase_no`` is set for a card top-up (the purchase of 3.9, ordered
    first); ``payment_code`` is the code the scanner read, for
    ``code_scanned`` only.  A value outside the contract is the caller's
    mistake: ValueError, nothing sent.
    """

    order_no: str
    terminal_id: str
    utility: str
    account_no: str
    amount_fen: int
    method: PaymentMethod
    created_at: str  # ISO 8601 with offset, the kiosk's clock
    purchase_no: str | None = None
    payment_code: str | None = None

    def __post_init__(self) -> None:
        problem = _request_problem(self)
        if problem:
            raise ValueError(problem)

    def to_body(self) -> dict[str, Any]:
        return {"order_no": self.order_no, "terminal_id": self.terminal_id, "utility": self.utility,
                "account_no": self.account_no, "purchase_no": self.purchase_no, "amount_fen": self.amount_fen,
                "method": self.method.value, "payment_code": self.payment_code, "created_at": self.created_at}

    def __repr__(self) -> str:  # a payment code is a one-time credential: never in a log line
        code = "None" if self.payment_code is None else "'<hidden>'"
        return (f"MobileOrderRequest(order_no={self.order_no!r}, method={self.method.value!r}, "
                f"amount_fen={self.amount_fen!r}, purchase_no={self.purchase_no!r}, payment_code={code})")


@dataclass(frozen=True)
class MobileOrder:
    """One order as the billing system holds it now (3.14 to 3.17)."""

    order_no: str
    status: MobileOrderStatus
    final: bool  # nothing about the order can change any more
    method: PaymentMethod
    terminal_id: str
    utility: str
    account_no: str
    purchase_no: str | None
    amount_fen: int
    created_at: str
    expires_at: str  # qr_shown: the QR's expiry; code_scanned: the deadline after which the kiosk reverses
    expires_in_s: int  # seconds to expires_at when answered, for a countdown on the kiosk's own clock
    poll_interval_ms: int
    qr_payload: str | None = None
    provider: Provider | None = None
    provider_ref_masked: str | None = None
    decline_reason: DeclineReason | None = None
    paid_at: str | None = None
    posted_to: PostedTo | None = None
    receipt_no: str | None = None
    posted_at: str | None = None
    balance_after_fen: int | None = None
    arrears_after_fen: int | None = None
    replayed: bool = False


def parse_mobile_order(obj: Any, *, replayed: bool = False) -> MobileOrder:
    """The mobile order object: every reply of 3.14 to 3.17."""
    f = Fields(obj)
    optional = {name: (lambda name=name, **kw: f.text(name, **kw) if f.has(name) else None)
                for name in ("purchase_no", "qr_payload", "provider", "provider_ref_masked", "decline_reason",
                             "posted_to", "receipt_no")}
    order = MobileOrder(
        order_no=f.text("order_no", pattern=ORDER_NO, expected="an order number (1 to 32 letters, digits, -)"),
        status=MobileOrderStatus(f.text("status", choices=tuple(s.value for s in MobileOrderStatus))),
        final=_boolean(obj, "final"),
        method=PaymentMethod(f.text("method", choices=tuple(m.value for m in PaymentMethod))),
        terminal_id=f.text("terminal_id", pattern=_TERMINAL, expected="a terminal id"),
        utility=f.text("utility", choices=UTILITIES),
        account_no=f.text("account_no", pattern=_DIGITS, expected="digits"),
        purchase_no=optional["purchase_no"](pattern=PURCHASE_NO, expected="a purchase number"),
        amount_fen=f.integer("amount_fen", minimum=MIN_AMOUNT_FEN, maximum=MAX_AMOUNT_FEN),
        created_at=f.time("created_at"),
        expires_at=f.time("expires_at"),
        expires_in_s=f.integer("expires_in_s", minimum=0, maximum=MAX_EXPIRES_IN_S),
        poll_interval_ms=f.integer("poll_interval_ms", minimum=MIN_POLL_MS, maximum=MAX_POLL_MS),
        qr_payload=optional["qr_payload"](max_length=MAX_QR_PAYLOAD, pattern=_QR_PAYLOAD,
                                          expected="visible ASCII"),
        provider=_enum(Provider, optional["provider"](choices=tuple(p.value for p in Provider))),
        provider_ref_masked=_remasked(optional["provider_ref_masked"](
            max_length=64, pattern=_REFERENCE, expected="letters, digits, * and - _ / .")),
        decline_reason=_enum(DeclineReason, optional["decline_reason"](
            choices=tuple(r.value for r in DeclineReason))),
        paid_at=f.time("paid_at") if f.has("paid_at") else None,
        posted_to=_enum(PostedTo, optional["posted_to"](choices=tuple(p.value for p in PostedTo))),
        receipt_no=optional["receipt_no"](max_length=64, pattern=_REFERENCE, expected="letters, digits and - _ / ."),
        posted_at=f.time("posted_at") if f.has("posted_at") else None,
        balance_after_fen=f.integer("balance_after_fen") if f.has("balance_after_fen") else None,
        arrears_after_fen=f.integer("arrears_after_fen", minimum=0) if f.has("arrears_after_fen") else None,
        replayed=replayed,
    )
    _check_order(order)
    return order


def parse_mobile_order_request(obj: Any) -> MobileOrderRequest:
    """A create body (3.14), as the simulator reads it; refuses fields beyond the contract."""
    f = Fields(obj)
    f.only(("order_no", "terminal_id", "utility", "account_no", "purchase_no", "amount_fen", "method",
            "payment_code", "created_at"))
    try:
        return MobileOrderRequest(
            order_no=f.text("order_no"), terminal_id=f.text("terminal_id"),
            utility=f.text("utility", choices=UTILITIES), account_no=f.text("account_no"),
            amount_fen=f.integer("amount_fen"),
            method=PaymentMethod(f.text("method", choices=tuple(m.value for m in PaymentMethod))),
            created_at=f.time("created_at"),
            purchase_no=f.text("purchase_no") if f.has("purchase_no") else None,
            payment_code=f.text("payment_code") if f.has("payment_code") else None,
        )
    except ValueError as problem:
        raise MalformedReply(str(problem)) from None


def mask_reference(reference: str) -> str:
    """A provider's transaction reference for a slip: the first four and last
    four characters, the rest starred; already masked text stays as it is."""
    if "*" in reference:
        return reference
    if len(reference) <= 8:
        return "*" * len(reference)
    return reference[:4] + "*" * (len(reference) - 8) + reference[-4:]


# --- Helpers ------------------------------------------------------------------


def _request_problem(req: MobileOrderRequest) -> str:
    """Why a request cannot be sent, or ""."""
    if not isinstance(req.order_no, str) or not ORDER_NO.fullmatch(req.order_no):
        return f"order_no must be 1 to 32 letters, digits and -, got {req.order_no!r}"
    if not isinstance(req.terminal_id, str) or not _TERMINAL.fullmatch(req.terminal_id):
        return f"terminal_id must be the terminal's id, got {req.terminal_id!r}"
    if req.utility not in UTILITIES:
        return f"utility must be one of {', '.join(UTILITIES)}, got {req.utility!r}"
    if not (isinstance(req.account_no, str) and _DIGITS.fullmatch(req.account_no) and len(req.account_no) <= 32):
        return "account_no must be digits"
    if type(req.amount_fen) is not int or not MIN_AMOUNT_FEN <= req.amount_fen <= MAX_AMOUNT_FEN:
        return f"amount_fen must be an integer from {MIN_AMOUNT_FEN} to {MAX_AMOUNT_FEN}, got {req.amount_fen!r}"
    if not isinstance(req.method, PaymentMethod):
        return f"method must be a PaymentMethod, got {req.method!r}"
    if req.purchase_no is not None and not (isinstance(req.purchase_no, str) and PURCHASE_NO.fullmatch(req.purchase_no)):
        return f"purchase_no must be a purchase number or None, got {req.purchase_no!r}"
    scanned = req.method is PaymentMethod.CODE_SCANNED
    if scanned != (req.payment_code is not None):
        return "payment_code is sent with a code_scanned order, and only with one"
    if scanned and not (isinstance(req.payment_code, str) and PAYMENT_CODE.fullmatch(req.payment_code)):
        return "payment_code must be 10 to 32 digits, as a payment app shows it"
    return ""


def _check_order(order: MobileOrder) -> None:
    """An order must hold what its status promises (docs/api.md, 3.14)."""
    status = order.status.value
    paid = order.status is MobileOrderStatus.PAID
    for name in ("paid_at", "posted_to", "receipt_no", "posted_at", "provider_ref_masked"):
        if (getattr(order, name) is not None) != paid:
            raise _breach(name, f"{'missing' if paid else 'given'} for an order that is {status}")
    if paid and order.provider is None:
        raise _breach("provider", "missing for an order that is paid")
    on_account = order.posted_to is PostedTo.ACCOUNT
    for name in ("balance_after_fen", "arrears_after_fen"):
        if (getattr(order, name) is not None) != on_account:
            raise _breach(name, "given only for a payment posted to the account")
    if order.posted_to is PostedTo.PURCHASE and order.purchase_no is None:
        raise _breach("posted_to", "purchase, for an order that pays no purchase")
    declined = order.status is MobileOrderStatus.DECLINED
    if (order.decline_reason is not None) != declined:
        raise _breach("decline_reason", f"{'missing' if declined else 'given'} for an order that is {status}")
    shown = order.method is PaymentMethod.QR_SHOWN
    if (order.qr_payload is not None) != shown:
        raise _breach("qr_payload", f"{'missing' if shown else 'given'} for a {order.method.value} order")
    if order.status is MobileOrderStatus.REVERSED and shown:
        raise _breach("status", "reversed, for a qr_shown order (only a scanned order is reversed)")
    if order.status in ALWAYS_FINAL and not order.final:
        raise _breach("final", f"false for an order that is {status}, which cannot change")
    if order.status in LIVE and order.final:
        raise _breach("final", f"true for an order that is still {status}")


def _boolean(obj: dict, name: str) -> bool:
    if name not in obj:
        raise _breach(name, "missing")
    if not isinstance(obj[name], bool):
        raise _breach(name, "expected true or false")
    return obj[name]


def _enum(kind: type, value: str | None) -> Any:
    return None if value is None else kind(value)


def _remasked(reference: str | None) -> str | None:
    """The kiosk masks the reference again, whatever the server sent (as it does a name)."""
    return None if reference is None else mask_reference(reference)


def _breach(field: str, what: str) -> MalformedReply:
    return MalformedReply(f"{field}: {what}", field=field)
