"""The acceptor's power up: reset it once, and say what became of the note it may have held.

Spec ID03-001E 4 (1), 6-2-2: after power is restored the acceptor answers
STATUS REQUEST with POWER UP (40h), or with 41h/42h when a note was inside
(in the transport / being stacked), until the controller sends RESET (40h,
answered by ACK).  It then initialises (INITIALIZE, 1Bh), and the controller
reads its identity and sends the settings again (``drivers/id003/setup.py``).

What the driver knew of the note in flight when contact was lost goes into
:class:`~drivers.id003.events.PowerUpWithNote`, so the payment layer can
compare it with its journal; a note the acceptor no longer reports that was
being stacked without a credit is :class:`~drivers.id003.events.NoteUnaccounted`.
"""

from __future__ import annotations

from drivers.id003.codec import Status
from drivers.id003.events import AcceptorEvent, NoteAtPowerUp, NoteUnaccounted, PowerUpWithNote
from drivers.id003.line import is_news
from drivers.id003.notes import Note, NoteTracker

WHERE = {Status.POWER_UP: NoteAtPowerUp.NONE, Status.POWER_UP_BILL_IN_ACCEPTOR: NoteAtPowerUp.ACCEPTOR,
         Status.POWER_UP_BILL_IN_STACKER: NoteAtPowerUp.STACKER}


def note_at_power_up(where: NoteAtPowerUp, note: Note | None) -> AcceptorEvent | None:
    """What to tell the payment layer about ``note`` (the one in flight, if any) at a power up."""
    note_id = note.note_id if note else None
    if where is not NoteAtPowerUp.NONE:
        return PowerUpWithNote(where, note.denomination_fen if note else None, bool(note and note.credited),
                               note_id)
    if note is not None and note.stacking and note.command_taken and not note.credited:
        return NoteUnaccounted(note.denomination_fen,
                               "the acceptor lost power while stacking this note and reports no note inside: "
                               "count the cash box", note_id)
    return None


class PowerUp:
    """Whether a RESET is due, and whether this power up was already reported."""

    def __init__(self) -> None:
        self.reset_due = False
        self._reported = False
        self._reset_sent: int | None = None  # write order of the last RESET

    def on_power_up(self, status: Status, asked: int | None, notes: NoteTracker) -> AcceptorEvent | None:
        """A power-up status asked for by write ``asked``; returns the event to tell, once per power up.

        The first one ends the record of the note in flight: the acceptor
        has forgotten it.  The acceptor repeats the power-up status until it
        takes RESET; one asked for before our RESET may predate it and does
        not call for another."""
        event = None
        if not self._reported:
            self._reported = True
            self._reset_sent = None
            event = note_at_power_up(WHERE[status], notes.note)
            notes.note = None
        if is_news(asked, self._reset_sent):
            self.reset_due = True
        return event

    def reset_sent(self, order: int) -> None:
        self.reset_due = False
        self._reset_sent = order

    def left_power_up(self) -> None:
        """Any other status: a RESET got through."""
        self._reported = False
        self.reset_due = False
