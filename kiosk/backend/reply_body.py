"""A reply body read off the wire within ``max_reply_bytes``: counted as it
arrives, and again as gzip or deflate inflate it.

Its own module because this is the client's memory bound: a 50 MB body or a
compression bomb must cost the limit, not the gigabyte, so the body is read
in counted pieces and inflated with zlib's own output cap, never by
requests' or urllib3's unbounded decoders.
"""

from __future__ import annotations

import http.client
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import urllib3.exceptions

from contract.errors import MalformedReply, ReplyTooLarge
from kiosk.backend.transport_errors import _transport_error

if TYPE_CHECKING:
    import requests

    from kiosk.backend.call_guard import _CallGuard

# A body is read in pieces this large, each counted against the limit.
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class _Reply:
    """A 2xx answer, its JSON body decoded."""

    status: int
    body: Any
    headers: Mapping[str, str]


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


def _read_body(
    guard: _CallGuard, where: str, response: requests.Response, coding: str, limit: int
) -> bytes:
    """The body, at most ``limit`` bytes on the wire and inflated."""
    status = response.status_code
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
