"""Reading payments, notes and personal data back."""

from __future__ import annotations

import sqlite3

from offline_store.journal.errors import PersonalDataPurged, UnknownPayment
from offline_store.journal.records import (
    _PAYMENT_COLUMNS,
    Note,
    Payment,
    PersonalData,
    UnassignedNote,
    _payment,
)
from offline_store.journal.states import (
    PII_TABLE,
    REFERRED,
    UNFINISHED,
    UnassignedKind,
    sql_list,
)


class Reading:
    """Reading payments, notes and personal data back. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def get(self, txn: str) -> Payment:
        with self._lock:
            conn = self._db.conn
            row = conn.execute(f"SELECT {_PAYMENT_COLUMNS} FROM payments p LEFT JOIN outbox o "
                               "ON o.transaction_no = p.transaction_no WHERE p.transaction_no = ?", [txn]).fetchone()
            if row is None:
                raise UnknownPayment(txn)
            return _payment(row, self._note_counts(conn, txn))

    def unfinished(self) -> list[Payment]:
        """Payments in opened or cash_in, oldest first: what a crash left open."""
        return self._payments(f"p.state IN {sql_list(UNFINISHED)}", order="p.opened_at, p.rowid")

    def outbox(self, limit: int | None = None) -> list[Payment]:
        """Payments waiting to be posted (committed or pending), oldest first."""
        return self._payments("o.id IS NOT NULL", order="o.id", limit=limit)

    def referred(self) -> list[Payment]:
        """Payments the billing system refused, for the staffed counter."""
        return self._payments(f"p.state = '{REFERRED}'", order="p.finished_at, p.rowid")

    def payments_between(self, start: float, end: float) -> list[Payment]:
        """Payments opened in [start, end), oldest first (the day's list of the cash report)."""
        return self._payments("p.opened_at >= ? AND p.opened_at < ?", [start, end], order="p.opened_at, p.rowid")

    def _payments(self, where: str, params: list | None = None, *, order: str,
                  limit: int | None = None) -> list[Payment]:
        sql = (f"SELECT {_PAYMENT_COLUMNS} FROM payments p LEFT JOIN outbox o "
               f"ON o.transaction_no = p.transaction_no WHERE {where} ORDER BY {order}"
               + (f" LIMIT {int(limit)}" if limit is not None else ""))
        with self._lock:
            conn = self._db.conn
            return [_payment(row, self._note_counts(conn, row[0])) for row in conn.execute(sql, params or [])]

    def personal_data(self, txn: str) -> PersonalData:
        """The decrypted account number, holder and address (for the staffed counter's tools)."""
        with self._lock:
            row = self._db.conn.execute("SELECT account_no_enc, holder_enc, address_enc FROM payments "
                                        "WHERE transaction_no = ?", [txn]).fetchone()
        if row is None:
            raise UnknownPayment(txn)
        if row[0] is None:
            raise PersonalDataPurged(f"payment {txn}: personal data was purged by retention")
        open_ = lambda blob, field: self._key.decrypt(blob, table=PII_TABLE, row=txn, field=field)  # noqa: E731
        return PersonalData(open_(row[0], "account_no"), open_(row[1], "holder"), open_(row[2], "address"))

    def notes_of(self, txn: str) -> list[Note]:
        with self._lock:
            rows = self._db.conn.execute("SELECT id, transaction_no, denomination_fen, acceptor_ref, stacked_at "
                                         "FROM notes WHERE transaction_no = ? ORDER BY id", [txn]).fetchall()
        return [Note(*row) for row in rows]

    def last_note(self, txn: str | None = None) -> Note | None:
        """The last note stacked for ``txn``, or for the newest unfinished payment."""
        with self._lock:
            if txn is None:
                open_ = self._db.conn.execute(
                    f"SELECT transaction_no FROM payments WHERE state IN {sql_list(UNFINISHED)} "
                    "ORDER BY opened_at DESC, rowid DESC LIMIT 1").fetchone()
                if open_ is None:
                    return None
                txn = open_[0]
            row = self._db.conn.execute("SELECT id, transaction_no, denomination_fen, acceptor_ref, stacked_at "
                                        "FROM notes WHERE transaction_no = ? ORDER BY id DESC LIMIT 1",
                                        [txn]).fetchone()
        return Note(*row) if row else None

    def unassigned_notes(self, since_collection: bool = False) -> list[UnassignedNote]:
        with self._lock:
            conn = self._db.conn
            after = self._collection_marks(conn)[1] if since_collection else 0
            ids = [r[0] for r in conn.execute("SELECT id FROM unassigned_notes WHERE id > ? ORDER BY id", [after])]
            return [self._unassigned(conn, i) for i in ids]

    @staticmethod
    def _note_counts(conn: sqlite3.Connection, txn: str) -> tuple[tuple[int, int], ...]:
        return tuple(conn.execute("SELECT denomination_fen, COUNT(*) FROM notes WHERE transaction_no = ? "
                                  "GROUP BY denomination_fen ORDER BY denomination_fen", [txn]).fetchall())

    @staticmethod
    def _unassigned(conn: sqlite3.Connection, note_id: int) -> UnassignedNote:
        row = conn.execute("SELECT id, recorded_at, denomination_fen, transaction_no, acceptor_ref, kind, reason "
                           "FROM unassigned_notes WHERE id = ?", [note_id]).fetchone()
        note_id, recorded_at, fen, txn, ref, kind, reason = row
        return UnassignedNote(note_id, recorded_at, fen, txn, ref, UnassignedKind(kind), reason)
