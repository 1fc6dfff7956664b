"""Mobile payment orders (扫码支付) in the money journal: opened before they exist, then what the billing system says.

An order is a state machine beside the cash payments and the card purchases,
with their durability: each call is one transaction, committed before it
returns, so the caller shows a QR code or sends a scanned code only after the
journal holds the order (docs/api.md 3.14 to 3.17; the states are
:class:`~offline_store.journal.records.MobileOrderState`)::

    opened ─create─▶ created ◀─▶ user_paying ─▶ paid                (final)
      │                 │            ├──────────▶ declined            (final)
      │                 │            └──reverse─▶ reversed            (final, code_scanned)
      │                 ├──cancel/expiry──▶ cancelled / expired ─late─▶ paid
      │                 │                   (final once the late window closed)
      └──refused / never arrived──▶ not_created                       (final)

The order number ``<terminal>-M<yyyymmdd>-<sequence>`` takes its sequence from
the payments' transaction numbers, so it is unique for the journal's life and
across terminals; it is the Idempotency-Key of the create, the cancel and the
reverse.  The create body is rebuilt from the row (:meth:`mobile_order_request`)
so every attempt sends the same body; a scanned payment code is a one-time
credential that only the caller holds (never journaled).

A paid order is posted by the billing system itself (docs/api.md, "Exactly
once"): the journal records its receipt and puts nothing in any outbox, so
nothing here can post it a second time.  An answer that contradicts what the
journal already holds as final (another receipt, paid turned cancelled) is
refused, and the row keeps what it had.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from contract.masking import mask_account
from contract.mobile import MobileOrder, MobileOrderRequest, PaymentMethod
from offline_store.journal.errors import JournalError
from offline_store.journal.records import MobileOrderRecord, MobileOrderState
from offline_store.journal.values import check_fen

M = MobileOrderState
MOBILE_TABLE = "mobile_orders"  # the associated data of its sealed account numbers
ALWAYS_FINAL = (M.PAID, M.DECLINED, M.REVERSED, M.NOT_CREATED)
_LATE_OPEN = (M.EXPIRED, M.CANCELLED)  # may still turn paid while the billing system says not final
_COLUMNS = (
    "order_no", "terminal_id", "utility", "account_masked", "purchase_no", "method", "amount_fen", "state", "final",
    "created_at", "opened_at", "expires_at", "deadline_at", "qr_payload", "provider", "provider_ref_masked",
    "decline_reason", "paid_at", "posted_to", "receipt_no", "posted_at", "balance_after_fen", "arrears_after_fen",
    "cancel_asked_at", "reverse_asked_at", "asked", "attempts", "error_code", "error_message", "last_asked_at",
    "finished_at", "recovered", "purged_at")
_ANSWER_FIELDS = ("expires_at", "qr_payload", "provider", "provider_ref_masked", "decline_reason", "paid_at",
                  "posted_to", "receipt_no", "posted_at", "balance_after_fen", "arrears_after_fen")


class UnknownMobileOrder(JournalError):
    def __init__(self, order_no: str) -> None:
        self.order_no = order_no
        super().__init__(f"no mobile order {order_no} in the journal")


class MobileOrderStateError(JournalError):
    """The call or the answer does not fit the order's state (a caller's bug, or a
    billing system contradicting what it said before)."""

    def __init__(self, order_no: str, state: str | None, action: str) -> None:
        self.order_no = order_no
        self.state = state
        super().__init__(f"mobile order {order_no} is {state}: cannot {action}")


class MobileOrders:
    """Mobile payment orders (a part of :class:`~offline_store.journal.MoneyJournal`)."""

    def open_mobile_order(self, terminal_id: str, utility: str, account_no: str, amount_fen: int,
                          method: PaymentMethod | str, *, purchase_no: str | None = None) -> MobileOrderRecord:
        """Journal an order as ``opened`` before it is made: from now on its number exists,
        and so does the create body (``created_at`` fixed now, the account sealed)."""
        check_fen("amount_fen", amount_fen, minimum=1)
        method = PaymentMethod(method)
        now = self._clock()
        created_at = datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds")
        day = time.strftime("%Y%m%d", time.localtime(now))
        with self._write() as conn:
            txn = self._next_transaction_no(conn, terminal_id, day)
            order_no = f"{terminal_id}-M{txn[len(terminal_id) + 1:]}"
            # The body is checked now, so a value the contract cannot carry is refused before
            # anything is on disk (ValueError), never when the first create is attempted.
            MobileOrderRequest(order_no, terminal_id, utility, account_no, amount_fen, method, created_at,
                               purchase_no=purchase_no, payment_code="0" * 16 if _scanned(method) else None)
            sealed = self._key.encrypt(account_no, table=MOBILE_TABLE, row=order_no, field="account_no")
            conn.execute(
                "INSERT INTO mobile_orders (order_no, terminal_id, utility, account_masked, account_no_enc, "
                "purchase_no, method, amount_fen, state, final, created_at, opened_at, asked, attempts, recovered) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0)",
                [order_no, terminal_id, utility, mask_account(account_no), sealed, purchase_no, method.value,
                 amount_fen, M.OPENED, created_at, now])
        return self.get_mobile_order(order_no)

    def mobile_order_request(self, order_no: str, payment_code: str | None = None) -> MobileOrderRequest:
        """The create body (3.14), the same on every attempt; ``payment_code`` for a scanned order."""
        with self._lock:
            row = self._mobile_row(self._db.conn, order_no, "terminal_id, utility, amount_fen, method, created_at, "
                                                             "purchase_no")
        terminal, utility, amount, method, created_at, purchase_no = row
        account_no = self.mobile_account_no(order_no)
        return MobileOrderRequest(order_no, terminal, utility, account_no, amount, PaymentMethod(method), created_at,
                                  purchase_no=purchase_no, payment_code=payment_code)

    def record_mobile_order(self, order_no: str, order: MobileOrder, *, recovered: bool = False) -> MobileOrderRecord:
        """What the billing system answered about the order (any of 3.14 to 3.17), journaled.

        The same answer again changes nothing but the count of answers; a paid
        order keeps its one receipt; a final order that the answer contradicts
        is refused (:class:`MobileOrderStateError`) and keeps what it had."""
        with self._write() as conn:
            state, final = self._check_answer(conn, order_no, order)
            status = M(order.status.value)
            now = self._clock()
            conn.execute("UPDATE mobile_orders SET asked = asked + 1, last_asked_at = ?, error_code = NULL, "
                         "error_message = NULL, deadline_at = COALESCE(deadline_at, ?) WHERE order_no = ?",
                         [now, now + order.expires_in_s, order_no])
            if final:
                return self.get_mobile_order(order_no)
            values = {name: _stored(getattr(order, name)) for name in _ANSWER_FIELDS}
            conn.execute(
                f"UPDATE mobile_orders SET state = ?, final = ?, finished_at = ?, recovered = MAX(recovered, ?), "
                f"{', '.join(f'{name} = ?' for name in values)} WHERE order_no = ?",
                [status, int(order.final), now if order.final else None, int(recovered), *values.values(),
                 order_no])
        return self.get_mobile_order(order_no)

    def _check_answer(self, conn: sqlite3.Connection, order_no: str, order: MobileOrder) -> tuple[str, bool]:
        """(state, final) before the answer, once the answer is known to be about this order
        and to fit what the journal holds."""
        row = self._mobile_row(conn, order_no, "state, final, amount_fen, method, purchase_no, account_no_enc, "
                                               "receipt_no")
        state, final, amount, method, purchase_no, sealed, receipt = row
        asked = (order_no, amount, method, purchase_no)
        answered = (order.order_no, order.amount_fen, order.method.value, order.purchase_no)
        if asked != answered or (sealed is not None and order.account_no != self._key.decrypt(
                sealed, table=MOBILE_TABLE, row=order_no, field="account_no")):
            raise ValueError(f"the answer is order {order.order_no} of {order.amount_fen} fen ({order.method.value}):"
                             f" not the order {order_no} the journal holds")
        status = M(order.status.value)
        if final:
            if status != state or (receipt is not None and order.receipt_no != receipt):
                raise MobileOrderStateError(order_no, state, f"become {status.value} (it is final)")
            return state, True
        if state in _LATE_OPEN and status not in (*_LATE_OPEN, M.PAID):
            raise MobileOrderStateError(order_no, state, f"go back to {status.value}")
        return state, False

    def mark_mobile_asked(self, order_no: str, action: str) -> MobileOrderRecord:
        """Write-ahead of a cancel (3.16, ``"cancel"``) or a reverse (3.17, ``"reverse"``): the
        intent is on disk before the request is sent, so a restart finishes it.  Only while
        the order may still be paid; asked already: unchanged."""
        column = {"cancel": "cancel_asked_at", "reverse": "reverse_asked_at"}[action]
        wanted = PaymentMethod.QR_SHOWN if action == "cancel" else PaymentMethod.CODE_SCANNED
        with self._write() as conn:
            state, method = self._mobile_row(conn, order_no, "state, method")
            if method != wanted or state not in (M.OPENED, M.CREATED, M.USER_PAYING, *_LATE_OPEN):
                raise MobileOrderStateError(order_no, state, f"{action} a {method} order")
            conn.execute(f"UPDATE mobile_orders SET {column} = COALESCE({column}, ?) WHERE order_no = ?",
                         [self._clock(), order_no])
        return self.get_mobile_order(order_no)

    def mark_mobile_not_created(self, order_no: str, code: str, detail: str = "") -> MobileOrderRecord:
        """opened → not_created (final): the billing system refused the create (``code``), or
        says it never got one (ORDER_NOT_FOUND).  Nothing was charged; nothing can be."""
        with self._write() as conn:
            state = self._mobile_row(conn, order_no, "state")[0]
            if state == M.NOT_CREATED:
                return self.get_mobile_order(order_no)
            if state != M.OPENED:
                raise MobileOrderStateError(order_no, state, f"be marked never made ({code})")
            conn.execute("UPDATE mobile_orders SET state = ?, final = 1, finished_at = ?, error_code = ?, "
                         "error_message = ? WHERE order_no = ?",
                         [M.NOT_CREATED, self._clock(), code, detail or None, order_no])
        return self.get_mobile_order(order_no)

    def mark_mobile_failed_ask(self, order_no: str, code: str, detail: str = "") -> MobileOrderRecord:
        """A request about the order failed in a way that may pass (the network, a malformed
        reply): ``attempts`` + 1; the order is asked again, its state unchanged."""
        with self._write() as conn:
            self._mobile_row(conn, order_no, "state")
            conn.execute("UPDATE mobile_orders SET attempts = attempts + 1, last_asked_at = ?, error_code = ?, "
                         "error_message = ? WHERE order_no = ?", [self._clock(), code, detail or None, order_no])
        return self.get_mobile_order(order_no)

    def mark_mobile_recovered(self, order_no: str) -> MobileOrderRecord:
        """Carried forward after a restart: its outcome is told on a recovery slip."""
        with self._write() as conn:
            self._mobile_row(conn, order_no, "state")
            conn.execute("UPDATE mobile_orders SET recovered = 1 WHERE order_no = ?", [order_no])
        return self.get_mobile_order(order_no)

    # -- reading ------------------------------------------------------------------------------
    def get_mobile_order(self, order_no: str) -> MobileOrderRecord:
        found = self._mobile_orders("order_no = ?", [order_no])
        if not found:
            raise UnknownMobileOrder(order_no)
        return found[0]

    def mobile_orders_to_follow(self) -> list[MobileOrderRecord]:
        """Every order not yet final, oldest first: what recovery asks about (a partial index)."""
        return self._mobile_orders("final = 0")

    def mobile_orders_between(self, start: float, end: float) -> list[MobileOrderRecord]:
        """Orders opened in [start, end), oldest first."""
        return self._mobile_orders("opened_at >= ? AND opened_at < ?", [start, end])

    def mobile_orders_of_purchase(self, purchase_no: str) -> list[MobileOrderRecord]:
        return self._mobile_orders("purchase_no = ?", [purchase_no])

    def mobile_account_no(self, order_no: str) -> str:
        """The decrypted account number (for the staffed counter's tools)."""
        with self._lock:
            sealed = self._mobile_row(self._db.conn, order_no, "account_no_enc")[0]
        if sealed is None:
            raise MobileOrderStateError(order_no, None, "show its account number: personal data purged")
        return self._key.decrypt(sealed, table=MOBILE_TABLE, row=order_no, field="account_no")

    def _mobile_orders(self, where: str, params: list | None = None) -> list[MobileOrderRecord]:
        with self._lock:
            rows = self._db.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM mobile_orders WHERE {where} "
                                         "ORDER BY opened_at, rowid", params or []).fetchall()
        return [_record(row) for row in rows]

    @staticmethod
    def _mobile_row(conn: sqlite3.Connection, order_no: str, columns: str) -> tuple:
        row = conn.execute(f"SELECT {columns} FROM mobile_orders WHERE order_no = ?", [order_no]).fetchone()
        if row is None:
            raise UnknownMobileOrder(order_no)
        return row

    # -- retention ------------------------------------------------------------------------------
    def purge_personal_data(self, older_than_days: int, now: float | None = None) -> int:
        """The payments' purge (:meth:`Retention.purge_personal_data`), then the sealed
        account numbers of final orders finished as long ago; returns both counts summed."""
        purged = super().purge_personal_data(older_than_days, now)
        now = self._clock() if now is None else now
        with self._lock:
            conn = self._db.conn
            conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._write() as conn:
                    orders = conn.execute("UPDATE mobile_orders SET account_no_enc = NULL, purged_at = ? "
                                          "WHERE final = 1 AND purged_at IS NULL AND finished_at < ?",
                                          [now, now - older_than_days * 86400]).rowcount
            finally:
                conn.execute("PRAGMA secure_delete = OFF")
            if orders:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return purged + orders


def _scanned(method: str) -> bool:
    return method == PaymentMethod.CODE_SCANNED


def _stored(value: object) -> object:
    return value.value if hasattr(value, "value") else value


def _record(row: tuple) -> MobileOrderRecord:
    fields = dict(zip(_COLUMNS, row))
    fields["state"] = MobileOrderState(fields["state"])
    fields["final"] = bool(fields["final"])
    fields["recovered"] = bool(fields["recovered"])
    fields["purged"] = fields.pop("purged_at") is not None
    return MobileOrderRecord(**fields)
