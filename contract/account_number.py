"""Account number (户号) rules: which characters, how many, and the check digit.

Each utility sets its own length and check rule in ``config.toml``.  The rules
live here, apart from any screen, so the keypad, the journey and the backend
simulator's seed data all agree on what a valid number is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

CHECK_RULES = ("none", "luhn")


class NumberProblem(Enum):
    """Why an account number cannot be submitted yet (each maps to a prompt)."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_CHECK_DIGIT = "bad_check_digit"


@dataclass(frozen=True)
class AccountNumberRule:
    length: int
    check: str = "none"

    def problem(self, number: str) -> NumberProblem | None:
        """The first reason ``number`` is not a valid account number, or None."""
        if not number:
            return NumberProblem.EMPTY
        if not number.isascii() or not number.isdigit():
            return NumberProblem.NOT_DIGITS
        if len(number) < self.length:
            return NumberProblem.TOO_SHORT
        if len(number) > self.length:
            return NumberProblem.TOO_LONG
        if self.check == "luhn" and not luhn_valid(number):
            return NumberProblem.BAD_CHECK_DIGIT
        return None

    def accepts_more_digits(self, number: str) -> bool:
        return len(number) < self.length


def luhn_check_digit(body: str) -> str:
    """The Luhn (ISO/IEC 7812-1 annex B) digit that completes ``body``."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these sit left of the check digit
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]
