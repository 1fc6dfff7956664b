"""Who may open the maintenance screen: named accounts with a role and a PIN, locked after wrong PINs.

* Roles: a **technician** (devices, repairs, operations), a **collector**
  (清机, the cash box) and a **supervisor** (everything, and sets the others'
  PINs).
* A PIN is at least 6 digits and only digits (it is typed on the screen's
  keypad).  It is never stored: a salted ``hashlib.scrypt`` hash is
  (``offline_store/maintenance_store.py``), compared in constant time.
* After :data:`MAX_FAILURES` wrong PINs in a row the account is locked for the
  configured minutes; the count lives in the file, so a restart does not
  reset it.  Every attempt, good or bad, goes into the audit log.

Plain Python: the maintenance screen runs :meth:`Accounts.login` off the GUI
thread (one scrypt is ~50 ms), the CLI sets PINs with it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
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


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a PIN, or None."""
    if not pin.isascii() or not pin.isdigit():
        return "a PIN is digits only (it is typed on the screen's keypad)"
    if len(pin) < MIN_PIN_DIGITS:
        return f"a PIN has at least {MIN_PIN_DIGITS} digits; this one has {len(pin)}"
    if len(pin) > MAX_PIN_DIGITS:
        return f"a PIN has at most {MAX_PIN_DIGITS} digits; this one has {len(pin)}"
    if len(set(pin)) == 1 or pin in "01234567890" or pin in "09876543210":
        return "a PIN of one digit repeated or of digits in a row is guessed first; choose another"
    return None


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

    def set_pin(self, name: str, role: Role | str, pin: str, *, by: str = "console") -> None:
        """Create the account or give it a new PIN and role; ``ValueError`` says what is wrong."""
        problem = name_problem(name) or pin_problem(pin)
        if problem is None and role not in tuple(Role):
            problem = f"{role!r} is not a role: {', '.join(Role)}"
        if problem:
            raise ValueError(problem)
        salt = os.urandom(SALT_BYTES)
        digest = _digest(pin, salt, SCRYPT["n"], SCRYPT["r"], SCRYPT["p"])
        self.store.put_user(StoredUser(name, Role(role), salt, digest, SCRYPT["n"], SCRYPT["r"], SCRYPT["p"],
                                       self.clock()))
        self.audit.record(by, "set_pin", f"user {name}, role {Role(role)}", "ok")

    def login(self, name: str, pin: str) -> LoginResult:
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
