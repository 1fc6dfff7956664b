"""Out of service by hand survives a restart, needs a reason, and is audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.maintenance_audit import Audit
from kiosk.service_switch import MAX_REASON_CHARS, ReasonRefused, ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore

T0 = 1_795_000_000.0  # some morning in 2026, epoch seconds


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "maintenance.sqlite"


def open_switch(path: Path, clock: Clock) -> tuple[ServiceSwitch, MaintenanceStore]:
    """What a kiosk start does: the maintenance file, its audit log, the switch."""
    store = MaintenanceStore(path)
    return ServiceSwitch(store, Audit(store, keep_days=365, clock=clock), clock), store


def test_a_machine_put_out_of_service_is_still_out_after_a_restart(path, clock):
    switch, store = open_switch(path, clock)
    switch.put_out("device_repair: Device repair - acceptor belt", "wang.tech")
    store.close()  # the power goes

    clock.now += 3600
    after, store = open_switch(path, clock)
    state = after.state()
    assert state.out
    assert (state.reason, state.by, state.since) == ("device_repair: Device repair - acceptor belt", "wang.tech", T0)
    store.close()


def test_put_back_in_service_stays_in_after_a_restart(path, clock):
    switch, store = open_switch(path, clock)
    switch.put_out("hall_closed: Hall closed", "wang.tech")
    clock.now += 60
    switch.put_back("li.super")
    store.close()

    after, store = open_switch(path, clock)
    state = after.state()
    assert not state.out and state.reason == ""
    assert (state.by, state.since) == ("li.super", T0 + 60)
    store.close()


@pytest.mark.parametrize("reason", ["", "   "])
def test_no_reason_is_refused_with_a_message_and_nothing_changes(path, clock, reason):
    switch, store = open_switch(path, clock)
    with pytest.raises(ReasonRefused) as refused:
        switch.put_out(reason, "wang.tech")
    assert refused.value.key == "maint.ops.switch.reason_required"
    assert "reason is required" in str(refused.value)
    assert not switch.state().out
    store.close()

    after, store = open_switch(path, clock)
    assert not after.state().out  # nothing was written either
    store.close()


def test_a_reason_too_long_or_on_two_lines_is_refused_saying_which(path, clock):
    switch, store = open_switch(path, clock)
    with pytest.raises(ReasonRefused) as too_long:
        switch.put_out("x" * (MAX_REASON_CHARS + 1), "wang.tech")
    assert too_long.value.key == "maint.ops.switch.reason_too_long"
    assert too_long.value.values == {"length": str(MAX_REASON_CHARS + 1), "limit": str(MAX_REASON_CHARS)}
    with pytest.raises(ReasonRefused) as two_lines:
        switch.put_out("belt\nbroken", "wang.tech")
    assert two_lines.value.key == "maint.ops.switch.reason_unprintable"
    store.close()


def test_every_switch_and_every_refusal_is_in_the_audit_log(path, clock):
    switch, store = open_switch(path, clock)
    with pytest.raises(ReasonRefused):
        switch.put_out("", "wang.tech")
    switch.put_out("network_work: Network work", "wang.tech")
    switch.put_back("wang.tech")
    switch.put_back("wang.tech")
    rows = [(e.user, e.action, e.result) for e in store.audit_since(0)]
    assert rows == [("wang.tech", "out_of_service", "refused"), ("wang.tech", "out_of_service", "ok"),
                    ("wang.tech", "back_in_service", "ok"), ("wang.tech", "back_in_service", "unchanged")]
    assert "network_work: Network work" in store.audit_since(0)[1].what
    assert "network_work: Network work" in store.audit_since(0)[2].what  # what it was out for
    store.close()


def test_put_out_again_changes_the_reason_but_not_since_when(path, clock):
    switch, store = open_switch(path, clock)
    switch.put_out("device_repair: Device repair", "wang.tech")
    clock.now += 600
    state = switch.put_out("software_update: Software update", "li.super")
    assert (state.reason, state.by, state.since) == ("software_update: Software update", "li.super", T0)
    store.close()


def test_the_open_maintenance_screen_is_not_remembered_across_a_restart(path, clock):
    switch, store = open_switch(path, clock)
    switch.maintenance_open("wang.tech")
    assert switch.screen().user == "wang.tech"
    store.close()

    after, store = open_switch(path, clock)
    assert after.screen() is None  # a restart closed the screen
    switch.maintenance_closed()
    assert switch.screen() is None
    store.close()


def test_the_switch_row_is_one_row_whatever_happens(path, clock):
    switch, store = open_switch(path, clock)
    for n in range(5):
        switch.put_out(f"try {n}", "wang.tech")
        switch.put_back("wang.tech")
    store.close()
    with sqlite3.connect(path) as reading:
        assert reading.execute("SELECT COUNT(*) FROM service_switch").fetchone()[0] == 1
