"""The purchase calls against a hostile backend (tests/backend/hostile_server.py):
a reply that is too large, breaks a field, contradicts itself or is about
another card, purchase or amount ends as one MalformedReply naming the field
-- never as a token the kiosk would carry to a card."""

from __future__ import annotations

import copy
import json
import logging
from typing import Iterator

import pytest
import requests

from backend.conftest import SECRET, TERMINAL_ID
from backend.hostile_server import contract_error, reply_json, streamed
from contract.errors import BackendError, MalformedReply, ReplyTooLarge, RequestRejected
from contract.models import PaymentNote
from contract.purchase_requests import CardReading, PurchaseOrder, PurchasePayment, WriteConfirmation
from kiosk.backend.seed import DEMO_CARDS

SERIAL = DEMO_CARDS["electricity_card"]
NO = "T0001-P20261123-0001"
PURCHASE_PATH = f"/api/v1/purchases/{NO}"
READING = CardReading(SERIAL, "electricity", "3201100017", 3, 5000, 3, 1200)


@pytest.fixture
def genuine(sim) -> dict:
    """Real bodies, made by the simulator for a real purchase: quote, identity, an issued purchase."""
    with requests.Session() as http:
        token = http.post(sim.url + "/api/v1/terminals/auth", timeout=2,
                          json={"terminal_id": TERMINAL_ID, "secret": SECRET}).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        quote = http.post(f"{sim.url}/api/v1/cards/{SERIAL}/quote", json=READING.to_body(), timeout=2).json()
        identity = http.get(f"{sim.url}/api/v1/cards/{SERIAL}", timeout=2).json()
        http.post(f"{sim.url}/api/v1/purchases", json=PurchaseOrder(NO, TERMINAL_ID, READING).to_body(),
                  headers={"Idempotency-Key": NO}, timeout=2).raise_for_status()
        issued = http.post(f"{sim.url}{PURCHASE_PATH}/payment", json=_payment().to_body(),
                           headers={"Idempotency-Key": NO}, timeout=2).json()
    assert issued["status"] == "issued"
    return {"quote": quote, "identity": identity, "issued": issued}


def _payment(yuan: int = 100) -> PurchasePayment:
    return PurchasePayment(NO, TERMINAL_ID, yuan * 100, (PaymentNote(100, yuan),), "2026-11-23T10:15:00+08:00")


def _changed(body: dict, **changes) -> dict:
    """``body`` with each field named by a path (``limits__step_fen``) set, or removed for ``...``."""
    changed = copy.deepcopy(body)
    for path, value in changes.items():
        *parents, name = path.split("__")
        target = changed
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[name]
        else:
            target[name] = value
    return changed


OTHER_NO = "T0001-P20261123-0002"
GAS_SERIAL = DEMO_CARDS["gas_card"]
BROKEN_PURCHASES = {
    "about another purchase": ({"purchase_no": OTHER_NO, "write_token__purchase_no": OTHER_NO}, "purchase_no"),
    "about another card": ({"card_serial": GAS_SERIAL, "write_token__card_serial": GAS_SERIAL}, "card_serial"),
    "issued without a token": ({"write_token": None}, "write_token"),
    "issued without issued_at": ({"issued_at": None}, "issued_at"),
    "a token for another card": ({"write_token__card_serial": GAS_SERIAL}, "write_token"),
    "a token for another count": ({"write_token__purchase_count": 9}, "write_token"),
    "a MAC of 3 bytes": ({"write_token__mac": "A1B2C3"}, "write_token.mac"),
    "a credit of 2**64 fen": ({"credit_fen": 2**64}, "credit_fen"),
    "credit not amount less arrears": ({"credit_fen": 9000}, "credit_fen"),
    "a status outside the list": ({"status": "refunded"}, "status"),
    "a serial in lower case": ({"card_serial": SERIAL.lower()}, "card_serial"),
    "arrears_first as a string": ({"limits__arrears_first": "yes"}, "limits.arrears_first"),
    "limits without a step": ({"limits__step_fen": ...}, "limits.step_fen"),
    "a cash range upside down": ({"limits__min_amount_fen": 300000}, "limits.max_amount_fen"),
    "a maximum beyond the hoarding limit": ({"limits__held_fen": 400000}, "limits.max_credit_fen"),
    "an order time without offset": ({"ordered_at": "2026-11-23T10:15:00"}, "ordered_at"),
}


@pytest.mark.parametrize("case", BROKEN_PURCHASES, ids=list(BROKEN_PURCHASES))
def test_a_broken_purchase_is_a_malformed_reply_naming_its_field(genuine, hostile, make_hostile_client, case):
    changes, field = BROKEN_PURCHASES[case]
    hostile.on(PURCHASE_PATH, reply_json(_changed(genuine["issued"], **changes)))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().purchase_status(NO, card_serial=SERIAL)
    assert caught.value.field == field, caught.value.detail


def test_a_payment_answered_with_another_amount_is_refused(genuine, hostile, make_hostile_client):
    hostile.on(f"{PURCHASE_PATH}/payment", reply_json(genuine["issued"], 201))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().pay_purchase(_payment(yuan=200))
    assert caught.value.field == "amount_fen"


def test_a_confirmation_answered_with_a_purchase_still_issued_is_refused(genuine, hostile, make_hostile_client):
    hostile.on(f"{PURCHASE_PATH}/confirm", reply_json(genuine["issued"]))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().confirm_write(WriteConfirmation(NO, SERIAL, 4, 10000))
    assert caught.value.field == "status"


def test_an_identity_or_a_quote_about_another_card_or_account_is_refused(genuine, hostile, make_hostile_client):
    client = make_hostile_client()
    hostile.on(f"/api/v1/cards/{SERIAL}", reply_json(_changed(genuine["identity"], card_serial=GAS_SERIAL)))
    with pytest.raises(MalformedReply, match="another card"):
        client.identify_card(SERIAL)
    hostile.on(f"/api/v1/cards/{SERIAL}/quote", reply_json(_changed(genuine["quote"], account_no="3201100025")))
    with pytest.raises(MalformedReply, match="another account"):
        client.quote_purchase(READING)
    hostile.on(f"/api/v1/cards/{SERIAL}", reply_json(_changed(genuine["identity"], purchase_count=2**32)))
    with pytest.raises(MalformedReply) as caught:
        client.identify_card(SERIAL)
    assert caught.value.field == "purchase_count"


UNWRITTEN_ENTRIES = {
    "a written purchase": ({"status": "written", "written_at": "2026-11-23T10:16:00+08:00"}, "purchases[0].status"),
    "another card's purchase": ({"card_serial": GAS_SERIAL, "write_token__card_serial": GAS_SERIAL},
                                "purchases[0].card_serial"),
    "a MAC that is not hex": ({"write_token__mac": "not hex!"}, "purchases[0].write_token.mac"),
}


@pytest.mark.parametrize("case", UNWRITTEN_ENTRIES, ids=list(UNWRITTEN_ENTRIES))
def test_an_unwritten_list_with_an_entry_that_is_not_one_is_refused(genuine, hostile, make_hostile_client, case):
    changes, field = UNWRITTEN_ENTRIES[case]
    entry = _changed(genuine["issued"], **changes)
    hostile.on(f"/api/v1/cards/{SERIAL}/unwritten", reply_json({"card_serial": SERIAL, "purchases": [entry]}))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().unwritten_purchases(SERIAL)
    assert caught.value.field == field, caught.value.detail


def test_an_unwritten_list_longer_than_any_card_has_is_refused(genuine, hostile, make_hostile_client):
    hostile.on(f"/api/v1/cards/{SERIAL}/unwritten",
               reply_json({"card_serial": SERIAL, "purchases": [genuine["issued"]] * 17}))
    with pytest.raises(MalformedReply) as caught:
        make_hostile_client().unwritten_purchases(SERIAL)
    assert caught.value.field == "purchases"


def _endless_unwritten(entry: dict, total_bytes: int):
    def pieces() -> Iterator[bytes]:
        yield b'{"card_serial": "%s", "purchases": [' % SERIAL.encode()
        one = json.dumps(entry).encode()
        sent = 0
        while sent < total_bytes:
            yield b",".join([one] * 200) + b","
            sent += 201 * len(one)
        yield one + b"]}"
    return pieces


def test_a_50_mb_unwritten_list_is_refused_at_the_size_limit(genuine, hostile, make_hostile_client):
    hostile.on(f"/api/v1/cards/{SERIAL}/unwritten", streamed(_endless_unwritten(genuine["issued"], 50 << 20)))
    with pytest.raises(ReplyTooLarge) as caught:
        make_hostile_client(call_deadline_s=10.0).unwritten_purchases(SERIAL)
    assert "backend.max_reply_kib" in caught.value.detail


def test_a_refusal_is_kept_by_its_code_and_its_words_stay_out_of_the_detail_and_log(
        hostile, make_hostile_client, caplog):
    hostile.on("/api/v1/purchases", contract_error(
        409, "UNWRITTEN_PURCHASE", "张小明的卡有未写卡的购买", "Zhang Xiaoming has an unwritten purchase"))
    caplog.set_level(logging.DEBUG, logger="kiosk.backend")
    with pytest.raises(RequestRejected) as caught:
        make_hostile_client().order_purchase(PurchaseOrder(NO, TERMINAL_ID, READING))
    error: BackendError = caught.value
    assert error.code == "UNWRITTEN_PURCHASE" and "409 UNWRITTEN_PURCHASE" in error.detail
    assert "张小明" in error.message_zh
    texts = [error.detail, str(error)] + [record.getMessage() for record in caplog.records]
    assert not [text for text in texts if "张小明" in text or "Zhang" in text]
    assert "3201100017" not in " ".join(texts)  # the account number is masked wherever it shows
