"""Which bills are still owed, and how much of each, from what the billing system says.

The contract (``docs/api.md`` 3.3): ``arrears_fen`` is authoritative; after a
part payment the ``unpaid`` bills add up to more than it, because the
billing system marks a bill paid only once it is paid in full.  What was paid
beyond the fully paid bills went to the oldest unpaid ones first, so those
are partly paid.  The customer must see that, not "unpaid" for a bill they
have just paid half of.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contract.models import Account, Bill


class Standing(StrEnum):
    PAID = "paid"
    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"


@dataclass(frozen=True)
class BillStanding:
    bill: Bill
    standing: Standing
    owed_fen: int  # what is still owed on this bill


def bill_standings(account: Account) -> list[BillStanding]:
    """Every bill of ``account`` with what is still owed on it, newest first."""
    unpaid_oldest_first = sorted((b for b in account.bills if b.status == "unpaid"), key=lambda b: b.period)
    paid_on_unpaid = max(0, sum(b.amount_fen for b in unpaid_oldest_first) - account.arrears_fen)
    owed: dict[int, int] = {}
    for bill in unpaid_oldest_first:
        applied = min(paid_on_unpaid, bill.amount_fen)
        paid_on_unpaid -= applied
        owed[id(bill)] = bill.amount_fen - applied
    standings = []
    for bill in sorted(account.bills, key=lambda b: b.period, reverse=True):
        if bill.status != "unpaid" or owed[id(bill)] == 0:
            standings.append(BillStanding(bill, Standing.PAID, 0))
        elif owed[id(bill)] < bill.amount_fen:
            standings.append(BillStanding(bill, Standing.PARTLY_PAID, owed[id(bill)]))
        else:
            standings.append(BillStanding(bill, Standing.UNPAID, bill.amount_fen))
    return standings
