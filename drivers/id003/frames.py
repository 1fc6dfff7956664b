"""ID-003 framing: CRC-16/KERMIT, the frame encoder and the incremental decoder.

Spec ID03-001E ch. 3 "Format of Sending/Receiving Message": every message,
both ways, is ``SYNC(FCh) LNG CMD [DATA ...] CRCL CRCH`` where LNG counts the
whole frame and the CRC covers SYNC through the last DATA byte.

This module knows bytes and frames only, not what the codes mean, so that the
resynchronising decoder — the part that faces line noise — can be read and
fuzzed on its own.  Which code is which lives in :mod:`drivers.id003.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass

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
