"""Prepaid card purchases in the money journal: opening one, taking its cash, reading them back.

A purchase (购电/购水/购气) is a state machine, each step committed before the
caller attempts the next (docs/api.md 3.7 to 3.13; the states are
:class:`~offline_store.journal.states.PurchaseState`)::

    opened ─order─▶ cash_in ─commit─▶ committed ─booked─▶ paid ─token─▶ issued ─write─▶ written ─▶ confirmed
      │               │                  │                 │              │  └──▶ write_failed ─▶ rewritten ─▶ confirmed
      └─────cancel────┴─▶ cancelled      └──────────── referred ◀─────────┘   (paid-not-written: 补写卡)

Its cash is a row of ``payments`` (``transaction_no``) in the same journal:
the notes, their write-ahead escrow marks, a note that arrives late and the
cash box count are exactly a payment's, written by the same code
(:mod:`~offline_store.journal.taking_cash`), so a note is credited once
whichever business it paid for.  Only the commit differs: the cash of a
purchase goes to the *purchase* outbox (its posting is 3.10, not 3.4), and
the payments' commit refuses a purchase's cash row (:meth:`PurchaseBook._commit`),
whoever asks.  The payment
row follows the purchase: posted when the billing system booked it, referred
when it refused it, so the payment lists and the cash report stay true.

The purchase number is the idempotency key of the order, the payment and the
confirmation: ``<terminal>-P<yyyymmdd>-<sequence>``, the sequence being the
one of the cash row's transaction number, so it is unique for the journal's
life and across terminals (the terminal id is in it).

The billing system's answers and the card's outcome are recorded by
:mod:`~offline_store.journal.purchase_steps`.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime

from contract.masking import mask_account
from contract.purchase import PURCHASE_NO, Purchase
from contract.purchase_requests import CardReading
from offline_store.journal.errors import JournalError, MoneyStacked, NothingPaid, PaymentStateError
from offline_store.journal.records import PurchaseOutboxEntry, PurchaseRecord
from offline_store.journal.states import (
    CASH_IN,
    COMMITTED,
    OPENED,
    PAYMENT_STEP,
    PII_TABLE,
    PURCHASE_UNFINISHED,
    CANCELLED,
    PAID_NOT_WRITTEN,
    PurchaseState,
    sql_list,
)
from offline_store.journal.values import check_fen, iso_with_offset

P = PurchaseState
CASH = "cash"
ELSEWHERE = "elsewhere"  # a rewrite here of a purchase another terminal took the cash for
_RECORD_COLUMNS = (
    "purchase_no", "transaction_no", "terminal_id", "utility", "card_serial", "account_masked", "method", "state",
    "chosen_fen", "min_amount_fen", "max_amount_fen", "card_count_before", "purchase_count", "paid_fen", "paid_at",
    "receipt_no", "arrears_paid_fen", "credit_fen", "token_credit_fen", "token_count", "token_mac", "issued_at",
    "write_attempts", "write_outcome", "write_reason", "card_count_after", "card_credit_after_fen", "written_at",
    "confirmed_at", "attempts", "error_code", "error_message", "opened_at", "finished_at", "recovered")


@dataclass(frozen=True)
class PurchaseToFollow:
    """A purchase someone must still act on, as :meth:`PurchaseBook.purchases_to_follow` reads it:
    only clear columns (the account is the masked one; no token, no detail words)."""

    purchase_no: str
    utility: str
    card_serial: str
    account_masked: str
    method: str
    state: PurchaseState
    chosen_fen: int
    paid_fen: int
    write_attempts: int
    write_reason: str | None
    attempts: int
    error_code: str | None
    opened_at: float
    queued: str | None  # the outbox step waiting ("payment", "confirm"), None when none is


@dataclass(frozen=True)
class PurchasesToFollow:
    rows: tuple[PurchaseToFollow, ...]  # newest first, at most the limit asked
    total: int  # all of them, shown or not
    not_written: int  # paid (or booked) and not on the card
    not_written_fen: int  # their money (taken here, or bought at another terminal for a rewrite here)
    referred: int
    queued: int  # with a posting still in the purchase outbox


class UnknownPurchase(JournalError):
    def __init__(self, purchase_no: str) -> None:
        self.purchase_no = purchase_no
        super().__init__(f"no card purchase {purchase_no} in the journal")


class PurchaseStateError(JournalError):
    """The call does not fit the purchase's state (a bug in the caller, or a race)."""

    def __init__(self, purchase_no: str, state: str | None, action: str) -> None:
        self.purchase_no = purchase_no
        self.state = state
        super().__init__(f"card purchase {purchase_no} is {state}: cannot {action}")


class PurchaseBook:
    """Opening a card purchase, its cash, its recovery, reading it back (a part of
    :class:`~offline_store.journal.MoneyJournal`)."""

    def open_purchase(self, terminal_id: str, reading: CardReading, chosen_fen: int, *, min_amount_fen: int,
                      max_amount_fen: int, method: str = CASH) -> PurchaseRecord:
        """Journal a purchase as ``opened`` before its order is sent: the purchase number
        exists from now on, and so does its cash row (a payment ``opened``: the amount
        chosen is its amount due, ``max_amount_fen`` its cap -- no change is given)."""
        check_fen("chosen_fen", chosen_fen, minimum=1)
        check_fen("min_amount_fen", min_amount_fen, minimum=1)
        check_fen("max_amount_fen", max_amount_fen, minimum=min_amount_fen)
        if not min_amount_fen <= chosen_fen <= max_amount_fen:
            raise ValueError(f"chosen_fen {chosen_fen} is outside the quote's {min_amount_fen}..{max_amount_fen} fen: "
                             "offer only amounts the quote allows")
        now = self._clock()
        day = time.strftime("%Y%m%d", time.localtime(now))
        with self._write() as conn:
            txn = self._next_transaction_no(conn, terminal_id, day)
            purchase_no = purchase_number(terminal_id, txn)

            def seal(field: str, value: str) -> bytes:
                return self._key.encrypt(value, table=PII_TABLE, row=txn, field=field)

            conn.execute(
                "INSERT INTO payments (transaction_no, terminal_id, utility, business_date, account_masked, "
                "holder_masked, account_no_enc, holder_enc, address_enc, amount_due_fen, cap_fen, state, "
                "paid_fen, opened_at, attempts, recovered) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, 0, ?, 0, 0)",
                [txn, terminal_id, reading.utility, day, mask_account(reading.account_no),
                 seal("account_no", reading.account_no), seal("holder", ""), seal("address", ""),
                 chosen_fen, max_amount_fen, OPENED, now])
            conn.execute(
                "INSERT INTO purchases (purchase_no, transaction_no, terminal_id, utility, card_serial, "
                "account_masked, method, state, chosen_fen, min_amount_fen, max_amount_fen, card_count_before, "
                "paid_fen, write_attempts, attempts, opened_at, recovered) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, 0)",
                [purchase_no, txn, terminal_id, reading.utility, reading.card_serial,
                 mask_account(reading.account_no), method, P.OPENED, chosen_fen, min_amount_fen, max_amount_fen,
                 reading.purchase_count, now])
        return self.get_purchase(purchase_no)

    def record_order(self, purchase_no: str, ordered: Purchase) -> PurchaseRecord:
        """The billing system took the order: its count and limits are fixed now (the cash
        row's cap becomes the order's most).  The same order again changes nothing."""
        with self._write() as conn:
            row = self._purchase_row(conn, purchase_no, "state, card_serial, transaction_no, purchase_count")
            state, serial, txn, count = row
            if ordered.purchase_no != purchase_no or ordered.card_serial != serial:
                raise ValueError(f"the order answered is for {ordered.purchase_no} on card {ordered.card_serial}, "
                                 f"not {purchase_no}")
            if count is not None:
                if count != ordered.purchase_count:
                    raise PurchaseStateError(purchase_no, state, f"take another count ({ordered.purchase_count})")
            elif state != P.OPENED:
                raise PurchaseStateError(purchase_no, state, "record its order")
            else:
                limits = ordered.limits
                conn.execute("UPDATE purchases SET purchase_count = ?, ordered_at = ?, min_amount_fen = ?, "
                             "max_amount_fen = ? WHERE purchase_no = ?",
                             [ordered.purchase_count, ordered.ordered_at, limits.min_amount_fen,
                              limits.max_amount_fen, purchase_no])
                conn.execute("UPDATE payments SET cap_fen = ? WHERE transaction_no = ?", [limits.max_amount_fen, txn])
        return self.get_purchase(purchase_no)

    def start_purchase_cash(self, purchase_no: str) -> PurchaseRecord:
        """opened (ordered) → cash_in, and its cash row too; already cash_in: unchanged."""
        with self._write() as conn:
            state, txn, count = self._purchase_row(conn, purchase_no, "state, transaction_no, purchase_count")
            if state == P.OPENED and count is not None:
                conn.execute("UPDATE purchases SET state = ? WHERE purchase_no = ?", [P.CASH_IN, purchase_no])
                conn.execute("UPDATE payments SET state = ? WHERE transaction_no = ?", [CASH_IN, txn])
            elif state != P.CASH_IN:
                why = "take cash before the billing system took its order" if state == P.OPENED else "take cash"
                raise PurchaseStateError(purchase_no, state, why)
        return self.get_purchase(purchase_no)

    def commit_purchase_cash(self, purchase_no: str, paid_at: float | datetime | str) -> PurchaseRecord:
        """cash_in → committed: the amount is the sum of the notes, and the payment posting
        enters the purchase outbox in the same transaction.  ``paid_at`` is stored as the
        text that is posted, so every attempt sends the same body.  Committed or further
        already: unchanged.  Tried once more on the released reserve when the disk is full."""
        paid_at_text = iso_with_offset(paid_at)

        def commit() -> PurchaseRecord:
            with self._write() as conn:
                state = self._purchase_row(conn, purchase_no, "state")[0]
                if state in (P.OPENED, P.CASH_IN):
                    self._commit_purchase(conn, purchase_no, paid_at_text, recovered=False)
                elif state == P.CANCELLED:
                    raise PurchaseStateError(purchase_no, state, "commit")
            return self.get_purchase(purchase_no)

        return self._on_reserve(commit)

    def _commit_purchase(self, conn: sqlite3.Connection, purchase_no: str, paid_at: str, *, recovered: bool) -> None:
        txn, state = conn.execute("SELECT transaction_no, state FROM purchases WHERE purchase_no = ?",
                                  [purchase_no]).fetchone()
        count, total = conn.execute("SELECT COUNT(*), COALESCE(SUM(denomination_fen), 0) FROM notes "
                                    "WHERE transaction_no = ?", [txn]).fetchone()
        if count == 0:
            raise NothingPaid(txn, state, "commit the purchase: no note was stacked (cancel it instead)")
        now = self._clock()
        # The cash row is committed as a payment is, but never enters the payment outbox.
        conn.execute("UPDATE payments SET state = ?, paid_fen = ?, paid_at = ?, committed_at = ?, recovered = ? "
                     "WHERE transaction_no = ?", [COMMITTED, total, paid_at, now, int(recovered), txn])
        conn.execute("UPDATE purchases SET state = ?, paid_fen = ?, paid_at = ?, recovered = ? WHERE purchase_no = ?",
                     [P.COMMITTED, total, paid_at, int(recovered), purchase_no])
        conn.execute("INSERT INTO purchase_outbox (purchase_no, step, queued_at) VALUES (?, ?, ?)",
                     [purchase_no, PAYMENT_STEP, now])

    def cancel_purchase(self, purchase_no: str, code: str = "", detail: str = "") -> PurchaseRecord:
        """opened/cash_in → cancelled (and its cash row), only while no note is stacked;
        ``code``/``detail``: why (the order was refused, the customer left)."""
        with self._write() as conn:
            state, txn = self._purchase_row(conn, purchase_no, "state, transaction_no")
            if state in (P.OPENED, P.CASH_IN):
                if conn.execute("SELECT 1 FROM notes WHERE transaction_no = ?", [txn]).fetchone():
                    raise MoneyStacked(txn, state, f"cancel purchase {purchase_no}: notes are stacked, commit it")
                now = self._clock()
                conn.execute("UPDATE payments SET state = ?, finished_at = ? WHERE transaction_no = ?",
                             [CANCELLED, now, txn])
                conn.execute("UPDATE purchases SET state = ?, finished_at = ?, error_code = ?, error_message = ? "
                             "WHERE purchase_no = ?", [P.CANCELLED, now, code or None, detail or None, purchase_no])
            elif state != P.CANCELLED:
                raise PurchaseStateError(purchase_no, state, "cancel")
        return self.get_purchase(purchase_no)

    def _commit(self, conn: sqlite3.Connection, txn: str, state: str, paid_at: str, *, recovered: bool) -> None:
        """The payments' commit (:meth:`TakingCash._commit`, for ``commit`` and ``recover``),
        refused for the cash of a purchase: posted as a bill payment, it would be booked
        to the account's balance and the card never credited."""
        row = conn.execute("SELECT purchase_no FROM purchases WHERE transaction_no = ?", [txn]).fetchone()
        if row is not None:
            raise PaymentStateError(txn, state, f"commit it as a bill payment: it is the cash of card purchase "
                                                f"{row[0]}, posted by the purchase outbox")
        super()._commit(conn, txn, state, paid_at, recovered=recovered)

    # -- after a crash ------------------------------------------------------------------
    def recover(self, now: float | None = None):
        """The purchases' cash first, then every payment (:meth:`Recovery.recover`).

        A purchase a crash left in opened or cash_in is committed (notes
        stacked: into the purchase outbox, ``recovered`` set, ``paid_at`` its
        last note) or cancelled, before the payments' recovery runs: that one
        would commit the cash row as a bill payment.  The payments' cases are
        returned (purchases have their own: :func:`kiosk.top_up_recovery`)."""
        self.recover_purchase_cash(now)
        return super().recover(now)

    def recover_purchase_cash(self, now: float | None = None) -> list[PurchaseRecord]:
        """Finish the cash of every purchase left in opened/cash_in, in one transaction."""
        now = self._clock() if now is None else now
        finished = []
        with self._write() as conn:
            rows = conn.execute("SELECT purchase_no, transaction_no FROM purchases WHERE state IN (?, ?) "
                                "ORDER BY opened_at, rowid", [P.OPENED, P.CASH_IN]).fetchall()
            for purchase_no, txn in rows:
                last = conn.execute("SELECT MAX(stacked_at) FROM notes WHERE transaction_no = ?", [txn]).fetchone()[0]
                if last is not None:
                    self._commit_purchase(conn, purchase_no, iso_with_offset(last), recovered=True)
                else:
                    conn.execute("UPDATE payments SET state = ?, finished_at = ?, recovered = 1 "
                                 "WHERE transaction_no = ?", [CANCELLED, now, txn])
                    conn.execute("UPDATE purchases SET state = ?, finished_at = ?, recovered = 1 "
                                 "WHERE purchase_no = ?", [P.CANCELLED, now, purchase_no])
                finished.append(purchase_no)
        return [self.get_purchase(no) for no in finished]

    # -- reading -------------------------------------------------------------------------
    def get_purchase(self, purchase_no: str) -> PurchaseRecord:
        found = self._purchases("p.purchase_no = ?", [purchase_no])
        if not found:
            raise UnknownPurchase(purchase_no)
        return found[0]

    def unfinished_purchases(self) -> list[PurchaseRecord]:
        """Purchases not yet confirmed, referred or cancelled, oldest first: what recovery carries forward."""
        return self._purchases(f"p.state IN {sql_list(PURCHASE_UNFINISHED)}")

    def purchases_of_card(self, card_serial: str) -> list[PurchaseRecord]:
        """Every purchase of this card, newest first (``paid_not_written`` ones are rewritten first)."""
        return self._purchases("p.card_serial = ?", [card_serial], order="p.opened_at DESC, p.rowid DESC")

    def purchases_between(self, start: float, end: float) -> list[PurchaseRecord]:
        """Purchases opened in [start, end), oldest first."""
        return self._purchases("p.opened_at >= ? AND p.opened_at < ?", [start, end])

    def purchase_outbox(self, limit: int | None = None) -> list[PurchaseOutboxEntry]:
        """Postings waiting (payments and confirmations), oldest first."""
        sql = "SELECT id, purchase_no, step, queued_at FROM purchase_outbox ORDER BY id"
        with self._lock:
            rows = self._db.conn.execute(sql + (f" LIMIT {int(limit)}" if limit is not None else "")).fetchall()
        return [PurchaseOutboxEntry(*row) for row in rows]

    def purchases_to_follow(self, limit: int = 50) -> PurchasesToFollow:
        """Paid and not on the card, referred, or with a posting still queued: the newest ``limit``
        and the counts of all, in one query.  Found through the state index and the outbox (an OR
        of two indexed lookups), so years of confirmed purchases are never scanned."""
        queued = "(SELECT group_concat(o.step) FROM purchase_outbox o WHERE o.purchase_no = p.purchase_no)"
        not_written = f"p.state IN {sql_list(PAID_NOT_WRITTEN)}"
        to_follow = sql_list((*PAID_NOT_WRITTEN, P.REFERRED))
        amount = f"CASE p.method WHEN '{CASH}' THEN p.paid_fen ELSE p.chosen_fen END"
        sql = (f"SELECT p.purchase_no, p.utility, p.card_serial, p.account_masked, p.method, p.state, p.chosen_fen, "
               f"p.paid_fen, p.write_attempts, p.write_reason, p.attempts, p.error_code, p.opened_at, {queued}, "
               f"COUNT(*) OVER (), SUM({not_written}) OVER (), SUM(CASE WHEN {not_written} THEN {amount} END) "
               f"OVER (), SUM(p.state = '{P.REFERRED}') OVER (), SUM({queued} IS NOT NULL) OVER () "
               f"FROM purchases p "
               f"WHERE p.state IN {to_follow} OR p.purchase_no IN (SELECT purchase_no FROM purchase_outbox) "
               f"ORDER BY p.opened_at DESC, p.rowid DESC LIMIT ?")
        with self._lock:
            rows = self._db.conn.execute(sql, [int(limit)]).fetchall()
        counts = rows[0][14:] if rows else (0, 0, 0, 0, 0)
        return PurchasesToFollow(tuple(PurchaseToFollow(*row[:5], PurchaseState(row[5]), *row[6:14]) for row in rows),
                                 *(value or 0 for value in counts))

    def _purchases(self, where: str, params: list | None = None, *,
                   order: str = "p.opened_at, p.rowid") -> list[PurchaseRecord]:
        columns = ", ".join(f"p.{c}" for c in _RECORD_COLUMNS)
        with self._lock:
            conn = self._db.conn
            rows = conn.execute(f"SELECT {columns} FROM purchases p WHERE {where} ORDER BY {order}",
                                params or []).fetchall()
            return [_record(row, self._note_counts(conn, row[1]) if row[1] else ()) for row in rows]

    @staticmethod
    def _purchase_row(conn: sqlite3.Connection, purchase_no: str, columns: str) -> tuple:
        row = conn.execute(f"SELECT {columns} FROM purchases WHERE purchase_no = ?", [purchase_no]).fetchone()
        if row is None:
            raise UnknownPurchase(purchase_no)
        return row


def purchase_number(terminal_id: str, transaction_no: str) -> str:
    """``<terminal>-P<yyyymmdd>-<sequence>`` from the cash row's ``<terminal>-<yyyymmdd>-<sequence>``."""
    number = f"{terminal_id}-P{transaction_no[len(terminal_id) + 1:]}"
    if not PURCHASE_NO.fullmatch(number):
        raise ValueError(f"terminal id {terminal_id!r} makes the purchase number {number!r}, longer than the 32 "
                         f"characters a card's write token carries: card top-ups need a terminal id of at most "
                         f"{32 - len(number) + len(terminal_id)} characters")
    return number


def _record(row: tuple, notes: tuple[tuple[int, int], ...]) -> PurchaseRecord:
    fields = dict(zip(_RECORD_COLUMNS, row))
    fields["state"] = PurchaseState(fields["state"])
    if fields["state"] in (P.OPENED, P.CASH_IN):  # taking cash: what its notes add up to so far
        fields["paid_fen"] = sum(d * c for d, c in notes)
    fields["recovered"] = bool(fields["recovered"])
    return PurchaseRecord(**fields, notes=tuple(map(tuple, notes)))
