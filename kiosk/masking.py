"""Masking of personal data for screens, slips and logs (rule 5 of MISSION.md).

The backend already masks holder names and addresses; the kiosk masks what it
holds itself (the account number a customer typed) before it shows or logs it.
"""

from __future__ import annotations

import re

_LONG_DIGIT_RUN = re.compile(r"\d{6,}")


def mask_account(number: str) -> str:
    """Keep the first two and last four digits: 3201234567 -> 32****4567."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 6) + number[-4:]


def mask_name(name: str) -> str:
    """Keep the first and last character: 张小明 -> 张*明, 张三 -> 张*."""
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def redact_digit_runs(text: str) -> str:
    """Mask every run of six or more digits, wherever it sits in free text."""
    return _LONG_DIGIT_RUN.sub(lambda m: mask_account(m.group(0)), text)
