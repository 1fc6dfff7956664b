"""A card purchase after its cash: what the billing system booked and issued, what the card took, the confirmation.

Each call is one transaction, committed before it returns, and each is safe
to repeat: an answer recorded twice (a replay, a retry after a crash between
the answer and the record) changes nothing the second time.  The states are
in :mod:`~offline_store.journal.purchases`.

* :meth:`record_paid` / :meth:`record_issue`: the payment was booked (3.10),
  without or with its write token; it leaves the purchase outbox, and the
  cash row becomes ``posted`` with the receipt.
* :meth:`begin_write` before the token is sent to the card (write-ahead: a
  crash from here on means "the card may carry it, read it first");
  :meth:`record_write` with the outcome of
  :func:`drivers.pcsc.purse_write.write_purse`: on the card, the
  confirmation (3.11) enters the outbox in the same transaction; not on the
  card, ``write_failed`` (paid-not-written).
* :meth:`mark_write_failed`: the customer leaves without the credit on the
  card for a reason that is no write (posting still pending, no token yet).
* :meth:`record_confirmed`, :meth:`mark_purchase_pending`,
  :meth:`mark_purchase_referred`: the outbox's outcomes.

Only the technician's ``detail`` of a failure is stored, never the billing
system's words (they may name the customer; docs/api.md 4).
"""

from __future__ import annotations

import sqlite3

from contract.masking import mask_account
from contract.models import PaymentNote
from contract.purchase import Purchase, PurchaseStatus
from contract.purchase_requests import PurchasePayment, WriteConfirmation
from offline_store.journal.purchases import ELSEWHERE, P, PurchaseStateError
from offline_store.journal.records import PurchaseRecord
from offline_store.journal.states import CONFIRM_STEP, PAYMENT_STEP, POSTED, REFERRED, COMMITTED

ON_CARD_OUTCOMES = ("written", "already_written")  # drivers.pcsc.purse_write.WriteOutcome values
NOT_ON_CARD_OUTCOMES = ("refused", "unknown")
_BOOKED = (PurchaseStatus.PAID, PurchaseStatus.ISSUED, PurchaseStatus.WRITTEN)


class PurchaseSteps:
    """The billing system's answers and the card's outcome for a purchase (a part of
    :class:`~offline_store.journal.MoneyJournal`)."""

    def record_paid(self, purchase_no: str, booked: Purchase) -> PurchaseRecord:
        """committed → paid: booked, no token yet (a purchase further on keeps its state)."""
        with self._write() as conn:
            state = self._booking(conn, purchase_no, booked)
            if state == P.COMMITTED:
                conn.execute("UPDATE purchases SET state = ? WHERE purchase_no = ?", [P.PAID, purchase_no])
        return self.get_purchase(purchase_no)

    def record_issue(self, purchase_no: str, issued: Purchase) -> PurchaseRecord:
        """committed/paid → issued with the write token; write_failed keeps its state and
        gets the token (the card is written at its next insertion)."""
        token = issued.write_token
        if token is None:
            raise ValueError(f"purchase {purchase_no} is {issued.status.value}: no write token to record")
        update = token.update
        with self._write() as conn:
            state = self._booking(conn, purchase_no, issued)
            serial, count, mac = conn.execute("SELECT card_serial, purchase_count, token_mac FROM purchases "
                                              "WHERE purchase_no = ?", [purchase_no]).fetchone()
            if (update.card_serial, update.purchase_no, update.purchase_count) != (serial, purchase_no, count):
                raise ValueError(f"the token of {update.purchase_no} is for card {update.card_serial}, count "
                                 f"{update.purchase_count}: not purchase {purchase_no}'s (card {serial}, count {count})")
            if mac is not None:
                if bytes(mac) != token.mac:
                    raise PurchaseStateError(purchase_no, state, "take a second, different write token")
                return self.get_purchase(purchase_no)
            conn.execute("UPDATE purchases SET token_credit_fen = ?, token_count = ?, token_mac = ?, issued_at = ? "
                         "WHERE purchase_no = ?",
                         [update.credit_fen, update.purchase_count, token.mac, issued.issued_at, purchase_no])
            if state in (P.COMMITTED, P.PAID):
                conn.execute("UPDATE purchases SET state = ? WHERE purchase_no = ?", [P.ISSUED, purchase_no])
        return self.get_purchase(purchase_no)

    def _booking(self, conn: sqlite3.Connection, purchase_no: str, booked: Purchase) -> str:
        """Write down the booking (once) and take the payment out of the outbox; the state before."""
        if booked.purchase_no != purchase_no or booked.status not in _BOOKED:
            raise ValueError(f"the answer is purchase {booked.purchase_no}, {booked.status.value}: "
                             f"not a booking of {purchase_no}")
        state, txn, paid, receipt = self._purchase_row(conn, purchase_no,
                                                       "state, transaction_no, paid_fen, receipt_no")
        if state in (P.OPENED, P.CASH_IN, P.CANCELLED, P.REFERRED):
            raise PurchaseStateError(purchase_no, state, f"record a booking ({booked.status.value})")
        if txn is not None and booked.amount_fen != paid:
            raise ValueError(f"purchase {purchase_no} was booked for {booked.amount_fen} fen, the journal "
                             f"took {paid} fen in cash")
        if receipt is None:
            conn.execute("UPDATE purchases SET receipt_no = ?, arrears_paid_fen = ?, credit_fen = ?, booked_at = ?, "
                         "error_code = NULL, error_message = NULL WHERE purchase_no = ?",
                         [booked.receipt_no, booked.arrears_paid_fen, booked.credit_fen, booked.paid_at, purchase_no])
            if txn is not None:
                conn.execute("UPDATE payments SET state = ?, receipt_no = ?, posted_at = ?, finished_at = ? "
                             "WHERE transaction_no = ?", [POSTED, booked.receipt_no, booked.paid_at, self._clock(), txn])
        elif receipt != booked.receipt_no:
            raise PurchaseStateError(purchase_no, state, f"be booked again as receipt {booked.receipt_no}")
        conn.execute("DELETE FROM purchase_outbox WHERE purchase_no = ? AND step = ?", [purchase_no, PAYMENT_STEP])
        return state

    def record_rewrite_of(self, issued: Purchase) -> PurchaseRecord:
        """Journal a purchase another terminal took the cash for, before its token is written
        here (补写卡 at any kiosk): ``write_failed`` with the token, no cash row.  Known
        already: unchanged."""
        token = issued.write_token
        if token is None or issued.status is not PurchaseStatus.ISSUED:
            raise ValueError(f"purchase {issued.purchase_no} is {issued.status.value}: only an issued purchase "
                             "can be written")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM purchases WHERE purchase_no = ?", [issued.purchase_no]).fetchone():
                return self.get_purchase(issued.purchase_no)
            limits, update = issued.limits, token.update
            conn.execute(
                "INSERT INTO purchases (purchase_no, transaction_no, terminal_id, utility, card_serial, account_masked, "
                "method, state, chosen_fen, min_amount_fen, max_amount_fen, card_count_before, purchase_count, "
                "ordered_at, paid_fen, receipt_no, arrears_paid_fen, credit_fen, booked_at, token_credit_fen, "
                "token_count, token_mac, issued_at, write_attempts, attempts, opened_at, recovered) "
                "VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 0)",
                [issued.purchase_no, issued.terminal_id, issued.utility, issued.card_serial,
                 mask_account(issued.account_no), ELSEWHERE, P.WRITE_FAILED, issued.amount_fen,
                 limits.min_amount_fen, limits.max_amount_fen, issued.purchase_count - 1, issued.purchase_count,
                 issued.ordered_at, issued.receipt_no, issued.arrears_paid_fen, issued.credit_fen, issued.paid_at,
                 update.credit_fen, update.purchase_count, token.mac, issued.issued_at, self._clock()])
        return self.get_purchase(issued.purchase_no)

    # -- the card -------------------------------------------------------------------------
    def begin_write(self, purchase_no: str) -> PurchaseRecord:
        """Write-ahead of one write to the card (issued or write_failed, with its token):
        ``write_attempts`` + 1.  The caller sends the token only after this returns."""
        with self._write() as conn:
            state, mac = self._purchase_row(conn, purchase_no, "state, token_mac")
            if state not in (P.ISSUED, P.WRITE_FAILED) or mac is None:
                why = "write it: no write token yet" if mac is None else "write it to the card"
                raise PurchaseStateError(purchase_no, state, why)
            conn.execute("UPDATE purchases SET write_attempts = write_attempts + 1, write_started_at = ? "
                         "WHERE purchase_no = ?", [self._clock(), purchase_no])
        return self.get_purchase(purchase_no)

    def record_write(self, purchase_no: str, outcome: str, *, reason: str = "", detail: str = "",
                     card_count: int | None = None, card_credit_fen: int | None = None) -> PurchaseRecord:
        """The outcome of :func:`~drivers.pcsc.purse_write.write_purse` (its value).

        On the card (``written``, ``already_written``: ``card_count`` and
        ``card_credit_fen`` are the read-back, which must show the token):
        issued → written, write_failed → rewritten, and the confirmation is
        queued.  Not on it (``refused``, ``unknown``: ``reason`` says why):
        → write_failed.  A purchase already on the card: unchanged."""
        if outcome not in ON_CARD_OUTCOMES + NOT_ON_CARD_OUTCOMES:
            raise ValueError(f"outcome must be one of {ON_CARD_OUTCOMES + NOT_ON_CARD_OUTCOMES}, got {outcome!r}")
        with self._write() as conn:
            state, count, credit = self._purchase_row(conn, purchase_no, "state, token_count, token_credit_fen")
            if state in (P.WRITTEN, P.REWRITTEN, P.CONFIRMED):
                return self.get_purchase(purchase_no)
            if state not in (P.ISSUED, P.WRITE_FAILED) or count is None:
                raise PurchaseStateError(purchase_no, state, f"record a write ({outcome})")
            if outcome in ON_CARD_OUTCOMES:
                if (card_count, card_credit_fen) != (count, credit):
                    raise ValueError(f"purchase {purchase_no} is count {count}, {credit} fen; the card read back "
                                     f"{card_count}, {card_credit_fen}: that is not on the card")
                now = self._clock()
                conn.execute("UPDATE purchases SET state = ?, write_outcome = ?, write_reason = NULL, "
                             "write_detail = ?, card_count_after = ?, card_credit_after_fen = ?, written_at = ? "
                             "WHERE purchase_no = ?",
                             [P.WRITTEN if state == P.ISSUED else P.REWRITTEN, outcome, detail or None, card_count,
                              card_credit_fen, now, purchase_no])
                conn.execute("INSERT OR IGNORE INTO purchase_outbox (purchase_no, step, queued_at) VALUES (?, ?, ?)",
                             [purchase_no, CONFIRM_STEP, now])
            else:
                conn.execute("UPDATE purchases SET state = ?, write_outcome = ?, write_reason = ?, write_detail = ? "
                             "WHERE purchase_no = ?", [P.WRITE_FAILED, outcome, reason or outcome.upper(),
                                                       detail or None, purchase_no])
        return self.get_purchase(purchase_no)

    def mark_write_failed(self, purchase_no: str, reason: str, detail: str = "") -> PurchaseRecord:
        """committed/paid/issued → write_failed: the customer leaves without the credit on the
        card (``reason``: posting pending, no token yet, the session ended...).  Its posting,
        if still queued, goes on.  write_failed already: unchanged."""
        with self._write() as conn:
            state = self._purchase_row(conn, purchase_no, "state")[0]
            if state in (P.COMMITTED, P.PAID, P.ISSUED):
                conn.execute("UPDATE purchases SET state = ?, write_reason = ?, write_detail = ? "
                             "WHERE purchase_no = ?", [P.WRITE_FAILED, reason, detail or None, purchase_no])
            elif state != P.WRITE_FAILED:
                raise PurchaseStateError(purchase_no, state, f"mark it not written ({reason})")
        return self.get_purchase(purchase_no)

    # -- the outbox's outcomes ----------------------------------------------------------------
    def record_confirmed(self, purchase_no: str, confirmed_at: str) -> PurchaseRecord:
        """→ confirmed: the billing system knows the card carries it (this terminal's
        confirmation, or another's after a rewrite there).  Leaves the outbox."""
        with self._write() as conn:
            state = self._purchase_row(conn, purchase_no, "state")[0]
            if state == P.CONFIRMED:
                return self.get_purchase(purchase_no)
            if state not in (P.PAID, P.ISSUED, P.WRITE_FAILED, P.WRITTEN, P.REWRITTEN):
                raise PurchaseStateError(purchase_no, state, "mark it confirmed")
            conn.execute("UPDATE purchases SET state = ?, confirmed_at = ?, finished_at = ?, error_code = NULL, "
                         "error_message = NULL WHERE purchase_no = ?",
                         [P.CONFIRMED, confirmed_at, self._clock(), purchase_no])
            conn.execute("DELETE FROM purchase_outbox WHERE purchase_no = ?", [purchase_no])
        return self.get_purchase(purchase_no)

    def mark_purchase_pending(self, purchase_no: str, code: str, detail: str = "") -> PurchaseRecord:
        """A posting attempt failed in a way that may pass: ``attempts`` + 1, still queued."""
        with self._write() as conn:
            state = self._purchase_row(conn, purchase_no, "state")[0]
            if not conn.execute("SELECT 1 FROM purchase_outbox WHERE purchase_no = ?", [purchase_no]).fetchone():
                raise PurchaseStateError(purchase_no, state, f"mark a posting pending ({code}): none is queued")
            conn.execute("UPDATE purchases SET attempts = attempts + 1, error_code = ?, error_message = ? "
                         "WHERE purchase_no = ?", [code, detail or None, purchase_no])
        return self.get_purchase(purchase_no)

    def mark_purchase_referred(self, purchase_no: str, code: str, detail: str = "") -> PurchaseRecord:
        """→ referred: refused for good; the money is kept in the journal and the counter
        settles it with the purchase number.  Leaves the outbox; cash never booked makes
        its cash row referred too (the payments' referred list shows it)."""
        with self._write() as conn:
            state, txn = self._purchase_row(conn, purchase_no, "state, transaction_no")
            if state == P.REFERRED:
                return self.get_purchase(purchase_no)
            if state in (P.OPENED, P.CASH_IN, P.CANCELLED, P.CONFIRMED):
                raise PurchaseStateError(purchase_no, state, f"refer it ({code})")
            now = self._clock()
            conn.execute("UPDATE purchases SET state = ?, error_code = ?, error_message = ?, finished_at = ? "
                         "WHERE purchase_no = ?", [P.REFERRED, code, detail or None, now, purchase_no])
            conn.execute("DELETE FROM purchase_outbox WHERE purchase_no = ?", [purchase_no])
            if txn is not None:
                conn.execute("UPDATE payments SET state = ?, error_code = ?, error_message = ?, finished_at = ? "
                             "WHERE transaction_no = ? AND state = ?",
                             [REFERRED, code, f"card purchase {purchase_no} referred", now, txn, COMMITTED])
        return self.get_purchase(purchase_no)

    # -- what the outbox sends ---------------------------------------------------------------
    def purchase_payment_request(self, purchase_no: str) -> PurchasePayment:
        """The body of 3.10: the cash as committed (the same body on every attempt)."""
        with self._lock:
            conn = self._db.conn
            state, terminal, txn, paid, paid_at = self._purchase_row(
                conn, purchase_no, "state, terminal_id, transaction_no, paid_fen, paid_at")
            if txn is None or paid_at is None:
                raise PurchaseStateError(purchase_no, state, "build its payment: no cash of it is committed here")
            notes = self._note_counts(conn, txn)
        return PurchasePayment(purchase_no, terminal, paid, tuple(PaymentNote(d, c) for d, c in notes), paid_at)

    def write_confirmation(self, purchase_no: str) -> WriteConfirmation:
        """The body of 3.11: what the card read back after the write."""
        with self._lock:
            state, serial, count, credit = self._purchase_row(
                self._db.conn, purchase_no, "state, card_serial, card_count_after, card_credit_after_fen")
        if count is None:
            raise PurchaseStateError(purchase_no, state, "build its confirmation: the card was not read back")
        return WriteConfirmation(purchase_no, serial, count, credit)
