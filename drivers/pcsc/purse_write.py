"""The kiosk's side of a top-up: carry a purchase's write token to the card, exactly once, and read it back.

The kiosk holds no card key: the billing system's write token (the purse
update and its MAC, ``contract/card_token.py``) goes to the card as one
command (:mod:`drivers.pcsc.purse_command`), and the card decides
(:mod:`drivers.pcsc.card_purse`).  What the kiosk decides is whether to send
it at all, and the purchase count decides that (docs/card.md, "Writing a
purchase to the card"):

1. read the purse and the write-back file;
2. the card shows this purchase (its count and credit): **already written** —
   the write of an earlier try went through and its answer was lost; confirm,
   do not write;  the card's count is not this purchase's count − 1: **refused**,
   another purchase is on this card;  the write-back shows the meter behind
   the card: **refused**, the card still carries a purchase the meter has not
   loaded, and a new count would strand it;
3. send the write (one APDU, on its own, so it is known whether it left);
4. read back and compare credit and count: **written**.

A write whose answer was lost (card pulled, mute, reader gone after it was
sent) is **unknown**: the next read decides — :func:`write_purse` again,
once the card is back, answers "already written" or writes.  A write is
never repeated blindly, and repeating it could not credit twice anyway: the
card takes a count only once.

Blocking (a few exchanges with the card): run it on a worker thread, never
the GUI thread.  ``driver`` is the :class:`~drivers.pcsc.reader.CardReaderDriver`
(anything with its ``exchange()`` and ``card``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol, Sequence

from drivers.pcsc import card_app, reasons, write_back
from drivers.pcsc.apdu import Response, exchange, read_binary, select_file
from drivers.pcsc.card_errors import CardFormatError, StatusWordError
from drivers.pcsc.card_session import ExchangeResult
from drivers.pcsc.events import CardError
from drivers.pcsc.purse_command import PurseWrite
from drivers.pcsc.status_words import (SW_CONDITIONS_NOT_SATISFIED, SW_FILE_NOT_FOUND, SW_OK,
                                       SW_SECURITY_NOT_SATISFIED, SW_WRONG_DATA, SW_WRONG_MAC, sw_meaning)
from drivers.pcsc.write_back import WriteBack


class WriteOutcome(Enum):
    WRITTEN = "written"  # sent, and the read-back shows it
    ALREADY_WRITTEN = "already_written"  # the card showed it before anything was sent
    REFUSED = "refused"  # not on the card: ``reason`` says why
    UNKNOWN = "unknown"  # sent, answer lost: the next read decides


# Why, beside the driver's own reasons (CARD_PULLED, CARD_MUTE, NO_CARD, CARD_UNKNOWN, CARD_ERROR, DRIVER_STOPPED).
WRONG_MAC = "WRONG_MAC"  # 6988: the card refused the token's MAC
COUNT_MISMATCH = "COUNT_MISMATCH"  # another purchase on this card (read, or 6985 from the card)
HOARDING_LIMIT = "HOARDING_LIMIT"  # 6A80: the meter would hold more than the card allows
METER_BEHIND = "METER_BEHIND"  # the card carries a purchase its meter has not loaded yet
NOT_THIS_CARD = "NOT_THIS_CARD"  # the token is for another card serial
NOT_PERSONALISED = "NOT_PERSONALISED"  # 6982: the card has no purchase key
MEMORY_FAILURE = "MEMORY_FAILURE"  # 65XX, and the read-back shows nothing written
READBACK_MISMATCH = "READBACK_MISMATCH"  # 9000, yet the read-back shows the old purse
CARD_REFUSED = "CARD_REFUSED"  # any other status word
READER_GONE = "READER_GONE"  # the reader unplugged or pcscd down (the detail says which)
BAD_TOKEN = "BAD_TOKEN"  # the token does not fit the command (a billing-side fault)

_SW_REASONS = {SW_WRONG_MAC: WRONG_MAC, SW_CONDITIONS_NOT_SATISFIED: COUNT_MISMATCH, SW_WRONG_DATA: HOARDING_LIMIT,
               SW_SECURITY_NOT_SATISFIED: NOT_PERSONALISED}
_GONE = {reasons.READER_UNPLUGGED, reasons.PCSC_SERVICE_DOWN}


class CardLink(Protocol):
    """What this needs of the driver."""

    @property
    def card(self) -> card_app.CardInfo | None: ...

    def exchange(self, apdus: Sequence[bytes], timeout_s: float | None = None) -> ExchangeResult: ...


class PurseUpdateLike(Protocol):
    """``contract.card_token.PurseUpdate`` (the drivers layer does not import ``contract``)."""

    @property
    def card_serial(self) -> str: ...
    @property
    def purchase_no(self) -> str: ...
    @property
    def credit_fen(self) -> int: ...
    @property
    def purchase_count(self) -> int: ...


class WriteTokenLike(Protocol):
    """``contract.card_token.WriteToken``."""

    @property
    def update(self) -> PurseUpdateLike: ...
    @property
    def mac(self) -> bytes: ...


@dataclass(frozen=True)
class PurseReading:
    """The purse and the write-back file as read from the card."""

    credit_fen: int
    purchase_count: int
    write_back: WriteBack | None  # None: empty, the card has not been in its meter since it was issued

    @property
    def meter_behind(self) -> bool:
        """The meter has not loaded the card's last purchase yet (known only from a write-back)."""
        return self.write_back is not None and self.write_back.purchase_count < self.purchase_count

    def shows(self, update: PurseUpdateLike) -> bool:
        return (self.purchase_count, self.credit_fen) == (update.purchase_count, update.credit_fen)


class PurseReadError(Exception):
    """The purse could not be read: ``reason`` (the driver's, or READER_GONE), ``detail`` for the technician."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PurseWriteResult:
    outcome: WriteOutcome
    reason: str = ""  # empty when written or already written
    detail: str = ""  # what happened, for the technician and the log
    before: PurseReading | None = None
    after: PurseReading | None = None  # the read-back (or the read that showed it already written)
    sw: int | None = None  # the card's answer to the write, when one came

    @property
    def on_card(self) -> bool:
        return self.outcome in (WriteOutcome.WRITTEN, WriteOutcome.ALREADY_WRITTEN)


class _LinkBroken(Exception):
    def __init__(self, error: CardError) -> None:
        super().__init__(error.detail)
        self.error = error


def _transmit(driver: CardLink, batch: Sequence[bytes] = ()):
    """A transmit over the driver: ``batch`` goes in one exchange (each exchange is a trip through the
    driver's worker), answered from there in order; anything else — the write, T=0's GET RESPONSE or a
    resend with the right Le — is an exchange of its own, so a failure names the APDU it happened to."""
    answered: list[tuple[bytes, bytes]] = []
    if batch:
        result = driver.exchange(batch)
        if result.error is not None:
            raise _LinkBroken(result.error)
        answered = list(zip(batch, result.responses))

    def transmit(apdu: bytes) -> bytes:
        if answered and answered[0][0] == apdu:
            return answered.pop(0)[1]
        answered.clear()  # off the batch's path: what the card answered after this no longer fits
        result = driver.exchange([apdu])
        if result.error is not None:
            raise _LinkBroken(result.error)
        return result.responses[0]
    return transmit


_READ_PURSE = (select_file(card_app.MF), select_file(card_app.DF_PREPAID),
               read_binary(card_app.PURSE_FILE_LENGTH, sfi=card_app.SFI_PURSE),
               read_binary(write_back.FILE_LENGTH, sfi=write_back.SFI_WRITE_BACK))


def _reason(error: CardError) -> str:
    return READER_GONE if error.reason in _GONE else error.reason


def read_purse(driver: CardLink) -> PurseReading:
    """SELECT MF, SELECT DF01, READ BINARY SFI 2 and SFI 5; raises :class:`PurseReadError`."""
    try:
        transmit = _transmit(driver, _READ_PURSE)
        exchange(transmit, _READ_PURSE[0], "SELECT MF 3F00")
        exchange(transmit, _READ_PURSE[1], "SELECT DF DF01")
        credit, count = card_app.parse_purse(exchange(transmit, _READ_PURSE[2], "READ BINARY SFI 2"))
        report = _read_write_back(transmit)
    except _LinkBroken as broken:
        raise PurseReadError(_reason(broken.error), broken.error.detail) from None
    except StatusWordError as error:
        raise PurseReadError(reasons.CARD_UNKNOWN if error.not_this_application else reasons.CARD_ERROR,
                             str(error)) from None
    except CardFormatError as error:
        raise PurseReadError(reasons.CARD_UNKNOWN, f"the card's {error.field} breaks the layout: {error}") from None
    return PurseReading(credit, count, report)


def _read_write_back(transmit) -> WriteBack | None:
    try:
        raw = exchange(transmit, _READ_PURSE[3], "READ BINARY SFI 5")
    except StatusWordError as error:
        if error.sw == SW_FILE_NOT_FOUND:
            return None  # a card issued without one: the meter has nothing to report on it
        raise
    return write_back.parse_write_back(raw)


def _decide(before: PurseReading, update: PurseUpdateLike) -> PurseWriteResult | None:
    """Already written, refused, or None: write it."""
    if before.shows(update):
        return PurseWriteResult(WriteOutcome.ALREADY_WRITTEN, detail=(
            f"the card already shows purchase {update.purchase_no} (count {update.purchase_count}, "
            f"{update.credit_fen} fen): nothing sent"), before=before, after=before)
    if before.purchase_count + 1 != update.purchase_count:
        return PurseWriteResult(WriteOutcome.REFUSED, COUNT_MISMATCH, (
            f"the card's purchase count is {before.purchase_count} ({before.credit_fen} fen), purchase "
            f"{update.purchase_no} needs it at {update.purchase_count - 1}: another purchase is on this card; "
            "nothing sent"), before=before)
    if before.meter_behind:
        return PurseWriteResult(WriteOutcome.REFUSED, METER_BEHIND, (
            f"the card carries purchase count {before.purchase_count} but its meter has loaded only "
            f"{before.write_back.purchase_count}: the customer must put the card in the meter first, "
            "then this purchase can be written (补写卡); nothing sent"), before=before)
    return None


def write_purse(driver: CardLink, token: WriteTokenLike) -> PurseWriteResult:
    """Read, decide by the purchase count, write, read back (module docstring)."""
    update = token.update
    try:
        command = PurseWrite(update.credit_fen, update.purchase_count, update.purchase_no.encode("ascii"),
                             bytes(token.mac)).apdu()
    except (ValueError, OverflowError) as error:  # UnicodeError is a ValueError
        return PurseWriteResult(WriteOutcome.REFUSED, BAD_TOKEN, f"the write token cannot be sent: {error}")
    card = driver.card
    if card is not None and card.serial and card.serial != update.card_serial:
        return PurseWriteResult(WriteOutcome.REFUSED, NOT_THIS_CARD, (
            f"purchase {update.purchase_no} is for card {update.card_serial}, the reader holds card "
            f"{card.serial}; nothing sent"))
    try:
        before = read_purse(driver)
    except PurseReadError as error:
        return PurseWriteResult(WriteOutcome.REFUSED, error.reason, f"reading the card before the write: "
                                f"{error.detail}; nothing sent")
    decided = _decide(before, update)
    if decided is not None:
        return decided
    try:
        sw = Response.parse(_transmit(driver)(command)).sw
    except _LinkBroken as broken:
        if broken.error.reason == reasons.NO_CARD:  # the driver sent nothing: no card (any more)
            return PurseWriteResult(WriteOutcome.REFUSED, reasons.NO_CARD, f"the card left before the write: "
                                    f"{broken.error.detail}; nothing sent", before=before)
        return _after_lost_answer(driver, update, before, broken.error)
    except CardFormatError as error:  # fewer than two bytes: no status word came
        return _after_lost_answer(driver, update, before, CardError(reasons.CARD_ERROR, str(error)))
    if sw == SW_OK or sw >> 8 == 0x65:  # 65XX: "memory changed" — only a read can say what it holds
        return _read_back(driver, update, before, sw)
    return PurseWriteResult(WriteOutcome.REFUSED, _SW_REASONS.get(sw, CARD_REFUSED), (
        f"the card refused purchase {update.purchase_no}: {sw:04X} ({sw_meaning(sw)}); the purse is unchanged"),
        before=before, sw=sw)


def _read_back(driver: CardLink, update: PurseUpdateLike, before: PurseReading, sw: int) -> PurseWriteResult:
    answer = f"{sw:04X} ({sw_meaning(sw)})"
    try:
        after = read_purse(driver)
    except PurseReadError as error:
        return PurseWriteResult(WriteOutcome.UNKNOWN, error.reason, (
            f"the card answered {answer} to purchase {update.purchase_no}, then the read-back failed: "
            f"{error.detail}; read the card again to know"), before=before, sw=sw)
    if after.shows(update):
        return PurseWriteResult(WriteOutcome.WRITTEN, detail=(
            f"purchase {update.purchase_no} written: count {after.purchase_count}, {after.credit_fen} fen"),
            before=before, after=after, sw=sw)
    reason = READBACK_MISMATCH if sw == SW_OK else MEMORY_FAILURE
    return PurseWriteResult(WriteOutcome.REFUSED, reason, (
        f"the card answered {answer} to purchase {update.purchase_no} but reads back count "
        f"{after.purchase_count}, {after.credit_fen} fen: not written"), before=before, after=after, sw=sw)


def _after_lost_answer(driver: CardLink, update: PurseUpdateLike, before: PurseReading,
                       error: CardError) -> PurseWriteResult:
    """The write left and no answer came: one read, if the card is still there, says what it holds."""
    try:
        after = read_purse(driver)
    except PurseReadError:
        return PurseWriteResult(WriteOutcome.UNKNOWN, _reason(error), (
            f"purchase {update.purchase_no} was sent to the card and no answer came ({error.detail}); "
            "read the card again to know whether it is on it"), before=before)
    if after.shows(update):
        return PurseWriteResult(WriteOutcome.WRITTEN, detail=(
            f"purchase {update.purchase_no} written (its answer was lost: {error.detail}; the read-back shows it)"),
            before=before, after=after)
    return PurseWriteResult(WriteOutcome.REFUSED, _reason(error), (
        f"purchase {update.purchase_no} was sent and no answer came ({error.detail}); the read-back shows "
        f"count {after.purchase_count}: not written"), before=before, after=after)
