"""Maintenance accounts: a PIN stored only as a salted scrypt hash, 5 wrong PINs lock the account even across a
restart, and every attempt is in an append-only audit log."""

from __future__ import annotations

import datetime
import sqlite3
import subprocess
import sys

import pytest

from kiosk.maintenance_accounts import MAX_FAILURES, Accounts, LoginOutcome, Role, pin_problem
from kiosk.maintenance_audit import Audit
from offline_store.maintenance_store import MaintenanceStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def open_accounts(path, clock) -> Accounts:
    store = MaintenanceStore(path)
    return Accounts(store, Audit(store, keep_days=365, clock=clock), lockout_s=15 * 60, clock=clock)


@pytest.fixture
def accounts(tmp_path, clock):
    made = open_accounts(tmp_path / "maintenance.sqlite", clock)
    made.set_pin("wang.li", Role.COLLECTOR, "482915")
    yield made
    made.store.close()


def test_the_right_pin_logs_in_with_the_accounts_role(accounts):
    result = accounts.login("wang.li", "482915")
    assert result.ok and result.role is Role.COLLECTOR


def test_the_pin_is_not_in_the_file_only_a_salted_hash(tmp_path, accounts):
    raw = (tmp_path / "maintenance.sqlite").read_bytes() + (tmp_path / "maintenance.sqlite-wal").read_bytes()
    assert b"482915" not in raw
    accounts.set_pin("zhao.min", Role.TECHNICIAN, "482915")  # the same PIN, another salt
    first, second = accounts.store.user("wang.li"), accounts.store.user("zhao.min")
    assert first.salt != second.salt and first.digest != second.digest


@pytest.mark.parametrize("pin, words", [("12345", "at least 6 digits"), ("12ab56", "digits only"),
                                        ("111111", "guessed first"), ("123456", "guessed first"),
                                        ("1234567890123", "at most 12")])
def test_a_pin_that_is_too_short_or_too_easy_is_refused_saying_why(accounts, pin, words):
    assert words in pin_problem(pin)
    with pytest.raises(ValueError, match=words):
        accounts.set_pin("li.na", Role.TECHNICIAN, pin)


def test_a_wrong_pin_says_how_many_tries_are_left_and_the_fifth_locks(accounts):
    for left in range(MAX_FAILURES - 1, 0, -1):
        result = accounts.login("wang.li", "000001")
        assert (result.outcome, result.attempts_left) == (LoginOutcome.WRONG_PIN, left)
    locked = accounts.login("wang.li", "000001")
    assert locked.outcome is LoginOutcome.LOCKED
    assert accounts.login("wang.li", "482915").outcome is LoginOutcome.LOCKED  # even the right PIN


def test_the_lock_holds_across_a_restart_and_opens_after_the_configured_time(tmp_path, accounts, clock):
    for _ in range(MAX_FAILURES):
        accounts.login("wang.li", "000001")
    accounts.store.close()
    restarted = open_accounts(tmp_path / "maintenance.sqlite", clock)
    assert restarted.login("wang.li", "482915").outcome is LoginOutcome.LOCKED
    clock.now += 15 * 60 + 1
    assert restarted.login("wang.li", "482915").ok
    assert restarted.login("wang.li", "000001").attempts_left == MAX_FAILURES - 1  # counting starts afresh
    restarted.store.close()


def test_an_unknown_user_is_refused_and_audited(accounts):
    assert accounts.login("nobody", "482915").outcome is LoginOutcome.UNKNOWN_USER
    entries = accounts.audit.since(datetime.date(2026, 1, 1))
    assert [(e.user, e.action, e.result) for e in entries][-1] == ("nobody", "login", "refused")


def test_every_attempt_is_audited_and_the_log_cannot_be_rewritten(tmp_path, accounts):
    accounts.login("wang.li", "000001")
    accounts.login("wang.li", "482915")
    actions = [(e.action, e.result) for e in accounts.audit.since(datetime.date(2026, 1, 1))]
    assert actions == [("set_pin", "ok"), ("login", "refused"), ("login", "ok")]
    connection = sqlite3.connect(tmp_path / "maintenance.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE audit SET result = 'ok'")
    connection.close()


def test_audit_entries_older_than_the_retention_are_purged(tmp_path, clock):
    accounts = open_accounts(tmp_path / "m.sqlite", clock)
    accounts.set_pin("wang.li", Role.COLLECTOR, "482915")
    clock.now += 366 * 86_400
    accounts.login("wang.li", "482915")
    assert [e.action for e in accounts.store.audit_since(0)] == ["login"]
    accounts.store.close()


def test_kiosk_maintenance_set_pin_and_audit_from_the_console(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\nkey_file = "{tmp_path / "data" / "k.key"}"\n'
                      f'backup_dir = "{tmp_path / "backup"}"\n')
    script = ("import sys; from kiosk import maintenance_cli; from kiosk.config import load_config; "
              "answers = iter(sys.argv[2:]); "
              "sys.exit(maintenance_cli.set_pin(load_config(sys.argv[1]), 'zhao.min', 'technician', "
              "ask=lambda prompt: next(answers)))")
    differ = subprocess.run([sys.executable, "-c", script, str(config), "482915", "482916"],
                            capture_output=True, text=True, timeout=60)
    assert differ.returncode == 1 and "the two PINs differ" in differ.stdout
    ok = subprocess.run([sys.executable, "-c", script, str(config), "482915", "482915"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "salted scrypt hash" in ok.stdout
    audit = subprocess.run([sys.executable, "-m", "app.cli", "maintenance", "audit", "--config", str(config),
                            "--since", "2020-01-01"], capture_output=True, text=True, timeout=60)
    assert audit.returncode == 0, audit.stderr
    assert "1 entries" in audit.stdout and "set_pin" in audit.stdout and "zhao.min" in audit.stdout
    assert "482915" not in audit.stdout
