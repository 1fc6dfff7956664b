"""No full account number leaves the client in an error detail or a log line."""

from __future__ import annotations

import logging

import pytest

from contract.errors import BackendError
from kiosk.backend.seed import DEMO_ACCOUNTS

FAULTS = ["http_500", "drop", "malformed_json", "html_error"]


def _failure(client, utility, account_no) -> BackendError:
    with pytest.raises(BackendError) as caught:
        client.lookup_account(utility, account_no)
    return caught.value


@pytest.mark.parametrize("scenario", ["electricity_unknown", "electricity_closed"])
def test_refusal_detail_masks_the_account_number(client, scenario):
    utility, account_no = DEMO_ACCOUNTS[scenario]
    error = _failure(client, utility, account_no)
    assert account_no not in error.detail and account_no not in str(error)
    assert account_no[-4:] in error.detail  # still recognisable to a technician


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_detail_masks_the_account_number(make_client, sim, fault):
    client = make_client(retries=0)
    sim.inject(fault)
    utility, account_no = DEMO_ACCOUNTS["water_arrears"]
    error = _failure(client, utility, account_no)
    assert account_no not in error.detail and account_no not in str(error)


def test_timeout_and_unreachable_details_mask_the_account_number(make_client, closed_port, sim):
    utility, account_no = DEMO_ACCOUNTS["gas_arrears"]
    sim.inject("delay", seconds=0.4)
    timed_out = _failure(make_client(read_timeout_s=0.2, retries=0), utility, account_no)
    unreachable = _failure(
        make_client(base_url=f"http://127.0.0.1:{closed_port}", retries=0), utility, account_no
    )
    for error in (timed_out, unreachable):
        assert account_no not in error.detail and account_no not in str(error)


def test_client_log_never_holds_a_full_account_number(client, sim, payment, caplog):
    caplog.set_level(logging.DEBUG, logger="kiosk.backend")
    sim.inject("http_500", count=1)
    for scenario in ("electricity_arrears", "electricity_unknown", "electricity_closed"):
        try:
            client.lookup_account(*DEMO_ACCOUNTS[scenario])
        except BackendError:
            pass
    client.post_payment(payment())
    ours = [r.getMessage() for r in caplog.records if r.name == "kiosk.backend"]
    assert ours, "the client logs what it does"
    for scenario in ("electricity_arrears", "electricity_unknown", "electricity_closed"):
        assert not any(DEMO_ACCOUNTS[scenario][1] in line for line in ours)
