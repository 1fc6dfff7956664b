"""What the sync worker asks and tells the journal: a payment's posting body, and its outcome."""

from __future__ import annotations

from contract.models import PaymentNote, PaymentRequest, PaymentResult
from offline_store.journal.errors import (
    PaymentStateError,
    PersonalDataPurged,
    UnknownPayment,
)
from offline_store.journal.records import Payment
from offline_store.journal.states import IN_OUTBOX, PENDING, PII_TABLE, POSTED, REFERRED


class Posting:
    """What the sync worker asks and tells the journal: a payment's posting body, and its outcome. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def payment_request(self, txn: str) -> PaymentRequest:
        """The POST body of a committed payment (decrypts the account number)."""
        with self._lock:
            conn = self._db.conn
            row = conn.execute("SELECT terminal_id, utility, account_no_enc, paid_fen, paid_at, state "
                               "FROM payments WHERE transaction_no = ?", [txn]).fetchone()
            if row is None:
                raise UnknownPayment(txn)
            terminal_id, utility, account_enc, paid_fen, paid_at, state = row
            if paid_at is None:
                raise PaymentStateError(txn, state, "build its posting: it is not committed")
            if account_enc is None:
                raise PersonalDataPurged(f"payment {txn}: the account number was purged by retention")
            notes = self._note_counts(conn, txn)
        account_no = self._key.decrypt(account_enc, table=PII_TABLE, row=txn, field="account_no")
        return PaymentRequest(
            transaction_no=txn, terminal_id=terminal_id, utility=utility, account_no=account_no,
            amount_fen=paid_fen, notes=tuple(PaymentNote(d, c) for d, c in notes), paid_at=paid_at)

    def mark_posted(self, txn: str, result: PaymentResult) -> Payment:
        """committed/pending → posted with the billing system's answer; leaves the outbox.

        Posted again with the same receipt (a replayed answer): unchanged."""
        if result.transaction_no != txn:
            raise ValueError(f"the result is about {result.transaction_no}, not {txn}")
        with self._write() as conn:
            state = self._state(conn, txn)
            if state == POSTED:
                receipt = conn.execute("SELECT receipt_no FROM payments WHERE transaction_no = ?", [txn]).fetchone()
                if receipt[0] != result.receipt_no:
                    raise PaymentStateError(txn, state, f"post it again as receipt {result.receipt_no}")
            elif state in IN_OUTBOX:
                conn.execute(
                    "UPDATE payments SET state = ?, receipt_no = ?, posted_at = ?, balance_after_fen = ?, "
                    "arrears_after_fen = ?, finished_at = ?, error_code = NULL, error_message = NULL, "
                    "error_message_enc = NULL "
                    "WHERE transaction_no = ?",
                    [POSTED, result.receipt_no, result.posted_at, result.balance_after_fen,
                     result.arrears_after_fen, self._clock(), txn])
                conn.execute("DELETE FROM outbox WHERE transaction_no = ?", [txn])
            else:
                raise PaymentStateError(txn, state, "mark it posted")
        return self.get(txn)

    def mark_pending(self, txn: str, error_code: str, detail: str = "") -> Payment:
        """committed/pending → pending: an attempt failed in a way that may pass; stays queued."""
        with self._write() as conn:
            state = self._state(conn, txn)
            if state not in IN_OUTBOX:
                raise PaymentStateError(txn, state, "mark it pending")
            conn.execute("UPDATE payments SET state = ?, error_code = ?, error_message = ?, error_message_enc = ?, "
                         "attempts = attempts + 1 WHERE transaction_no = ?",
                         [PENDING, error_code, *self._sealed_message(txn, error_code, detail), txn])
        return self.get(txn)

    def mark_referred(self, txn: str, code: str, message: str) -> Payment:
        """committed/pending → referred: refused for good; leaves the outbox, stays in the
        journal for the staffed counter (never dropped)."""
        with self._write() as conn:
            state = self._state(conn, txn)
            if state == REFERRED:
                return self.get(txn)
            if state not in IN_OUTBOX:
                raise PaymentStateError(txn, state, "mark it referred")
            conn.execute("UPDATE payments SET state = ?, error_code = ?, error_message = ?, error_message_enc = ?, "
                         "finished_at = ? WHERE transaction_no = ?",
                         [REFERRED, code, *self._sealed_message(txn, code, message), self._clock(), txn])
            conn.execute("DELETE FROM outbox WHERE transaction_no = ?", [txn])
        return self.get(txn)

    def _sealed_message(self, txn: str, code: str, message: str) -> tuple[str | None, bytes | None]:
        """(summary kept in clear, sealed full text) of a failure's message.

        Any text that came from the billing system may carry a name, an
        address or a number (a refusal quoting the account): only its code and
        length stay readable, the words are sealed with the personal data."""
        if not message:
            return None, None
        sealed = self._key.encrypt(message, table=PII_TABLE, row=txn, field="error_message")
        return f"{code}: {len(message)} characters, sealed", sealed

    def error_message(self, txn: str) -> str:
        """The full, decrypted failure message of a payment ("" when none or purged)."""
        with self._lock:
            row = self._db.conn.execute("SELECT error_message_enc FROM payments WHERE transaction_no = ?",
                                        [txn]).fetchone()
        if row is None:
            raise UnknownPayment(txn)
        if row[0] is None:
            return ""
        return self._key.decrypt(row[0], table=PII_TABLE, row=txn, field="error_message")

    def _seal_clear_messages(self) -> None:
        """Journals written before v4 kept failure messages in clear: seal them now."""
        with self._write() as conn:
            rows = conn.execute("SELECT transaction_no, error_code, error_message FROM payments "
                                "WHERE error_message IS NOT NULL AND error_message_enc IS NULL").fetchall()
            for txn, code, message in rows:
                conn.execute("UPDATE payments SET error_message = ?, error_message_enc = ? WHERE transaction_no = ?",
                             [*self._sealed_message(txn, code or "", message), txn])
