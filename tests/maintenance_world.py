"""The maintenance file as the tests use it: a real store on disk, a clock the test moves by hand."""

from __future__ import annotations

from pathlib import Path

from kiosk.maintenance_accounts import Accounts, Role
from kiosk.maintenance_audit import Audit
from offline_store.maintenance_store import MaintenanceStore

LOCKOUT_S = 15 * 60
IDLE_LOGOUT_S = 120
STAFF = (("wang.li", Role.COLLECTOR, "482915"), ("zhao.min", Role.TECHNICIAN, "730264"),
         ("chen.jie", Role.SUPERVISOR, "918273"))
PINS = {name: pin for name, _, pin in STAFF}


class HandClock:
    """Wall-clock seconds that move only when the test says (locks are stored as wall-clock times)."""

    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def open_accounts(path: Path, clock: HandClock) -> Accounts:
    """What a (re)started kiosk opens: a new store object on the file."""
    store = MaintenanceStore(path)
    return Accounts(store, Audit(store, keep_days=365, clock=clock), lockout_s=LOCKOUT_S, clock=clock)


def staffed_accounts(path: Path, clock: HandClock) -> Accounts:
    """The file with a collector, a technician and a supervisor, each set from the console."""
    accounts = open_accounts(path, clock)
    for name, role, pin in STAFF:
        accounts.set_pin(name, role, pin)
    return accounts


def audit_rows(accounts: Accounts) -> list[tuple[str, str, str, str]]:
    return [(e.user, e.action, e.what, e.result) for e in accounts.store.audit_since(0)]
