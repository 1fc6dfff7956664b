"""A non-2xx answer as the BackendError its contract code names, and a
technician's description of an answer that is not the contract's at all.

Its own module because an error reply is the server talking: its message is
kept for the customer but out of every detail and log line, and a proxy's
page is described by kind and size, never quoted (MISSION.md rule 5).
"""

from __future__ import annotations

import re
import unicodedata
from http import HTTPStatus
from typing import Any, Mapping

from contract.errors import (
    AccountClosed,
    AccountNotFound,
    AuthenticationFailed,
    BackendError,
    BackendServerError,
    MalformedReply,
    RequestRejected,
)
from kiosk.backend.json_limits import _decode_json
from kiosk.backend.reply_body import _CHUNK_BYTES

# The server's error messages are kept (for the customer, sealed in the
# journal) at most this long.
_MAX_MESSAGE_LENGTH = 200

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
