"""The mobile payment service and its recovery (kiosk/mobile_payment.py, kiosk/mobile_recovery.py):
a journal on disk, the real client and the real simulator on loopback with its phone.

Every path to every final state; a payment confirmed after a cancel recorded paid and posted
once; a kill between the journal and the create; a create whose answer was lost; a malformed
reply that leaves its order to be asked again without stopping the others."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from contract.mobile import PaymentMethod
from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from kiosk.mobile_payment import MobilePaymentService
from kiosk.mobile_recovery import recover_mobile_orders
from offline_store.journal import MobileOrderState as S
from offline_store.journal import MoneyJournal
from offline_store.pii import PiiKey

TERMINAL_ID = "T0001"
SECRET = "demo-terminal-secret"
UTILITY, ACCOUNT = DEMO_ACCOUNTS["electricity_arrears"]
AMOUNT = 23758
QR, SCANNED = PaymentMethod.QR_SHOWN, PaymentMethod.CODE_SCANNED
PAID_CODE = "134567890123456780"  # WeChat; the simulator's last digit 0: paid at once
PASSWORD_CODE = "280000000000000007"  # Alipay, a password first
DECLINED_CODE = "620000000000000008"  # UnionPay, declined
HELD_CODE = "100000000000000009"  # WeChat, the customer never confirms


class Clock:
    """Epoch seconds that move only when the test says so (the journal's and the service's)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 15).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0, terminal_secret=SECRET) as simulator:
        simulator.mobile.poll_interval_ms = 200
        yield simulator


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Iterator[MoneyJournal]:
    with MoneyJournal(tmp_path / "journal.sqlite", PiiKey.create(tmp_path / "journal.key"), clock) as opened:
        yield opened


def _client(sim, retries: int = 1) -> BackendClient:
    return BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.5,
                         retries=retries, backoff_s=0.01)


@pytest.fixture
def service(sim, journal, clock) -> Iterator[MobilePaymentService]:
    with _client(sim) as client:
        yield MobilePaymentService(journal, client, TERMINAL_ID, retry_pause_s=0.01, clock=clock)


def _later(sim, clock, seconds: float) -> None:
    """Time passes for the providers and for the kiosk alike."""
    sim.mobile.clock.advance(seconds)
    clock.now += seconds


def _postings(sim, order_no: str) -> list[str]:
    return [p["receipt_no"] for p in sim.postings if p["transaction_no"] == order_no]


def _open(service, method=QR, code=None):
    return service.open(UTILITY, ACCOUNT, AMOUNT, method, scanned_code=code)


# --- 主扫: the QR code on the screen ------------------------------------------------


def test_a_shown_qr_paid_by_the_phone_is_journaled_paid_with_the_billing_systems_receipt(service, sim, clock):
    order = _open(service)
    assert order.state is S.CREATED and order.qr_payload
    sim.pay(order.order_no, provider="alipay")
    paid = service.wait(order.order_no, until=clock() + 5)
    assert (paid.state, paid.final, paid.provider) == (S.PAID, True, "alipay")
    assert _postings(sim, order.order_no) == [paid.receipt_no]


def test_the_screen_sees_user_paying_while_the_customer_enters_a_password(service, sim):
    order = _open(service)
    sim.hold(order.order_no, provider="unionpay")
    assert service.poll(order.order_no).state is S.USER_PAYING
    sim.decline(order.order_no, "password_failed")
    declined = service.poll(order.order_no)
    assert (declined.state, declined.final, declined.decline_reason) == (S.DECLINED, True, "password_failed")
    assert _postings(sim, order.order_no) == []


def test_an_unpaid_qr_expires_and_is_final_after_the_late_window(service, sim, clock):
    order = _open(service)
    _later(sim, clock, 121)
    expired = service.poll(order.order_no)
    assert (expired.state, expired.final) == (S.EXPIRED, False)
    _later(sim, clock, 300)
    assert service.poll(order.order_no).final and _postings(sim, order.order_no) == []


def test_a_cancel_is_journaled_before_it_is_sent_and_a_late_payment_after_it_stands_once(service, sim, journal):
    order = _open(service)
    cancelled = service.cancel(order.order_no)
    assert (cancelled.state, cancelled.final) == (S.CANCELLED, False) and cancelled.cancel_asked_at is not None
    sim.pay_late(order.order_no)
    paid = service.poll(order.order_no)
    assert paid.state is S.PAID and _postings(sim, order.order_no) == [paid.receipt_no]
    assert service.cancel(order.order_no).state is S.PAID  # again: nothing changes, nothing posted again
    assert service.poll(order.order_no).receipt_no == paid.receipt_no
    assert _postings(sim, order.order_no) == [paid.receipt_no] and journal.outbox() == []


def test_a_cancel_that_meets_a_payment_already_made_is_recorded_paid(service, sim):
    order = _open(service)
    sim.pay(order.order_no)
    assert service.cancel(order.order_no).state is S.PAID


# --- 被扫: the scanner read the customer's code ----------------------------------------


def test_a_scanned_code_is_paid_at_once(service, sim):
    order = _open(service, SCANNED, PAID_CODE)
    assert (order.state, order.provider) == (S.PAID, "wechat") and _postings(sim, order.order_no) == [order.receipt_no]


def test_a_scanned_code_that_needs_a_password_is_paid_once_it_is_entered(service, sim, clock):
    order = _open(service, SCANNED, PASSWORD_CODE)
    assert order.state is S.USER_PAYING
    _later(sim, clock, 3)
    assert service.poll(order.order_no).state is S.PAID


def test_a_declined_scanned_code_is_final_and_nothing_is_posted(service, sim):
    order = _open(service, SCANNED, DECLINED_CODE)
    assert (order.state, order.final) == (S.DECLINED, True) and _postings(sim, order.order_no) == []


def test_a_scanned_code_unknown_past_its_deadline_is_reversed_and_not_before(service, sim, clock):
    order = _open(service, SCANNED, HELD_CODE)
    with pytest.raises(ValueError, match="deadline"):
        service.reverse(order.order_no)
    _later(sim, clock, 61)
    reversed_ = service.reverse(order.order_no)
    assert (reversed_.state, reversed_.final) == (S.REVERSED, True) and reversed_.reverse_asked_at is not None
    assert _postings(sim, order.order_no) == []


def test_a_refused_code_makes_no_order_and_charges_nothing(service, sim):
    order = _open(service, SCANNED, "990000000000000000")
    assert (order.state, order.final, order.error_code) == (S.NOT_CREATED, True, "PAYMENT_CODE_INVALID")
    assert sim.mobile_orders == []


# --- failures and restarts ------------------------------------------------------------


def test_a_create_whose_answer_was_lost_is_sent_again_and_is_the_same_order(sim, journal, clock):
    sim.inject("drop_after_commit", count=1, path_prefix="/api/v1/mobile-orders")
    with _client(sim, retries=0) as client:  # the service's own attempt, not the client's, sends it again
        order = _open(MobilePaymentService(journal, client, TERMINAL_ID, retry_pause_s=0.01, clock=clock),
                      SCANNED, PAID_CODE)
    assert order.state is S.PAID and order.attempts == 1
    assert len(sim.mobile_orders) == 1 and _postings(sim, order.order_no) == [order.receipt_no]


def test_a_kill_between_the_journal_and_the_create_is_recovered_as_never_made(service, sim, journal):
    opened = journal.open_mobile_order(TERMINAL_ID, UTILITY, ACCOUNT, AMOUNT, QR)  # the kiosk died here
    [case] = recover_mobile_orders(service, within_s=2, pause_s=0.05)
    assert (case.order_no, case.state_before, case.state, case.final) == (opened.order_no, "opened",
                                                                         "not_created", True)
    assert sim.mobile_orders == [] and journal.get_mobile_order(opened.order_no).recovered


def test_an_order_made_but_never_heard_of_is_cancelled_and_a_late_payment_gets_a_recovery_slip(
        service, sim, journal, clock):
    opened = journal.open_mobile_order(TERMINAL_ID, UTILITY, ACCOUNT, AMOUNT, QR)
    service.client.create_mobile_order(journal.mobile_order_request(opened.order_no))  # then the kiosk died
    [case] = recover_mobile_orders(service, within_s=0.3, pause_s=0.05)
    assert (case.state, case.final, case.needs_slip) == ("cancelled", False, False)
    sim.pay_late(opened.order_no)
    [case] = recover_mobile_orders(service, within_s=0.3, pause_s=0.05)
    assert (case.state, case.final, case.needs_slip) == ("paid", True, True)
    assert len(_postings(sim, opened.order_no)) == 1
    assert recover_mobile_orders(service) == []  # nothing left to ask


def test_recovery_reverses_a_scanned_code_past_its_deadline(service, sim, clock):
    order = _open(service, SCANNED, HELD_CODE)
    _later(sim, clock, 61)
    [case] = recover_mobile_orders(service, within_s=1, pause_s=0.05)
    assert (case.order_no, case.state, case.final) == (order.order_no, "reversed", True)


def test_a_malformed_reply_leaves_its_order_to_be_asked_again_and_never_stops_the_others(service, sim, journal):
    first, second = _open(service), _open(service)
    sim.inject("malformed_json", path_prefix=f"/api/v1/mobile-orders/{first.order_no}")
    cases = {c.order_no: c for c in recover_mobile_orders(service, within_s=0.3, pause_s=0.05)}
    assert (cases[first.order_no].state, cases[first.order_no].error_code) == ("created", "MALFORMED_REPLY")
    assert cases[second.order_no].state == "cancelled"
    sim.clear_faults()
    cases = {c.order_no: c for c in recover_mobile_orders(service, within_s=0.3, pause_s=0.05)}
    assert cases[first.order_no].state == "cancelled" and cases[first.order_no].error_code is None


def test_an_unreachable_billing_system_leaves_the_order_opened_for_the_follow_up(sim, journal, clock):
    sim.inject("drop", path_prefix="/api/v1/mobile-orders")
    with _client(sim, retries=0) as client:
        service = MobilePaymentService(journal, client, TERMINAL_ID, create_attempts=2, retry_pause_s=0.01,
                                       clock=clock)
        order = _open(service)
        assert (order.state, order.attempts) == (S.OPENED, 2) and order.error_code
        sim.clear_faults()
        [case] = recover_mobile_orders(service, within_s=1, pause_s=0.05)
    assert case.state in ("not_created", "cancelled")  # a drop before or after the server made it
