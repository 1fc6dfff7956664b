"""Masking of personal data for screens, slips and logs (rule 5 of MISSION.md).

The contract says the backend masks holder names and addresses before it
sends them (docs/api.md section 1), but the kiosk does not take that on
trust: the backend client masks both again when it parses an account
(:func:`mask_name`, :func:`mask_address`; both leave already masked text as
it is), so every screen, slip and journal row gets masked text whatever the
backend sent.  The kiosk also masks what it holds itself (the account number
a customer typed) before it shows or logs it, and any free text from outside
that a technician must see (:func:`mask_free_text`).
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
    """Keep the first and last character: 张小明 -> 张*明, 张三 -> 张*.

    Idempotent: the result keeps its length, its first and last character
    and stars in between, so masking it again changes nothing (张*明 stays).
    """
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# What ends one part of a Chinese address and says what kind of part it is.
# Longer words first: at a given place 小区 must win over 区, 大道 over 道.
_PART_TYPES = (
    "自治区", "小区", "花园", "大道", "大街", "胡同", "新村", "公寓", "大厦", "单元",
    "省", "市", "区", "县", "旗", "镇", "乡", "村", "路", "街", "巷", "弄", "道", "里",
    "号", "栋", "幢", "座", "楼", "层", "室", "户",
)
_ADDRESS_PART = re.compile("(.*?)(" + "|".join(_PART_TYPES) + ")", re.DOTALL)
# Administrative divisions name no person: a leading run of them is kept.
_ADMIN_TYPES = frozenset({"省", "自治区", "市", "区", "县", "旗"})
_ADMIN_NAME = re.compile(r"[\u4e00-\u9fff]{0,6}")
_STARS = "**"


def mask_address(address: str) -> str:
    """Keep the district and each part's type, star names and numbers:
    南京市玄武区中山路123号 -> 南京市玄武区**路**号 (docs/api.md section 1).

    The leading administrative divisions (省, 市, 区, 县 ...) are kept when
    their names are plain Chinese of at most six characters; every later part
    keeps only its type word (路, 号, 小区, 室 ...) behind ``**``, and text with
    no type word at all (a Latin address, a name) becomes ``**``.  Idempotent:
    城东区**路**号, as the backend masks it, comes back unchanged.
    """
    masked: list[str] = []
    in_divisions = True
    end = 0
    for part in _ADDRESS_PART.finditer(address):
        name, kind = part.group(1), part.group(2)
        end = part.end()
        if in_divisions and kind in _ADMIN_TYPES and _ADMIN_NAME.fullmatch(name):
            masked.append(name + kind)
            continue
        in_divisions = False
        masked.append((_STARS if name else "") + kind)
    if address[end:]:
        masked.append(_STARS)
    return "".join(masked)


# Text made only of these can carry a number, a date or a time, but neither a
# name nor an address: it may be shown as it is (digit runs still masked).
_SHAPE_ONLY = re.compile(r"[0-9 .,:;+\-_/TZ]{0,40}")
_MAX_SHOWN_STARS = 6


def mask_free_text(text: str) -> str:
    """Free text from outside the kiosk (a backend value, a message) in a form
    that may go into a log line or an error detail.

    Text of digits and punctuation only (``12.5``, ``2026-11-23T10:15:02``)
    is kept, with long digit runs masked; anything else keeps its first and
    last character, if they are printable, around at most six stars
    (``Zhang Xiaoming`` -> ``Z******g``), so no name or address survives.
    Callers add the length when it helps a technician.
    """
    if _SHAPE_ONLY.fullmatch(text):
        return redact_digit_runs(text)
    if len(text) <= 2:
        return "*" * len(text)
    first = text[0] if text[0].isprintable() and not text[0].isspace() else "*"
    last = text[-1] if text[-1].isprintable() and not text[-1].isspace() else "*"
    return first + "*" * min(len(text) - 2, _MAX_SHOWN_STARS) + last


def redact_digit_runs(text: str) -> str:
    """Mask every run of six or more digits, wherever it sits in free text."""
    return _LONG_DIGIT_RUN.sub(lambda m: mask_account(m.group(0)), text)
