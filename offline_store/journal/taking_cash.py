"""Opening a payment and taking its cash: marks before STACK-1, notes, commit, cancel."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from contract.masking import mask_account, mask_name
from offline_store.journal.errors import (
    DuplicateAcceptorRef,
    MoneyStacked,
    NoteOutsideCashIn,
    NothingPaid,
    PaymentStateError,
    SequenceExhausted,
)
from offline_store.journal.records import Payment, UnassignedNote
from offline_store.journal.states import (
    CANCELLED,
    CASH_IN,
    COMMITTED,
    IN_BOX,
    MAX_DAILY_SEQUENCE,
    MAYBE_IN_BOX,
    OPENED,
    PENDING,
    PII_TABLE,
    POSTED,
    REFERRED,
    UNASSIGNED_KINDS,
    UNFINISHED,
)
from offline_store.journal.values import check_fen, iso_with_offset


class TakingCash:
    """Opening a payment and taking its cash: marks before STACK-1, notes, commit, cancel. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def open_payment(self, terminal_id: str, utility: str, account_no: str, holder_name: str, address: str,
                     amount_due_fen: int, *, cap_fen: int) -> Payment:
        """Allocate the transaction number and journal the payment as ``opened``."""
        check_fen("amount_due_fen", amount_due_fen, minimum=0)
        check_fen("cap_fen", cap_fen, minimum=1)
        now = self._clock()
        day = time.strftime("%Y%m%d", time.localtime(now))
        with self._write() as conn:
            txn = self._next_transaction_no(conn, terminal_id, day)

            def seal(field: str, value: str) -> bytes:
                return self._key.encrypt(value, table=PII_TABLE, row=txn, field=field)

            conn.execute(
                "INSERT INTO payments (transaction_no, terminal_id, utility, business_date, account_masked, "
                "holder_masked, account_no_enc, holder_enc, address_enc, amount_due_fen, cap_fen, state, "
                "paid_fen, opened_at, attempts, recovered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 0)",
                [txn, terminal_id, utility, day, mask_account(account_no), mask_name(holder_name),
                 seal("account_no", account_no), seal("holder", holder_name), seal("address", address),
                 amount_due_fen, cap_fen, OPENED, now])
        return self.get(txn)

    def _next_transaction_no(self, conn: sqlite3.Connection, terminal_id: str, day: str) -> str:
        row = conn.execute("SELECT last_seq FROM txn_sequence WHERE terminal_id = ? AND business_date = ?",
                           [terminal_id, day]).fetchone()
        seq = (row[0] if row else 0) + 1
        while True:  # a journal restored from an older backup may already hold the next numbers
            if seq > MAX_DAILY_SEQUENCE:
                raise SequenceExhausted(
                    f"terminal {terminal_id} has numbered {MAX_DAILY_SEQUENCE} payments on {day}")
            txn = f"{terminal_id}-{day}-{seq:06d}"
            if not conn.execute("SELECT 1 FROM payments WHERE transaction_no = ?", [txn]).fetchone():
                break
            seq += 1
        if self._reservations is not None:  # written down outside the journal before it is used
            self._reservations.cover(terminal_id, day, seq)
        conn.execute("INSERT OR REPLACE INTO txn_sequence (terminal_id, business_date, last_seq) VALUES (?, ?, ?)",
                     [terminal_id, day, seq])
        return txn

    def start_cash_in(self, txn: str) -> Payment:
        """opened → cash_in (already cash_in: unchanged)."""
        with self._write() as conn:
            state = self._state(conn, txn)
            if state == OPENED:
                conn.execute("UPDATE payments SET state = ? WHERE transaction_no = ?", [CASH_IN, txn])
            elif state != CASH_IN:
                raise PaymentStateError(txn, state, "start cash-in")
        return self.get(txn)

    def mark_escrow(self, txn: str, denomination_fen: int) -> int:
        """Write ahead: the note in escrow is worth ``denomination_fen`` and goes to ``txn``.

        Called before the acceptor is told to stack (STACK-1): a note is never
        stacked unless the journal could record it.  Raises (the caller then
        returns the note) when the payment is not in cash-in or the write
        fails (disk full, file system read-only).  The mark is closed by
        :meth:`record_note` (``mark_id``) or :meth:`close_escrow_mark`; one a
        crash leaves open becomes a doubt with its value and payment at
        :meth:`recover`.  Returns the mark's id.
        """
        check_fen("denomination_fen", denomination_fen, minimum=1)
        with self._write() as conn:
            state = self._state(conn, txn)
            if state != CASH_IN:
                raise PaymentStateError(txn, state, "take a note into escrow")
            cursor = conn.execute("INSERT INTO escrow_marks (transaction_no, denomination_fen, marked_at) "
                                  "VALUES (?, ?, ?)", [txn, denomination_fen, self._clock()])
            return cursor.lastrowid

    def close_escrow_mark(self, mark_id: int, outcome: str) -> None:
        """The note of this mark left without a credit: ``returned`` or ``unaccounted`` (a doubt
        the caller journals itself).  Closing a closed mark changes nothing."""
        with self._write() as conn:
            conn.execute("UPDATE escrow_marks SET closed_at = ?, outcome = ? WHERE id = ? AND closed_at IS NULL",
                         [self._clock(), outcome, mark_id])

    def open_escrow_marks(self) -> list[tuple[int, str, int]]:
        """(mark id, transaction number, denomination) of every mark still open."""
        with self._lock:
            return [tuple(r) for r in self._db.conn.execute(
                "SELECT id, transaction_no, denomination_fen FROM escrow_marks WHERE closed_at IS NULL ORDER BY id")]

    def record_note(self, txn: str, denomination_fen: int, acceptor_ref: str, *,
                    mark_id: int | None = None) -> Payment:
        """Journal one stacked note (see :meth:`_record_note`); when the disk is full the
        reserve is released and the write tried once more: a note already in the box
        must reach the journal."""
        return self._on_reserve(lambda: self._record_note(txn, denomination_fen, acceptor_ref, mark_id=mark_id))

    def _record_note(self, txn: str, denomination_fen: int, acceptor_ref: str, *,
                     mark_id: int | None = None) -> Payment:
        """Journal one stacked note of a payment in cash-in; returns the payment with it.

        ``acceptor_ref`` is unique per physical note; a reference the journal
        already holds for this payment and denomination changes nothing (a
        repeated event is never counted twice).  A note for a payment that is
        not in cash-in (or unknown) is written to ``unassigned_notes`` and then
        refused with :class:`NoteOutsideCashIn`: a stacked note is in the box
        whatever the caller does next, so it must be in the journal too.
        """
        check_fen("denomination_fen", denomination_fen, minimum=1)
        if not acceptor_ref:
            raise ValueError("a stacked note needs its acceptor reference")
        refused: NoteOutsideCashIn | None = None
        with self._write() as conn:
            if self._known_ref(conn, txn, denomination_fen, acceptor_ref):
                seen = conn.execute("SELECT id FROM unassigned_notes WHERE acceptor_ref = ?",
                                    [acceptor_ref]).fetchone()
                if seen:  # the same late note again: same refusal, nothing new written
                    refused = NoteOutsideCashIn(txn, self._state_or_none(conn, txn),
                                                self._unassigned(conn, seen[0]))
            else:
                state = self._state_or_none(conn, txn)
                if mark_id is not None:  # the write-ahead mark is settled by the credit itself
                    conn.execute("UPDATE escrow_marks SET closed_at = ?, outcome = 'credited' WHERE id = ? "
                                 "AND closed_at IS NULL", [self._clock(), mark_id])
                if state == CASH_IN:
                    now = self._clock()
                    conn.execute("INSERT INTO notes (transaction_no, denomination_fen, acceptor_ref, stacked_at) "
                                 "VALUES (?, ?, ?, ?)", [txn, denomination_fen, acceptor_ref, now])
                    conn.execute("UPDATE payments SET paid_fen = paid_fen + ? WHERE transaction_no = ?",
                                 [denomination_fen, txn])
                else:
                    reason = (f"credited while payment {txn} was {state}" if state
                              else f"credited for payment {txn}, which the journal does not hold")
                    note_id = self._insert_unassigned(conn, denomination_fen, txn if state else None,
                                                      acceptor_ref, IN_BOX, reason)
                    refused = NoteOutsideCashIn(txn, state, self._unassigned(conn, note_id))
        if refused is not None:
            raise refused
        return self.get(txn)

    def _known_ref(self, conn: sqlite3.Connection, txn: str, denomination_fen: int, ref: str) -> bool:
        for table in ("notes", "unassigned_notes"):
            row = conn.execute(f"SELECT transaction_no, denomination_fen FROM {table} WHERE acceptor_ref = ?",
                               [ref]).fetchone()
            if row is None:
                continue
            if row[1] != denomination_fen or row[0] not in (txn, None):
                raise DuplicateAcceptorRef(
                    f"acceptor reference {ref!r} was journaled for {row[0]} ({row[1]} fen); "
                    f"now {txn} ({denomination_fen} fen)")
            return True
        return False

    def record_unassigned_note(self, txn: str | None, denomination_fen: int | None, reason: str, *,
                               kind: str = MAYBE_IN_BOX, acceptor_ref: str | None = None) -> UnassignedNote:
        """Journal a note that is in no payment: by default a *doubt* (the driver's
        ``NoteUnaccounted``: returned or stacked, the collection count settles it)."""
        if kind not in UNASSIGNED_KINDS:
            raise ValueError(f"kind must be one of {UNASSIGNED_KINDS}, got {kind!r}")
        with self._write() as conn:
            if acceptor_ref:
                seen = conn.execute("SELECT id FROM unassigned_notes WHERE acceptor_ref = ?",
                                    [acceptor_ref]).fetchone()
                if seen:
                    return self._unassigned(conn, seen[0])
            if txn is not None and self._state_or_none(conn, txn) is None:
                reason, txn = f"{reason} (during {txn}, unknown to the journal)", None
            note_id = self._insert_unassigned(conn, denomination_fen, txn, acceptor_ref, kind, reason)
            return self._unassigned(conn, note_id)

    def _insert_unassigned(self, conn: sqlite3.Connection, denomination_fen: int | None, txn: str | None,
                           ref: str | None, kind: str, reason: str) -> int:
        cursor = conn.execute(
            "INSERT INTO unassigned_notes (recorded_at, denomination_fen, transaction_no, acceptor_ref, kind, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)", [self._clock(), denomination_fen, txn, ref, kind, reason])
        return cursor.lastrowid

    def commit(self, txn: str, paid_at: float | datetime | str) -> Payment:
        """:meth:`_commit_payment`, tried once more on the released reserve when the disk is full."""
        return self._on_reserve(lambda: self._commit_payment(txn, paid_at))

    def _commit_payment(self, txn: str, paid_at: float | datetime | str) -> Payment:
        """cash_in → committed: the amount is the sum of the notes, and the payment
        enters the outbox in the same transaction.

        ``paid_at`` (epoch seconds, an aware datetime, or ISO 8601 with offset)
        is when the customer confirmed; it is stored as the text that is
        posted, so every attempt sends the very same body.  Committing a
        payment that is already committed or further returns it unchanged.
        """
        paid_at_text = iso_with_offset(paid_at)
        with self._write() as conn:
            state = self._state(conn, txn)
            if state in (COMMITTED, PENDING, POSTED, REFERRED):
                pass
            elif state in UNFINISHED:
                self._commit(conn, txn, state, paid_at_text, recovered=False)
            else:
                raise PaymentStateError(txn, state, "commit")
        return self.get(txn)

    def _commit(self, conn: sqlite3.Connection, txn: str, state: str, paid_at: str, *, recovered: bool) -> None:
        count, total = conn.execute("SELECT COUNT(*), COALESCE(SUM(denomination_fen), 0) FROM notes "
                                    "WHERE transaction_no = ?", [txn]).fetchone()
        if count == 0:
            raise NothingPaid(txn, state, "commit: no note was stacked (cancel it instead)")
        now = self._clock()
        conn.execute("UPDATE payments SET state = ?, paid_fen = ?, paid_at = ?, committed_at = ?, recovered = ? "
                     "WHERE transaction_no = ?", [COMMITTED, total, paid_at, now, int(recovered), txn])
        conn.execute("INSERT INTO outbox (transaction_no, queued_at) VALUES (?, ?)", [txn, now])

    def cancel(self, txn: str) -> Payment:
        """opened/cash_in → cancelled, only while no note is stacked (money is never cancelled)."""
        with self._write() as conn:
            state = self._state(conn, txn)
            if state in UNFINISHED:
                if conn.execute("SELECT 1 FROM notes WHERE transaction_no = ?", [txn]).fetchone():
                    raise MoneyStacked(txn, state, "cancel: notes are stacked, commit it")
                conn.execute("UPDATE payments SET state = ?, finished_at = ? WHERE transaction_no = ?",
                             [CANCELLED, self._clock(), txn])
            elif state != CANCELLED:
                raise PaymentStateError(txn, state, "cancel")
        return self.get(txn)
