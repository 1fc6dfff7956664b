"""The ID-003 controller as a pure object: bytes and time in, frames to write and events out.

The protocol is half duplex and controller-driven (spec ID03-001E ch. 4): the
controller sends one command, the acceptor answers within a short window, and
the controller polls with STATUS REQUEST (11h).  Everything the controller
decides lives here, with no port, no thread and no sleeping, so the
credit-once and power-up logic can be tested with byte strings and a
hand-moved clock (``tests/drivers/test_id003_protocol.py``):

* :meth:`AcceptorProtocol.receive` takes whatever bytes a read brought (one
  frame, several, half of one, noise) and acts on every complete frame in
  the order it came: notes are followed and credited (``drivers/id003/notes.py``),
  power ups reported (``power_up.py``), statuses published (``status_model.py``).
* :meth:`AcceptorProtocol.cycle` is one poll cycle as a generator of
  :class:`Write` requests: the caller writes ``write.frame``, feeds the bytes
  it reads to :meth:`receive` until ``write.answered`` or ``write.deadline``,
  and resumes the generator.  What a cycle sends next depends on what came
  back, which a generator says in the order it happens.

Events and statuses go out through the ``emit`` and ``publish`` callbacks
at the moment they are decided, so the payment layer has written a credited
note down before the ACK to its VEND VALID is even requested.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Generator

from drivers.id003 import codec
from drivers.id003.codec import Command, Status, StatusReply
from drivers.id003.events import AcceptorEvent
from drivers.id003.line import LATE_REPLY_S, InFlight, Sent
from drivers.id003.notes import EscrowQuestion, NoteTracker
from drivers.id003.power_up import PowerUp
from drivers.id003.setup import AcceptorSetup, Intake
from drivers.id003.stats import Counters, DriverStats, snapshot
from drivers.id003.status_model import POWER_UP_REPORT, StatusReport, report_for, silence_report

log = logging.getLogger("kiosk.devices.acceptor")

MAX_NOTE_ACTIONS = 6  # commands one poll cycle may send for notes (RESET, ACKs, STACK-1/RETURN)
SETTLED_STATUSES = (Status.IDLING, Status.DISABLED, Status.INITIALIZE)  # inhibit on the way out is safe

Decider = Callable[[int], bool]


@dataclass(frozen=True)
class Write:
    """A frame for the caller to write.  ``sent`` is None for a frame no reply answers (the ACK to VEND VALID)."""

    frame: bytes
    sent: Sent | None
    deadline: float  # when to stop waiting for the reply (the response window)

    @property
    def answered(self) -> bool:
        return self.sent is None or self.sent.reply is not None


Cycle = Generator[Write, None, None]


class AcceptorProtocol:
    """The controller side of ID-003 for one acceptor.

    ``decide(fen) -> bool`` is asked for every note of an enabled
    denomination in escrow (True stacks it); a decider that raises returns
    the note.  ``intake()`` says what the kiosk asked for at this moment.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        emit: Callable[[AcceptorEvent], None],
        publish: Callable[[StatusReport], None],
        intake: Callable[[], Intake],
        decide: Callable[[], Decider | None],
        response_timeout_s: float,
        silence_timeout_s: float,
        port_label: str,
        override_table: dict[int, int] | None = None,
        country_code: int | None = None,
    ) -> None:
        self._now = clock
        self._emit = emit
        self._publish = publish
        self._intake = intake
        self._decide = decide
        self.response_timeout_s = response_timeout_s
        self.silence_timeout_s = silence_timeout_s
        self.port_label = port_label
        self.counters = Counters()
        self.decoder = codec.FrameDecoder()
        self.in_flight = InFlight(response_timeout_s + 2 * LATE_REPLY_S)
        self.notes = NoteTracker(emit, self.counters)
        self.power_up = PowerUp()
        self.setup = AcceptorSetup(self._exchange, clock, emit, intake, override_table, country_code)
        self.last_status: Status | None = None
        self._fresh_status = False  # a status came since the settings were last looked at
        self._order = 0  # write counter: a status is news after a command only if asked by a later write
        self._out_of_step = False
        self._resynced_at = float("-inf")
        self._last_status_at = clock()
        self._last_noise_at = 0.0

    # ------------------------------------------------------------ the caller's side

    def line_opened(self) -> None:
        """A (re)opened port: nothing in flight, and maybe another acceptor, so read it again."""
        self.decoder = codec.FrameDecoder()
        self.in_flight.clear()
        self._last_status_at = self._now()
        self._last_noise_at = 0.0
        self.setup.forget(powered_up=False)

    def receive(self, chunk: bytes) -> None:
        """Bytes read from the line: every complete frame, oldest first (the acceptor's order), is acted on."""
        if not chunk:
            return
        frames = self.decoder.feed(chunk)
        if not frames:
            # Bytes and no frame: noise, or a frame still coming.  Only noise
            # since the last status makes a quiet acceptor a garbled line.
            self._last_noise_at = self._now()
        if len(frames) > 1:
            self.counters.add("multi_frame_reads")
        for frame in frames:
            self._on_frame(codec.parse_reply(frame))

    def cycle(self) -> Cycle:
        """One poll: STATUS REQUEST, then whatever the notes, the settings and the line call for."""
        self.counters.add("polls")
        yield from self._exchange(codec.status_request())
        yield from self._act_on_notes()
        yield from self._act_on_settings()
        yield from self._act_on_notes()  # a status read during the settings may call for a command
        yield from self._resync()
        self._check_silence()

    def shutdown(self) -> Cycle:
        """On the way out: inhibit, when the acceptor is in a state that takes the setting."""
        if self.last_status in SETTLED_STATUSES:
            yield from self._exchange(codec.setting(Command.SET_INHIBIT, codec.inhibit_data(True)))

    @property
    def settled(self) -> bool:
        """Inhibited and no note anywhere in the acceptor: nothing more can be credited."""
        return not self._intake().enabled and self.notes.note is None and self.last_status is Status.DISABLED

    def stats(self) -> DriverStats:
        return snapshot(self.decoder.stats, self.counters.values)

    # ------------------------------------------------------------ writing

    def _take_order(self) -> int:
        self._order += 1
        return self._order

    def _exchange(self, frame: bytes, note_id: int | None = None,
                  order: int | None = None) -> Generator[Write, None, codec.Reply | None]:
        """One command and its reply (or None when its response window closed without one)."""
        now = self._now()
        self.in_flight.expire(now)
        sent = Sent(Command(frame[2]), now, order if order is not None else self._take_order(), note_id)
        self.in_flight.add(sent)
        late_before = self.in_flight.late_matches
        yield Write(frame, sent, now + self.response_timeout_s)
        if sent.reply is None:
            sent.given_up = True
            self.counters.add("response_timeouts")
            # A reply came, but was taken for an older command's: either the
            # line is slow, or one reply was lost and every reply since is
            # taken for its predecessor's (InFlight.match).  _resync tells them apart.
            self._out_of_step = self._out_of_step or self.in_flight.late_matches > late_before
        return sent.reply

    def _act_on_notes(self) -> Cycle:
        """Send what the acceptor's state calls for: RESET, the ACK to VEND VALID, STACK-1/RETURN."""
        for _ in range(MAX_NOTE_ACTIONS):
            self.in_flight.expire(self._now())
            note = self.notes.note
            if self.power_up.reset_due:
                order = self._take_order()
                self.power_up.reset_sent(order)
                yield from self._exchange(codec.operation(Command.RESET), order=order)  # its ACK: _on_ack
            elif note is not None and note.ack_due:
                self.notes.vend_valid_acked(note, self._take_order())
                yield Write(codec.ack(), None, self._now())  # spec 6-4: no reply follows
            elif note is not None and note.command_due:
                order = self._take_order()
                command = self.notes.command_sent(note, order)
                # Its ACK (or INVALID COMMAND) is handled when it comes, late or not.
                yield from self._exchange(codec.operation(command), note.note_id, order)
            else:
                return

    def _act_on_settings(self) -> Cycle:
        """Identity and enable/inhibit, judged by the newest status; never while a note is in escrow."""
        if not self._fresh_status:
            return
        self._fresh_status = False
        status = self.last_status
        if status in (Status.INITIALIZE, Status.DISABLED, Status.IDLING):
            yield from self.setup.ensure_identity()
            yield from self.setup.reconcile(status)
        elif status in codec.FAULT_STATUSES:
            yield from self.setup.ensure_identity()  # a technician sees version and table even while jammed

    def _resync(self) -> Cycle:
        """Put the reply matching back in step after a lost reply.

        GET INHIBIT (83h, a read-only setting request, spec 6-6) has an answer
        no other command takes, so when it comes every command sent before it
        has had its reply or lost it.  On a line that is only slow it changes
        nothing; it is sent at most once per in-flight life.
        """
        now = self._now()
        if not self._out_of_step or now - self._resynced_at < self.in_flight.life_s:
            return
        self._out_of_step = False
        self._resynced_at = now
        self.counters.add("resyncs")
        yield from self._exchange(codec.request(Command.GET_INHIBIT))

    def _check_silence(self) -> None:
        quiet = self._now() - self._last_status_at
        if quiet > self.silence_timeout_s:
            self._publish(silence_report(self.port_label, quiet, self._last_noise_at > self._last_status_at))

    # ------------------------------------------------------------ reading

    def _on_frame(self, reply: codec.Reply) -> None:
        """One frame from the acceptor: matched to the command it answers, then acted on."""
        sent = self.in_flight.match(reply)
        if sent is not None and sent.given_up:
            self.counters.add("late_replies")
        if isinstance(reply, StatusReply):
            self._on_status_frame(reply, sent)
        elif isinstance(reply, codec.Ack):
            self._on_ack(sent)
        elif isinstance(reply, codec.UnknownReply):
            self.counters.add("unknown_replies")
        elif sent is None:
            self.counters.add("unmatched_replies")  # an echo, version or table no command waits for

    def _on_status_frame(self, reply: StatusReply, sent: Sent | None) -> None:
        if reply.status is Status.INVALID_COMMAND:
            self.counters.add("invalid_commands")
        elif reply.status is Status.COMMUNICATION_ERROR:
            self.counters.add("communication_error_replies")
        else:
            self.counters.add("status_replies")
            self._last_status_at = self._now()
            # When the acceptor was in this state: as of the request it answers.
            # None: it answers nothing still in flight (very late), never news.
            self._on_status(reply, sent.order if sent is not None else None)

    def _on_ack(self, sent: Sent | None) -> None:
        """ACK (50h): the acceptor took the operation command it answers (spec 6-3).

        A *surplus* ACK — one that answers no operation command in flight —
        is counted and ignored: it cannot say which command or note it
        belongs to, and nothing depends on it, because a note's fate is read
        from the statuses (STACKING or VEND VALID prove STACK-1 was taken).
        """
        if sent is None:
            self.counters.add("surplus_acks")
            log.debug("acceptor sent an ACK that answers no command in flight; ignored")
        elif sent.command is Command.RESET:
            self.counters.add("resets_sent")
        else:
            self.notes.on_ack(sent)

    def _on_status(self, reply: StatusReply, asked: int | None) -> None:
        """A status, in the order the acceptor reported it: state and events, no writing."""
        status = reply.status
        if status in codec.POWER_UP_STATUSES:
            self.last_status = status
            event = self.power_up.on_power_up(status, asked, self.notes)
            if event is not None:
                self._emit(event)
            self.setup.forget(powered_up=True)
            self._publish(POWER_UP_REPORT)
            return
        self.power_up.left_power_up()
        intake = self._intake()
        question = self.notes.on_status(reply, asked, self.last_status, self.setup.table, intake.takes)
        if question is not None:
            self.notes.decided(question, self._ask(question))
        self.last_status = status
        self._fresh_status = True
        no_table = self.setup.table is None and self.setup.identity_failures >= 3
        self._publish(report_for(reply, no_table))

    def _ask(self, question: EscrowQuestion) -> bool:
        decide = self._decide()
        if decide is None:
            return True
        try:
            return bool(decide(question.denomination_fen))
        except Exception:  # noqa: BLE001 - a payment-layer bug returns the note, never keeps it unaccounted
            log.exception("acceptor decide callback failed; returning the note")
            return False
