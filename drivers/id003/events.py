"""What the acceptor driver tells the payment layer, in cash-in (XFS) terms.

Every event is a frozen dataclass delivered on the driver's thread.  Amounts
are CNY fen (¥1 = 100) so they add up without floats.  Only
:class:`NoteCredited` means money; the others explain what happened to a note
or ask the payment layer to reconcile against its journal.

Every note gets a ``note_id`` when the driver sees it in escrow: unique per
driver instance, it ties a note's :class:`NoteEscrowed`, :class:`NoteCredited`
(as its ``sequence``), :class:`NoteReturned`, :class:`NoteUnaccounted` and
:class:`PowerUpWithNote` together.  It is None only for a note whose escrow the
driver never saw.  The ``note_id`` fields come last with a default, so older
positional construction still works, and they are left out of equality
(``compare=False``): two events saying the same thing about a note compare
equal, as they did before the id existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


def _note_id_field():
    return field(default=None, compare=False)


@dataclass(frozen=True)
class AcceptorReady:
    """The acceptor answered, was reset if needed, and its currency table is known."""

    version: str
    denominations_fen: tuple[int, ...]  # what the acceptor can recognise, ascending


@dataclass(frozen=True)
class NoteEscrowed:
    """A note sits in escrow; ``stacking`` is the decision taken (stack or return).

    One per physical note: the acceptor repeating ESCROW for the same note
    does not make another one."""

    denomination_fen: int | None  # None: escrow code not in the currency table
    escrow_code: int
    stacking: bool
    note_id: int | None = _note_id_field()


@dataclass(frozen=True)
class NoteCredited:
    """The acceptor declared the note valid (VEND VALID): it is the customer's money now.

    Exactly one per physical note.  ``sequence`` is unique per driver
    instance: it is the note's ``note_id``, given at escrow (so it rises with
    every note, and skips the notes that were returned).  Journal the note
    with the payment, under this reference, before showing it.
    """

    denomination_fen: int
    sequence: int

    @property
    def note_id(self) -> int:
        """The same number as ``sequence``, by the name the other note events use."""
        return self.sequence


@dataclass(frozen=True)
class NoteReturned:
    """The note goes back to the customer: the acceptor took RETURN, or reported RETURNING.

    At most one per note."""

    denomination_fen: int | None
    note_id: int | None = _note_id_field()


@dataclass(frozen=True)
class NoteRejected:
    """The acceptor refused a note on its own (counterfeit, worn, inhibited...)."""

    reason_code: int | None
    reason: str


class NoteAtPowerUp(StrEnum):
    """Where the acceptor says a note is as it powers up (spec 6-2-2: 40h, 41h, 42h).

    A ``StrEnum``: the journal and the payment layer compare it with the
    plain strings ``"acceptor"`` and ``"stacker"``."""

    NONE = "none"  # POWER UP (40h): no note inside
    ACCEPTOR = "acceptor"  # 41h: in the transport; the reset returns it
    STACKER = "stacker"  # 42h: being stacked; it ends in the cash box without a VEND VALID


@dataclass(frozen=True)
class PowerUpWithNote:
    """The acceptor came back from a power cut with a note inside.

    ``where`` is :attr:`NoteAtPowerUp.ACCEPTOR` (the note is in the transport
    and will be returned by the reset) or :attr:`NoteAtPowerUp.STACKER` (it is
    being stacked: it will end in the cash box without a VEND VALID).  ``denomination_fen`` and
    ``already_credited`` say what this driver knew of the note in flight when
    contact was lost (None/False when it knew nothing): the payment layer
    compares them with its journal.
    """

    where: NoteAtPowerUp
    denomination_fen: int | None
    already_credited: bool
    note_id: int | None = _note_id_field()  # the note in flight the driver knew of, if any


@dataclass(frozen=True)
class NoteUnaccounted:
    """Money may have gone into the cash box without a credit: reconcile at collection."""

    denomination_fen: int | None
    reason: str
    note_id: int | None = _note_id_field()  # None: a note whose escrow the driver did not see


AcceptorEvent = (AcceptorReady | NoteEscrowed | NoteCredited | NoteReturned | NoteRejected
                 | PowerUpWithNote | NoteUnaccounted)
