"""The journal file itself: opening, its key and identity, one write transaction at a time."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Self

from offline_store import journal_file, journal_identity
from offline_store.disk_reserve import DiskReserve, is_disk_full
from offline_store.durable_db import open_database
from offline_store.journal.errors import JournalError, JournalRefused, UnknownPayment
from offline_store.journal.records import Payment
from offline_store.journal.schema import migrate
from offline_store.pii import PiiKey, PiiKeyMismatch, open_or_create_key

log = logging.getLogger("kiosk.payment")


class JournalCore:
    """The journal file itself: opening, its key and identity, one write transaction at a time. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

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
             attach_identity: bool = True) -> Self:
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    def _on_reserve(self, write: Callable[[], Payment]) -> Payment:
        try:
            return write()
        except sqlite3.OperationalError as error:
            # _write released the ballast when it saw the disk full: now there is room.
            if self.reserve is None or not is_disk_full(error) or self.reserve.ballast_bytes():
                raise
            log.critical("journal write retried on the released reserve")
            return write()

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

    def _state(self, conn: sqlite3.Connection, txn: str) -> str:
        state = self._state_or_none(conn, txn)
        if state is None:
            raise UnknownPayment(txn)
        return state

    @staticmethod
    def _state_or_none(conn: sqlite3.Connection, txn: str) -> str | None:
        row = conn.execute("SELECT state FROM payments WHERE transaction_no = ?", [txn]).fetchone()
        return row[0] if row else None
