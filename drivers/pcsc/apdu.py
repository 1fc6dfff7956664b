"""Command APDUs and the T=0 exchange: the ISO 7816 commands the card application sends.

* ISO/IEC 7816-4:2005 — §5.1 command/response APDU, §7.1.1 SELECT (INS A4;
  P1=00 selects by file identifier, P2=0C asks for no response data),
  §7.2.3 READ BINARY (INS B0; P1 bit 8 set → bits 5-1 are a short EF
  identifier and P2 the offset), §7.2.5 UPDATE BINARY (INS D6), §7.6.1 GET
  RESPONSE (INS C0).
* ISO/IEC 7816-3 §12.2 (T=0): SW1=61 asks for GET RESPONSE and SW1=6C gives
  the exact Le to send again.

Its own module because none of this knows our files or their layout: it is
how any ISO 7816 card is spoken to, and ``card_app`` builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from drivers.pcsc.card_errors import CardFormatError, StatusWordError
from drivers.pcsc.status_words import SW_END_OF_FILE, SW_OK

Transmit = Callable[[bytes], bytes]


def select_file(fid: int) -> bytes:
    """SELECT by file identifier, no response data (7816-4 §7.1.1: P1=00, P2=0C)."""
    return bytes([0x00, 0xA4, 0x00, 0x0C, 0x02, fid >> 8, fid & 0xFF])


def read_binary(length: int, offset: int = 0, sfi: int | None = None) -> bytes:
    """READ BINARY (7816-4 §7.2.3) of ``length`` bytes (0 means up to 256).

    With ``sfi``, P1 = 0x80 | SFI and P2 is an offset of up to 255; without,
    the current EF is read and P1-P2 is a 15-bit offset.
    """
    if not 0 <= length <= 256:
        raise ValueError(f"length {length} is outside 0..256")
    if sfi is not None:
        if not 1 <= sfi <= 30 or not 0 <= offset <= 0xFF:
            raise ValueError(f"SFI {sfi} / offset {offset} cannot be encoded (SFI 1..30, offset 0..255)")
        p1, p2 = 0x80 | sfi, offset
    else:
        if not 0 <= offset <= 0x7FFF:
            raise ValueError(f"offset {offset} is outside 0..32767")
        p1, p2 = offset >> 8, offset & 0xFF
    return bytes([0x00, 0xB0, p1, p2, length & 0xFF])


def update_binary(data: bytes, offset: int = 0, sfi: int | None = None) -> bytes:
    """UPDATE BINARY (7816-4 §7.2.5), addressing as :func:`read_binary`."""
    if not 1 <= len(data) <= 255:
        raise ValueError(f"{len(data)} bytes cannot go in one short APDU (1..255)")
    header = read_binary(0, offset, sfi)[:4]
    return bytes([header[0], 0xD6, header[2], header[3], len(data)]) + data


def get_response(length: int) -> bytes:
    """GET RESPONSE (7816-4 §7.6.1), for T=0 cards that answered 61XX."""
    return bytes([0x00, 0xC0, 0x00, 0x00, length & 0xFF])


@dataclass(frozen=True)
class Response:
    """A response APDU: data field and the status word SW1-SW2."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    @classmethod
    def parse(cls, raw: bytes) -> "Response":
        if len(raw) < 2:
            raise CardFormatError("response", f"{len(raw)} bytes, a response needs at least SW1-SW2")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])


def exchange(transmit: Transmit, command: bytes, name: str) -> bytes:
    """Send one command; follow T=0's 61XX and 6CXX; return the data on 9000.

    A 6282 (end of file before Le bytes) returns what came; any other status
    word raises :class:`StatusWordError` naming the command.
    """
    response = Response.parse(transmit(command))
    if response.sw >> 8 == 0x6C:  # 7816-3 §12.2.2: send again with Le = SW2
        response = Response.parse(transmit(command[:4] + bytes([response.sw & 0xFF])))
    data = response.data
    while response.sw >> 8 == 0x61:  # 7816-3 §12.2.1: fetch the rest
        response = Response.parse(transmit(get_response(response.sw & 0xFF)))
        data += response.data
    if response.sw in (SW_OK, SW_END_OF_FILE):
        return data
    raise StatusWordError(name, response.sw)
