"""One opening of the hidden maintenance screen: who is logged in, what they may open, when it closes.

The screen opens (:meth:`MaintenanceSession.entry`) on the login page; a good
PIN makes a user of a role, whose pages come from
``kiosk.maintenance_pages.ROLE_PAGES`` and nothing else.  Untouched for
``[maintenance] idle_logout_s`` it is closed — the login page too, because
while the screen is open the machine serves no customer.  Every opening,
refusal, login and logout is in the audit log.

Qt-free.  :meth:`login` runs scrypt (~50 ms) and is called on a worker thread
while the GUI thread reads :attr:`user` and calls :meth:`touch`: the state
sits behind a lock of its own that is never held while the PIN is checked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Literal

from kiosk.maintenance_accounts import Accounts, LoginResult, Role
from kiosk.maintenance_audit import Audit
from kiosk.maintenance_pages import MaintPage, pages_for

NOBODY = "-"  # the audit's user before anyone has logged in
LogoutWhy = Literal["user", "idle"]


@dataclass(frozen=True)
class _Open:
    user: str | None
    role: Role | None
    touched_at: float


class MaintenanceSession:
    def __init__(self, accounts: Accounts, audit: Audit, clock: Callable[[], float], idle_logout_s: float) -> None:
        self.accounts = accounts
        self.audit = audit
        self.clock = clock  # monotonic is right: only differences are taken
        self.idle_logout_s = idle_logout_s
        self._lock = threading.Lock()
        self._open: _Open | None = None

    # -- opening the screen ------------------------------------------------------------
    def entry(self) -> None:
        """The hidden entry was used: the login page is up and the machine is out of service.

        With someone logged in nothing changes: a second entry must not drop them unaudited.
        At the login page it starts afresh (its idle time too).
        """
        with self._lock:
            if self._open is not None and self._open.user is not None:
                return
            self._open = _Open(None, None, self.clock())
        self.audit.record(NOBODY, "entry", "maintenance screen opened", "ok")

    def entry_refused(self, why: str) -> None:
        """The hidden entry was used but not opened (a customer's session is open, say)."""
        self.audit.record(NOBODY, "entry", why, "refused")

    # -- logging in and out --------------------------------------------------------------
    def login(self, name: str, pin: str) -> LoginResult:
        """Check ``pin`` for ``name`` (blocking: run it on a worker); a good one makes ``name`` the user.

        Show the shell only when :attr:`user` is set afterwards: a screen closed
        (idle) while the PIN was checked lets nobody in, even with a good PIN.
        """
        if not self.is_open:
            raise RuntimeError("the maintenance screen is not open: call entry() first")
        if self.user is not None:
            raise RuntimeError(f"{self.user} is logged in: log out before another login")
        result = self.accounts.login(name, pin)
        with self._lock:
            closed_meanwhile = self._open is None
            if not closed_meanwhile:
                user, role = (result.user, result.role) if result.ok else (None, None)
                self._open = _Open(user, role, self.clock())  # an attempt, good or bad, is a touch
        if closed_meanwhile and result.ok:
            self.audit.record(name, "logout", "the screen closed while the PIN was checked", "ok")
        return result

    def logout(self, why: LogoutWhy) -> None:
        """Close the screen: "user" tapped Log out or Cancel, "idle" nobody touched it in time."""
        if why not in ("user", "idle"):
            raise ValueError(f"logout why must be 'user' or 'idle', not {why!r}")
        with self._lock:
            was, self._open = self._open, None
        if was is None:
            return  # already closed: the idle timer and a tap can both ask
        if was.user is None:
            self.audit.record(NOBODY, "entry", f"closed from the login page ({why})", "ok")
        else:
            self.audit.record(was.user, "logout", why, "ok")

    # -- who and what --------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._open is not None

    @property
    def user(self) -> str | None:
        opened = self._open
        return opened.user if opened else None

    @property
    def role(self) -> Role | None:
        opened = self._open
        return opened.role if opened else None

    @property
    def pages(self) -> tuple[MaintPage, ...]:
        role = self.role
        return pages_for(role) if role is not None else ()

    def may(self, page: MaintPage | str) -> bool:
        return page in self.pages

    def record(self, action: str, what: str, result: str) -> None:
        """Audit one action of the logged-in user (a page's own work)."""
        user = self.user
        if user is None:
            raise RuntimeError(f"nobody is logged in to do {action!r}")
        self.audit.record(user, action, what, result)

    # -- idle ----------------------------------------------------------------------------
    def touch(self) -> None:
        """Someone touched the screen: the idle time starts again."""
        with self._lock:
            if self._open is not None:
                self._open = _Open(self._open.user, self._open.role, self.clock())

    def idle_left_s(self) -> float:
        """Seconds until the idle logout; 0 when the screen is not open."""
        opened = self._open
        if opened is None:
            return 0.0
        return max(0.0, self.idle_logout_s - (self.clock() - opened.touched_at))

    def expired(self) -> bool:
        """Open and untouched for ``idle_logout_s``: the caller logs out with "idle"."""
        return self.is_open and self.idle_left_s() <= 0.0
