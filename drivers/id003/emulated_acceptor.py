"""The emulated acceptor's state machine: commands in, reply frames out, notes moved on a clock.

It follows the sequences of the ID-003 specification (ID03-001E ch. 4
"Communication Flow", 6 "Details of Command and Response"):

* power on → POWER UP (40h, or 41h/42h with a note inside) until RESET (40h →
  ACK) → INITIALIZE (1Bh) → DISABLE (1Ah, inhibited, the state after reset) or
  ENABLE/IDLING (11h) once SET_INHIBIT (C3h) clears bit 0;
* a note → ACCEPTING (12h) → ESCROW (13h + escrow code) and it waits:
  STACK-1/STACK-2 → ACK, STACKING (14h) → VEND VALID (15h), repeated on every
  status request until the controller's ACK → STACKED (16h) → IDLING;
  RETURN → ACK, RETURNING (18h) → IDLING; HOLD → HOLDING (19h);
* a note of a disabled denomination, or one scripted with ``reject``, →
  REJECTING (17h + reason) → IDLING;
* faults 43h–49h while scripted, then INITIALIZE and back;
* setting commands (C0h–C5h) are echoed; 80h–85h, 88h, 89h, 8Ah answered;
  anything else is INVALID COMMAND (4Bh).

Transient states last a configurable time (:class:`Timings`) *and* are
reported at least once, as a real acceptor's take hundreds of milliseconds.

Its own module because this is the device itself, apart from the pty it sits
on and the line its replies travel: no I/O, no lock (the emulator calls it
under its own), so each rule above reads in one place.
"""

from __future__ import annotations

import collections
import random
import time
from dataclasses import dataclass

from drivers.id003 import codec
from drivers.id003.codec import Command, CurrencyEntry, Status
from drivers.id003.emulator_counters import EmulatorCounters

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


_REJECT = object()  # a queued note that the acceptor will refuse


class AcceptorStateMachine:
    """One ID-003 acceptor's state: notes, faults, power, settings.  Not thread-safe by itself."""

    _FAULT_ORDER = (Status.FAILURE, Status.STACKER_OPEN, Status.JAM_IN_STACKER, Status.JAM_IN_ACCEPTOR,
                    Status.STACKER_FULL, Status.CHEATED, Status.PAUSE)
    _PHASE_STATUS = {"initializing": Status.INITIALIZE, "accepting": Status.ACCEPTING, "escrow": Status.ESCROW,
                     "holding": Status.HOLDING, "stacking": Status.STACKING, "vend_valid": Status.VEND_VALID,
                     "stacked": Status.STACKED, "rejecting": Status.REJECTING, "returning": Status.RETURNING}

    def __init__(self, denominations_yuan: tuple[int, ...], *, timings: Timings | None, version: str,
                 country_code: int, rng: random.Random) -> None:
        self.timings = timings or Timings()
        self._rng = rng
        self.version = version
        self.entries = tuple(
            CurrencyEntry(codec.FIRST_ESCROW_CODE + index, country_code, *_base_exponent(yuan))
            for index, yuan in enumerate(denominations_yuan))
        self._yuan_by_code = {entry.escrow_code: entry.value for entry in self.entries}
        self._code_by_yuan = {yuan: code for code, yuan in self._yuan_by_code.items()}
        self.counters = EmulatorCounters()
        self.vend_valid_times: list[float] = []  # time.monotonic() when each note reached VEND VALID
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
        self._drop_acks = 0

    # ------------------------------------------------------------ script: notes

    def insert_note(self, yuan: int) -> None:
        if yuan not in self._code_by_yuan:
            raise ValueError(f"¥{yuan} is not in this acceptor's currency table {sorted(self._code_by_yuan)}")
        self._queue.append(yuan)

    def reject(self, reason: int) -> None:
        self._queue.append((_REJECT, reason))

    @property
    def pending_notes(self) -> int:
        return len(self._queue)

    @property
    def accepted_yuan(self) -> frozenset[int]:
        if self._inhibited or self._power_pending is not None:
            return frozenset()
        codes = codec.enabled_codes(self._settings[Command.SET_DENOMINATIONS])
        return frozenset(yuan for yuan, code in self._code_by_yuan.items() if code in codes)

    @property
    def phase(self) -> str:
        return self._phase

    # ------------------------------------------------------------ script: faults and power

    def jam(self, where: str) -> None:
        if where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}")
        self.set_fault(Status.JAM_IN_ACCEPTOR if where == "acceptor" else Status.JAM_IN_STACKER, True)

    def clear_jam(self) -> None:
        cleared = bool(self._faults.keys() & {Status.JAM_IN_ACCEPTOR, Status.JAM_IN_STACKER})
        self._faults.pop(Status.JAM_IN_ACCEPTOR, None)
        self._faults.pop(Status.JAM_IN_STACKER, None)
        if cleared:
            self._after_fault_cleared()

    def set_fault(self, status: Status, on: bool) -> None:
        if on:
            self._faults[status] = b""
        elif self._faults.pop(status, None) is not None:
            self._after_fault_cleared()

    def failure(self, code: int | None) -> None:
        if code is None:
            if self._faults.pop(Status.FAILURE, None) is not None:
                self._after_fault_cleared()
        else:
            self._faults[Status.FAILURE] = bytes((code,))

    def power_cycle(self) -> None:
        self._power_pending = Status.POWER_UP
        self._powerup_note = None
        self._drop_note_in_flight()

    def power_up_with_note(self, where: str, yuan: int) -> None:
        if where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}")
        self._power_pending = (Status.POWER_UP_BILL_IN_ACCEPTOR if where == "acceptor"
                               else Status.POWER_UP_BILL_IN_STACKER)
        self._powerup_note = yuan
        self._note = None
        self._set_phase("initializing")

    def drop_acks(self, count: int) -> None:
        self._drop_acks = max(0, count)

    # ------------------------------------------------------------ commands

    def answer(self, parsed: codec.CommandFrame | codec.UnknownCommand) -> bytes | None:
        """The reply frame to one command; None for the controller's ACK, which gets none."""
        if isinstance(parsed, codec.UnknownCommand):
            return codec.status_reply(Status.INVALID_COMMAND)
        command, data = parsed.command, parsed.data
        self.counters.commands[command.name] += 1
        if command is Command.ACK:
            self._on_ack()
            return None
        if command is Command.STATUS_REQUEST:
            return self._status_frame()
        if command is Command.RESET:
            self._reset()
            return codec.ack()
        if command is Command.GET_VERSION or command is Command.GET_BOOT_VERSION:
            return codec.version_reply(self.version if command is Command.GET_VERSION
                                       else DEFAULT_BOOT_VERSION, boot=command is Command.GET_BOOT_VERSION)
        if command is Command.GET_CURRENCY_ASSIGN:
            return codec.currency_assign_reply(self.entries)
        if command in codec.SETTING_FOR_REQUEST:
            setting = codec.SETTING_FOR_REQUEST[command]
            return codec.encode(command, self._settings[setting])
        if self._power_pending is not None:
            return codec.status_reply(Status.INVALID_COMMAND)  # only RESET leaves power up
        if command in codec.SETTING_DATA_LENGTH:
            self._settings[command] = data
            if command is Command.SET_INHIBIT:
                self._inhibited = bool(data[0] & 1)
            return codec.encode(command, data)
        return self._operation(command)

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

    def _after_fault_cleared(self) -> None:
        if self._faults:
            return
        # A note caught in a jam was taken out by the technician.
        if self._phase in ("accepting", "escrow", "holding", "returning", "stacking") and isinstance(self._note, int):
            self.counters.returned[self._note] += 1
        if self._phase != "vend_valid":
            self._note = None
            self._set_phase("initializing")

    def advance(self, now: float) -> None:
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
