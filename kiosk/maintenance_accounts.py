"""Who may open the maintenance screen: named accounts with a role and a PIN, locked after wrong PINs.

* Roles: a **technician** (devices, repairs, operations), a **collector**
  (清机, the cash box) and a **supervisor** (everything, and sets the others'
  PINs).
* A PIN is at least 6 digits and only digits (it is typed on the screen's
  keypad).  It is never stored: a salted ``hashlib.scrypt`` hash is
  (``offline_store/maintenance_store.py``), compared in constant time.
* After :data:`MAX_FAILURES` wrong PINs in a row the account is locked for the
  configured minutes; the count lives in the file, so a restart does not
  reset it.  A PIN too short to be one is refused before scrypt runs and is
  not counted.  Every attempt, good or bad, goes into the audit log.
* A supervisor lists the accounts (:meth:`Accounts.staff`), unlocks one,
  resets a PIN (the role stays) and adds a user; the machine always keeps a
  supervisor, so no change may take the role from the last one.

Plain Python: the maintenance screen runs :meth:`Accounts.login` off the GUI
thread (one scrypt is ~50 ms), the CLI sets PINs with it.  One lock makes each
call whole: two workers (a double tap, the staff page) never interleave the
read and the write of a failure count.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Callable

from kiosk.maintenance_audit import Audit
from offline_store.maintenance_store import Failures, MaintenanceStore, StoredUser

MIN_PIN_DIGITS = 6
MAX_PIN_DIGITS = 12
MAX_FAILURES = 5
SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # RFC 7914's interactive-login figures: ~16 MiB, ~50 ms
SALT_BYTES = 16
_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,31}")


class Role(StrEnum):
    TECHNICIAN = "technician"
    COLLECTOR = "collector"
    SUPERVISOR = "supervisor"


class LoginOutcome(Enum):
    OK = "ok"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"
    UNKNOWN_USER = "unknown_user"
    TOO_SHORT = "too_short"  # fewer digits than any PIN has: refused before scrypt, not counted


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: str
    role: Role | None = None
    attempts_left: int = 0  # after a wrong PIN: how many before the lock
    locked_until: float | None = None  # when locked: the clock time it opens again

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.OK


@dataclass(frozen=True)
class StaffAccount:
    """An account as the supervisor's page lists it: never the hash."""

    name: str
    role: Role
    set_at: float  # when its PIN was last set
    failures: int  # wrong PINs in a row that count towards the lock (0 once a lock has run out)
    locked_until: float | None  # the clock time it opens again, while it is locked now

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


class PinProblem(StrEnum):
    NOT_DIGITS = "not_digits"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    GUESSABLE = "guessable"


def pin_problem_of(pin: str) -> PinProblem | None:
    """What is wrong with ``pin`` as a new PIN, for a page to say in the person's language."""
    if not pin.isascii() or not pin.isdigit():
        return PinProblem.NOT_DIGITS
    if len(pin) < MIN_PIN_DIGITS:
        return PinProblem.TOO_SHORT
    if len(pin) > MAX_PIN_DIGITS:
        return PinProblem.TOO_LONG
    if len(set(pin)) == 1 or pin in "01234567890" or pin in "09876543210":
        return PinProblem.GUESSABLE
    return None


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a PIN, or None (in English, for the console)."""
    words = {
        PinProblem.NOT_DIGITS: "a PIN is digits only (it is typed on the screen's keypad)",
        PinProblem.TOO_SHORT: f"a PIN has at least {MIN_PIN_DIGITS} digits; this one has {len(pin)}",
        PinProblem.TOO_LONG: f"a PIN has at most {MAX_PIN_DIGITS} digits; this one has {len(pin)}",
        PinProblem.GUESSABLE: "a PIN of one digit repeated or of digits in a row is guessed first; choose another",
    }
    problem = pin_problem_of(pin)
    return words[problem] if problem else None


def name_problem(name: str) -> str | None:
    if not _NAME.fullmatch(name):
        return (f"{name!r} is not a user name: 2 to 32 characters, lower-case letters first, then letters, "
                "digits, '.', '_' or '-'")
    return None


def _digest(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


class Accounts:
    def __init__(self, store: MaintenanceStore, audit: Audit, *, lockout_s: float,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.audit = audit
        self.lockout_s = lockout_s
        self.clock = clock
        self._lock = threading.RLock()

    def set_pin(self, name: str, role: Role | str, pin: str, *, by: str = "console") -> None:
        """Create the account or give it a new PIN and role; ``ValueError`` says what is wrong."""
        with self._lock:
            self._store_pin(name, role, pin, by=by, action="set_pin")

    def add_user(self, name: str, role: Role | str, pin: str, *, by: str) -> None:
        """A new account; an existing name is refused, so adding never overwrites someone's role or PIN."""
        with self._lock:
            existing = self.store.user(name)
            if existing is not None:
                raise ValueError(f"{name} already has an account ({existing.role}): reset its PIN instead")
            self._store_pin(name, role, pin, by=by, action="add_user")

    def reset_pin(self, name: str, pin: str, *, by: str) -> None:
        """A new PIN for an existing account; its role stays and any lock is lifted."""
        with self._lock:
            existing = self.store.user(name)
            if existing is None:
                raise ValueError(f"there is no account named {name}: add it as a new user")
            self._store_pin(name, existing.role, pin, by=by, action="reset_pin")

    def _store_pin(self, name: str, role: Role | str, pin: str, *, by: str, action: str) -> None:
        problem = name_problem(name) or pin_problem(pin)
        if problem is None and role not in tuple(Role):
            problem = f"{role!r} is not a role: {', '.join(Role)}"
        problem = problem or self._last_supervisor_problem(name, Role(role))
        if problem:
            raise ValueError(problem)
        salt = os.urandom(SALT_BYTES)
        digest = _digest(pin, salt, SCRYPT["n"], SCRYPT["r"], SCRYPT["p"])
        self.store.put_user(StoredUser(name, Role(role), salt, digest, SCRYPT["n"], SCRYPT["r"], SCRYPT["p"],
                                       self.clock()))
        self.audit.record(by, action, f"user {name}, role {Role(role)}", "ok")

    def _last_supervisor_problem(self, name: str, role: Role) -> str | None:
        # Without a supervisor nobody on the screen can unlock or reset anyone:
        # the machine would need a console visit.  Make another one first.
        existing = self.store.user(name)
        if existing is None or existing.role != Role.SUPERVISOR or role is Role.SUPERVISOR:
            return None
        others = [u for u in self.store.users() if u.role == Role.SUPERVISOR and u.name != name]
        if others:
            return None
        return (f"{name} is the only supervisor: give another account the supervisor role first, "
                f"then change {name}'s role")

    def staff(self) -> list[StaffAccount]:
        """Every account by name, with its wrong-PIN count and lock as they stand now."""
        now = self.clock()
        listed = []
        for user in self.store.users():
            failures = self.store.failures(user.name)
            if failures.locked_until is not None and now >= failures.locked_until:
                failures = Failures(0, None)  # a lock that ran out starts afresh, as login() counts it
            listed.append(StaffAccount(user.name, Role(user.role), user.set_at, failures.count,
                                       failures.locked_until))
        return listed

    def unlock(self, name: str, *, by: str) -> bool:
        """Lift ``name``'s lock and forget its wrong PINs; False when there was nothing to lift."""
        with self._lock:
            if self.store.user(name) is None:
                raise ValueError(f"there is no account named {name}")
            listed = {account.name: account for account in self.staff()}
            account = listed[name]
            if not account.locked and account.failures == 0:
                return False
            self.store.clear_failures(name)
            state = "locked" if account.locked else "not locked"
            self.audit.record(by, "unlock", f"user {name}, {account.failures} wrong PINs, {state}", "ok")
            return True

    def login(self, name: str, pin: str) -> LoginResult:
        with self._lock:
            return self._login(name, pin)

    def _login(self, name: str, pin: str) -> LoginResult:
        now = self.clock()
        user = self.store.user(name)
        if user is None:
            self.audit.record(name, "login", "unknown user", "refused")
            return LoginResult(LoginOutcome.UNKNOWN_USER, name)
        failures = self.store.failures(name)
        if failures.locked_until is not None and now < failures.locked_until:
            self.audit.record(name, "login", "while locked", "refused")
            return LoginResult(LoginOutcome.LOCKED, name, locked_until=failures.locked_until)
        count = 0 if failures.locked_until is not None else failures.count  # a lock that ran out starts afresh
        if len(pin) < MIN_PIN_DIGITS:
            # Not a guess at the PIN but a slip of the finger: no scrypt, no count.
            self.audit.record(name, "login", f"PIN too short ({len(pin)} digits), not counted", "refused")
            return LoginResult(LoginOutcome.TOO_SHORT, name, attempts_left=MAX_FAILURES - count)
        given = _digest(pin, user.salt, user.scrypt_n, user.scrypt_r, user.scrypt_p) if pin.isascii() else b""
        if hmac.compare_digest(given, user.digest):
            self.store.clear_failures(name)
            self.audit.record(name, "login", f"role {user.role}", "ok")
            return LoginResult(LoginOutcome.OK, name, Role(user.role))
        count += 1
        if count >= MAX_FAILURES:
            until = now + self.lockout_s
            self.store.set_failures(name, Failures(count, until))
            self.audit.record(name, "lockout", f"{count} wrong PINs in a row", "locked")
            return LoginResult(LoginOutcome.LOCKED, name, locked_until=until)
        self.store.set_failures(name, Failures(count, None))
        self.audit.record(name, "login", "wrong PIN", "refused")
        return LoginResult(LoginOutcome.WRONG_PIN, name, attempts_left=MAX_FAILURES - count)
