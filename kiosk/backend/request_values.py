"""What the kiosk puts on the wire: URL path segments, the JSON body and
header values, each checked before it is sent.

Its own module because each check turns a value that cannot be sent into
RequestNotSendable before any socket is opened, so a bad value of ours never
looks like a failure of the backend.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping
from urllib.parse import quote

from contract.errors import RequestNotSendable

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

