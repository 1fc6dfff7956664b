"""What one printer answers, found out when the link connects to it.

ESC/POS models implement different parts of the command set (Epson's
reference marks each command with the models that have it).  Receipt printers
in the field almost all answer the real-time status ``DLE EOT n``, but many
take ``GS r 1`` — the command whose answer waits until everything before it
is printed — in silence, and a few leave out one ``DLE EOT n`` (the error
cause, n = 3, most often).  A driver that waits for an answer that never
comes reports a slip that printed as failed, or a printer that works as
silent.  So each new connection asks, under short timeouts:

1. ``DLE EOT 1``–``4`` at once (the DLE EOT notes allow four before
   waiting).  Four answers: all are known.  None: the printer is silent,
   nothing is learnt.  Some: each n is asked again on its own, to learn which
   ones it answers — answers come back in order, so a missing one would
   otherwise shift the others onto the wrong n.
2. ``GS r 1``, only while the printer is ready: it is not real-time, a
   stopped printer does not work through its receive buffer (the GS r notes:
   not executed at paper end), and a missing answer then says nothing about
   the model.  Until it has been asked, :attr:`Capabilities.paper_status` is
   ``None``.

What was learnt holds for that connection; a new connection (the printer
restarted, the cable was pulled, a failure closed it) is probed again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from drivers.escpos.realtime import (ALL_KINDS, KIND_NAMES, TRANSMIT_PAPER_STATUS, is_paper_status_reply,
                                     realtime_request)

PROBE_TIMEOUT_S = 0.5  # an idle printer answers in milliseconds, even at 9600 baud


@dataclass(frozen=True)
class Capabilities:
    """The status commands one printer answered when the link connected to it."""

    realtime: tuple[int, ...] = ALL_KINDS  # the n of DLE EOT n it answers, ascending
    paper_status: bool | None = None  # GS r 1 answered; None: not asked yet (the printer was stopped)

    @property
    def confirms_by_paper_status(self) -> bool:
        return bool(self.paper_status)

    def describe(self) -> str:
        """One line for a technician: what the printer answers, and how a slip is confirmed."""
        answered = "DLE EOT " + ", ".join(str(n) for n in self.realtime)
        ignored = [n for n in ALL_KINDS if n not in self.realtime]
        if ignored:
            answered += " (not " + ", ".join(f"{n}: {KIND_NAMES[n]}" for n in ignored) + ")"
        if self.paper_status is None:
            return f"answers {answered}; GS r 1 not asked yet (the printer is stopped)"
        if self.paper_status:
            return f"answers {answered} and GS r 1 — a slip is confirmed when GS r 1, sent after it, is answered"
        return (f"answers {answered}, not GS r 1 — a slip is confirmed by DLE EOT: taken by the printer, "
                "and no stop while it prints")


def ask_realtime(transport, kinds: tuple[int, ...], timeout_s: float, *, gap_s: float | None = None) -> bytes:
    """Send ``DLE EOT n`` for ``kinds`` and read up to one answer each within ``timeout_s``.

    ``gap_s``: once answers come, give up on the rest when none follows for
    that long (probing: a printer that answers some n at once is not going to
    answer the others late).  A ``GS r`` answer that arrives meanwhile (a slip
    finishing late, after a paper change) is not a status and is dropped.
    """
    transport.discard_input()
    transport.write(realtime_request(kinds), timeout_s)
    deadline = time.monotonic() + timeout_s
    replies = b""
    while len(replies) < len(kinds):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        answer = transport.read(1, remaining)  # one at a time, so a gap is seen as it opens
        if answer and not is_paper_status_reply(answer[0]):
            replies += answer
            if gap_s is not None:
                deadline = min(deadline, time.monotonic() + gap_s)
    return replies


def realtime_answered_each(transport, timeout_s: float) -> dict[int, int]:
    """Ask each ``DLE EOT n`` on its own; the answer byte of every n that was answered."""
    answered: dict[int, int] = {}
    for n in ALL_KINDS:
        reply = ask_realtime(transport, (n,), timeout_s)
        if reply:
            answered[n] = reply[0]
    return answered


def answers_paper_status(transport, timeout_s: float) -> bool:
    """Whether ``GS r 1`` is answered within ``timeout_s`` (ask only while the printer is ready).

    A late answer is harmless: the link then never waits for ``GS r``, and
    every status read drops ``GS r`` answers.
    """
    transport.discard_input()
    transport.write(TRANSMIT_PAPER_STATUS, timeout_s)
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        for byte in transport.read(1, remaining):
            if is_paper_status_reply(byte):
                return True
    return False
