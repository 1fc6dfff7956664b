"""Mobile payment orders (docs/api.md, 3.14 to 3.17): the real client against
the real simulator on loopback, its phone paying, holding, declining and
paying late -- and, against a hostile server, replies that lie are refused
naming the field.  The money rule under test: a payment the provider
confirms is posted by the billing system exactly once, whenever it comes."""

from __future__ import annotations

import copy
import logging

import pytest

from backend.conftest import TERMINAL_ID
from backend.hostile_server import reply_json
from contract.errors import MalformedReply, RequestRejected
from contract.mobile import MobileOrderRequest, MobileOrderStatus, PaymentMethod, PostedTo
from contract.purchase_requests import CardReading, PurchaseOrder
from kiosk.backend.seed import DEMO_ACCOUNTS, DEMO_CARDS

UTILITY, ACCOUNT = DEMO_ACCOUNTS["electricity_arrears"]
ARREARS_FEN = 23758  # at least what the seed account owes (its bills follow the calendar)
NO = "T0001-M20261123-0001"
ORDER_PATH = f"/api/v1/mobile-orders/{NO}"
WECHAT_CODE = "134567890123456780"  # WeChat (13…), last digit 0: paid at once


def _order(no: str = NO, *, amount_fen: int = ARREARS_FEN, code: str | None = None, **fields) -> MobileOrderRequest:
    method = PaymentMethod.CODE_SCANNED if code else PaymentMethod.QR_SHOWN
    values = {"utility": UTILITY, "account_no": ACCOUNT, "created_at": "2026-11-23T10:15:00+08:00", **fields}
    return MobileOrderRequest(no, TERMINAL_ID, amount_fen=amount_fen, method=method, payment_code=code, **values)


def _posted(sim, order_no: str = NO) -> list[dict]:
    return [p for p in sim.postings if p["transaction_no"] == order_no]


def _arrears(client) -> int:
    return client.lookup_account(UTILITY, ACCOUNT).arrears_fen


# --- 主扫: the terminal shows the QR code ------------------------------------


def test_a_shown_qr_order_waits_with_its_payload_expiry_and_poll_interval(sim, client):
    order = client.create_mobile_order(_order())
    assert order.status is MobileOrderStatus.CREATED and not order.final
    assert order.qr_payload and order.qr_payload.isascii()
    assert order.expires_in_s == 120 and order.poll_interval_ms == 1000
    assert order.receipt_no is None and _posted(sim) == []


def test_the_phone_paying_posts_the_order_once_with_its_receipt(sim, client):
    client.create_mobile_order(_order())
    sim.pay(NO, provider="alipay")
    order = client.mobile_order_status(NO)
    assert order.status is MobileOrderStatus.PAID and order.final
    assert order.provider.value == "alipay" and order.posted_to is PostedTo.ACCOUNT
    assert order.provider_ref_masked.count("*") > 0
    assert order.arrears_after_fen == 0 and _arrears(client) == 0
    client.mobile_order_status(NO)
    assert [p["receipt_no"] for p in _posted(sim)] == [order.receipt_no]


def test_a_repeated_create_answers_the_same_order_and_another_body_is_a_conflict(sim, client):
    first = client.create_mobile_order(_order())
    again = client.create_mobile_order(_order())
    assert again.replayed and (again.order_no, again.qr_payload) == (first.order_no, first.qr_payload)
    assert len(sim.mobile_orders) == 1
    with pytest.raises(RequestRejected) as caught:
        client.create_mobile_order(_order(amount_fen=100))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"


def test_an_order_held_in_user_paying_is_paid_when_the_phone_confirms(sim, client):
    client.create_mobile_order(_order())
    sim.hold(NO, provider="unionpay")
    assert client.mobile_order_status(NO).status is MobileOrderStatus.USER_PAYING
    sim.pay(NO)
    assert client.mobile_order_status(NO).provider.value == "unionpay"
    assert len(_posted(sim)) == 1


def test_an_expired_order_paid_late_stands_and_posts_once_until_the_late_window_closes(sim, client):
    client.create_mobile_order(_order())
    sim.mobile.clock.advance(121)
    expired = client.mobile_order_status(NO)
    assert expired.status is MobileOrderStatus.EXPIRED and not expired.final and expired.expires_in_s == 0
    with pytest.raises(ValueError):
        sim.pay(NO)  # the phone cannot pay an expired QR; only a confirmation already under way can
    sim.pay_late(NO)
    assert client.mobile_order_status(NO).status is MobileOrderStatus.PAID
    assert len(_posted(sim)) == 1


def test_an_expired_order_becomes_final_after_the_late_window_and_never_posts(sim, client):
    owed = _arrears(client)
    client.create_mobile_order(_order())
    sim.mobile.clock.advance(121 + 300)
    assert client.mobile_order_status(NO).final
    with pytest.raises(ValueError):
        sim.pay_late(NO)
    assert _posted(sim) == [] and _arrears(client) == owed


def test_a_payment_confirmed_after_cancel_stands_and_posts_once(sim, client):
    client.create_mobile_order(_order())
    cancelled = client.cancel_mobile_order(NO)
    assert cancelled.status is MobileOrderStatus.CANCELLED and not cancelled.final
    sim.pay_late(NO)
    assert client.cancel_mobile_order(NO).status is MobileOrderStatus.PAID  # a second cancel changes nothing
    assert len(_posted(sim)) == 1 and _arrears(client) == 0


def test_a_declined_order_says_why_and_posts_nothing(sim, client):
    client.create_mobile_order(_order())
    sim.decline(NO, "insufficient_funds")
    order = client.mobile_order_status(NO)
    assert order.status is MobileOrderStatus.DECLINED and order.final
    assert order.decline_reason.value == "insufficient_funds"
    assert _posted(sim) == []


# --- 被扫: the terminal's scanner reads the customer's payment code ----------


def test_a_scanned_code_is_paid_at_once_and_its_provider_named(sim, client):
    order = client.create_mobile_order(_order(code=WECHAT_CODE))
    assert order.status is MobileOrderStatus.PAID and order.provider.value == "wechat"
    assert order.qr_payload is None and len(_posted(sim)) == 1


def test_a_scanned_code_that_needs_a_password_is_user_paying_then_paid(sim, client):
    assert client.create_mobile_order(_order(code="280000000000000007")).status is MobileOrderStatus.USER_PAYING
    sim.mobile.clock.advance(3)
    order = client.mobile_order_status(NO)
    assert (order.status, order.provider.value) == (MobileOrderStatus.PAID, "alipay")


def test_a_scanned_code_declined_by_its_provider(sim, client):
    order = client.create_mobile_order(_order(code="620000000000000008"))
    assert order.status is MobileOrderStatus.DECLINED and order.provider.value == "unionpay"


def test_a_scanned_order_unknown_past_its_deadline_is_reversed_and_never_posts(sim, client):
    client.create_mobile_order(_order(code="100000000000000009"))
    sim.mobile.clock.advance(61)
    assert client.mobile_order_status(NO).status is MobileOrderStatus.USER_PAYING
    reversed_order = client.reverse_mobile_order(NO)
    assert reversed_order.status is MobileOrderStatus.REVERSED and reversed_order.final
    with pytest.raises(ValueError):
        sim.pay_late(NO)
    assert _posted(sim) == []


def test_reversing_an_order_the_provider_already_paid_answers_paid(sim, client):
    client.create_mobile_order(_order(code=WECHAT_CODE))
    assert client.reverse_mobile_order(NO).status is MobileOrderStatus.PAID
    assert len(_posted(sim)) == 1


def test_the_setting_decides_every_scanned_code(sim, client):
    sim.set_scanned_outcome("declined")
    assert client.create_mobile_order(_order(code=WECHAT_CODE)).status is MobileOrderStatus.DECLINED


def test_a_code_of_no_accepted_provider_is_refused_and_makes_no_order(sim, client):
    with pytest.raises(RequestRejected) as caught:
        client.create_mobile_order(_order(code="990000000000000000"))
    assert caught.value.code == "PAYMENT_CODE_INVALID" and sim.mobile_orders == []


def test_a_code_that_is_not_digits_is_never_sent(sim, client):
    with pytest.raises(ValueError):
        _order(code="https://example.com/x")
    assert sim.request_log == []


def test_cancel_is_for_a_shown_qr_and_reverse_for_a_scanned_code(sim, client):
    client.create_mobile_order(_order(code="100000000000000009"))
    with pytest.raises(RequestRejected) as caught:
        client.cancel_mobile_order(NO)
    assert caught.value.code == "WRONG_METHOD"


def test_the_payment_code_stays_out_of_the_log(sim, client, caplog):
    with caplog.at_level(logging.DEBUG, logger="kiosk"):
        client.create_mobile_order(_order(code=WECHAT_CODE))
    assert WECHAT_CODE not in caplog.text and WECHAT_CODE not in repr(_order(code=WECHAT_CODE))


# --- Card top-up: an order pays a purchase ----------------------------------


def test_an_order_for_a_card_purchase_pays_the_purchase_and_not_the_account(sim, client):
    serial = DEMO_CARDS["electricity_card"]
    owed = _arrears(client)
    purchase_no = "T0001-P20261123-0001"
    client.order_purchase(PurchaseOrder(purchase_no, TERMINAL_ID, CardReading(serial, UTILITY, ACCOUNT, 3, 5000)))
    order = client.create_mobile_order(_order(amount_fen=10000, purchase_no=purchase_no))
    sim.pay(order.order_no)
    paid = client.mobile_order_status(NO)
    purchase = client.purchase_status(purchase_no, card_serial=serial)
    assert paid.posted_to is PostedTo.PURCHASE and paid.receipt_no == purchase.receipt_no
    assert purchase.status.value == "issued" and purchase.amount_fen == 10000
    assert _posted(sim) == [] and _arrears(client) == owed


# --- Faults as for payments ---------------------------------------------------


def test_a_create_whose_answer_is_lost_is_retried_into_the_same_order(sim, client):
    sim.inject("drop_after_commit", count=1, path_prefix="/api/v1/mobile-orders")
    assert client.create_mobile_order(_order(code=WECHAT_CODE)).replayed
    assert len(sim.mobile_orders) == 1 and len(_posted(sim)) == 1


def test_a_server_error_on_the_status_is_retried(sim, client):
    client.create_mobile_order(_order())
    sim.inject("http_500", count=1, path_prefix=ORDER_PATH)
    assert client.mobile_order_status(NO).status is MobileOrderStatus.CREATED


@pytest.mark.parametrize("kind", ["malformed_json", "booked_then_malformed", "booked_then_huge_numbers"])
def test_a_broken_answer_after_payment_is_refused_and_the_status_tells_the_truth(sim, client, kind):
    client.create_mobile_order(_order())
    sim.pay(NO)
    sim.inject(kind, count=1, path_prefix=ORDER_PATH)
    with pytest.raises(MalformedReply):
        client.mobile_order_status(NO)
    assert client.mobile_order_status(NO).status is MobileOrderStatus.PAID and len(_posted(sim)) == 1


# --- Replies that lie (tests/backend/hostile_server.py) ------------------------


@pytest.fixture
def paid_body(sim, client) -> dict:
    """A real paid order, as the simulator answers it."""
    client.create_mobile_order(_order())
    sim.pay(NO)
    return next(o for o in sim.mobile_orders if o["order_no"] == NO)


BROKEN_ORDERS = {
    "paid without a receipt": ({"receipt_no": None}, "receipt_no"),
    "paid but not final": ({"final": False}, "final"),
    "paid without a provider": ({"provider": None}, "provider"),
    "a provider outside the list": ({"provider": "paypal"}, "provider"),
    "a status outside the list": ({"status": "refunded"}, "status"),
    "declined without a reason": ({"status": "declined", **dict.fromkeys(
        ("paid_at", "posted_to", "receipt_no", "posted_at", "provider_ref_masked", "balance_after_fen",
         "arrears_after_fen"))}, "decline_reason"),
    "a shown QR without a payload": ({"qr_payload": None}, "qr_payload"),
    "a payload with a line break": ({"qr_payload": "https://pay/\nx"}, "qr_payload"),
    "an amount of 2**64 fen": ({"amount_fen": 2**64}, "amount_fen"),
    "a poll interval of 1 ms": ({"poll_interval_ms": 1}, "poll_interval_ms"),
    "an expiry without offset": ({"expires_at": "2026-11-23T10:17:00"}, "expires_at"),
    "final as a string": ({"final": "yes"}, "final"),
    "posted to the account without the balance": ({"balance_after_fen": None}, "balance_after_fen"),
}


@pytest.mark.parametrize("case", BROKEN_ORDERS, ids=list(BROKEN_ORDERS))
def test_a_broken_order_is_a_malformed_reply_naming_its_field(paid_body, hostile, make_hostile_client, case):
    changes, field = BROKEN_ORDERS[case]
    hostile.on(ORDER_PATH, reply_json({**copy.deepcopy(paid_body), **changes}))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().mobile_order_status(NO)
    assert caught.value.field == field, caught.value.detail


def test_an_answer_about_another_order_or_amount_is_refused(paid_body, hostile, make_hostile_client):
    client = make_hostile_client()
    hostile.on(ORDER_PATH, reply_json({**paid_body, "order_no": "T0001-M20261123-0002"}))
    with pytest.raises(MalformedReply) as caught:
        client.mobile_order_status(NO)
    assert caught.value.field == "order_no"
    hostile.on("/api/v1/mobile-orders", reply_json(paid_body, 201))
    with pytest.raises(MalformedReply) as caught:
        client.create_mobile_order(_order(amount_fen=100))
    assert caught.value.field == "amount_fen"


def test_a_cancel_answered_with_an_order_still_waiting_is_refused(paid_body, hostile, make_hostile_client):
    waiting = {**paid_body, "status": "created", "final": False, **dict.fromkeys(
        ("paid_at", "posted_to", "receipt_no", "posted_at", "provider_ref_masked", "balance_after_fen",
         "arrears_after_fen", "provider"))}
    hostile.on(f"{ORDER_PATH}/cancel", reply_json(waiting))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().cancel_mobile_order(NO)
    assert caught.value.field == "status"


def test_a_provider_reference_sent_in_clear_is_masked_again(paid_body, hostile, make_hostile_client):
    hostile.on(ORDER_PATH, reply_json({**paid_body, "provider_ref_masked": "4200001234567890"}))
    assert make_hostile_client().mobile_order_status(NO).provider_ref_masked == "4200********7890"
