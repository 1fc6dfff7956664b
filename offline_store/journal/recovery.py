"""After a crash: finishing open payments, orphaned escrow marks, notes found at power-up."""

from __future__ import annotations

import sqlite3

from offline_store.journal.records import PowerUpReconciliation, RecoveryCase
from offline_store.journal.states import (
    CANCELLED,
    CASH_IN,
    COMMITTED,
    IN_BOX,
    RETURNED_AFTER_CREDIT,
    UNFINISHED,
    sql_list,
)
from offline_store.journal.values import iso_with_offset


class Recovery:
    """After a crash: finishing open payments, orphaned escrow marks, notes found at power-up. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def recover(self, now: float | None = None) -> list[RecoveryCase]:
        """Finish every payment a crash left in opened/cash_in, in one transaction.

        With notes: committed (queued for posting, ``recovered`` set so a
        recovery slip is printed), ``paid_at`` being the time of its last
        note -- the moment the customer's money was last seen.  Without
        notes: cancelled.  Returns what was done, for the log and the slip.
        """
        now = self._clock() if now is None else now
        cases = []
        with self._write() as conn:
            self._settle_open_marks(conn)
            rows = conn.execute(f"SELECT transaction_no, state FROM payments WHERE state IN {sql_list(UNFINISHED)} "
                                "ORDER BY opened_at, rowid").fetchall()
            for txn, state in rows:
                count, total, last = conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(denomination_fen), 0), MAX(stacked_at) FROM notes "
                    "WHERE transaction_no = ?", [txn]).fetchone()
                if count:
                    self._commit(conn, txn, state, iso_with_offset(last), recovered=True)
                    cases.append(RecoveryCase(txn, state, COMMITTED, total, count))
                else:
                    conn.execute("UPDATE payments SET state = ?, finished_at = ?, recovered = 1 "
                                 "WHERE transaction_no = ?", [CANCELLED, now, txn])
                    cases.append(RecoveryCase(txn, state, CANCELLED, 0, 0))
        return cases

    def _settle_open_marks(self, conn: sqlite3.Connection) -> None:
        """A mark still open at start: the kiosk stopped after the note was marked and
        before its credit.  Whether the acceptor stacked it, only the acceptor can
        say (VEND VALID for a note the new driver never saw in escrow): the mark is
        *orphaned* until :meth:`claim_orphaned_mark` gives its value and payment to
        that doubt.  A mark no report claimed before the next start was returned or
        never stacked: it is closed as unclaimed."""
        now = self._clock()
        conn.execute("UPDATE escrow_marks SET closed_at = ?, outcome = 'unclaimed' "
                     "WHERE closed_at IS NULL AND outcome = 'orphaned'", [now])
        conn.execute("UPDATE escrow_marks SET outcome = 'orphaned' WHERE closed_at IS NULL AND outcome IS NULL")

    def claim_orphaned_mark(self) -> tuple[str, int] | None:
        """(transaction number, denomination) of the oldest orphaned mark, closed as claimed;
        None when there is none.  For a note the acceptor reports without its escrow."""
        with self._write() as conn:
            row = conn.execute("SELECT id, transaction_no, denomination_fen FROM escrow_marks WHERE closed_at IS "
                               "NULL AND outcome = 'orphaned' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute("UPDATE escrow_marks SET closed_at = ?, outcome = 'claimed' WHERE id = ?",
                         [self._clock(), row[0]])
            return row[1], row[2]

    def reconcile_power_up_note(self, where: str, denomination_fen: int | None, already_credited: bool, *,
                                txn: str | None = None) -> PowerUpReconciliation:
        """Reconcile the acceptor's ``PowerUpWithNote`` with the journal; never credits a note.

        * already credited (the driver saw VEND VALID, so the note was
          journaled before the acceptor was acknowledged) and ``where`` is
          ``stacker``: nothing to do, the journal has it;
        * already credited but in the ``acceptor``: the reset hands it back
          although it is in a payment: journaled as ``returned_after_credit``
          (the box will hold one note fewer than the payments say);
        * not credited, in the ``stacker``: it ends in the box without VEND
          VALID: journaled as an ``in_box`` unassigned note, attached to the
          payment in cash-in if there is one, for the counter to settle;
        * not credited, in the ``acceptor``: the reset returns it to the
          customer, nothing entered the box.

        ``txn`` defaults to the newest payment still in cash-in.
        """
        if where not in ("acceptor", "stacker"):
            raise ValueError(f"where must be 'acceptor' or 'stacker', got {where!r}")
        if txn is None:
            with self._lock:
                row = self._db.conn.execute(
                    f"SELECT transaction_no FROM payments WHERE state = '{CASH_IN}' "
                    "ORDER BY opened_at DESC, rowid DESC LIMIT 1").fetchone()
            txn = row[0] if row else None
        if where == "stacker" and already_credited:
            return PowerUpReconciliation("none", txn, None,
                                         "note in the stacker was credited before: in the journal")
        if where == "acceptor" and not already_credited:
            return PowerUpReconciliation("none", txn, None, "note in the acceptor is returned by the reset")
        if where == "stacker":
            kind, reason = IN_BOX, "power-up with a note in the stacker that was never credited (no VEND VALID)"
        else:
            kind, reason = RETURNED_AFTER_CREDIT, "power-up with a credited note back in the acceptor: returned"
        note = self.record_unassigned_note(txn, denomination_fen, reason, kind=kind)
        return PowerUpReconciliation("unassigned", note.transaction_no, note, reason)
