"""The supervisor's accounts page, Qt-free: list the staff, unlock one, reset a PIN, add a user.

Steps: the LIST; adding starts with the NAME (on the text pad) and a role;
a reset or an add then takes the new PIN twice on the keypad (PIN, first and
again), checked with ``pin_problem_of`` before anything is written.  The view
says how many digits are typed, never which.

A change goes in three steps so that scrypt and the write run on a worker:
:meth:`StaffForm.save_request` / :meth:`StaffForm.unlock_request` hand out a
:class:`StaffChange` (the GUI thread), :meth:`StaffForm.apply` makes it
(a worker; it touches only the accounts), :meth:`StaffForm.finish` shows the
outcome (the GUI thread).  Every change is audited by ``Accounts`` with the
supervisor as the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.maintenance_accounts import MAX_PIN_DIGITS, MIN_PIN_DIGITS, Accounts, PinProblem, Role, StaffAccount, name_problem, \
    pin_problem_of
from kiosk.maintenance_notice import Notice, clock_text, notice
from kiosk.maintenance_paging import items_on, page_of

ROWS_PER_PAGE = 6
NAME_MAX = 32
NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789._-"  # what the text pad offers for a user name
PIN_PROBLEM_KEYS: dict[PinProblem, str] = {
    PinProblem.NOT_DIGITS: "maint.staff.pin_not_digits",
    PinProblem.TOO_SHORT: "maint.staff.pin_too_short",
    PinProblem.TOO_LONG: "maint.staff.pin_too_long",
    PinProblem.GUESSABLE: "maint.staff.pin_guessable",
}


class StaffStep(StrEnum):
    LIST = "list"
    NAME = "name"  # adding: the new user's name and role
    PIN = "pin"  # the new PIN, typed twice


class PinStage(StrEnum):
    FIRST = "first"
    AGAIN = "again"


@dataclass(frozen=True)
class StaffRow:
    name: str
    role: Role
    failures: int
    locked_until: str | None  # "09:15" while locked
    is_you: bool
    can_unlock: bool  # locked, or wrong PINs counting towards a lock


@dataclass(frozen=True)
class StaffView:
    step: StaffStep
    rows: tuple[StaffRow, ...]  # this page of the list
    page: int
    pages: int
    target: str  # the account being reset or added ("" on the list)
    target_role: Role | None
    adding: bool
    roles: tuple[Role, ...]  # offered as chips when adding
    pin_stage: PinStage
    first_typed: int
    again_typed: int
    max_digits: int
    can_next: bool  # NAME: name and role given; PIN first: digits typed
    can_save: bool  # PIN again: digits typed
    busy: bool  # a change is being made on a worker
    notice: Notice


@dataclass(frozen=True)
class StaffChange:
    kind: str  # "unlock" | "reset" | "add"
    name: str
    role: Role | None = None
    pin: str = field(default="", repr=False)  # never in a log line or a traceback


@dataclass(frozen=True)
class ChangeDone:
    kind: str
    name: str
    role: Role | None
    changed: bool  # False: refused (problem says why), or an unlock with nothing to lift
    problem: str  # the accounts' reason for a refusal, in English
    staff: tuple[StaffAccount, ...]  # the list as it stands after the change


class StaffForm:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.supervisor = ""
        self._staff: tuple[StaffAccount, ...] = ()
        self._page = 0
        self._busy = False
        self._to_list(notice("maint.staff.intro"))

    def load(self, supervisor: str) -> None:
        """Read the accounts for ``supervisor`` (who must be one): the page is opening."""
        staff = tuple(self.accounts.staff())
        if not any(a.name == supervisor and a.role is Role.SUPERVISOR for a in staff):
            raise PermissionError(f"{supervisor!r} is not a supervisor: the accounts page is a supervisor's")
        self.supervisor, self._staff, self._page, self._busy = supervisor, staff, 0, False
        self._to_list(notice("maint.staff.intro"))

    def show_page(self, page: int) -> None:
        self._page = page_of(len(self._staff), page, ROWS_PER_PAGE).page

    # -- starting a change ------------------------------------------------------------------
    def unlock_request(self, name: str) -> StaffChange | None:
        account = self._account(name)
        if self._busy or account is None:
            return None
        self._busy = True
        return StaffChange("unlock", name)

    def start_reset(self, name: str) -> None:
        account = self._account(name)
        if self._busy or account is None:
            return
        self._start_pin(name, account.role, adding=False)
        self._notice = self._ask_first_pin()

    def start_add(self) -> None:
        if self._busy:
            return
        self._step, self._target, self._target_role, self._adding = StaffStep.NAME, "", None, True
        self._first = self._again = ""
        self._notice = notice("maint.staff.add_intro", max=NAME_MAX)

    def set_name(self, text: str) -> None:
        """The text pad's whole text (it offers only NAME_CHARACTERS)."""
        if self._step is StaffStep.NAME:
            self._target = text[:NAME_MAX]

    def choose_role(self, role: Role | str) -> None:
        if self._step is StaffStep.NAME:
            self._target_role = Role(role)

    # -- the keypad ------------------------------------------------------------------------
    def digit(self, digit: str) -> None:
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"the keypad sends one digit, not {digit!r}")
        if self._step is StaffStep.PIN and not self._busy and len(self._typing()) < MAX_PIN_DIGITS:
            self._set_typing(self._typing() + digit)

    def backspace(self) -> None:
        if self._step is StaffStep.PIN and not self._busy:
            self._set_typing(self._typing()[:-1])

    def clear(self) -> None:
        if self._step is StaffStep.PIN and not self._busy:
            self._set_typing("")

    # -- moving between steps ----------------------------------------------------------------
    def next(self) -> None:
        if self._busy:
            return
        if self._step is StaffStep.NAME:
            self._name_next()
        elif self._step is StaffStep.PIN and self._stage is PinStage.FIRST:
            problem = pin_problem_of(self._first)
            if problem:
                self._first = ""
                self._notice = notice(PIN_PROBLEM_KEYS[problem], "error", min=MIN_PIN_DIGITS, max=MAX_PIN_DIGITS)
                return
            self._stage = PinStage.AGAIN
            self._notice = notice("maint.staff.reset_again", name=self._target)

    def back(self) -> None:
        """One step back: the second PIN to the first, the first to the name (adding) or the list."""
        if self._busy:
            return
        if self._step is StaffStep.PIN and self._stage is PinStage.AGAIN:
            self._start_pin(self._target, self._target_role, adding=self._adding)
            self._notice = self._ask_first_pin()
        elif self._step is StaffStep.PIN and self._adding:
            self._step, self._first = StaffStep.NAME, ""
            self._notice = notice("maint.staff.add_intro", max=NAME_MAX)
        else:
            self.cancel()

    def cancel(self) -> None:
        if not self._busy:
            self._to_list(notice("maint.staff.nothing_changed"))

    def save_request(self) -> StaffChange | None:
        """The reset or the new user to make, once both PINs match; None (and a message) otherwise."""
        if self._busy or self._step is not StaffStep.PIN or self._stage is not PinStage.AGAIN:
            return None
        if self._again != self._first:
            self._start_pin(self._target, self._target_role, adding=self._adding)
            self._notice = notice("maint.staff.pins_differ", "error")
            return None
        made = StaffChange("add" if self._adding else "reset", self._target, self._target_role, self._first)
        self._first = self._again = ""  # the PIN leaves the form with the change
        self._busy = True
        self._notice = notice("maint.staff.saving", name=self._target)
        return made

    # -- making it (a worker) and showing it (the GUI thread) -------------------------------
    def apply(self, change: StaffChange) -> ChangeDone:
        """Make ``change`` (blocking: scrypt and a durable write); reads and writes no form state."""
        changed, problem = True, ""
        try:
            if change.kind == "unlock":
                changed = self.accounts.unlock(change.name, by=self.supervisor)
            elif change.kind == "reset":
                self.accounts.reset_pin(change.name, change.pin, by=self.supervisor)
            elif change.kind == "add":
                self.accounts.add_user(change.name, change.role, change.pin, by=self.supervisor)
            else:
                raise ValueError(f"{change.kind!r} is not a change of the accounts page")
        except ValueError as refused:
            changed, problem = False, str(refused)
        return ChangeDone(change.kind, change.name, change.role, changed, problem, tuple(self.accounts.staff()))

    def finish(self, done: ChangeDone) -> None:
        self._busy = False
        self._staff = done.staff
        if done.problem:
            self._after_refusal(done)
        elif done.kind == "unlock":
            key = "maint.staff.unlocked" if done.changed else "maint.staff.was_not_locked"
            self._to_list(notice(key, "ok" if done.changed else "", name=done.name))
        elif done.kind == "reset":
            self._to_list(notice("maint.staff.reset_done", "ok", name=done.name))
        else:
            self._to_list(notice("maint.staff.added", "ok", name=done.name))

    def failed(self, detail: str) -> None:
        """The worker raised (the maintenance file could not be written): nothing was changed."""
        self._busy = False
        self._to_list(notice("maint.staff.save_failed", "error", detail=detail))

    def wipe(self) -> None:
        """Forget every digit and name typed (logout)."""
        self.supervisor, self._staff, self._page, self._busy = "", (), 0, False
        self._to_list(notice("maint.staff.intro"))

    # -- what the page shows ---------------------------------------------------------------
    def view(self) -> StaffView:
        where = page_of(len(self._staff), self._page, ROWS_PER_PAGE)
        now = self.accounts.clock()
        rows = tuple(StaffRow(a.name, a.role, a.failures,
                              clock_text(a.locked_until, now) if a.locked_until is not None else None,
                              a.name == self.supervisor, a.locked or a.failures > 0)
                     for a in items_on(self._staff, where, ROWS_PER_PAGE))
        pin_step = self._step is StaffStep.PIN and not self._busy
        can_next = ((self._step is StaffStep.NAME and bool(self._target) and self._target_role is not None)
                    or (pin_step and self._stage is PinStage.FIRST and bool(self._first)))
        return StaffView(
            step=self._step, rows=rows, page=where.page, pages=where.pages, target=self._target,
            target_role=self._target_role, adding=self._adding, roles=tuple(Role), pin_stage=self._stage,
            first_typed=len(self._first), again_typed=len(self._again), max_digits=MAX_PIN_DIGITS,
            can_next=can_next and not self._busy,
            can_save=pin_step and self._stage is PinStage.AGAIN and bool(self._again),
            busy=self._busy, notice=self._notice)

    # -- inside -----------------------------------------------------------------------------
    def _name_next(self) -> None:
        if name_problem(self._target):
            self._notice = notice("maint.staff.name_invalid", "error", max=NAME_MAX)
        elif self._account(self._target) is not None:
            self._notice = notice("maint.staff.name_taken", "error", name=self._target)
        elif self._target_role is None:
            self._notice = notice("maint.staff.choose_role", "warning")
        else:
            self._start_pin(self._target, self._target_role, adding=True)
            self._notice = self._ask_first_pin()

    def _after_refusal(self, done: ChangeDone) -> None:
        if done.kind == "unlock":
            self._to_list(notice("maint.staff.refused", "error", name=done.name, detail=done.problem))
            return
        self._start_pin(done.name, done.role, adding=done.kind == "add")
        self._notice = notice("maint.staff.refused", "error", name=done.name, detail=done.problem)

    def _start_pin(self, name: str, role: Role | None, *, adding: bool) -> None:
        self._step, self._stage = StaffStep.PIN, PinStage.FIRST
        self._target, self._target_role, self._adding = name, role, adding
        self._first = self._again = ""

    def _ask_first_pin(self) -> Notice:
        return notice("maint.staff.reset_first", min=MIN_PIN_DIGITS, max=MAX_PIN_DIGITS, name=self._target)

    def _to_list(self, shown: Notice) -> None:
        self._step, self._stage = StaffStep.LIST, PinStage.FIRST
        self._target, self._target_role, self._adding = "", None, False
        self._first = self._again = ""
        self._notice = shown

    def _typing(self) -> str:
        return self._first if self._stage is PinStage.FIRST else self._again

    def _set_typing(self, digits: str) -> None:
        if self._stage is PinStage.FIRST:
            self._first = digits
        else:
            self._again = digits

    def _account(self, name: str) -> StaffAccount | None:
        return next((a for a in self._staff if a.name == name), None)
