"""``kiosk demo``'s maintenance accounts, so a person trying the demo can open the hidden screen.

Only in the demo (emulated devices, the simulated billing system), only when
the maintenance file has no account yet, and said on the console: a terminal
in a hall never has an account nobody set (``kiosk run`` makes none).
"""

from __future__ import annotations

import sys

from kiosk.config import KioskConfig

DEMO_STAFF = {  # name: (role, PIN)
    "li.wei": ("technician", "258036"),
    "zhao.min": ("collector", "369147"),
    "chen.jie": ("supervisor", "147258"),
}


def ensure_demo_staff(config: KioskConfig) -> None:
    from kiosk.maintenance_cli import open_accounts

    accounts = open_accounts(config)
    try:
        if accounts.store.users():
            return
        for name, (role, pin) in DEMO_STAFF.items():
            accounts.set_pin(name, role, pin, by="kiosk demo")
    finally:
        accounts.store.close()
    logins = ", ".join(f"{name} ({role}) PIN {pin}" for name, (role, pin) in DEMO_STAFF.items())
    print(f"kiosk demo: maintenance screen — tap the hall name five times; demo accounts: {logins}",
          file=sys.stderr, flush=True)
