"""The maintenance login page, Qt-free: choose your name, type your PIN on the keypad, log in.

The form holds the digits; its view says only how many there are, so no
widget ever has the PIN to show.  A login goes in three steps so that scrypt
runs on a worker and the form is only touched on the GUI thread:

1. :meth:`LoginForm.request` — the typed PIN leaves the form (a PIN too short
   to be one is refused here, before scrypt, and counts as no attempt);
2. ``MaintenanceSession.login(request.name, request.pin)`` on a worker;
3. :meth:`LoginForm.finish` with its result (or :meth:`LoginForm.failed` when
   the worker raised): the message says why, how many tries are left, and
   until when a lock holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.maintenance_accounts import MAX_FAILURES, MAX_PIN_DIGITS, MIN_PIN_DIGITS, Accounts, LoginOutcome, \
    LoginResult, Role, StaffAccount
from kiosk.maintenance_notice import Notice, clock_text, notice
from kiosk.maintenance_paging import items_on, page_of

USERS_PER_PAGE = 8  # four rows of two name buttons
SET_PIN_COMMAND = "kiosk maintenance set-pin --user NAME --role ROLE"


@dataclass(frozen=True)
class UserChoice:
    name: str
    role: Role
    locked: bool


@dataclass(frozen=True)
class LoginView:
    users: tuple[UserChoice, ...]  # the names on this page of the list
    page: int
    pages: int
    chosen: str | None
    digits_typed: int  # how many, never which
    max_digits: int
    can_type: bool
    can_submit: bool
    checking: bool  # a PIN is being checked on a worker
    notice: Notice


@dataclass(frozen=True)
class LoginRequest:
    name: str
    pin: str = field(repr=False)  # never in a log line or a traceback


class LoginForm:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self._users: list[StaffAccount] = []
        self._page = 0
        self._chosen: str | None = None
        self._digits = ""
        self._checking = False
        self._sent_digits = 0  # how many the last request held, for the session's own too-short answer
        self._notice = notice("maint.login.choose_user")

    # -- the list of names ----------------------------------------------------------------
    def load(self) -> None:
        """Read the accounts afresh (a few rows) and start over: the login page is opening."""
        self._users = self.accounts.staff()
        self.wipe()

    def choose(self, name: str) -> None:
        account = self._account(name)
        if account is None or self._checking:
            return
        self._chosen, self._digits = name, ""
        if account.locked:
            self._notice = self._locked_notice(name, account.locked_until)
        else:
            self._notice = notice("maint.login.type_pin", name=name, min=MIN_PIN_DIGITS, max=MAX_PIN_DIGITS)

    def show_page(self, page: int) -> None:
        self._page = page_of(len(self._users), page, USERS_PER_PAGE).page

    # -- the PIN ----------------------------------------------------------------------------
    def digit(self, digit: str) -> None:
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"the keypad sends one digit, not {digit!r}")
        if self._can_type():
            self._digits += digit

    def backspace(self) -> None:
        if not self._checking:
            self._digits = self._digits[:-1]

    def clear(self) -> None:
        if not self._checking:
            self._digits = ""

    def request(self) -> LoginRequest | None:
        """The name and PIN to check, handed over once; None (and a message) when there is nothing to check."""
        if self._checking:
            return None
        if self._chosen is None:
            self._notice = notice("maint.login.choose_user", "warning")
            return None
        if len(self._digits) < MIN_PIN_DIGITS:
            self._notice = notice("maint.login.too_short", "error", min=MIN_PIN_DIGITS, typed=len(self._digits))
            self._digits = ""  # "type it again": from the start
            return None
        made = LoginRequest(self._chosen, self._digits)
        self._sent_digits = len(self._digits)
        self._digits, self._checking = "", True
        self._notice = notice("maint.login.checking")
        return made

    def finish(self, result: LoginResult) -> None:
        """The session's answer to the last request."""
        self._checking = False
        outcome = result.outcome
        if outcome is LoginOutcome.OK:
            self.wipe()
            self._notice = notice("maint.login.welcome", "ok", name=result.user)
        elif outcome is LoginOutcome.WRONG_PIN:
            minutes = round(self.accounts.lockout_s / 60)
            key = "maint.login.wrong_pin_last" if result.attempts_left == 1 else "maint.login.wrong_pin"
            self._notice = notice(key, "error", left=result.attempts_left, minutes=minutes)
        elif outcome is LoginOutcome.LOCKED:
            self._mark_locked(result.user, result.locked_until)
            self._notice = self._locked_notice(result.user, result.locked_until)
        elif outcome is LoginOutcome.TOO_SHORT:
            self._notice = notice("maint.login.too_short", "error", min=MIN_PIN_DIGITS, typed=self._sent_digits)
        else:  # UNKNOWN_USER: the account went away since the list was read
            self._users = self.accounts.staff()
            self._chosen = None
            self._notice = notice("maint.login.unknown_user", "error", name=result.user)

    def failed(self, detail: str) -> None:
        """The check itself could not run (the maintenance file could not be read): nothing was counted."""
        self._checking = False
        self._notice = notice("maint.login.check_failed", "error", detail=detail)

    def wipe(self) -> None:
        """Forget the chosen name and every digit (the page closes, or someone logged in)."""
        self._chosen, self._digits, self._checking, self._page = None, "", False, 0
        if self._users:
            self._notice = notice("maint.login.choose_user")
        else:
            self._notice = notice("maint.login.no_users", "warning", command=SET_PIN_COMMAND)

    # -- what the page shows ---------------------------------------------------------------
    def view(self) -> LoginView:
        where = page_of(len(self._users), self._page, USERS_PER_PAGE)
        shown = items_on(self._users, where, USERS_PER_PAGE)
        return LoginView(
            users=tuple(UserChoice(a.name, a.role, a.locked) for a in shown),
            page=where.page, pages=where.pages, chosen=self._chosen, digits_typed=len(self._digits),
            max_digits=MAX_PIN_DIGITS, can_type=self._can_type(),
            can_submit=self._chosen is not None and not self._checking and bool(self._digits),
            checking=self._checking, notice=self._notice)

    def _can_type(self) -> bool:
        return self._chosen is not None and not self._checking and len(self._digits) < MAX_PIN_DIGITS

    def _account(self, name: str) -> StaffAccount | None:
        return next((a for a in self._users if a.name == name), None)

    def _mark_locked(self, name: str, until: float | None) -> None:
        self._users = [StaffAccount(a.name, a.role, a.set_at, MAX_FAILURES, until) if a.name == name else a
                       for a in self._users]

    def _locked_notice(self, name: str, until: float | None) -> Notice:
        now = self.accounts.clock()
        return notice("maint.login.locked", "error", name=name, failures=MAX_FAILURES,
                      until=clock_text(until if until is not None else now, now))
