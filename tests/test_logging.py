"""The log is JSON lines, and no account number or name is ever written in full."""

from __future__ import annotations

import json
import logging

import pytest

from kiosk.backend.client import BackendClient
from contract.errors import AccountNotFound
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from kiosk.logging_setup import configure_logging


@pytest.fixture
def log_file(tmp_path):
    path = configure_logging(tmp_path / "log", "DEBUG", stderr=False)
    yield path
    for handler in list(logging.getLogger("kiosk").handlers):
        logging.getLogger("kiosk").removeHandler(handler)
        handler.close()


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_each_line_is_a_json_object_with_time_level_and_extras(log_file):
    logging.getLogger("kiosk.test").warning("printer paper low", extra={"device": "printer", "level_pct": 5})
    (record,) = records(log_file)
    assert record["level"] == "WARNING" and record["logger"] == "kiosk.test"
    assert record["device"] == "printer" and record["level_pct"] == 5
    assert record["ts"].endswith("+00:00")


def test_an_account_number_in_a_message_or_an_exception_is_masked(log_file):
    number = "3201100017"
    log = logging.getLogger("kiosk.test")
    log.info("lookup of %s", number, extra={"account": number})
    try:
        raise ValueError(f"bad account {number}")
    except ValueError:
        log.exception("failed")
    text = log_file.read_text("utf-8")
    assert number not in text
    assert "32****0017" in text


def test_names_and_addresses_passed_as_fields_are_dropped(log_file):
    logging.getLogger("kiosk.test").info("holder", extra={"holder": "张小明", "address": "城东区和平路8号"})
    text = log_file.read_text("utf-8")
    assert "张小明" not in text and "和平路" not in text


def test_a_real_lookup_leaves_no_full_number_in_the_log(log_file):
    utility, number = DEMO_ACCOUNTS["electricity_unknown"]
    with BackendSimulator(port=0) as sim:
        client = BackendClient(sim.url, terminal_id="KS-0001", secret="demo-terminal-secret",
                               connect_timeout_s=0.5, read_timeout_s=1.0)
        with pytest.raises(AccountNotFound):
            client.lookup_account(utility, number)
        client.close()
    assert number not in log_file.read_text("utf-8")
