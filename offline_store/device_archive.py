"""The device maintenance archive (rule 4 of MISSION.md): faults and repairs.

One SQLite file, opened through sqlite-utils with WAL and ``synchronous=FULL``
so a power cut never loses a recorded fault.  Every fault a device reports is
a row with when it was raised and, once the device works again, when it was
cleared; technicians' repair notes go beside them (the maintenance screen
writes those).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from offline_store.durable_db import open_database

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FaultRecord:
    id: int
    device: str
    state: str
    reason: str
    detail: str
    raised_at: float
    cleared_at: float | None

    @property
    def open(self) -> bool:
        return self.cleared_at is None


class DeviceArchive:
    """Faults raised and cleared, per device; safe to call from one thread at a time."""

    def __init__(self, db: sqlite_utils.Database, clock=time.time) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._migrate()

    @classmethod
    def at(cls, path: str | Path) -> "DeviceArchive":
        return cls(open_database(path))

    def _migrate(self) -> None:
        with self._lock, self._db.conn:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version < 1:
                self._db["device_faults"].create(
                    {"id": int, "device": str, "state": str, "reason": str, "detail": str,
                     "raised_at": float, "cleared_at": float},
                    pk="id", not_null={"device", "state", "reason", "raised_at"}, if_not_exists=True,
                )
                self._db["device_faults"].create_index(["device", "cleared_at"], if_not_exists=True)
                self._db["repairs"].create(
                    {"id": int, "device": str, "technician": str, "note": str, "at": float},
                    pk="id", not_null={"device", "note", "at"}, if_not_exists=True,
                )
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- faults ------------------------------------------------------------
    def raise_fault(self, device: str, state: str, reason: str, detail: str) -> int:
        """Record a new fault, closing any other fault still open for the device."""
        now = self._clock()
        with self._lock, self._db.conn:
            self._close_open(device, now)
            return self._db["device_faults"].insert(
                {"device": device, "state": state, "reason": reason, "detail": detail,
                 "raised_at": now, "cleared_at": None}
            ).last_pk

    def clear_faults(self, device: str) -> int:
        """The device works again: close its open faults; returns how many."""
        with self._lock, self._db.conn:
            return self._close_open(device, self._clock())

    def _close_open(self, device: str, now: float) -> int:
        cursor = self._db.execute(
            "UPDATE device_faults SET cleared_at = ? WHERE device = ? AND cleared_at IS NULL", [now, device]
        )
        return cursor.rowcount

    def open_faults(self, device: str | None = None) -> list[FaultRecord]:
        where = "cleared_at IS NULL" + (" AND device = ?" if device else "")
        return self._faults(where, [device] if device else [])

    def history(self, device: str | None = None, limit: int = 200) -> list[FaultRecord]:
        where = "1 = 1" + (" AND device = ?" if device else "")
        return self._faults(where, [device] if device else [], limit)

    def _faults(self, where: str, params: list, limit: int | None = None) -> list[FaultRecord]:
        sql = f"SELECT id, device, state, reason, detail, raised_at, cleared_at FROM device_faults WHERE {where}"
        sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [FaultRecord(*row) for row in rows]

    # -- repairs (written by the maintenance screen) -------------------------------
    def record_repair(self, device: str, technician: str, note: str) -> int:
        if not note.strip():
            raise ValueError("a repair record needs a note saying what was done")
        with self._lock, self._db.conn:
            return self._db["repairs"].insert(
                {"device": device, "technician": technician, "note": note, "at": self._clock()}
            ).last_pk
