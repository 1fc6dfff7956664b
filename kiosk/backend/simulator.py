"""A real HTTP server that implements the billing-system contract (docs/api.md).

The demo and the tests point the kiosk's :class:`BackendClient` at it over
loopback, so the client is exercised on real sockets, real status codes and
real timeouts, never against a mock (DESIGN.md, point 6).

Two layers, kept apart as in python-escpos (protocol apart from transport):

* :class:`_Billing` (kiosk/backend/sim_billing.py) is the billing system's
  behaviour: requests in, replies out, no sockets.  Its state (accounts,
  tokens, postings, and the calls for staff of sim_assistance.py) is guarded
  by one lock, so concurrent requests serialise like transactions would.
  The prepaid card purchases (:class:`_Purchases`, sim_purchases.py: cards,
  purchases, write tokens made with the card master key) answer the
  ``/cards`` and ``/purchases`` paths under the same lock, and the mobile
  payment orders (:class:`_Mobile`, sim_mobile.py, with the customer's phone
  and the payment providers played here) the ``/mobile-orders`` paths.
* :class:`_Handler` (kiosk/backend/sim_http.py) is the HTTP transport, and
  the only place faults (kiosk/backend/sim_faults.py) are injected: a delay,
  a 500, a dropped connection, a broken body, a reverse proxy's HTML page, or
  a posting applied and then never answered.

Faults are set from Python (:meth:`BackendSimulator.inject`) or, when the
simulator runs alone, over HTTP (docs/api.md, "Simulator only").  This
module is the public face that ties the layers together: start and stop,
fault injection, what was received, and the /_sim/ control endpoints.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any, Iterable

from kiosk.backend.seed import DEMO_ACCOUNTS, DEMO_CARD_MASTER_KEY, DEMO_CARDS, seed_accounts, seed_cards
from kiosk.backend.sim_billing import ACCEPTED_DENOMINATIONS_FEN, _Billing, now_iso
from kiosk.backend.sim_faults import FAULT_KINDS, _Faults
from kiosk.backend.sim_http import _Server
from kiosk.backend.sim_mobile import SCANNED_OUTCOMES, _Mobile
from kiosk.backend.sim_purchases import _Purchases
from kiosk.backend.sim_messages import _error, _json_reply, _Refused, _Reply, _Request

# Names the old single-module simulator offered, importable from here as before.
__all__ = ["ACCEPTED_DENOMINATIONS_FEN", "FAULT_KINDS", "BackendSimulator", "now_iso", "run_simulator"]

log = logging.getLogger("kiosk.backend.simulator")


class BackendSimulator:
    """The billing system on a loopback port, for the demo and the tests.

    >>> with BackendSimulator() as sim:
    ...     client = BackendClient(sim.url, "T0001", "demo-terminal-secret", 0.5, 1.0)

    It implements docs/api.md exactly, plus fault injection and the
    "Simulator only" control endpoints.  ``accounts`` are account objects in
    their wire format; by default :func:`kiosk.backend.seed.seed_accounts`.
    ``cards`` are prepaid card records as :func:`kiosk.backend.seed.seed_cards`
    makes them (the default), and ``card_master_key`` the 16-byte key each
    card's key is diversified from (contract/card_token.py).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        terminal_secret: str = "demo-terminal-secret",
        accounts: Iterable[dict[str, Any]] | None = None,
        token_ttl_s: int = 3600,
        cards: Iterable[dict[str, Any]] | None = None,
        card_master_key: bytes = DEMO_CARD_MASTER_KEY,
    ) -> None:
        self._address = (host, port)
        self._billing = _Billing(
            terminal_secret, seed_accounts() if accounts is None else accounts, token_ttl_s
        )
        self._purchases = _Purchases(self._billing, seed_cards() if cards is None else cards, card_master_key)
        self._mobile = _Mobile(self._billing, self._purchases)
        self._faults = _Faults()
        self._seen_lock = threading.Lock()
        self._seen: list[tuple[str, str]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator has not been started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BackendSimulator:
        self._server = _Server(self._address, self)
        # A short poll interval keeps stop() quick: shutdown() waits for a poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="backend-simulator",
            daemon=True,
        )
        self._thread.start()
        log.info("backend simulator serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection, as a backend going away."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            for connection in list(server.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BackendSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def inject(
        self,
        kind: str,
        *,
        count: int | None = None,
        path_prefix: str = "",
        seconds: float = 0.0,
    ) -> None:
        """Make matching requests fail (docs/api.md, "Simulator only").

        ``count=None`` lasts until :meth:`clear_faults`; ``count=N`` hits the
        next N requests whose path starts with ``path_prefix``.
        """
        self._faults.add(kind, count, path_prefix, seconds)

    def clear_faults(self) -> None:
        self._faults.clear()

    def close_account(self, utility: str, account_no: str) -> None:
        """The billing office closes an account (a payment to it is then refused, 422 ACCOUNT_CLOSED)."""
        with self._billing.lock:
            self._billing.close_account(utility, account_no)

    def restore_accounts(self) -> None:
        """Every account as seeded again (the tour pays the same bill in each language)."""
        with self._billing.lock:
            self._billing.restore_accounts()

    def expire_tokens(self) -> None:
        """Make every token issued so far expired, as after the TTL ran out."""
        self._billing.expire_tokens()

    @property
    def postings(self) -> list[dict[str, Any]]:
        """Every payment actually applied, oldest first (a copy)."""
        with self._billing.lock:
            return [dict(p) for p in self._billing.postings]

    @property
    def heartbeats(self) -> list[dict[str, Any]]:
        """Every heartbeat received, oldest first (a copy)."""
        with self._billing.lock:
            return [dict(h) for h in self._billing.heartbeats]

    @property
    def assistance_calls(self) -> list[dict[str, Any]]:
        """Every call for a staff member queued, oldest first, with the body as
        received (a copy); a repeated key is one call."""
        with self._billing.lock:
            return [dict(c) for c in self._billing.assistance.calls]

    @property
    def purchases(self) -> list[dict[str, Any]]:
        """Every card purchase ordered, oldest first, as GET /purchases/{no} answers it (a copy)."""
        with self._billing.lock:
            return [json.loads(json.dumps(p)) for p in self._purchases.purchases.values()]

    @property
    def cards(self) -> list[dict[str, Any]]:
        """Every prepaid card as the billing system keeps it, with its purchase count now (a copy)."""
        with self._billing.lock:
            return [dict(c) for c in self._purchases.cards.values()]

    def cancel_card(self, card_serial: str) -> None:
        """The card is reported lost or replaced: its purchases and orders are refused (CARD_CANCELLED)."""
        with self._billing.lock:
            self._purchases.cancel_card(card_serial)

    def issue_held_tokens(self) -> int:
        """After token_never_issued: the key system recovers and issues every token it held back."""
        with self._billing.lock:
            return self._purchases.issue_held()

    # --- The customer's phone and the payment providers (docs/api.md, 6) -------

    @property
    def mobile(self) -> _Mobile:
        """The mobile orders' settings: ``qr_ttl_s``, ``scanned_deadline_s``,
        ``late_window_s``, ``password_s``, ``poll_interval_ms``, and ``clock``
        (``clock.advance(seconds)`` moves the providers' time on)."""
        return self._mobile

    @property
    def mobile_orders(self) -> list[dict[str, Any]]:
        """Every mobile order made, oldest first, as GET /mobile-orders/{no} answers it now (a copy)."""
        with self._billing.lock:
            return self._mobile.listed()

    def set_scanned_outcome(self, outcome: str | None) -> None:
        """What every scanned payment code does from now on (None: by its last digit)."""
        if outcome is not None and outcome not in SCANNED_OUTCOMES:
            raise ValueError(f"scanned outcome must be one of {', '.join(SCANNED_OUTCOMES)} or None, got {outcome!r}")
        self._mobile.scanned_outcome = outcome

    def pay(self, order_no: str, provider: str = "wechat") -> None:
        """The customer's phone pays a waiting order (the provider confirms at once)."""
        with self._billing.lock:
            self._mobile.pay(order_no, provider)

    def pay_late(self, order_no: str, provider: str = "wechat") -> None:
        """The provider confirms a payment after the order expired or was cancelled: it stands and posts."""
        with self._billing.lock:
            self._mobile.pay(order_no, provider, late=True)

    def hold(self, order_no: str, provider: str = "wechat") -> None:
        """The customer's app has the order and waits for a password: user_paying until pay or decline."""
        with self._billing.lock:
            self._mobile.hold(order_no, provider)

    def decline(self, order_no: str, reason: str = "insufficient_funds") -> None:
        """The provider refuses the payment (``reason``: a contract.mobile.DeclineReason value)."""
        with self._billing.lock:
            self._mobile.decline(order_no, reason)

    @property
    def request_log(self) -> list[tuple[str, str]]:
        """(method, path) of every API request received, faulted or not."""
        with self._seen_lock:
            return list(self._seen)

    def _note_request(self, request: _Request) -> None:
        with self._seen_lock:
            self._seen.append((request.method, request.path))

    def _api_for(self, path: str) -> _Billing | _Purchases | _Mobile:
        """The part of the billing system a path of the API belongs to."""
        if path.startswith(("/api/v1/cards/", "/api/v1/purchases/")) or path == "/api/v1/purchases":
            return self._purchases
        if path.startswith("/api/v1/mobile-orders/") or path == "/api/v1/mobile-orders":
            return self._mobile
        return self._billing

    def _control(self, request: _Request) -> _Reply:
        """The /_sim/ endpoints: no token, never faulted."""
        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/_sim/postings"):
            return _json_reply(200, {"postings": self.postings})
        if route == ("GET", "/_sim/purchases"):
            return _json_reply(200, {"purchases": self.purchases})
        if route == ("GET", "/_sim/cards"):
            return _json_reply(200, {"cards": self.cards})
        if route == ("POST", "/_sim/purchases/issue-held"):
            return _json_reply(200, {"issued": self.issue_held_tokens()})
        if route == ("GET", "/_sim/mobile-orders"):
            return _json_reply(200, {"orders": self.mobile_orders})
        if request.method == "POST" and route[1].startswith("/_sim/mobile-orders/"):
            return self._control_phone(request, route[1])
        if route == ("GET", "/_sim/assistance"):
            return _json_reply(200, {"calls": self.assistance_calls})
        if route == ("GET", "/_sim/faults"):
            return _json_reply(200, {"faults": self._faults.listed()})
        if route == ("DELETE", "/_sim/faults"):
            self.clear_faults()
            return _json_reply(200, {"faults": []})
        if route == ("POST", "/_sim/tokens/expire"):
            return _json_reply(200, {"expired": self._billing.expire_tokens()})
        if route == ("POST", "/_sim/faults"):
            return self._control_inject(request)
        return _error(404, "NOT_FOUND", f"{request.method} {request.path}")

    def _control_phone(self, request: _Request, path: str) -> _Reply:
        """POST /_sim/mobile-orders/{no}/{pay|pay-late|hold|decline}: the phone, over HTTP (the demo panel)."""
        order_no, _, action = path[len("/_sim/mobile-orders/"):].partition("/")
        spec = request.json() if request.body else {}
        actions = {"pay": self.pay, "pay-late": self.pay_late, "hold": self.hold}
        try:
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            if action == "decline":
                self.decline(order_no, spec.get("reason", "insufficient_funds"))
            elif action in actions:
                actions[action](order_no, spec.get("provider", "wechat"))
            else:
                return _error(404, "NOT_FOUND", f"POST {path}")
        except _Refused as refused:
            return refused.reply
        except ValueError as problem:
            return _error(400, "VALIDATION_FAILED", str(problem))
        return _json_reply(200, {"order": self._mobile_order(order_no)})

    def _mobile_order(self, order_no: str) -> dict[str, Any]:
        return next(o for o in self.mobile_orders if o["order_no"] == order_no)

    def _control_inject(self, request: _Request) -> _Reply:
        try:
            spec = request.json()
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            self.inject(
                spec.get("kind", ""),
                count=spec.get("count"),
                path_prefix=spec.get("path_prefix", ""),
                seconds=spec.get("seconds", 0.0),
            )
        except _Refused as refused:
            return refused.reply
        except ValueError as problem:
            return _error(400, "VALIDATION_FAILED", str(problem))
        return _json_reply(201, {"faults": self._faults.listed()})


def run_simulator(port: int, host: str = "127.0.0.1") -> None:
    """Serve until Ctrl+C (``kiosk backend-sim --port N``)."""
    simulator = BackendSimulator(host=host, port=port).start()
    accounts = ", ".join(f"{name}={u}/{no}" for name, (u, no) in DEMO_ACCOUNTS.items())
    cards = ", ".join(f"{name}={serial}" for name, serial in DEMO_CARDS.items())
    print(f"Backend simulator on {simulator.url} - demo accounts: {accounts}; demo cards: {cards}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
