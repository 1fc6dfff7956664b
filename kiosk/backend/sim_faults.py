"""The simulator's fault table: which faults exist, which are waiting for
which requests, and what each does to the answer.

Its own module because faults are the simulator's reason to exist beside a
real backend: the tests inject them (BackendSimulator.inject, or POST
/_sim/faults) to drive the kiosk through every failure docs/api.md section 5
promises to survive, and the billing behaviour stays free of them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from contract.purchase import PurchaseRefusal
from kiosk.backend.sim_card_rules import purchase_error
from kiosk.backend.sim_messages import _error, _json_reply, _Reply, _Request

if TYPE_CHECKING:
    from kiosk.backend.sim_billing import _Billing
    from kiosk.backend.sim_purchases import _Purchases

log = logging.getLogger("kiosk.backend.simulator")

FAULT_KINDS = ("delay", "http_500", "drop", "malformed_json", "html_error", "drop_after_commit",
               "booked_then_500_final", "booked_then_huge_numbers", "booked_then_malformed",
               "issue_refused", "token_never_issued", "confirm_lost")
# The card purchase faults (docs/api.md, "Simulator only") hit one endpoint
# each, whatever their path_prefix says beyond it: the payment of a purchase
# (the key system refuses the token, or never makes it) or its confirmation
# (lost on the way: the card is written, the billing system never hears so).
_PURCHASE_PAYMENT = re.compile(r"/api/v1/purchases/[^/]+/payment")
_PURCHASE_CONFIRM = re.compile(r"/api/v1/purchases/[^/]+/confirm")
_FAULT_TARGETS = {"issue_refused": _PURCHASE_PAYMENT, "token_never_issued": _PURCHASE_PAYMENT,
                  "confirm_lost": _PURCHASE_CONFIRM}
# The "booked_then_*" faults do the work, then answer with something a kiosk
# cannot use: a 500 that says "do not retry", numbers that fit no 64-bit
# integer, or a body cut short.  The kiosk must learn the truth from
# GET /payments/{no} instead of referring money that was posted.
_BOOKED_THEN = ("booked_then_500_final", "booked_then_huge_numbers", "booked_then_malformed")

_MALFORMED_BODY = b'{"utility": "electricity", "account_no": "32011000'
_PROXY_502_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _booked_then_lie(done: _Reply, kind: str) -> _Reply:
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
                target = _FAULT_TARGETS.get(fault.kind)
                if path.startswith(fault.path_prefix) and (target is None or target.fullmatch(path)):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def _with_fault(billing: _Billing | _Purchases, request: _Request, fault: _Fault | None) -> _Reply | None:
    """The reply to send, or None to close the connection without one.

    ``billing`` is the part of the billing system the path belongs to: the
    accounts and payments, or the card purchases (which alone see the
    purchase faults, by their targets)."""
    if fault is None:
        return billing.handle(request)
    log.info("fault %s on %s %s", fault.kind, request.method, request.path)
    if fault.kind == "issue_refused":  # refused before anything is booked: a 4xx stores nothing
        return purchase_error(422, PurchaseRefusal.ISSUE_REFUSED, "the key system refused the write token")
    if fault.kind == "token_never_issued":
        return billing.handle(request, hold_issue=True)  # type: ignore[call-arg]
    if fault.kind == "confirm_lost":
        return None  # lost on the way: nothing recorded, no answer
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
