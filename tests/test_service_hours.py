"""Service hours kept: the configured week, a technician's override for today, and what they answer."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from kiosk.config_types import ServiceHours
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from kiosk.service_hours import HoursRefused, ServiceHoursKeeper, closed_detail, opening_in, opening_text
from offline_store.maintenance_store import MaintenanceStore

WEEKDAYS_ONLY = ServiceHours(dt.time(8, 0), dt.time(18, 0), ("mon", "tue", "wed", "thu", "fri"))
FRIDAY = dt.date(2026, 12, 4)  # a Friday; the 5th and 6th are the weekend


class WallClock:
    """The terminal's local time, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> WallClock:
    return WallClock(dt.datetime.combine(FRIDAY, dt.time(10, 0)))


@pytest.fixture
def store(tmp_path):
    made = MaintenanceStore(tmp_path / "maintenance.sqlite")
    yield made
    made.close()


def keeper_on(store: MaintenanceStore, clock: WallClock, hours: ServiceHours = WEEKDAYS_ONLY) -> ServiceHoursKeeper:
    audit = Audit(store, keep_days=365, clock=lambda: clock().timestamp())
    return ServiceHoursKeeper(hours, store, audit, clock)


@pytest.fixture
def keeper(store, clock) -> ServiceHoursKeeper:
    return keeper_on(store, clock)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def audit_rows(store: MaintenanceStore) -> list[tuple[str, str, str, str]]:
    return [(e.user, e.action, e.what, e.result) for e in store.audit_since(0)]


def test_open_from_the_opening_minute_until_just_before_closing(keeper):
    assert not keeper.is_open(at(FRIDAY, "07:59"))
    assert keeper.is_open(at(FRIDAY, "08:00"))
    assert keeper.is_open(at(FRIDAY, "17:59"))
    assert not keeper.is_open(at(FRIDAY, "18:00"))


def test_before_opening_the_next_opening_is_this_morning(keeper):
    assert keeper.next_opening(at(FRIDAY, "06:30")) == at(FRIDAY, "08:00")


def test_after_closing_on_friday_the_next_opening_skips_the_weekend(keeper):
    assert keeper.next_opening(at(FRIDAY, "18:00")) == at(FRIDAY + dt.timedelta(days=3), "08:00")
    assert not keeper.is_open(at(FRIDAY + dt.timedelta(days=1), "10:00"))  # Saturday: a day off


def test_closing_today_is_the_configured_close_and_none_on_a_day_off(keeper):
    assert keeper.closing_today(at(FRIDAY, "10:00")) == at(FRIDAY, "18:00")
    assert keeper.closing_today(at(FRIDAY + dt.timedelta(days=1), "10:00")) is None


def test_no_day_that_opens_means_no_next_opening(store, clock):
    keeper = keeper_on(store, clock, ServiceHours(dt.time(8), dt.time(18), ()))
    assert not keeper.is_open() and keeper.next_opening() is None
    assert opening_in(closed_detail(None)) is None


def test_closed_today_closes_now_and_opens_on_the_next_service_day(keeper, store):
    keeper.close_today("li.wei")
    assert not keeper.is_open()
    assert keeper.next_opening() == at(FRIDAY + dt.timedelta(days=3), "08:00")
    assert keeper.override().closed and keeper.override().by == "li.wei"
    assert audit_rows(store) == [("li.wei", "closed_today", "closed all day on 2026-12-04 (usual: 08:00–18:00)",
                                  "ok")]


def test_custom_hours_today_replace_the_configured_ones_for_today_only(keeper, clock):
    keeper.set_today("09:30", "12:00", "li.wei")
    assert not keeper.is_open(at(FRIDAY, "09:00"))
    assert keeper.is_open(at(FRIDAY, "11:59"))
    assert not keeper.is_open(at(FRIDAY, "12:00"))
    assert keeper.closing_today() == at(FRIDAY, "12:00")
    assert keeper.next_opening(at(FRIDAY, "13:00")) == at(FRIDAY + dt.timedelta(days=3), "08:00")


def test_custom_hours_open_a_day_off(keeper, clock):
    saturday = FRIDAY + dt.timedelta(days=1)
    clock.at = at(saturday, "07:00")
    keeper.set_today("09:00", "13:00", "li.wei")
    assert keeper.next_opening() == at(saturday, "09:00")
    assert keeper.is_open(at(saturday, "10:00"))


def test_the_override_expires_at_midnight_and_is_never_applied_to_another_day(keeper, clock):
    keeper.close_today("li.wei")
    monday = FRIDAY + dt.timedelta(days=3)
    clock.at = at(monday, "10:00")
    assert keeper.is_open() and keeper.override() is None
    assert keeper.today().override is None and keeper.today().today == (dt.time(8), dt.time(18))
    clock.at = at(FRIDAY + dt.timedelta(days=7), "10:00")  # the same weekday a week later: still not applied
    assert keeper.is_open()


def test_the_override_survives_a_restart(store, clock, tmp_path):
    keeper_on(store, clock).set_today("10:00", "15:00", "li.wei")
    store.close()
    reopened = MaintenanceStore(tmp_path / "maintenance.sqlite")
    try:
        again = keeper_on(reopened, clock)
        assert again.hours_on(FRIDAY) == (dt.time(10), dt.time(15))
        assert again.override().by == "li.wei"
    finally:
        reopened.close()


def test_clearing_goes_back_to_the_configured_hours_and_is_audited(keeper, store):
    keeper.set_today("10:00", "15:00", "li.wei")
    keeper.clear_today("chen.jie")
    keeper.clear_today("chen.jie")
    assert keeper.hours_on(FRIDAY) == (dt.time(8), dt.time(18))
    assert audit_rows(store) == [
        ("li.wei", "hours_today", "10:00–15:00 on 2026-12-04 (usual: 08:00–18:00)", "ok"),
        ("chen.jie", "hours_cleared", "was 10:00–15:00 on 2026-12-04, set by li.wei; back to 08:00–18:00", "ok"),
        ("chen.jie", "hours_cleared", "no override today", "unchanged"),
    ]


@pytest.mark.parametrize(("opens", "closes", "key", "values"), [
    ("8:30", "12:00", "maint.hours.refused.bad_open", {"value": "8:30"}),
    ("", "12:00", "maint.hours.refused.bad_open", {"value": "—"}),
    ("08:00", "24:00", "maint.hours.refused.bad_close", {"value": "24:00"}),
    ("08:00", "083", "maint.hours.refused.bad_close", {"value": "083"}),
    ("12:00", "12:00", "maint.hours.refused.close_not_after_open", {"open": "12:00", "close": "12:00"}),
    ("18:00", "09:00", "maint.hours.refused.close_not_after_open", {"open": "18:00", "close": "09:00"}),
])
def test_hours_that_are_no_hours_are_refused_with_what_is_wrong_and_audited(keeper, store, opens, closes, key,
                                                                            values):
    with pytest.raises(HoursRefused) as refused:
        keeper.set_today(opens, closes, "li.wei")
    assert (refused.value.key, refused.value.values) == (key, values)
    assert keeper.override() is None
    assert store.hours_override() is None
    assert audit_rows(store) == [("li.wei", "hours_today", str(refused.value), "refused")]


def test_the_file_itself_refuses_hours_that_run_backwards(store):
    with pytest.raises(sqlite3.IntegrityError):
        store._db.conn.execute("INSERT INTO hours_override VALUES (1, '2026-12-04', 0, '18:00', '09:00', 'x', 0)")


def test_a_maintenance_file_from_before_the_override_gains_its_table(tmp_path, clock):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE service_switch (id INTEGER PRIMARY KEY, out_of_service INTEGER NOT NULL, "
                "reason TEXT NOT NULL, by TEXT NOT NULL, since REAL NOT NULL)")
    old.commit()
    old.close()
    store = MaintenanceStore(path)
    try:
        keeper_on(store, clock).close_today("li.wei")
        assert store.hours_override().closed
    finally:
        store.close()


def test_the_next_opening_reads_as_a_date_in_both_languages():
    monday = dt.datetime(2026, 12, 7, 8, 0)
    assert opening_text(Translator("zh"), monday) == "12月7日（周一）08:00"
    assert opening_text(Translator("en"), monday) == "on Mon 7 Dec at 08:00"
    assert opening_in(closed_detail(monday)) == monday
