"""Looking accounts up, authenticating and reporting in, against the simulator."""

from __future__ import annotations

import time

import pytest

from contract.errors import AccountClosed, AccountNotFound, AuthenticationFailed
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator

OPEN_SCENARIOS = sorted(
    name for name in DEMO_ACCOUNTS if name not in ("electricity_closed", "electricity_unknown")
)
AUTH_PATH = "/api/v1/terminals/auth"


def _auth_requests(sim) -> int:
    return sum(1 for _, path in sim.request_log if path == AUTH_PATH)


@pytest.mark.parametrize("scenario", OPEN_SCENARIOS)
def test_each_seeded_account_is_found_with_its_history(client, scenario):
    utility, account_no = DEMO_ACCOUNTS[scenario]
    account = client.lookup_account(utility, account_no)
    assert (account.utility, account.account_no, account.status) == (utility, account_no, "active")
    assert "*" in account.holder_masked and "*" in account.address_masked
    assert len(account.usage) == 12 and len(account.tariff_tiers) == 3
    assert account.unit == ("kWh" if utility == "electricity" else "m³")
    if scenario.endswith("_arrears"):
        assert account.arrears_fen > 0
    if scenario.endswith("_paid_up"):
        assert account.arrears_fen == 0 and account.balance_fen > 0
    if scenario == "electricity_many_bills":
        assert len(account.bills) == 36


def test_unknown_account_is_not_found(client):
    with pytest.raises(AccountNotFound) as caught:
        client.lookup_account(*DEMO_ACCOUNTS["electricity_unknown"])
    error = caught.value
    assert error.code == "ACCOUNT_NOT_FOUND" and error.reason_key == "error.account_not_found"
    assert error.message_zh and error.message_en and not error.retryable


def test_closed_account_is_refused_as_closed(client):
    with pytest.raises(AccountClosed) as caught:
        client.lookup_account(*DEMO_ACCOUNTS["electricity_closed"])
    assert caught.value.reason_key == "error.account_closed"
    assert "410" in caught.value.detail


def test_a_4xx_answer_is_never_retried(client, sim):
    with pytest.raises(AccountNotFound):
        client.lookup_account(*DEMO_ACCOUNTS["electricity_unknown"])
    lookups = [p for _, p in sim.request_log if p.startswith("/api/v1/accounts")]
    assert len(lookups) == 1


def test_wrong_secret_fails_authentication_without_retrying(make_client, sim):
    client = make_client(secret="not-the-secret")
    with pytest.raises(AuthenticationFailed) as caught:
        client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
    assert caught.value.code == "AUTH_FAILED"
    assert caught.value.reason_key == "error.terminal_not_authorised"
    assert sim.request_log == [("POST", AUTH_PATH)]


def test_client_authenticates_lazily_once(client, sim):
    assert sim.request_log == []
    client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
    client.lookup_account(*DEMO_ACCOUNTS["gas_arrears"])
    assert _auth_requests(sim) == 1


def test_expired_token_is_renewed_transparently(client, sim):
    client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
    sim.expire_tokens()
    account = client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
    assert account.account_no == DEMO_ACCOUNTS["water_arrears"][1]
    assert _auth_requests(sim) == 2


def test_token_is_renewed_before_its_lifetime_runs_out(make_client):
    with BackendSimulator(token_ttl_s=1) as short_lived:
        client = make_client(base_url=short_lived.url)
        client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
        time.sleep(1.0)
        client.lookup_account(*DEMO_ACCOUNTS["water_arrears"])
        paths = [path for _, path in short_lived.request_log]
    # Renewed ahead of time: no request went out with a dead token first.
    assert paths == [AUTH_PATH, paths[1], AUTH_PATH, paths[1]]


def test_heartbeat_reports_status_and_returns_server_time(client, sim):
    beat = client.heartbeat("degraded")
    assert beat.server_time.endswith("+08:00")
    (received,) = sim.heartbeats
    assert received["terminal_id"] == "T0001" and received["status"] == "degraded"
    assert received["app_version"] == "0.1.0"


def test_heartbeat_with_an_unknown_status_is_a_programming_error(client):
    with pytest.raises(ValueError):
        client.heartbeat("on_fire")
