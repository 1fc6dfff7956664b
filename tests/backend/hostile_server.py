"""An HTTP server on loopback that misbehaves on purpose, path by path.

What a billing-system client must survive is easiest to show with a server
that does it for real, over a real socket: headers or a body a byte a second,
one ``100 Continue`` after another, no answer at all, a 50 MB body, a gzip
bomb, JSON nested 100,000 deep, error bodies that name a person.  Each path
prefix gets a *behaviour*, a function that receives the parsed request and
the connection and does whatever it likes with the socket; the longest
matching prefix wins, and behaviours may be changed while the server runs::

    with HostileServer() as server:
        server.on("/api/v1/terminals/auth", reply_json({"token": "t", "expires_in_s": 3600}))
        server.on("/api/v1/accounts", trickle_head(interval_s=1.0))
        client = BackendClient(server.url, ...)

``server.requests`` lists what arrived (method, path, headers, body) and
``server.connections`` counts the connections accepted, so a test can also
assert that nothing reached a server (a "proxy" that must stay unused).
Pass ``tls=`` a server-side ``ssl.SSLContext`` for HTTPS.

Nothing here can hang a test: every loop ends when the client goes away,
when the server stops, or after ``max_s`` (default 30 s); ``stop()`` cuts the
open connections and waits a bounded time for their threads.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import socketserver
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

MAX_HEAD_BYTES = 64 * 1024
MAX_REQUEST_BODY = 1 << 20
DEFAULT_MAX_S = 30.0


class ClientGone(Exception):
    """The client closed or reset the connection (or the server is stopping)."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Exchange:
    """One request on one connection, as a behaviour sees it."""

    def __init__(self, sock: socket.socket, request: Request, stopping: threading.Event) -> None:
        self.sock = sock
        self.request = request
        self._stopping = stopping

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def send(self, data: bytes) -> None:
        if self.stopping:
            raise ClientGone("server stopping")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ClientGone(str(exc)) from exc

    def trickle(self, data: bytes, interval_s: float, max_s: float = DEFAULT_MAX_S) -> None:
        """Send ``data`` one byte every ``interval_s``."""
        ends = time.monotonic() + max_s
        for i in range(len(data)):
            if time.monotonic() > ends:
                raise ClientGone("trickle ran past max_s")
            self.send(data[i:i + 1])
            self.wait(interval_s)

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``; ClientGone as soon as the client closes or the server stops."""
        ends = time.monotonic() + seconds
        while (left := ends - time.monotonic()) > 0:
            if self.stopping:
                raise ClientGone("server stopping")
            readable, _, _ = select.select([self.sock], [], [], min(left, 0.05))
            if readable and not self._peek():
                raise ClientGone("client closed the connection")

    def _peek(self) -> bytes:
        try:
            return self.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError, ValueError):  # ValueError: TLS cannot peek
            return b"-"
        except (OSError, ssl.SSLError):
            return b""


Behaviour = Callable[[Exchange], None]


class HostileServer:
    """A threaded HTTP/1.1 server on ``host`` whose every path does what it is told."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self._host, self._port, self._tls = host, port, tls
        self._behaviours: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._connections = 0
        self._open: set[socket.socket] = set()
        self._serving: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> HostileServer:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            block_on_close = False

        self._server = Server((self._host, self._port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hostile-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        ends = time.monotonic() + 5
        with self._lock:
            threads = list(self._serving)
        for thread in threads + [self._thread]:
            if thread is not None:
                thread.join(timeout=max(0.0, ends - time.monotonic()))
        self._server = None

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what a test uses -----------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self._host}:{self.port}"

    def on(self, path_prefix: str, behaviour: Behaviour) -> None:
        """Serve requests whose path starts with ``path_prefix`` with ``behaviour``."""
        with self._lock:
            self._behaviours[path_prefix] = behaviour

    def clear(self) -> None:
        with self._lock:
            self._behaviours.clear()

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    # --- serving ------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        raw = sock
        with self._lock:
            self._connections += 1
            self._open.add(sock)
            self._serving.add(threading.current_thread())
        try:
            sock.settimeout(5.0)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._open.add(sock)
            request = _read_request(sock)
            if request is None:
                return
            with self._lock:
                self._requests.append(request)
            behaviour = self._behaviour_for(request.path)
            sock.settimeout(DEFAULT_MAX_S)  # a client that stops reading cannot block a send for ever
            try:
                behaviour(Exchange(sock, request, self._stopping))
            except ClientGone:
                pass
        except (OSError, ssl.SSLError, ValueError):
            pass  # a client that breaks the connection is what some tests are about
        finally:
            with self._lock:
                self._open.difference_update({raw, sock})
                self._serving.discard(threading.current_thread())
            try:
                sock.close()
            except OSError:
                pass

    def _behaviour_for(self, path: str) -> Behaviour:
        with self._lock:
            prefixes = sorted((p for p in self._behaviours if path.startswith(p)), key=len, reverse=True)
            return self._behaviours[prefixes[0]] if prefixes else _not_found


def _read_request(sock: socket.socket) -> Request | None:
    head = b""
    while b"\r\n\r\n" not in head:
        piece = sock.recv(4096)
        if not piece:
            return None
        head += piece
        if len(head) > MAX_HEAD_BYTES:
            return None
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), MAX_REQUEST_BODY)
    body = rest
    while len(body) < length:
        piece = sock.recv(length - len(body))
        if not piece:
            break
        body += piece
    return Request(method, path, headers, body[:length])


# --- Building answers ----------------------------------------------------------------


def response_head(status: int, headers: Mapping[str, str] | None = None, reason: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Whatever')}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {100: "Continue", 200: "OK", 201: "Created", 404: "Not Found", 410: "Gone",
            422: "Unprocessable Entity", 500: "Internal Server Error", 502: "Bad Gateway"}


def reply(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Behaviour:
    """A complete, honest answer."""

    def behave(exchange: Exchange) -> None:
        all_headers = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
        exchange.send(response_head(status, all_headers) + body)

    return behave


def reply_json(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Behaviour:
    body = json.dumps(obj).encode("ascii")  # \u escapes: a lone surrogate can be sent too
    return reply(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def contract_error(status: int, code: str, message_zh: str, message_en: str, retryable: bool = False) -> Behaviour:
    """The contract's error body (docs/api.md section 4)."""
    return reply_json({"error": {"code": code, "message_zh": message_zh, "message_en": message_en,
                                 "retryable": retryable}}, status)


def _not_found(exchange: Exchange) -> None:
    contract_error(404, "NOT_FOUND", "无此路径", "No such path")(exchange)


def trickle_head(interval_s: float = 1.0, body: bytes = b"{}", max_s: float = DEFAULT_MAX_S) -> Behaviour:
    """The status line and headers one byte every ``interval_s``: each read
    gets a byte well within any read timeout, and the head never ends."""

    def behave(exchange: Exchange) -> None:
        padding = "x" * 4000  # far more bytes than a test waits seconds
        head = response_head(200, {"Content-Type": "application/json", "X-Padding": padding,
                                   "Content-Length": str(len(body))})
        exchange.trickle(head, interval_s, max_s)
        exchange.send(body)

    return behave


def trickle_body(interval_s: float = 1.0, body: bytes | None = None, max_s: float = DEFAULT_MAX_S) -> Behaviour:
    """Honest headers, then the body one byte every ``interval_s``."""

    def behave(exchange: Exchange) -> None:
        content = body if body is not None else b'{"server_time": "' + b" " * 4000 + b'"}'
        exchange.send(response_head(200, {"Content-Type": "application/json",
                                          "Content-Length": str(len(content))}))
        exchange.trickle(content, interval_s, max_s)

    return behave


def endless_continue(interval_s: float = 0.02, max_s: float = DEFAULT_MAX_S) -> Behaviour:
    """``100 Continue`` after ``100 Continue``, and never a final answer."""

    def behave(exchange: Exchange) -> None:
        ends = time.monotonic() + max_s
        while time.monotonic() < ends:
            exchange.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            exchange.wait(interval_s)

    return behave


def hang(max_s: float = DEFAULT_MAX_S) -> Behaviour:
    """Read the request, then say nothing at all."""

    def behave(exchange: Exchange) -> None:
        exchange.wait(max_s)

    return behave


def delayed(delay_s: float, then: Behaviour) -> Behaviour:
    """Silence for ``delay_s``, then ``then``."""

    def behave(exchange: Exchange) -> None:
        exchange.wait(delay_s)
        then(exchange)

    return behave


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """The first request gets the first behaviour, the next the second ...;
    the last one answers every request after that."""
    lock = threading.Lock()
    served = [0]

    def behave(exchange: Exchange) -> None:
        with lock:
            index = min(served[0], len(behaviours) - 1)
            served[0] += 1
        behaviours[index](exchange)

    return behave


def streamed(pieces: Callable[[], Iterable[bytes]], headers: Mapping[str, str] | None = None,
             status: int = 200) -> Behaviour:
    """A body made while it is sent, in chunked transfer coding: no length
    announced, and never all of it in memory."""

    def behave(exchange: Exchange) -> None:
        exchange.send(response_head(status, {"Content-Type": "application/json",
                                             "Transfer-Encoding": "chunked", **(headers or {})}))
        for piece in pieces():
            if piece:
                exchange.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        exchange.send(b"0\r\n\r\n")

    return behave


def gzip_bomb(inflated_bytes: int = 1 << 30) -> Behaviour:
    """A gzip body of zeros that inflates to ``inflated_bytes`` (1 GiB: about 1 MB on the wire)."""
    return streamed(lambda: _gzip_of_zeros(inflated_bytes), {"Content-Encoding": "gzip"})


def _gzip_of_zeros(inflated_bytes: int) -> Iterator[bytes]:
    """Compressed a MiB of zeros at a time, while it is sent: the gigabyte is
    never in memory, and compressing stops when the client hangs up."""
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + 15, 9, zlib.Z_RLE)  # RLE: fast on zeros
    left = inflated_bytes
    while left > 0:
        yield compressor.compress(block[:min(left, len(block))])
        left -= len(block)
    yield compressor.flush()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)


def account_body(utility: str, account_no: str, **overrides: Any) -> dict[str, Any]:
    """A well-formed account object (docs/api.md section 3.3); ``overrides`` replace fields."""
    account = {
        "utility": utility, "account_no": account_no, "holder_masked": "张*明",
        "address_masked": "城东区**路**号", "status": "active", "arrears_fen": 9082, "balance_fen": 0,
        "unit": "kWh",
        "bills": [{"period": "2026-10", "amount_fen": 9082, "due_date": "2026-11-15", "status": "unpaid",
                   "usage": 186.0}],
        "usage": [{"month": f"2026-{m:02d}", "quantity": 200.0} for m in range(1, 13)],
        "tariff_tiers": [{"tier": 1, "name_zh": "第一档", "name_en": "Tier 1", "up_to": None,
                          "price_fen_per_unit": 48.83}],
    }
    account.update(overrides)
    return account


def account_with_many_bills(utility: str, account_no: str, total_bytes: int) -> Callable[[], Iterator[bytes]]:
    """A valid account whose bills run on until the body is ``total_bytes`` long,
    generated piece by piece (50 MB is some 485,000 bills)."""

    def pieces() -> Iterator[bytes]:
        head = json.dumps(account_body(utility, account_no, bills=[]), ensure_ascii=False)
        prefix, _, suffix = head.partition('"bills": []')
        yield (prefix + '"bills": [').encode("utf-8")
        bill = b'{"period": "2026-10", "amount_fen": 9082, "due_date": "2026-11-15", "status": "paid", "usage": 1.0}'
        per_piece = 1000
        sent = 0
        first = True
        while sent < total_bytes:
            batch = b",".join([bill] * per_piece)
            yield batch if first else b"," + batch
            first = False
            sent += len(batch) + 1
        yield ("]" + suffix).encode("utf-8")

    return pieces
