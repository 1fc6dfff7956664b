"""One customer's cash-in: from enabling the acceptor to the committed payment.

The acceptor driver asks :meth:`CashIn.decide` about every note in escrow and
reports :class:`~drivers.id003.events.NoteCredited` once per physical note,
*before* it acknowledges VEND VALID.  Both calls arrive on the driver's
thread, and the note is written to the money journal right there, so it is on
disk before the acceptor hears the acknowledgement and before any screen shows
it (rule: journal before acknowledging).  Whether a note was already counted
is the journal's business (each note carries the driver's reference), never a
count of events here.

A note is stacked only when its denomination is accepted and it keeps the
total within the payment's cap; otherwise it is returned and the customer is
told why.  :meth:`finish` stops intake, waits until the acceptor holds no note
any more (a note already past escrow is still credited), then commits: money
stacked is never "cancelled".

Plain Python, no Qt: the screen gets :class:`CashPayment` snapshots through
``on_change`` (on the driver's thread; the GUI moves them to its own).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from drivers.id003.events import (
    NoteCredited,
    NoteRejected,
    NoteReturned,
    NoteUnaccounted,
)
from kiosk.payment_record import CashPayment
from offline_store.journal import NoteOutsideCashIn

log = logging.getLogger("kiosk.payment")

SETTLE_TIMEOUT_S = 10.0  # a real acceptor stacks a note in about a second
_SETTLE_POLL_S = 0.02
_instances = itertools.count(1)


@dataclass(frozen=True)
class CashInResult:
    transaction_no: str
    paid_fen: int
    committed: bool  # False: nothing was stacked, the payment is cancelled
    # The acceptor did not settle in time (a jam with a note inside): what it
    # holds is not in this payment; the customer is referred to the counter.
    acceptor_unsettled: bool = False
    # The journal could not commit (the disk failed): the notes are journaled
    # and the payment is finished by recovery at the next start.
    commit_failed: bool = False


class CashIn:
    def __init__(self, journal, acceptor, transaction_no: str, amount_due_fen: int, cap_fen: int,
                 accepted_fen: frozenset[int], on_change: Callable[[CashPayment], None],
                 clock: Callable[[], float] = time.time, guard: Callable[[], str] | None = None) -> None:
        """``guard()`` says why the journal should take no more notes ("" when it can):
        e.g. the disk is nearly full.  It is asked before every note."""
        self._journal = journal
        self._acceptor = acceptor
        self._accepted = frozenset(accepted_fen)
        self._on_change = on_change
        self._clock = clock
        # References are unique per physical note: this cash-in's instance plus
        # the driver's own sequence; the journal ignores a reference it has.
        self._ref_prefix = f"{transaction_no}/{next(_instances)}"
        self._lock = threading.Lock()
        self._closing = False
        self._reserved_fen = 0  # stacking decided, credit not yet seen
        self._marks: list[tuple[int, int]] = []  # (write-ahead mark id, fen) of notes told to stack
        self._intake_stopped = False  # the journal failed: every further note goes back
        self._guard = guard
        self._stop_listening: Callable[[], None] = lambda: None  # until start() subscribes
        self._progress = CashPayment(amount_due_fen, cap_fen, transaction_no)

    @property
    def progress(self) -> CashPayment:
        with self._lock:
            return self._progress

    # -- life cycle (GUI side; finish() blocks: call it from a worker) ------------
    def start(self) -> CashPayment:
        self._journal.start_cash_in(self._progress.transaction_no)
        self._stop_listening = self._acceptor.subscribe_events(self._on_event)
        self._acceptor.set_decider(self.decide)
        self._acceptor.enable(self._accepted)
        log.info("cash-in started", extra={"txn": self._progress.transaction_no, "cap_fen": self._progress.cap_fen})
        return self.progress

    def finish(self, settle_timeout_s: float = SETTLE_TIMEOUT_S) -> CashInResult:
        """Stop intake, wait until no note is left inside, commit what was stacked."""
        with self._lock:
            self._closing = True  # a note reaching escrow from now on is returned
        self._acceptor.inhibit()
        deadline = time.monotonic() + settle_timeout_s
        while not self._acceptor.settled and time.monotonic() < deadline:
            time.sleep(_SETTLE_POLL_S)
        settled = self._acceptor.settled
        self._acceptor.set_decider(None)
        self._stop_listening()
        progress = self.progress
        txn = progress.transaction_no
        if not settled:
            log.error("acceptor did not settle; committing what the journal holds",
                      extra={"txn": txn, "status": self._acceptor.status.reason})
        commit_failed = False
        try:
            if progress.notes_fen:
                self._journal.commit(txn, paid_at=self._clock())
            else:
                self._journal.cancel(txn)
        except Exception:  # noqa: BLE001 - the notes are on disk; recovery commits them at the next start
            log.critical("payment could not be committed; recovery will finish it", exc_info=True,
                         extra={"txn": txn, "paid_fen": progress.paid_fen})
            commit_failed = True
        log.info("cash-in finished", extra={"txn": txn, "paid_fen": progress.paid_fen,
                                            "notes": len(progress.notes_fen), "settled": settled})
        return CashInResult(txn, progress.paid_fen, bool(progress.notes_fen), not settled,
                            commit_failed=commit_failed)

    # -- the acceptor's side (driver thread) ----------------------------------------------
    def decide(self, denomination_fen: int) -> bool:
        """Stack this note?  Only an accepted note that keeps the total within the cap,
        and only once the journal holds a write-ahead mark of it (value and payment):
        a note is never stacked unless the journal can record it."""
        with self._lock:
            if self._closing:
                return False
            if self._intake_stopped:
                reason = "cash.journal_unavailable"
            elif denomination_fen not in self._accepted:
                reason = "cash.note_not_accepted"
            elif self._progress.paid_fen + self._reserved_fen + denomination_fen > self._progress.cap_fen:
                reason = "cash.note_over_cap"
            else:
                reason = ""
                self._reserved_fen += denomination_fen
        if not reason:
            reason = self._mark(denomination_fen)  # I/O: outside the lock the screen reads under
        with self._lock:
            if reason:
                if reason == "cash.journal_unavailable" and not self._intake_stopped:
                    self._intake_stopped = True
                    self._reserved_fen = max(0, self._reserved_fen - denomination_fen)
                self._progress = replace(self._progress, returned_reason=reason,
                                         journal_failed=self._progress.journal_failed or self._intake_stopped)
            else:
                self._progress = replace(self._progress, note_in_escrow=True, returned_reason="")
            progress = self._progress
        self._on_change(progress)
        if reason == "cash.journal_unavailable":
            self._acceptor.inhibit()  # no more notes until this payment is finished
        return not reason

    def _mark(self, denomination_fen: int) -> str:
        """The write-ahead mark; "" when written, else why the note goes back."""
        txn = self._progress.transaction_no
        problem: object = self._guard() if self._guard is not None else ""
        if not problem:
            try:
                mark_id = self._journal.mark_escrow(txn, denomination_fen)
            except Exception as error:  # noqa: BLE001 - disk full, read-only, anything: the note goes back
                problem = error
            else:
                with self._lock:
                    self._marks.append((mark_id, denomination_fen))
                return ""
        log.critical("journal cannot take a note: returning it and stopping intake",
                     extra={"txn": txn, "denomination_fen": denomination_fen, "problem": str(problem)})
        return "cash.journal_unavailable"

    def _take_mark(self, denomination_fen: int | None) -> int | None:
        """The oldest open mark of this value (ID-003 has one escrow position, so at most one)."""
        with self._lock:
            for index, (mark_id, fen) in enumerate(self._marks):
                if denomination_fen is None or fen == denomination_fen:
                    del self._marks[index]
                    return mark_id
        return None

    def _on_event(self, event) -> None:
        if isinstance(event, NoteCredited):
            self._credit(event)
        elif isinstance(event, NoteReturned | NoteRejected):
            if isinstance(event, NoteReturned):
                self._close_mark(event.denomination_fen, "returned")
            with self._lock:
                if isinstance(event, NoteReturned) and event.denomination_fen is not None:
                    self._reserved_fen = max(0, self._reserved_fen - event.denomination_fen)
                reason = self._progress.returned_reason or "cash.note_rejected"
                self._progress = replace(self._progress, note_in_escrow=False, returned_reason=reason)
                progress = self._progress
            self._on_change(progress)
        elif isinstance(event, NoteUnaccounted):
            # The driver could not tell whether a note went into the box; the
            # payment stack journals it (for the collection count): here only
            # the escrow mark of this payment is closed.
            self._close_mark(event.denomination_fen, "unaccounted")

    def _close_mark(self, denomination_fen: int | None, outcome: str) -> None:
        mark_id = self._take_mark(denomination_fen)
        if mark_id is None:
            return
        try:
            self._journal.close_escrow_mark(mark_id, outcome)
        except Exception:  # noqa: BLE001 - an open mark only becomes a doubt at the next start
            log.exception("escrow mark could not be closed", extra={"mark": mark_id, "outcome": outcome})

    def _credit(self, event: NoteCredited) -> None:
        txn = self._progress.transaction_no
        ref = f"{self._ref_prefix}/{event.sequence}"
        mark_id = self._take_mark(event.denomination_fen)
        try:
            # On disk before the driver acknowledges VEND VALID (it waits for us).
            self._journal.record_note(txn, event.denomination_fen, ref, mark_id=mark_id)
        except NoteOutsideCashIn:
            # The payment had already left cash-in: the journal kept the note as
            # "in the box, not in a payment" for the counter; it is not this payment's.
            log.error("note credited after the cash-in ended; journaled for the counter",
                      extra={"txn": txn, "denomination_fen": event.denomination_fen, "ref": ref})
            return
        except Exception:  # noqa: BLE001 - the note is in the box: never lose it silently
            log.critical("note stacked but not journaled", exc_info=True,
                         extra={"txn": txn, "denomination_fen": event.denomination_fen, "ref": ref})
            with self._lock:
                self._progress = replace(self._progress, journal_failed=True)
                progress = self._progress
            self._on_change(progress)
            return
        with self._lock:
            self._reserved_fen = max(0, self._reserved_fen - event.denomination_fen)
            self._progress = replace(self._progress, paid_fen=self._progress.paid_fen + event.denomination_fen,
                                     notes_fen=self._progress.notes_fen + (event.denomination_fen,),
                                     note_in_escrow=False, returned_reason="")
            progress = self._progress
        self._on_change(progress)
