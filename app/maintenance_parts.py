"""The maintenance screen's Qt-free parts, built once on a worker when the screen first opens.

The maintenance file and the service switch are opened earlier, when the
kiosk is built (:func:`open_service_switch`): a terminal put out of service
by a technician must come up out of service after a restart, before any
customer sees the home screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from kiosk.config import KioskConfig
from kiosk.maintenance_accounts import Accounts
from kiosk.maintenance_audit import Audit
from kiosk.maintenance_session import MaintenanceSession
from kiosk.service_switch import ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore

LOGIN_PAGE = "nobody yet, at the login page"  # who holds the screen before anyone has logged in


def open_service_switch(config: KioskConfig,
                        clock: Callable[[], float] = time.time) -> tuple[MaintenanceStore, ServiceSwitch]:
    """The maintenance file and the switch read from it (a few milliseconds, before the window)."""
    store = MaintenanceStore(config.maintenance.store_path(config.storage))
    return store, ServiceSwitch(store, Audit(store, keep_days=config.maintenance.audit_days, clock=clock), clock)


@dataclass
class MaintenanceParts:
    config: KioskConfig
    store: MaintenanceStore
    switch: ServiceSwitch
    audit: Audit
    accounts: Accounts
    session: MaintenanceSession
    payments: object  # kiosk.payment_stack.PaymentStack: its journal, sync worker and problem
    devices: object  # kiosk.devices.KioskDevices
    archive: object  # offline_store.archive_writer.ArchiveWriter

    @classmethod
    def build(cls, config: KioskConfig, store: MaintenanceStore, switch: ServiceSwitch, payments, devices,
              archive, clock: Callable[[], float] = time.time,
              idle_clock: Callable[[], float] = time.monotonic) -> "MaintenanceParts":
        """``clock``: wall time (audit, locks); ``idle_clock``: the idle logout's (the kiosk's journey clock)."""
        audit = Audit(store, keep_days=config.maintenance.audit_days, clock=clock)
        accounts = Accounts(store, audit, lockout_s=config.maintenance.lockout_minutes * 60, clock=clock)
        session = MaintenanceSession(accounts, audit, idle_clock, config.maintenance.idle_logout_s)
        return cls(config, store, switch, audit, accounts, session, payments, devices, archive)

    @property
    def user(self) -> str:
        return self.session.user or LOGIN_PAGE

    def opened(self) -> None:
        """The screen is up (the controller told the switch already): the acceptor takes no note."""
        self.session.entry()
        acceptor = getattr(self.devices, "acceptor", None)
        if acceptor is not None:
            acceptor.inhibit()

    def closed(self, why: str = "user") -> None:
        self.session.logout(why)  # audits a login page left or cancelled, too
