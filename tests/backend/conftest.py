"""The world the backend tests run in: a real simulator on a loopback port and
a client pointed at it with short timeouts (STYLE.md: fixtures, not patches)."""

from __future__ import annotations

import socket
from typing import Callable, Iterator

import pytest

from backend.hostile_server import HostileServer, reply_json
from kiosk.backend.client import BackendClient
from contract.models import PaymentNote, PaymentRequest
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator

TERMINAL_ID = "T0001"
SECRET = "demo-terminal-secret"
AUTH_PATH = "/api/v1/terminals/auth"


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0, terminal_secret=SECRET) as simulator:
        yield simulator


@pytest.fixture
def make_client(sim: BackendSimulator) -> Iterator[Callable[..., BackendClient]]:
    """Clients on the simulator; keyword arguments override the defaults."""
    yield from _client_factory({"base_url": sim.url, "terminal_id": TERMINAL_ID, "secret": SECRET,
                                "connect_timeout_s": 0.5, "read_timeout_s": 1.0, "backoff_s": 0.01})


@pytest.fixture
def client(make_client: Callable[..., BackendClient]) -> BackendClient:
    return make_client()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def payment() -> Callable[..., PaymentRequest]:
    """Payments for the arrears account: 3 × 100 yuan unless told otherwise."""
    utility, account_no = DEMO_ACCOUNTS["electricity_arrears"]

    def make(transaction_no: str = "T0001-20261123-0001", **overrides) -> PaymentRequest:
        fields = {
            "transaction_no": transaction_no,
            "terminal_id": TERMINAL_ID,
            "utility": utility,
            "account_no": account_no,
            "amount_fen": 30000,
            "notes": (PaymentNote(10000, 3),),
            "paid_at": "2026-11-23T10:15:00+08:00",
        }
        fields.update(overrides)
        return PaymentRequest(**fields)

    return make


# --- A hostile backend (tests/backend/hostile_server.py) ----------------------

HOSTILE_TOKEN = "hostile-token"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A hostile server on loopback that authenticates any terminal; every
    other path answers as the test tells it (``hostile.on(prefix, behaviour)``)."""
    with HostileServer() as server:
        server.on(AUTH_PATH, reply_json({"token": HOSTILE_TOKEN, "expires_in_s": 3600}))
        yield server


@pytest.fixture
def make_hostile_client(hostile: HostileServer) -> Iterator[Callable[..., BackendClient]]:
    """Clients on the hostile server with the shipped timeouts (3 s connect,
    10 s read: a trickle never trips them) and a 2 s call deadline."""
    yield from _client_factory({"base_url": hostile.url, "terminal_id": TERMINAL_ID, "secret": SECRET,
                                "connect_timeout_s": 3.0, "read_timeout_s": 10.0, "retries": 0,
                                "backoff_s": 0.01, "call_deadline_s": 2.0})

def _client_factory(defaults: dict):
    """A fixture body: ``make(**overrides)`` builds clients on ``defaults``; all are closed after."""
    made: list[BackendClient] = []

    def make(**overrides) -> BackendClient:
        client = BackendClient(**{**defaults, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
