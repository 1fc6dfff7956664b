"""ESC/POS bytes back into what the paper shows: text lines, QR codes, images, cuts.

The tests' eyes: they print to the emulator and read the slip back with
:func:`decode`.  It is written from the command reference, not from our slip
renderer, so a mistake in one shows up against the other.

* Text: outside Chinese mode one byte is one character (ASCII, or the code
  page chosen by ``ESC t``, PC437 by default); between ``FS &`` and ``FS .``
  the bytes are GB18030 (two or four bytes a character).  A line records the
  columns it takes: one per single-byte character, two per Chinese-mode
  character, times the width multiplier of ``GS !`` / ``ESC !``.
* Anything that could be a substitution is flagged in :attr:`Decoded.suspect`:
  a '?' on the paper, or bytes GB18030 cannot decode (U+FFFD).
* ``GS ( k`` (cn 49) store (fn 80) and print (fn 81) make a :class:`Qr`;
  ``GS V`` a :class:`Cut`; ``GS v 0`` an :class:`Image`; ``DLE EOT n`` and
  ``GS r n`` are recorded as status requests and print nothing.

Command lengths follow the Epson ESC/POS Command Reference
(https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/); a command
whose length this module does not know is recorded in :attr:`Decoded.unknown`
and skipped as two bytes.  The emulator uses :func:`command_length` to find
where one command ends in a stream that arrives in pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866",
              18: "cp852", 19: "cp858"}

# Fixed lengths, command byte included: {second byte: length}.
_ESC_FIXED = {
    **dict.fromkeys(b"@2<LS\x0c", 2),
    **dict.fromkeys(b"!-EGMRtadJe3V{ U=%?TrKvu", 3),
    **dict.fromkeys(b"$\\c", 4),
    ord("p"): 5,
    ord("W"): 10,
}
_GS_FIXED = {
    **dict.fromkeys(b"!BHIabfhrwE/^", 3),
    **dict.fromkeys(b"LWP$\\", 4),
}
_FS_FIXED = {
    **dict.fromkeys(b"&.\x0e\x14", 2),
    **dict.fromkeys(b"!-WCI", 3),
    **dict.fromkeys(b"Sp", 4),
}
_DLE_DC4_LENGTH = {1: 5, 2: 5, 7: 5, 8: 10}


def command_length(data: bytes, start: int) -> int | None:
    """Length of the command at ``data[start]`` (ESC, GS, FS or DLE); None if it is not all there yet.

    Unknown commands count as two bytes.
    """
    if len(data) < start + 2:
        return None
    lead, code = data[start], data[start + 1]
    if lead not in _FIXED:
        raise ValueError(f"0x{lead:02x} does not start a command")
    variable = _VARIABLE[lead].get(code)
    if variable is not None:
        return variable(data, start)
    table, unknown = _FIXED[lead]
    return table.get(code, unknown)


def _parenthesised(data: bytes, start: int) -> int | None:
    """``ESC|GS|FS ( x pL pH`` followed by pL + 256 pH bytes."""
    if len(data) < start + 5:
        return None
    return 5 + data[start + 3] + 256 * data[start + 4]


def _up_to_nul(data: bytes, start: int, first: int) -> int | None:
    """A command whose data runs from ``data[start + first]`` to a NUL, the NUL included."""
    end = data.find(b"\x00", start + first)
    return None if end < 0 else end - start + 1


def _esc_bit_image(data: bytes, start: int) -> int | None:
    """``ESC * m nL nH d1…dk``: k columns of one byte, or of three for the 24-dot modes."""
    if len(data) < start + 5:
        return None
    m, k = data[start + 2], data[start + 3] + 256 * data[start + 4]
    return 5 + (3 * k if m in (32, 33) else k)


def _gs_cut(data: bytes, start: int) -> int | None:
    """``GS V m`` or, for the feed-and-cut functions, ``GS V m n``."""
    if len(data) < start + 3:
        return None
    return 3 if data[start + 2] in (0, 1, 48, 49) else 4


def _gs_raster(data: bytes, start: int) -> int | None:
    """``GS v 0 m xL xH yL yH d1…dk``."""
    if len(data) < start + 8:
        return None
    x = data[start + 4] + 256 * data[start + 5]
    y = data[start + 6] + 256 * data[start + 7]
    return 8 + x * y


def _gs_barcode(data: bytes, start: int) -> int | None:
    """``GS k m d1…dk NUL`` (m ≤ 6) or ``GS k m n d1…dn``."""
    if len(data) < start + 4:
        return None
    if data[start + 2] <= 6:
        return _up_to_nul(data, start, 3)
    return 4 + data[start + 3]


def _gs_graphics(data: bytes, start: int) -> int | None:
    """``GS 8 L p1 p2 p3 p4 …``: a four-byte parameter length."""
    if len(data) < start + 7:
        return None
    p = int.from_bytes(data[start + 3:start + 7], "little")
    return 7 + p


def _dle_eot(data: bytes, start: int) -> int | None:
    """``DLE EOT n [a]``."""
    if len(data) < start + 3:
        return None
    return 4 if data[start + 2] in (7, 8, 18) else 3


def _dle_dc4(data: bytes, start: int) -> int | None:
    """``DLE DC4 fn …``."""
    if len(data) < start + 3:
        return None
    return _DLE_DC4_LENGTH.get(data[start + 2], 3)


# {lead byte: (fixed lengths, length of an unknown command)}; a DLE with no
# command after it is a lone data byte.
_FIXED = {ESC: (_ESC_FIXED, 2), GS: (_GS_FIXED, 2), FS: (_FS_FIXED, 2), DLE: ({0x05: 3}, 1)}
# {lead byte: {second byte: the function that reads the command's length from its parameters}}
_VARIABLE = {
    ESC: {ord("*"): _esc_bit_image, ord("("): _parenthesised,
          ord("D"): lambda data, start: _up_to_nul(data, start, 2)},
    GS: {ord("("): _parenthesised, ord("V"): _gs_cut, ord("v"): _gs_raster, ord("k"): _gs_barcode,
         ord("8"): _gs_graphics},
    FS: {ord("("): _parenthesised},
    DLE: {0x04: _dle_eot, 0x14: _dle_dc4},
}


# ---------------------------------------------------------------- what the paper shows


@dataclass(frozen=True)
class Line:
    text: str
    columns: int  # printed width in font-A columns
    align: str = "left"
    bold: bool = False
    size: tuple[int, int] = (1, 1)  # width and height multipliers


@dataclass(frozen=True)
class Qr:
    payload: str
    module_size: int = 3


@dataclass(frozen=True)
class Cut:
    partial: bool = False


@dataclass(frozen=True)
class Image:
    width: int  # dots
    height: int


Item = Line | Qr | Cut | Image


@dataclass(frozen=True)
class Decoded:
    items: tuple[Item, ...]
    suspect: tuple[str, ...] = ()  # lines with '?' or undecodable bytes
    status_requests: tuple[bytes, ...] = ()
    unknown: tuple[bytes, ...] = ()
    unfinished: bytes = b""  # a command cut off at the end of the data

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(item for item in self.items if isinstance(item, Line))

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(line.text for line in self.lines)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def qr_codes(self) -> tuple[str, ...]:
        return tuple(item.payload for item in self.items if isinstance(item, Qr))

    @property
    def cuts(self) -> int:
        return sum(isinstance(item, Cut) for item in self.items)

    @property
    def images(self) -> tuple[Image, ...]:
        return tuple(item for item in self.items if isinstance(item, Image))

    def line_with(self, fragment: str) -> Line:
        """The first line that contains ``fragment``; AssertionError naming what was printed if none."""
        for line in self.lines:
            if fragment in line.text:
                return line
        raise AssertionError(f"no printed line contains {fragment!r}; printed:\n{self.text}")


@dataclass
class _State:
    chinese: bool = False
    code_page: int = 0
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1
    qr_store: bytes = b""
    qr_size: int = 3


@dataclass
class _Decoder:
    state: _State = field(default_factory=_State)
    items: list[Item] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)
    status_requests: list[bytes] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)
    text: str = ""
    columns: int = 0
    pending: bool = False  # something is in the line buffer (even an empty string of text)

    def put_text(self, raw: bytes) -> None:
        if self.state.chinese:
            text = raw.decode("gb18030", errors="replace")
            columns = sum(1 if char < "\x80" else 2 for char in text)
        else:
            encoding = CODE_PAGES.get(self.state.code_page)
            text = raw.decode(encoding or "latin-1", errors="replace")
            if encoding is None and any(byte >= 0x80 for byte in raw):
                self.suspect.append(f"code page {self.state.code_page} unknown to the decoder: {raw!r}")
            columns = len(raw)
        self.text += text
        self.columns += columns * self.state.width
        self.pending = True

    def end_line(self, force: bool = True) -> None:
        if not (force or self.pending):
            return
        line = Line(self.text, self.columns, self.state.align, self.state.bold, (self.state.width, self.state.height))
        if "?" in line.text or "\ufffd" in line.text:
            self.suspect.append(line.text)
        self.items.append(line)
        self.text, self.columns, self.pending = "", 0, False

    def command(self, cmd: bytes) -> None:
        lead, code = cmd[0], cmd[1]
        arg = cmd[2] if len(cmd) > 2 else 0
        state = self.state
        if lead == ESC:
            if code == ord("@"):
                self.text, self.columns, self.pending = "", 0, False  # the print buffer is cleared
                self.state = _State()
            elif code == ord("!"):
                state.bold = bool(arg & 0x08)
                state.height = 2 if arg & 0x10 else 1
                state.width = 2 if arg & 0x20 else 1
            elif code == ord("E"):
                state.bold = bool(arg & 1)
            elif code == ord("a"):
                state.align = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}.get(arg, "left")
            elif code == ord("t"):
                state.code_page = arg
            elif code in (ord("d"), ord("J")):
                self.end_line(force=False)
            elif code == ord("*"):  # column bit image: one band of 8 or 24 dots
                self.end_line(force=False)
                self.items.append(Image(width=cmd[3] + 256 * cmd[4], height=24 if arg in (32, 33) else 8))
            elif code not in _ESC_FIXED and code != ord("D"):
                self.unknown.append(cmd[:8])
        elif lead == GS:
            if code == ord("!"):
                state.width, state.height = (arg >> 4) + 1, (arg & 0x0F) + 1
            elif code == ord("V"):
                self.end_line(force=False)
                self.items.append(Cut(partial=arg in (1, 49, 66, 98)))
            elif code == ord("(") and cmd[2] == ord("k"):
                self._two_dimensional(cmd[5:])
            elif code == ord("v"):
                self.end_line(force=False)
                self.items.append(Image(width=8 * (cmd[4] + 256 * cmd[5]), height=cmd[6] + 256 * cmd[7]))
            elif code == ord("r"):
                self.status_requests.append(cmd)
            elif code not in _GS_FIXED:
                self.unknown.append(cmd[:8])
        elif lead == FS:
            if code == ord("&"):
                state.chinese = True
            elif code == ord("."):
                state.chinese = False
            elif code == ord("!"):
                state.width = 2 if arg & 0x04 else 1
                state.height = 2 if arg & 0x08 else 1
            elif code not in _FS_FIXED:
                self.unknown.append(cmd[:8])
        elif lead == DLE:
            if code == 0x04:
                self.status_requests.append(cmd)
            elif code not in (0x05, 0x14):
                self.unknown.append(cmd[:8])

    def _two_dimensional(self, body: bytes) -> None:
        """``GS ( k``: body is cn fn [parameters]."""
        if len(body) < 2 or body[0] != 49:  # cn 49 is QR Code
            self.unknown.append(b"GS(k" + body[:4])
            return
        fn, params = body[1], body[2:]
        if fn == 67 and params:
            self.state.qr_size = params[0]
        elif fn == 80:  # store: m (48) then the data
            self.state.qr_store = params[1:]
        elif fn == 81:  # print what is stored
            self.end_line(force=False)
            self.items.append(Qr(self.state.qr_store.decode("utf-8", errors="replace"), self.state.qr_size))


def decode(data: bytes) -> Decoded:
    """Everything the bytes would put on paper, in order."""
    decoder = _Decoder()
    index, size = 0, len(data)
    unfinished = b""
    while index < size:
        byte = data[index]
        if byte in (ESC, GS, FS, DLE):
            length = command_length(data, index)
            if length is None or index + length > size:
                unfinished = data[index:]
                break
            decoder.command(data[index:index + length])
            index += length
        elif byte == LF:
            decoder.end_line()
            index += 1
        elif byte == FF:
            decoder.end_line(force=False)
            index += 1
        elif byte == HT:
            decoder.put_text(b" ")
            index += 1
        elif byte < 0x20 or byte == 0x7F:
            index += 1  # CR and the other control bytes print nothing
        else:
            end = index
            while end < size and data[end] >= 0x20 and data[end] != 0x7F:
                end += 1
            decoder.put_text(data[index:end])
            index = end
    decoder.end_line(force=False)
    return Decoded(tuple(decoder.items), tuple(decoder.suspect), tuple(decoder.status_requests),
                   tuple(decoder.unknown), unfinished)
