"""The pieces every customer or staff slip is made of: both languages on a line or two, the
double-size headline, a banknote's name, and the check that keeps personal data off the paper.

Used by the bill payment's slips (``payment_slips.py``), the collection slip
(``collection_slip.py``) and the top-up slip (``top_up_slip.py``), so each
says the same thing the same way.
"""

from __future__ import annotations

import re

from drivers.escpos.slip import Element, Text, Title, columns_of
from kiosk.i18n import Translator, yuan

ZH, EN = Translator("zh"), Translator("en")
_UNMASKED_DIGITS = re.compile(r"\d{6,}")


def label(key: str) -> str:
    """A field's label in both languages, on one line: "户号 Account"."""
    return f"{ZH(key)} {EN(key)}"


def both(key: str, bold: bool = False, **values: object) -> list[Element]:
    """A sentence as two lines, Chinese then English."""
    return [Text(ZH(key, **values), bold=bold), Text(EN(key, **values), bold=bold)]


def headline(key: str, columns: int) -> list[Element]:
    """Double-size status words, then their English: on one line when they fit, else a
    line per part ("|" in the catalogue marks the break), never a word split."""
    marked = ZH(key)
    whole = marked.replace("|", "")
    english = Text(EN(key), "center", bold=True)
    if 2 * columns_of(whole) <= columns:
        return [Title(whole), english]
    return [*(Title(part.strip(" ，")) for part in marked.split("|")), english]


def note_name(denomination_fen: int) -> str:
    """A banknote as people name it: ¥100, ¥5, or ¥0.50 for a jiao note."""
    if denomination_fen % 100 == 0:
        return f"¥{denomination_fen // 100:,}"
    return yuan(denomination_fen)


def check_masked(name: str, value: str, *, required: bool) -> None:
    """A slip leaves the hall in the customer's pocket: an unmasked account number or name
    on it would break rule 5 for good, so it is refused here."""
    if not value and not required:
        return
    if "*" not in value or _UNMASKED_DIGITS.search(value):
        raise ValueError(f"{name} does not look masked (contract.masking): personal data never goes on a slip")
