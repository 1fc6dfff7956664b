"""The billing system's behaviour behind the simulator: requests in, replies
out, no sockets (docs/api.md, "Endpoints").

Its own module because it is the protocol half of the simulator, kept apart
from the HTTP transport as in python-escpos: accounts, tokens and postings
live here, guarded by one lock, so concurrent requests serialise like
transactions would.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from urllib.parse import unquote

from contract.errors import MalformedReply
from contract.models import (
    TERMINAL_STATUSES,
    UTILITIES,
    PaymentNote,
    PaymentRequest,
    parse_payment_request,
)
from kiosk.backend.sim_assistance import _AssistanceDesk
from kiosk.backend.sim_messages import (
    _error,
    _json_reply,
    _refuse,
    _Refused,
    _Reply,
    _Request,
)

# Banknotes the utility accepts (1, 5, 10, 20, 50 and 100 yuan), in fen.
ACCEPTED_DENOMINATIONS_FEN = (100, 500, 1000, 2000, 5000, 10000)

_BEIJING_TIME = timezone(timedelta(hours=8))


def now_iso() -> str:
    """The billing system's clock: Beijing time, with its offset."""
    return datetime.now(_BEIJING_TIME).isoformat(timespec="seconds")


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
        self.assistance = _AssistanceDesk()
        self._routes: list[tuple[str, tuple[str, ...], Callable[..., _Reply]]] = [
            ("POST", ("terminals", "auth"), self._authenticate),
            ("POST", ("terminals", "*", "heartbeat"), self._heartbeat),
            ("POST", ("terminals", "*", "assistance"), self._call_staff),
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

    def _call_staff(self, request: _Request, terminal_id: str) -> _Reply:
        self._require_terminal(request, terminal_id)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise _refuse(400, "IDEMPOTENCY_KEY_REQUIRED")
        return self.assistance.call(terminal_id, key, request.json(), now_iso())

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

