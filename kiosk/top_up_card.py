"""The card's side of a top-up: read it for an order, and write a purchase to it with the journal.

Reading (:func:`card_reading`): the driver's last read gives the serial and
the customer file; the purse and the write-back file are read fresh
(:func:`drivers.pcsc.purse_write.read_purse`), because the order fixes the
purchase count from what the card shows *now*.

Writing (:func:`write_to_card`), the one way a token goes to a card:

1. the card in the reader must be the purchase's (a different card is
   refused for it, nothing is journaled or sent);
2. :meth:`MoneyJournal.begin_write` -- on disk before the token leaves, so a
   crash from here on reads "the card may carry it": the next insertion
   reads the card first;
3. :func:`~drivers.pcsc.purse_write.write_purse` -- it reads the card and
   decides by the purchase count: a card that already shows the purchase is
   not written again (the answer of an earlier write was lost), it is
   confirmed; a write is never repeated blindly;
4. :meth:`MoneyJournal.record_write` with the outcome: on the card, the
   confirmation is queued in the same transaction.

Blocking (a few exchanges with the card): worker threads only.
"""

from __future__ import annotations

import logging

from contract.purchase_requests import CardReading
from drivers.pcsc import reasons
from drivers.pcsc.purse_write import PurseReadError, PurseWriteResult, read_purse, write_purse
from kiosk.top_up_records import TopUpRefused
from offline_store.journal import MoneyJournal, PurchaseRecord

log = logging.getLogger("kiosk.top_up")


def card_reading(driver) -> CardReading:
    """The card in the reader as an order needs it; :class:`TopUpRefused` (NO_CARD, CARD_PULLED,
    CARD_MUTE, READER_GONE, CARD_UNKNOWN...) when it cannot be read."""
    card = driver.card
    if card is None or not card.serial:
        raise TopUpRefused(reasons.NO_CARD, "no card of ours in the reader")
    try:
        purse = read_purse(driver)
    except PurseReadError as error:
        raise TopUpRefused(error.reason, error.detail) from None
    back = purse.write_back
    return CardReading(card.serial, card.utility.value, card.account_no, purse.purchase_count, purse.credit_fen,
                       back.purchase_count if back else None, back.remaining_fen if back else None)


def card_in_reader(driver) -> str:
    """The serial of the card in the reader ("" when none)."""
    card = driver.card
    return card.serial if card is not None and card.serial else ""


def write_to_card(journal: MoneyJournal, driver, purchase: PurchaseRecord) -> tuple[PurchaseRecord, str]:
    """Put ``purchase`` (issued or write_failed, with its token) on the card in the reader.

    Returns the journal's record after it and the reason it is not on the
    card ("" when it is).  A card that is not the purchase's is refused
    (``NOT_THIS_CARD``) and the purchase left as it was, not written nor
    counted as an attempt; no card is ``NO_CARD``."""
    serial = card_in_reader(driver)
    if serial != purchase.card_serial:
        reason = "NOT_THIS_CARD" if serial else reasons.NO_CARD
        log.warning("purchase %s not written: %s", purchase.purchase_no, reason)
        return purchase, reason
    journal.begin_write(purchase.purchase_no)
    result = write_purse(driver, purchase.write_token)
    after = result.after if result.on_card else None
    record = journal.record_write(
        purchase.purchase_no, result.outcome.value, reason=result.reason, detail=result.detail,
        card_count=after.purchase_count if after else None, card_credit_fen=after.credit_fen if after else None)
    _log(purchase.purchase_no, result)
    return record, "" if result.on_card else (result.reason or result.outcome.value.upper())


def _log(purchase_no: str, result: PurseWriteResult) -> None:
    if result.on_card:
        log.info("purchase %s on the card: %s", purchase_no, result.outcome.value)
    else:
        log.warning("purchase %s not on the card: %s %s (%s)", purchase_no, result.outcome.value, result.reason,
                    result.detail)
