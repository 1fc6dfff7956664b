"""The ID-003 controller with byte strings and a hand-moved clock: no port, no thread, no waiting.

Each test plays the acceptor's side as the bytes it would send and checks
what the controller writes and tells the payment layer.  The emulator tests
(``test_id003_driver.py``, ``test_id003_line_faults.py``) are the same rules
over a real pty.
"""

from __future__ import annotations

from drivers.id003 import codec
from drivers.id003.codec import Command, CurrencyEntry, Status
from drivers.id003.events import (
    AcceptorReady, NoteAtPowerUp, NoteCredited, NoteEscrowed, NoteReturned, NoteUnaccounted, PowerUpWithNote,
)
from drivers.id003.protocol import AcceptorProtocol
from drivers.id003.setup import Intake
from drivers.status import DeviceState

TEN_YUAN, FIFTY_YUAN = 0x63, 0x65  # escrow codes of the table below
TABLE = [CurrencyEntry(0x61 + i, 0x0C, base, exp) for i, (base, exp) in
         enumerate(((1, 0), (5, 0), (1, 1), (2, 1), (5, 1), (1, 2)))]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeLine:
    """The acceptor's side, as bytes: a status to report, and the usual answer to every other command."""

    def __init__(self, status: Status, data: bytes = b"") -> None:
        self.status, self.data = status, data
        self.written: list[Command] = []
        self.silent: set[Command] = set()  # commands whose reply is lost on the line

    def answer(self, frame: bytes) -> bytes:
        command = Command(frame[2])
        self.written.append(command)
        if command in self.silent:
            return b""
        if command is Command.STATUS_REQUEST:
            return codec.status_reply(self.status, self.data)
        if command is Command.GET_VERSION:
            return codec.version_reply("JCM-TEST 1.0")
        if command is Command.GET_CURRENCY_ASSIGN:
            return codec.currency_assign_reply(TABLE)
        if command is Command.ACK:
            return b""  # the controller's ACK to VEND VALID gets no reply (spec 6-4)
        if command.name.startswith(("SET_", "GET_")):
            return codec.encode(command, frame[3:-2])  # the echo of a setting, or a read-back
        return codec.ack()


class Harness:
    def __init__(self, status: Status = Status.DISABLED, *, decide=None, accepted=(1000, 5000)) -> None:
        self.clock = Clock()
        self.events: list[object] = []
        self.reports: list[object] = []
        self.intake = Intake(True, frozenset(accepted))
        self.decider = decide
        self.line = FakeLine(status)
        self.protocol = AcceptorProtocol(
            clock=self.clock, emit=self.events.append, publish=self.reports.append, intake=lambda: self.intake,
            decide=lambda: self.decider, response_timeout_s=0.2, silence_timeout_s=1.0, port_label="test")

    def cycle(self, *, extra: bytes = b"") -> list[Command]:
        """One poll cycle; ``extra`` arrives in the same read as the first reply."""
        before = len(self.line.written)
        for write in self.protocol.cycle():
            reply = self.line.answer(write.frame)
            self.protocol.receive(reply + extra)
            extra = b""
            self.clock.now += 0.01
        self.clock.now += 0.1
        return self.line.written[before:]

    def ready(self) -> None:
        """Identity read and settings sent, as after a power up."""
        self.cycle()
        assert any(isinstance(event, AcceptorReady) for event in self.events)

    def of(self, kind) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def escrow(code: int) -> tuple[Status, bytes]:
    return Status.ESCROW, bytes((code,))


def test_a_power_up_is_answered_with_one_reset_and_then_the_identity_and_settings_are_sent():
    acceptor = Harness(Status.POWER_UP)
    assert Command.RESET in acceptor.cycle()
    acceptor.line.status = Status.INITIALIZE
    written = acceptor.cycle()
    assert Command.RESET not in written
    assert [c for c in written if c is not Command.STATUS_REQUEST][:3] == [
        Command.GET_VERSION, Command.GET_CURRENCY_ASSIGN, Command.SET_DENOMINATIONS]
    ready = acceptor.of(AcceptorReady)
    assert ready and ready[0].denominations_fen == (100, 500, 1000, 2000, 5000, 10000)
    assert acceptor.protocol.setup.version == "JCM-TEST 1.0"


def test_a_note_is_escrowed_stacked_and_credited_once_though_vend_valid_repeats():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    assert Command.STACK_1 in acceptor.cycle()
    acceptor.line.status, acceptor.line.data = Status.VEND_VALID, b""
    for _ in range(3):  # the acceptor repeats VEND VALID until it gets an ACK; say each ACK was lost
        assert Command.ACK in acceptor.cycle()
    acceptor.line.status = Status.STACKED
    acceptor.cycle()
    assert [e.denomination_fen for e in acceptor.of(NoteCredited)] == [1000]
    assert acceptor.protocol.stats().notes_credited == 1


def test_vend_valid_stacked_and_the_next_escrow_in_one_read_are_two_notes_one_credit_each():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    acceptor.cycle()
    # The reply to the next request brings three statuses at once (a burst a real acceptor sends).
    acceptor.line.status, acceptor.line.data = Status.VEND_VALID, b""
    burst = codec.status_reply(Status.STACKED) + codec.status_reply(Status.ESCROW, bytes((TEN_YUAN,)))
    acceptor.cycle(extra=burst)
    acceptor.line.status = Status.VEND_VALID
    acceptor.cycle()
    acceptor.line.status = Status.STACKED
    acceptor.cycle()
    credited = acceptor.of(NoteCredited)
    escrowed = acceptor.of(NoteEscrowed)
    assert [e.denomination_fen for e in credited] == [1000, 1000]
    assert len({e.note_id for e in credited}) == 2
    assert [e.note_id for e in escrowed] == [e.note_id for e in credited]
    assert acceptor.protocol.stats().multi_frame_reads >= 1


def test_a_note_whose_vend_valid_was_never_read_is_credited_at_stacked():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(FIFTY_YUAN)
    acceptor.cycle()
    for status in (Status.STACKING, Status.STACKED, Status.IDLING):
        acceptor.line.status, acceptor.line.data = status, b""
        acceptor.cycle()
    assert [e.denomination_fen for e in acceptor.of(NoteCredited)] == [5000]


def test_a_frame_split_across_reads_and_noise_before_it_are_still_read():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    frame = codec.status_reply(Status.ESCROW, bytes((TEN_YUAN,)))
    protocol = acceptor.protocol
    steps = protocol.cycle()
    write = next(steps)
    protocol.receive(b"\x00\x13\xff" + frame[:3])
    assert not write.answered
    protocol.receive(frame[3:])
    assert write.answered
    assert [e.denomination_fen for e in acceptor.of(NoteEscrowed)] == [1000]
    assert protocol.stats().skipped_bytes >= 3


def test_a_decider_that_fails_returns_the_note():
    acceptor = Harness(decide=lambda fen: 1 / 0)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    written = acceptor.cycle()
    assert Command.RETURN in written and Command.STACK_1 not in written
    acceptor.line.status, acceptor.line.data = Status.RETURNING, b""
    acceptor.cycle()
    assert [e.denomination_fen for e in acceptor.of(NoteReturned)] == [1000]
    assert not acceptor.of(NoteCredited)


def test_a_denomination_not_asked_for_is_returned_without_asking_the_payment_layer():
    asked = []
    acceptor = Harness(decide=lambda fen: asked.append(fen) or True, accepted=(1000,))
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(FIFTY_YUAN)
    assert Command.RETURN in acceptor.cycle()
    assert asked == []


def test_a_power_up_with_a_credited_note_in_the_stacker_says_so_once():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    acceptor.cycle()
    acceptor.line.status, acceptor.line.data = Status.VEND_VALID, b""
    acceptor.line.silent.add(Command.ACK)
    acceptor.cycle()
    acceptor.line.status = Status.POWER_UP_BILL_IN_STACKER
    acceptor.cycle()
    acceptor.cycle()
    power_ups = acceptor.of(PowerUpWithNote)
    assert len(power_ups) == 1
    assert power_ups[0].where is NoteAtPowerUp.STACKER
    assert (power_ups[0].denomination_fen, power_ups[0].already_credited) == (1000, True)
    assert len(acceptor.of(NoteCredited)) == 1


def test_power_lost_while_stacking_without_a_credit_leaves_the_note_unaccounted():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    acceptor.cycle()
    acceptor.line.status, acceptor.line.data = Status.STACKING, b""
    acceptor.cycle()
    acceptor.line.status = Status.POWER_UP
    acceptor.cycle()
    unaccounted = acceptor.of(NoteUnaccounted)
    assert [e.denomination_fen for e in unaccounted] == [1000]
    assert not acceptor.of(NoteCredited)


def test_a_silent_acceptor_gets_no_command_repeated_and_is_reported_silent():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    acceptor.line.status, acceptor.line.data = escrow(TEN_YUAN)
    acceptor.cycle()
    acceptor.line.silent.update(Command)  # the cable is pulled: nothing answers
    for _ in range(12):
        written = acceptor.cycle()
        assert Command.STACK_1 not in written  # no status is no proof STACK-1 was lost
    last = acceptor.reports[-1].as_status()
    assert last.state is DeviceState.OFFLINE and last.reason == "SILENT"
    assert acceptor.protocol.stats().response_timeouts >= 12


def test_settled_only_when_inhibited_with_no_note_inside():
    acceptor = Harness(decide=lambda fen: True)
    acceptor.ready()
    assert not acceptor.protocol.settled  # intake is on
    acceptor.intake = Intake(False, acceptor.intake.accepted_fen)
    acceptor.line.status = Status.DISABLED
    acceptor.cycle()
    assert acceptor.protocol.settled
    inhibit = [c for c in acceptor.line.written if c is Command.SET_INHIBIT]
    assert inhibit
