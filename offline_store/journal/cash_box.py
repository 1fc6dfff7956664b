"""The cash box: what it should hold since the last collection, and collections."""

from __future__ import annotations

import json
import sqlite3

from offline_store.journal.records import CashBox, Collection
from offline_store.journal.states import IN_BOX


class CashBoxBook:
    """The cash box: what it should hold since the last collection, and collections. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def cash_box(self, since_collection: bool = True) -> CashBox:
        """Notes the cash box should hold: in payments, plus unassigned notes surely in it."""
        with self._lock:
            conn = self._db.conn
            note_mark, unassigned_mark, since = self._collection_marks(conn) if since_collection else (0, 0, None)
            credited = conn.execute("SELECT denomination_fen, COUNT(*) FROM notes WHERE id > ? "
                                    "GROUP BY denomination_fen ORDER BY denomination_fen", [note_mark]).fetchall()
            in_box = conn.execute(
                f"SELECT denomination_fen, COUNT(*) FROM unassigned_notes WHERE id > ? AND kind = '{IN_BOX}' "
                "AND denomination_fen IS NOT NULL GROUP BY denomination_fen ORDER BY denomination_fen",
                [unassigned_mark]).fetchall()
            doubts = [r[0] for r in conn.execute(
                f"SELECT id FROM unassigned_notes WHERE id > ? AND (kind != '{IN_BOX}' OR denomination_fen IS NULL) "
                "ORDER BY id", [unassigned_mark])]
            to_check = tuple(self._unassigned(conn, i) for i in doubts)
        return CashBox(since, tuple(map(tuple, credited)), tuple(map(tuple, in_box)), to_check)

    def record_collection(self, by: str) -> Collection:
        """The box was emptied: the counters start again from zero after this."""
        if not by.strip():
            raise ValueError("a collection needs the collector's name or id")
        with self._lock:
            box = self.cash_box()
            with self._write() as conn:
                last_note = conn.execute("SELECT COALESCE(MAX(id), 0) FROM notes").fetchone()[0]
                last_unassigned = conn.execute("SELECT COALESCE(MAX(id), 0) FROM unassigned_notes").fetchone()[0]
                now = self._clock()
                cursor = conn.execute(
                    "INSERT INTO collections (collected_at, by, last_note_id, last_unassigned_id, counts_json, "
                    "total_fen) VALUES (?, ?, ?, ?, ?, ?)",
                    [now, by, last_note, last_unassigned, json.dumps(box.counts), box.total_fen])
        return Collection(cursor.lastrowid, now, by, box.counts, box.total_fen)

    def last_collection(self) -> Collection | None:
        with self._lock:
            row = self._db.conn.execute("SELECT id, collected_at, by, counts_json, total_fen FROM collections "
                                        "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        counts = {int(d): c for d, c in json.loads(row[3]).items()}
        return Collection(row[0], row[1], row[2], counts, row[4])

    @staticmethod
    def _collection_marks(conn: sqlite3.Connection) -> tuple[int, int, float | None]:
        row = conn.execute("SELECT last_note_id, last_unassigned_id, collected_at FROM collections "
                           "ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1], row[2]) if row else (0, 0, None)
