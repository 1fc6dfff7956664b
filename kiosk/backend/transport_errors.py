"""A call that got no (complete) HTTP answer, as one BackendError: the
deadline passed, close() cut it, a socket timed out, or nothing answered.

Its own module because this is where the client's privacy rule is hardest
to keep: exceptions from http.client and urllib3 quote the server's status
line or headers, so a failure is described by exception types, errno names
and TLS reasons only (MISSION.md rule 5).
"""

from __future__ import annotations

import logging
import ssl
import traceback
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions
from urllib3.exceptions import ReadTimeoutError  # requests' own transport

from contract.errors import (
    BackendError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
    RequestNotSendable,
)

if TYPE_CHECKING:
    from kiosk.backend.call_guard import _CallGuard

log = logging.getLogger("kiosk.backend")


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
