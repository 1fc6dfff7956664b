"""ID-003 code tables: what each command and status byte means, and their data.

Spec ID03-001E ch. 5 ("Table of Command and Response") and ch. 6 (the data of
ESCROW, REJECTING, FAILURE and of the setting commands), as reproduced by the
public implementations listed in ``docs/id003.md``.

Its own module because these tables are the protocol's vocabulary: the frame
decoder does not need them, while the reply parser, the command builders, the
driver and the emulator all do.
"""

from __future__ import annotations

from enum import IntEnum


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
