"""`kiosk demo` gives the maintenance screen accounts to try it with — once, and never over real ones."""

from __future__ import annotations

from app.demo_staff import DEMO_STAFF, ensure_demo_staff
from kiosk.maintenance_cli import open_accounts

from harness import kiosk_config


def test_the_demo_makes_its_staff_accounts_when_there_are_none_and_their_pins_log_in(tmp_path, capsys):
    config = kiosk_config(tmp_path)
    ensure_demo_staff(config)
    assert "tap the hall name five times" in capsys.readouterr().err
    accounts = open_accounts(config)
    try:
        assert {u.name: u.role for u in accounts.store.users()} == {n: r for n, (r, _) in DEMO_STAFF.items()}
        assert accounts.login("li.wei", DEMO_STAFF["li.wei"][1]).ok
    finally:
        accounts.store.close()


def test_accounts_already_set_are_left_as_they_are(tmp_path, capsys):
    config = kiosk_config(tmp_path)
    accounts = open_accounts(config)
    accounts.set_pin("wang.fang", "supervisor", "470381")
    accounts.store.close()
    ensure_demo_staff(config)
    assert capsys.readouterr().err == ""
    accounts = open_accounts(config)
    try:
        assert [u.name for u in accounts.store.users()] == ["wang.fang"]
    finally:
        accounts.store.close()
