"""The parsers refuse any reply that breaks the contract, naming the field."""

from __future__ import annotations

import copy

import pytest

from contract.errors import MalformedReply
from contract.models import (
    PaymentNote,
    PaymentRequest,
    parse_account,
    parse_heartbeat,
    parse_payment_request,
    parse_payment_result,
)
from kiosk.backend.seed import seed_accounts


@pytest.fixture
def account_body() -> dict:
    return copy.deepcopy(seed_accounts("2026-10")[0])


@pytest.fixture
def result_body() -> dict:
    return {
        "transaction_no": "T0001-20261123-0001",
        "status": "posted",
        "posted_at": "2026-11-23T10:15:02+08:00",
        "receipt_no": "R20261123-000001",
        "balance_after_fen": 6242,
        "arrears_after_fen": 0,
    }


def _problem(parse, body) -> MalformedReply:
    with pytest.raises(MalformedReply) as caught:
        parse(body)
    return caught.value


def test_a_seeded_account_parses_into_frozen_dataclasses(account_body):
    account = parse_account(account_body)
    assert account.holder_masked == "张*明" and not account.closed
    assert len(account.usage) == 12 and isinstance(account.usage[0].quantity, float)
    assert account.tariff_tiers[-1].up_to is None
    assert account.tariff_tiers[0].price_fen_per_unit == 48.83
    with pytest.raises(AttributeError):
        account.arrears_fen = 0  # type: ignore[misc]


def test_missing_field_is_named(account_body):
    del account_body["holder_masked"]
    problem = _problem(parse_account, account_body)
    assert problem.field == "holder_masked"
    assert problem.detail == "holder_masked: missing"


def test_nested_field_with_a_string_amount_is_named_with_its_path(account_body):
    account_body["bills"][2]["amount_fen"] = "12.5"
    problem = _problem(parse_account, account_body)
    assert problem.detail == 'bills[2].amount_fen: expected an integer, got "12.5"'


def test_bool_is_not_an_integer(account_body):
    account_body["arrears_fen"] = True
    problem = _problem(parse_account, account_body)
    assert problem.detail == "arrears_fen: expected an integer, got true"


def test_float_is_not_an_amount_in_fen(account_body):
    account_body["balance_fen"] = 12.0
    assert _problem(parse_account, account_body).field == "balance_fen"


def test_bool_is_not_a_quantity(account_body):
    account_body["usage"][0]["quantity"] = False
    assert _problem(parse_account, account_body).field == "usage[0].quantity"


def test_not_a_number_is_refused(account_body):
    account_body["tariff_tiers"][1]["price_fen_per_unit"] = float("nan")
    assert _problem(parse_account, account_body).field == "tariff_tiers[1].price_fen_per_unit"


def test_value_outside_its_enumeration_is_refused(account_body):
    account_body["bills"][0]["status"] = "overdue"
    problem = _problem(parse_account, account_body)
    assert problem.field == "bills[0].status" and "unpaid, paid" in problem.detail


def test_wrong_container_type_is_refused(account_body):
    account_body["bills"] = {"period": "2026-10"}
    assert _problem(parse_account, account_body).detail.startswith("bills: expected an array")


def test_a_reply_that_is_not_an_object_is_refused():
    assert "expected an object" in _problem(parse_account, ["not", "an", "account"]).detail


def test_bad_month_and_date_are_refused(account_body):
    account_body["usage"][3]["month"] = "2026-13"
    assert _problem(parse_account, account_body).field == "usage[3].month"
    account_body = copy.deepcopy(seed_accounts("2026-10")[0])
    account_body["bills"][0]["due_date"] = "2026-02-30"
    assert _problem(parse_account, account_body).field == "bills[0].due_date"


def test_unknown_extra_fields_are_ignored(account_body):
    account_body["meter_type"] = "smart"
    assert parse_account(account_body).utility == "electricity"


def test_payment_result_parses_and_carries_the_replay_flag(result_body):
    result = parse_payment_result(result_body, replayed=True)
    assert result.receipt_no == "R20261123-000001" and result.replayed


def test_time_without_offset_is_refused(result_body):
    result_body["posted_at"] = "2026-11-23T10:15:02"
    problem = _problem(parse_payment_result, result_body)
    assert problem.detail == (
        'posted_at: expected an ISO 8601 time with offset, got "2026-11-23T10:15:02"'
    )


def test_heartbeat_needs_the_server_time():
    assert parse_heartbeat({"server_time": "2026-11-23T10:15:02+08:00"}).server_time
    assert _problem(parse_heartbeat, {}).field == "server_time"


def test_payment_request_round_trips_through_its_wire_format():
    request = PaymentRequest(
        "T0001-1", "T0001", "gas", "5101200011", 15000,
        (PaymentNote(10000, 1), PaymentNote(5000, 1)), "2026-11-23T10:15:00+08:00",
    )
    assert parse_payment_request(request.to_body()) == request
