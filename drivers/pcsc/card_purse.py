"""The card's own rules for its purse: what it checks before it takes a purchase.

A real user card takes credit only through a MAC made with its own key — the
utility's master key diversified by the card serial, put on the card when it
was issued; the card never holds the master key, and neither does the kiosk.
Our card does the same with the key in its :class:`~drivers.pcsc.applet.CardImage`
(``purse_key``), and with the billing side's own code: the command is turned
back into the billing system's write token and checked with
``WriteToken.verifies_with`` (``contract/card_token.py``: AES-CMAC truncated
to 4 bytes; AES stands in for the SM4/3DES of real cards, docs/card.md says
so).  One definition of the MAC, so the two sides cannot drift apart.

In this order — so that a forged command learns nothing about the purse:

======  =================================================================
6700    the data field's lengths do not add up
6982    the card has no purchase key (not personalised for top-ups)
6988    the MAC is wrong (wrong key, another card's token, a changed byte),
        or the command is none a billing system could have signed
6985    the purchase count is not the card's count + 1 (the State Grid
        purchase-count rule; an already written token comes here too)
6A80    the credit would take the meter above the hoarding limit
        (囤积上限: remaining credit from the write-back file + this
        credit), or above the meters' ceiling of 999 999.99 yuan
6581    a worn card's memory failure (``CardImage.write_faults``)
9000    written: the purse is the new credit and count
======  =================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.pcsc import card_app, write_back
from drivers.pcsc.purse_command import PurseWrite
from drivers.pcsc.status_words import (SW_CONDITIONS_NOT_SATISFIED, SW_MEMORY_FAILURE, SW_OK,
                                       SW_SECURITY_NOT_SATISFIED, SW_WRONG_DATA, SW_WRONG_LENGTH, SW_WRONG_MAC)

if TYPE_CHECKING:
    from drivers.pcsc.applet import CardImage


def meter_remaining_fen(image: "CardImage") -> int:
    """The meter's remaining credit as its last write-back says (0: the meter has not seen the card)."""
    raw = (image.files or {}).get(write_back.EF_WRITE_BACK)
    if raw is None:
        return 0
    try:
        report = write_back.parse_write_back(bytes(raw))
    except card_app.CardFormatError:
        return 0  # a meter's scribble must not block a purchase; the kiosk's read reports it
    return report.remaining_fen if report is not None else 0


def take_purse_write(image: "CardImage", data: bytes) -> int:
    """Check a purse write (Lc + data field) and apply it to ``image``; the status word."""
    if not data or data[0] != len(data) - 1:
        return SW_WRONG_LENGTH
    command = PurseWrite.parse(data[1:])
    if command is None:
        return SW_WRONG_LENGTH
    if image.purse_key is None:
        return SW_SECURITY_NOT_SATISFIED
    token = command.token_for(card_app.serial_from_atr(image.atr))
    if token is None or not token.verifies_with(image.purse_key):
        return SW_WRONG_MAC
    purse = image.files[card_app.EF_PURSE]
    try:
        _credit, count = card_app.parse_purse(bytes(purse))
    except card_app.CardFormatError:
        return SW_MEMORY_FAILURE  # its own purse is unreadable: nothing can be counted on
    if command.purchase_count != count + 1:
        return SW_CONDITIONS_NOT_SATISFIED
    ceiling = min(image.hoarding_limit_fen or card_app.MAX_BALANCE_FEN, card_app.MAX_BALANCE_FEN)
    if meter_remaining_fen(image) + command.credit_fen > ceiling:
        return SW_WRONG_DATA
    if card_app.EF_PURSE in image.write_faults:
        return image.write_faults[card_app.EF_PURSE]
    purse[:] = card_app.encode_purse(command.credit_fen, command.purchase_count)
    return SW_OK

