"""``kiosk maintenance set-pin`` and ``kiosk maintenance audit``: accounts and the audit log from a console.

A supervisor (or the installer, at the console) sets each person's PIN;
the PIN is asked twice without echo and only its salted hash is written.
``audit`` prints every maintenance action since a day, oldest first.
"""

from __future__ import annotations

import datetime
import getpass
import sys
import time
from typing import Callable, TextIO

from kiosk.config import KioskConfig
from kiosk.maintenance_accounts import Accounts
from kiosk.maintenance_audit import Audit, audit_lines
from offline_store.maintenance_store import MaintenanceStore


def open_accounts(config: KioskConfig, clock: Callable[[], float] = time.time) -> Accounts:
    store = MaintenanceStore(config.maintenance.store_path(config.storage))
    audit = Audit(store, keep_days=config.maintenance.audit_days, clock=clock)
    return Accounts(store, audit, lockout_s=config.maintenance.lockout_minutes * 60, clock=clock)


def set_pin(config: KioskConfig, user: str, role: str, *, ask: Callable[[str], str] = getpass.getpass,
            out: TextIO = sys.stdout) -> int:
    pin = ask(f"new PIN for {user} ({role}), 6 to 12 digits: ")
    if ask("the same PIN again: ") != pin:
        print("kiosk maintenance: the two PINs differ — nothing was changed; run the command again",
              file=out)
        return 1
    accounts = open_accounts(config)
    try:
        accounts.set_pin(user, role, pin)
    except ValueError as error:
        print(f"kiosk maintenance: not set — {error}", file=out)
        return 1
    finally:
        accounts.store.close()
    print(f"kiosk maintenance: {user} is a {role}; the PIN is stored as a salted scrypt hash in "
          f"{accounts.store.path}", file=out)
    return 0


def audit(config: KioskConfig, since: datetime.date | None, out: TextIO = sys.stdout) -> int:
    accounts = open_accounts(config)
    try:
        day = since or datetime.datetime.now(datetime.timezone.utc).date()
        lines = audit_lines(accounts.audit.since(day))
    finally:
        accounts.store.close()
    print(f"maintenance audit since {day.isoformat()} (UTC): {len(lines)} entries", file=out)
    for line in lines:
        print(line, file=out)
    return 0
