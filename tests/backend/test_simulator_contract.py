"""The simulator answers raw HTTP the way docs/api.md says a backend must."""

from __future__ import annotations

import pytest
import requests

from kiosk.backend.seed import DEMO_ACCOUNTS

ERROR_KEYS = {"code", "message_zh", "message_en", "retryable"}


@pytest.fixture
def http(sim):
    session = requests.Session()
    yield lambda method, path, **kw: session.request(method, sim.url + path, timeout=2, **kw)
    session.close()


@pytest.fixture
def token(http) -> str:
    reply = http("POST", "/api/v1/terminals/auth",
                 json={"terminal_id": "T0001", "secret": "demo-terminal-secret"})
    assert reply.status_code == 200 and reply.json()["expires_in_s"] > 0
    return reply.json()["token"]


def _payment_body(transaction_no: str = "T0001-1") -> dict:
    utility, account_no = DEMO_ACCOUNTS["gas_arrears"]
    return {
        "transaction_no": transaction_no, "terminal_id": "T0001", "utility": utility,
        "account_no": account_no, "amount_fen": 10000,
        "notes": [{"denomination_fen": 10000, "count": 1}],
        "paid_at": "2026-11-23T10:15:00+08:00",
    }


def _error(reply, status: int, code: str) -> None:
    assert reply.status_code == status
    assert reply.headers["Content-Type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) == ERROR_KEYS and error["code"] == code


def test_wrong_secret_is_401_auth_failed(http):
    reply = http("POST", "/api/v1/terminals/auth", json={"terminal_id": "T0001", "secret": "x"})
    _error(reply, 401, "AUTH_FAILED")


def test_request_without_token_is_401_auth_required(http):
    _error(http("GET", "/api/v1/accounts/water/60120001"), 401, "AUTH_REQUIRED")


def test_closed_account_is_410_with_no_personal_data(http, token):
    utility, account_no = DEMO_ACCOUNTS["electricity_closed"]
    reply = http("GET", f"/api/v1/accounts/{utility}/{account_no}",
                 headers={"Authorization": f"Bearer {token}"})
    _error(reply, 410, "ACCOUNT_CLOSED")
    assert "holder_masked" not in reply.text


def test_payment_without_idempotency_key_is_400(http, token):
    reply = http("POST", "/api/v1/payments", json=_payment_body(),
                 headers={"Authorization": f"Bearer {token}"})
    _error(reply, 400, "IDEMPOTENCY_KEY_REQUIRED")


def test_payment_replay_is_200_with_the_replay_header(http, token):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "T0001-1"}
    first = http("POST", "/api/v1/payments", json=_payment_body(), headers=headers)
    again = http("POST", "/api/v1/payments", json=_payment_body(), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replay" not in first.headers
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json() == first.json()


def test_payment_with_a_string_amount_is_400_naming_the_field(http, token):
    body = _payment_body() | {"amount_fen": "100.00"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "T0001-1"}
    reply = http("POST", "/api/v1/payments", json=body, headers=headers)
    _error(reply, 400, "VALIDATION_FAILED")
    assert "amount_fen" in reply.json()["error"]["message_en"]


def test_heartbeat_for_another_terminal_is_403(http, token):
    reply = http("POST", "/api/v1/terminals/T0002/heartbeat",
                 json={"status": "in_service", "app_version": "0.1.0"},
                 headers={"Authorization": f"Bearer {token}"})
    _error(reply, 403, "TERMINAL_MISMATCH")


def test_unknown_endpoint_and_wrong_method(http):
    _error(http("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND")
    _error(http("DELETE", "/api/v1/payments"), 405, "METHOD_NOT_ALLOWED")


def test_faults_and_postings_can_be_driven_over_http(http, token, sim):
    added = http("POST", "/_sim/faults", json={"kind": "http_500", "count": 1})
    assert added.status_code == 201 and added.json()["faults"][0]["kind"] == "http_500"
    auth = {"Authorization": f"Bearer {token}"}
    _error(http("GET", "/api/v1/accounts/water/60120001", headers=auth), 500, "INTERNAL_ERROR")
    assert http("GET", "/api/v1/accounts/water/60120001", headers=auth).status_code == 200

    http("POST", "/_sim/faults", json={"kind": "drop"})
    assert http("DELETE", "/_sim/faults").json() == {"faults": []}
    _error(http("POST", "/_sim/faults", json={"kind": "meteor"}), 400, "VALIDATION_FAILED")

    headers = auth | {"Idempotency-Key": "T0001-1"}
    http("POST", "/api/v1/payments", json=_payment_body(), headers=headers)
    postings = http("GET", "/_sim/postings").json()["postings"]
    assert [p["transaction_no"] for p in postings] == ["T0001-1"] == [
        p["transaction_no"] for p in sim.postings
    ]


def test_inject_refuses_an_unknown_fault_kind(sim):
    with pytest.raises(ValueError):
        sim.inject("meteor")
