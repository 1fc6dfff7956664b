"""The kiosk's client of the billing system's HTTP API (docs/api.md).

Its promises, from docs/api.md section 5 ("Timeouts, retries and idempotency"):

* every call has a total deadline (``call_deadline_s``, retries and
  re-authentication included) that it cannot outlive, whatever the server
  does -- trickling headers or body a byte a second, sending one
  ``100 Continue`` after another, or nothing at all (:class:`_CallGuard`);
* a reply body is read up to ``max_reply_bytes``, counted as it comes over
  the wire and again as gzip or deflate inflate it, and refused beyond that
  (:class:`~contract.errors.ReplyTooLarge`); JSON nested deeper than a
  few levels or holding absurd numbers is refused before it is decoded;
* a request is retried only where that is safe -- reads, the heartbeat,
  authentication, and the payment POST, whose idempotency key makes a repeat
  harmless -- and only after a failure that may pass (unreachable, timeout,
  5xx); a 4xx is an answer, never retried;
* every failure surfaces as exactly one :class:`BackendError` subclass, so a
  caller needs one ``except`` and gets both the customer's reason
  (``reason_key``) and the technician's ``detail``;
* it talks to the configured backend only: no proxy, CA bundle, netrc or TLS
  key log from the environment; TLS is verified against ``ca_file`` (or the
  CA bundle requests ships, ``certifi``, when it is "").

Privacy (MISSION.md rule 5): nothing the backend wrote -- an error message, a
page title, a body, a status line -- goes into a ``detail`` or a log line;
details say method, path, status, the contract's error code, sizes and the
names of exceptions.  The server's own error messages are kept only in
``message_zh``/``message_en`` of the error (see kiosk/backend/errors.py).

Threading: the client blocks, so it belongs on a worker thread, never on the
GUI thread (DESIGN.md, point 1).  It is meant for one worker thread at a time;
every public call holds an internal lock, so a second thread that calls by
mistake waits its turn instead of tangling the token or the HTTP session.
:meth:`BackendClient.close` may be called from any thread and ends a call in
flight at once.

Logging goes to the ``kiosk.backend`` logger.  URL paths are logged with digit
runs masked, and account numbers with :func:`contract.masking.mask_account`.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import ssl
import threading
import time
import traceback
import unicodedata
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError  # requests' own transport

from contract.errors import (
    AccountClosed,
    AccountNotFound,
    AuthenticationFailed,
    BackendError,
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
    ReplyTooLarge,
    RequestNotSendable,
    RequestRejected,
)
from contract.masking import mask_account, redact_digit_runs
from contract.models import (
    TERMINAL_STATUSES,
    UTILITIES,
    Account,
    Heartbeat,
    PaymentRequest,
    PaymentResult,
    parse_account,
    parse_auth_token,
    parse_heartbeat,
    parse_payment_result,
)

log = logging.getLogger("kiosk.backend")

API = "/api/v1"
# A token is renewed this long before the server said it would expire, so a
# request does not leave with a token that dies on the way.
_TOKEN_MARGIN_S = 30.0
# 401 codes after which one fresh token and one repeat are worth trying.
_REAUTH_CODES = ("AUTH_EXPIRED", "AUTH_REQUIRED")
# What a retry may cure (docs/api.md, "Timeouts, retries and idempotency").
_TRANSIENT = (BackendUnreachable, BackendTimeout, BackendServerError)
# A body is read in pieces this large, each counted against the limit.
_CHUNK_BYTES = 64 * 1024
# The contract nests three levels (account, bills, bill); extra fields may
# add a few.  Deeper is refused before json.loads could recurse on it.
_MAX_JSON_DEPTH = 16
# No value of the contract has more digits (64-bit fen has 19).  Longer
# integers are refused while decoding: Python would build them digit by digit.
_MAX_INTEGER_DIGITS = 30
# The server's error messages are kept (for the customer, sealed in the
# journal) at most this long.
_MAX_MESSAGE_LENGTH = 200
# close() waits at most this long for a call it has cut short to let go.
_CLOSE_WAIT_S = 2.0

T = TypeVar("T")


@dataclass(frozen=True)
class _Reply:
    """A 2xx answer, its JSON body decoded."""

    status: int
    body: Any
    headers: Mapping[str, str]


# --- The deadline of a call ----------------------------------------------------


class _CallGuard:
    """The deadline of one public call, and the sockets to cut when it passes.

    Why a watchdog that shuts sockets down rather than more timeouts: requests
    and urllib3 time each socket operation, not the call, so a server that
    sends a byte a second, or one ``100 Continue`` after another, never trips
    a read timeout (PLATFORM.md).  Only something outside the blocked thread
    can end such a read.  ``shutdown(2)`` on the call's sockets wakes a blocked
    ``recv`` at once on Linux and makes every later read on them fail (a peer
    that keeps sending gets a reset) -- whether http.client is reading a
    status line, skipping 1xx answers, parsing headers, in a TLS handshake or
    reading the body.  Connecting is bounded by the connect timeout, cut to
    the time left.

    The guard holds a duplicate descriptor of each socket it watches, so it
    can never shut down a descriptor number that was closed and reused
    meanwhile; the duplicates are closed when the call ends, and so is the
    watchdog's timer thread: no thread outlives the call.

    The connection classes below find the guard of the call running on their
    thread through :meth:`current` (urllib3 does all of a request's socket
    work on the calling thread).
    """

    _local = threading.local()

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self.phase = "preparing the request"  # what the call is doing: says what was slow
        self.attempts = 0
        self.expired = False  # the deadline passed and the sockets were cut
        self.aborted = False  # close() cut them: the kiosk is stopping
        self._started = time.monotonic()
        self._finished = False
        self._handles: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline_s, self._expire)
        self._timer.name = "backend-call-deadline"
        self._timer.daemon = True

    @classmethod
    def current(cls) -> _CallGuard | None:
        return getattr(cls._local, "guard", None)

    @property
    def cut(self) -> bool:
        return self.expired or self.aborted

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def remaining(self) -> float:
        return self.deadline_s - self.elapsed()

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` too when the deadline passes (at once if it has)."""
        try:
            handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return  # closed meanwhile: nothing left to cut
        with self._lock:
            if self._finished:
                handle.close()
                return
            self._handles.append(handle)
            if self.cut:
                _shut_down(handle)

    def abort(self) -> None:
        self._cut_all(aborted=True)

    def _expire(self) -> None:
        self._cut_all(aborted=False)

    def _cut_all(self, *, aborted: bool) -> None:
        with self._lock:
            if self._finished:
                return
            if aborted:
                self.aborted = True
            else:
                self.expired = True
            for handle in self._handles:
                _shut_down(handle)

    def __enter__(self) -> _CallGuard:
        _CallGuard._local.guard = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _CallGuard._local.guard = None
        with self._lock:
            self._finished = True
            handles, self._handles = self._handles, []
        self._timer.cancel()
        self._timer.join(timeout=1.0)  # at once: cancel() wakes it, and it no longer waits for the lock
        for handle in handles:
            handle.close()


def _shut_down(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected yet, or already gone: either way no read can block on it


class _GuardedConnectionMixin:
    """urllib3 connection hooks that hand each socket of a call to its guard
    and tell it what the call is doing."""

    def _new_conn(self) -> socket.socket:
        guard = _CallGuard.current()
        if guard is not None:
            guard.phase = "connecting"
        sock = super()._new_conn()  # type: ignore[misc]
        if guard is not None:
            guard.watch(sock)
            tls = isinstance(self, HTTPSConnection)
            guard.phase = "in the TLS handshake" if tls else "sending the request"
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = _CallGuard.current()
        if guard is not None:
            if self.sock is not None:  # type: ignore[attr-defined]  # a kept-alive connection
                guard.watch(self.sock)  # type: ignore[attr-defined]
            guard.phase = "sending the request"
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        guard = _CallGuard.current()
        if guard is not None:
            guard.phase = "waiting for the status line and headers"
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter on guarded connections and the client's own TLS context."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context  # before super(): its __init__ builds the pool manager
        super().__init__(max_retries=0)  # the client retries, urllib3 never does

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, ssl_context=self._ssl_context, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _tls_context() -> ssl.SSLContext:
    """A TLS client context that reads nothing from the environment.

    Built by hand: ``ssl.create_default_context()`` and urllib3's own context
    honour ``SSLKEYLOGFILE`` (the session keys of every connection, the
    terminal's secret with them, written to a file the environment names),
    and ``load_default_certs()`` honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``.
    It starts with no CA at all: urllib3 loads the one ``verify`` names --
    ``ca_file``, or certifi's bundle -- into it for each connection.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _isolated_session(app_version: str) -> requests.Session:
    session = requests.Session()
    # Only the configured backend (MISSION.md rule 9): with trust_env, requests
    # takes proxies from http_proxy/HTTPS_PROXY/ALL_PROXY (the terminal's
    # secret would go to whatever they name), a CA bundle from
    # REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE and credentials from ~/.netrc or $NETRC.
    session.trust_env = False
    session.proxies.clear()
    session.headers.clear()
    session.headers.update({
        "Accept": "application/json",
        # What _Inflater decodes; requests would also offer br or zstd when
        # their modules happen to be installed.
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": f"utility-kiosk/{app_version}",
        "Connection": "keep-alive",
    })
    adapter = _GuardedAdapter(_tls_context())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# --- The client --------------------------------------------------------------


class BackendClient:
    """Talks to the billing system for one terminal (docs/api.md).

    Authenticates lazily on the first call and again whenever the token runs
    out or the server refuses it.  ``retries`` is the number of repeats after
    a first failed attempt, spaced ``backoff_s × attempt`` apart; each attempt
    is bounded by ``connect_timeout_s`` and ``read_timeout_s`` per socket
    operation, and the whole call -- every attempt, the backoff and a token
    renewal on the way -- by ``call_deadline_s``, after which it fails with
    BackendTimeout.  ``max_reply_bytes`` bounds every reply body.
    """

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        secret: str,
        connect_timeout_s: float,
        read_timeout_s: float,
        ca_file: str = "",
        retries: int = 2,
        app_version: str = "0.1.0",
        backoff_s: float = 0.2,
        call_deadline_s: float = 15.0,
        max_reply_bytes: int = 1 << 20,
    ) -> None:
        if not call_deadline_s > 0:
            raise ValueError(f"call_deadline_s must be a positive number of seconds, got {call_deadline_s!r}")
        if not max_reply_bytes >= 1:
            raise ValueError(f"max_reply_bytes must be at least 1, got {max_reply_bytes!r}")
        self._base_url = base_url.rstrip("/")
        self._terminal_id = terminal_id
        self._secret = secret
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        # A closed network has its own CA (MISSION.md rule 9): ca_file names it.
        self._verify: str | bool = ca_file or True
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._call_deadline_s = call_deadline_s
        self._max_reply_bytes = max_reply_bytes
        self._app_version = app_version
        self._session = _isolated_session(app_version)
        self._lock = threading.RLock()
        self._guard: _CallGuard | None = None  # the call in flight, for close()
        self._closed = False
        self._token = ""
        self._token_renew_at = 0.0  # time.monotonic() after which to renew

    # --- The API (docs/api.md, "Endpoints") ---------------------------------

    def authenticate(self) -> None:
        """Get a fresh token (POST /terminals/auth).  Retried: it changes nothing."""
        self._call(f"POST {API}/terminals/auth", self._authenticate_once, lambda _: None)

    def heartbeat(self, status: str) -> Heartbeat:
        """Report the terminal's service status; answers with the server's clock."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"status must be one of {TERMINAL_STATUSES}, got {status!r}")
        path = f"{API}/terminals/{_segment(self._terminal_id, 'terminal id')}/heartbeat"
        body = {"status": status, "app_version": self._app_version}
        where = f"POST {redact_digit_runs(path)}"
        return self._call(
            where,
            lambda guard: self._authorised(guard, "POST", path, body=body),
            lambda reply: self._parsed(parse_heartbeat, reply, where),
        )

    def lookup_account(self, utility: str, account_no: str) -> Account:
        """The account, its bills, usage and tariff.

        Raises AccountNotFound, or AccountClosed: the contract answers a
        closed account with 410, and a 200 that says "closed" is refused the
        same way, so no business is ever done on a closed account.
        """
        if utility not in UTILITIES:
            raise ValueError(f"utility must be one of {UTILITIES}, got {utility!r}")
        path = f"{API}/accounts/{utility}/{_segment(account_no, 'account number')}"
        where = f"GET {redact_digit_runs(path)}"
        account = self._call(
            where,
            lambda guard: self._authorised(guard, "GET", path),
            lambda reply: self._account(reply, where, utility, account_no),
        )
        log.info("account %s/%s looked up", utility, mask_account(account_no))
        return account

    def post_payment(self, req: PaymentRequest) -> PaymentResult:
        """Post a payment under its transaction number as idempotency key.

        Safe to call again with the same request after any failure: the
        server posts it at most once and replays its first answer
        (``replayed`` is then True).
        """
        path = f"{API}/payments"
        where = f"POST {path}"
        headers = {"Idempotency-Key": req.transaction_no}
        result = self._call(
            where,
            lambda guard: self._authorised(guard, "POST", path, body=req.to_body(), headers=headers),
            lambda reply: self._payment_result(reply, where, req.transaction_no),
        )
        log.info(
            "payment %s of %d fen for %s/%s posted as %s%s",
            req.transaction_no,
            req.amount_fen,
            req.utility,
            mask_account(req.account_no),
            result.receipt_no,
            " (replayed)" if result.replayed else "",
        )
        return result

    def payment_status(self, transaction_no: str) -> PaymentResult:
        """What the server holds for a transaction; PAYMENT_NOT_FOUND is a
        RequestRejected with that code (the payment never arrived)."""
        path = f"{API}/payments/{_segment(transaction_no, 'transaction number')}"
        where = f"GET {redact_digit_runs(path)}"
        return self._call(
            where,
            lambda guard: self._authorised(guard, "GET", path),
            lambda reply: self._payment_result(reply, where, transaction_no),
        )

    def close(self) -> None:
        """Close the client; a call in flight ends at once (CLIENT_CLOSED)
        instead of at its deadline, so the kiosk stops within seconds.  Any
        thread may call it; later calls fail with CLIENT_CLOSED."""
        self._closed = True
        guard = self._guard
        if guard is not None:
            guard.abort()
        if not self._lock.acquire(timeout=_CLOSE_WAIT_S):
            log.warning("backend client closed while a call still runs; its session closes when the call ends")
            return
        try:
            self._session.close()
        finally:
            self._lock.release()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- One public call: lock, deadline, retries, one kind of failure -------

    def _call(
        self,
        where: str,
        attempt: Callable[[_CallGuard], T],
        finish: Callable[[T], Any],
    ) -> Any:
        """Run ``attempt`` (retried) and ``finish`` on its result, within the
        call's deadline; whatever goes wrong leaves as a BackendError."""
        with self._lock:
            if self._closed:
                raise _closed_error(where, "before it began")
            guard = _CallGuard(self._call_deadline_s)
            self._guard = guard
            if self._closed:  # close() ran between the check and the line above
                guard.abort()
            try:
                with guard:
                    return finish(self._retrying(guard, attempt))
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - the contract: BackendError, and only that
                raise _unexpected(where, exc) from None
            finally:
                self._guard = None

    def _retrying(self, guard: _CallGuard, attempt: Callable[[_CallGuard], T]) -> T:
        """Run ``attempt``, repeating it after failures a retry may cure, while
        the deadline leaves time for another attempt."""
        for number in range(1, self._retries + 2):
            guard.attempts = number
            try:
                return attempt(guard)
            except _TRANSIENT as err:
                if number > self._retries or not err.retryable or guard.cut:
                    raise
                pause = self._backoff_s * number
                if guard.remaining() <= pause:
                    raise  # the deadline leaves no time for another attempt
                log.warning(
                    "attempt %d of %d failed (%s); retrying in %.2f s",
                    number, self._retries + 1, err, pause,
                )
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    # --- Authentication ------------------------------------------------------

    def _authenticate_once(self, guard: _CallGuard) -> None:
        path = f"{API}/terminals/auth"
        body = {"terminal_id": self._terminal_id, "secret": self._secret}
        reply = self._exchange(guard, "POST", path, body=body)
        token = self._parsed(parse_auth_token, reply, f"POST {path}")
        self._token = token.token
        margin = min(_TOKEN_MARGIN_S, token.expires_in_s / 10)
        self._token_renew_at = time.monotonic() + token.expires_in_s - margin
        log.info("terminal %s authenticated for %d s", self._terminal_id, token.expires_in_s)

    def _authorised(
        self,
        guard: _CallGuard,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Reply:
        """One exchange with a bearer token; renews the token once if refused.

        Authentication inside an attempt is not retried on its own: the
        caller's retry loop repeats the whole attempt, and the call's deadline
        bounds all of it.
        """
        if not self._token or time.monotonic() >= self._token_renew_at:
            self._authenticate_once(guard)
        try:
            return self._exchange(guard, method, path, body=body, headers=headers, token=self._token)
        except AuthenticationFailed as err:
            if err.code not in _REAUTH_CODES:
                raise
            log.info("token refused (%s); authenticating again", err.code)
        self._token = ""
        self._authenticate_once(guard)
        # A second refusal with a brand-new token is the server's final word.
        return self._exchange(guard, method, path, body=body, headers=headers, token=self._token)

    # --- One HTTP exchange ---------------------------------------------------

    def _exchange(
        self,
        guard: _CallGuard,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str = "",
    ) -> _Reply:
        """Send one request; return a 2xx, raise anything else as a BackendError."""
        where = f"{method} {redact_digit_runs(path)}"
        timeout = self._attempt_timeout(guard, where)
        data = None if body is None else _json_bytes(where, body)
        request_headers = _header_values(where, headers, token, has_body=data is not None)
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                data=data,
                headers=request_headers,
                timeout=timeout,
                verify=self._verify,
                allow_redirects=False,  # a redirect on a closed network is a misconfiguration
                stream=True,  # the body is read here, counted against the limit
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
                OSError, ValueError) as exc:  # OSError: e.g. ca_file missing
            raise _transport_error(guard, where, exc) from None
        try:
            reply = self._read_reply(guard, where, response)
        finally:
            response.close()
        log.debug("%s -> %d in %.0f ms", where, reply.status, (time.monotonic() - started) * 1000)
        return reply

    def _attempt_timeout(self, guard: _CallGuard, where: str) -> tuple[float, float]:
        """requests' (connect, read) timeouts, never longer than the time left."""
        if guard.cut:
            raise _transport_error(guard, where, None)
        remaining = guard.remaining()
        if remaining <= 0:
            raise _deadline_passed(guard, where)
        return min(self._connect_timeout_s, remaining), min(self._read_timeout_s, remaining)

    def _read_reply(self, guard: _CallGuard, where: str, response: requests.Response) -> _Reply:
        status = response.status_code
        coding = _content_coding(where, status, response.headers)
        announced = _announced_length(response.headers)
        if announced is not None and announced > self._max_reply_bytes:
            raise _too_large(where, status, self._max_reply_bytes, f"it announces {announced:,} bytes")
        body = self._read_body(guard, where, response, coding)
        if not 200 <= status < 300:
            raise _error_from_response(where, status, response.headers, body)
        return _Reply(status, _decode_json(where, status, body), response.headers)

    def _read_body(self, guard: _CallGuard, where: str, response: requests.Response, coding: str) -> bytes:
        """The body, at most ``max_reply_bytes`` on the wire and inflated."""
        status, limit = response.status_code, self._max_reply_bytes
        inflater = _Inflater(coding, limit, f"{where} -> {status}") if coding else None
        body = bytearray()
        received = 0
        while True:
            guard.phase = f"reading the body ({received:,} bytes so far)"
            try:
                # One byte over the limit is enough to know it is over.
                chunk = response.raw.read(min(_CHUNK_BYTES, limit + 1 - received), decode_content=False)
            except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError) as exc:
                raise _transport_error(guard, where, exc) from None
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                raise _too_large(where, status, limit, f"stopped reading at {received:,} bytes")
            body += inflater.feed(chunk) if inflater else chunk
        if guard.cut:  # a body read until the connection closes ends "normally" when cut
            raise _transport_error(guard, where, None)
        if inflater:
            inflater.finish()
        return bytes(body)

    # --- Turning replies into results ---------------------------------------

    @staticmethod
    def _parsed(parse: Callable[[Any], T], reply: _Reply, where: str) -> T:
        """Parse a reply body, adding where it came from to a contract breach."""
        try:
            return parse(reply.body)
        except MalformedReply as err:
            raise MalformedReply(
                f"{where} -> {reply.status}: {err.detail}", field=err.field
            ) from None

    def _account(self, reply: _Reply, where: str, utility: str, account_no: str) -> Account:
        account = self._parsed(parse_account, reply, where)
        if (account.utility, account.account_no) != (utility, account_no):
            raise MalformedReply(
                f"{where} -> {reply.status}: the reply is about another account",
                field="account_no",
            )
        if account.closed:
            raise AccountClosed(f"{where} -> {reply.status}: status is closed")
        return account

    def _payment_result(self, reply: _Reply, where: str, transaction_no: str) -> PaymentResult:
        replayed = reply.headers.get("Idempotent-Replay", "").strip().lower() == "true"
        result = self._parsed(
            lambda body: parse_payment_result(body, replayed=replayed), reply, where
        )
        if result.transaction_no != transaction_no:
            raise MalformedReply(
                f"{where} -> {reply.status}: the reply is about another transaction",
                field="transaction_no",
            )
        return result


# --- What the kiosk sends ----------------------------------------------------

# A header value the kiosk sends: visible ASCII, spaces inside only.  http.client
# would raise UnicodeEncodeError beyond Latin-1, and requests refuses line breaks.
_HEADER_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def _segment(value: str, what: str) -> str:
    """A value placed in a URL path, quoted so it can never add a segment."""
    try:
        return quote(value, safe="")
    except (UnicodeError, TypeError):  # a lone surrogate, or not text at all
        shown = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        raise RequestNotSendable(
            f"the {what} cannot be put in a URL: it is not valid Unicode text ({shown})"
        ) from None


def _json_bytes(where: str, body: Any) -> bytes:
    """The request body as UTF-8 JSON (docs/api.md section 1)."""
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeError, RecursionError) as exc:
        raise RequestNotSendable(
            f"{where}: the request body cannot be written as UTF-8 JSON ({type(exc).__name__})"
        ) from None


def _header_values(
    where: str, headers: Mapping[str, str] | None, token: str, *, has_body: bool
) -> dict[str, str]:
    values = dict(headers or {})
    if token:
        values["Authorization"] = f"Bearer {token}"
    if has_body:
        values["Content-Type"] = "application/json; charset=utf-8"
    for name, value in values.items():
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            length = len(value) if isinstance(value, str) else 0
            raise RequestNotSendable(
                f"{where}: the {name} header cannot carry this value ({length} characters): "
                "a header holds visible ASCII without line breaks"
            )
    return values


# --- Reading what came back ------------------------------------------------------

_KNOWN_CODINGS = ("br", "zstd", "compress", "x-compress", "aes128gcm", "exi", "pack200-gzip")


def _content_coding(where: str, status: int, headers: Mapping[str, str]) -> str:
    """"" for a plain body, else the coding _Inflater undoes (gzip, deflate)."""
    value = headers.get("Content-Encoding", "").strip().lower()
    if value in ("", "identity"):
        return ""
    if value in ("gzip", "x-gzip", "deflate"):
        return value
    shown = value if value in _KNOWN_CODINGS else "a coding it does not know"
    raise MalformedReply(
        f"{where} -> {status}: the body is compressed with {shown}; the kiosk asks for gzip or deflate only"
    )


def _announced_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Content-Length", "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,19}", value) else None


def _too_large(where: str, status: int, limit: int, how: str) -> ReplyTooLarge:
    return ReplyTooLarge(
        f"{where} -> {status}: the reply is larger than the limit of {limit:,} bytes "
        f"({limit / 1024:g} KiB, backend.max_reply_kib); {how}"
    )


class _Inflater:
    """gzip or deflate undone piece by piece, never beyond ``limit`` bytes.

    ``max_length`` makes zlib stop at the limit, so a compression bomb (1 MB
    inflating to 1 GiB) costs the limit in memory, not the gigabyte.
    """

    def __init__(self, coding: str, limit: int, where: str) -> None:
        # 32 + 15: zlib or gzip header, recognised by its magic; HTTP's
        # "deflate" is the zlib format (RFC 9110 section 8.4.1.2).
        self._wbits = 16 + 15 if coding in ("gzip", "x-gzip") else 32 + 15
        self._gzip = self._wbits == 16 + 15
        self._coding = coding
        self._limit = limit
        self._where = where
        self._inflated = 0
        self._stream = zlib.decompressobj(self._wbits)

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        while data:
            try:
                piece = self._stream.decompress(data, self._limit + 1 - self._inflated)
            except zlib.error:
                raise MalformedReply(f"{self._where}: the {self._coding} body is corrupt") from None
            self._inflated += len(piece)
            if self._inflated > self._limit:
                raise ReplyTooLarge(
                    f"{self._where}: the reply inflates beyond the limit of {self._limit:,} bytes "
                    f"({self._limit / 1024:g} KiB, backend.max_reply_kib); stopped inflating there"
                )
            out += piece
            if self._stream.eof:
                data = self._stream.unused_data
                if not (self._gzip and data.startswith(b"\x1f\x8b")):
                    break  # bytes after the end of the stream are ignored
                self._stream = zlib.decompressobj(self._wbits)  # the next gzip member
            else:
                data = self._stream.unconsumed_tail
        return bytes(out)

    def finish(self) -> None:
        if not self._stream.eof:
            raise MalformedReply(f"{self._where}: the {self._coding} body ends before its stream does")


class _NumberTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_INTEGER_DIGITS:
        raise _NumberTooLong(digits)
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # json.loads would accept NaN and Infinity


# A JSON string, or an unterminated one running to the end: always matching
# from its opening quote, possessively, keeps the scan linear (a pattern that
# could fail there would be retried from every quote inside the string).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"[\[{][\]}]")


def _nesting_problem(text: str) -> str:
    """Why the JSON's nesting is refused, or "".

    json.loads recurses once per level: 100,000 levels raise RecursionError.
    So the nesting is looked at first, without recursion: strings taken out,
    then the innermost bracket pairs peeled off, one level per pass.  A valid
    document is empty after as many passes as it has levels; one that stops
    shrinking has brackets that do not balance.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(_MAX_JSON_DEPTH):
        if not brackets:
            return ""
        peeled = _INNERMOST_PAIR.sub("", brackets)
        if peeled == brackets:
            return "the body is not JSON (its brackets do not balance)"
        brackets = peeled
    if brackets:
        return f"the body nests deeper than {_MAX_JSON_DEPTH} levels"
    return ""


def _decode_json(where: str, status: int, body: bytes) -> Any:
    """The body as JSON, or MalformedReply; never RecursionError or a giant int."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body is not JSON in UTF-8 (byte {exc.start:,} of {len(body):,})"
        ) from None
    problem = _nesting_problem(text)
    if problem:
        raise MalformedReply(f"{where} -> {status}: {problem}")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except _NumberTooLong as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body holds an integer of {exc.digits:,} digits; "
            f"no value of the contract has more than {_MAX_INTEGER_DIGITS}"
        ) from None
    except json.JSONDecodeError as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body is not JSON ({exc.msg} at character {exc.pos:,} of {len(text):,})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise MalformedReply(f"{where} -> {status}: the body is not JSON ({type(exc).__name__})") from None


# --- Turning failures into BackendErrors -------------------------------------


def _transport_error(guard: _CallGuard, where: str, exc: BaseException | None) -> BackendError:
    """No (complete) HTTP answer: the deadline, close(), a timeout, or no connection."""
    if guard.aborted:
        return _closed_error(where, f"while {guard.phase}")
    if guard.expired:
        return _deadline_passed(guard, where)
    cause = _cause_summary(exc)
    if _timed_out(exc):
        return BackendTimeout(f"{where}: timed out {guard.phase} ({cause})")
    if _unsendable(exc):
        return RequestNotSendable(f"{where}: the request cannot be sent ({cause})")
    return BackendUnreachable(f"{where}: no reply ({guard.phase}: {cause})")


def _deadline_passed(guard: _CallGuard, where: str) -> BackendTimeout:
    return BackendTimeout(
        f"{where}: no complete answer within the call deadline of {guard.deadline_s:g} s "
        f"(backend.call_deadline_s): still {guard.phase} after {guard.elapsed():.1f} s, "
        f"attempt {guard.attempts}"
    )


def _closed_error(where: str, when: str) -> BackendUnreachable:
    return BackendUnreachable(
        f"{where}: the backend client was closed {when} (the kiosk is stopping)", code="CLIENT_CLOSED"
    )


def _timed_out(exc: BaseException | None) -> bool:
    # A read timeout while the body streams in reaches us as urllib3's
    # ReadTimeoutError, or as a requests.ConnectionError wrapping it.
    return isinstance(exc, (requests.Timeout, ReadTimeoutError, TimeoutError)) or any(
        isinstance(arg, ReadTimeoutError) for arg in getattr(exc, "args", ())
    )


def _unsendable(exc: BaseException | None) -> bool:
    """A value of ours that cannot go on the wire (the pre-checks should catch
    them all; this is the net under them)."""
    refused = (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL,
               requests.exceptions.InvalidJSONError, UnicodeError)
    if isinstance(exc, refused):
        return True
    return isinstance(exc, ValueError) and not isinstance(exc, (requests.RequestException, urllib3.exceptions.HTTPError))


def _cause_summary(exc: BaseException | None) -> str:
    """The chain of exception types behind a transport failure, with an errno
    or TLS reason where there is one -- and never an exception's message:
    http.client puts the server's own status line or header into some."""
    names: list[str] = []
    facts: list[str] = []
    pending = [exc] if exc is not None else []
    seen: set[int] = set()
    while pending and len(seen) < 10:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        names.append(type(current).__name__)
        if isinstance(current, ssl.SSLCertVerificationError) and current.verify_message:
            facts.append(str(current.verify_message))
        elif isinstance(current, ssl.SSLError) and current.reason:
            facts.append(str(current.reason))
        elif isinstance(current, OSError) and current.errno is not None and not isinstance(current, ssl.SSLError):
            facts.append(_errno_name(current.errno))
        inner = [arg for arg in current.args if isinstance(arg, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            inner.append(reason)
        pending.extend(inner + [current.__cause__, current.__context__])
    if not names:
        return "cut short"
    chain = " < ".join(dict.fromkeys(names))
    return chain + (f" [{', '.join(dict.fromkeys(facts))}]" if facts else "")


def _errno_name(number: int) -> str:
    import errno

    return errno.errorcode.get(number, f"errno {number}")


def _unexpected(where: str, exc: Exception) -> MalformedReply:
    """The net under everything: any other exception is still a BackendError.

    Logged with its frames but without its message, which may quote the reply.
    Reported as MalformedReply (retryable, outcome unknown): for a payment the
    outbox then asks the billing system what it holds."""
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-4))
    log.error("%s: unexpected %s in the backend client", where, type(exc).__name__, extra={"frames": frames})
    return MalformedReply(f"{where}: the call failed inside the client ({type(exc).__name__})")


_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _error_from_response(where: str, status: int, headers: Mapping[str, str], body: bytes) -> BackendError:
    """A non-2xx answer as the error type the contract gives its code."""
    error = _error_body(where, status, body)
    if error is None:
        # Not the contract speaking: a proxy's page, or a server falling over.
        return BackendServerError(
            f"{where} -> {status} without an error body: {_describe_body(headers, body)}",
            code=f"HTTP_{status}",
        )
    code = error["code"]
    # The server's message may name the customer: it stays out of the detail.
    detail = (
        f"{where} -> {status} {code} (the server's message is kept out of logs: "
        f"{len(error['message_zh'])} + {len(error['message_en'])} characters)"
    )
    if code == "ACCOUNT_NOT_FOUND":
        kind: type[BackendError] = AccountNotFound
    elif code == "ACCOUNT_CLOSED":
        kind = AccountClosed
    elif status in (401, 403):
        kind = AuthenticationFailed
    elif status >= 500:
        kind = BackendServerError
    else:
        kind = RequestRejected
    return kind(
        detail,
        code=code,
        retryable=error["retryable"],
        message_zh=_kept_message(error["message_zh"]),
        message_en=_kept_message(error["message_en"]),
    )


def _error_body(where: str, status: int, body: bytes) -> dict[str, Any] | None:
    """The contract's ``{"error": {...}}`` object, or None if this is not one."""
    try:
        decoded = _decode_json(where, status, body)
    except MalformedReply:
        return None
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    if not isinstance(code, str) or not _ERROR_CODE.fullmatch(code):
        return None
    if not all(isinstance(error.get(k), str) for k in ("message_zh", "message_en")):
        return None
    if not isinstance(error.get("retryable"), bool):
        return None
    return error


def _kept_message(text: str) -> str:
    """The server's message, bounded and without characters that could break
    a screen, a journal row or its encoding."""
    kept = "".join(c for c in text[:_MAX_MESSAGE_LENGTH] if unicodedata.category(c)[0] != "C")
    return kept.strip()


_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# A page title made only of these words is a status page ("502 Bad Gateway",
# nginx's "504 Gateway Time-out"), never a name or an address: it may be shown.
_STATUS_WORDS = frozenset(
    word.lower() for status in HTTPStatus for word in status.phrase.split()
) | {"time-out", "temporarily", "error", "nginx", "apache", "openresty", "-", "|"}
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,40}/[a-z0-9][a-z0-9!#$&^_.+-]{0,60}")


def _describe_body(headers: Mapping[str, str], body: bytes) -> str:
    """A technician's one-line idea of what came back instead of the contract's
    error object: kind and size, never the text."""
    media = _media_type(headers.get("Content-Type", ""))
    if not body:
        return f"an empty body ({media})"
    if "html" in media or body.lstrip()[:1] == b"<":
        return f"an HTML page ({media}, {len(body):,} bytes), {_title(body)}"
    return f"{len(body):,} bytes of {media}, not shown"


def _media_type(value: str) -> str:
    media = value.split(";", 1)[0].strip().lower()
    if not media:
        return "no content type"
    return media if _MEDIA_TYPE.fullmatch(media) else "an unusual content type"


def _title(body: bytes) -> str:
    found = _TITLE.search(body[:_CHUNK_BYTES])
    if not found:
        return "untitled"
    title = " ".join(found.group(1).decode("utf-8", "replace").split())
    words = title.split()
    if words and all(w.lower() in _STATUS_WORDS or re.fullmatch(r"[0-9]{3}", w) for w in words):
        return f"title {title!r}"
    return f"a title of {len(title)} characters, not shown"
