"""Prepaid card purchases (docs/api.md 3.7 to 3.13) through the real client
against the real simulator on loopback: limits, exactly-once order, payment
and confirmation, write tokens the card can check, rewrite at any terminal,
and every purchase fault."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from contract.card_token import card_key
from contract.errors import AccountClosed, AuthenticationFailed, BackendUnreachable, RequestRejected
from contract.models import PaymentNote
from contract.purchase import PurchaseStatus
from contract.purchase_requests import CardReading, PurchaseOrder, PurchasePayment, WriteConfirmation
from kiosk.backend.seed import CARD_LIMITS, DEMO_ACCOUNTS, DEMO_CARD_MASTER_KEY, DEMO_CARDS

from backend.conftest import SECRET, TERMINAL_ID

ELECTRICITY = DEMO_CARDS["electricity_card"]  # electricity_arrears, 3 purchases, arrears not taken first
WATER = DEMO_CARDS["water_card"]  # water_arrears, 7 purchases, arrears first
GAS = DEMO_CARDS["gas_card"]  # gas_paid_up, 12 purchases
COUNTS = {ELECTRICITY: 3, WATER: 7, GAS: 12}
ACCOUNTS = {ELECTRICITY: "electricity_arrears", WATER: "water_arrears", GAS: "gas_paid_up"}
NO = "T0001-P20261123-0001"
PAID_AT = "2026-11-23T10:15:00+08:00"


def reading(serial: str = ELECTRICITY, **overrides) -> CardReading:
    """The card as a kiosk reads it: as the billing system left it, the meter has loaded
    the last purchase and still holds 12.00 yuan."""
    utility, account_no = DEMO_ACCOUNTS[ACCOUNTS[serial]]
    fields = {"card_serial": serial, "utility": utility, "account_no": account_no, "purchase_count": COUNTS[serial],
              "credit_fen": 5000, "meter_purchase_count": COUNTS[serial], "meter_credit_fen": 1200} | overrides
    return CardReading(**fields)


def order(purchase_no: str = NO, serial: str = ELECTRICITY, terminal: str = TERMINAL_ID, **overrides):
    return PurchaseOrder(purchase_no, terminal, reading(serial, **overrides))


def payment(purchase_no: str = NO, yuan: int = 100, terminal: str = TERMINAL_ID) -> PurchasePayment:
    return PurchasePayment(purchase_no, terminal, yuan * 100, (PaymentNote(100, yuan),), PAID_AT)


def bought(client, purchase_no: str = NO, serial: str = ELECTRICITY, yuan: int = 100):
    client.order_purchase(order(purchase_no, serial))
    return client.pay_purchase(payment(purchase_no, yuan))


def written_back(purchase) -> WriteConfirmation:
    """What the card reads back after the purchase's token was written to it."""
    update = purchase.write_token.update
    return WriteConfirmation(purchase.purchase_no, update.card_serial, update.purchase_count, update.credit_fen)


def refused(call, code: str) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        call()
    assert caught.value.code == code and not caught.value.retryable, caught.value
    return caught.value


# --- 3.7 The card -----------------------------------------------------------------


@pytest.mark.parametrize("serial", [ELECTRICITY, WATER, GAS])
def test_a_seeded_card_of_each_utility_is_identified_with_its_account_and_count(client, serial):
    identity = client.identify_card(serial)
    assert identity.belongs_to(*DEMO_ACCOUNTS[ACCOUNTS[serial]])
    assert (identity.purchase_count, identity.unwritten_purchases, identity.status) == (COUNTS[serial], 0, "active")


def test_an_unknown_card_and_a_replaced_one_are_refused(client):
    refused(lambda: client.identify_card(DEMO_CARDS["card_unknown"]), "CARD_NOT_FOUND")
    refused(lambda: client.identify_card(DEMO_CARDS["electricity_card_replaced"]), "CARD_CANCELLED")


def test_a_card_of_a_closed_account_is_refused_as_closed(client, sim):
    sim.close_account(*DEMO_ACCOUNTS["electricity_arrears"])
    with pytest.raises(AccountClosed):
        client.identify_card(ELECTRICITY)
    with pytest.raises(AccountClosed):
        client.order_purchase(order())


def test_a_serial_that_is_not_one_is_refused_before_anything_is_sent(client, sim):
    with pytest.raises(ValueError, match="16 hexadecimal digits"):
        client.identify_card("5a4b000000000017")
    assert sim.request_log == []


# --- 3.8 The quote ----------------------------------------------------------------


def test_the_quote_holds_the_utilitys_limits_for_the_card_as_read(client):
    limits = client.quote_purchase(reading()).limits
    seeded = CARD_LIMITS["electricity"]
    assert (limits.min_purchase_fen, limits.max_purchase_fen, limits.hoarding_limit_fen) == (
        seeded["min_purchase_fen"], seeded["max_purchase_fen"], seeded["hoarding_limit_fen"])
    assert limits.held_fen == 1200  # what the meter wrote back, not the card's last purchase
    assert (limits.min_amount_fen, limits.max_amount_fen, limits.step_fen) == (1000, 200000, 100)
    assert not limits.arrears_first and limits.arrears_fen > 0  # owed, but not taken from a purchase


def test_near_the_hoarding_limit_the_maximum_is_what_the_meter_still_has_room_for(client):
    limits = client.quote_purchase(reading(meter_credit_fen=480050)).limits
    assert limits.max_credit_fen == 500000 - 480050
    assert limits.max_amount_fen == 19900  # whole yuan, never above the room left
    refused(lambda: client.quote_purchase(reading(meter_credit_fen=499500)), "LIMIT_REACHED")


def test_without_a_write_back_the_credit_the_card_carries_counts_against_the_limit(client):
    limits = client.quote_purchase(reading(meter_purchase_count=None, meter_credit_fen=None)).limits
    assert limits.held_fen == 5000


def test_where_arrears_come_first_the_quote_says_so_and_the_cash_covers_them(client):
    arrears = client.lookup_account(*DEMO_ACCOUNTS["water_arrears"]).arrears_fen
    limits = client.quote_purchase(reading(WATER)).limits
    assert limits.arrears_first and limits.arrears_fen == arrears
    assert limits.min_amount_fen == -(-(arrears + 1000) // 100) * 100
    assert limits.credit_for(limits.min_amount_fen) >= limits.min_credit_fen
    assert limits.accepts(limits.max_amount_fen) and not limits.accepts(limits.max_amount_fen + 100)


@pytest.mark.parametrize("overrides, code", [
    ({"purchase_count": 2}, "CARD_COUNT_MISMATCH"),
    ({"meter_purchase_count": 2}, "NOT_LOADED_IN_METER"),
    ({"account_no": "3201100025"}, "CARD_MISMATCH"),
])
def test_a_card_that_cannot_take_a_purchase_now_is_refused_before_any_cash(client, sim, overrides, code):
    refused(lambda: client.quote_purchase(reading(**overrides)), code)
    refused(lambda: client.order_purchase(order(**overrides)), code)
    assert sim.purchases == []


# --- 3.9 The order ----------------------------------------------------------------


def test_an_order_fixes_the_count_the_card_will_carry_and_the_limits(client):
    ordered = client.order_purchase(order())
    assert ordered.status is PurchaseStatus.ORDERED and ordered.purchase_count == 4
    assert ordered.limits == client.quote_purchase(reading()).limits
    assert ordered.amount_fen is None and ordered.write_token is None


def test_the_same_order_again_is_one_purchase_and_replayed(client, sim):
    first = client.order_purchase(order())
    again = client.order_purchase(order())
    assert again.replayed and not first.replayed and len(sim.purchases) == 1


def test_a_purchase_number_used_for_another_order_is_a_conflict(client, make_client, sim):
    client.order_purchase(order())
    refused(lambda: client.order_purchase(order(credit_fen=4000)), "IDEMPOTENCY_CONFLICT")
    other_terminal = make_client(terminal_id="T0002")
    refused(lambda: other_terminal.order_purchase(order(terminal="T0002")), "IDEMPOTENCY_CONFLICT")
    assert len(sim.purchases) == 1


# --- 3.10 The payment and the write token ------------------------------------------


def test_the_payment_is_issued_a_token_the_card_verifies_with_its_own_key(client):
    issued = bought(client, yuan=100)
    assert issued.status is PurchaseStatus.ISSUED and issued.receipt_no
    token = issued.write_token
    assert (token.update.card_serial, token.update.purchase_count, token.update.credit_fen) == (ELECTRICITY, 4, 10000)
    assert token.verifies_with(card_key(DEMO_CARD_MASTER_KEY, ELECTRICITY))
    assert not token.verifies_with(card_key(DEMO_CARD_MASTER_KEY, GAS))  # another card refuses it


def test_where_arrears_come_first_they_are_settled_and_the_rest_is_credit(client):
    account = DEMO_ACCOUNTS["water_arrears"]
    arrears = client.lookup_account(*account).arrears_fen
    yuan = -(-(arrears + 2000) // 100)
    issued = bought(client, serial=WATER, yuan=yuan)
    assert issued.arrears_paid_fen == arrears and issued.credit_fen == yuan * 100 - arrears
    assert issued.write_token.update.credit_fen == issued.credit_fen
    after = client.lookup_account(*account)
    assert after.arrears_fen == 0 and all(bill.status == "paid" for bill in after.bills)


def test_the_same_payment_again_books_once_and_returns_the_same_token(client, sim):
    first = bought(client)
    again = client.pay_purchase(payment())
    assert again.replayed and again.write_token == first.write_token and again.receipt_no == first.receipt_no
    refused(lambda: client.pay_purchase(payment(yuan=50)), "IDEMPOTENCY_CONFLICT")
    assert [p["receipt_no"] for p in sim.purchases] == [first.receipt_no]


def test_an_answer_lost_after_booking_is_recovered_by_the_retry(client, sim):
    client.order_purchase(order())
    sim.inject("drop_after_commit", count=1, path_prefix=f"/api/v1/purchases/{NO}/payment")
    issued = client.pay_purchase(payment())
    assert issued.replayed and issued.status is PurchaseStatus.ISSUED
    assert sim.cards[0]["purchase_count"] == 4  # one purchase on the card's count, not two


@pytest.mark.parametrize("yuan", [9, 2001])
def test_cash_outside_the_ordered_limits_is_refused_and_nothing_booked(client, sim, yuan):
    client.order_purchase(order())
    refused(lambda: client.pay_purchase(payment(yuan=yuan)), "AMOUNT_INVALID")
    assert sim.purchases[0]["status"] == "ordered"


def test_the_cash_is_posted_only_by_the_terminal_that_ordered(client, make_client):
    client.order_purchase(order())
    with pytest.raises(AuthenticationFailed) as caught:
        make_client(terminal_id="T0002").pay_purchase(payment(terminal="T0002"))
    assert caught.value.code == "TERMINAL_MISMATCH"


def test_of_two_orders_for_one_card_only_the_first_paid_is_issued(client, make_client):
    elsewhere = make_client(terminal_id="T0002")
    client.order_purchase(order())
    elsewhere.order_purchase(order("T0002-P20261123-0001", terminal="T0002"))
    client.pay_purchase(payment())
    refused(lambda: elsewhere.pay_purchase(payment("T0002-P20261123-0001", terminal="T0002")), "ORDER_STALE")


def test_a_card_reported_lost_after_the_order_takes_no_payment(client, sim):
    client.order_purchase(order())
    sim.cancel_card(ELECTRICITY)
    refused(lambda: client.pay_purchase(payment()), "CARD_CANCELLED")


# --- 3.11 / 3.12 Confirmation and rewrite ------------------------------------------


def test_an_unwritten_purchase_is_listed_for_its_card_and_gone_once_confirmed(client):
    issued = bought(client)
    [listed] = client.unwritten_purchases(ELECTRICITY)
    assert listed.purchase_no == NO and listed.write_token == issued.write_token
    assert client.unwritten_purchases(GAS) == ()
    confirmed = client.confirm_write(written_back(issued))
    assert confirmed.status is PurchaseStatus.WRITTEN and confirmed.written_at
    assert client.unwritten_purchases(ELECTRICITY) == ()
    assert client.identify_card(ELECTRICITY).purchase_count == 4


def test_a_card_with_an_unwritten_purchase_is_offered_rewrite_first_at_any_terminal(client, make_client):
    issued = bought(client)
    elsewhere = make_client(terminal_id="T0002")
    assert elsewhere.identify_card(ELECTRICITY).unwritten_purchases == 1
    refused(lambda: elsewhere.order_purchase(order("T0002-P20261123-0001", terminal="T0002", purchase_count=4)),
            "UNWRITTEN_PURCHASE")
    [rewrite] = elsewhere.unwritten_purchases(ELECTRICITY)
    assert rewrite.write_token == issued.write_token
    assert elsewhere.confirm_write(written_back(rewrite)).status is PurchaseStatus.WRITTEN
    assert client.purchase_status(NO).status is PurchaseStatus.WRITTEN


def test_a_different_card_is_refused_for_the_purchase(client):
    issued = bought(client)
    other = written_back(issued)
    refused(lambda: client.confirm_write(WriteConfirmation(NO, GAS, other.purchase_count, other.credit_fen)),
            "CARD_MISMATCH")
    assert client.purchase_status(NO).status is PurchaseStatus.ISSUED


def test_a_card_that_does_not_show_the_purchase_is_not_confirmed(client):
    bought(client)
    refused(lambda: client.confirm_write(WriteConfirmation(NO, ELECTRICITY, 3, 5000)), "WRITE_MISMATCH")
    assert client.unwritten_purchases(ELECTRICITY)[0].purchase_no == NO


def test_confirming_twice_is_replayed_and_before_payment_is_refused(client):
    client.order_purchase(order())
    refused(lambda: client.confirm_write(WriteConfirmation(NO, ELECTRICITY, 4, 10000)), "NOT_ISSUED")
    issued = client.pay_purchase(payment())
    assert not client.confirm_write(written_back(issued)).replayed
    assert client.confirm_write(written_back(issued)).replayed


def test_an_unknown_purchase_is_not_found(client):
    refused(lambda: client.purchase_status("T0001-P20261123-9999"), "PURCHASE_NOT_FOUND")


# --- Faults (docs/api.md 6) --------------------------------------------------------


def test_issue_refused_books_nothing_and_the_same_number_may_be_paid_later(client, sim):
    client.order_purchase(order())
    arrears = client.lookup_account(*DEMO_ACCOUNTS["electricity_arrears"]).arrears_fen
    sim.inject("issue_refused", count=1)
    refused(lambda: client.pay_purchase(payment()), "ISSUE_REFUSED")
    assert sim.purchases[0]["status"] == "ordered" and sim.purchases[0]["receipt_no"] is None
    assert client.lookup_account(*DEMO_ACCOUNTS["electricity_arrears"]).arrears_fen == arrears
    assert client.pay_purchase(payment()).status is PurchaseStatus.ISSUED  # a 4xx stored nothing


def test_a_token_never_issued_leaves_the_purchase_paid_listed_and_blocking_the_card(client, sim):
    sim.inject("token_never_issued")
    paid = bought(client)
    assert paid.status is PurchaseStatus.PAID and paid.write_token is None and paid.receipt_no
    assert client.purchase_status(NO).status is PurchaseStatus.PAID
    [waiting] = client.unwritten_purchases(ELECTRICITY)
    assert waiting.write_token is None
    refused(lambda: client.order_purchase(order("T0001-P20261123-0002")), "UNWRITTEN_PURCHASE")
    assert sim.issue_held_tokens() == 1
    issued = client.unwritten_purchases(ELECTRICITY)[0]
    assert issued.write_token.verifies_with(card_key(DEMO_CARD_MASTER_KEY, ELECTRICITY))


def test_a_lost_confirmation_leaves_the_purchase_for_the_next_insertion_to_confirm(client, sim):
    issued = bought(client)
    sim.inject("confirm_lost")
    with pytest.raises(BackendUnreachable):
        client.confirm_write(written_back(issued))
    sim.clear_faults()
    # Inserted again: the billing system still lists it; the card already shows it, so only confirm.
    [again] = client.unwritten_purchases(ELECTRICITY)
    assert client.confirm_write(written_back(again)).status is PurchaseStatus.WRITTEN


def test_one_lost_confirmation_is_cured_by_the_retry(client, sim):
    issued = bought(client)
    sim.inject("confirm_lost", count=1)
    assert client.confirm_write(written_back(issued)).status is PurchaseStatus.WRITTEN
    assert sim.request_log.count(("POST", f"/api/v1/purchases/{NO}/confirm")) == 2


def test_purchase_faults_wait_for_their_own_endpoint(client, sim):
    sim.inject("issue_refused", count=1)
    sim.inject("confirm_lost", count=1)
    client.identify_card(ELECTRICITY)  # neither touches a card, a quote or an order
    client.quote_purchase(reading())
    client.order_purchase(order())
    refused(lambda: client.pay_purchase(payment()), "ISSUE_REFUSED")
    issued = client.pay_purchase(payment())
    assert client.confirm_write(written_back(issued)).status is PurchaseStatus.WRITTEN  # retried past the lost one
    assert sim.request_log.count(("POST", f"/api/v1/purchases/{NO}/confirm")) == 2


# --- The endpoints as any billing system must answer them --------------------------


@pytest.fixture
def http(sim):
    session = requests.Session()
    token = session.post(sim.url + "/api/v1/terminals/auth", timeout=2,
                         json={"terminal_id": TERMINAL_ID, "secret": SECRET}).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    yield lambda method, path, **kw: session.request(method, sim.url + path, timeout=2, **kw)
    session.close()


def test_an_order_without_a_key_or_with_another_key_is_400(http, sim):
    body = order().to_body()
    assert http("POST", "/api/v1/purchases", json=body).json()["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    wrong = http("POST", "/api/v1/purchases", json=body, headers={"Idempotency-Key": "T0001-P20261123-0002"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "VALIDATION_FAILED"
    assert sim.purchases == []


def test_a_quote_missing_a_field_is_400_naming_it(http):
    body = reading().to_body()
    del body["card_purchase_count"]
    answer = http("POST", f"/api/v1/cards/{ELECTRICITY}/quote", json=body)
    assert answer.status_code == 400 and "card_purchase_count" in answer.json()["error"]["message_en"]


def test_the_first_order_is_201_a_repeat_200_with_the_replay_header(http):
    headers = {"Idempotency-Key": NO}
    first = http("POST", "/api/v1/purchases", json=order().to_body(), headers=headers)
    again = http("POST", "/api/v1/purchases", json=order().to_body(), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replay" not in first.headers
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json() == first.json()


def test_the_simulator_lists_purchases_and_cards(http, client):
    bought(client)
    listed = http("GET", "/_sim/purchases").json()["purchases"]
    assert [(p["purchase_no"], p["status"]) for p in listed] == [(NO, "issued")]
    cards = {c["card_serial"]: c for c in http("GET", "/_sim/cards").json()["cards"]}
    assert cards[ELECTRICITY]["purchase_count"] == 4 and cards[DEMO_CARDS["electricity_card_replaced"]]["status"] == "cancelled"


# --- The seed cards (docs/api.md 8) -------------------------------------------------


def test_every_seeded_card_belongs_to_a_seeded_account_and_no_purchase_waits(sim):
    accounts = set(DEMO_ACCOUNTS.values())
    for card in sim.cards:
        assert (card["utility"], card["account_no"]) in accounts
        assert card["min_purchase_fen"] <= card["max_purchase_fen"] <= card["hoarding_limit_fen"]
    assert sim.purchases == []
    assert DEMO_CARDS["card_unknown"] not in {card["card_serial"] for card in sim.cards}


def test_the_demo_card_the_virtual_reader_inserts_is_the_seeded_electricity_card(sim):
    from drivers.pcsc.applet import DEMO_CARD

    [seeded] = [card for card in sim.cards if card["card_serial"] == DEMO_CARD.serial]
    assert (seeded["utility"], seeded["account_no"], seeded["meter_no"], seeded["purchase_count"]) == (
        DEMO_CARD.utility.value, DEMO_CARD.account_no, DEMO_CARD.meter_no, DEMO_CARD.purchase_count)


def test_a_request_the_contract_cannot_carry_is_refused_when_it_is_built():
    with pytest.raises(ValueError, match="purchase_no"):
        PurchaseOrder("T0001-P20261123-0001-and-far-too-long", TERMINAL_ID, reading())
    with pytest.raises(ValueError, match="both or neither"):
        reading(meter_credit_fen=None)
    with pytest.raises(ValueError, match="4-byte"):
        reading(credit_fen=-1)


# --- Exactly once under concurrency and late answers --------------------------------


def test_of_many_terminals_paying_for_one_card_at_once_exactly_one_is_issued(make_client, sim):
    terminals = [f"T{n:04d}" for n in range(1, 7)]
    clients = {t: make_client(terminal_id=t) for t in terminals}
    for t in terminals:
        clients[t].order_purchase(order(f"{t}-P20261123-0001", terminal=t))
    outcomes: dict[str, str] = {}

    def pay(t: str) -> None:
        try:
            outcomes[t] = clients[t].pay_purchase(payment(f"{t}-P20261123-0001", terminal=t)).status.value
        except RequestRejected as refusal:
            outcomes[t] = refusal.code

    threads = [threading.Thread(target=pay, args=(t,)) for t in terminals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes.values()) == ["ORDER_STALE"] * 5 + ["issued"]
    assert [c["purchase_count"] for c in sim.cards if c["card_serial"] == ELECTRICITY] == [4]


def test_a_late_payment_answer_overtaken_by_the_retry_books_once(make_client, sim):
    client = make_client(read_timeout_s=0.2, retries=1)
    client.order_purchase(order())
    sim.inject("delay", count=1, seconds=0.5, path_prefix=f"/api/v1/purchases/{NO}/payment")
    issued = client.pay_purchase(payment())
    time.sleep(0.5)  # let the late first attempt reach the ledger too
    assert client.purchase_status(NO, ELECTRICITY).write_token == issued.write_token
    assert len({p["receipt_no"] for p in sim.purchases}) == 1
