"""Demo accounts and prepaid cards for the backend simulator (docs/api.md,
"Simulator seed accounts" and "Simulator seed cards").

Every scenario the kiosk must handle has one account here: something owed,
nothing owed, closed, a long bill history, for each utility.  Account numbers
follow the per-utility rules in ``contract.account_number``: electricity and gas
ten digits ending in a Luhn check digit, water eight digits without one.

The data is deterministic.  Usage figures come from a seasonal profile with a
small wobble drawn from ``random.Random`` seeded by scenario and month, so a
given month always shows the same figure; only the window of months moves
with the calendar (the latest bill is last month's) unless ``last_period`` is
given.  Names and addresses are stored already masked, as the billing system
sends them: the simulator has no personal data to leak.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from contract.account_number import luhn_check_digit
# The demo master key the simulator issues write tokens with (re-exported
# here for its old importers); it lives in contract/ so that the demo's
# virtual cards (drivers/) know it too.
from contract.card_token import DEMO_CARD_MASTER_KEY as DEMO_CARD_MASTER_KEY


def _luhn(body: str) -> str:
    return body + luhn_check_digit(body)


DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    "electricity_arrears": ("electricity", _luhn("320110001")),
    "electricity_paid_up": ("electricity", _luhn("320110002")),
    "electricity_closed": ("electricity", _luhn("320110003")),
    "electricity_many_bills": ("electricity", _luhn("320110004")),
    "water_arrears": ("water", "60120001"),
    "water_paid_up": ("water", "60120002"),
    "gas_arrears": ("gas", _luhn("510120001")),
    "gas_paid_up": ("gas", _luhn("510120002")),
    # Valid format and check digit, deliberately absent from the seed: the
    # "account not found" case.
    "electricity_unknown": ("electricity", _luhn("320199990")),
}

UNITS = {"electricity": "kWh", "water": "m³", "gas": "m³"}


def _tier(tier: int, up_to: float | None, price: float) -> dict[str, Any]:
    ordinal_zh = "一二三四"[tier - 1]
    return {
        "tier": tier,
        "name_zh": f"第{ordinal_zh}档",
        "name_en": f"Tier {tier}",
        "up_to": up_to,
        "price_fen_per_unit": price,
    }


# Monthly residential tiers in the shape Chinese utilities publish (阶梯价格).
# Electricity: 0.4883 / 0.5383 / 0.7883 yuan per kWh.  Water and gas keep the
# usual price ratios between tiers (water 1 : 1.5 : 3, gas 1 : 1.2 : 1.5).
TARIFFS: dict[str, list[dict[str, Any]]] = {
    "electricity": [_tier(1, 230, 48.83), _tier(2, 400, 53.83), _tier(3, None, 78.83)],
    "water": [_tier(1, 15, 350), _tier(2, 22, 525), _tier(3, None, 1050)],
    "gas": [_tier(1, 30, 261), _tier(2, 50, 313.2), _tier(3, None, 391.5)],
}

# Typical use per calendar month, January first: electricity peaks with air
# conditioning in summer and heating in winter, water in summer, gas in winter.
_PROFILE: dict[str, tuple[float, ...]] = {
    "electricity": (330, 300, 220, 180, 190, 280, 420, 440, 300, 190, 210, 310),
    "water": (10, 10.5, 11, 12, 14, 16, 18.5, 19, 16, 13, 11, 10),
    "gas": (55, 50, 38, 25, 16, 12, 11, 11, 13, 20, 34, 50),
}
_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "electricity": (150, 450),
    "water": (8, 20),
    "gas": (10, 60),
}


@dataclass(frozen=True)
class _Scenario:
    holder_masked: str
    address_masked: str
    bill_count: int = 12
    unpaid_bills: int = 0  # the newest ones
    balance_fen: int = 0
    scale: float = 1.0  # this household's use relative to the profile
    status: str = "active"


_SCENARIOS: dict[str, _Scenario] = {
    "electricity_arrears": _Scenario("张*明", "城东区**路**号", unpaid_bills=2),
    "electricity_paid_up": _Scenario(
        "李*", "高新区**大道**号**室", balance_fen=5630, scale=0.85
    ),
    "electricity_closed": _Scenario("王*华", "老城区**巷**号", status="closed", scale=0.9),
    "electricity_many_bills": _Scenario(
        "陈*芳", "江北新区**街**号**室", bill_count=36, unpaid_bills=3, scale=0.95
    ),
    "water_arrears": _Scenario("刘*强", "城西区**路**弄**号", unpaid_bills=3),
    "water_paid_up": _Scenario("赵*", "南湖区**小区**栋**室", balance_fen=2000, scale=0.9),
    "gas_arrears": _Scenario("孙*梅", "城北区**路**号**室", unpaid_bills=2),
    "gas_paid_up": _Scenario("周*", "开发区**花园**栋**室", balance_fen=12000, scale=0.8),
}


def seed_accounts(last_period: str | None = None) -> list[dict[str, Any]]:
    """Every seeded account in its wire format (docs/api.md, account object).

    ``last_period`` ("2026-10") is the newest billed month; by default last
    month.  Usage covers the twelve months ending there, oldest first; bills
    run newest first.
    """
    last = last_period or _previous_month(date.today())
    return [_account(name, scenario, last) for name, scenario in _SCENARIOS.items()]


def tiered_cost_fen(quantity: float, tiers: list[dict[str, Any]]) -> int:
    """What ``quantity`` costs under monthly ``tiers``, rounded half up to a fen."""
    total = Decimal(0)
    floor = Decimal(0)
    used = Decimal(str(quantity))
    for tier in tiers:
        ceiling = None if tier["up_to"] is None else Decimal(str(tier["up_to"]))
        in_tier = used - floor if ceiling is None else min(used, ceiling) - floor
        if in_tier <= 0:
            break
        total += in_tier * Decimal(str(tier["price_fen_per_unit"]))
        if ceiling is None:
            break
        floor = ceiling
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _account(name: str, s: _Scenario, last_period: str) -> dict[str, Any]:
    utility, account_no = DEMO_ACCOUNTS[name]
    usage_periods = _periods_ending(last_period, 12)
    bill_periods = _periods_ending(last_period, s.bill_count)
    bills = [
        _bill(name, utility, s, period, unpaid=i < s.unpaid_bills)
        for i, period in enumerate(reversed(bill_periods))
    ]
    return {
        "utility": utility,
        "account_no": account_no,
        "holder_masked": s.holder_masked,
        "address_masked": s.address_masked,
        "status": s.status,
        "arrears_fen": sum(b["amount_fen"] for b in bills if b["status"] == "unpaid"),
        "balance_fen": s.balance_fen,
        "unit": UNITS[utility],
        "bills": bills,
        "usage": [
            {"month": p, "quantity": _usage(name, utility, s, p)} for p in usage_periods
        ],
        "tariff_tiers": [dict(t) for t in TARIFFS[utility]],
    }


def _bill(name: str, utility: str, s: _Scenario, period: str, *, unpaid: bool) -> dict:
    quantity = _usage(name, utility, s, period)
    return {
        "period": period,
        "amount_fen": tiered_cost_fen(quantity, TARIFFS[utility]),
        "due_date": _shift(period, 1) + "-15",
        "status": "unpaid" if unpaid else "paid",
        "usage": quantity,
    }


def _usage(name: str, utility: str, s: _Scenario, period: str) -> float:
    # Seeded per scenario and month (a str seed is hashed with SHA-512, not
    # hash(), so it is stable across runs): one month, one figure, always.
    wobble = random.Random(f"{name}/{period}").uniform(-0.08, 0.08)
    typical = _PROFILE[utility][int(period[5:]) - 1]
    low, high = _PLAUSIBLE[utility]
    quantity = min(high, max(low, typical * s.scale * (1 + wobble)))
    # Electricity meters read whole kWh; water and gas to a tenth of a m³.
    return float(round(quantity, 0 if utility == "electricity" else 1))


def _periods_ending(last: str, count: int) -> list[str]:
    """``count`` months ending with ``last``, oldest first."""
    return [_shift(last, -back) for back in range(count - 1, -1, -1)]


def _shift(period: str, months: int) -> str:
    """The month ``months`` after ``period`` ("2026-10", 3 -> "2027-01")."""
    index = int(period[:4]) * 12 + int(period[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _previous_month(today: date) -> str:
    return _shift(f"{today.year:04d}-{today.month:02d}", -1)


# --- Prepaid meter cards (docs/api.md, "Simulator seed cards") ----------------

DEMO_CARDS: dict[str, str] = {
    # The card `make demo` and the device panel insert (drivers/pcsc/applet.py,
    # DEMO_CARD): electricity_arrears's meter, three purchases so far.
    "electricity_card": "5A4B000000000017",
    "water_card": "5A4B000000000025",  # water_arrears: arrears are settled first
    "gas_card": "5A4B000000000033",  # gas_paid_up
    # electricity_paid_up's old card, reported lost and replaced (挂失补卡).
    "electricity_card_replaced": "5A4B000000000041",
    # Of our format, deliberately absent from the seed: "card not found".
    "card_unknown": "5A4B0000000000FF",
}


@dataclass(frozen=True)
class _CardScenario:
    account: str  # the DEMO_ACCOUNTS scenario the card belongs to
    meter_no: str
    purchase_count: int  # purchases issued to the card so far, all written
    status: str = "active"


# Per utility: the smallest and largest purchase, the hoarding limit
# (囤积上限: the most credit a meter may hold), and whether arrears are
# settled out of a purchase before any credit goes on the card.
CARD_LIMITS: dict[str, dict[str, Any]] = {
    "electricity": {"min_purchase_fen": 1000, "max_purchase_fen": 200000,
                    "hoarding_limit_fen": 500000, "arrears_first": False},
    "water": {"min_purchase_fen": 1000, "max_purchase_fen": 50000,
              "hoarding_limit_fen": 100000, "arrears_first": True},
    "gas": {"min_purchase_fen": 2000, "max_purchase_fen": 100000,
            "hoarding_limit_fen": 200000, "arrears_first": True},
}

_CARD_SCENARIOS: dict[str, _CardScenario] = {
    "electricity_card": _CardScenario("electricity_arrears", "000012345678", 3),
    "water_card": _CardScenario("water_arrears", "000060120001", 7),
    "gas_card": _CardScenario("gas_paid_up", "000051012002", 12),
    "electricity_card_replaced": _CardScenario("electricity_paid_up", "000032011002", 5, status="cancelled"),
}


def seed_cards() -> list[dict[str, Any]]:
    """Every seeded card as the simulator keeps it: serial, account, meter,
    status (active or cancelled), its purchase count, its utility's limits.
    No purchase is unwritten: every card shows the count the billing system
    last issued."""
    cards = []
    for name, s in _CARD_SCENARIOS.items():
        utility, account_no = DEMO_ACCOUNTS[s.account]
        cards.append({"card_serial": DEMO_CARDS[name], "utility": utility, "account_no": account_no,
                      "meter_no": s.meter_no, "status": s.status, "purchase_count": s.purchase_count,
                      # The count the card carried when these records begin, loaded by its meter: a
                      # later purchase is on its way to the meter until a write-back says it arrived.
                      "issued_count": s.purchase_count, **CARD_LIMITS[utility]})
    return cards
