"""The kiosk's client of the billing system's HTTP API (docs/api.md).

Three promises, all from docs/api.md, "Timeouts, retries and idempotency":

* every request carries ``timeout=(connect, read)``: no call waits forever;
* a request is retried only where that is safe -- reads, the heartbeat,
  authentication, and the payment POST, whose idempotency key makes a repeat
  harmless -- and only after a failure that may pass (unreachable, timeout,
  5xx); a 4xx is an answer, never retried;
* every failure surfaces as exactly one :class:`BackendError` subclass, so a
  caller needs one ``except`` and gets both the customer's reason
  (``reason_key``) and the technician's ``detail``.

Threading: the client blocks, so it belongs on a worker thread, never on the
GUI thread (DESIGN.md, point 1).  It is meant for one worker thread at a time;
every public call holds an internal lock, so a second thread that calls by
mistake waits its turn instead of tangling the token or the HTTP session.

Logging goes to the ``kiosk.backend`` logger.  URL paths are logged with digit
runs masked, and account numbers with :func:`kiosk.masking.mask_account`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote

import requests
from urllib3.exceptions import ReadTimeoutError  # requests' own transport

from kiosk.backend.errors import (
    AccountClosed,
    AccountNotFound,
    AuthenticationFailed,
    BackendError,
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
    RequestRejected,
)
from kiosk.backend.models import (
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
from kiosk.masking import mask_account, redact_digit_runs

log = logging.getLogger("kiosk.backend")

API = "/api/v1"
# A token is renewed this long before the server said it would expire, so a
# request does not leave with a token that dies on the way.
_TOKEN_MARGIN_S = 30.0
# 401 codes after which one fresh token and one repeat are worth trying.
_REAUTH_CODES = ("AUTH_EXPIRED", "AUTH_REQUIRED")
# What a retry may cure (docs/api.md, "Timeouts, retries and idempotency").
_TRANSIENT = (BackendUnreachable, BackendTimeout, BackendServerError)

T = TypeVar("T")


@dataclass(frozen=True)
class _Reply:
    """A 2xx answer, its JSON body decoded."""

    status: int
    body: Any
    headers: Mapping[str, str]


class BackendClient:
    """Talks to the billing system for one terminal (docs/api.md).

    Authenticates lazily on the first call and again whenever the token runs
    out or the server refuses it.  ``retries`` is the number of repeats after
    a first failed attempt, spaced ``backoff_s × attempt`` apart, so a call
    lasts at most about ``(retries + 1) × (connect + read)`` plus the backoff,
    twice that if the token has to be renewed on the way.
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
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._terminal_id = terminal_id
        self._secret = secret
        self._timeout = (connect_timeout_s, read_timeout_s)
        # A closed network has its own CA (MISSION.md rule 9): ca_file names it.
        self._verify: str | bool = ca_file or True
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._app_version = app_version
        self._session = requests.Session()
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": f"utility-kiosk/{app_version}"}
        )
        self._lock = threading.RLock()
        self._token = ""
        self._token_renew_at = 0.0  # time.monotonic() after which to renew

    # --- The API (docs/api.md, "Endpoints") ---------------------------------

    def authenticate(self) -> None:
        """Get a fresh token (POST /terminals/auth).  Retried: it changes nothing."""
        with self._lock:
            self._retrying(self._authenticate_once)

    def heartbeat(self, status: str) -> Heartbeat:
        """Report the terminal's service status; answers with the server's clock."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"status must be one of {TERMINAL_STATUSES}, got {status!r}")
        path = f"{API}/terminals/{_segment(self._terminal_id)}/heartbeat"
        body = {"status": status, "app_version": self._app_version}
        with self._lock:
            reply = self._retrying(lambda: self._authorised("POST", path, body=body))
            return self._parsed(parse_heartbeat, reply, f"POST {path}")

    def lookup_account(self, utility: str, account_no: str) -> Account:
        """The account, its bills, usage and tariff.

        Raises AccountNotFound, or AccountClosed: the contract answers a
        closed account with 410, and a 200 that says "closed" is refused the
        same way, so no business is ever done on a closed account.
        """
        if utility not in UTILITIES:
            raise ValueError(f"utility must be one of {UTILITIES}, got {utility!r}")
        path = f"{API}/accounts/{utility}/{_segment(account_no)}"
        with self._lock:
            reply = self._retrying(lambda: self._authorised("GET", path))
            account = self._parsed(parse_account, reply, f"GET {path}")
        if (account.utility, account.account_no) != (utility, account_no):
            raise MalformedReply(
                f"GET {path} -> {reply.status}: the reply is about another account",
                field="account_no",
            )
        if account.closed:
            raise AccountClosed(f"GET {path} -> {reply.status}: status is closed")
        log.info("account %s/%s looked up", utility, mask_account(account_no))
        return account

    def post_payment(self, req: PaymentRequest) -> PaymentResult:
        """Post a payment under its transaction number as idempotency key.

        Safe to call again with the same request after any failure: the
        server posts it at most once and replays its first answer
        (``replayed`` is then True).
        """
        path = f"{API}/payments"
        headers = {"Idempotency-Key": req.transaction_no}
        with self._lock:
            reply = self._retrying(
                lambda: self._authorised("POST", path, body=req.to_body(), headers=headers)
            )
        result = self._payment_result(reply, f"POST {path}", req.transaction_no)
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
        path = f"{API}/payments/{_segment(transaction_no)}"
        with self._lock:
            reply = self._retrying(lambda: self._authorised("GET", path))
        return self._payment_result(reply, f"GET {path}", transaction_no)

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Retries and authentication -----------------------------------------

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt``, repeating it after failures a retry may cure."""
        for number in range(1, self._retries + 2):
            try:
                return attempt()
            except _TRANSIENT as err:
                if number > self._retries or not err.retryable:
                    raise
                pause = self._backoff_s * number
                log.warning(
                    "attempt %d of %d failed (%s); retrying in %.2f s",
                    number, self._retries + 1, err, pause,
                )
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _authenticate_once(self) -> None:
        path = f"{API}/terminals/auth"
        body = {"terminal_id": self._terminal_id, "secret": self._secret}
        reply = self._exchange("POST", path, body=body)
        token = self._parsed(parse_auth_token, reply, f"POST {path}")
        self._token = token.token
        margin = min(_TOKEN_MARGIN_S, token.expires_in_s / 10)
        self._token_renew_at = time.monotonic() + token.expires_in_s - margin
        log.info("terminal %s authenticated for %d s", self._terminal_id, token.expires_in_s)

    def _authorised(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Reply:
        """One exchange with a bearer token; renews the token once if refused.

        Authentication inside an attempt is not retried on its own: the
        caller's retry loop repeats the whole attempt, which keeps the
        worst-case duration of a call bounded.
        """
        if not self._token or time.monotonic() >= self._token_renew_at:
            self._authenticate_once()
        try:
            return self._exchange(method, path, body=body, headers=headers, token=self._token)
        except AuthenticationFailed as err:
            if err.code not in _REAUTH_CODES:
                raise
            log.info("token refused (%s); authenticating again", err.code)
        self._token = ""
        self._authenticate_once()
        # A second refusal with a brand-new token is the server's final word.
        return self._exchange(method, path, body=body, headers=headers, token=self._token)

    # --- One HTTP exchange ---------------------------------------------------

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str = "",
    ) -> _Reply:
        """Send one request; return a 2xx, raise anything else as a BackendError."""
        where = f"{method} {redact_digit_runs(path)}"
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                json=body,
                headers=all_headers,
                timeout=self._timeout,
                verify=self._verify,
                allow_redirects=False,  # a redirect on a closed network is a misconfiguration
            )
        except requests.RequestException as exc:
            raise _transport_error(where, exc) from exc
        except OSError as exc:  # e.g. ca_file missing: requests raises a bare OSError
            raise BackendUnreachable(f"{where}: {type(exc).__name__}: {exc}") from exc
        log.debug(
            "%s -> %d in %.0f ms", where, response.status_code, (time.monotonic() - started) * 1000
        )
        if not 200 <= response.status_code < 300:
            raise _error_from_response(where, response)
        try:
            decoded = json.loads(response.content)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise MalformedReply(
                f"{where} -> {response.status_code}: the body is not JSON "
                f"({_describe_body(response)})"
            ) from None
        return _Reply(response.status_code, decoded, response.headers)

    @staticmethod
    def _parsed(parse: Callable[[Any], T], reply: _Reply, where: str) -> T:
        """Parse a reply body, adding where it came from to a contract breach."""
        try:
            return parse(reply.body)
        except MalformedReply as err:
            raise MalformedReply(
                f"{where} -> {reply.status}: {err.detail}", field=err.field
            ) from None

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


# --- Turning failures into BackendErrors -------------------------------------


def _transport_error(where: str, exc: requests.RequestException) -> BackendError:
    """No HTTP answer at all: a timeout, or the server could not be reached."""
    if isinstance(exc, requests.Timeout) or _read_timed_out(exc):
        return BackendTimeout(f"{where}: timed out ({type(exc).__name__}: {exc})")
    return BackendUnreachable(f"{where}: no reply ({type(exc).__name__}: {exc})")


def _read_timed_out(exc: requests.RequestException) -> bool:
    # A read timeout while the body streams in reaches us as a ConnectionError
    # wrapping urllib3's ReadTimeoutError rather than as requests.ReadTimeout.
    return any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def _error_from_response(where: str, response: requests.Response) -> BackendError:
    """A non-2xx answer as the error type the contract gives its code."""
    status = response.status_code
    error = _error_body(response)
    if error is None:
        # Not the contract speaking: a proxy's page, or a server falling over.
        return BackendServerError(
            f"{where} -> {status} without an error body: {_describe_body(response)}",
            code=f"HTTP_{status}",
        )
    code = error["code"]
    detail = f"{where} -> {status} {code}: {error['message_en']}"
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
        message_zh=error["message_zh"],
        message_en=error["message_en"],
    )


def _error_body(response: requests.Response) -> dict[str, Any] | None:
    """The contract's ``{"error": {...}}`` object, or None if this is not one."""
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(error, dict):
        return None
    texts_ok = all(isinstance(error.get(k), str) for k in ("code", "message_zh", "message_en"))
    if not texts_ok or not error["code"] or not isinstance(error.get("retryable"), bool):
        return None
    return error


_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _describe_body(response: requests.Response) -> str:
    """A technician's one-line idea of what came back instead of JSON."""
    content_type = response.headers.get("Content-Type", "no content type")
    content = response.content or b""
    if "html" in content_type.lower() or content.lstrip()[:1] == b"<":
        title = _TITLE.search(content)
        shown = title.group(1).decode("utf-8", "replace").strip() if title else "untitled"
        return f"an HTML page ({content_type}), title {shown!r}"
    if not content:
        return f"an empty body ({content_type})"
    snippet = content[:60].decode("utf-8", "replace")
    return f"{len(content)} bytes of {content_type}: {snippet!r}"


def _segment(value: str) -> str:
    """A value placed in a URL path, quoted so it can never add a segment."""
    return quote(value, safe="")
