"""The maintenance screen's pages and which role may open which.

One table, read by the session (which pages a login offers), the screen (its
navigation) and the tests (a collector never reaches the device tests): a
role's pages are the work it is trusted with, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.maintenance_accounts import Role


class MaintPage(StrEnum):
    DEVICES = "devices"  # each device's status, faults, history, tests, reset
    COLLECTION = "collection"  # 清机: expected, counted, difference, slip
    REPAIRS = "repairs"  # what was repaired, parts, the faults it clears
    OPERATIONS = "operations"  # outbox, sync now, out of service, log export, restart
    ACCOUNTS = "accounts"  # supervisor: add, reset, unlock staff accounts


ROLE_PAGES: dict[Role, tuple[MaintPage, ...]] = {
    Role.TECHNICIAN: (MaintPage.DEVICES, MaintPage.REPAIRS, MaintPage.OPERATIONS),
    Role.COLLECTOR: (MaintPage.COLLECTION,),
    Role.SUPERVISOR: tuple(MaintPage),
}


def pages_for(role: Role | str) -> tuple[MaintPage, ...]:
    return ROLE_PAGES[Role(role)]


@dataclass(frozen=True)
class ShellView:
    """The maintenance screen's frame: who is logged in, the pages they may open, which is open."""

    user: str | None = None  # None: the login page
    role: Role | None = None
    pages: tuple[MaintPage, ...] = ()
    current: MaintPage | None = None
    idle_left_s: int = 0  # seconds until the idle logout
    busy: bool = False  # a page's work is running on a worker: the frame shows it

    @classmethod
    def logged_in(cls, user: str, role: Role, current: MaintPage | None, idle_left_s: int) -> "ShellView":
        pages = pages_for(role)
        return cls(user, role, pages, current if current in pages else pages[0], idle_left_s)
