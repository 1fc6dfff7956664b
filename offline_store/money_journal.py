"""The money journal: every cash payment and every stacked note, on disk first.

DESIGN.md, "Money is written down before it is acknowledged": each method
that changes a payment commits its SQLite transaction (WAL,
``synchronous=FULL``, through :func:`offline_store.device_archive.open_database`)
before it returns, so the caller may show the change or tell the backend only
after the journal holds it.  A power cut at any instant leaves either the
state before a call or the state after it.

A payment is a small state machine (docs/journal.md has the picture)::

    opened ──start_cash_in──▶ cash_in ──commit──▶ committed ──▶ posted
       │                        │                    │  ▲  └──▶ referred
       └────────cancel──────────┴──▶ cancelled       ▼  │
                  (no note stacked)               pending

* ``opened``: the customer saw the amount due; the transaction number exists.
* ``cash_in``: the acceptor is enabled; each stacked note is a row.
* ``committed``: the amount is the sum of the notes, and the payment is in the
  outbox, written in the same transaction (the sync worker posts it).
* ``pending``: a posting attempt failed in a way that may pass; still in the outbox.
* ``posted`` / ``referred``: the billing system booked it / refused it for
  good (e.g. the account is closed).  A referred payment is kept: the staffed
  counter settles it with the transaction number.
* ``cancelled``: the customer left before any note was stacked.

The transaction number is the idempotency key of the posting (docs/api.md,
3.4 and 5): ``<terminal>-<yyyymmdd>-<6-digit daily sequence>``.  The sequence
of each day is a row of its own that only ever grows, so numbers stay unique
across restarts and when the clock goes back (the primary key makes a
duplicate impossible in any case).

Notes are never lost: :meth:`MoneyJournal.record_note` writes a note that
cannot join its payment (the payment is no longer in cash-in, or unknown) to
``unassigned_notes`` before it refuses, so the cash box count still includes
it and the technician's report lists it.  Notes are never counted twice: each
carries the acceptor's reference (driver instance + ``NoteCredited.sequence``),
unique over the whole journal.

Personal data (account number, holder, address) is stored only sealed with
:class:`offline_store.pii.PiiKey`; ``account_masked`` and ``holder_masked``
are kept in clear for slips and reports.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

from kiosk.backend.models import PaymentNote, PaymentRequest, PaymentResult
from kiosk.masking import mask_account, mask_name
from offline_store import journal_file, journal_identity
from offline_store.device_archive import open_database
from offline_store.disk_reserve import DiskReserve, is_disk_full
from offline_store.pii import PiiKey, PiiKeyMismatch, open_or_create_key

log = logging.getLogger("kiosk.payment")

OPENED, CASH_IN, COMMITTED, PENDING, POSTED, REFERRED, CANCELLED = (
    "opened", "cash_in", "committed", "pending", "posted", "referred", "cancelled")
STATES = (OPENED, CASH_IN, COMMITTED, PENDING, POSTED, REFERRED, CANCELLED)
UNFINISHED = (OPENED, CASH_IN)
IN_OUTBOX = (COMMITTED, PENDING)

# Kinds of unassigned notes (notes in no payment):
IN_BOX = "in_box"  # certainly in the cash box, in no payment: counted in the box
MAYBE_IN_BOX = "maybe_in_box"  # returned or stacked, nobody knows: the collection count settles it
RETURNED_AFTER_CREDIT = "returned_after_credit"  # credited to a payment, then came back out
UNASSIGNED_KINDS = (IN_BOX, MAYBE_IN_BOX, RETURNED_AFTER_CREDIT)

MAX_DAILY_SEQUENCE = 999_999
_PII_TABLE = "payments"


# --------------------------------------------------------------------------- errors


class JournalError(Exception):
    """Base of the journal's refusals."""


class UnknownPayment(JournalError):
    def __init__(self, transaction_no: str) -> None:
        self.transaction_no = transaction_no
        super().__init__(f"no payment {transaction_no} in the journal")


class PaymentStateError(JournalError):
    """The call does not fit the payment's state (a bug in the caller, or a race)."""

    def __init__(self, transaction_no: str, state: str | None, action: str) -> None:
        self.transaction_no = transaction_no
        self.state = state
        super().__init__(f"payment {transaction_no} is {state}: cannot {action}")


class NoteOutsideCashIn(PaymentStateError):
    """A stacked note arrived for a payment that is not taking cash (or is unknown).

    The note is NOT in the payment's amount, but it is in the journal:
    ``unassigned`` is the row it was written to (kind ``in_box``), which the
    cash box counts and the technician's report lists.  The caller tells the
    customer to take the slip to the counter.
    """

    def __init__(self, transaction_no: str, state: str | None, unassigned: UnassignedNote) -> None:
        self.unassigned = unassigned
        super().__init__(transaction_no, state, f"add a note (journaled as unassigned note #{unassigned.id})")


class MoneyStacked(PaymentStateError):
    """Cancel refused: notes are stacked, the payment must be committed (money is never cancelled)."""


class NothingPaid(PaymentStateError):
    """Commit refused: no note was stacked; cancel the payment instead."""


class DuplicateAcceptorRef(JournalError):
    """An acceptor reference came back with another payment or denomination: references
    must be unique per physical note, so this is a bug in how they are built."""


class PersonalDataPurged(JournalError):
    """The payment's personal data was erased by the retention rule."""


class JournalTooNew(JournalError):
    """The file was written by a newer kiosk version; an older one must not touch it."""


class JournalRefused(JournalError):
    """The journal is missing, empty, corrupt, foreign or lost its WAL: cash stays off.

    ``inspection`` says what (its ``problem.value`` is the technician's code)."""

    def __init__(self, inspection: journal_identity.Inspection) -> None:
        super().__init__(str(inspection))
        self.inspection = inspection


class SequenceExhausted(JournalError):
    """A terminal took a million payments in one day: the format cannot number more."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Payment:
    """A payment as the journal holds it; amounts in fen, personal data masked."""

    transaction_no: str
    terminal_id: str
    utility: str
    account_masked: str
    holder_masked: str
    amount_due_fen: int
    cap_fen: int
    state: str
    paid_fen: int
    notes: tuple[tuple[int, int], ...]  # (denomination_fen, count), ascending
    opened_at: float
    committed_at: float | None
    paid_at: str | None  # ISO 8601 with offset, as posted
    finished_at: float | None  # posted, referred or cancelled
    receipt_no: str | None
    posted_at: str | None
    balance_after_fen: int | None
    arrears_after_fen: int | None
    error_code: str | None
    error_message: str | None
    attempts: int  # failed posting attempts (each left it pending)
    recovered: bool  # finished by recover() after a crash: print a recovery slip
    purged: bool  # personal data erased by retention

    @property
    def note_counts(self) -> dict[int, int]:
        return dict(self.notes)

    @property
    def note_count(self) -> int:
        return sum(count for _, count in self.notes)

    @property
    def credited_to_balance_fen(self) -> int:
        """No change is given: what is paid above the amount due goes to the balance."""
        return max(0, self.paid_fen - self.amount_due_fen)


@dataclass(frozen=True)
class Note:
    id: int
    transaction_no: str
    denomination_fen: int
    acceptor_ref: str
    stacked_at: float


@dataclass(frozen=True)
class UnassignedNote:
    """A note (or a doubt about one) that belongs to no payment's amount."""

    id: int
    recorded_at: float
    denomination_fen: int | None  # None: the acceptor could not say
    transaction_no: str | None  # the payment it arrived during, if any
    acceptor_ref: str | None
    kind: str  # IN_BOX | MAYBE_IN_BOX | RETURNED_AFTER_CREDIT
    reason: str


@dataclass(frozen=True)
class PersonalData:
    account_no: str
    holder: str
    address: str


@dataclass(frozen=True)
class RecoveryCase:
    """What :meth:`MoneyJournal.recover` did with one payment a crash left open."""

    transaction_no: str
    state_before: str
    action: str  # "committed" (queued for posting) | "cancelled"
    paid_fen: int
    note_count: int


@dataclass(frozen=True)
class PowerUpReconciliation:
    action: str  # "none" | "unassigned"
    transaction_no: str | None
    unassigned: UnassignedNote | None
    explanation: str


@dataclass(frozen=True)
class CashBox:
    """What should be in the cash box (since the last collection, or ever)."""

    since: float | None  # time of the last collection; None: since the journal began
    credited: tuple[tuple[int, int], ...]  # (denomination_fen, count) of notes in payments
    unassigned: tuple[tuple[int, int], ...]  # notes certainly in the box but in no payment
    to_check: tuple[UnassignedNote, ...]  # doubts the collection count settles

    @property
    def counts(self) -> dict[int, int]:
        """Notes per denomination the box should hold."""
        counts: dict[int, int] = {}
        for denomination, count in self.credited + self.unassigned:
            counts[denomination] = counts.get(denomination, 0) + count
        return dict(sorted(counts.items()))

    @property
    def amounts(self) -> dict[int, int]:
        return {d: d * c for d, c in self.counts.items()}

    @property
    def total_fen(self) -> int:
        return sum(self.amounts.values())

    @property
    def note_count(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Collection:
    id: int
    collected_at: float
    by: str
    counts: dict[int, int]
    total_fen: int


# --------------------------------------------------------------------------- migrations


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


# Index i holds the migration from user_version i to i + 1.  Append, never edit.
MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _v1_payments, _v2_cash_box, _v3_escrow_marks, _v4_sealed_error_messages)
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


# --------------------------------------------------------------------------- the journal


class MoneyJournal:
    """The money journal in one SQLite file; safe to call from any thread.

    ``key`` seals personal data; ``clock`` gives epoch seconds (the journal's
    notion of "now" for every timestamp it writes).
    """

    def __init__(self, path: str | Path, key: PiiKey, clock: Callable[[], float] = time.time, *,
                 reserve: DiskReserve | None = None) -> None:
        """``reserve``: the ballast released when a write fails for want of space, so
        the payment in progress can still be finished."""
        self.path = Path(path)
        self._key = key
        self._clock = clock
        self.reserve = reserve
        self._identity: journal_identity.JournalIdentity | None = None
        self._reservations: journal_identity.SequenceReservations | None = None
        self._lock = threading.RLock()
        self._db = open_database(self.path)
        with self._lock:
            migrate(self._db)
            self._bind_key()
            self._seal_clear_messages()

    @classmethod
    def open(cls, path: str | Path, key_file: str | Path,
             clock: Callable[[], float] = time.time, *, reserve: DiskReserve | None = None,
             attach_identity: bool = True) -> MoneyJournal:
        """Start-up: the key by :func:`~offline_store.pii.open_or_create_key`, then the journal.

        Raises a :class:`~offline_store.pii.PiiKeyError` (with the message to
        show and log) when the kiosk must refuse to start, and
        :class:`JournalRefused` when the journal is missing, empty, corrupt,
        foreign or lost its WAL (cash stays off; ``kiosk journal check``).
        """
        existing = PiiKey.load(key_file).key_id if Path(key_file).exists() else None
        verdict = journal_identity.inspect(path, key_file, existing, live=attach_identity)
        if not verdict.ok:
            raise JournalRefused(verdict)
        key = open_or_create_key(key_file, cls.file_holds_personal_data(path))
        journal = cls(path, key, clock, reserve=reserve)
        if not attach_identity:  # a look from a terminal (reports) while the kiosk may run
            return journal
        try:
            journal._attach_identity(journal_identity.identity_path(key_file))
        except BaseException:
            journal.close()
            raise
        return journal

    def _attach_identity(self, path: Path) -> None:
        """Bind this journal to its identity file (made on the first start, or for a
        journal older than identities), mark it running, and start numbering above
        every sequence the identity ever reserved: a journal restored from a backup
        never reissues a number."""
        with self._write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'journal_id'").fetchone()
            journal_id = row[0] if row else journal_identity.new_journal_id()
            if row is None:
                conn.execute("INSERT INTO meta(key, value) VALUES ('journal_id', ?)", [journal_id])
        identity = journal_identity.JournalIdentity.load(path)
        if identity is None:
            identity = journal_identity.JournalIdentity(path, journal_id, self._key.key_id, self._sequences())
        with self._write() as conn:
            for key, reserved in identity.reserved.items():
                terminal_id, day = key[:-9], key[-8:]
                conn.execute("INSERT INTO txn_sequence (terminal_id, business_date, last_seq) VALUES (?, ?, ?) "
                             "ON CONFLICT (terminal_id, business_date) DO UPDATE SET "
                             "last_seq = MAX(last_seq, excluded.last_seq)", [terminal_id, day, reserved])
        identity.running = True
        identity.save()
        self._identity = identity
        self._reservations = journal_identity.SequenceReservations(identity)

    def set_identity(self, journal_id: str) -> None:
        """Name a new journal (``kiosk journal new``); an identity once set is never changed."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'journal_id'").fetchone():
                raise JournalError(f"the journal {self.path} already has an identity")
            conn.execute("INSERT INTO meta(key, value) VALUES ('journal_id', ?)", [journal_id])

    def _sequences(self) -> dict[str, int]:
        with self._lock:
            return {f"{t}-{d}": seq for t, d, seq in
                    self._db.conn.execute("SELECT terminal_id, business_date, last_seq FROM txn_sequence")}

    file_holds_personal_data = staticmethod(journal_file.file_holds_personal_data)

    def close(self) -> None:
        with self._lock:
            if self._identity is not None and self._identity.running:
                # Before the close folds the WAL in: a crash in between leaves
                # "not running" with the WAL still there, never a false alarm.
                self._identity.running = False
                try:
                    self._identity.save()
                except OSError:
                    log.exception("journal identity could not be marked closed")
            self._db.conn.close()

    def __enter__(self) -> MoneyJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (fsynced) when the block ends without error."""
        with self._lock:
            conn = self._db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException as error:
                try:
                    conn.rollback()
                except sqlite3.Error:  # a disk that failed the write may fail the rollback too
                    pass
                if self.reserve is not None and is_disk_full(error):
                    self.reserve.release()  # room for the notes past escrow and the commit
                raise

    def _bind_key(self) -> None:
        """Remember which key sealed the data; refuse another key while data is sealed."""
        conn = self._db.conn
        row = conn.execute("SELECT value FROM meta WHERE key = 'pii_key_id'").fetchone()
        if row and row[0] == self._key.key_id:
            return
        if row and journal_file.holds_personal_data(conn):
            raise PiiKeyMismatch(
                f"(key {self._key.key_id})",
                f"the journal {self.path} holds personal data sealed with key {row[0]}, not this one",
                "Restore this terminal's own key file; a key from another terminal or a new key "
                "cannot read it")
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('pii_key_id', ?)", [self._key.key_id])

    def holds_personal_data(self) -> bool:
        with self._lock:
            return journal_file.holds_personal_data(self._db.conn)

    # -- opening and taking cash ----------------------------------------------------
    def open_payment(self, terminal_id: str, utility: str, account_no: str, holder_name: str, address: str,
                     amount_due_fen: int, *, cap_fen: int) -> Payment:
        """Allocate the transaction number and journal the payment as ``opened``."""
        _check_fen("amount_due_fen", amount_due_fen, minimum=0)
        _check_fen("cap_fen", cap_fen, minimum=1)
        now = self._clock()
        day = time.strftime("%Y%m%d", time.localtime(now))
        with self._write() as conn:
            txn = self._next_transaction_no(conn, terminal_id, day)

            def seal(field: str, value: str) -> bytes:
                return self._key.encrypt(value, table=_PII_TABLE, row=txn, field=field)

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
        _check_fen("denomination_fen", denomination_fen, minimum=1)
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

    def _on_reserve(self, write: Callable[[], Payment]) -> Payment:
        try:
            return write()
        except sqlite3.OperationalError as error:
            # _write released the ballast when it saw the disk full: now there is room.
            if self.reserve is None or not is_disk_full(error) or self.reserve.ballast_bytes():
                raise
            log.critical("journal write retried on the released reserve")
            return write()

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
        _check_fen("denomination_fen", denomination_fen, minimum=1)
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
        paid_at_text = _iso_with_offset(paid_at)
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

    # -- posting (the sync worker) --------------------------------------------------------
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
        account_no = self._key.decrypt(account_enc, table=_PII_TABLE, row=txn, field="account_no")
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
        sealed = self._key.encrypt(message, table=_PII_TABLE, row=txn, field="error_message")
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
        return self._key.decrypt(row[0], table=_PII_TABLE, row=txn, field="error_message")

    def _seal_clear_messages(self) -> None:
        """Journals written before v4 kept failure messages in clear: seal them now."""
        with self._write() as conn:
            rows = conn.execute("SELECT transaction_no, error_code, error_message FROM payments "
                                "WHERE error_message IS NOT NULL AND error_message_enc IS NULL").fetchall()
            for txn, code, message in rows:
                conn.execute("UPDATE payments SET error_message = ?, error_message_enc = ? WHERE transaction_no = ?",
                             [*self._sealed_message(txn, code or "", message), txn])

    # -- reading ---------------------------------------------------------------------------
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
        return self._payments(f"p.state IN {UNFINISHED!r}", order="p.opened_at, p.rowid")

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
        open_ = lambda blob, field: self._key.decrypt(blob, table=_PII_TABLE, row=txn, field=field)  # noqa: E731
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
                    f"SELECT transaction_no FROM payments WHERE state IN {UNFINISHED!r} "
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

    def _state(self, conn: sqlite3.Connection, txn: str) -> str:
        state = self._state_or_none(conn, txn)
        if state is None:
            raise UnknownPayment(txn)
        return state

    @staticmethod
    def _state_or_none(conn: sqlite3.Connection, txn: str) -> str | None:
        row = conn.execute("SELECT state FROM payments WHERE transaction_no = ?", [txn]).fetchone()
        return row[0] if row else None

    @staticmethod
    def _note_counts(conn: sqlite3.Connection, txn: str) -> tuple[tuple[int, int], ...]:
        return tuple(conn.execute("SELECT denomination_fen, COUNT(*) FROM notes WHERE transaction_no = ? "
                                  "GROUP BY denomination_fen ORDER BY denomination_fen", [txn]).fetchall())

    @staticmethod
    def _unassigned(conn: sqlite3.Connection, note_id: int) -> UnassignedNote:
        row = conn.execute("SELECT id, recorded_at, denomination_fen, transaction_no, acceptor_ref, kind, reason "
                           "FROM unassigned_notes WHERE id = ?", [note_id]).fetchone()
        return UnassignedNote(*row)

    # -- after a crash -------------------------------------------------------------------
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
            rows = conn.execute(f"SELECT transaction_no, state FROM payments WHERE state IN {UNFINISHED!r} "
                                "ORDER BY opened_at, rowid").fetchall()
            for txn, state in rows:
                count, total, last = conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(denomination_fen), 0), MAX(stacked_at) FROM notes "
                    "WHERE transaction_no = ?", [txn]).fetchone()
                if count:
                    self._commit(conn, txn, state, _iso_with_offset(last), recovered=True)
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

    # -- retention, backup, integrity ---------------------------------------------------
    def purge_personal_data(self, older_than_days: int, now: float | None = None) -> int:
        """Erase the sealed personal data of posted (and cancelled) payments finished
        more than ``older_than_days`` ago; amounts, notes and masked fields stay.
        Returns how many payments were purged.

        ``secure_delete`` overwrites the freed bytes and a WAL checkpoint moves
        the overwritten pages into the main file, so the ciphertext does not
        linger in free pages or the WAL either.
        """
        now = self._clock() if now is None else now
        cutoff = now - older_than_days * 86400
        with self._lock:
            conn = self._db.conn
            conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._write() as conn:
                    cursor = conn.execute(
                        "UPDATE payments SET account_no_enc = NULL, holder_enc = NULL, address_enc = NULL, "
                        "error_message_enc = NULL, "
                        f"purged_at = ? WHERE state IN ('{POSTED}', '{CANCELLED}') AND purged_at IS NULL "
                        "AND finished_at < ?", [now, cutoff])
                    purged = cursor.rowcount
            finally:
                conn.execute("PRAGMA secure_delete = OFF")
            if purged:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return purged

    def backup_to(self, path: str | Path) -> Path:
        """A consistent copy of the journal at ``path``, taken while writes go on.

        sqlite3's online backup API on a connection of its own copies all
        pages in one step, inside one read transaction: a snapshot of one
        instant (WAL lets writers go on meanwhile).  The copy is written under
        a temporary name, checked, fsynced and renamed into place, so
        ``path`` always holds a whole backup.  The key file is not in it.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        source = sqlite3.connect(str(self.path), timeout=5.0)
        try:
            copy = sqlite3.connect(str(temporary))
            try:
                source.backup(copy)
                result = copy.execute("PRAGMA integrity_check").fetchone()[0]
                if result != "ok":
                    raise JournalError(f"the backup copy fails integrity_check: {result}")
                copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                copy.close()
            _fsync_file(temporary)
            os.replace(temporary, target)
            _fsync_file(target.parent)
        finally:
            source.close()
            temporary.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{temporary}{suffix}").unlink(missing_ok=True)
        return target

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` and ``foreign_key_check`` both clean."""
        with self._lock:
            conn = self._db.conn
            return (conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                    and not conn.execute("PRAGMA foreign_key_check").fetchall())

    # -- the cash box -------------------------------------------------------------------
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


# --------------------------------------------------------------------------- helpers

_PAYMENT_COLUMNS = (
    "p.transaction_no, p.terminal_id, p.utility, p.account_masked, p.holder_masked, p.amount_due_fen, p.cap_fen, "
    "p.state, p.paid_fen, p.opened_at, p.committed_at, p.paid_at, p.finished_at, p.receipt_no, p.posted_at, "
    "p.balance_after_fen, p.arrears_after_fen, p.error_code, p.error_message, p.attempts, "
    "p.recovered, p.purged_at")


def _payment(row: tuple, notes: tuple[tuple[int, int], ...]) -> Payment:
    (txn, terminal, utility, account_masked, holder_masked, due, cap, state, paid, opened, committed, paid_at,
     finished, receipt, posted_at, balance, arrears, code, message, attempts, recovered, purged_at) = row
    return Payment(txn, terminal, utility, account_masked, holder_masked, due, cap, state, paid,
                   tuple(map(tuple, notes)), opened, committed, paid_at, finished, receipt, posted_at, balance,
                   arrears, code, message, attempts, bool(recovered), purged_at is not None)


def _check_fen(name: str, value: int, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer number of fen >= {minimum}, got {value!r}")


def _iso_with_offset(moment: float | datetime | str) -> str:
    """The contract's time format (docs/api.md, "Conventions"): ISO 8601 with offset."""
    if isinstance(moment, str):
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError(f"paid_at {moment!r} has no UTC offset")
        return moment
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("paid_at must be an aware datetime (with its UTC offset)")
        return moment.isoformat(timespec="seconds")
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
