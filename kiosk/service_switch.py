"""Out of service by hand, and "the maintenance screen is open": a technician's decision wins.

Two things take the machine away from customers whatever the devices say:

* **Out of service by hand** (with a reason): kept in the maintenance file
  (``offline_store/maintenance_store.py``), so a terminal that was put out
  stays out across a restart or a power cut until someone puts it back.
* **The maintenance screen is open**: in memory only.  A restart closes the
  screen, so a flag on disk would only ever be stale.

:class:`~kiosk.service_monitor.ServiceMonitor` turns either into the
out-of-order sign (:data:`REASON_MAINT_OPEN`, :data:`REASON_MAINT_OUT`) before
any other cause.  The state is cached in memory after every write, so the
monitor (asked on the GUI thread) never waits on the file; ``put_out`` and
``put_back`` (worker threads) write first and change the cache only once the
row is on disk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from kiosk.maintenance_audit import Audit
from offline_store.maintenance_store import MaintenanceStore, StoredSwitch

# Reason codes on the out-of-order sign (docs: a technician looks them up).
REASON_MAINT_OPEN = "E-MAINT-OPEN"
REASON_MAINT_OUT = "E-MAINT-OUT"
# The sign's sentence for each (assets/i18n/maintenance_operations.toml); every
# other code keeps the sign's general text.
SIGN_TEXT_KEYS = {
    REASON_MAINT_OPEN: "maint.ops.sign.being_serviced",
    REASON_MAINT_OUT: "maint.ops.sign.out_of_service",
}
MAX_REASON_CHARS = 200


class ReasonRefused(ValueError):
    """The reason cannot be kept; ``key`` is the staff's message (maint.ops.*), ``str()`` the log's."""

    def __init__(self, key: str, detail: str, **values: object) -> None:
        super().__init__(detail)
        self.key = key
        self.values = {name: str(value) for name, value in values.items()}


@dataclass(frozen=True)
class SwitchState:
    out: bool = False
    reason: str = ""  # why it is out ("" when in service)
    by: str = ""  # who put it out, or back in
    since: float | None = None  # epoch seconds, when it went out or back in (None: never switched by hand)


@dataclass(frozen=True)
class ScreenOpen:
    user: str
    since: float


def reason_problem(reason: str) -> ReasonRefused | None:
    """Why ``reason`` cannot be the recorded reason for putting the machine out, or None."""
    if not reason.strip():
        return ReasonRefused("maint.ops.switch.reason_required",
                             "a reason is required to put the machine out of service: choose a phrase or type one")
    if len(reason) > MAX_REASON_CHARS:
        return ReasonRefused("maint.ops.switch.reason_too_long",
                             f"the reason has {len(reason)} characters, at most {MAX_REASON_CHARS} are kept: "
                             "shorten it", length=len(reason), limit=MAX_REASON_CHARS)
    if not reason.isprintable():
        return ReasonRefused("maint.ops.switch.reason_unprintable",
                             "the reason holds a control character (a line break or tab): type it on one line")
    return None


class ServiceSwitch:
    def __init__(self, store: MaintenanceStore, audit: Audit, clock: Callable[[], float]) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        # Writers take turns on ``_writing`` (the file's fsync happens under it);
        # ``_lock`` only guards the cache, so the monitor never waits on the disk.
        self._writing = threading.Lock()
        self._lock = threading.Lock()
        stored = store.service_switch()
        self._state = SwitchState() if stored is None else _state(stored)
        self._screen: ScreenOpen | None = None

    # -- out of service by hand (kept on disk) ------------------------------------------
    def put_out(self, reason: str, by: str) -> SwitchState:
        """Out of service until :meth:`put_back`; raises :class:`ReasonRefused` (audited) without a usable reason.

        Put out again while out: the new reason and person replace the old, ``since`` stays."""
        reason = reason.strip()
        problem = reason_problem(reason)
        if problem is not None:
            self._audit.record(by, "out_of_service", str(problem), "refused")
            raise problem
        with self._writing:
            before = self.state()
            since = before.since if before.out and before.since is not None else self._clock()
            self._store.set_service_switch(StoredSwitch(True, reason, by, since))
            after = self._set(SwitchState(True, reason, by, since))
        self._audit.record(by, "out_of_service", f"reason: {reason}", "ok")
        return after

    def put_back(self, by: str) -> SwitchState:
        """Back in service (the devices and the network still decide what is offered)."""
        with self._writing:
            before = after = self.state()
            if before.out:
                now = self._clock()
                self._store.set_service_switch(StoredSwitch(False, "", by, now))
                after = self._set(SwitchState(False, "", by, now))
        if before.out:
            self._audit.record(by, "back_in_service", f"was out since {before.since:.0f} by {before.by}: "
                                                      f"{before.reason}", "ok")
        else:
            self._audit.record(by, "back_in_service", "was not out of service", "unchanged")
        return after

    def state(self) -> SwitchState:
        with self._lock:
            return self._state

    def _set(self, state: SwitchState) -> SwitchState:
        """The cache changes only after the row is on disk (the caller wrote it)."""
        with self._lock:
            self._state = state
        return state

    # -- the maintenance screen (in memory) -------------------------------------------
    def maintenance_open(self, user: str) -> None:
        with self._lock:
            self._screen = ScreenOpen(user, self._clock())

    def maintenance_closed(self) -> None:
        with self._lock:
            self._screen = None

    def screen(self) -> ScreenOpen | None:
        """Who has the maintenance screen open now, or None."""
        with self._lock:
            return self._screen


def _state(stored: StoredSwitch) -> SwitchState:
    return SwitchState(stored.out_of_service, stored.reason if stored.out_of_service else "", stored.by,
                       stored.since)
