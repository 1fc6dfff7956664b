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

The codec is split by idea — :mod:`~drivers.id003.frames` (CRC, encoder,
decoder), :mod:`~drivers.id003.codes` (what each byte means),
:mod:`~drivers.id003.replies` (acceptor → controller) and
:mod:`~drivers.id003.commands` (controller → acceptor) — and this module is
the one entry the driver, the emulator and the tests import it all from.
"""

from __future__ import annotations

from drivers.id003.codes import (
    ACK,
    FAILURE_CODES,
    FAULT_STATUSES,
    FIRST_ESCROW_CODE,
    LAST_ESCROW_CODE,
    NORMAL_STATUSES,
    POWER_UP_STATUSES,
    REJECT_REASONS,
    SETTING_DATA_LENGTH,
    SETTING_FOR_REQUEST,
    Command,
    Status,
)
from drivers.id003.commands import (
    CommandFrame,
    UnknownCommand,
    denomination_bits,
    enabled_codes,
    inhibit_data,
    operation,
    parse_command,
    request,
    setting,
    status_request,
)
from drivers.id003.frames import (
    DEFAULT_MAX_FRAME_LENGTH,
    HEADER_LENGTH,
    MIN_FRAME_LENGTH,
    SYNC,
    DecoderStats,
    Frame,
    FrameDecoder,
    crc16_kermit,
    encode,
)
from drivers.id003.replies import (
    Ack,
    CurrencyAssignment,
    CurrencyEntry,
    Reply,
    SettingEcho,
    StatusReply,
    UnknownReply,
    VersionInfo,
    ack,
    currency_assign_reply,
    parse_reply,
    status_reply,
    version_reply,
)

__all__ = [
    "ACK", "DEFAULT_MAX_FRAME_LENGTH", "FAILURE_CODES", "FAULT_STATUSES", "FIRST_ESCROW_CODE", "HEADER_LENGTH",
    "LAST_ESCROW_CODE", "MIN_FRAME_LENGTH", "NORMAL_STATUSES", "POWER_UP_STATUSES", "REJECT_REASONS",
    "SETTING_DATA_LENGTH", "SETTING_FOR_REQUEST", "SYNC",
    "Ack", "Command", "CommandFrame", "CurrencyAssignment", "CurrencyEntry", "DecoderStats", "Frame",
    "FrameDecoder", "Reply", "SettingEcho", "Status", "StatusReply", "UnknownCommand", "UnknownReply",
    "VersionInfo",
    "ack", "crc16_kermit", "currency_assign_reply", "denomination_bits", "enabled_codes", "encode",
    "inhibit_data", "operation", "parse_command", "parse_reply", "request", "setting", "status_reply",
    "status_request", "version_reply",
]
