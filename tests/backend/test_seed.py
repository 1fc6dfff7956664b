"""The demo accounts obey the account-number rules and look like real households."""

from __future__ import annotations

import pytest

from contract.account_number import AccountNumberRule
from kiosk.backend.seed import DEMO_ACCOUNTS, TARIFFS, seed_accounts, tiered_cost_fen

RULES = {
    "electricity": AccountNumberRule(10, "luhn"),
    "water": AccountNumberRule(8),
    "gas": AccountNumberRule(10, "luhn"),
}
PLAUSIBLE = {"electricity": (150, 450), "water": (8, 20), "gas": (10, 60)}


def _seeded(last_period: str = "2026-10") -> dict[tuple[str, str], dict]:
    return {(a["utility"], a["account_no"]): a for a in seed_accounts(last_period)}


@pytest.mark.parametrize("scenario", sorted(DEMO_ACCOUNTS))
def test_every_demo_account_number_is_valid_for_its_utility(scenario):
    utility, account_no = DEMO_ACCOUNTS[scenario]
    assert RULES[utility].problem(account_no) is None


def test_every_scenario_but_the_unknown_one_is_seeded():
    seeded = set(_seeded())
    for scenario, key in DEMO_ACCOUNTS.items():
        assert (key in seeded) == (scenario != "electricity_unknown"), scenario


def test_usage_is_twelve_plausible_months_oldest_first():
    for (utility, _), account in _seeded("2026-10").items():
        months = [u["month"] for u in account["usage"]]
        assert months == sorted(months) and len(months) == 12
        assert months[0] == "2025-11" and months[-1] == "2026-10"
        low, high = PLAUSIBLE[utility]
        assert all(low <= u["quantity"] <= high for u in account["usage"])


def test_electricity_use_peaks_in_summer_and_winter():
    account = _seeded("2026-12")[DEMO_ACCOUNTS["electricity_arrears"]]
    by_month = {u["month"][5:]: u["quantity"] for u in account["usage"]}
    assert by_month["08"] > by_month["04"] and by_month["01"] > by_month["10"]


def test_many_bills_account_has_36_bills_newest_first():
    account = _seeded()[DEMO_ACCOUNTS["electricity_many_bills"]]
    periods = [b["period"] for b in account["bills"]]
    assert len(periods) == 36 and periods == sorted(periods, reverse=True)


def test_arrears_are_the_unpaid_bills_and_paid_up_accounts_owe_nothing():
    for scenario, key in DEMO_ACCOUNTS.items():
        account = _seeded().get(key)
        if account is None:
            continue
        unpaid = sum(b["amount_fen"] for b in account["bills"] if b["status"] == "unpaid")
        assert account["arrears_fen"] == unpaid
        if scenario.endswith("_paid_up"):
            assert unpaid == 0 and account["balance_fen"] > 0
        if scenario.endswith("_arrears"):
            assert unpaid > 0


def test_seed_is_deterministic():
    assert seed_accounts("2026-10") == seed_accounts("2026-10")


def test_the_same_month_shows_the_same_usage_whatever_the_window():
    older = _seeded("2026-09")[DEMO_ACCOUNTS["gas_arrears"]]["usage"]
    newer = _seeded("2026-10")[DEMO_ACCOUNTS["gas_arrears"]]["usage"]
    assert older[1:] == newer[:-1]


def test_tiered_cost_charges_each_tier_at_its_own_price():
    # 230 × 48.83 + 170 × 53.83 + 50 × 78.83 = 24323.5 fen, rounded half up
    assert tiered_cost_fen(450, TARIFFS["electricity"]) == 24324
    assert tiered_cost_fen(100, TARIFFS["electricity"]) == 4883
    assert tiered_cost_fen(0, TARIFFS["water"]) == 0


def test_bill_amounts_follow_the_published_tariff():
    account = _seeded()[DEMO_ACCOUNTS["water_arrears"]]
    for bill in account["bills"]:
        assert bill["amount_fen"] == tiered_cost_fen(bill["usage"], account["tariff_tiers"])
