"""What the scanner driver tells the kiosk, and the reason codes of its status.

:class:`CodeRead` carries the whole code — the payment layer must send it —
but its ``repr`` and :attr:`CodeRead.masked` show only the last four digits,
so logging an event never writes a payment code down.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.scanner.codes import CodeKind, Refusal, RefusalReason, mask
from drivers.status import SCANNER

__all__ = ["SCANNER", "CodeRead", "CodeRefused", "ReadTimedOut", "ScannerEvent", "ScannerReason"]


class ScannerReason(StrEnum):
    """The ``reason`` of the scanner's :class:`~drivers.status.DeviceStatus`."""

    NONE = ""
    CONNECTING = "CONNECTING"
    STOPPED = "STOPPED"
    PORT_GONE = "PORT_GONE"
    PORT_UNAVAILABLE = "PORT_UNAVAILABLE"
    LINE_GARBLED = "LINE_GARBLED"  # reachable, but every line is noise: wrong speed or interface setting


@dataclass(frozen=True, repr=False)
class CodeRead:
    """A payment code was read."""

    kind: CodeKind
    code: str
    at: float

    @property
    def masked(self) -> str:
        return mask(self.code)

    def __repr__(self) -> str:
        return f"CodeRead({self.kind.value}, {self.masked})"


@dataclass(frozen=True)
class CodeRefused:
    """A line was read that is not a payment code; nothing is passed on."""

    reason: RefusalReason
    shown: str
    length: int
    at: float

    @property
    def explanation(self) -> str:
        return Refusal(self.reason).explanation


@dataclass(frozen=True)
class ReadTimedOut:
    """Trigger mode: the read started by :meth:`ScannerDriver.trigger` ended without a code."""

    after_s: float


ScannerEvent = CodeRead | CodeRefused | ReadTimedOut
