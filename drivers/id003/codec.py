"""ID-003 frame codec: bytes in, frames and messages out.  No I/O, no clocks.

JCM's ID-003 ("ID-003 Communication Specification", ID03-001E, chapter 3
"Format of Sending/Receiving Message") frames every message both ways as::

    SYNC  LNG  CMD  [DATA ...]  CRCL  CRCH
    FCh   n    1 B  n - 5 B     CRC-16, low byte first

LNG is the length of the whole frame, SYNC and CRC included (so 5 for a frame
without data).  The CRC is CRC-16/KERMIT (CCITT polynomial 1021h reflected,
i.e. 8408h, initial value 0, no final XOR) over SYNC through the last DATA byte.
Vectors used by the tests: status request ``FC 05 11 27 56`` and ACK
``FC 05 50 AA 05``.

The same byte means different things in the two directions (11h is STATUS
REQUEST from the controller and ENABLE/IDLING from the acceptor; 40h is RESET
and POWER UP), so parsing is per direction: :func:`parse_reply` for what the
acceptor sends, :func:`parse_command` for what the controller sends (used by
the emulator).  Neither ever raises: what they do not understand becomes
:class:`UnknownReply` / :class:`UnknownCommand`.

Where the codes come from is in ``docs/id003.md``: the spec's chapter 5
("Table of Command and Response") as reproduced by public implementations,
cross-checked between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

SYNC = 0xFC
HEADER_LENGTH = 3  # SYNC, LNG, CMD
MIN_FRAME_LENGTH = 5  # SYNC, LNG, CMD, CRCL, CRCH
# LNG is one byte, so 255 is the protocol's own limit.  The longest replies we
# know of (currency assign table, version text) stay well under 128; a longer
# LNG is treated as line noise so one garbled length byte cannot make the
# decoder wait for 250 bytes that never come.
DEFAULT_MAX_FRAME_LENGTH = 128

# ----------------------------------------------------------------- CRC-16/KERMIT


def _kermit_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _kermit_table()


def crc16_kermit(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/KERMIT as ID-003 uses it (spec ch. 3, "CRC": CCITT, LSB first, initial 0)."""
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


# ----------------------------------------------------------------- codes


class Command(IntEnum):
    """Controller → acceptor (spec ch. 5 and 6-1, 6-3, 6-5, 6-6)."""

    STATUS_REQUEST = 0x11
    # operation commands (6-3)
    RESET = 0x40
    STACK_1 = 0x41
    STACK_2 = 0x42
    RETURN = 0x43
    HOLD = 0x44
    WAIT = 0x45
    # the controller's ACK, sent in answer to VEND VALID (6-4)
    ACK = 0x50
    # setting commands (6-5): the acceptor echoes each one back
    SET_DENOMINATIONS = 0xC0  # enable/disable per denomination, 2 bytes
    SET_SECURITY = 0xC1  # 2 bytes
    SET_COMMUNICATION_MODE = 0xC2  # 1 byte: 0 polling, 1/2 interrupt modes
    SET_INHIBIT = 0xC3  # 1 byte: bit 0 set = acceptor inhibited
    SET_DIRECTION = 0xC4  # 1 byte: bits FA, FB, BA, BB set = direction refused
    SET_OPTIONAL_FUNCTION = 0xC5  # 2 bytes
    # setting status requests (6-6): answered with the same code and the setting
    GET_DENOMINATIONS = 0x80
    GET_SECURITY = 0x81
    GET_COMMUNICATION_MODE = 0x82
    GET_INHIBIT = 0x83
    GET_DIRECTION = 0x84
    GET_OPTIONAL_FUNCTION = 0x85
    GET_VERSION = 0x88
    GET_BOOT_VERSION = 0x89
    GET_CURRENCY_ASSIGN = 0x8A


class Status(IntEnum):
    """Acceptor → controller status codes (spec 6-2-1 status, 6-2-2 power up, 6-2-3 error)."""

    IDLING = 0x11  # "ENABLE (IDLING)": waiting for a note
    ACCEPTING = 0x12
    ESCROW = 0x13  # + 1 byte escrow (denomination) code 61h..
    STACKING = 0x14
    VEND_VALID = 0x15  # the controller must answer with ACK
    STACKED = 0x16
    REJECTING = 0x17  # + 1 byte reject reason 71h..
    RETURNING = 0x18
    HOLDING = 0x19
    DISABLED = 0x1A  # "DISABLE (INHIBIT)"
    INITIALIZE = 0x1B
    POWER_UP = 0x40
    POWER_UP_BILL_IN_ACCEPTOR = 0x41
    POWER_UP_BILL_IN_STACKER = 0x42
    STACKER_FULL = 0x43
    STACKER_OPEN = 0x44  # cash box removed
    JAM_IN_ACCEPTOR = 0x45
    JAM_IN_STACKER = 0x46
    PAUSE = 0x47  # a second note pushed in while the first one is transported
    CHEATED = 0x48
    FAILURE = 0x49  # + 1 byte failure code A2h..
    COMMUNICATION_ERROR = 0x4A  # the acceptor received a frame it could not read
    INVALID_COMMAND = 0x4B  # the command is not valid now


NORMAL_STATUSES = frozenset(Status(code) for code in range(0x11, 0x1C))
POWER_UP_STATUSES = frozenset({Status.POWER_UP, Status.POWER_UP_BILL_IN_ACCEPTOR, Status.POWER_UP_BILL_IN_STACKER})
FAULT_STATUSES = frozenset(Status(code) for code in range(0x43, 0x4A))

ACK = 0x50

SETTING_DATA_LENGTH = {
    Command.SET_DENOMINATIONS: 2,
    Command.SET_SECURITY: 2,
    Command.SET_COMMUNICATION_MODE: 1,
    Command.SET_INHIBIT: 1,
    Command.SET_DIRECTION: 1,
    Command.SET_OPTIONAL_FUNCTION: 2,
}
SETTING_FOR_REQUEST = {
    Command.GET_DENOMINATIONS: Command.SET_DENOMINATIONS,
    Command.GET_SECURITY: Command.SET_SECURITY,
    Command.GET_COMMUNICATION_MODE: Command.SET_COMMUNICATION_MODE,
    Command.GET_INHIBIT: Command.SET_INHIBIT,
    Command.GET_DIRECTION: Command.SET_DIRECTION,
    Command.GET_OPTIONAL_FUNCTION: Command.SET_OPTIONAL_FUNCTION,
}

# Escrow codes: 61h is the first denomination of the acceptor's currency table,
# 62h the second, ... (spec 6-2-1 (3) ESCROW data).  Which value each one has
# comes from the currency assign table (8Ah), never from a guess.
FIRST_ESCROW_CODE = 0x61
LAST_ESCROW_CODE = 0x70  # 16 codes: the 2 bytes of SET_DENOMINATIONS have 16 bits

REJECT_REASONS = {  # spec 6-2-1 (7) REJECTING data
    0x71: "insertion error",
    0x72: "magnetic pattern error",
    0x73: "note left in the head",
    0x74: "calibration/magnification error",
    0x75: "conveying error",
    0x76: "denomination could not be determined",
    0x77: "photo pattern error 1",
    0x78: "photo level error",
    0x79: "inhibited: denomination, direction or no answer to escrow",
    0x7A: "reserved",
    0x7B: "operation error",
    0x7C: "note left in the stacker path",
    0x7D: "length error",
    0x7E: "photo pattern error 2",
    0x7F: "true-note feature error",
}

FAILURE_CODES = {  # spec 6-2-3 (7) FAILURE data
    0xA2: "stacker motor failure",
    0xA5: "transport motor speed failure",
    0xA6: "transport motor failure",
    0xA8: "solenoid failure",
    0xA9: "PB unit failure",
    0xAB: "cash box not ready",
    0xAF: "validator head removed",
    0xB0: "boot ROM failure",
    0xB1: "external ROM failure",
    0xB2: "RAM failure",
    0xB3: "external ROM write failure",
}

# ----------------------------------------------------------------- frames


@dataclass(frozen=True)
class Frame:
    """One checked frame: command/status code and data, SYNC/LNG/CRC stripped."""

    code: int
    data: bytes = b""

    def to_bytes(self) -> bytes:
        return encode(self.code, self.data)


def encode(code: int, data: bytes = b"") -> bytes:
    """Build ``FC LNG CODE DATA CRCL CRCH``.  Raises ValueError on an impossible frame."""
    if not 0 <= code <= 0xFF:
        raise ValueError(f"code {code!r} is not a byte")
    length = MIN_FRAME_LENGTH + len(data)
    if length > 0xFF:
        raise ValueError(f"{len(data)} data bytes do not fit in one ID-003 frame (LNG is one byte)")
    head = bytes((SYNC, length, code)) + bytes(data)
    crc = crc16_kermit(head)
    return head + bytes((crc & 0xFF, crc >> 8))


@dataclass
class DecoderStats:
    """What the decoder threw away, for the technician's counters."""

    frames: int = 0
    skipped_bytes: int = 0  # bytes that were not part of any good frame
    crc_errors: int = 0
    length_errors: int = 0  # LNG below 5 or above the maximum
    flushed_bytes: int = 0  # partial frames dropped by flush() (a timeout)


class FrameDecoder:
    """Incremental decoder: :meth:`feed` bytes as they arrive, get whole frames back.

    It never raises.  It resynchronises on its own: bytes before a SYNC are
    skipped; a SYNC whose LNG is impossible or whose CRC does not match is
    dropped (one byte) and the search starts again right after it, so a good
    frame hiding behind garbage or a truncated frame is still found.  A
    candidate that waits for more bytes than have arrived is also given up when
    a complete, CRC-correct frame starts later in the buffer (a short frame
    followed by a good one).  :meth:`flush` drops a partial frame — the
    transport calls it when the response window closes.
    """

    def __init__(self, max_frame_length: int = DEFAULT_MAX_FRAME_LENGTH) -> None:
        if not MIN_FRAME_LENGTH <= max_frame_length <= 0xFF:
            raise ValueError(f"max_frame_length must be 5..255, not {max_frame_length}")
        self.max_frame_length = max_frame_length
        self.stats = DecoderStats()
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buffer)

    def flush(self) -> int:
        """Drop whatever partial frame is held; returns how many bytes went."""
        dropped = len(self._buffer)
        self.stats.flushed_bytes += dropped
        self._buffer.clear()
        return dropped

    def feed(self, chunk: bytes | bytearray) -> list[Frame]:
        buffer = self._buffer
        buffer += chunk
        frames: list[Frame] = []
        while buffer:
            start = buffer.find(SYNC)
            if start < 0:
                self.stats.skipped_bytes += len(buffer)
                buffer.clear()
                break
            if start:
                self.stats.skipped_bytes += start
                del buffer[:start]
            if len(buffer) < 2:
                break
            length = buffer[1]
            if not MIN_FRAME_LENGTH <= length <= self.max_frame_length:
                self.stats.length_errors += 1
                self._drop_sync()
                continue
            if len(buffer) < length:
                if self._later_frame_complete():
                    self._drop_sync()
                    continue
                break
            received = buffer[length - 2] | (buffer[length - 1] << 8)
            if crc16_kermit(memoryview(buffer)[: length - 2]) != received:
                self.stats.crc_errors += 1
                self._drop_sync()
                continue
            frames.append(Frame(buffer[2], bytes(buffer[3 : length - 2])))
            self.stats.frames += 1
            del buffer[:length]
        return frames

    def _drop_sync(self) -> None:
        self.stats.skipped_bytes += 1
        del self._buffer[:1]

    def _later_frame_complete(self) -> bool:
        buffer = self._buffer
        position = buffer.find(SYNC, 1)
        while position >= 0:
            if position + 1 < len(buffer):
                length = buffer[position + 1]
                end = position + length
                if MIN_FRAME_LENGTH <= length <= self.max_frame_length and end <= len(buffer):
                    received = buffer[end - 2] | (buffer[end - 1] << 8)
                    if crc16_kermit(memoryview(buffer)[position : end - 2]) == received:
                        return True
            position = buffer.find(SYNC, position + 1)
        return False


# ----------------------------------------------------------------- acceptor → controller


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


# ----------------------------------------------------------------- controller → acceptor


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
