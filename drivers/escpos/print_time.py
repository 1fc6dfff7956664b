"""How long a slip takes to reach the paper, estimated from its bytes.

A printer that answers ``GS r 1`` says when it has printed everything (the
answer waits behind the data: Epson ESC/POS reference, GS r).  One that does
not can only tell us, through ``DLE EOT``, that it has taken the data and
whether it has stopped (cover, paper end, an error).  For such a printer the
link keeps asking ``DLE EOT`` for as long as the slip would take to print,
so that a roll running out halfway is still seen as a failed slip; this
module says how long that is.

The estimate is deliberately on the slow side: paper length from what the
bytes put on paper (:func:`drivers.escpos.decode.decode`), at a speed slower
than the 80 mm kiosk printers we use (150–250 mm/s on their data sheets):

* a text line is the default line spacing, 1/6 inch (Epson ``ESC 2``), or its
  character height (24 dots of font A times the ``GS !`` height) if taller;
* ``ESC d n`` feeds n lines (Epson ``ESC d``), which is how a slip feeds and
  how the cut feeds past the cutter;
* raster images (``GS v 0``) and QR codes (``GS ( k``) are their height in
  dots at 8 dots per mm (203 dpi heads); a QR code's side in modules follows
  from its payload (ISO/IEC 18004 versions, error correction level M, which
  is what ``drivers/escpos/slip.py`` prints);
* each cut adds a fixed allowance for the cutter.
"""

from __future__ import annotations

from drivers.escpos.decode import DLE, ESC, FS, GS, Cut, Image, Line, Qr, command_length, decode

DOTS_PER_MM = 8.0  # 203 dpi thermal heads, 58 mm and 80 mm alike
LINE_SPACING_MM = 25.4 / 6  # ESC 2, the default line spacing
CHARACTER_HEIGHT_MM = 24 / DOTS_PER_MM  # font A
CUT_ALLOWANCE_S = 0.5  # the cutter's own stroke, on top of the feed
ASSUMED_SPEED_MM_S = 100.0
# Byte-mode capacity at error correction level M, versions 1 to 10 (ISO/IEC 18004 table 7).
_QR_CAPACITY_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213)
_QR_QUIET_ZONE_MODULES = 8  # four modules each side


def qr_side_modules(payload_bytes: int) -> int:
    """Side of the smallest level-M QR code holding the payload, quiet zone included."""
    for version, capacity in enumerate(_QR_CAPACITY_M, start=1):
        if payload_bytes <= capacity:
            break
    else:
        version = 40  # longer payloads than a slip carries: the largest code
    return 17 + 4 * version + _QR_QUIET_ZONE_MODULES


def paper_length_mm(data: bytes) -> float:
    """The length of paper the bytes print, from their lines, feeds, pictures and codes."""
    length = 0.0
    for item in decode(data).items:
        if isinstance(item, Line):
            length += max(LINE_SPACING_MM, CHARACTER_HEIGHT_MM * item.size[1])
        elif isinstance(item, Qr):
            side = qr_side_modules(len(item.payload.encode("utf-8")))
            length += side * max(1, item.module_size) / DOTS_PER_MM
        elif isinstance(item, Image):
            length += item.height / DOTS_PER_MM
    return length + _fed_lines(data) * LINE_SPACING_MM


def estimated_print_s(data: bytes, speed_mm_s: float = ASSUMED_SPEED_MM_S) -> float:
    """Seconds from the last byte taken to the slip cut, at ``speed_mm_s``."""
    if speed_mm_s <= 0:
        raise ValueError(f"printing speed {speed_mm_s!r} mm/s: it must be positive")
    cuts = sum(isinstance(item, Cut) for item in decode(data).items)
    return paper_length_mm(data) / speed_mm_s + cuts * CUT_ALLOWANCE_S


def _fed_lines(data: bytes) -> int:
    """Lines fed by ``ESC d n``, walking the stream command by command (picture data is skipped whole)."""
    lines = 0
    index = 0
    while index < len(data):
        if data[index] not in (ESC, GS, FS, DLE):
            index += 1
            continue
        length = command_length(data, index)
        if length is None:
            break
        if data[index] == ESC and data[index + 1] == ord("d") and length == 3:
            lines += data[index + 2]
        index += length
    return lines
