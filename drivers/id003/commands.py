"""What the controller sends: command builders, and :func:`parse_command` for the emulator's side.

Spec ID03-001E ch. 6: STATUS REQUEST (6-1), operation commands (6-3),
setting commands and their data (6-5), setting status requests (6-6).

Its own module because this is the other direction of the protocol from
:mod:`drivers.id003.replies`: the driver builds these frames, the emulator
parses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.id003.codes import FIRST_ESCROW_CODE, LAST_ESCROW_CODE, SETTING_DATA_LENGTH, SETTING_FOR_REQUEST, Command
from drivers.id003.frames import Frame, encode


@dataclass(frozen=True)
class CommandFrame:
    command: Command
    data: bytes = b""


@dataclass(frozen=True)
class UnknownCommand:
    code: int
    data: bytes
    why: str


def parse_command(frame: Frame) -> CommandFrame | UnknownCommand:
    """What the controller asked for (the emulator's side).  Never raises."""
    if frame.code not in Command._value2member_map_:
        return UnknownCommand(frame.code, frame.data, "unknown command")
    command = Command(frame.code)
    wanted = SETTING_DATA_LENGTH.get(command, 0)
    if len(frame.data) != wanted:
        return UnknownCommand(frame.code, frame.data, f"{command.name} takes {wanted} data byte(s)")
    return CommandFrame(command, frame.data)


def status_request() -> bytes:
    """``FC 05 11 27 56``."""
    return encode(Command.STATUS_REQUEST)


def operation(command: Command) -> bytes:
    if command not in (Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD, Command.WAIT):
        raise ValueError(f"{command!r} is not an operation command")
    return encode(command)


def setting(command: Command, data: bytes) -> bytes:
    wanted = SETTING_DATA_LENGTH.get(command)
    if wanted is None:
        raise ValueError(f"{command!r} is not a setting command")
    if len(data) != wanted:
        raise ValueError(f"{command.name} takes {wanted} data byte(s), got {len(data)}")
    return encode(command, data)


def request(command: Command) -> bytes:
    if command not in SETTING_FOR_REQUEST and command not in (
            Command.GET_VERSION, Command.GET_BOOT_VERSION, Command.GET_CURRENCY_ASSIGN):
        raise ValueError(f"{command!r} is not a setting status request")
    return encode(command)


def denomination_bits(enabled_codes: set[int] | frozenset[int]) -> bytes:
    """Data of SET_DENOMINATIONS (C0h): one bit per escrow code, set = refused.

    Bit n of the 16-bit little-endian field is escrow code 61h + n, as the
    public implementations map it (docs/id003.md); a set bit disables that
    denomination.
    """
    bits = 0xFFFF
    for code in enabled_codes:
        if FIRST_ESCROW_CODE <= code <= LAST_ESCROW_CODE:
            bits &= ~(1 << (code - FIRST_ESCROW_CODE))
    return bytes((bits & 0xFF, bits >> 8))


def enabled_codes(bits: bytes) -> frozenset[int]:
    """Inverse of :func:`denomination_bits`."""
    if len(bits) != 2:
        return frozenset()
    value = bits[0] | (bits[1] << 8)
    return frozenset(FIRST_ESCROW_CODE + n for n in range(16) if not value & (1 << n))


def inhibit_data(inhibited: bool) -> bytes:
    """Data of SET_INHIBIT (C3h): bit 0 set = acceptor inhibited."""
    return b"\x01" if inhibited else b"\x00"
