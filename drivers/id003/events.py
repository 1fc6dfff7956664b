"""What the acceptor driver tells the payment layer, in cash-in (XFS) terms.

Every event is a frozen dataclass delivered on the driver's thread.  Amounts
are CNY fen (¥1 = 100) so they add up without floats.  Only
:class:`NoteCredited` means money; the others explain what happened to a note
or ask the payment layer to reconcile against its journal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AcceptorReady:
    """The acceptor answered, was reset if needed, and its currency table is known."""

    version: str
    denominations_fen: tuple[int, ...]  # what the acceptor can recognise, ascending


@dataclass(frozen=True)
class NoteEscrowed:
    """A note sits in escrow; ``stacking`` is the decision taken (stack or return)."""

    denomination_fen: int | None  # None: escrow code not in the currency table
    escrow_code: int
    stacking: bool


@dataclass(frozen=True)
class NoteCredited:
    """The acceptor declared the note valid (VEND VALID): it is the customer's money now.

    Exactly one per physical note.  ``sequence`` counts credited notes of this
    driver instance from 1; journal it with the payment, before showing it.
    """

    denomination_fen: int
    sequence: int


@dataclass(frozen=True)
class NoteReturned:
    """The acceptor took the RETURN command: the note goes back to the customer."""

    denomination_fen: int | None


@dataclass(frozen=True)
class NoteRejected:
    """The acceptor refused a note on its own (counterfeit, worn, inhibited...)."""

    reason_code: int | None
    reason: str


@dataclass(frozen=True)
class PowerUpWithNote:
    """The acceptor came back from a power cut with a note inside.

    ``where`` is ``"acceptor"`` (the note is in the transport and will be
    returned by the reset) or ``"stacker"`` (it is being stacked: it will end
    in the cash box without a VEND VALID).  ``denomination_fen`` and
    ``already_credited`` say what this driver knew of the note in flight when
    contact was lost (None/False when it knew nothing): the payment layer
    compares them with its journal.
    """

    where: str
    denomination_fen: int | None
    already_credited: bool


@dataclass(frozen=True)
class NoteUnaccounted:
    """Money may have gone into the cash box without a credit: reconcile at collection."""

    denomination_fen: int | None
    reason: str


AcceptorEvent = (AcceptorReady | NoteEscrowed | NoteCredited | NoteReturned | NoteRejected
                 | PowerUpWithNote | NoteUnaccounted)
