"""Which scanned lines are payment codes (付款码), and why every other line is refused.

The customer's app shows a one-time payment code as a barcode and a QR code
carrying the same digits.  The published shapes (see docs/scanner.md for the
sources):

* WeChat Pay: 18 digits, starting 10, 11, 12, 13, 14 or 15 (WeChat Pay
  micropay API, "用户付款码条形码规则").
* Alipay: 16 to 24 digits, starting 25 to 30 (Alipay alipay.trade.pay,
  ``auth_code``: "25-30 开头的长度为 16-24 位的数字").
* UnionPay QuickPass (云闪付): 19 digits starting 62.

The three prefix ranges do not overlap, so a code is at most one kind.  A
line that is not one of them is refused with a reason a technician can look
up (:class:`Refusal`) and is never passed on.  One shape collides: a
mainland resident ID number (GB 11643) is 18 characters whose first two
digits are a province code (11–15 included), so it can look like a WeChat
code.  A line that passes the ID number's own checks (a real birth date and
the ISO 7064 MOD 11-2 check character) is refused as an ID number: sending a
customer's ID number to the billing system as a payment code is worse than
asking for a fresh code (the odds of a real WeChat code passing both checks
are about 1 in 25,000; the app then shows the next code within a minute).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

# Longer than any payment code (24) with room to tell a URL or a long
# barcode apart from noise; anything beyond is refused as too long.
MAX_PAYMENT_DIGITS = 24


class CodeKind(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


class RefusalReason(StrEnum):
    """Why a line is not a payment code; the technician's words are in :data:`EXPLAINED`."""

    NOT_ASCII = "NOT_ASCII"
    CONTROL_BYTES = "CONTROL_BYTES"
    TOO_LONG = "TOO_LONG"
    INCOMPLETE = "INCOMPLETE"
    URL = "URL"
    LETTERS = "LETTERS"
    ID_CARD = "ID_CARD"
    EAN13 = "EAN13"
    UNKNOWN_DIGITS = "UNKNOWN_DIGITS"


EXPLAINED = {
    RefusalReason.NOT_ASCII: "bytes outside ASCII: a payment code is digits only (wrong baud rate or code page?)",
    RefusalReason.CONTROL_BYTES: "control bytes inside the line: garbled on the line, or a terminator setting "
                                 "that does not match the scanner's",
    RefusalReason.TOO_LONG: "longer than any payment code: a document or other large code, or lost terminators",
    RefusalReason.INCOMPLETE: "the scanner stopped mid-code (no terminator in time): a partial read",
    RefusalReason.URL: "a web address (a shop's or a poster's QR code), not a payment code",
    RefusalReason.LETTERS: "contains letters or symbols: a payment code is digits only",
    RefusalReason.ID_CARD: "a resident ID card number, not a payment code",
    RefusalReason.EAN13: "a product barcode (EAN-13), not a payment code",
    RefusalReason.UNKNOWN_DIGITS: "digits of no payment code's length and prefix (WeChat Pay, Alipay, UnionPay)",
}


@dataclass(frozen=True, repr=False)
class PaymentCode:
    """A line that is a payment code of ``kind``; :attr:`masked` is what logs and screens may show."""

    kind: CodeKind
    code: str

    @property
    def masked(self) -> str:
        return mask(self.code)

    def __repr__(self) -> str:  # a payment code is money: never whole in a log line or a traceback
        return f"PaymentCode({self.kind.value}, {self.masked})"


@dataclass(frozen=True)
class Refusal:
    """A line that is not a payment code; ``shown`` is a rendering safe for logs (never the whole line)."""

    reason: RefusalReason
    shown: str = ""
    length: int = 0

    @property
    def explanation(self) -> str:
        return EXPLAINED[self.reason]


_DIGITS = re.compile(r"[0-9]+")
_URL = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*://|www\.)")
_ID_CARD = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # GB 11643-1999: the check character for each sum mod 11


def mask(code: str) -> str:
    """All but the last four characters as ``*``; a short code is masked whole."""
    if len(code) <= 4:
        return "*" * len(code)
    return "*" * (len(code) - 4) + code[-4:]


def classify(text: str) -> PaymentCode | Refusal:
    """One assembled line → a payment code, or the reason it is not one."""
    if any(ord(ch) > 0x7E for ch in text):
        return Refusal(RefusalReason.NOT_ASCII, shown=_printable(text), length=len(text))
    if any(ord(ch) < 0x20 for ch in text):
        return Refusal(RefusalReason.CONTROL_BYTES, shown=_printable(text), length=len(text))
    if _URL.match(text):
        return Refusal(RefusalReason.URL, shown=_url_origin(text), length=len(text))
    if _ID_CARD.fullmatch(text) and is_resident_id(text):
        return Refusal(RefusalReason.ID_CARD, shown=mask(text), length=len(text))
    if not _DIGITS.fullmatch(text):
        return Refusal(RefusalReason.LETTERS, shown=_printable(text), length=len(text))
    if len(text) > MAX_PAYMENT_DIGITS:
        return Refusal(RefusalReason.TOO_LONG, shown=mask(text), length=len(text))
    kind = payment_kind(text)
    if kind is not None:
        return PaymentCode(kind, text)
    if len(text) == 13 and ean13_valid(text):
        return Refusal(RefusalReason.EAN13, shown=text, length=13)
    return Refusal(RefusalReason.UNKNOWN_DIGITS, shown=mask(text), length=len(text))


def payment_kind(digits: str) -> CodeKind | None:
    """The kind whose published length and prefix ``digits`` (digits only) has, or None."""
    prefix = int(digits[:2]) if len(digits) >= 2 else -1
    if len(digits) == 18 and 10 <= prefix <= 15:
        return CodeKind.WECHAT
    if 16 <= len(digits) <= 24 and 25 <= prefix <= 30:
        return CodeKind.ALIPAY
    if len(digits) == 19 and prefix == 62:
        return CodeKind.UNIONPAY
    return None


def is_resident_id(text: str) -> bool:
    """GB 11643-1999: a real birth date in characters 7–14 and the MOD 11-2 check character last."""
    try:
        born = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= datetime.date.today().year:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == text[17].upper()


def ean13_valid(digits: str) -> bool:
    """GS1 check digit: weights 1 and 3 from the left over the first twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


def _printable(text: str, limit: int = 24) -> str:
    shown = "".join(ch if 0x20 <= ord(ch) <= 0x7E else f"\\x{ord(ch):02x}" for ch in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _url_origin(text: str) -> str:
    # The scheme and host say what it was; the path and query may carry tokens.
    match = re.match(r"(?i)^([a-z][a-z0-9+.-]*://)?([^/?#]*)", text)
    return (match.group(1) or "") + (match.group(2) or "")[:40] if match else ""
