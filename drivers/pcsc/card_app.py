"""The utility's prepaid meter CPU card, host side: files, APDUs and parsers.

Pure code, no I/O: builders turn intentions into command APDUs, parsers turn
response bytes into frozen dataclasses or typed errors that name the field at
fault.  :func:`read_card` runs the whole read sequence over a ``transmit``
callable, so the PC/SC driver, the in-process emulator and the unit tests all
use one sequence.  The layout is written down, with its sources, in
``docs/card.md``; in short::

    MF 3F00
    └── DF DF01                 prepaid meter application
        ├── EF 0001 (SFI 1)     customer info file, 25 bytes, 68 … CS 16 framed
        └── EF 0002 (SFI 2)     purse file, 8 bytes: credit (fen), purchase count

Sources:

* ISO/IEC 7816-4:2005 §8.1.1 historical bytes; the status words (§5.1.3)
  are in ``status_words.py`` and the command APDUs and the T=0 exchange
  (7816-4 §5.1, §7, 7816-3 §12.2) in ``apdu.py``, which know nothing of our
  files.  Their names, and the errors of ``card_errors.py``, still import
  from here.
* The State Grid user card (Q/GDW 365 / Q/GDW 1365 费控智能电能表信息交换
  安全认证技术规范) as meter firmware implements it — see e.g.
  ``float12/WorkProjectsSVN``, ``.../Module/PrePay/GuoWang698/Card.c`` and
  ``PrePay.h``: SELECT 3F00 then DF01; READ BINARY with P1=81 reads the
  parameter file (SFI 1), framed ``68 CMD LEN LEN … CS 16`` with the
  checksum over CMD through the last data byte; P1=82 reads the purchase
  file (SFI 2) as a 4-byte purchase amount and a 4-byte purchase count,
  big-endian; user-card types 01 open-account, 02 purchase, 03 replacement.
* EMV 4.3 Book 3 §4.3, format ``cn``: digits packed two per byte, left
  justified, padded with hexadecimal F — how the account number is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# Re-exported: the applet, the reader driver and the tests use card_app.<name>.
from drivers.pcsc.apdu import (  # noqa: F401
    Response,
    Transmit,
    exchange,
    get_response,
    read_binary,
    select_file,
    update_binary,
)
from drivers.pcsc.card_errors import CardAppError, CardFormatError, StatusWordError  # noqa: F401
from drivers.pcsc.status_words import (  # noqa: F401
    SW_CLA_NOT_SUPPORTED,
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_INCOMPATIBLE_FILE,
    SW_INS_NOT_SUPPORTED,
    SW_NO_CURRENT_EF,
    SW_NO_DIAGNOSIS,
    SW_OFFSET_OUT_OF_FILE,
    SW_OK,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    sw_meaning,
)

# --------------------------------------------------------------------- files
MF = 0x3F00
DF_PREPAID = 0xDF01
EF_CUSTOMER_INFO = 0x0001
EF_PURSE = 0x0002
SFI_CUSTOMER_INFO = 1
SFI_PURSE = 2

FRAME_START = 0x68
FRAME_END = 0x16
CARD_COMMAND_USER = 0x01  # State Grid: 01 user card, 06 preset card
LAYOUT_VERSION = 0x01
INFO_HEADER_LENGTH = 4  # 68, card command, 2-byte data length
INFO_DATA_LENGTH = 19
INFO_FILE_LENGTH = INFO_DATA_LENGTH + 6
PURSE_FILE_LENGTH = 8
METER_NO_BYTES = 6  # 12 BCD digits, as the State Grid 表号
ACCOUNT_NO_BYTES = 10  # up to 20 digits, the longest account number config.toml allows
MAX_BALANCE_FEN = 99_999_999  # 999 999.99 yuan, the meters' own ceiling

# --------------------------------------------------------------------- data
class Utility(Enum):
    """Which utility the card belongs to; values are the ids in config.toml."""

    ELECTRICITY = "electricity"
    WATER = "water"
    GAS = "gas"


_UTILITY_CODES = {Utility.ELECTRICITY: 0x01, Utility.WATER: 0x02, Utility.GAS: 0x03}
_UTILITY_BY_CODE = {code: utility for utility, code in _UTILITY_CODES.items()}


class CardType(Enum):
    """The State Grid user-card types (PrePay.h: OPEN_CARD, BUY_CARD, LOST_CARD)."""

    OPEN_ACCOUNT = 0x01  # 开户卡: first card of a new account
    PURCHASE = 0x02  # 购电卡: every later purchase
    REPLACEMENT = 0x03  # 补卡: issued for a lost card


@dataclass(frozen=True)
class CardInfo:
    """What one card holds: who it belongs to, which meter, and its purse.

    ``balance_fen`` is the credit the card carries to the meter: the amount of
    the last purchase, which the meter takes when its own purchase count is
    one behind ``purchase_count`` (the State Grid rule, see docs/card.md).
    ``serial`` is the card serial number from the ATR's historical bytes.
    """

    utility: Utility
    account_no: str
    meter_no: str
    card_type: CardType = CardType.PURCHASE
    balance_fen: int = 0
    purchase_count: int = 0
    serial: str = ""


# --------------------------------------------------------------------- ATR (ISO 7816-3 §8, 7816-4 §8.1.1)
# TS=3B direct convention; T0=69: TB1 and TC1 follow, then 9 historical bytes;
# TB1=00 (no programming voltage), TC1=00 (no extra guard time); T=0 only, so
# no TCK.  Historical bytes: a category indicator outside 00/10/8X means a
# proprietary format (7816-4 §8.1.1.1); ours is 0x55 followed by the 8-byte
# card serial, where State Grid meters also take the serial from the ATR.
_ATR_PREFIX = bytes([0x3B, 0x69, 0x00, 0x00])
_ATR_CATEGORY = 0x55
SERIAL_BYTES = 8


def atr_for_serial(serial: str) -> bytes:
    """The ATR of one of our cards with this 16-hex-digit serial."""
    raw = _hex_field("serial", serial, SERIAL_BYTES)
    return _ATR_PREFIX + bytes([_ATR_CATEGORY]) + raw


def serial_from_atr(atr: bytes) -> str:
    """The card serial from an ATR of our format, or "" for any other ATR."""
    if len(atr) == len(_ATR_PREFIX) + 1 + SERIAL_BYTES and atr[:4] == _ATR_PREFIX and atr[4] == _ATR_CATEGORY:
        return atr[5:].hex().upper()
    return ""


def _hex_field(field: str, text: str, nbytes: int) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise CardFormatError(field, f"{text!r} is not hexadecimal") from None
    if len(raw) != nbytes:
        raise CardFormatError(field, f"must be {nbytes * 2} hex digits, got {len(text)}")
    return raw


# --------------------------------------------------------------------- file contents
def encode_customer_info(info: CardInfo) -> bytes:
    """The 25-byte customer info file (EF 0001) of ``info``."""
    if not isinstance(info.utility, Utility):
        raise CardFormatError("utility", f"{info.utility!r} is not a Utility")
    data = bytes([LAYOUT_VERSION, _UTILITY_CODES[info.utility], info.card_type.value])
    data += encode_bcd("meter_no", info.meter_no, METER_NO_BYTES)
    data += encode_cn("account_no", info.account_no, ACCOUNT_NO_BYTES)
    body = bytes([CARD_COMMAND_USER]) + len(data).to_bytes(2, "big") + data
    return bytes([FRAME_START]) + body + bytes([sum(body) & 0xFF, FRAME_END])


def info_file_length(header: bytes) -> int:
    """Total length of the customer info file from its first four bytes."""
    if len(header) < INFO_HEADER_LENGTH:
        raise CardFormatError("header", f"{len(header)} bytes, expected {INFO_HEADER_LENGTH}")
    if header[0] != FRAME_START:
        raise CardFormatError("start", f"starts with {header[0]:02X}, expected {FRAME_START:02X}")
    if header[1] != CARD_COMMAND_USER:
        raise CardFormatError("card_command", f"{header[1]:02X} is not a user card ({CARD_COMMAND_USER:02X})")
    length = int.from_bytes(header[2:4], "big")
    if length != INFO_DATA_LENGTH:
        raise CardFormatError("length", f"data length {length}, this layout has {INFO_DATA_LENGTH}")
    return length + 6


def parse_customer_info(raw: bytes) -> CardInfo:
    """The customer info file → :class:`CardInfo` (purse fields left at zero)."""
    total = info_file_length(raw[:INFO_HEADER_LENGTH])
    if len(raw) != total:
        raise CardFormatError("length", f"file is {len(raw)} bytes, its header says {total}")
    if raw[-1] != FRAME_END:
        raise CardFormatError("end", f"ends with {raw[-1]:02X}, expected {FRAME_END:02X}")
    checksum = sum(raw[1:-2]) & 0xFF
    if raw[-2] != checksum:
        raise CardFormatError("checksum", f"stored {raw[-2]:02X}, computed {checksum:02X}")
    data = raw[INFO_HEADER_LENGTH:-2]
    if data[0] != LAYOUT_VERSION:
        raise CardFormatError("layout_version", f"{data[0]:02X}, this kiosk reads {LAYOUT_VERSION:02X}")
    utility = _UTILITY_BY_CODE.get(data[1])
    if utility is None:
        raise CardFormatError("utility", f"code {data[1]:02X} is none of 01 electricity, 02 water, 03 gas")
    try:
        card_type = CardType(data[2])
    except ValueError:
        raise CardFormatError("card_type", f"{data[2]:02X} is none of 01 open-account, 02 purchase, "
                                           "03 replacement") from None
    meter = data[3:3 + METER_NO_BYTES]
    account = data[3 + METER_NO_BYTES:3 + METER_NO_BYTES + ACCOUNT_NO_BYTES]
    return CardInfo(utility, decode_cn("account_no", account), decode_bcd("meter_no", meter), card_type)


def encode_purse(balance_fen: int, purchase_count: int) -> bytes:
    """The 8-byte purse file (EF 0002): credit in fen, then purchase count."""
    if not 0 <= balance_fen <= MAX_BALANCE_FEN:
        raise CardFormatError("balance_fen", f"{balance_fen} is outside 0..{MAX_BALANCE_FEN}")
    if not 0 <= purchase_count <= 0xFFFFFFFF:
        raise CardFormatError("purchase_count", f"{purchase_count} does not fit in 4 bytes")
    return balance_fen.to_bytes(4, "big") + purchase_count.to_bytes(4, "big")


def parse_purse(raw: bytes) -> tuple[int, int]:
    """The purse file → (balance_fen, purchase_count)."""
    if len(raw) != PURSE_FILE_LENGTH:
        raise CardFormatError("purse", f"{len(raw)} bytes, expected {PURSE_FILE_LENGTH}")
    balance = int.from_bytes(raw[:4], "big")
    if balance > MAX_BALANCE_FEN:
        raise CardFormatError("balance_fen", f"{balance} is above the meters' ceiling {MAX_BALANCE_FEN}")
    return balance, int.from_bytes(raw[4:], "big")


# --------------------------------------------------------------------- BCD and cn
def encode_bcd(field: str, digits: str, nbytes: int) -> bytes:
    """Exactly ``2 * nbytes`` decimal digits, two per byte, high nibble first."""
    if len(digits) != 2 * nbytes or not (digits.isascii() and digits.isdigit()):
        raise CardFormatError(field, f"{digits!r} is not {2 * nbytes} digits")
    return bytes.fromhex(digits)


def decode_bcd(field: str, raw: bytes) -> str:
    text = raw.hex()
    if not text.isdigit():
        raise CardFormatError(field, f"{raw.hex(' ').upper()} is not BCD")
    return text


def encode_cn(field: str, digits: str, nbytes: int) -> bytes:
    """EMV ``cn``: digits left justified, padded with F nibbles to ``nbytes``."""
    if not digits or len(digits) > 2 * nbytes or not (digits.isascii() and digits.isdigit()):
        raise CardFormatError(field, f"{digits!r} is not 1 to {2 * nbytes} digits")
    return bytes.fromhex(digits.ljust(2 * nbytes, "f"))


def decode_cn(field: str, raw: bytes) -> str:
    text = raw.hex()
    digits = text.rstrip("f")
    if not digits or not digits.isdigit():
        raise CardFormatError(field, f"{raw.hex(' ').upper()} is not digits padded with F")
    return digits


# --------------------------------------------------------------------- the read sequence
def read_card(transmit: Transmit, atr: bytes = b"") -> CardInfo:
    """Select the application and read who the card belongs to and its purse.

    SELECT MF, SELECT DF01, READ BINARY SFI 1 (header, then the whole file),
    READ BINARY SFI 2 — as a State Grid meter reads a user card, without the
    secure messaging a meter adds (see docs/card.md).  Raises
    :class:`StatusWordError` or :class:`CardFormatError`; whatever ``transmit``
    raises (the card pulled, a timeout) passes through untouched.
    """
    exchange(transmit, select_file(MF), "SELECT MF 3F00")
    exchange(transmit, select_file(DF_PREPAID), "SELECT DF DF01")
    header = exchange(transmit, read_binary(INFO_HEADER_LENGTH, sfi=SFI_CUSTOMER_INFO), "READ BINARY SFI 1 header")
    total = info_file_length(header)
    raw = exchange(transmit, read_binary(total, sfi=SFI_CUSTOMER_INFO), "READ BINARY SFI 1")
    info = parse_customer_info(raw)
    balance, count = parse_purse(exchange(transmit, read_binary(PURSE_FILE_LENGTH, sfi=SFI_PURSE),
                                          "READ BINARY SFI 2"))
    return CardInfo(info.utility, info.account_no, info.meter_no, info.card_type, balance, count,
                    serial_from_atr(atr))
