"""What is still owed on each bill, read from arrears and the bills as the billing system sends them."""

from __future__ import annotations

from contract.bill_standing import Standing, bill_standings
from contract.models import Account, Bill


def account(arrears_fen: int, *bills: tuple[str, int, str]) -> Account:
    return Account("electricity", "3201100017", "张*明", "城东区**路**号", "active", arrears_fen, 0, "kWh",
                   tuple(Bill(period, fen, f"{period}-15", status, 100.0) for period, fen, status in bills), (), ())


def standings(acct: Account) -> list[tuple[str, Standing, int]]:
    return [(s.bill.period, s.standing, s.owed_fen) for s in bill_standings(acct)]


def test_bills_adding_up_to_the_arrears_are_all_unpaid_newest_first():
    acct = account(23758, ("2026-09", 14676, "unpaid"), ("2026-10", 9082, "unpaid"))
    assert standings(acct) == [("2026-10", Standing.UNPAID, 9082), ("2026-09", Standing.UNPAID, 14676)]


def test_a_part_payment_is_taken_off_the_oldest_unpaid_bill_which_reads_partly_paid():
    acct = account(23758 - 2000, ("2026-10", 9082, "unpaid"), ("2026-09", 14676, "unpaid"))
    assert standings(acct) == [("2026-10", Standing.UNPAID, 9082), ("2026-09", Standing.PARTLY_PAID, 12676)]


def test_a_part_payment_larger_than_the_oldest_bill_leaves_only_the_newest_partly_paid():
    acct = account(5000, ("2026-10", 9082, "unpaid"), ("2026-09", 14676, "unpaid"), ("2026-08", 8000, "paid"))
    assert standings(acct) == [("2026-10", Standing.PARTLY_PAID, 5000), ("2026-09", Standing.PAID, 0),
                               ("2026-08", Standing.PAID, 0)]


def test_nothing_owed_makes_every_bill_paid():
    acct = account(0, ("2026-10", 9082, "unpaid"), ("2026-09", 14676, "paid"))
    assert [s for _, s, _ in standings(acct)] == [Standing.PAID, Standing.PAID]
