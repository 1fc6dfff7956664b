"""One note at a time through the acceptor: its identity, its escrow decision, its credit, once.

Spec ID03-001E 4 (3), 6-2-1, 6-3, 6-4:

* **Escrow**: ESCROW (13h + escrow code) → the decision (an
  :class:`EscrowQuestion` handed to the payment layer, or a refusal when the
  denomination is not enabled) → STACK-1 (41h) or RETURN (43h), each
  answered by ACK.  Every note gets a driver-unique id here (``note_id``).
* **Vend valid**: STACKING → VEND VALID (15h), which the controller answers
  with ACK (50h); the acceptor repeats VEND VALID until it gets that ACK,
  then STACKED → IDLING.  The note is credited at VEND VALID (or at STACKED,
  if its VEND VALID was never read), once: whether it was already credited
  is a property of the note record, not a count of frames, so a repeated
  VEND VALID or a lost ACK cannot credit twice.
* **Identity** comes from the protocol state only: a record is the same note
  while the acceptor reports it in escrow (ESCROW, HOLDING); once it reports
  anything past escrow (STACKING, VEND VALID, STACKED, RETURNING, REJECTING,
  IDLING...) the record is finished, and a later ESCROW is another note even
  of the same denomination.

No I/O: :class:`NoteTracker` changes the record and appends events; the
protocol reads ``command_due`` / ``ack_due`` to know what to send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from drivers.id003 import codec
from drivers.id003.codec import Status, StatusReply
from drivers.id003.events import AcceptorEvent, NoteCredited, NoteEscrowed, NoteRejected, NoteReturned, NoteUnaccounted
from drivers.id003.line import Sent, is_news
from drivers.id003.stats import Counters

log = logging.getLogger("kiosk.devices.acceptor")


@dataclass
class Note:
    """One physical note, from its ESCROW until the acceptor reports it gone (spec 6-2-1)."""

    note_id: int | None  # unique per driver; None: a note whose escrow this driver did not see
    escrow_code: int | None
    denomination_fen: int | None
    stacking: bool  # the decision: STACK-1 or RETURN
    command_due: bool = False  # STACK-1/RETURN is to be sent (again)
    command_sent: int | None = None  # the write order of the last STACK-1/RETURN
    command_taken: bool = False  # its ACK came, or the acceptor went on to stack it
    past_escrow: bool = False  # reported beyond escrow: a later ESCROW is another note
    credited: bool = False
    returned_reported: bool = False
    unaccounted_reported: bool = False
    ack_due: bool = False  # VEND VALID is to be acknowledged
    vend_acked: int | None = None  # the write order of the last ACK to VEND VALID


@dataclass(frozen=True)
class EscrowQuestion:
    """A note of an enabled denomination in escrow: stack it (True) or return it (False)?"""

    note_id: int
    escrow_code: int
    denomination_fen: int


class NoteTracker:
    """Follows the note in the acceptor through its states (spec 6-2-1 (2)-(9))."""

    def __init__(self, emit: Callable[[AcceptorEvent], None], counters: Counters) -> None:
        self.note: Note | None = None
        self._emit = emit
        self._counters = counters
        self._last_note_id = 0

    def on_status(self, reply: StatusReply, asked: int | None, previous: Status | None,
                  table: dict[int, int] | None, wanted: Callable[[int | None], bool]) -> EscrowQuestion | None:
        """One status, in the order the acceptor reported it.  A new note of an enabled
        denomination in escrow is returned as a question: answer it with :meth:`decided`."""
        status = reply.status
        note = self.note
        if status is Status.ESCROW:
            return self._on_escrow(reply.escrow_code, asked, table, wanted)
        if status is Status.HOLDING:
            if note is not None and not note.past_escrow:
                self._still_in_escrow(note, asked)
        elif status is Status.STACKING:
            if note is not None:
                self._moved_on(note)
        elif status is Status.VEND_VALID:
            self._on_vend_valid(asked)
        elif status is Status.PAUSE or status in codec.FAULT_STATUSES:
            pass  # the note, if any, is still in the machine
        else:
            if status is Status.STACKED and note is not None:
                self._on_stacked(note)
            if note is not None:
                self.close(note, status)
            if status is Status.REJECTING and previous is not Status.REJECTING:
                reason = reply.reject_reason
                self._emit(NoteRejected(reason, codec.REJECT_REASONS.get(reason, "unknown reason")))
        return None

    def decided(self, question: EscrowQuestion, stacking: bool) -> None:
        """The payment layer's answer: the note's record starts here."""
        self._start(question.note_id, question.escrow_code, question.denomination_fen, stacking)

    def on_ack(self, sent: Sent) -> None:
        """The acceptor took the STACK-1/RETURN ``sent`` (spec 6-3)."""
        note = self.note
        if note is None or sent.note_id is None or note.note_id != sent.note_id:
            return  # the note it was for is finished already
        note.command_taken = True
        if sent.command is codec.Command.RETURN:
            self._report_returned(note)

    def command_sent(self, note: Note, order: int) -> codec.Command:
        """STACK-1 or RETURN goes out as write ``order``: which one."""
        note.command_due = False
        note.command_sent = order
        return codec.Command.STACK_1 if note.stacking else codec.Command.RETURN

    def vend_valid_acked(self, note: Note, order: int) -> None:
        note.ack_due = False
        note.vend_acked = order
        self._counters.add("acks_sent")

    def close(self, note: Note, status: Status) -> None:
        """The acceptor reports the note gone (``status``): say what became of it, if nobody did."""
        self.note = None
        if note.credited or note.unaccounted_reported or note.returned_reported:
            return
        if status is Status.RETURNING:
            self._report_returned(note)
        elif note.stacking and note.command_taken:
            self._emit(NoteUnaccounted(note.denomination_fen,
                                       f"the note left stacking without VEND VALID (acceptor now "
                                       f"{status.name}): it was either returned or stacked; count the cash box",
                                       note.note_id))

    # ------------------------------------------------------------ escrow

    def _on_escrow(self, code: int, asked: int | None, table: dict[int, int] | None,
                   wanted: Callable[[int | None], bool]) -> EscrowQuestion | None:
        note = self.note
        if note is not None and not note.past_escrow and note.escrow_code == code:
            self._still_in_escrow(note, asked)
            return None
        if note is not None:
            self.close(note, Status.ESCROW)
        self._last_note_id += 1
        fen = table.get(code) if table else None
        if fen is not None and wanted(fen):
            return EscrowQuestion(self._last_note_id, code, fen)
        self._start(self._last_note_id, code, fen, stacking=False)
        return None

    def _start(self, note_id: int, code: int, fen: int | None, stacking: bool) -> None:
        self.note = Note(note_id, code, fen, stacking, command_due=True)
        self._emit(NoteEscrowed(fen, code, stacking, note_id))

    def _still_in_escrow(self, note: Note, asked: int | None) -> None:
        """Still in escrow: say STACK-1/RETURN again unless this status may predate the last one."""
        if is_news(asked, note.command_sent):
            note.command_due = True

    @staticmethod
    def _moved_on(note: Note) -> None:
        """STACKING, VEND VALID or STACKED: past escrow, and STACK-1 was taken even if its ACK was lost."""
        note.past_escrow = True
        note.command_due = False
        if note.stacking:
            note.command_taken = True

    # ------------------------------------------------------------ credit

    def _on_vend_valid(self, asked: int | None) -> None:
        """VEND VALID (spec 6-2-1 (5)): credit the note once, then ACK.

        A repeat asked for after our last ACK means that ACK was lost: ACK
        again.  One asked for before it may predate it (a late reply): not
        ACKed again, so a stale VEND VALID does not put a stray ACK on the
        line, where it could meet the next note's VEND VALID.
        """
        note = self.note
        if note is None:
            # The driver never saw this note in escrow (it started, or reconnected,
            # mid-stack): the money is in the box but we cannot say how much.
            note = self.note = Note(None, None, None, stacking=True, command_taken=True, past_escrow=True)
        self._moved_on(note)
        if not note.credited and not note.unaccounted_reported:
            self._credit(note, "VEND VALID")
        if is_news(asked, note.vend_acked):
            note.ack_due = True

    def _on_stacked(self, note: Note) -> None:
        """STACKED (16h) with the note not yet credited: its VEND VALID was never read (lost on the
        line, or the acceptor took an ACK meant for an earlier one), yet the note is in the box."""
        self._moved_on(note)
        if not note.credited and not note.unaccounted_reported:
            log.warning("acceptor reports STACKED for note %s without a VEND VALID read; crediting it now",
                        note.note_id)
            self._credit(note, "STACKED")

    def _credit(self, note: Note, seen: str) -> None:
        """The note is the customer's money: exactly once per note record."""
        if note.denomination_fen is None:
            note.unaccounted_reported = True
            why = ("whose escrow this driver did not see" if note.note_id is None
                   else f"whose escrow code {note.escrow_code:02X}h is not in the currency table")
            self._emit(NoteUnaccounted(None, f"{seen} for a note {why}", note.note_id))
            return
        note.credited = True
        self._counters.add("notes_credited")
        if not note.stacking:
            log.warning("acceptor stacked a note it was told to return; crediting it")
        # Written down (by the listener) before it is acknowledged: the driver
        # delivers this event before it writes the ACK.
        self._emit(NoteCredited(note.denomination_fen, note.note_id))

    def _report_returned(self, note: Note) -> None:
        if not note.returned_reported:
            note.returned_reported = True
            self._emit(NoteReturned(note.denomination_fen, note.note_id))
