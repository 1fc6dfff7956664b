"""The write-back file (返写文件, EF 0005, SFI 5): what the meter wrote on the card the last time it was in it.

A State Grid meter writes its run information back to the user card every
time the card is put in it (meter firmware ``Card.c``,
``WriteCardReturnDataWithMac``: file ``68 11 00 2B …``, SFI 5 written with
``04 D6 85 00``): its remaining credit, its overdraft, the purchase count it
has loaded, and the time.  The sales system reads it to know what the meter
holds.  Ours is a compact layout in the same framing (docs/card.md, EF 0005):

    68 11 00 19  ver status meter_no(6) remaining(4) overdraft(4) count(4) YYMMDDhhmm(5)  CS 16

A card just issued has an empty file (all 00), as the firmware sees it:
the meter has never seen the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntFlag

from drivers.pcsc.card_errors import CardFormatError

EF_WRITE_BACK = 0x0005
SFI_WRITE_BACK = 5
CARD_COMMAND_WRITE_BACK = 0x11  # the firmware's run-information file starts 68 11
LAYOUT_VERSION = 0x01
DATA_LENGTH = 25
FILE_LENGTH = DATA_LENGTH + 6
EMPTY = bytes(FILE_LENGTH)
_MAX_FEN = 99_999_999


class MeterStatus(IntFlag):
    """The meter's state when it wrote back."""

    RELAY_OPEN = 0x01  # supply cut off (拉闸): no credit left
    CREDIT_LOW = 0x02  # below the alarm level (报警金额)
    OVERDRAFT = 0x04  # running on overdraft (透支)


_ALL_STATUS = MeterStatus.RELAY_OPEN | MeterStatus.CREDIT_LOW | MeterStatus.OVERDRAFT


@dataclass(frozen=True)
class WriteBack:
    """What the meter reported, in the units of the purse (fen)."""

    meter_no: str
    remaining_fen: int
    overdraft_fen: int
    purchase_count: int  # the last purchase the meter loaded
    status: MeterStatus
    written_at: datetime  # to the minute, the meter's clock


def _bcd(value: int, digits: int) -> bytes:
    return bytes.fromhex(f"{value:0{digits}d}")


def encode_write_back(report: WriteBack) -> bytes:
    """The 31-byte file a meter writes for ``report``."""
    for name, value in (("remaining_fen", report.remaining_fen), ("overdraft_fen", report.overdraft_fen)):
        if not 0 <= value <= _MAX_FEN:
            raise CardFormatError(name, f"{value} is outside 0..{_MAX_FEN}")
    if len(report.meter_no) != 12 or not report.meter_no.isdigit():
        raise CardFormatError("meter_no", f"{report.meter_no!r} is not 12 digits")
    when = report.written_at
    data = (bytes([LAYOUT_VERSION, int(report.status)]) + bytes.fromhex(report.meter_no)
            + report.remaining_fen.to_bytes(4, "big") + report.overdraft_fen.to_bytes(4, "big")
            + report.purchase_count.to_bytes(4, "big")
            + _bcd(when.year % 100, 2) + _bcd(when.month, 2) + _bcd(when.day, 2) + _bcd(when.hour, 2)
            + _bcd(when.minute, 2))
    body = bytes([CARD_COMMAND_WRITE_BACK]) + DATA_LENGTH.to_bytes(2, "big") + data
    return bytes([0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def parse_write_back(raw: bytes) -> WriteBack | None:
    """The file → what the meter reported, or None while it is empty (the card has not been in its meter)."""
    if len(raw) != FILE_LENGTH:
        raise CardFormatError("write_back", f"{len(raw)} bytes, expected {FILE_LENGTH}")
    if raw == EMPTY:
        return None
    if raw[0] != 0x68 or raw[-1] != 0x16:
        raise CardFormatError("write_back", f"framed {raw[0]:02X} … {raw[-1]:02X}, expected 68 … 16")
    if raw[1] != CARD_COMMAND_WRITE_BACK or int.from_bytes(raw[2:4], "big") != DATA_LENGTH:
        raise CardFormatError("write_back", f"header {raw[1:4].hex(' ').upper()}, expected 11 00 19")
    if raw[-2] != sum(raw[1:-2]) & 0xFF:
        raise CardFormatError("checksum", f"stored {raw[-2]:02X}, computed {sum(raw[1:-2]) & 0xFF:02X}")
    data = raw[4:-2]
    if data[0] != LAYOUT_VERSION:
        raise CardFormatError("layout_version", f"{data[0]:02X}, this kiosk reads {LAYOUT_VERSION:02X}")
    if data[1] & ~int(_ALL_STATUS):
        raise CardFormatError("meter_status", f"{data[1]:02X} has bits outside {int(_ALL_STATUS):02X}")
    return WriteBack(_digits("meter_no", data[2:8]), int.from_bytes(data[8:12], "big"),
                     int.from_bytes(data[12:16], "big"), int.from_bytes(data[16:20], "big"),
                     MeterStatus(data[1]), _when(data[20:25]))


def _digits(field: str, raw: bytes) -> str:
    text = raw.hex()
    if not text.isdigit():
        raise CardFormatError(field, f"{raw.hex(' ').upper()} is not BCD")
    return text


def _when(raw: bytes) -> datetime:
    text = _digits("written_at", raw)
    try:
        return datetime(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]))
    except ValueError as error:
        raise CardFormatError("written_at", f"{text} is not a time YYMMDDhhmm ({error})") from None
