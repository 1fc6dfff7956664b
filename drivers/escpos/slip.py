"""A slip (凭条) laid out from data, rendered to ESC/POS bytes.

A :class:`Slip` is a tuple of frozen elements — :class:`Logo`, :class:`Title`,
:class:`Text`, :class:`Field` (a label on the left, an amount on the right),
:class:`Separator`, :class:`QrCode`, :class:`Feed` — and a paper width in
columns of font A: 32 on 58 mm paper, 48 on 80 mm paper.

Chinese and every other non-ASCII character is sent as GB18030 inside the
printer's Chinese character mode, ``FS &`` (1C 26) … ``FS .`` (1C 2E)
(https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/fs_ampersand.html,
…/fs_period.html); ASCII stays outside it.  In Chinese mode a character
prints 24 dots wide, twice a font-A ASCII character, so it takes two columns;
layout counts columns that way.

python-escpos builds every other command (initialise, alignment, emphasis,
size, native QR code ``GS ( k``, raster image ``GS v 0``, feed and cut
``GS V``).  Its ``text()`` is not used for our text: it sends GB18030 only
when the text holds a CJK ideograph between U+4E00 and U+9FA5 and never sends
``FS &``, so a line of CJK punctuation alone ("，。：（）") or "Amount：¥" comes
out as '?' (``escpos/magicencode.py``, ``MagicEncode.write``).

The half-width yen sign ¥ (U+00A5) has no GB 2312 / GBK code — GB18030 gives
it a four-byte code that many printers' two-byte font chips do not have — so
it is printed as the full-width ￥ (U+FFE5, GB 2312 A3A4).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Literal

from drivers.escpos.pyescpos import QR_ECLEVEL_M, Dummy

FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .
PAPER_58MM = 32
PAPER_80MM = 48
DOTS_PER_COLUMN = 12  # font A, 12 x 24 dots
PRINTED_AS = {"\u00a5": "\uffe5"}  # ¥ -> ￥, see the module docstring

Align = Literal["left", "center", "right"]


def printable(text: str) -> str:
    """The text as it will print: control characters become spaces, invisible format
    characters are left out, ¥ becomes ￥.

    Control characters are commands to a printer; a customer's name or an
    address from the backend must never be able to send one.
    """
    out = []
    for char in text:
        char = PRINTED_AS.get(char, char)
        category = unicodedata.category(char)
        if category == "Cc" or char in "\u2028\u2029":
            out.append(" ")
        elif category not in ("Cf", "Cs", "Co", "Cn"):  # invisible or unprintable: left out
            out.append(char)
    return "".join(out)


def columns_of(text: str) -> int:
    """Columns a text takes on the paper: 1 for ASCII, 2 for anything printed in Chinese mode."""
    return sum(1 if " " <= char <= "~" else 2 for char in text)


def wrap(text: str, width: int) -> list[str]:
    """Break a text into lines of at most ``width`` columns; ASCII words stay whole when they fit."""
    text = printable(text)
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if columns_of(line) + columns_of(token) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if token.isspace() else token
        while columns_of(line) > width:  # a word longer than a line is cut
            head = _fit(line, width)
            lines.append(head)
            line = line[len(head):]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


# Chinese line-breaking rule (禁则): these never begin a line; each stays with
# the character before it, which moves to the next line with it if need be.
NO_LINE_START = frozenset("，。、；：？！）》」』】〉”’…,.;:!?)]}%")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for char in text:
        ascii_word = " " < char <= "~"
        if tokens and char in NO_LINE_START and not tokens[-1].isspace():
            tokens[-1] += char
        elif tokens and ascii_word and " " < tokens[-1][-1] <= "~":
            tokens[-1] += char
        elif tokens and char == " " and tokens[-1][-1] == " ":
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _fit(text: str, width: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += columns_of(char)
        if used > width:
            return text[:index]
    return text


# ---------------------------------------------------------------- the elements


@dataclass(frozen=True)
class Logo:
    """A picture printed as a raster bit image (``GS v 0``), centred; PNG, BMP, GIF or JPEG."""

    path: str


@dataclass(frozen=True)
class Title:
    """Double width and height, bold, centred."""

    text: str


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = "left"
    bold: bool = False


@dataclass(frozen=True)
class Field:
    """``label ............ value``: the value ends at the right edge."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Separator:
    char: str = "-"


@dataclass(frozen=True)
class QrCode:
    """A QR code printed by the printer itself (``GS ( k``, model 2, level M), centred."""

    payload: str
    module_size: int = 6
    caption: str = ""

    def __post_init__(self) -> None:
        if not self.payload:
            raise ValueError("a QR code needs a payload")
        if not 1 <= self.module_size <= 16:
            raise ValueError("module_size is 1 to 16 dots")
        if len(self.payload.encode("utf-8")) > 1000:
            raise ValueError("QR payload over 1000 bytes: too dense for a receipt")


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Element = Logo | Title | Text | Field | Separator | QrCode | Feed


@dataclass(frozen=True)
class Slip:
    elements: tuple[Element, ...]
    columns: int = PAPER_80MM
    cut: bool = True

    def __post_init__(self) -> None:
        if not 24 <= self.columns <= 64:
            raise ValueError(f"columns={self.columns}: 32 for 58 mm paper, 48 for 80 mm")

    def render(self) -> bytes:
        return render(self)


# ---------------------------------------------------------------- rendering


@dataclass
class _Writer:
    """python-escpos's Dummy printer as a command builder, plus the state we last set."""

    printer: Dummy = field(default_factory=Dummy)
    align: str = "left"
    bold: bool = False
    size: int = 1

    def style(self, align: str = "left", bold: bool = False, size: int = 1) -> None:
        if align != self.align:
            self.printer.set(align=align)
            self.align = align
        if bold != self.bold:
            self.printer.set(bold=bold)
            self.bold = bold
        if size != self.size:
            # GS ! sizes Chinese characters too; ESC ! would leave them small.
            self.printer.set(custom_size=True, width=size, height=size)
            self.size = size

    def line(self, text: str, align: str = "left", bold: bool = False, size: int = 1) -> None:
        self.style(align, bold, size)
        self.printer._raw(encode_text(text) + b"\n")

    def raw(self, data: bytes) -> None:
        self.printer._raw(data)


def encode_text(text: str) -> bytes:
    """ASCII as is; every other run as GB18030 between ``FS &`` and ``FS .``."""
    out = bytearray()
    for is_ascii, chars in groupby(printable(text), key=lambda char: " " <= char <= "~"):
        run = "".join(chars)
        out += run.encode("ascii") if is_ascii else FS_CHINESE_ON + run.encode("gb18030") + FS_CHINESE_OFF
    return bytes(out)


def render(slip: Slip) -> bytes:
    writer = _Writer()
    writer.printer.hw("INIT")  # ESC @
    # Chinese models start in Chinese mode; leave it so ASCII is plainly ASCII.
    writer.raw(FS_CHINESE_OFF)
    for element in slip.elements:
        _RENDER[type(element)](writer, element, slip.columns)
    writer.style()
    if slip.cut:
        writer.printer.cut()  # feed past the cutter (ESC d 6), full cut (GS V 0)
    return writer.printer.output


def _title(writer: _Writer, title: Title, columns: int) -> None:
    for line in wrap(title.text, columns // 2):
        writer.line(line, "center", True, 2)


def _text(writer: _Writer, text: Text, columns: int) -> None:
    for paragraph in text.text.split("\n"):
        for line in wrap(paragraph, columns):
            writer.line(line, text.align, text.bold)


def _field(writer: _Writer, item: Field, columns: int) -> None:
    label, value = printable(item.label).strip(), printable(item.value).strip()
    room = columns - columns_of(value)
    if columns_of(label) + 1 <= room:
        writer.line(label + " " * (room - columns_of(label)) + value, bold=item.bold)
        return
    for line in wrap(label, columns):  # too long for one line: the value goes under it
        writer.line(line, bold=item.bold)
    for line in wrap(value, columns):
        writer.line(" " * (columns - columns_of(line)) + line, bold=item.bold)


def _separator(writer: _Writer, separator: Separator, columns: int) -> None:
    char = printable(separator.char)[:1] or "-"
    writer.line(char * (columns // columns_of(char)))


def _qr(writer: _Writer, qr: QrCode, columns: int) -> None:
    writer.style("center")
    writer.printer.qr(qr.payload, ec=QR_ECLEVEL_M, size=qr.module_size, native=True)
    if qr.caption:
        _text(writer, Text(qr.caption, "center"), columns)


def _feed(writer: _Writer, feed: Feed, columns: int) -> None:
    writer.style()
    writer.printer.print_and_feed(max(1, min(feed.lines, 255)))


def _logo(writer: _Writer, logo: Logo, columns: int) -> None:
    from PIL import Image

    width = columns * DOTS_PER_COLUMN
    with Image.open(logo.path) as source:
        image = source.convert("L")
    if image.width > width:
        image = image.resize((width, max(1, image.height * width // image.width)))
    # A profile that knows its paper width: python-escpos prints a warning to
    # stdout for the default profile, which has none.
    images = Dummy(profile="TM-T20II")
    images.image(image.convert("1"), center=False)
    writer.style("center")
    writer.raw(images.output)


_RENDER = {Title: _title, Text: _text, Field: _field, Separator: _separator, QrCode: _qr, Feed: _feed, Logo: _logo}


# ---------------------------------------------------------------- the test slip


def test_slip(hall: str, terminal_id: str, *, hall_en: str = "", columns: int = PAPER_80MM,
              now: datetime | None = None) -> Slip:
    """What ``kiosk diag printer --test-slip`` prints: every element, both languages, a QR code."""
    now = now or datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    payload = f"KIOSK-TEST|{terminal_id}|{now.strftime('%Y%m%d%H%M%S')}"
    elements: list[Element] = [
        Title("打印机测试"),
        Text("Printer test slip", "center", bold=True),
        Text(hall, "center"),
    ]
    if hall_en:
        elements.append(Text(hall_en, "center"))
    elements += [
        Separator("="),
        Field("终端 Terminal", terminal_id),
        Field("时间 Time", stamp),
        Separator(),
        Text("中文：缴费成功，谢谢！（测试）"),
        Text("English: payment received, thank you. (test)"),
        Field("示例金额 Sample amount", "¥128.50"),
        Field("预存 Credited", "¥1.50"),
        Field("合计 Total", "¥130.00", bold=True),
        Separator(),
        QrCode(payload, caption="扫码查询 Scan to look up"),
        Text("本凭条仅用于测试，不作缴费凭证。", "center"),
        Text("Test only - not a receipt.", "center"),
    ]
    return Slip(tuple(elements), columns=columns)


test_slip.__test__ = False  # a builder, not a pytest test
