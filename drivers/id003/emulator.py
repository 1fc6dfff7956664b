"""An ID-003 banknote acceptor on a pseudo-terminal, for the tests, the bench and the demo panel.

``AcceptorEmulator().start()`` opens a pty in raw mode and points a stable
symlink (:attr:`port`) at its slave side; the driver is configured with that
path exactly as it would be with ``/dev/ttyS0``.  The emulator answers the
controller's frames with the sequences of the ID-003 specification
(ID03-001E ch. 4 "Communication Flow", 6 "Details of Command and Response"):
POWER UP until RESET, INITIALIZE, DISABLE/IDLING, a note through ACCEPTING,
ESCROW, STACKING, VEND VALID (until the controller's ACK) and STACKED, or
RETURNING, or REJECTING; scripted faults 43h–49h; settings echoed; anything
else INVALID COMMAND (4Bh); a frame with a bad CRC gets COMMUNICATION ERROR
(4Ah).  The rules are in :mod:`drivers.id003.emulated_acceptor`.

**The line** can be made as bad as the field saw it, each from now on and
until switched off: replies held back 0–1 s (:meth:`delay_replies`), several
replies written back to back in one write (:meth:`burst_replies`), each write
cut into pieces that arrive apart (:meth:`split_replies`), noise bytes between
frames (:meth:`noise_between_replies`), given replies lost
(:meth:`lose_replies`, e.g. the ACK to STACK-1), besides garbled CRCs
(:meth:`garble_replies`) and lost controller ACKs (:meth:`drop_acks`).  Shaped
replies still reach the controller in the order they were given, as on any
serial line; ``seed`` makes the random choices repeatable.  How is in
:mod:`drivers.id003.emulated_line`.

**Parity on a pty**: Linux ptys drop PARENB; how the emulator copes so the
driver can keep asking for 8E1 is in :mod:`drivers.id003.emulator_pty`.

This module is the entry: the scriptable :class:`AcceptorEmulator` that puts
the state machine, the line and the pty together under one lock and one
thread, and ``python -m drivers.id003.emulator``.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time

from drivers.id003 import codec
from drivers.id003.codec import Status
from drivers.id003.emulated_acceptor import (
    CNY_YUAN,
    DEFAULT_BOOT_VERSION,
    DEFAULT_COUNTRY_CODE,
    DEFAULT_VERSION,
    WHERE,
    AcceptorStateMachine,
    Timings,
)
from drivers.id003.emulated_line import ShapedLine
from drivers.id003.emulator_counters import EmulatorCounters
from drivers.id003.emulator_pty import PtyPort

__all__ = ["CNY_YUAN", "DEFAULT_BOOT_VERSION", "DEFAULT_COUNTRY_CODE", "DEFAULT_VERSION", "WHERE",
           "AcceptorEmulator", "EmulatorCounters", "Timings", "main"]


class AcceptorEmulator:
    """A scriptable ID-003 acceptor.  All script methods are thread-safe and return at once."""

    def __init__(self, denominations_yuan: tuple[int, ...] = CNY_YUAN, *, timings: Timings | None = None,
                 version: str = DEFAULT_VERSION, country_code: int = DEFAULT_COUNTRY_CODE,
                 link_dir: str | None = None, link_name: str = "acceptor", seed: int | None = None) -> None:
        # One generator for the acceptor's jitter and the line's faults, so a
        # seed repeats the whole run.
        rng = random.Random(seed)
        self._acceptor = AcceptorStateMachine(denominations_yuan, timings=timings, version=version,
                                              country_code=country_code, rng=rng)
        self._pty = PtyPort(link_dir, link_name)
        self._line = ShapedLine(rng, self._acceptor.counters, self._pty.write)
        self._lock = threading.RLock()
        self._decoder = codec.FrameDecoder()
        self._thread: threading.Thread | None = None
        self._running = False
        self._wake_r, self._wake_w = os.pipe()
        self._silent = False

    # ------------------------------------------------------------ what tests read

    @property
    def timings(self) -> Timings:
        return self._acceptor.timings

    @timings.setter
    def timings(self, timings: Timings) -> None:
        self._acceptor.timings = timings

    @property
    def version(self) -> str:
        return self._acceptor.version

    @version.setter
    def version(self, version: str) -> None:
        self._acceptor.version = version

    @property
    def entries(self) -> tuple[codec.CurrencyEntry, ...]:
        return self._acceptor.entries

    @property
    def counters(self) -> EmulatorCounters:
        return self._acceptor.counters

    @property
    def vend_valid_times(self) -> list[float]:
        """time.monotonic() when each note reached VEND VALID."""
        return self._acceptor.vend_valid_times

    # ------------------------------------------------------------ life cycle

    @property
    def port(self) -> str:
        """The stable path to configure the driver with (a symlink to the current pty)."""
        return self._pty.link

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
        self._pty.remove_dir()

    def __enter__(self) -> "AcceptorEmulator":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # ------------------------------------------------------------ script: notes

    def insert_note(self, yuan: int) -> None:
        """A customer pushes in a genuine note; it is taken when the acceptor is enabled and free."""
        with self._lock:
            self._acceptor.insert_note(yuan)
        self._poke()

    def reject(self, reason: int = 0x71) -> None:
        """A customer pushes in a note the acceptor refuses (reason: a REJECTING data code 71h..7Fh)."""
        with self._lock:
            self._acceptor.reject(reason)
        self._poke()

    @property
    def pending_notes(self) -> int:
        with self._lock:
            return self._acceptor.pending_notes

    @property
    def accepted_yuan(self) -> frozenset[int]:
        """The denominations the acceptor would take right now (empty while inhibited or in power up)."""
        with self._lock:
            return self._acceptor.accepted_yuan

    @property
    def phase(self) -> str:
        with self._lock:
            return self._acceptor.phase

    # ------------------------------------------------------------ script: faults and power

    def jam(self, where: str = "acceptor") -> None:
        with self._lock:
            self._acceptor.jam(where)

    def clear_jam(self) -> None:
        with self._lock:
            self._acceptor.clear_jam()

    def stacker_full(self, on: bool = True) -> None:
        self._set_fault(Status.STACKER_FULL, on)

    def stacker_open(self, on: bool = True) -> None:
        self._set_fault(Status.STACKER_OPEN, on)

    def cheated(self, on: bool = True) -> None:
        self._set_fault(Status.CHEATED, on)

    def pause(self, on: bool = True) -> None:
        self._set_fault(Status.PAUSE, on)

    def _set_fault(self, status: Status, on: bool) -> None:
        with self._lock:
            self._acceptor.set_fault(status, on)

    def failure(self, code: int | None = 0xA2) -> None:
        """Report FAILURE with this code (A2h stacker motor...); None clears it."""
        with self._lock:
            self._acceptor.failure(code)

    def power_cycle(self) -> None:
        """Power off and on: POWER UP until the controller resets it; settings are lost."""
        with self._lock:
            self._acceptor.power_cycle()

    def power_up_with_note(self, where: str = "acceptor", yuan: int = 100) -> None:
        """Power off and on with a note inside: 41h (in the acceptor) or 42h (in the stacker)."""
        with self._lock:
            self._acceptor.power_up_with_note(where, yuan)

    # ------------------------------------------------------------ script: the line

    def go_silent(self, on: bool = True) -> None:
        """Read everything, answer nothing (a cut TX wire, a dead controller board)."""
        with self._lock:
            self._silent = on

    def send_garbage(self, data: bytes) -> None:
        """Write these bytes to the controller right now, unsolicited."""
        with self._lock:
            if self._pty.master is not None:
                os.write(self._pty.master, bytes(data))

    def garble_replies(self, count: int = 1) -> None:
        """Corrupt the CRC of the next ``count`` replies."""
        with self._lock:
            self._line.garble(count)

    def drop_acks(self, count: int = 1) -> None:
        """Lose the controller's next ``count`` ACKs to VEND VALID (so VEND VALID is repeated); 0 stops it."""
        with self._lock:
            self._acceptor.drop_acks(count)

    def lose_replies(self, code: int, count: int = 1) -> None:
        """Lose the next ``count`` replies with this code (a :class:`Status`, or 50h for the acceptor's ACK
        to an operation command): a burst of noise that ate exactly those.  0 stops it."""
        with self._lock:
            self._line.lose(code, count)

    def delay_replies(self, low_s: float, high_s: float | None = None) -> None:
        """Hold every reply back by a random time in ``low_s..high_s`` (in order); ``delay_replies(0)`` stops it."""
        with self._lock:
            self._line.delay(low_s, high_s)

    def burst_replies(self, count: int, hold_s: float = 0.3) -> None:
        """Write replies ``count`` at a time, back to back in one write (held at most ``hold_s``); 1 stops it."""
        with self._lock:
            self._line.burst(count, hold_s)

    def split_replies(self, gap_s: tuple[float, float] | None = (0.002, 0.15)) -> None:
        """Cut every write in two or three pieces at random places, each ``gap_s`` after the last; None stops it.

        A gap longer than the controller's response window sends the tail of a
        reply after the window has closed."""
        with self._lock:
            self._line.split(gap_s)

    def noise_between_replies(self, probability: float, max_bytes: int = 6) -> None:
        """Put 1..``max_bytes`` bytes of line noise before a reply with this probability; 0 stops it."""
        with self._lock:
            self._line.noise(probability, max_bytes)

    def perfect_line(self) -> None:
        """Switch every line fault off; replies already on their way still arrive."""
        with self._lock:
            self._line.heal()
            self._acceptor.drop_acks(0)

    @property
    def line_idle(self) -> bool:
        """No reply held back or on its way."""
        with self._lock:
            return self._line.idle

    def unplug(self) -> None:
        """Pull the cable: the port path disappears and the pty closes.  The acceptor keeps its state."""
        with self._lock:
            self._unplug()

    def replug(self) -> None:
        """Plug it back: a fresh pty behind the same path."""
        with self._lock:
            if self._pty.master is None:
                self._plug()
        self._poke()

    # ------------------------------------------------------------ plumbing and main loop

    def _plug(self) -> None:
        self._pty.plug()
        self._decoder = codec.FrameDecoder()

    def _unplug(self) -> None:
        self._line.clear()
        self._pty.unplug()

    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _run(self) -> None:
        while self._running:
            with self._lock:
                master = self._pty.master
            readers = [self._wake_r] + ([master] if master is not None else [])
            try:
                ready, _, _ = select.select(readers, [], [], self._wait_s())
            except (OSError, ValueError):
                time.sleep(0.005)
                continue
            if self._wake_r in ready:
                os.read(self._wake_r, 1024)
            with self._lock:
                if master is not None and master in ready and master == self._pty.master:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        data = b""
                    if data:
                        self._on_bytes(data)
                self._pty.restore_slave()
                now = time.monotonic()
                self._acceptor.advance(now)
                self._line.transmit(now)

    def _wait_s(self) -> float:
        with self._lock:
            due = self._line.next_due()
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
            self._acceptor.advance(time.monotonic())
            answer = self._acceptor.answer(codec.parse_command(frame))
            if answer is not None:
                self._reply(answer)

    def _reply(self, frame: bytes) -> None:
        if self._silent or self._pty.master is None:
            return
        self._line.send(frame)


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
