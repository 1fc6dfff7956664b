"""The cash box: what it should hold since the last collection, test notes, and collections (清机).

A collection closes a period of the box: its row keeps the ids of the last
note and the last unassigned note it covered (the marks), so the next period
starts after them, and what is in a past period can be read again from the
rows between two marks (the journal never deletes a note).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from offline_store.journal.errors import DuplicateAcceptorRef, JournalError
from offline_store.journal.records import CashBox, Collection, UnassignedNote
from offline_store.journal.schema import collection_number
from offline_store.journal.states import IN_BOX, TEST_NOTE
from offline_store.journal.values import check_fen

NO_LIMIT = 2**63 - 1  # SQLite's largest rowid: "up to now"
_COLLECTION_COLUMNS = ("id, number, collected_at, by, since, counts_json, counted_json, note, last_note_id, "
                       "last_unassigned_id")


class UnknownCollection(LookupError):
    """No collection of this number in the journal."""


class BoxChanged(JournalError):
    """What the journal expects changed since the collector was shown it (a note was
    journaled meanwhile): nothing is recorded; ``expected`` is what it expects now."""

    def __init__(self, shown: dict[int, int], expected: dict[int, int]) -> None:
        self.shown = shown
        self.expected = expected
        super().__init__(f"the journal now expects {expected} notes (fen: count), not the {shown} shown: "
                         "check the count against the new figures and record again")


@dataclass(frozen=True)
class _Marks:
    """Where a period of the box ends: the last note and unassigned-note ids it covers."""

    note_id: int
    unassigned_id: int


class CashBoxBook:
    """The cash box and its collections (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def cash_box(self, since_collection: bool = True) -> CashBox:
        """Notes the cash box should hold: in payments, plus unassigned and test notes surely in it."""
        with self._lock:
            conn = self._db.conn
            note_mark, unassigned_mark, since = self._collection_marks(conn) if since_collection else (0, 0, None)
            return self._box(conn, _Marks(note_mark, unassigned_mark), _Marks(NO_LIMIT, NO_LIMIT), since)

    def record_test_note(self, denomination_fen: int, acceptor_ref: str, by: str) -> UnassignedNote:
        """A note a technician fed during a device test: it is in the box and in no payment.

        Committed before it returns.  A reference already journaled as an
        unassigned note returns that first row (a repeated event is never a
        second note); one already credited to a payment is refused.
        """
        check_fen("denomination_fen", denomination_fen, minimum=1)
        if not acceptor_ref:
            raise ValueError("a test note needs its acceptor reference (driver instance and note sequence)")
        if not by.strip():
            raise ValueError("a test note needs the name of the technician who fed it")
        with self._write() as conn:
            seen = conn.execute("SELECT id FROM unassigned_notes WHERE acceptor_ref = ?", [acceptor_ref]).fetchone()
            if seen:
                return self._unassigned(conn, seen[0])
            credited = conn.execute("SELECT transaction_no FROM notes WHERE acceptor_ref = ?",
                                    [acceptor_ref]).fetchone()
            if credited:
                raise DuplicateAcceptorRef(f"acceptor reference {acceptor_ref!r} was credited to payment "
                                           f"{credited[0]}: it cannot be a test note as well")
            note_id = self._insert_unassigned(conn, denomination_fen, None, acceptor_ref, TEST_NOTE,
                                              f"fed by {by.strip()} during a device test")
            return self._unassigned(conn, note_id)

    def record_collection(self, by: str, counted: dict[int, int] | None = None, note: str = "", *,
                          expected: dict[int, int] | None = None) -> Collection:
        """The box was emptied and counted: one transaction records the counts, the
        difference and the note, and starts the box's counters again from zero.

        ``counted`` is notes per denomination (fen); it must give a figure for
        every denomination the journal expects (0 when there were none).
        Without it the count is taken to be what the journal expects.
        ``expected``: what the collector was shown; when the journal now
        expects something else, :class:`BoxChanged` and nothing is recorded.
        """
        if not by.strip():
            raise ValueError("a collection needs the collector's name or id")
        shown = None if expected is None else {d: c for d, c in sorted(expected.items()) if c}
        with self._write() as conn:  # the box is read inside the write: no note slips in between
            note_mark, unassigned_mark, since = self._collection_marks(conn)
            box = self._box(conn, _Marks(note_mark, unassigned_mark), _Marks(NO_LIMIT, NO_LIMIT), since)
            expected = box.counts
            if shown is not None and shown != expected:
                raise BoxChanged(shown, expected)
            figures = expected if counted is None else checked_counts(counted, expected)
            row_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM collections").fetchone()[0]
            now = self._clock()
            difference = sum(d * c for d, c in figures.items()) - box.total_fen
            conn.execute(
                "INSERT INTO collections (id, number, collected_at, since, by, last_note_id, last_unassigned_id, "
                "counts_json, total_fen, counted_json, difference_fen, note) "
                "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(id), 0) FROM notes), "
                "(SELECT COALESCE(MAX(id), 0) FROM unassigned_notes), ?, ?, ?, ?, ?)",
                [row_id, collection_number(row_id, now), now, since, by.strip(), json.dumps(expected),
                 box.total_fen, json.dumps(figures), difference, note.strip()])
            return self._collection(conn, row_id)

    def collections(self, limit: int = 20) -> list[Collection]:
        """Past collections, newest first."""
        with self._lock:
            conn = self._db.conn
            ids = [r[0] for r in conn.execute("SELECT id FROM collections ORDER BY id DESC LIMIT ?", [int(limit)])]
            return [self._collection(conn, i) for i in ids]

    def collection(self, number: str) -> Collection:
        with self._lock:
            conn = self._db.conn
            row = conn.execute("SELECT id FROM collections WHERE number = ?", [number]).fetchone()
            if row is None:
                raise UnknownCollection(f"the journal {self.path} holds no collection {number!r}")
            return self._collection(conn, row[0])

    def last_collection(self) -> Collection | None:
        found = self.collections(limit=1)
        return found[0] if found else None

    def _collection(self, conn: sqlite3.Connection, row_id: int) -> Collection:
        (row_id, number, collected_at, by, since, expected, counted, note, last_note,
         last_unassigned) = conn.execute(f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE id = ?",
                                         [row_id]).fetchone()
        before = conn.execute("SELECT last_note_id, last_unassigned_id FROM collections WHERE id < ? "
                              "ORDER BY id DESC LIMIT 1", [row_id]).fetchone() or (0, 0)
        period = self._box(conn, _Marks(*before), _Marks(last_note, last_unassigned), since)
        return Collection(row_id, number, collected_at, by, since, _counts(expected), _counts(counted), note or "",
                          period.test_notes, period.unassigned, period.to_check)

    def _box(self, conn: sqlite3.Connection, after: _Marks, upto: _Marks, since: float | None) -> CashBox:
        """The notes journaled after ``after`` and up to ``upto``."""
        notes = [after.note_id, upto.note_id]
        unassigned = [after.unassigned_id, upto.unassigned_id]
        credited = conn.execute("SELECT denomination_fen, COUNT(*) FROM notes WHERE id > ? AND id <= ? "
                                "GROUP BY denomination_fen ORDER BY denomination_fen", notes).fetchall()

        def in_box(kind: str) -> list[tuple[int, int]]:
            return conn.execute(
                "SELECT denomination_fen, COUNT(*) FROM unassigned_notes WHERE id > ? AND id <= ? AND kind = ? "
                "AND denomination_fen IS NOT NULL GROUP BY denomination_fen ORDER BY denomination_fen",
                [*unassigned, kind]).fetchall()

        doubts = [r[0] for r in conn.execute(
            "SELECT id FROM unassigned_notes WHERE id > ? AND id <= ? "
            f"AND (kind NOT IN ('{IN_BOX}', '{TEST_NOTE}') OR denomination_fen IS NULL) ORDER BY id", unassigned)]
        return CashBox(since, _pairs(credited), _pairs(in_box(IN_BOX)),
                       tuple(self._unassigned(conn, i) for i in doubts), _pairs(in_box(TEST_NOTE)))

    @staticmethod
    def _collection_marks(conn: sqlite3.Connection) -> tuple[int, int, float | None]:
        row = conn.execute("SELECT last_note_id, last_unassigned_id, collected_at FROM collections "
                           "ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1], row[2]) if row else (0, 0, None)


def checked_counts(counted: dict[int, int], expected: dict[int, int]) -> dict[int, int]:
    """The counted figures, or ValueError naming the denomination that is wrong and why."""
    if not isinstance(counted, dict):
        raise ValueError(f"counted must be a dict of denomination (fen) to notes, got {type(counted).__name__}")
    figures: dict[int, int] = {}
    for denomination, count in counted.items():
        check_fen("a counted denomination", denomination, minimum=1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"the count of {denomination}-fen notes must be a whole number of notes, 0 or more; "
                             f"got {count!r}")
        if count or denomination in expected:  # a zero nobody expected says nothing
            figures[denomination] = count
    missing = [d for d in expected if d not in figures]
    if missing:
        raise ValueError(f"no count for the {', '.join(f'{d}-fen' for d in missing)} notes the journal expects "
                         f"({', '.join(str(expected[d]) for d in missing)}): count them, 0 if the box had none")
    return dict(sorted(figures.items()))


def _counts(text: str) -> dict[int, int]:
    return {int(d): c for d, c in json.loads(text).items()}


def _pairs(rows: list) -> tuple[tuple[int, int], ...]:
    return tuple((int(d), int(c)) for d, c in rows)
