"""Service hours kept: the configured hours, and a technician's override for the day.

The hall's rules (``../shared/MISSION.md`` rule 8) close the machine outside
service hours.  ``[service_hours]`` gives the usual week (open, close, the
days the hall opens); a technician may change **today** only, from the
maintenance screen: other hours for today (a hall that closes early, or opens
on a day off), or closed all day.  The override is one row of the maintenance
file (``offline_store/maintenance_store.py``) holding the local date it was
set for: it survives a restart, and on any other date it is ignored, so it
ends by itself at midnight and is never applied to another day.

:class:`~kiosk.service_monitor.ServiceMonitor` asks :meth:`ServiceHoursKeeper.is_open`
on the GUI thread, so the row is read once and cached; setting and clearing
(worker threads) write first and change the cache only once the row is on
disk, as :class:`~kiosk.service_switch.ServiceSwitch` does.  Every change, and
every refusal, is a row of the audit log.  Plain Python, no Qt; the wall clock
is injected (local time, as the configuration's hours are).
"""

from __future__ import annotations

import datetime
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from kiosk.config_types import WEEKDAYS, ServiceHours
from kiosk.maintenance_audit import Audit
from offline_store.maintenance_store import MaintenanceStore, StoredHoursOverride

if TYPE_CHECKING:
    from kiosk.config import KioskConfig

# The sign's reason code while the hall is closed (docs/maintenance.md lists it).
REASON_HOURS_CLOSED = "E-HOURS-CLOSED"
# The level's detail is the next opening, written and read back here only (the sign shows it).
_DETAIL_PREFIX = "closed; next opening "
_DETAIL_FORMAT = "%Y-%m-%d %H:%M"
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
Hours = tuple[datetime.time, datetime.time]
# Each weekday's short name, in WEEKDAYS' order (datetime.weekday()).
WEEKDAY_KEYS = ("hours.day.mon", "hours.day.tue", "hours.day.wed", "hours.day.thu", "hours.day.fri",
                "hours.day.sat", "hours.day.sun")


class HoursRefused(ValueError):
    """The hours cannot be kept; ``key`` is the staff's message (maint.hours.*), ``str()`` the log's."""

    def __init__(self, key: str, detail: str, **values: object) -> None:
        super().__init__(detail)
        self.key = key
        self.values = {name: str(value) for name, value in values.items()}


@dataclass(frozen=True)
class DayOverride:
    day: datetime.date
    hours: Hours | None  # None: closed all day
    by: str
    at: float  # epoch seconds, when it was set

    @property
    def closed(self) -> bool:
        return self.hours is None


@dataclass(frozen=True)
class HoursToday:
    """What the operations page shows: today's usual hours, what holds today, and why."""

    day: datetime.date
    usual: Hours | None  # the configuration's hours for today (None: a day off)
    today: Hours | None  # what holds today (None: closed all day)
    override: DayOverride | None
    open_now: bool
    next_opening: datetime.datetime | None  # None: no day of the week opens
    configured: ServiceHours


def parse_hhmm(text: str) -> datetime.time | None:
    """``"08:30"`` → 08:30 on the 24-hour clock; anything else → None."""
    match = _HHMM.fullmatch(text.strip())
    return datetime.time(int(match[1]), int(match[2])) if match else None


def hours_text(hours: Hours) -> str:
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


def opening_text(tr: Callable[..., str], when: datetime.datetime) -> str:
    """12月5日（周六）08:00 / on Sat 5 Dec at 08:00: a date a customer reads without a calendar."""
    return tr("hours.opening", month=tr(f"month.{when.month}"), day=when.day,
              weekday=tr(WEEKDAY_KEYS[when.weekday()]), time=f"{when:%H:%M}")


def days_text(tr: Callable[..., str], days: tuple[str, ...]) -> str:
    """The configured days: 每天 / every day, or the days' names in the week's order."""
    if set(days) >= set(WEEKDAYS):
        return tr("hours.every_day")
    separator = "、" if getattr(tr, "lang", "") == "zh" else ", "
    return separator.join(tr(key) for key, day in zip(WEEKDAY_KEYS, WEEKDAYS) if day in days)


def closed_detail(next_opening: datetime.datetime | None) -> str:
    """The closed level's detail: the next opening, in a form :func:`opening_in` reads back."""
    if next_opening is None:
        return "closed; no day of the week opens ([service_hours] days)"
    return _DETAIL_PREFIX + next_opening.strftime(_DETAIL_FORMAT)


def opening_in(detail: str) -> datetime.datetime | None:
    """The next opening a closed level's detail names, or None (no day opens)."""
    if not detail.startswith(_DETAIL_PREFIX):
        return None
    try:
        return datetime.datetime.strptime(detail[len(_DETAIL_PREFIX):], _DETAIL_FORMAT)
    except ValueError:
        return None


class ServiceHoursKeeper:
    def __init__(self, hours: ServiceHours, store: MaintenanceStore, audit: Audit,
                 now: Callable[[], datetime.datetime] = datetime.datetime.now) -> None:
        self.configured = hours
        self.now = now
        self._store = store
        self._audit = audit
        self._writing = threading.Lock()  # writers take turns (the fsync happens under it)
        self._lock = threading.Lock()  # guards the cache only: the monitor never waits on the disk
        stored = store.hours_override()
        self._override = None if stored is None else _override(stored)

    @classmethod
    def from_config(cls, config: KioskConfig, store: MaintenanceStore,
                    now: Callable[[], datetime.datetime] = datetime.datetime.now) -> ServiceHoursKeeper:
        """The configured hours and the override in ``store``; audited on the same clock."""
        audit = Audit(store, keep_days=config.maintenance.audit_days, clock=lambda: now().timestamp())
        return cls(config.service_hours, store, audit, now)

    # -- answers (cheap: the GUI thread asks) ------------------------------------------------
    def override(self, day: datetime.date | None = None) -> DayOverride | None:
        """The technician's override for ``day`` (today by default); one set for another day is none."""
        day = day or self.now().date()
        with self._lock:
            override = self._override
        return override if override is not None and override.day == day else None

    def hours_on(self, day: datetime.date) -> Hours | None:
        """The hours ``day`` opens (the override's on its day), or None: closed all day."""
        override = self.override(day)
        if override is not None:
            return override.hours
        return self.usual_on(day)

    def usual_on(self, day: datetime.date) -> Hours | None:
        if WEEKDAYS[day.weekday()] not in self.configured.days:
            return None
        return self.configured.open, self.configured.close

    def is_open(self, moment: datetime.datetime | None = None) -> bool:
        moment = moment or self.now()
        hours = self.hours_on(moment.date())
        return hours is not None and hours[0] <= moment.time() < hours[1]

    def next_opening(self, moment: datetime.datetime | None = None) -> datetime.datetime | None:
        """The first opening after ``moment``, over days off and today's override; None if no day opens."""
        moment = moment or self.now()
        for ahead in range(len(WEEKDAYS) + 1):  # today, and a whole week after it
            day = moment.date() + datetime.timedelta(days=ahead)
            hours = self.hours_on(day)
            if hours is not None and datetime.datetime.combine(day, hours[0]) > moment:
                return datetime.datetime.combine(day, hours[0])
        return None

    def closing_today(self, moment: datetime.datetime | None = None) -> datetime.datetime | None:
        """When today's service ends, or None when today does not open."""
        moment = moment or self.now()
        hours = self.hours_on(moment.date())
        return None if hours is None else datetime.datetime.combine(moment.date(), hours[1])

    def today(self) -> HoursToday:
        now = self.now()
        day = now.date()
        return HoursToday(day, self.usual_on(day), self.hours_on(day), self.override(day), self.is_open(now),
                          self.next_opening(now), self.configured)

    # -- the technician's override (worker threads: it writes the file) ----------------------------
    def set_today(self, open_text: str, close_text: str, by: str) -> DayOverride:
        """Other hours for today only; raises :class:`HoursRefused` (audited) for a time that is no time
        or a close not after the open."""
        try:
            hours = _hours(open_text, close_text)
        except HoursRefused as refused:
            self._audit.record(by, "hours_today", str(refused), "refused")
            raise
        override = self._write(hours, by)
        self._audit.record(by, "hours_today", f"{hours_text(hours)} on {override.day} "
                                              f"(usual: {self._usual_text(override.day)})", "ok")
        return override

    def close_today(self, by: str) -> DayOverride:
        """Closed all day today (the sign goes up when the customer side is next at home)."""
        override = self._write(None, by)
        self._audit.record(by, "closed_today", f"closed all day on {override.day} "
                                               f"(usual: {self._usual_text(override.day)})", "ok")
        return override

    def clear_today(self, by: str) -> None:
        """Back to the configured hours today."""
        with self._writing:
            before = self.override()
            if before is not None:
                self._store.clear_hours_override()
                with self._lock:
                    self._override = None
        if before is None:
            self._audit.record(by, "hours_cleared", "no override today", "unchanged")
            return
        was = "closed all day" if before.hours is None else hours_text(before.hours)
        self._audit.record(by, "hours_cleared", f"was {was} on {before.day}, set by {before.by}; "
                                                f"back to {self._usual_text(before.day)}", "ok")

    def _write(self, hours: Hours | None, by: str) -> DayOverride:
        with self._writing:
            now = self.now()
            override = DayOverride(now.date(), hours, by, now.timestamp())
            self._store.set_hours_override(_stored(override))
            with self._lock:
                self._override = override
        return override

    def _usual_text(self, day: datetime.date) -> str:
        usual = self.usual_on(day)
        return "a day off" if usual is None else hours_text(usual)


def _hours(open_text: str, close_text: str) -> Hours:
    opens, closes = parse_hhmm(open_text), parse_hhmm(close_text)
    if opens is None:
        raise HoursRefused("maint.hours.refused.bad_open", f"opening time {open_text!r} is not HH:MM on the "
                           "24-hour clock", value=open_text or "—")
    if closes is None:
        raise HoursRefused("maint.hours.refused.bad_close", f"closing time {close_text!r} is not HH:MM on the "
                           "24-hour clock", value=close_text or "—")
    if closes <= opens:
        raise HoursRefused("maint.hours.refused.close_not_after_open",
                           f"closing time {closes:%H:%M} is not later than opening time {opens:%H:%M} "
                           "(hours cannot run past midnight)", open=f"{opens:%H:%M}", close=f"{closes:%H:%M}")
    return opens, closes


def _stored(override: DayOverride) -> StoredHoursOverride:
    hours = override.hours
    return StoredHoursOverride(override.day.isoformat(), hours is None,
                               None if hours is None else f"{hours[0]:%H:%M}",
                               None if hours is None else f"{hours[1]:%H:%M}", override.by, override.at)


def _override(stored: StoredHoursOverride) -> DayOverride | None:
    """The row as the keeper uses it; one the keeper cannot read is no override (the usual hours hold)."""
    try:
        day = datetime.date.fromisoformat(stored.day)
    except ValueError:
        return None
    if stored.closed:
        return DayOverride(day, None, stored.by, stored.at)
    opens, closes = parse_hhmm(stored.open or ""), parse_hhmm(stored.close or "")
    if opens is None or closes is None or closes <= opens:
        return None
    return DayOverride(day, (opens, closes), stored.by, stored.at)
