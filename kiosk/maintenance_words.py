"""The catalogue keys of the role and page names, written out so a test sees every key that is used.

The shell's navigation shows ``PAGE_KEYS[page]``; the login and staff pages
show ``ROLE_KEYS[role]``.  A new role or page without a key fails here at import.
"""

from __future__ import annotations

from kiosk.maintenance_accounts import Role
from kiosk.maintenance_pages import MaintPage

ROLE_KEYS: dict[Role, str] = {
    Role.TECHNICIAN: "maint.role.technician",
    Role.COLLECTOR: "maint.role.collector",
    Role.SUPERVISOR: "maint.role.supervisor",
}

PAGE_KEYS: dict[MaintPage, str] = {
    MaintPage.DEVICES: "maint.page.devices",
    MaintPage.COLLECTION: "maint.page.collection",
    MaintPage.REPAIRS: "maint.page.repairs",
    MaintPage.OPERATIONS: "maint.page.operations",
    MaintPage.ACCOUNTS: "maint.page.accounts",
}

if set(ROLE_KEYS) != set(Role) or set(PAGE_KEYS) != set(MaintPage):
    raise RuntimeError("kiosk/maintenance_words.py: every role and every page needs its catalogue key")
