"""Keeping the journal safe and small: retention purge, online backup, integrity."""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from offline_store.fsync import fsync_path
from offline_store.journal.errors import JournalError
from offline_store.journal.states import CANCELLED, POSTED


class Retention:
    """Keeping the journal safe and small: retention purge, online backup, integrity. (a part of :class:`~offline_store.journal.MoneyJournal`)."""

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
            fsync_path(temporary)
            os.replace(temporary, target)
            fsync_path(target.parent)
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
