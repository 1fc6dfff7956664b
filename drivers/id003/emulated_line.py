"""The emulated acceptor's serial line to the controller, made as bad as the field saw it.

Replies can be held back (delay), written several in one write (burst), cut
into pieces that arrive apart (split), preceded by noise bytes, lost by code,
or have their CRC garbled.  Shaped replies still reach the controller in the
order they were given, as on any serial line.

Its own module because the line's faults are independent of what the acceptor
says: the state machine hands over whole reply frames, and only this module
decides when and how their bytes go out.  It holds no lock; the emulator calls
it under its own.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.id003 import codec
from drivers.id003.codec import Status
from drivers.id003.emulator_counters import EmulatorCounters

# Noise between frames: any byte but SYNC, and SYNC only before a length no
# frame can have, so noise never forms a frame by chance and a test's count of
# money stays exact.  (Truncated frames are what the emulator's garble_replies() is for.)
_NOISE_BYTES = bytes(value for value in range(256) if value != codec.SYNC)
_IMPOSSIBLE_LENGTHS = bytes((0x00, 0x01, 0x04, 0xF0, 0xFF))
_COUNTED_STATUSES = frozenset(status.value for status in Status) - {Status.COMMUNICATION_ERROR,
                                                                     Status.INVALID_COMMAND}


@dataclass
class LineShape:
    """How replies travel to the controller; the default is a perfect line."""

    delay_s: tuple[float, float] = (0.0, 0.0)
    burst: int = 1
    burst_hold_s: float = 0.3
    split_gap_s: tuple[float, float] | None = None
    noise_probability: float = 0.0
    noise_max_bytes: int = 6

    @property
    def perfect(self) -> bool:
        return (self.delay_s == (0.0, 0.0) and self.burst <= 1 and self.split_gap_s is None
                and not self.noise_probability)


class ShapedLine:
    """Reply frames in, bytes written through ``write`` when (and as) the line's faults say."""

    def __init__(self, rng: random.Random, counters: EmulatorCounters, write: Callable[[bytes], None]) -> None:
        self._rng = rng
        self._counters = counters
        self._write = write
        self.shape = LineShape()
        self._garble = 0
        self._losses: dict[int, int] = {}  # reply code → how many more of them to lose
        self._held: list[bytes] = []  # replies waiting to go out together (burst)
        self._held_since = 0.0
        self._outbox: collections.deque[tuple[float, bytes]] = collections.deque()  # (when due, bytes)
        self._last_due = 0.0

    # ------------------------------------------------------------ faults

    def garble(self, count: int) -> None:
        self._garble += count

    def lose(self, code: int, count: int) -> None:
        self._losses[int(code)] = max(0, count)

    def delay(self, low_s: float, high_s: float | None) -> None:
        high = low_s if high_s is None else high_s
        if not 0 <= low_s <= high <= 5.0:
            raise ValueError(f"delay {low_s}..{high} s: give 0 <= low <= high <= 5 s")
        self.shape.delay_s = (float(low_s), float(high))

    def burst(self, count: int, hold_s: float) -> None:
        if count < 1 or hold_s <= 0:
            raise ValueError(f"burst of {count} held {hold_s} s: give count >= 1 and hold_s > 0")
        self.shape.burst, self.shape.burst_hold_s = int(count), float(hold_s)

    def split(self, gap_s: tuple[float, float] | None) -> None:
        if gap_s is not None and not 0 <= gap_s[0] <= gap_s[1] <= 2.0:
            raise ValueError(f"gap {gap_s}: give (low, high) with 0 <= low <= high <= 2 s")
        self.shape.split_gap_s = gap_s

    def noise(self, probability: float, max_bytes: int) -> None:
        if not 0 <= probability <= 1 or max_bytes < 1:
            raise ValueError(f"noise probability {probability}, {max_bytes} bytes: give 0..1 and >= 1 byte")
        self.shape.noise_probability, self.shape.noise_max_bytes = float(probability), int(max_bytes)

    def heal(self) -> None:
        """Every fault off; replies already on their way still arrive."""
        self.shape = LineShape()
        self._losses.clear()
        self._garble = 0
        self.release_held()

    # ------------------------------------------------------------ traffic

    @property
    def idle(self) -> bool:
        """No reply held back or on its way."""
        return not self._held and not self._outbox

    def next_due(self) -> float | None:
        return self._outbox[0][0] if self._outbox else None

    def clear(self) -> None:
        """The cable was pulled: what was held or on the wire is gone with it."""
        self._held.clear()
        self._outbox.clear()

    def send(self, frame: bytes) -> None:
        code = frame[2] if len(frame) > 2 else None  # a test may hand any bytes to _reply
        if self._losses.get(code):
            self._losses[code] -= 1
            self._counters.replies_lost += 1
            return
        if self._garble:
            self._garble -= 1
            frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
        elif code in _COUNTED_STATUSES:
            self._counters.status_replies_sent += 1
        shape = self.shape
        if shape.perfect and not self._outbox and not self._held:  # nothing to queue behind
            self._write(frame)
            return
        if self._rng.random() < shape.noise_probability:
            frame = self._noise() + frame
        self._held.append(frame)
        if len(self._held) == 1:
            self._held_since = time.monotonic()
        if len(self._held) >= shape.burst:
            self.release_held()

    def _noise(self) -> bytes:
        noise = bytearray()
        for _ in range(self._rng.randint(1, self.shape.noise_max_bytes)):
            if self._rng.random() < 0.2:
                noise += bytes((codec.SYNC, self._rng.choice(_IMPOSSIBLE_LENGTHS)))
            else:
                noise.append(self._rng.choice(_NOISE_BYTES))
        self._counters.noise_bytes += len(noise)
        return bytes(noise)

    def release_held(self) -> None:
        """Put the held replies on the line as one write, after the delay, never before an earlier one."""
        if not self._held:
            return
        data = b"".join(self._held)
        if len(self._held) > 1:
            self._counters.multi_frame_writes += 1
        self._held.clear()
        shape = self.shape
        now = time.monotonic()
        delay = self._rng.uniform(*shape.delay_s)
        if delay:
            self._counters.replies_delayed += 1
        pieces = [data]
        if shape.split_gap_s is not None and len(data) > 1:
            cuts = sorted(self._rng.sample(range(1, len(data)), min(len(data) - 1, self._rng.randint(1, 2))))
            pieces = [data[start:end] for start, end in zip([0] + cuts, cuts + [len(data)])]
            self._counters.split_writes += 1
        # Each piece is due at its own lateness from now, but never before the
        # bytes ahead of it: a line keeps order, and its latency stays bounded
        # (one late tail does not make every later reply later still).
        offset = now + delay
        for index, piece in enumerate(pieces):
            if index:
                offset += self._rng.uniform(*shape.split_gap_s)
            self._last_due = max(offset, self._last_due)
            self._outbox.append((self._last_due, piece))

    def transmit(self, now: float) -> None:
        """Write what is due; a burst that waited long enough goes out as it is."""
        if self._held and now - self._held_since >= self.shape.burst_hold_s:
            self.release_held()
        while self._outbox and self._outbox[0][0] <= now:
            self._write(self._outbox.popleft()[1])
