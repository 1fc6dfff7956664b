"""An ID-003 banknote acceptor on a pseudo-terminal, for the tests, the bench and the demo panel.

``AcceptorEmulator().start()`` opens a pty in raw mode and points a stable
symlink (:attr:`port`) at its slave side; the driver is configured with that
path exactly as it would be with ``/dev/ttyS0``.  The emulator answers the
controller's frames with the sequences of the ID-003 specification
(ID03-001E ch. 4 "Communication Flow", 6 "Details of Command and Response"):

* power on → POWER UP (40h, or 41h/42h with a note inside) until RESET (40h →
  ACK) → INITIALIZE (1Bh) → DISABLE (1Ah, inhibited, the state after reset) or
  ENABLE/IDLING (11h) once SET_INHIBIT (C3h) clears bit 0;
* a note → ACCEPTING (12h) → ESCROW (13h + escrow code) and it waits:
  STACK-1/STACK-2 → ACK, STACKING (14h) → VEND VALID (15h), repeated on every
  status request until the controller's ACK → STACKED (16h) → IDLING;
  RETURN → ACK, RETURNING (18h) → IDLING; HOLD → HOLDING (19h);
* a note of a disabled denomination, or one scripted with :meth:`reject`, →
  REJECTING (17h + reason) → IDLING;
* faults 43h–49h while scripted, then INITIALIZE and back;
* setting commands (C0h–C5h) are echoed; 80h–85h, 88h, 89h, 8Ah answered;
  anything else is INVALID COMMAND (4Bh); a frame with a bad CRC gets
  COMMUNICATION ERROR (4Ah).

Transient states last a configurable time (:class:`Timings`) *and* are
reported at least once, as a real acceptor's take hundreds of milliseconds.

**The line** can be made as bad as the field saw it, each from now on and
until switched off: replies held back 0–1 s (:meth:`delay_replies`), several
replies written back to back in one write (:meth:`burst_replies`), each write
cut into pieces that arrive apart (:meth:`split_replies`), noise bytes between
frames (:meth:`noise_between_replies`), given replies lost
(:meth:`lose_replies`, e.g. the ACK to STACK-1), besides garbled CRCs
(:meth:`garble_replies`) and lost controller ACKs (:meth:`drop_acks`).  Shaped
replies still reach the controller in the order they were given, as on any
serial line; ``seed`` makes the random choices repeatable.

**Parity on a pty** (see the platform notes): Linux ptys drop PARENB, and a
second 8E1 open of the same pty then fails with EINVAL.  The driver must keep
asking for 8E1, so the emulator copes: it keeps its own slave descriptor and
puts the slave's original termios (raw, another speed) back after every read
and on every loop turn.  The next ``tcsetattr`` from pyserial then changes the
speed as well, which the kernel accepts.
"""

from __future__ import annotations

import collections
import os
import random
import select
import shutil
import tempfile
import termios
import threading
import time
import tty
from dataclasses import dataclass, field

from drivers.id003 import codec
from drivers.id003.codec import Command, CurrencyEntry, Status

DEFAULT_VERSION = "EMU(CHN)100-SS ID003-05V001-00 kiosk emulator"
DEFAULT_BOOT_VERSION = "EMU BOOT 1.00"
# JCM's country-code table (spec attachment, Table 1-1) is not public; the
# emulator puts this placeholder in the currency table and the driver ignores
# the country byte unless configured with ``country_code``.
DEFAULT_COUNTRY_CODE = 0x00
CNY_YUAN = (1, 5, 10, 20, 50, 100)
WHERE = ("acceptor", "stacker")


@dataclass(frozen=True)
class Timings:
    """How long each transient state lasts (it is also reported at least once)."""

    initialize_s: float = 0.05
    accepting_s: float = 0.05
    stacking_s: float = 0.05
    stacked_s: float = 0.02
    returning_s: float = 0.05
    rejecting_s: float = 0.05
    jitter_s: float = 0.0  # each transient state lasts up to this much longer, at random (as real ones do)

    @classmethod
    def realistic(cls) -> "Timings":
        """Roughly a real acceptor's pace, for the demo panel."""
        return cls(initialize_s=1.0, accepting_s=0.8, stacking_s=0.8, stacked_s=0.2, returning_s=0.8,
                   rejecting_s=0.8, jitter_s=0.3)


@dataclass
class EmulatorCounters:
    """What physically happened, to compare with what the driver credited."""

    stacked: collections.Counter = field(default_factory=collections.Counter)  # yuan → notes in the cash box
    returned: collections.Counter = field(default_factory=collections.Counter)  # yuan → notes given back
    rejected: int = 0
    vend_valid_sent: int = 0
    acks_received: int = 0
    acks_dropped: int = 0
    commands: collections.Counter = field(default_factory=collections.Counter)  # Command name → count
    bad_frames: int = 0
    # what the line faults did
    replies_lost: int = 0
    replies_delayed: int = 0
    multi_frame_writes: int = 0  # writes that carried more than one reply
    split_writes: int = 0  # writes that went out in pieces
    noise_bytes: int = 0
    early_acks: int = 0  # controller ACKs that came before VEND VALID was reported (ignored)
    # Status frames put on the line intact (lost and garbled ones not counted;
    # COMMUNICATION ERROR and INVALID COMMAND neither): what a controller that
    # reads every frame has read once the line is quiet.
    status_replies_sent: int = 0

    @property
    def stacked_total_yuan(self) -> int:
        return sum(yuan * count for yuan, count in self.stacked.items())


_REJECT = object()  # a queued note that the acceptor will refuse
# Noise between frames: any byte but SYNC, and SYNC only before a length no
# frame can have, so noise never forms a frame by chance and a test's count of
# money stays exact.  (Truncated frames are what garble_replies() is for.)
_NOISE_BYTES = bytes(value for value in range(256) if value != codec.SYNC)
_IMPOSSIBLE_LENGTHS = bytes((0x00, 0x01, 0x04, 0xF0, 0xFF))
_COUNTED_STATUSES = frozenset(status.value for status in Status) - {Status.COMMUNICATION_ERROR,
                                                                     Status.INVALID_COMMAND}


@dataclass
class _LineShape:
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


class AcceptorEmulator:
    """A scriptable ID-003 acceptor.  All script methods are thread-safe and return at once."""

    def __init__(self, denominations_yuan: tuple[int, ...] = CNY_YUAN, *, timings: Timings | None = None,
                 version: str = DEFAULT_VERSION, country_code: int = DEFAULT_COUNTRY_CODE,
                 link_dir: str | None = None, link_name: str = "acceptor", seed: int | None = None) -> None:
        self.timings = timings or Timings()
        self._rng = random.Random(seed)
        self.version = version
        self.entries = tuple(
            CurrencyEntry(codec.FIRST_ESCROW_CODE + index, country_code, *_base_exponent(yuan))
            for index, yuan in enumerate(denominations_yuan))
        self._yuan_by_code = {entry.escrow_code: entry.value for entry in self.entries}
        self._code_by_yuan = {yuan: code for code, yuan in self._yuan_by_code.items()}
        self._own_dir = link_dir is None
        self._dir = link_dir or tempfile.mkdtemp(prefix="id003-emu-")
        self._link = os.path.join(self._dir, link_name)
        self.counters = EmulatorCounters()
        self.vend_valid_times: list[float] = []  # time.monotonic() when each note reached VEND VALID
        self._lock = threading.RLock()
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_attrs: list | None = None
        self._decoder = codec.FrameDecoder()
        self._thread: threading.Thread | None = None
        self._running = False
        self._wake_r, self._wake_w = os.pipe()
        # device state
        self._power_pending: Status | None = Status.POWER_UP
        self._powerup_note: int | None = None
        self._inhibited = True
        self._settings = {Command.SET_DENOMINATIONS: b"\x00\x00", Command.SET_SECURITY: b"\x00\x00",
                          Command.SET_COMMUNICATION_MODE: b"\x00", Command.SET_INHIBIT: b"\x01",
                          Command.SET_DIRECTION: b"\x00", Command.SET_OPTIONAL_FUNCTION: b"\x00\x00"}
        self._phase = "initializing"
        self._phase_since = time.monotonic()
        self._phase_extra = 0.0
        self._phase_reported = False
        self._note: object | int | None = None  # yuan, or _REJECT
        self._reject_reason = 0x71
        self._queue: collections.deque = collections.deque()
        self._faults: dict[Status, bytes] = {}
        self._silent = False
        self._garble = 0
        self._drop_acks = 0
        self._losses: dict[int, int] = {}  # reply code → how many more of them to lose
        self._shape = _LineShape()
        self._held: list[bytes] = []  # replies waiting to go out together (burst)
        self._held_since = 0.0
        self._outbox: collections.deque[tuple[float, bytes]] = collections.deque()  # (when due, bytes)
        self._last_due = 0.0

    # ------------------------------------------------------------ life cycle

    @property
    def port(self) -> str:
        """The stable path to configure the driver with (a symlink to the current pty)."""
        return self._link

    def start(self) -> "AcceptorEmulator":
        with self._lock:
            self._plug()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="id003-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(2.0)
        with self._lock:
            self._unplug()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "AcceptorEmulator":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # ------------------------------------------------------------ script: notes

    def insert_note(self, yuan: int) -> None:
        """A customer pushes in a genuine note; it is taken when the acceptor is enabled and free."""
        if yuan not in self._code_by_yuan:
            raise ValueError(f"¥{yuan} is not in this acceptor's currency table {sorted(self._code_by_yuan)}")
        with self._lock:
            self._queue.append(yuan)
        self._poke()

    def reject(self, reason: int = 0x71) -> None:
        """A customer pushes in a note the acceptor refuses (reason: a REJECTING data code 71h..7Fh)."""
        with self._lock:
            self._queue.append((_REJECT, reason))
        self._poke()

    @property
    def pending_notes(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def accepted_yuan(self) -> frozenset[int]:
        """The denominations the acceptor would take right now (empty while inhibited or in power up)."""
        with self._lock:
            if self._inhibited or self._power_pending is not None:
                return frozenset()
            codes = codec.enabled_codes(self._settings[Command.SET_DENOMINATIONS])
            return frozenset(yuan for yuan, code in self._code_by_yuan.items() if code in codes)

    @property
    def phase(self) -> str:
        with self._lock:
            return self._phase

    # ------------------------------------------------------------ script: faults and power

    def jam(self, where: str = "acceptor") -> None:
        if where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}")
        self._set_fault(Status.JAM_IN_ACCEPTOR if where == "acceptor" else Status.JAM_IN_STACKER, True)

    def clear_jam(self) -> None:
        with self._lock:
            cleared = bool(self._faults.keys() & {Status.JAM_IN_ACCEPTOR, Status.JAM_IN_STACKER})
            self._faults.pop(Status.JAM_IN_ACCEPTOR, None)
            self._faults.pop(Status.JAM_IN_STACKER, None)
            if cleared:
                self._after_fault_cleared()

    def stacker_full(self, on: bool = True) -> None:
        self._set_fault(Status.STACKER_FULL, on)

    def stacker_open(self, on: bool = True) -> None:
        self._set_fault(Status.STACKER_OPEN, on)

    def cheated(self, on: bool = True) -> None:
        self._set_fault(Status.CHEATED, on)

    def pause(self, on: bool = True) -> None:
        self._set_fault(Status.PAUSE, on)

    def failure(self, code: int | None = 0xA2) -> None:
        """Report FAILURE with this code (A2h stacker motor...); None clears it."""
        with self._lock:
            if code is None:
                if self._faults.pop(Status.FAILURE, None) is not None:
                    self._after_fault_cleared()
            else:
                self._faults[Status.FAILURE] = bytes((code,))

    def power_cycle(self) -> None:
        """Power off and on: POWER UP until the controller resets it; settings are lost."""
        with self._lock:
            self._power_pending = Status.POWER_UP
            self._powerup_note = None
            self._drop_note_in_flight()

    def power_up_with_note(self, where: str = "acceptor", yuan: int = 100) -> None:
        """Power off and on with a note inside: 41h (in the acceptor) or 42h (in the stacker)."""
        if where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}")
        with self._lock:
            self._power_pending = (Status.POWER_UP_BILL_IN_ACCEPTOR if where == "acceptor"
                                   else Status.POWER_UP_BILL_IN_STACKER)
            self._powerup_note = yuan
            self._note = None
            self._set_phase("initializing")

    # ------------------------------------------------------------ script: the line

    def go_silent(self, on: bool = True) -> None:
        """Read everything, answer nothing (a cut TX wire, a dead controller board)."""
        with self._lock:
            self._silent = on

    def send_garbage(self, data: bytes) -> None:
        """Write these bytes to the controller right now, unsolicited."""
        with self._lock:
            if self._master is not None:
                os.write(self._master, bytes(data))

    def garble_replies(self, count: int = 1) -> None:
        """Corrupt the CRC of the next ``count`` replies."""
        with self._lock:
            self._garble += count

    def drop_acks(self, count: int = 1) -> None:
        """Lose the controller's next ``count`` ACKs to VEND VALID (so VEND VALID is repeated); 0 stops it."""
        with self._lock:
            self._drop_acks = max(0, count)

    def lose_replies(self, code: int, count: int = 1) -> None:
        """Lose the next ``count`` replies with this code (a :class:`Status`, or 50h for the acceptor's ACK
        to an operation command): a burst of noise that ate exactly those.  0 stops it."""
        with self._lock:
            self._losses[int(code)] = max(0, count)

    def delay_replies(self, low_s: float, high_s: float | None = None) -> None:
        """Hold every reply back by a random time in ``low_s..high_s`` (in order); ``delay_replies(0)`` stops it."""
        high = low_s if high_s is None else high_s
        if not 0 <= low_s <= high <= 5.0:
            raise ValueError(f"delay {low_s}..{high} s: give 0 <= low <= high <= 5 s")
        with self._lock:
            self._shape.delay_s = (float(low_s), float(high))

    def burst_replies(self, count: int, hold_s: float = 0.3) -> None:
        """Write replies ``count`` at a time, back to back in one write (held at most ``hold_s``); 1 stops it."""
        if count < 1 or hold_s <= 0:
            raise ValueError(f"burst of {count} held {hold_s} s: give count >= 1 and hold_s > 0")
        with self._lock:
            self._shape.burst, self._shape.burst_hold_s = int(count), float(hold_s)

    def split_replies(self, gap_s: tuple[float, float] | None = (0.002, 0.15)) -> None:
        """Cut every write in two or three pieces at random places, each ``gap_s`` after the last; None stops it.

        A gap longer than the controller's response window sends the tail of a
        reply after the window has closed."""
        if gap_s is not None and not 0 <= gap_s[0] <= gap_s[1] <= 2.0:
            raise ValueError(f"gap {gap_s}: give (low, high) with 0 <= low <= high <= 2 s")
        with self._lock:
            self._shape.split_gap_s = gap_s

    def noise_between_replies(self, probability: float, max_bytes: int = 6) -> None:
        """Put 1..``max_bytes`` bytes of line noise before a reply with this probability; 0 stops it."""
        if not 0 <= probability <= 1 or max_bytes < 1:
            raise ValueError(f"noise probability {probability}, {max_bytes} bytes: give 0..1 and >= 1 byte")
        with self._lock:
            self._shape.noise_probability, self._shape.noise_max_bytes = float(probability), int(max_bytes)

    def perfect_line(self) -> None:
        """Switch every line fault off; replies already on their way still arrive."""
        with self._lock:
            self._shape = _LineShape()
            self._losses.clear()
            self._garble = 0
            self._drop_acks = 0
            self._release_held()

    @property
    def line_idle(self) -> bool:
        """No reply held back or on its way."""
        with self._lock:
            return not self._held and not self._outbox

    def unplug(self) -> None:
        """Pull the cable: the port path disappears and the pty closes.  The acceptor keeps its state."""
        with self._lock:
            self._unplug()

    def replug(self) -> None:
        """Plug it back: a fresh pty behind the same path."""
        with self._lock:
            if self._master is None:
                self._plug()
        self._poke()

    # ------------------------------------------------------------ pty plumbing

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        # A speed the driver never asks for, so its tcsetattr always changes
        # more than PARENB (see the module docstring).
        attrs[4] = attrs[5] = termios.B38400
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._master, self._slave = master, slave
        self._slave_attrs = termios.tcgetattr(slave)
        self._decoder = codec.FrameDecoder()
        temporary = self._link + ".new"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, self._link)

    def _unplug(self) -> None:
        self._held.clear()
        self._outbox.clear()  # what was on the wire is gone with the cable
        if os.path.lexists(self._link):
            os.unlink(self._link)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def _restore_slave(self) -> None:
        if self._slave is None:
            return
        try:
            if termios.tcgetattr(self._slave) != self._slave_attrs:
                termios.tcsetattr(self._slave, termios.TCSANOW, self._slave_attrs)
        except termios.error:
            pass

    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    # ------------------------------------------------------------ main loop

    def _run(self) -> None:
        while self._running:
            with self._lock:
                master = self._master
            readers = [self._wake_r] + ([master] if master is not None else [])
            try:
                ready, _, _ = select.select(readers, [], [], self._wait_s())
            except (OSError, ValueError):
                time.sleep(0.005)
                continue
            if self._wake_r in ready:
                os.read(self._wake_r, 1024)
            with self._lock:
                if master is not None and master in ready and master == self._master:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        data = b""
                    if data:
                        self._on_bytes(data)
                self._restore_slave()
                now = time.monotonic()
                self._advance(now)
                self._transmit(now)

    def _wait_s(self) -> float:
        with self._lock:
            due = self._outbox[0][0] if self._outbox else None
        return 0.005 if due is None else min(0.005, max(0.0, due - time.monotonic()))

    def _on_bytes(self, data: bytes) -> None:
        bad_before = self._decoder.stats.crc_errors + self._decoder.stats.length_errors
        frames = self._decoder.feed(data)
        bad = self._decoder.stats.crc_errors + self._decoder.stats.length_errors - bad_before
        if bad:
            self.counters.bad_frames += bad
            if not frames:
                self._reply(codec.status_reply(Status.COMMUNICATION_ERROR))
        for frame in frames:
            self._advance(time.monotonic())
            self._on_frame(codec.parse_command(frame))

    def _reply(self, frame: bytes) -> None:
        if self._silent or self._master is None:
            return
        code = frame[2] if len(frame) > 2 else None  # a test may hand any bytes to _reply
        if self._losses.get(code):
            self._losses[code] -= 1
            self.counters.replies_lost += 1
            return
        if self._garble:
            self._garble -= 1
            frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
        elif code in _COUNTED_STATUSES:
            self.counters.status_replies_sent += 1
        shape = self._shape
        if shape.perfect and not self._outbox and not self._held:  # nothing to queue behind
            self._write(frame)
            return
        if self._rng.random() < shape.noise_probability:
            frame = self._noise() + frame
        self._held.append(frame)
        if len(self._held) == 1:
            self._held_since = time.monotonic()
        if len(self._held) >= shape.burst:
            self._release_held()

    def _noise(self) -> bytes:
        noise = bytearray()
        for _ in range(self._rng.randint(1, self._shape.noise_max_bytes)):
            if self._rng.random() < 0.2:
                noise += bytes((codec.SYNC, self._rng.choice(_IMPOSSIBLE_LENGTHS)))
            else:
                noise.append(self._rng.choice(_NOISE_BYTES))
        self.counters.noise_bytes += len(noise)
        return bytes(noise)

    def _release_held(self) -> None:
        """Put the held replies on the line as one write, after the delay, never before an earlier one."""
        if not self._held:
            return
        data = b"".join(self._held)
        if len(self._held) > 1:
            self.counters.multi_frame_writes += 1
        self._held.clear()
        shape = self._shape
        now = time.monotonic()
        delay = self._rng.uniform(*shape.delay_s)
        if delay:
            self.counters.replies_delayed += 1
        pieces = [data]
        if shape.split_gap_s is not None and len(data) > 1:
            cuts = sorted(self._rng.sample(range(1, len(data)), min(len(data) - 1, self._rng.randint(1, 2))))
            pieces = [data[start:end] for start, end in zip([0] + cuts, cuts + [len(data)])]
            self.counters.split_writes += 1
        # Each piece is due at its own lateness from now, but never before the
        # bytes ahead of it: a line keeps order, and its latency stays bounded
        # (one late tail does not make every later reply later still).
        offset = now + delay
        for index, piece in enumerate(pieces):
            if index:
                offset += self._rng.uniform(*shape.split_gap_s)
            self._last_due = max(offset, self._last_due)
            self._outbox.append((self._last_due, piece))

    def _transmit(self, now: float) -> None:
        """Write what is due; a burst that waited long enough goes out as it is."""
        if self._held and now - self._held_since >= self._shape.burst_hold_s:
            self._release_held()
        while self._outbox and self._outbox[0][0] <= now:
            self._write(self._outbox.popleft()[1])

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, data)
        except OSError:
            pass

    # ------------------------------------------------------------ commands

    def _on_frame(self, parsed: codec.CommandFrame | codec.UnknownCommand) -> None:
        if isinstance(parsed, codec.UnknownCommand):
            self._reply(codec.status_reply(Status.INVALID_COMMAND))
            return
        command, data = parsed.command, parsed.data
        self.counters.commands[command.name] += 1
        if command is Command.ACK:
            self._on_ack()
            return
        if command is Command.STATUS_REQUEST:
            self._reply(self._status_frame())
            return
        if command is Command.RESET:
            self._reset()
            self._reply(codec.ack())
            return
        if command is Command.GET_VERSION or command is Command.GET_BOOT_VERSION:
            self._reply(codec.version_reply(self.version if command is Command.GET_VERSION
                                            else DEFAULT_BOOT_VERSION, boot=command is Command.GET_BOOT_VERSION))
            return
        if command is Command.GET_CURRENCY_ASSIGN:
            self._reply(codec.currency_assign_reply(self.entries))
            return
        if command in codec.SETTING_FOR_REQUEST:
            setting = codec.SETTING_FOR_REQUEST[command]
            self._reply(codec.encode(command, self._settings[setting]))
            return
        if self._power_pending is not None:
            self._reply(codec.status_reply(Status.INVALID_COMMAND))  # only RESET leaves power up
            return
        if command in codec.SETTING_DATA_LENGTH:
            self._settings[command] = data
            if command is Command.SET_INHIBIT:
                self._inhibited = bool(data[0] & 1)
            self._reply(codec.encode(command, data))
            return
        self._reply(self._operation(command))

    def _operation(self, command: Command) -> bytes:
        in_escrow = self._phase in ("escrow", "holding") and not self._faults
        if command in (Command.STACK_1, Command.STACK_2) and in_escrow:
            self._set_phase("stacking")
        elif command is Command.RETURN and in_escrow:
            self._set_phase("returning")
        elif command is Command.HOLD and in_escrow:
            self._set_phase("holding")
        elif command is not Command.WAIT:
            return codec.status_reply(Status.INVALID_COMMAND)
        return codec.ack()

    def _on_ack(self) -> None:
        if self._phase != "vend_valid":
            return
        if not self._phase_reported:
            # The ACK answers the VEND VALID message (spec 6-4): one that comes
            # before it was sent is meant for something else.
            self.counters.early_acks += 1
            return
        if self._drop_acks:
            self._drop_acks -= 1
            self.counters.acks_dropped += 1
            return
        self.counters.acks_received += 1
        self.counters.stacked[self._note] += 1
        self._set_phase("stacked")

    def _reset(self) -> None:
        pending, note = self._power_pending, self._powerup_note
        if pending is Status.POWER_UP_BILL_IN_ACCEPTOR and note is not None:
            self.counters.returned[note] += 1
        elif pending is Status.POWER_UP_BILL_IN_STACKER and note is not None:
            self.counters.stacked[note] += 1
        self._power_pending = None
        self._powerup_note = None
        self._drop_note_in_flight()
        self._inhibited = True
        self._settings[Command.SET_INHIBIT] = b"\x01"
        self._set_phase("initializing")

    def _drop_note_in_flight(self) -> None:
        if isinstance(self._note, int) and self._phase in ("accepting", "escrow", "holding", "returning"):
            self.counters.returned[self._note] += 1
        self._note = None
        self._set_phase("initializing")

    # ------------------------------------------------------------ status

    _FAULT_ORDER = (Status.FAILURE, Status.STACKER_OPEN, Status.JAM_IN_STACKER, Status.JAM_IN_ACCEPTOR,
                    Status.STACKER_FULL, Status.CHEATED, Status.PAUSE)
    _PHASE_STATUS = {"initializing": Status.INITIALIZE, "accepting": Status.ACCEPTING, "escrow": Status.ESCROW,
                     "holding": Status.HOLDING, "stacking": Status.STACKING, "vend_valid": Status.VEND_VALID,
                     "stacked": Status.STACKED, "rejecting": Status.REJECTING, "returning": Status.RETURNING}

    def _status_frame(self) -> bytes:
        if self._power_pending is not None:
            return codec.status_reply(self._power_pending)
        for fault in self._FAULT_ORDER:
            if fault in self._faults:
                return codec.status_reply(fault, self._faults[fault])
        self._phase_reported = True
        if self._phase == "idle":
            return codec.status_reply(Status.DISABLED if self._inhibited else Status.IDLING)
        status = self._PHASE_STATUS[self._phase]
        if status is Status.ESCROW:
            return codec.status_reply(status, bytes((self._code_by_yuan[self._note],)))
        if status is Status.REJECTING:
            return codec.status_reply(status, bytes((self._reject_reason,)))
        if status is Status.VEND_VALID:
            self.counters.vend_valid_sent += 1
        return codec.status_reply(status)

    def _set_phase(self, phase: str) -> None:
        self._phase = phase
        self._phase_since = time.monotonic()
        self._phase_extra = self._rng.uniform(0.0, self.timings.jitter_s) if self.timings.jitter_s else 0.0
        self._phase_reported = False
        if phase == "vend_valid":
            self.vend_valid_times.append(self._phase_since)

    def _set_fault(self, status: Status, on: bool) -> None:
        with self._lock:
            if on:
                self._faults[status] = b""
            elif self._faults.pop(status, None) is not None:
                self._after_fault_cleared()

    def _after_fault_cleared(self) -> None:
        if self._faults:
            return
        # A note caught in a jam was taken out by the technician.
        if self._phase in ("accepting", "escrow", "holding", "returning", "stacking") and isinstance(self._note, int):
            self.counters.returned[self._note] += 1
        if self._phase != "vend_valid":
            self._note = None
            self._set_phase("initializing")

    def _advance(self, now: float) -> None:
        """Move transient states on: each lasts its time and is reported at least once."""
        if self._power_pending is not None or self._faults:
            return
        elapsed = now - self._phase_since - self._phase_extra
        timings = self.timings
        phase = self._phase
        if phase == "initializing" and elapsed >= timings.initialize_s and self._phase_reported:
            self._set_phase("idle")
        elif phase == "idle" and not self._inhibited and self._queue:
            item = self._queue.popleft()
            if isinstance(item, tuple):
                self._note, self._reject_reason = _REJECT, item[1]
            else:
                self._note = item
            self._set_phase("accepting")
        elif phase == "accepting" and elapsed >= timings.accepting_s:
            if self._note is _REJECT:
                self._set_phase("rejecting")
            elif self._inhibited or self._code_by_yuan[self._note] not in codec.enabled_codes(
                    self._settings[Command.SET_DENOMINATIONS]):
                self._reject_reason = 0x79  # inhibited denomination
                self._set_phase("rejecting")
            else:
                self._set_phase("escrow")
        elif phase == "stacking" and elapsed >= timings.stacking_s:
            self._set_phase("vend_valid")
        elif phase == "stacked" and elapsed >= timings.stacked_s and self._phase_reported:
            self._note = None
            self._set_phase("idle")
        elif phase == "returning" and elapsed >= timings.returning_s and self._phase_reported:
            self.counters.returned[self._note] += 1
            self._note = None
            self._set_phase("idle")
        elif phase == "rejecting" and elapsed >= timings.rejecting_s and self._phase_reported:
            self.counters.rejected += 1
            self._note = None
            self._set_phase("idle")


def _base_exponent(yuan: int) -> tuple[int, int]:
    """¥100 → (1, 2): the table gives each value as base × 10**exponent."""
    exponent = 0
    while yuan and yuan % 10 == 0:
        yuan //= 10
        exponent += 1
    return yuan, exponent


def main(argv: list[str] | None = None) -> int:
    """``python -m drivers.id003.emulator``: an emulated acceptor for trying ``kiosk diag acceptor`` by hand."""
    import argparse

    parser = argparse.ArgumentParser(description="Run an emulated ID-003 banknote acceptor on a pty")
    parser.add_argument("--insert", default="", help="notes to insert once enabled, e.g. 50,100")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between inserted notes")
    parser.add_argument("--realistic", action="store_true", help="a real acceptor's pace")
    args = parser.parse_args(argv)
    notes = [int(part) for part in args.insert.split(",") if part.strip()]
    with AcceptorEmulator(timings=Timings.realistic() if args.realistic else None) as emulator:
        print(f"ID-003 acceptor emulator on {emulator.port}  (Ctrl-C to stop)", flush=True)
        try:
            for yuan in notes:
                time.sleep(args.every)
                emulator.insert_note(yuan)
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        print(f"stacked: {dict(emulator.counters.stacked)}  returned: {dict(emulator.counters.returned)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
