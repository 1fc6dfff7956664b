"""The maintenance file: staff accounts, their failed logins, the audit log and the service switch.

Its own SQLite file (``maintenance.sqlite`` in ``storage.data_dir``, WAL and
``synchronous=FULL`` like the money journal) because it outlives a journal
restore and holds nothing of a customer.  The audit log is append-only: a
trigger refuses any UPDATE, and rows leave only by :meth:`purge_audit_before`
once older than the retention the caller keeps.  No PIN is ever stored, only
its salted scrypt hash (``kiosk/maintenance_accounts.py`` makes it).  The
service switch is one row: a terminal a technician put out of service stays
out across a restart until someone puts it back (``kiosk/service_switch.py``).
The day's service hours override is one row too, with the date it was set
for: it is read back after a restart and ignored on any other day
(``kiosk/service_hours.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offline_store.durable_db import open_database

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, digest BLOB NOT NULL,
        scrypt_n INTEGER NOT NULL, scrypt_r INTEGER NOT NULL, scrypt_p INTEGER NOT NULL, set_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS login_failures (
        name TEXT PRIMARY KEY, count INTEGER NOT NULL, locked_until REAL)""",
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
        what TEXT NOT NULL, result TEXT NOT NULL)""",
    """CREATE TRIGGER IF NOT EXISTS audit_is_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    # One row at most (id 1): the technician's decision, not a history (the audit log keeps that).
    """CREATE TABLE IF NOT EXISTS service_switch (
        id INTEGER PRIMARY KEY CHECK (id = 1), out_of_service INTEGER NOT NULL CHECK (out_of_service IN (0, 1)),
        reason TEXT NOT NULL, by TEXT NOT NULL, since REAL NOT NULL)""",
    # One row at most: a technician's hours for one day (local date), or that day closed (open/close NULL).
    """CREATE TABLE IF NOT EXISTS hours_override (
        id INTEGER PRIMARY KEY CHECK (id = 1), day TEXT NOT NULL, closed INTEGER NOT NULL CHECK (closed IN (0, 1)),
        open TEXT, close TEXT, by TEXT NOT NULL, at REAL NOT NULL,
        CHECK ((closed = 1 AND open IS NULL AND close IS NULL) OR (closed = 0 AND open < close)))""",
)


@dataclass(frozen=True)
class StoredUser:
    name: str
    role: str
    salt: bytes
    digest: bytes
    scrypt_n: int
    scrypt_r: int
    scrypt_p: int
    set_at: float


@dataclass(frozen=True)
class Failures:
    count: int
    locked_until: float | None


@dataclass(frozen=True)
class StoredSwitch:
    out_of_service: bool
    reason: str
    by: str
    since: float


@dataclass(frozen=True)
class StoredHoursOverride:
    day: str  # "YYYY-MM-DD", the local date it holds for
    closed: bool
    open: str | None  # "HH:MM" (None when closed)
    close: str | None
    by: str
    at: float  # epoch seconds, when it was set


@dataclass(frozen=True)
class AuditEntry:
    at: float
    user: str
    action: str
    what: str
    result: str


class MaintenanceStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_database(self.path)
        with self._db.conn:
            for statement in SCHEMA:
                self._db.conn.execute(statement)

    def close(self) -> None:
        self._db.conn.close()

    # -- accounts ------------------------------------------------------------------
    def put_user(self, user: StoredUser) -> None:
        with self._db.conn:
            self._db.conn.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user.name, user.role, user.salt, user.digest, user.scrypt_n, user.scrypt_r, user.scrypt_p,
                 user.set_at))
            self._db.conn.execute("DELETE FROM login_failures WHERE name = ?", (user.name,))

    def user(self, name: str) -> StoredUser | None:
        row = self._db.conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return StoredUser(*row) if row else None

    def users(self) -> list[StoredUser]:
        return [StoredUser(*row) for row in self._db.conn.execute("SELECT * FROM users ORDER BY name")]

    # -- failed logins (they count across restarts) ----------------------------------
    def failures(self, name: str) -> Failures:
        row = self._db.conn.execute("SELECT count, locked_until FROM login_failures WHERE name = ?",
                                    (name,)).fetchone()
        return Failures(*row) if row else Failures(0, None)

    def set_failures(self, name: str, failures: Failures) -> None:
        with self._db.conn:
            self._db.conn.execute("INSERT OR REPLACE INTO login_failures VALUES (?, ?, ?)",
                                  (name, failures.count, failures.locked_until))

    def clear_failures(self, name: str) -> None:
        with self._db.conn:
            self._db.conn.execute("DELETE FROM login_failures WHERE name = ?", (name,))

    # -- the audit log -----------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        with self._db.conn:
            self._db.conn.execute("INSERT INTO audit (at, user, action, what, result) VALUES (?, ?, ?, ?, ?)",
                                  (entry.at, entry.user, entry.action, entry.what, entry.result))

    def audit_since(self, since: float) -> list[AuditEntry]:
        rows = self._db.conn.execute("SELECT at, user, action, what, result FROM audit WHERE at >= ? ORDER BY id",
                                     (since,))
        return [AuditEntry(*row) for row in rows]

    def purge_audit_before(self, cutoff: float) -> int:
        with self._db.conn:
            return self._db.conn.execute("DELETE FROM audit WHERE at < ?", (cutoff,)).rowcount

    # -- the service switch (one row; none yet means in service) -------------------------
    def service_switch(self) -> StoredSwitch | None:
        row = self._db.conn.execute("SELECT out_of_service, reason, by, since FROM service_switch WHERE id = 1"
                                    ).fetchone()
        return StoredSwitch(bool(row[0]), row[1], row[2], row[3]) if row else None

    def set_service_switch(self, switch: StoredSwitch) -> None:
        with self._db.conn:
            self._db.conn.execute("INSERT OR REPLACE INTO service_switch VALUES (1, ?, ?, ?, ?)",
                                  (int(switch.out_of_service), switch.reason, switch.by, switch.since))

    # -- the day's service hours override (one row; none means the configured hours) ---------
    def hours_override(self) -> StoredHoursOverride | None:
        row = self._db.conn.execute("SELECT day, closed, open, close, by, at FROM hours_override WHERE id = 1"
                                    ).fetchone()
        return StoredHoursOverride(row[0], bool(row[1]), *row[2:]) if row else None

    def set_hours_override(self, override: StoredHoursOverride) -> None:
        with self._db.conn:
            self._db.conn.execute("INSERT OR REPLACE INTO hours_override VALUES (1, ?, ?, ?, ?, ?, ?)",
                                  (override.day, int(override.closed), override.open, override.close, override.by,
                                   override.at))

    def clear_hours_override(self) -> None:
        with self._db.conn:
            self._db.conn.execute("DELETE FROM hours_override WHERE id = 1")
