"""The utility's rules for the money of one payment, written once.

The utility's rule: the machine gives no change — what is paid above the
amount due goes to the account's balance; what is paid below it leaves the
rest owed.  The journal's records, the payment in progress and the slip all
ask these two functions.
"""

from __future__ import annotations


def credited_to_balance_fen(paid_fen: int, amount_due_fen: int) -> int:
    """What goes to the balance: the part of the payment above the amount due."""
    return max(0, paid_fen - amount_due_fen)


def still_due_fen(paid_fen: int, amount_due_fen: int) -> int:
    """What the customer still owes after paying ``paid_fen``."""
    return max(0, amount_due_fen - paid_fen)
