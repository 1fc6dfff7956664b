"""The audit log of the maintenance screen: every action, who, when, what and how it ended.

Append-only rows in the maintenance file (``offline_store/maintenance_store.py``);
kept for ``maintenance.audit_days`` and purged when written past that.  What a
row says is the technician's action, never a customer's data: callers pass
masked account numbers at most.  ``kiosk maintenance audit`` prints it.
"""

from __future__ import annotations

import datetime
from typing import Callable

from offline_store.maintenance_store import AuditEntry, MaintenanceStore

DAY_S = 86_400.0


class Audit:
    def __init__(self, store: MaintenanceStore, *, keep_days: int, clock: Callable[[], float]) -> None:
        self.store = store
        self.keep_days = keep_days
        self.clock = clock

    def record(self, user: str, action: str, what: str, result: str) -> None:
        now = self.clock()
        self.store.append_audit(AuditEntry(now, user, action, what, result))
        self.store.purge_audit_before(now - self.keep_days * DAY_S)

    def since(self, day: datetime.date) -> list[AuditEntry]:
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.timezone.utc).timestamp()
        return self.store.audit_since(start)


def audit_lines(entries: list[AuditEntry]) -> list[str]:
    """One line per entry: time (UTC), user, action, what, result — for the console."""
    lines = []
    for entry in entries:
        when = datetime.datetime.fromtimestamp(entry.at, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when}  {entry.user:<16} {entry.action:<10} {entry.result:<8} {entry.what}")
    return lines
