"""The journal's tables, and the migrations that bring any older file up to date."""

from __future__ import annotations

import time
from typing import Callable

import sqlite_utils

from offline_store.journal.errors import JournalTooNew


def _v1_payments(db: sqlite_utils.Database) -> None:
    """Payments, their notes, the outbox and the transaction-number sequence."""
    db["payments"].create(
        {"transaction_no": str, "terminal_id": str, "utility": str, "business_date": str,
         "account_masked": str, "holder_masked": str,
         "account_no_enc": bytes, "holder_enc": bytes, "address_enc": bytes,
         "amount_due_fen": int, "cap_fen": int, "state": str, "paid_fen": int,
         "opened_at": float, "committed_at": float, "paid_at": str, "finished_at": float,
         "receipt_no": str, "posted_at": str, "balance_after_fen": int, "arrears_after_fen": int,
         "error_code": str, "error_message": str, "attempts": int, "recovered": int, "purged_at": float},
        pk="transaction_no",
        not_null={"terminal_id", "utility", "business_date", "account_masked", "holder_masked",
                  "amount_due_fen", "cap_fen", "state", "paid_fen", "opened_at", "attempts", "recovered"},
        defaults={"paid_fen": 0, "attempts": 0, "recovered": 0},
    )
    db["payments"].create_index(["state"])
    db["notes"].create(
        {"id": int, "transaction_no": str, "denomination_fen": int, "acceptor_ref": str, "stacked_at": float},
        pk="id", not_null={"transaction_no", "denomination_fen", "acceptor_ref", "stacked_at"},
        foreign_keys=[("transaction_no", "payments", "transaction_no")],
    )
    db["notes"].create_index(["acceptor_ref"], unique=True)
    db["notes"].create_index(["transaction_no"])
    # The outbox's order is its id: insertion order, whatever the clock did.
    db["outbox"].create(
        {"id": int, "transaction_no": str, "queued_at": float},
        pk="id", not_null={"transaction_no", "queued_at"},
        foreign_keys=[("transaction_no", "payments", "transaction_no")],
    )
    db["outbox"].create_index(["transaction_no"], unique=True)
    db["txn_sequence"].create(
        {"terminal_id": str, "business_date": str, "last_seq": int},
        pk=("terminal_id", "business_date"), not_null={"last_seq"},
    )
    db["meta"].create({"key": str, "value": str}, pk="key")


def _v2_cash_box(db: sqlite_utils.Database) -> None:
    """Cash box: collections, and notes that belong to no payment."""
    db["unassigned_notes"].create(
        {"id": int, "recorded_at": float, "denomination_fen": int, "transaction_no": str,
         "acceptor_ref": str, "kind": str, "reason": str},
        pk="id", not_null={"recorded_at", "kind", "reason"},
    )
    db["unassigned_notes"].create_index(["acceptor_ref"], unique=True)  # NULLs are distinct
    db["collections"].create(
        {"id": int, "collected_at": float, "by": str, "last_note_id": int, "last_unassigned_id": int,
         "counts_json": str, "total_fen": int},
        pk="id", not_null={"collected_at", "by", "last_note_id", "last_unassigned_id", "counts_json",
                           "total_fen"},
    )


def _v3_escrow_marks(db: sqlite_utils.Database) -> None:
    """Write-ahead marks: the note in escrow and its payment, journaled before STACK-1."""
    db["escrow_marks"].create(
        {"id": int, "transaction_no": str, "denomination_fen": int, "marked_at": float, "closed_at": float,
         "outcome": str},
        pk="id", not_null={"transaction_no", "denomination_fen", "marked_at"},
        foreign_keys=[("transaction_no", "payments", "transaction_no")],
    )
    db.execute("CREATE INDEX escrow_marks_open ON escrow_marks(closed_at) WHERE closed_at IS NULL")


def _v4_sealed_error_messages(db: sqlite_utils.Database) -> None:
    """The billing system's words about a payment may name the customer: sealed, like
    the account number (the clear column keeps only a summary without them)."""
    db["payments"].add_column("error_message_enc", bytes)


def _v5_counted_collections(db: sqlite_utils.Database) -> None:
    """Collections that were counted (清机): the collector's figures, the difference, the
    note, a number for the slip, and the start of the period.

    ``counts_json`` and ``total_fen`` keep what the journal expected.  Notes
    fed during device tests are ``unassigned_notes`` of kind ``test_note``
    (text, like every kind: no column changes).  Collections made before this
    version were not counted: their count is taken as the journal's, with no
    difference, and each gets its number and period from its own row.
    """
    collections = db["collections"]
    for column, kind in (("number", str), ("since", float), ("counted_json", str), ("difference_fen", int),
                         ("note", str)):
        collections.add_column(column, kind)
    conn = db.conn
    since = None
    for row_id, collected_at in conn.execute("SELECT id, collected_at FROM collections ORDER BY id").fetchall():
        conn.execute("UPDATE collections SET number = ?, since = ?, counted_json = counts_json, difference_fen = 0, "
                     "note = '' WHERE id = ?", [collection_number(row_id, collected_at), since, row_id])
        since = collected_at
    db.execute("CREATE UNIQUE INDEX collections_number ON collections(number)")


def _v6_card_purchases(db: sqlite_utils.Database) -> None:
    """Prepaid card purchases (购电/购水/购气) and their outbox (offline_store/journal/purchases.py).

    A purchase's cash is a row of ``payments`` (``transaction_no``): its notes,
    escrow marks and cash box count are a payment's, so nothing about cash is
    written twice; that row never enters the payment outbox (the journal
    refuses it, see purchases.py).  The purchase outbox holds its two
    postings, each once: the payment and the confirmation of the write.
    Nothing earlier changes.
    """
    db["purchases"].create(
        {"purchase_no": str, "transaction_no": str, "terminal_id": str, "utility": str, "card_serial": str,
         "account_masked": str, "method": str, "state": str, "chosen_fen": int, "min_amount_fen": int,
         "max_amount_fen": int, "card_count_before": int, "purchase_count": int, "ordered_at": str,
         "paid_fen": int, "paid_at": str, "receipt_no": str, "arrears_paid_fen": int, "credit_fen": int,
         "booked_at": str, "token_credit_fen": int, "token_count": int, "token_mac": bytes, "issued_at": str,
         "write_attempts": int, "write_started_at": float, "write_outcome": str, "write_reason": str,
         "write_detail": str, "card_count_after": int, "card_credit_after_fen": int, "written_at": float,
         "confirmed_at": str, "attempts": int, "error_code": str, "error_message": str, "opened_at": float, "finished_at": float, "recovered": int},
        pk="purchase_no",
        not_null={"terminal_id", "utility", "card_serial", "account_masked", "method", "state", "chosen_fen",
                  "min_amount_fen", "max_amount_fen", "card_count_before", "paid_fen", "write_attempts",
                  "attempts", "opened_at", "recovered"},
        defaults={"paid_fen": 0, "write_attempts": 0, "attempts": 0, "recovered": 0},
        foreign_keys=[("transaction_no", "payments", "transaction_no")],
    )
    db["purchases"].create_index(["transaction_no"], unique=True)  # NULLs (rewrites of others' purchases) distinct
    db["purchases"].create_index(["card_serial"])
    db["purchases"].create_index(["state"])
    db["purchase_outbox"].create(
        {"id": int, "purchase_no": str, "step": str, "queued_at": float},
        pk="id", not_null={"purchase_no", "step", "queued_at"},
        foreign_keys=[("purchase_no", "purchases", "purchase_no")],
    )
    db["purchase_outbox"].create_index(["purchase_no", "step"], unique=True)


def _v7_mobile_orders(db: sqlite_utils.Database) -> None:
    """Mobile payment orders (扫码支付, offline_store/journal/mobile_orders.py; docs/api.md 3.14 to 3.17).

    One row per order number, journaled ``opened`` before the order is made.
    The billing system posts a paid order itself, so no outbox belongs to it:
    the row records the receipt.  The account number is sealed like a
    payment's (``account_no_enc``, the order number as the row); a payment
    code is never stored.  Nothing earlier changes.
    """
    db["mobile_orders"].create(
        {"order_no": str, "terminal_id": str, "utility": str, "account_masked": str, "account_no_enc": bytes,
         "purchase_no": str, "method": str, "amount_fen": int, "state": str, "final": int, "created_at": str,
         "opened_at": float, "expires_at": str, "deadline_at": float, "qr_payload": str, "provider": str,
         "provider_ref_masked": str, "decline_reason": str, "paid_at": str, "posted_to": str, "receipt_no": str,
         "posted_at": str, "balance_after_fen": int, "arrears_after_fen": int, "cancel_asked_at": float,
         "reverse_asked_at": float, "asked": int, "attempts": int, "error_code": str, "error_message": str,
         "last_asked_at": float, "finished_at": float, "recovered": int, "purged_at": float},
        pk="order_no",
        not_null={"terminal_id", "utility", "account_masked", "method", "amount_fen", "state", "final",
                  "created_at", "opened_at", "asked", "attempts", "recovered"},
        defaults={"final": 0, "asked": 0, "attempts": 0, "recovered": 0},
    )
    db.execute("CREATE INDEX mobile_orders_open ON mobile_orders(opened_at) WHERE final = 0")
    db["mobile_orders"].create_index(["purchase_no"])


def collection_number(row_id: int, collected_at: float) -> str:
    """``C-<yyyymmdd>-<row id>``: the id alone is unique in the journal; the day helps a person."""
    return f"C-{time.strftime('%Y%m%d', time.localtime(collected_at))}-{row_id:04d}"


# Index i holds the migration from user_version i to i + 1.  Append, never edit.
MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _v1_payments, _v2_cash_box, _v3_escrow_marks, _v4_sealed_error_messages, _v5_counted_collections,
    _v6_card_purchases, _v7_mobile_orders)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite_utils.Database, upto: int = SCHEMA_VERSION) -> int:
    """Bring the file to ``upto``, one migration per transaction; returns the version.

    Each migration and its ``user_version`` bump commit together, so a crash
    during an upgrade resumes at the step it was in.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise JournalTooNew(
            f"the journal is at schema version {version}, this kiosk knows {SCHEMA_VERSION}: "
            "install the newer kiosk version again, never an older one over its data")
    conn = db.conn
    while version < upto:
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](db)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return version
