"""A real HTTP server that implements the billing-system contract (docs/api.md).

The demo and the tests point the kiosk's :class:`BackendClient` at it over
loopback, so the client is exercised on real sockets, real status codes and
real timeouts, never against a mock (DESIGN.md, point 6).

Two layers, kept apart as in python-escpos (protocol apart from transport):

* :class:`_Billing` is the billing system's behaviour: requests in, replies
  out, no sockets.  Its state (accounts, tokens, postings) is guarded by one
  lock, so concurrent requests serialise like transactions would.
* :class:`_Handler` is the HTTP transport, and the only place faults are
  injected: a delay, a 500, a dropped connection, a broken body, a reverse
  proxy's HTML page, or a posting applied and then never answered.

Faults are set from Python (:meth:`BackendSimulator.inject`) or, when the
simulator runs alone, over HTTP (docs/api.md, "Simulator only").
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

from contract.errors import MalformedReply
from contract.models import (
    TERMINAL_STATUSES,
    UTILITIES,
    PaymentNote,
    PaymentRequest,
    parse_payment_request,
)
from kiosk.backend.seed import DEMO_ACCOUNTS, seed_accounts

log = logging.getLogger("kiosk.backend.simulator")

FAULT_KINDS = ("delay", "http_500", "drop", "malformed_json", "html_error", "drop_after_commit",
               "booked_then_500_final", "booked_then_huge_numbers", "booked_then_malformed")
# The "booked_then_*" faults do the work, then answer with something a kiosk
# cannot use: a 500 that says "do not retry", numbers that fit no 64-bit
# integer, or a body cut short.  The kiosk must learn the truth from
# GET /payments/{no} instead of referring money that was posted.
_BOOKED_THEN = ("booked_then_500_final", "booked_then_huge_numbers", "booked_then_malformed")

# Banknotes the utility accepts (1, 5, 10, 20, 50 and 100 yuan), in fen.
ACCEPTED_DENOMINATIONS_FEN = (100, 500, 1000, 2000, 5000, 10000)

_BEIJING_TIME = timezone(timedelta(hours=8))

# code -> (message_zh, message_en, retryable); docs/api.md, "Error codes".
_ERROR_TEXTS: dict[str, tuple[str, str, bool]] = {
    "VALIDATION_FAILED": ("请求内容不正确", "The request is not valid", False),
    "IDEMPOTENCY_KEY_REQUIRED": ("缺少幂等键", "The Idempotency-Key header is required", False),
    "AUTH_FAILED": ("终端认证失败", "Terminal authentication failed", False),
    "AUTH_REQUIRED": ("需要终端认证", "Terminal authentication is required", False),
    "AUTH_EXPIRED": ("终端认证已过期", "The terminal's token has expired", False),
    "TERMINAL_MISMATCH": ("终端编号与认证不符", "The terminal id does not match the token", False),
    "ACCOUNT_NOT_FOUND": ("户号不存在，请核对后重新输入", "No account has this number", False),
    "ACCOUNT_CLOSED": ("该户已销户，请到人工窗口办理", "This account is closed", False),
    "PAYMENT_NOT_FOUND": ("未找到该笔交易", "No payment has this transaction number", False),
    "IDEMPOTENCY_CONFLICT": (
        "该交易号已用于另一笔缴费",
        "This transaction number was already used for a different payment",
        False,
    ),
    "AMOUNT_INVALID": ("缴费金额无效", "The payment amount is not valid", False),
    "NOT_FOUND": ("接口不存在", "No such endpoint", False),
    "METHOD_NOT_ALLOWED": ("不支持的请求方法", "Method not allowed on this endpoint", False),
    "INTERNAL_ERROR": ("系统内部错误，请稍后再试", "Internal error, please try again later", True),
}

_MALFORMED_BODY = b'{"utility": "electricity", "account_no": "32011000'
_PROXY_502_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _booked_then_lie(done: "_Reply", kind: str) -> "_Reply":
    """The work is done (``done`` is the true answer); what the kiosk is told instead."""
    if kind == "booked_then_500_final":
        reply = _error(500, "INTERNAL_ERROR")
        body = json.loads(reply.payload)
        body["error"]["retryable"] = False
        return _json_reply(500, body)
    if kind == "booked_then_huge_numbers" and done.status < 300:
        body = json.loads(done.payload)
        body["balance_after_fen"] = 2**64
        return _json_reply(done.status, body, done.headers)
    return _Reply(done.status, done.payload[: max(1, len(done.payload) // 2)], headers=done.headers)


def now_iso() -> str:
    """The billing system's clock: Beijing time, with its offset."""
    return datetime.now(_BEIJING_TIME).isoformat(timespec="seconds")


# --- Replies ----------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _json_reply(status: int, obj: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Reply:
    return _Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers=headers)


def _error(status: int, code: str, explanation: str = "") -> _Reply:
    """The contract's error body (docs/api.md, "Errors")."""
    message_zh, message_en, retryable = _ERROR_TEXTS[code]
    if explanation:
        message_en = f"{message_en}: {explanation}"
    body = {
        "code": code,
        "message_zh": message_zh,
        "message_en": message_en,
        "retryable": retryable,
    }
    return _json_reply(status, {"error": body})


class _Refused(Exception):
    """Raised inside a route to answer with an error reply."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _refuse(status: int, code: str, explanation: str = "") -> _Refused:
    return _Refused(_error(status, code, explanation))


# --- The billing system -----------------------------------------------------


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: Any  # http.client.HTTPMessage: case-insensitive .get()
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise _refuse(400, "VALIDATION_FAILED", "body is not JSON") from None


class _Billing:
    """What the billing system does, request by request (docs/api.md)."""

    def close_account(self, utility: str, account_no: str) -> None:
        self._accounts[(utility, account_no)]["status"] = "closed"

    def restore_accounts(self) -> None:
        """Balances and arrears back to the seed; postings and idempotency keys stay."""
        self._accounts = {(a["utility"], a["account_no"]): json.loads(json.dumps(a)) for a in self._seed}

    def __init__(
        self, terminal_secret: str, accounts: Iterable[dict[str, Any]], token_ttl_s: int
    ) -> None:
        self._secret = terminal_secret
        self._token_ttl_s = token_ttl_s
        self._seed = [json.loads(json.dumps(a)) for a in accounts]
        self._accounts: dict[tuple[str, str], dict[str, Any]] = {}
        self.restore_accounts()
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (terminal, expiry)
        # (terminal, idempotency key) -> (request body, result body)
        self._payments: dict[tuple[str, str], tuple[dict, dict]] = {}
        self._receipt_seq = 0
        self.lock = threading.Lock()
        self.postings: list[dict[str, Any]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self._routes: list[tuple[str, tuple[str, ...], Callable[..., _Reply]]] = [
            ("POST", ("terminals", "auth"), self._authenticate),
            ("POST", ("terminals", "*", "heartbeat"), self._heartbeat),
            ("GET", ("accounts", "*", "*"), self._account),
            ("POST", ("payments",), self._post_payment),
            ("GET", ("payments", "*"), self._payment_status),
        ]

    def handle(self, request: _Request) -> _Reply:
        route, args = self._route(request)
        try:
            with self.lock:
                return route(request, *args)
        except _Refused as refused:
            return refused.reply

    def expire_tokens(self) -> int:
        with self.lock:
            for token, (terminal, _) in self._tokens.items():
                self._tokens[token] = (terminal, 0.0)
            return len(self._tokens)

    def _route(self, request: _Request) -> tuple[Callable[..., _Reply], tuple[str, ...]]:
        prefix = "/api/v1/"
        if not request.path.startswith(prefix):
            return self._not_found, ()
        parts = tuple(unquote(p) for p in request.path[len(prefix) :].split("/"))
        allowed = False
        for method, pattern, route in self._routes:
            if len(parts) != len(pattern) or any(
                want not in ("*", got) for want, got in zip(pattern, parts)
            ):
                continue
            if method == request.method:
                return route, tuple(got for want, got in zip(pattern, parts) if want == "*")
            allowed = True
        return (self._not_allowed if allowed else self._not_found), ()

    # Routes.  Each runs under self.lock and returns a reply or raises _Refused.

    def _not_found(self, request: _Request) -> _Reply:
        return _error(404, "NOT_FOUND", f"{request.method} {request.path}")

    def _not_allowed(self, request: _Request) -> _Reply:
        return _error(405, "METHOD_NOT_ALLOWED", request.method)

    def _authenticate(self, request: _Request) -> _Reply:
        body = request.json()
        if not isinstance(body, dict) or not _nonempty_str(body.get("terminal_id")):
            raise _refuse(400, "VALIDATION_FAILED", "terminal_id and secret are required")
        if not secrets.compare_digest(str(body.get("secret", "")), self._secret):
            raise _refuse(401, "AUTH_FAILED")
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (body["terminal_id"], time.monotonic() + self._token_ttl_s)
        return _json_reply(200, {"token": token, "expires_in_s": self._token_ttl_s})

    def _heartbeat(self, request: _Request, terminal_id: str) -> _Reply:
        self._require_terminal(request, terminal_id)
        body = request.json()
        if not isinstance(body, dict) or body.get("status") not in TERMINAL_STATUSES:
            raise _refuse(400, "VALIDATION_FAILED", "status: " + " | ".join(TERMINAL_STATUSES))
        if not _nonempty_str(body.get("app_version")):
            raise _refuse(400, "VALIDATION_FAILED", "app_version is required")
        server_time = now_iso()
        self.heartbeats.append(
            {"terminal_id": terminal_id, "received_at": server_time, **body}
        )
        return _json_reply(200, {"server_time": server_time})

    def _account(self, request: _Request, utility: str, account_no: str) -> _Reply:
        self._terminal(request)
        account = self._find_account(utility, account_no, missing_status=404)
        if account["status"] == "closed":
            # A closed account's data is not sent to a public terminal at all.
            raise _refuse(410, "ACCOUNT_CLOSED")
        return _json_reply(200, account)

    def _post_payment(self, request: _Request) -> _Reply:
        terminal = self._terminal(request)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise _refuse(400, "IDEMPOTENCY_KEY_REQUIRED")
        body = request.json()
        try:
            payment = parse_payment_request(body)
        except MalformedReply as problem:
            raise _refuse(400, "VALIDATION_FAILED", problem.detail) from None
        if key != payment.transaction_no:
            raise _refuse(400, "VALIDATION_FAILED", "Idempotency-Key must equal transaction_no")
        if payment.terminal_id != terminal:
            raise _refuse(403, "TERMINAL_MISMATCH")

        earlier = self._payments.get((terminal, key))
        if earlier is not None:
            earlier_body, result = earlier
            if earlier_body != body:
                raise _refuse(409, "IDEMPOTENCY_CONFLICT", key)
            return _json_reply(200, result, headers=(("Idempotent-Replay", "true"),))

        self._check_amount(payment.amount_fen, payment.notes)
        account = self._find_account(payment.utility, payment.account_no, missing_status=422)
        if account["status"] == "closed":
            raise _refuse(422, "ACCOUNT_CLOSED")
        result = self._apply(account, payment)
        self._payments[(terminal, key)] = (body, result)
        return _json_reply(201, result)

    def _payment_status(self, request: _Request, transaction_no: str) -> _Reply:
        terminal = self._terminal(request)
        earlier = self._payments.get((terminal, transaction_no))
        if earlier is None:
            raise _refuse(404, "PAYMENT_NOT_FOUND", transaction_no)
        return _json_reply(200, earlier[1])

    # Helpers.

    def _terminal(self, request: _Request) -> str:
        """The terminal the bearer token was issued to (docs/api.md, "Authentication")."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            raise _refuse(401, "AUTH_REQUIRED")
        terminal, expiry = entry
        if time.monotonic() >= expiry:
            raise _refuse(401, "AUTH_EXPIRED")
        return terminal

    def _require_terminal(self, request: _Request, terminal_id: str) -> None:
        if self._terminal(request) != terminal_id:
            raise _refuse(403, "TERMINAL_MISMATCH")

    def _find_account(self, utility: str, account_no: str, *, missing_status: int) -> dict:
        if utility not in UTILITIES:
            raise _refuse(400, "VALIDATION_FAILED", "utility: " + " | ".join(UTILITIES))
        if not (account_no.isascii() and account_no.isdigit()):
            raise _refuse(400, "VALIDATION_FAILED", "account_no must be digits")
        account = self._accounts.get((utility, account_no))
        if account is None:
            raise _refuse(missing_status, "ACCOUNT_NOT_FOUND")
        return account

    @staticmethod
    def _check_amount(amount_fen: int, notes: tuple[PaymentNote, ...]) -> None:
        if amount_fen <= 0:
            raise _refuse(422, "AMOUNT_INVALID", "amount_fen must be positive")
        if any(n.denomination_fen not in ACCEPTED_DENOMINATIONS_FEN for n in notes):
            raise _refuse(422, "AMOUNT_INVALID", "unknown note denomination")
        if sum(n.denomination_fen * n.count for n in notes) != amount_fen:
            raise _refuse(422, "AMOUNT_INVALID", "notes do not add up to amount_fen")

    def _apply(self, account: dict, payment: PaymentRequest) -> dict[str, Any]:
        """Post the payment: arrears first, the rest credited to the balance
        (the machine gives no change; MISSION.md)."""
        to_arrears = min(payment.amount_fen, account["arrears_fen"])
        account["arrears_fen"] -= to_arrears
        account["balance_fen"] += payment.amount_fen - to_arrears
        _settle_bills(account)
        self._receipt_seq += 1
        posted_at = now_iso()
        result = {
            "transaction_no": payment.transaction_no,
            "status": "posted",
            "posted_at": posted_at,
            "receipt_no": f"R{posted_at[:10].replace('-', '')}-{self._receipt_seq:06d}",
            "balance_after_fen": account["balance_fen"],
            "arrears_after_fen": account["arrears_fen"],
        }
        self.postings.append(
            {
                "transaction_no": payment.transaction_no,
                "terminal_id": payment.terminal_id,
                "utility": payment.utility,
                "account_no": payment.account_no,
                "amount_fen": payment.amount_fen,
                "receipt_no": result["receipt_no"],
                "posted_at": posted_at,
            }
        )
        return result


def _settle_bills(account: dict) -> None:
    """Mark the oldest unpaid bills paid for as long as the newer unpaid ones
    still add up to what is owed (bills run newest first)."""
    unpaid = [b for b in reversed(account["bills"]) if b["status"] == "unpaid"]
    still_unpaid = sum(b["amount_fen"] for b in unpaid)
    for bill in unpaid:
        if still_unpaid - bill["amount_fen"] < account["arrears_fen"]:
            break
        bill["status"] = "paid"
        still_unpaid -= bill["amount_fen"]


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# --- Faults -----------------------------------------------------------------


@dataclass
class _Fault:
    kind: str
    count: int | None  # uses left; None: until cleared
    path_prefix: str
    seconds: float


class _Faults:
    """The faults waiting to hit requests, first matching one wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(self, kind: str, count: int | None, path_prefix: str, seconds: float) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if count is not None and (type(count) is not int or count < 1):
            raise ValueError(f"fault count must be a positive integer or None, got {count!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"fault seconds must be a number >= 0, got {seconds!r}")
        if not isinstance(path_prefix, str):
            raise ValueError(f"fault path_prefix must be a string, got {path_prefix!r}")
        with self._lock:
            self._faults.append(_Fault(kind, count, path_prefix, float(seconds)))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def listed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, path: str) -> _Fault | None:
        """The fault for a request to ``path``, using up one of its count."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None


# --- HTTP transport ---------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections idle in their threads; stop() closes them itself
    # instead of waiting for every client to hang up.
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: BackendSimulator) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real backend behind a proxy
    server_version = "BackendSimulator/1"
    timeout = 60  # an idle keep-alive connection is closed after this
    # Headers and body leave in separate writes; with Nagle on, the body waits
    # for the client's delayed ACK and every request costs 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the client is gone; nothing left to flush to

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        request = _Request(
            method=self.command,
            path=urlsplit(self.path).path,
            headers=self.headers,
            body=self._read_body(),
        )
        simulator = self.server.simulator
        try:
            if request.path.startswith("/_sim/"):
                reply = simulator._control(request)
            else:
                simulator._note_request(request)
                reply = self._with_fault(request, simulator._faults.take(request.path))
        except Exception:  # a bug in the simulator must still answer like a server
            log.exception("simulator failed on %s %s", request.method, request.path)
            reply = _error(500, "INTERNAL_ERROR")
        if reply is None:
            self._hang_up()
        else:
            self._send(reply)

    def _with_fault(self, request: _Request, fault: _Fault | None) -> _Reply | None:
        """The reply to send, or None to close the connection without one."""
        billing = self.server.simulator._billing
        if fault is None:
            return billing.handle(request)
        log.info("fault %s on %s %s", fault.kind, request.method, request.path)
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return billing.handle(request)
        if fault.kind == "http_500":
            return _error(500, "INTERNAL_ERROR")
        if fault.kind == "drop":
            return None
        if fault.kind == "malformed_json":
            return _Reply(200, _MALFORMED_BODY)
        if fault.kind == "html_error":
            return _Reply(502, _PROXY_502_PAGE, content_type="text/html")
        if fault.kind in _BOOKED_THEN:
            return _booked_then_lie(billing.handle(request), fault.kind)
        billing.handle(request)  # drop_after_commit: the work is done, the answer lost
        return None

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0  # then the body is not JSON, and the route says so
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: _Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.payload)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.payload)
        except OSError:
            # The client gave up first (its read timeout ran out during a delay).
            self.close_connection = True

    def _hang_up(self) -> None:
        """Close without a byte of reply, as a crashed backend or a cut cable."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


# --- The public face --------------------------------------------------------


class BackendSimulator:
    """The billing system on a loopback port, for the demo and the tests.

    >>> with BackendSimulator() as sim:
    ...     client = BackendClient(sim.url, "T0001", "demo-terminal-secret", 0.5, 1.0)

    It implements docs/api.md exactly, plus fault injection and the
    "Simulator only" control endpoints.  ``accounts`` are account objects in
    their wire format; by default :func:`kiosk.backend.seed.seed_accounts`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        terminal_secret: str = "demo-terminal-secret",
        accounts: Iterable[dict[str, Any]] | None = None,
        token_ttl_s: int = 3600,
    ) -> None:
        self._address = (host, port)
        self._billing = _Billing(
            terminal_secret, seed_accounts() if accounts is None else accounts, token_ttl_s
        )
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
    def request_log(self) -> list[tuple[str, str]]:
        """(method, path) of every API request received, faulted or not."""
        with self._seen_lock:
            return list(self._seen)

    def _note_request(self, request: _Request) -> None:
        with self._seen_lock:
            self._seen.append((request.method, request.path))

    def _control(self, request: _Request) -> _Reply:
        """The /_sim/ endpoints: no token, never faulted."""
        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/_sim/postings"):
            return _json_reply(200, {"postings": self.postings})
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
    print(f"Backend simulator on {simulator.url} - demo accounts: {accounts}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
