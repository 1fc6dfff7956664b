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
  authentication, and the payment and assistance POSTs, whose idempotency
  keys make a repeat harmless -- and only after a failure that may pass (unreachable, timeout,
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

This module holds the API and the life of one call (lock, deadline, token,
one exchange); each promise above is kept in a module of its own:
kiosk/backend/call_guard.py (the deadline), reply_body.py (the size limit),
json_limits.py (the JSON limits), retries.py, request_values.py (what may be
sent), transport_errors.py and error_replies.py (one BackendError for every
failure), results.py (a reply about what was asked) and http_session.py (the
isolated session).  The card purchase calls and the mobile payment orders
are mixins: purchase_client.py and mobile_client.py.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from typing import Any, Callable, Mapping, TypeVar

import requests
import urllib3.exceptions

from contract.assistance import AssistanceReply, assistance_request
from contract.errors import AuthenticationFailed, BackendError
from contract.masking import mask_account, redact_digit_runs
from contract.models import (
    TERMINAL_STATUSES,
    UTILITIES,
    Account,
    Heartbeat,
    PaymentRequest,
    PaymentResult,
    parse_auth_token,
    parse_heartbeat,
)
from kiosk.backend.call_guard import _CallGuard
from kiosk.backend.error_replies import _error_from_response
from kiosk.backend.http_session import _isolated_session
from kiosk.backend.json_limits import _decode_json
from kiosk.backend.mobile_client import MobileCalls
from kiosk.backend.purchase_client import PurchaseCalls
from kiosk.backend.reply_body import (
    _announced_length,
    _content_coding,
    _read_body,
    _Reply,
    _too_large,
)
from kiosk.backend.request_values import _header_values, _json_bytes, _segment
from kiosk.backend.results import _checked_account, _checked_assistance, _checked_payment_result, _parsed
from kiosk.backend.retries import _retrying
from kiosk.backend.transport_errors import (
    _closed_error,
    _deadline_passed,
    _transport_error,
    _unexpected,
)

log = logging.getLogger("kiosk.backend")

API = "/api/v1"
# A token is renewed this long before the server said it would expire, so a
# request does not leave with a token that dies on the way.
_TOKEN_MARGIN_S = 30.0
# 401 codes after which one fresh token and one repeat are worth trying.
_REAUTH_CODES = ("AUTH_EXPIRED", "AUTH_REQUIRED")
# close() waits at most this long for a call it has cut short to let go.
_CLOSE_WAIT_S = 2.0

T = TypeVar("T")


class BackendClient(PurchaseCalls, MobileCalls):  # kiosk/backend/purchase_client.py, mobile_client.py
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
            lambda reply: _parsed(parse_heartbeat, reply, where),
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
            lambda reply: _checked_account(reply, where, utility, account_no),
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
            lambda reply: _checked_payment_result(reply, where, req.transaction_no),
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
            lambda reply: _checked_payment_result(reply, where, transaction_no),
        )

    def request_assistance(self, step: str, request_key: str | None = None) -> AssistanceReply:
        """Call a staff member to this terminal from journey ``step``; nothing
        about the customer is sent (docs/api.md, 3.6).

        ``request_key`` (a new one when None) is the Idempotency-Key of every
        attempt, so a retry after a lost answer calls one person, not two; a
        caller repeats a failed call under the same key for the same reason.
        """
        request = assistance_request(step, request_key)
        path = f"{API}/terminals/{_segment(self._terminal_id, 'terminal id')}/assistance"
        where = f"POST {redact_digit_runs(path)}"
        headers = {"Idempotency-Key": request.key}
        reply = self._call(
            where,
            lambda guard: self._authorised(guard, "POST", path, body=request.to_body(), headers=headers),
            lambda answer: _checked_assistance(answer, where),
        )
        log.info("staff called from step %s as %s%s", step, reply.request_id, " (replayed)" if reply.replayed else "")
        return reply

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
                    return finish(_retrying(guard, attempt, self._retries, self._backoff_s))
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - the contract: BackendError, and only that
                raise _unexpected(where, exc) from None
            finally:
                self._guard = None

    # --- Authentication ------------------------------------------------------

    def _authenticate_once(self, guard: _CallGuard) -> None:
        path = f"{API}/terminals/auth"
        body = {"terminal_id": self._terminal_id, "secret": self._secret}
        reply = self._exchange(guard, "POST", path, body=body)
        token = _parsed(parse_auth_token, reply, f"POST {path}")
        self._token = token.token
        margin = min(_TOKEN_MARGIN_S, token.expires_in_s / 10)
        self._token_renew_at = time.monotonic() + token.expires_in_s - margin
        log.info("terminal %s authenticated for %d s", self._terminal_id, token.expires_in_s)

    def _authorised(
        self, guard: _CallGuard, method: str, path: str, *,
        body: Any = None, headers: Mapping[str, str] | None = None,
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
        body = _read_body(guard, where, response, coding, self._max_reply_bytes)
        if not 200 <= status < 300:
            raise _error_from_response(where, status, response.headers, body)
        return _Reply(status, _decode_json(where, status, body), response.headers)
