"""The cash collection form (清机): expected against counted, the difference, the note, the slip.

Qt-free: the collection page renders :meth:`CashCollection.view` and forwards
the collector's taps here.  :meth:`CashCollection.load`,
:meth:`~CashCollection.record` and :meth:`~CashCollection.reprint` block on
the journal or the printer: the application runs them on a worker thread.

MISSION rule 6 ("every banknote taken in is accounted for, and counted when
the box is collected") as a form:

* the journal's figures per denomination since the last collection —
  payments, notes in no payment, test notes — and the doubts the count settles;
* a count typed for every denomination (0 included: nothing is assumed),
  digits only, at most ``[maintenance] cash_box_notes`` per denomination and
  in all (a figure above what a box holds is a typing slip);
* the difference per denomination and in all; a note saying why when any
  differs and ``[maintenance] collection_difference_note`` asks for one;
* one journal transaction records it all and restarts the counters
  (:meth:`MoneyJournal.record_collection`), *then* the slip prints — a printer
  out of paper leaves the collection recorded and the slip to print again.

Nothing typed is lost to a refusal: a bad figure or a failed write leaves
every count and the note as they were, with a message saying which value is
wrong and what to do.  Every record and print is audited
(:meth:`kiosk.maintenance_audit.Audit.record`, action ``collection``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Callable

from drivers.escpos.link import PrintOutcome, PrintResult
from drivers.escpos.realtime import Reason
from kiosk.cash_collection_view import (
    CollectionView,
    CountRow,
    DoubtLine,
    Editing,
    Message,
    PhraseChip,
    SlipState,
    Stage,
    message,
)
from kiosk.collection_slip import DOUBT_KINDS, CollectionSlipData, collection_slip, note_name, signed_yuan
from kiosk.config_types import KioskConfig
from kiosk.i18n import Translator, yuan
from offline_store.journal import BoxChanged, Collection, UnassignedNote

log = logging.getLogger("kiosk.maintenance")
_EN = Translator("en")
AUDIT_ACTION = "collection"
NOTE_MAX = 120  # the text pad's length: a note is a reason, not a report
PRINT_WAIT_S = 60.0
# Preset reasons for a difference, offered as chips; the note stores the key's last part and its English.
PHRASES = (
    "maint.collection.phrase.doubt_found",
    "maint.collection.phrase.doubt_absent",
    "maint.collection.phrase.jammed_note",
    "maint.collection.phrase.foreign_note",
    "maint.collection.phrase.recounted",
    "maint.collection.phrase.supervisor_told",
)
# The printer's reason codes as the collector reads them.
PRINTER_REASONS = {
    Reason.PAPER_OUT: "maint.collection.printer.paper_out",
    Reason.COVER_OPEN: "maint.collection.printer.cover_open",
    Reason.CUTTER_ERROR: "maint.collection.printer.jammed",
    Reason.OFFLINE_ERROR: "maint.collection.printer.offline",
    Reason.PRINTER_OFFLINE: "maint.collection.printer.offline",
    Reason.UNREACHABLE: "maint.collection.printer.offline",
    Reason.CONNECTION_LOST: "maint.collection.printer.offline",
    "NO_PRINTER": "maint.collection.printer.none",
}


class CashCollection:
    """One collector's collection form; ``journal`` None means it is not open (``problem`` says why)."""

    def __init__(self, journal, *, config: KioskConfig, audit, user: str, printer=None,
                 problem: tuple[str, str] | None = None, clock: Callable[[], float] = time.time,
                 print_wait_s: float = PRINT_WAIT_S) -> None:
        self._journal = journal
        self._config = config
        self._audit = audit
        self._user = user
        self._printer = printer
        self._problem = problem
        self._clock = clock
        self._print_wait_s = print_wait_s
        self._limit = config.maintenance.cash_box_notes
        self.wipe()

    # -- reading the journal (blocking) -------------------------------------------
    def load(self) -> CollectionView:
        """The journal's figures since the last collection; typed counts of the same rows are kept."""
        if self._journal is None:
            code, reason = self._problem or ("JOURNAL_NOT_OPEN", "the money journal is not open yet")
            return self._refuse(message("maint.collection.msg.journal_closed", "error", code=code, reason=reason))
        try:
            box, last = self._journal.cash_box(), self._journal.last_collection()
        except Exception as error:  # noqa: BLE001 - a journal that cannot be read refuses the collection
            log.exception("cash box could not be read")
            return self._refuse(message("maint.collection.msg.journal_closed", "error", code="JOURNAL_ERROR",
                                        reason=f"{type(error).__name__}: {error}"))
        if self._stage is Stage.RECORDED:  # a new period: the last count is in the journal
            self.wipe()
        self._box, self._stage = box, Stage.COUNTING
        self._last_number = last.number if last else ""
        denominations = set(self._config.payment.accepted_fen) | set(box.counts) | {
            d.denomination_fen for d in box.to_check if d.denomination_fen}
        self._typed = {d: self._typed.get(d, "") for d in sorted(denominations, reverse=True)}
        if self._selected not in self._typed:  # the keypad types into the first row until another is tapped
            self._selected, self._editing = next(iter(self._typed)), Editing.COUNT
        return self.view()

    def _refuse(self, why: Message) -> CollectionView:
        self._stage, self._notice = Stage.REFUSED, why
        return self.view()

    # -- counting -----------------------------------------------------------------
    def choose_row(self, denomination_fen: int) -> CollectionView:
        if self._stage is Stage.COUNTING and denomination_fen in self._typed:
            self._selected, self._editing, self._notice = denomination_fen, Editing.COUNT, None
        return self.view()

    def type_digit(self, digit: str) -> CollectionView:
        if self._stage is not Stage.COUNTING:
            return self.view()
        if self._selected is None:
            return self._tell(message("maint.collection.msg.choose_row", "warning"))
        return self.set_count(self._selected, self._typed[self._selected] + digit)

    def backspace(self) -> CollectionView:
        if self._selected is not None:
            self._typed[self._selected] = self._typed[self._selected][:-1]
            self._notice = None
        return self.view()

    def clear_count(self) -> CollectionView:
        if self._selected is not None:
            self._typed[self._selected], self._notice = "", None
        return self.view()

    def set_count(self, denomination_fen: int, text: str) -> CollectionView:
        """The count typed for one denomination; a text that is not a count is refused and the
        figure before it kept."""
        if self._stage is not Stage.COUNTING:
            return self.view()
        if denomination_fen not in self._typed:
            return self._tell(message("maint.collection.msg.no_such_row", "error", note=note_name(denomination_fen)))
        if text and not (text.isascii() and text.isdigit()):
            return self._tell(message("maint.collection.msg.not_digits", "error", note=note_name(denomination_fen),
                                      typed=text))
        if len(text.lstrip("0")) > len(str(self._limit)):  # already far above a box: keep what was there
            return self._tell(message("maint.collection.msg.over_box", "error", note=note_name(denomination_fen),
                                      count=text, limit=self._limit))
        self._typed[denomination_fen] = str(int(text)) if text else ""
        self._notice = None
        return self.view()

    # -- the note -----------------------------------------------------------------
    def edit_note(self) -> CollectionView:
        if self._stage is Stage.COUNTING:
            self._editing, self._selected, self._notice = Editing.NOTE, None, None
        return self.view()

    def toggle_phrase(self, key: str) -> CollectionView:
        if key in PHRASES and self._stage is Stage.COUNTING:
            self._phrases = self._phrases ^ {key}
            self._notice = None
        return self.view()

    def set_note_text(self, text: str) -> CollectionView:
        if self._stage is Stage.COUNTING:  # kept as typed (a space before the next word); tidied when stored
            self._note_text = text[:NOTE_MAX]
            self._notice = None
        return self.view()

    def composed_note(self) -> str:
        """What the journal stores: each chosen phrase's stable key and English words, then the text."""
        parts = [f"[{key.rsplit('.', 1)[1]}] {_EN(key)}" for key in PHRASES if key in self._phrases]
        typed = " ".join(self._note_text.split())
        return "; ".join(parts + ([typed] if typed else []))

    # -- recording and the slip (blocking) ----------------------------------------
    def record(self) -> CollectionView:
        """Journal the collection in one transaction, then print its slip."""
        if self._stage is not Stage.COUNTING:
            return self.view()
        refusal = self._refusal()
        if refusal is not None:
            self._record_audit("record refused: " + refusal.text(_EN), "refused")
            return self._tell(refusal)
        counted = {d: int(t) for d, t in self._typed.items()}
        try:
            collection = self._journal.record_collection(self._user, counted, self.composed_note(),
                                                         expected=self._box.counts)
        except BoxChanged:
            self._record_audit("record refused: the journal's figures changed while counting", "refused")
            self.load()
            return self._tell(message("maint.collection.msg.box_changed", "warning"))
        except Exception as error:  # noqa: BLE001 - nothing recorded: the figures stay for another try
            log.exception("collection not recorded")
            self._record_audit(f"record failed: {type(error).__name__}: {error}", "failed")
            return self._tell(message("maint.collection.msg.record_failed", "error", reason=str(error)))
        self._collection, self._stage = collection, Stage.RECORDED
        self._editing, self._selected = Editing.NOTHING, None
        self._record_audit(_summary(collection), "ok")
        self._notice = message("maint.collection.msg.recorded", "ok", number=collection.number)
        self._print(collection, reprint=False)
        return self.view()

    def reprint(self, number: str | None = None) -> CollectionView:
        """The slip of ``number`` (default: the collection just recorded, else the last one) again."""
        number = number or (self._collection.number if self._collection else self._last_number)
        if self._journal is None or not number:
            return self._tell(message("maint.collection.msg.nothing_to_print", "warning"))
        try:
            collection = self._journal.collection(number)
        except Exception as error:  # noqa: BLE001 - unknown number or unreadable journal: said, not raised
            self._record_audit(f"reprint slip {number} failed: {error}", "failed")
            return self._tell(message("maint.collection.msg.reprint_failed", "error", number=number,
                                      reason=str(error)))
        self._print(collection, reprint=True)
        return self.view()

    def _print(self, collection: Collection, *, reprint: bool) -> None:
        data = CollectionSlipData.for_terminal(self._config.terminal, collection,
                                               datetime.fromtimestamp(self._clock()), reprint=reprint)
        result = self._send(collection_slip(data))
        what = f"{'reprint' if reprint else 'print'} slip {collection.number}"
        if result.ok:
            self._slip, self._slip_message = SlipState.PRINTED, message("maint.collection.msg.slip_printed", "ok",
                                                                        number=collection.number)
            self._record_audit(what, "printed")
        else:
            reason = message(PRINTER_REASONS.get(result.reason, "maint.collection.printer.other"),
                             detail=result.detail or result.reason)
            self._slip = SlipState.NOT_PRINTED
            self._slip_message = message("maint.collection.msg.slip_not_printed", "warning",
                                         number=collection.number, reason=reason)
            self._record_audit(what, f"not printed: {result.reason} {result.detail}".strip())
        if self._stage is not Stage.RECORDED:  # a past collection's slip: said where the counting page speaks
            self._notice = self._slip_message

    def _send(self, slip) -> PrintResult:
        if self._printer is None:
            return PrintResult(PrintOutcome.REFUSED, "NO_PRINTER", "no printer is fitted to this terminal")
        try:
            return self._printer.print_slip(slip).result(timeout=self._print_wait_s)
        except Exception as error:  # noqa: BLE001 - a slip never undoes a recorded collection
            log.exception("collection slip not printed")
            return PrintResult(PrintOutcome.FAILED, "PRINT_TIMEOUT", f"{type(error).__name__}: {error}")

    def _record_audit(self, what: str, result: str) -> None:
        try:
            self._audit.record(self._user, AUDIT_ACTION, what, result)
        except Exception:  # noqa: BLE001 - the journal holds the money; a lost audit row is logged loudly
            log.critical("audit row not written", extra={"what": what, "result": result}, exc_info=True)

    # -- what the page shows --------------------------------------------------------
    def wipe(self) -> None:
        """Forget everything typed and shown (logout); the journal keeps what was recorded."""
        self._stage, self._box, self._collection = Stage.UNLOADED, None, None
        self._typed: dict[int, str] = {}
        self._selected: int | None = None
        self._editing = Editing.NOTHING
        self._phrases: frozenset[str] = frozenset()
        self._note_text = ""
        self._notice: Message | None = None
        self._slip, self._slip_message = SlipState.NONE, None
        self._last_number = ""

    def _tell(self, notice: Message) -> CollectionView:
        self._notice = notice
        return self.view()

    def view(self) -> CollectionView:
        if self._stage is Stage.RECORDED:
            return self._recorded_view()
        if self._stage is not Stage.COUNTING:
            return CollectionView(self._stage, self._user, "", message=self._notice, limit=self._limit)
        rows, box = self._rows(), self._box
        counted = all(r.typed for r in rows)
        counted_fen = sum(r.counted * r.denomination_fen for r in rows) if counted else None
        problem = self._refusal()
        return CollectionView(
            Stage.COUNTING, self._user, _since(box.since), rows,
            expected_count=box.note_count, expected_fen=box.total_fen,
            counted_count=sum(r.counted for r in rows) if counted else None, counted_fen=counted_fen,
            difference_fen=None if counted_fen is None else counted_fen - box.total_fen,
            doubts=tuple(_doubt_line(d) for d in box.to_check), test_notes=box.test_notes,
            unassigned=box.unassigned, editing=self._editing, selected=self._selected,
            note_required=self._note_required(rows),
            phrases=tuple(PhraseChip(k, k in self._phrases) for k in PHRASES), note_text=self._note_text,
            note=self.composed_note(), can_record=problem is None, message=self._notice or _guidance(problem),
            slip=self._slip, slip_message=self._slip_message, last_number=self._last_number, limit=self._limit)

    def _rows(self) -> tuple[CountRow, ...]:
        expected = self._box.counts
        rows = []
        for denomination, typed in self._typed.items():
            want = expected.get(denomination, 0)
            difference = int(typed) - want if typed else None
            rows.append(CountRow(denomination, note_name(denomination), want, want * denomination, typed, difference,
                                 None if difference is None else difference * denomination,
                                 denomination == self._selected, bool(typed) and int(typed) > self._limit))
        return tuple(rows)

    def _note_required(self, rows: tuple[CountRow, ...]) -> bool:
        differs = any(r.difference_count for r in rows)
        return differs and self._config.maintenance.collection_difference_note

    def _refusal(self) -> Message | None:
        """Why the collection cannot be recorded yet, naming the value; None when it can."""
        rows = self._rows()
        for row in rows:
            if row.too_many:
                return message("maint.collection.msg.over_box", "error", note=row.note, count=row.typed,
                               limit=self._limit)
        missing = [r.note for r in rows if not r.typed]
        if missing:
            return message("maint.collection.msg.not_counted", "error", notes=", ".join(missing))
        total = sum(r.counted for r in rows)
        if total > self._limit:
            return message("maint.collection.msg.over_total", "error", count=total, limit=self._limit)
        if self._note_required(rows) and not self.composed_note():
            difference = sum(r.difference_fen for r in rows)
            return message("maint.collection.msg.note_required", "error", difference=signed_yuan(difference))
        return None

    def _recorded_view(self) -> CollectionView:
        c = self._collection
        rows = tuple(CountRow(d, note_name(d), c.expected.get(d, 0), c.expected.get(d, 0) * d,
                              str(c.counted.get(d, 0)), diff, diff * d, False, False)
                     for d, diff in sorted(c.differences.items(), reverse=True))
        return CollectionView(
            Stage.RECORDED, self._user, _since(c.since), rows, expected_count=sum(c.expected.values()),
            expected_fen=c.expected_fen, counted_count=sum(c.counted.values()), counted_fen=c.counted_fen,
            difference_fen=c.difference_fen, doubts=tuple(_doubt_line(d) for d in c.doubts),
            test_notes=c.test_notes, unassigned=c.unassigned, note=c.note, message=self._notice, number=c.number,
            slip=self._slip, slip_message=self._slip_message, last_number=c.number, limit=self._limit)


def _guidance(problem: Message | None) -> Message:
    """What to do next: a figure above what a box holds shows at once, the rest as steps."""
    if problem is None:
        return message("maint.collection.msg.ready", "ok")
    if problem.key == "maint.collection.msg.not_counted":
        return message("maint.collection.msg.count_each")
    if problem.key == "maint.collection.msg.note_required":
        return message("maint.collection.msg.write_note", "warning")
    return problem


def _since(moment: float | None) -> str:
    return "" if moment is None else f"{datetime.fromtimestamp(moment):%Y-%m-%d %H:%M}"


def _doubt_line(doubt: UnassignedNote) -> DoubtLine:
    kind = DOUBT_KINDS.get(doubt.kind)
    return DoubtLine(f"{datetime.fromtimestamp(doubt.recorded_at):%m-%d %H:%M}",
                     note_name(doubt.denomination_fen) if doubt.denomination_fen else "",
                     doubt.transaction_no or "",
                     message(kind) if kind else message("maint.collection.kind.other", kind=str(doubt.kind)))


def _summary(collection: Collection) -> str:
    """The audit's words for a recorded collection (no customer data is in one)."""
    return (f"record {collection.number}: expected {yuan(collection.expected_fen)} "
            f"({sum(collection.expected.values())} notes), counted {yuan(collection.counted_fen)} "
            f"({sum(collection.counted.values())} notes), difference {signed_yuan(collection.difference_fen)}"
            + (f", note: {collection.note}" if collection.note else ""))

