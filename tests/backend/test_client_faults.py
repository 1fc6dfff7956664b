"""Every way the network or the server can fail maps to one BackendError type."""

from __future__ import annotations

import pytest

from contract.errors import (
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
)
from kiosk.backend.seed import DEMO_ACCOUNTS, seed_accounts
from kiosk.backend.simulator import BackendSimulator

WATER = DEMO_ACCOUNTS["water_arrears"]
ACCOUNTS_PATH = "/api/v1/accounts"


def _lookups(sim) -> int:
    return sum(1 for _, path in sim.request_log if path.startswith(ACCOUNTS_PATH))


def test_reply_later_than_the_read_timeout_is_a_timeout(make_client, sim):
    client = make_client(read_timeout_s=0.2, retries=0)
    sim.inject("delay", seconds=0.5, path_prefix=ACCOUNTS_PATH)
    with pytest.raises(BackendTimeout) as caught:
        client.lookup_account(*WATER)
    assert caught.value.reason_key == "error.network_down" and caught.value.retryable


def test_reply_within_the_read_timeout_is_waited_for(make_client, sim):
    client = make_client(read_timeout_s=1.0)
    sim.inject("delay", seconds=0.2, path_prefix=ACCOUNTS_PATH)
    assert client.lookup_account(*WATER).account_no == WATER[1]


def test_one_server_error_on_a_lookup_is_cured_by_the_retry(client, sim):
    sim.inject("http_500", count=1, path_prefix=ACCOUNTS_PATH)
    assert client.lookup_account(*WATER).account_no == WATER[1]
    assert _lookups(sim) == 2


def test_lasting_server_error_surfaces_after_the_retries(client, sim):
    sim.inject("http_500", path_prefix=ACCOUNTS_PATH)
    with pytest.raises(BackendServerError) as caught:
        client.lookup_account(*WATER)
    assert caught.value.code == "INTERNAL_ERROR"
    assert caught.value.reason_key == "error.backend_failed"
    assert caught.value.message_zh  # the server's own words, kept for the technician
    assert _lookups(sim) == 3  # first attempt + retries=2


def test_dropped_connection_is_unreachable(make_client, sim):
    client = make_client(retries=0)
    sim.inject("drop", path_prefix=ACCOUNTS_PATH)
    with pytest.raises(BackendUnreachable) as caught:
        client.lookup_account(*WATER)
    assert caught.value.reason_key == "error.network_down"


def test_dropped_connection_once_is_cured_by_the_retry(client, sim):
    sim.inject("drop", count=1, path_prefix=ACCOUNTS_PATH)
    assert client.lookup_account(*WATER).account_no == WATER[1]


def test_broken_json_is_a_malformed_reply_and_not_retried(client, sim):
    sim.inject("malformed_json", path_prefix=ACCOUNTS_PATH)
    with pytest.raises(MalformedReply) as caught:
        client.lookup_account(*WATER)
    assert "not JSON" in caught.value.detail
    assert caught.value.reason_key == "error.backend_failed"
    assert _lookups(sim) == 1


def test_proxy_html_page_is_a_server_error_that_says_html(client, sim):
    sim.inject("html_error", path_prefix=ACCOUNTS_PATH)
    with pytest.raises(BackendServerError) as caught:
        client.lookup_account(*WATER)
    assert "HTML" in caught.value.detail and "502 Bad Gateway" in caught.value.detail
    assert caught.value.code == "HTTP_502"


def test_fault_limited_to_a_path_leaves_other_paths_alone(client, sim):
    sim.inject("http_500", path_prefix="/api/v1/payments")
    assert client.heartbeat("in_service").server_time


def test_cleared_faults_stop_hitting(client, sim):
    sim.inject("http_500")
    sim.clear_faults()
    assert client.lookup_account(*WATER).account_no == WATER[1]


def test_nothing_listening_is_unreachable(make_client, closed_port):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(BackendUnreachable) as caught:
        client.lookup_account(*WATER)
    assert caught.value.code == "NETWORK_UNREACHABLE"


def test_stopped_backend_is_unreachable(client, sim):
    client.lookup_account(*WATER)
    sim.stop()
    with pytest.raises(BackendUnreachable):
        client.lookup_account(*WATER)


def test_field_of_the_wrong_type_in_a_real_reply_is_named(make_client):
    accounts = seed_accounts("2026-10")
    broken = next(a for a in accounts if (a["utility"], a["account_no"]) == WATER)
    broken["bills"][2]["amount_fen"] = "12.5"
    with BackendSimulator(accounts=accounts) as odd_backend:
        client = make_client(base_url=odd_backend.url)
        with pytest.raises(MalformedReply) as caught:
            client.lookup_account(*WATER)
    assert caught.value.field == "bills[2].amount_fen"
    assert 'bills[2].amount_fen: expected an integer, got "12.5"' in caught.value.detail
