"""The device maintenance archive (rule 4 of MISSION.md): faults and repairs.

One SQLite file, opened through sqlite-utils with WAL and ``synchronous=FULL``
so a power cut never loses a recorded fault.  Every fault a device reports is
a row with when it was raised and, once the device works again, when it was
cleared; technicians' repair records go beside them (the maintenance screen
writes those): what was done, the parts used, and the faults the repair
deals with, which it closes in the same transaction.

Schema versions (``PRAGMA user_version``):

1. ``device_faults``; ``repairs`` (device, technician, note, at).
2. ``repairs.parts``; ``repair_faults`` links a repair to the faults it clears.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import sqlite_utils

from offline_store.durable_db import open_database

__all__ = ["DeviceArchive", "FaultRecord", "RepairRecord", "SCHEMA_VERSION", "open_database"]

SCHEMA_VERSION = 2
PARTS_MAX = 200  # characters: a list of part names, not an essay
NOTE_MAX = 500


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

    @property
    def at(self) -> float:
        """Where the fault stands in the device's history: when it was raised."""
        return self.raised_at


@dataclass(frozen=True)
class RepairRecord:
    id: int
    device: str
    technician: str
    note: str  # what was done
    parts: str  # "" when none were used
    at: float
    clears: tuple[int, ...]  # ids of the faults this repair dealt with


class DeviceArchive:
    """Faults raised and cleared, and repairs, per device; safe to call from one thread at a time."""

    def __init__(self, db: sqlite_utils.Database, clock=time.time) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._migrate()

    @classmethod
    def at(cls, path: str | Path) -> "DeviceArchive":
        return cls(open_database(path))

    def _migrate(self) -> None:
        with self._lock, self._db.atomic():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ValueError(
                    f"the device archive is schema version {version}, this kiosk knows up to {SCHEMA_VERSION}: "
                    "it was written by a newer kiosk — install that version again, do not downgrade")
            if version < 1:
                self._create_v1()
            if version < 2:
                # An old repair used no recorded parts and named no faults.
                self._db.execute("ALTER TABLE repairs ADD COLUMN parts TEXT NOT NULL DEFAULT ''")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS repair_faults ("
                    " repair_id INTEGER NOT NULL REFERENCES repairs(id),"
                    " fault_id INTEGER NOT NULL REFERENCES device_faults(id),"
                    " PRIMARY KEY (repair_id, fault_id))")
                self._db.execute("CREATE INDEX IF NOT EXISTS repair_faults_fault ON repair_faults (fault_id)")
            if version < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _create_v1(self) -> None:
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

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    # -- faults ------------------------------------------------------------
    def raise_fault(self, device: str, state: str, reason: str, detail: str) -> int:
        """Record a new fault, closing any other fault still open for the device."""
        now = self._clock()
        with self._lock, self._db.atomic():
            self._close_open(device, now)
            return self._db.execute(
                "INSERT INTO device_faults (device, state, reason, detail, raised_at, cleared_at) "
                "VALUES (?, ?, ?, ?, ?, NULL)", [device, state, reason, detail, now]).lastrowid

    def clear_faults(self, device: str) -> int:
        """The device works again: close its open faults; returns how many."""
        with self._lock, self._db.atomic():
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
        """Faults only, newest first (:meth:`timeline` adds the repairs)."""
        where = "1 = 1" + (" AND device = ?" if device else "")
        return self._faults(where, [device] if device else [], limit)

    def unrepaired_faults(self, device: str, limit: int = 20) -> list[FaultRecord]:
        """Faults of ``device`` no repair names yet, newest first: open ones, and those the
        device recovered from by itself (a jam cleared by hand ends before the record is written)."""
        where = "device = ? AND id NOT IN (SELECT fault_id FROM repair_faults)"
        return self._faults(where, [device], limit)

    def _faults(self, where: str, params: list, limit: int | None = None) -> list[FaultRecord]:
        sql = f"SELECT id, device, state, reason, detail, raised_at, cleared_at FROM device_faults WHERE {where}"
        sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [FaultRecord(*row) for row in rows]

    # -- repairs (written by the maintenance screen) -------------------------------
    def record_repair(self, device: str, technician: str, note: str, parts: str = "",
                      clears: Iterable[int] = ()) -> int:
        """Write a repair; the faults in ``clears`` (of this device) are linked to it and,
        if still open, closed — all in one transaction, or nothing at all.  Returns its id."""
        note, parts, clears = note.strip(), parts.strip(), tuple(dict.fromkeys(int(i) for i in clears))
        _check_repair(device, technician, note, parts)
        now = self._clock()
        with self._lock, self._db.atomic():
            self._check_clears(device, clears)
            repair_id = self._db.execute(
                "INSERT INTO repairs (device, technician, note, parts, at) VALUES (?, ?, ?, ?, ?)",
                [device, technician, note, parts, now]).lastrowid
            for fault_id in clears:
                self._db.execute("INSERT INTO repair_faults (repair_id, fault_id) VALUES (?, ?)",
                                 [repair_id, fault_id])
                self._db.execute("UPDATE device_faults SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL",
                                 [now, fault_id])
        return repair_id

    def _check_clears(self, device: str, clears: tuple[int, ...]) -> None:
        if not clears:
            return
        marks = ",".join("?" * len(clears))
        found = dict(self._db.execute(
            f"SELECT id, device FROM device_faults WHERE id IN ({marks})", list(clears)).fetchall())
        missing = [i for i in clears if i not in found]
        if missing:
            raise ValueError(f"fault(s) {missing} are not in the archive: choose from the faults the page lists")
        others = [i for i in clears if found[i] != device]
        if others:
            raise ValueError(f"fault(s) {others} belong to another device, not {device}: "
                             "record a separate repair for that device")

    def repairs(self, device: str | None = None, limit: int = 200) -> list[RepairRecord]:
        """Repairs, newest first, each with the faults it clears."""
        where = "WHERE device = ?" if device else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, device, technician, note, parts, at FROM repairs {where} ORDER BY id DESC "
                f"LIMIT {int(limit)}", [device] if device else []).fetchall()
            links = self._links([row[0] for row in rows])
        return [RepairRecord(*row[:4], row[4] or "", row[5], links.get(row[0], ())) for row in rows]

    def _links(self, repair_ids: list[int]) -> dict[int, tuple[int, ...]]:
        if not repair_ids:
            return {}
        marks = ",".join("?" * len(repair_ids))
        links: dict[int, tuple[int, ...]] = {}
        for repair_id, fault_id in self._db.execute(
                f"SELECT repair_id, fault_id FROM repair_faults WHERE repair_id IN ({marks}) "
                "ORDER BY repair_id, fault_id", repair_ids):
            links[repair_id] = links.get(repair_id, ()) + (fault_id,)
        return links

    def timeline(self, device: str | None = None, limit: int = 200) -> list[FaultRecord | RepairRecord]:
        """Faults and repairs together, newest first (faults by when they were raised)."""
        entries: list[FaultRecord | RepairRecord] = [*self.history(device, limit), *self.repairs(device, limit)]
        entries.sort(key=lambda entry: entry.at, reverse=True)
        return entries[:limit]


def _check_repair(device: str, technician: str, note: str, parts: str) -> None:
    if not device.strip():
        raise ValueError("a repair record needs the device it was done on")
    if not technician.strip():
        raise ValueError("a repair record needs the technician who did it")
    if not note:
        raise ValueError("a repair record needs a note saying what was done")
    if len(note) > NOTE_MAX:
        raise ValueError(f"what was done is {len(note)} characters; at most {NOTE_MAX}: shorten it")
    if len(parts) > PARTS_MAX:
        raise ValueError(f"the parts list is {len(parts)} characters; at most {PARTS_MAX}: shorten it")
