"""Bytes from the scanner → lines: the pure line assembler (no port, no thread, no clock of its own).

A scanner in its plain serial mode sends each decoded code followed by a
suffix, the *terminator*: CR (Honeywell's and Newland's factory suffix on
RS-232), LF, or CR LF.  Reads from a port cut that stream anywhere, so one
read may carry several codes, half a code, or a lone terminator.

* ``CR``: a line ends at CR; an LF right after it is dropped (a scanner set
  to CR LF still reads).
* ``LF`` and ``CRLF``: a line ends at LF; a CR right before it is dropped.
* An empty line (a lone terminator) is no code and is skipped silently.
* The buffer is bounded (``max_line``): a longer line is discarded up to the
  next terminator and reported once as ``TOO_LONG`` — memory never grows
  with what a broken or hostile sender emits.
* A line that stopped without a terminator for ``stale_s`` is dropped and
  reported as ``INCOMPLETE`` (:meth:`LineAssembler.expire`), so a partial
  read is never glued to the next code.
* ``skip`` is a byte string the scanner sends in reply to a trigger command
  (some engines acknowledge before the data); it is removed where a line
  starts.

Bytes are decoded as Latin-1, one character per byte, so nothing is lost;
what is not ASCII is refused by :func:`drivers.scanner.codes.classify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.scanner.codes import Refusal, RefusalReason, mask

DEFAULT_MAX_LINE = 128
DEFAULT_STALE_S = 0.3  # a scanner sends one code in a burst: tens of ms even at 9600 baud


class Terminator(StrEnum):
    CR = "cr"
    LF = "lf"
    CRLF = "crlf"

    @property
    def bytes(self) -> bytes:
        return {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}[self.value]


@dataclass(frozen=True, repr=False)
class Line:
    """One line as the scanner sent it, terminator removed."""

    text: str

    def __repr__(self) -> str:  # may be a payment code: never whole in a log line
        return f"Line({mask(self.text)!r})"


class LineAssembler:
    """``feed(data, now)`` → the lines (and refused fragments) that ``data`` completed."""

    def __init__(self, terminator: Terminator = Terminator.CR, max_line: int = DEFAULT_MAX_LINE,
                 stale_s: float = DEFAULT_STALE_S, skip: bytes = b"") -> None:
        if max_line < 32:
            raise ValueError(f"max_line={max_line}: at least 32, longer than any payment code")
        if stale_s <= 0:
            raise ValueError(f"stale_s={stale_s} must be positive")
        self.terminator = Terminator(terminator)
        self.max_line = max_line
        self.stale_s = stale_s
        self.skip = skip
        self._end = b"\r" if self.terminator is Terminator.CR else b"\n"
        self._drop = b"\n" if self.terminator is Terminator.CR else b"\r"
        self._buffer = bytearray()
        self._overflow = 0  # bytes discarded from the current too-long line
        self._after_end = False  # the last byte ended a line: an LF (CR mode) right now is part of it
        self._last_at = 0.0

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held (for tests: the bound holds)."""
        return len(self._buffer)

    def feed(self, data: bytes, now: float) -> list[Line | Refusal]:
        out: list[Line | Refusal] = []
        start = 0
        while start < len(data):
            end = data.find(self._end, start)
            piece = data[start:] if end < 0 else data[start:end]
            self._take(piece)
            if end < 0:
                break
            self._finish(out)
            start = end + 1
            if self.terminator is Terminator.CR and start < len(data) and data[start:start + 1] == b"\n":
                start += 1
            self._after_end = start >= len(data)
        if data:
            self._last_at = now
        return out

    def expire(self, now: float) -> list[Refusal]:
        """A partial line older than ``stale_s`` is dropped and reported."""
        if (self._buffer or self._overflow) and now - self._last_at >= self.stale_s:
            if not self._overflow and not self._strip_skip(bytes(self._buffer)):
                self._reset()  # only the trigger's acknowledgement, and no code came: nothing to report
                return []
            length = len(self._buffer) + self._overflow
            too_long = self._overflow > 0
            self._reset()
            reason = RefusalReason.TOO_LONG if too_long else RefusalReason.INCOMPLETE
            return [Refusal(reason, length=length)]
        return []

    def _take(self, piece: bytes) -> None:
        if self._after_end and self.terminator is Terminator.CR and piece.startswith(b"\n"):
            piece = piece[1:]  # the LF of a CR LF split over two reads
        self._after_end = False
        room = self.max_line + 1 - len(self._buffer)  # +1: a CR before the LF
        if self._overflow or len(piece) > room:
            kept = max(0, room) if not self._overflow else 0
            self._buffer += piece[:kept]
            self._overflow += len(piece) - kept
            return
        self._buffer += piece

    def _strip_skip(self, raw: bytes) -> bytes:
        while self.skip and raw.startswith(self.skip):
            raw = raw[len(self.skip):]
        return raw

    def _finish(self, out: list[Line | Refusal]) -> None:
        raw = bytes(self._buffer)
        if raw.endswith(self._drop) and self.terminator is not Terminator.CR:
            raw = raw[:-1]
        raw = self._strip_skip(raw)
        overflow = self._overflow
        self._reset()
        if overflow or len(raw) > self.max_line:
            out.append(Refusal(RefusalReason.TOO_LONG, length=len(raw) + overflow))
        elif raw:
            out.append(Line(raw.decode("latin-1")))

    def _reset(self) -> None:
        self._buffer.clear()
        self._overflow = 0
