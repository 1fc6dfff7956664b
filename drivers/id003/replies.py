"""What the acceptor sends: reply types, :func:`parse_reply`, and the reply builders.

Spec ID03-001E ch. 6: the answer to STATUS REQUEST (6-2), the ACK to an
operation command (6-3), the echo of a setting command (6-5) and the answers
to setting status requests (6-6: version text, currency assign table).

Its own module because this is one direction of the protocol: the same byte
means something else from the controller (see :mod:`drivers.id003.commands`).
The driver parses with it; the emulator builds with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.id003.codes import ACK, SETTING_DATA_LENGTH, SETTING_FOR_REQUEST, Command, Status
from drivers.id003.frames import Frame, encode


@dataclass(frozen=True)
class StatusReply:
    """Answer to STATUS REQUEST (spec 6-2).  ``data`` is the status's extra byte, if any."""

    status: Status
    data: bytes = b""

    @property
    def escrow_code(self) -> int | None:
        return self.data[0] if self.status is Status.ESCROW and self.data else None

    @property
    def reject_reason(self) -> int | None:
        return self.data[0] if self.status is Status.REJECTING and self.data else None

    @property
    def failure_code(self) -> int | None:
        return self.data[0] if self.status is Status.FAILURE and self.data else None


@dataclass(frozen=True)
class Ack:
    """ACK (50h): the acceptor took an operation command (spec 6-3)."""


@dataclass(frozen=True)
class SettingEcho:
    """A setting command echoed back, or the answer to a setting status request (6-5, 6-6)."""

    command: Command
    data: bytes


@dataclass(frozen=True)
class VersionInfo:
    """Answer to 88h/89h: the acceptor's software version, ASCII (6-6 (8))."""

    text: str
    boot: bool = False


@dataclass(frozen=True)
class CurrencyEntry:
    """One line of the currency assign table (8Ah, spec 6-6 (9)/6-7 (9)).

    Four bytes per denomination: escrow code, country code, base value and
    exponent; the note is worth ``base × 10**exponent`` units of the currency.
    """

    escrow_code: int
    country_code: int
    base: int
    exponent: int

    @property
    def value(self) -> int:
        return self.base * 10**self.exponent

    def to_bytes(self) -> bytes:
        return bytes((self.escrow_code, self.country_code, self.base, self.exponent))


@dataclass(frozen=True)
class CurrencyAssignment:
    entries: tuple[CurrencyEntry, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class UnknownReply:
    """A checked frame whose code or data we do not understand."""

    code: int
    data: bytes
    why: str


Reply = StatusReply | Ack | SettingEcho | VersionInfo | CurrencyAssignment | UnknownReply

_STATUS_DATA_LENGTH = {Status.ESCROW: 1, Status.REJECTING: 1, Status.FAILURE: 1}


def parse_reply(frame: Frame) -> Reply:
    """What the acceptor said.  Never raises."""
    code, data = frame.code, frame.data
    if code == ACK:
        return Ack() if not data else UnknownReply(code, data, "ACK with data")
    if code in Status._value2member_map_:
        status = Status(code)
        wanted = _STATUS_DATA_LENGTH.get(status)
        if wanted is not None and len(data) != wanted:
            return UnknownReply(code, data, f"{status.name} needs {wanted} data byte(s), got {len(data)}")
        return StatusReply(status, data)
    if code in SETTING_DATA_LENGTH.keys() | SETTING_FOR_REQUEST.keys():
        return SettingEcho(Command(code), data)
    if code in (Command.GET_VERSION, Command.GET_BOOT_VERSION):
        return VersionInfo(data.decode("ascii", "replace").strip(" \x00"), boot=code == Command.GET_BOOT_VERSION)
    if code == Command.GET_CURRENCY_ASSIGN:
        if len(data) % 4:
            return UnknownReply(code, data, f"currency table of {len(data)} bytes is not a multiple of 4")
        entries = tuple(CurrencyEntry(*data[i : i + 4]) for i in range(0, len(data), 4))
        return CurrencyAssignment(entries)
    return UnknownReply(code, data, "unknown code")


def status_reply(status: Status, data: bytes = b"") -> bytes:
    return encode(status, data)


def currency_assign_reply(entries: tuple[CurrencyEntry, ...] | list[CurrencyEntry]) -> bytes:
    return encode(Command.GET_CURRENCY_ASSIGN, b"".join(entry.to_bytes() for entry in entries))


def version_reply(text: str, boot: bool = False) -> bytes:
    return encode(Command.GET_BOOT_VERSION if boot else Command.GET_VERSION, text.encode("ascii", "replace"))


def ack() -> bytes:
    """ACK frame, the same bytes both ways: ``FC 05 50 AA 05``."""
    return encode(ACK)
