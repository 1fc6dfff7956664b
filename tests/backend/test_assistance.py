"""Calling a staff member (docs/api.md 3.6): queued once per key, whatever
happens to the answer, and nothing about the customer goes with the call."""

from __future__ import annotations

import pytest
import requests

from contract.assistance import parse_assistance_reply
from contract.errors import (
    BackendError,
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
)
from kiosk.backend.seed import DEMO_ACCOUNTS

from backend.conftest import TERMINAL_ID

ASSISTANCE_PATH = f"/api/v1/terminals/{TERMINAL_ID}/assistance"
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def http(sim):
    """Raw HTTP with a fresh token: what any backend implementation must answer."""
    session = requests.Session()
    token = session.post(sim.url + "/api/v1/terminals/auth", timeout=2,
                         json={"terminal_id": TERMINAL_ID, "secret": "demo-terminal-secret"}).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    yield lambda method, path, **kw: session.request(method, sim.url + path, timeout=2, **kw)
    session.close()


def _body(**overrides) -> dict:
    return {"reason": "customer_help", "step": "overview", "requested_at": "2026-11-23T10:14:55+08:00"} | overrides


def test_a_call_is_queued_and_answered_with_the_counters_number(client, sim):
    reply = client.request_assistance("overview")
    assert (reply.request_id, reply.status, reply.expected_wait_s, reply.replayed) == ("A0001", "queued", 120, False)
    [call] = sim.assistance_calls
    assert call["terminal_id"] == TERMINAL_ID and call["request_id"] == "A0001"
    assert set(call["body"]) == {"reason", "step", "requested_at"}
    assert call["body"]["step"] == "overview" and call["body"]["reason"] == "customer_help"
    assert call["body"]["requested_at"][-6] in "+-"  # the kiosk's clock, with its offset


def test_the_same_key_sent_again_calls_one_person_and_is_replayed(client, sim):
    first = client.request_assistance("overview", KEY)
    again = client.request_assistance("cash_in", KEY)  # another step, a later time: the same call
    assert again.request_id == first.request_id and again.replayed and not first.replayed
    assert len(sim.assistance_calls) == 1


def test_every_call_without_a_key_given_is_a_new_call(client, sim):
    assert client.request_assistance("home").request_id != client.request_assistance("home").request_id
    assert len(sim.assistance_calls) == 2


def test_an_answer_lost_after_queueing_is_recovered_by_the_retry(client, sim):
    sim.inject("drop_after_commit", count=1, path_prefix=ASSISTANCE_PATH)
    reply = client.request_assistance("failed")
    assert reply.replayed  # the retry learnt what the first attempt did
    assert len(sim.assistance_calls) == 1


@pytest.mark.parametrize("fault, error_type", [
    ("http_500", BackendServerError),
    ("drop", BackendUnreachable),
    ("html_error", BackendServerError),
    ("malformed_json", MalformedReply),
])
def test_a_fault_fails_the_call_with_a_backend_error_and_calls_nobody(client, sim, fault, error_type):
    sim.inject(fault, path_prefix=ASSISTANCE_PATH)
    with pytest.raises(error_type) as caught:
        client.request_assistance("overview")
    assert isinstance(caught.value, BackendError) and caught.value.reason_key.startswith("error.")
    assert sim.assistance_calls == []


def test_a_counter_that_never_answers_fails_at_the_call_deadline(make_client, sim):
    sim.inject("delay", seconds=1.5, path_prefix=ASSISTANCE_PATH)
    with pytest.raises(BackendTimeout):
        make_client(call_deadline_s=0.6).request_assistance("overview")


def test_a_step_that_is_not_a_step_name_is_refused_before_anything_is_sent(client, sim):
    _, account_no = DEMO_ACCOUNTS["electricity_arrears"]
    with pytest.raises(ValueError):
        client.request_assistance(account_no)
    assert sim.request_log == []


# --- The endpoint as any backend must answer it -------------------------------


def test_a_call_without_an_idempotency_key_is_400(http, sim):
    reply = http("POST", ASSISTANCE_PATH, json=_body())
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert sim.assistance_calls == []


def test_a_call_carrying_an_account_number_is_refused_and_not_queued(http, sim):
    _, account_no = DEMO_ACCOUNTS["electricity_arrears"]
    reply = http("POST", ASSISTANCE_PATH, json=_body(account_no=account_no), headers={"Idempotency-Key": KEY})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "VALIDATION_FAILED"
    assert "account_no" in reply.json()["error"]["message_en"]
    assert sim.assistance_calls == []


@pytest.mark.parametrize("body", [_body(reason="chat"), _body(step="Overview!"),
                                  _body(requested_at="2026-11-23T10:14:55"), {"reason": "customer_help"}])
def test_a_call_breaking_the_contract_is_400(http, body):
    reply = http("POST", ASSISTANCE_PATH, json=body, headers={"Idempotency-Key": KEY})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_call_for_another_terminal_is_403(http):
    reply = http("POST", "/api/v1/terminals/T0002/assistance", json=_body(), headers={"Idempotency-Key": KEY})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "TERMINAL_MISMATCH"


def test_a_repeat_is_200_with_the_replay_header_and_the_calls_are_listed(http, sim):
    first = http("POST", ASSISTANCE_PATH, json=_body(), headers={"Idempotency-Key": KEY})
    again = http("POST", ASSISTANCE_PATH, json=_body(step="home"), headers={"Idempotency-Key": KEY})
    assert first.status_code == 201 and "Idempotent-Replay" not in first.headers
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json() == first.json()
    listed = http("GET", "/_sim/assistance").json()["calls"]
    assert [c["idempotency_key"] for c in listed] == [KEY] and listed == sim.assistance_calls


# --- The reply, range-checked ---------------------------------------------------


def test_expected_wait_is_optional_and_range_checked():
    assert parse_assistance_reply({"request_id": "A1", "status": "queued"}).expected_wait_s is None
    assert parse_assistance_reply({"request_id": "A1", "status": "queued", "expected_wait_s": None}).expected_wait_s is None
    with pytest.raises(MalformedReply, match="expected_wait_s"):
        parse_assistance_reply({"request_id": "A1", "status": "queued", "expected_wait_s": 86400})
    with pytest.raises(MalformedReply, match="status"):
        parse_assistance_reply({"request_id": "A1", "status": "done"})
    with pytest.raises(MalformedReply, match="request_id"):
        parse_assistance_reply({"request_id": "A 1\n", "status": "queued"})
