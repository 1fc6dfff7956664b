"""A prepaid meter that takes the card: loads a purchase by the purchase-count rule and writes back.

What happens after the kiosk, at the customer's home: the card goes into the
meter, which compares the card's purchase count with its own (meter firmware
``Card.c``, ``Proc_UserCardMoney``) —

* card count below or equal to the meter's: nothing to load;
* card = meter + 1: the credit is added (refused when the sum passes the
  hoarding limit or 999 999.99 yuan, ``IC_OVERMAX_ERR``), the count taken;
* card ≥ meter + 2: refused, "purchase count error" (``IC_TIMES_ERR``);

and, unless the card is another meter's or over the limit, writes its state
back to the card (``WriteCardReturnDataWithMac``).  The tests and the demo use it to
fill the write-back file the way a meter would, over the same APDUs.
Simplified: the meter's ESAM, its authentication of the card and the MAC on
the write-back are not modelled (docs/card.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from drivers.pcsc import card_app, write_back
from drivers.pcsc.apdu import Transmit, exchange, read_binary, select_file, update_binary
from drivers.pcsc.write_back import MeterStatus, WriteBack


class MeterVerdict(Enum):
    LOADED = "loaded"
    NOTHING_NEW = "nothing_new"
    COUNT_ERROR = "count_error"  # 购电次数错
    OVER_LIMIT = "over_limit"  # 囤积 / above the ceiling
    WRONG_METER = "wrong_meter"  # 表号不符: the card is another meter's


@dataclass
class PrepaidMeter:
    meter_no: str
    remaining_fen: int = 0
    purchase_count: int = 0
    overdraft_fen: int = 0
    alarm_fen: int = 1000  # below this the meter alarms (报警金额 1)
    hoarding_limit_fen: int = 0  # 0: only the ceiling
    relay_open: bool = False

    def take_card(self, transmit: Transmit, now: datetime) -> MeterVerdict:
        """Read the card, load what is due, write back; what the meter's display would say."""
        exchange(transmit, select_file(card_app.MF), "SELECT MF")
        exchange(transmit, select_file(card_app.DF_PREPAID), "SELECT DF01")
        info = card_app.parse_customer_info(exchange(
            transmit, read_binary(card_app.INFO_FILE_LENGTH, sfi=card_app.SFI_CUSTOMER_INFO), "READ SFI 1"))
        if info.meter_no != self.meter_no:
            return MeterVerdict.WRONG_METER
        credit, count = card_app.parse_purse(exchange(
            transmit, read_binary(card_app.PURSE_FILE_LENGTH, sfi=card_app.SFI_PURSE), "READ SFI 2"))
        verdict = self._load(credit, count)
        if verdict is not MeterVerdict.OVER_LIMIT:  # the firmware stops before its write-back there
            exchange(transmit, update_binary(encode_report(self, now), sfi=write_back.SFI_WRITE_BACK),
                     "UPDATE SFI 5")
        return verdict

    def _load(self, credit_fen: int, card_count: int) -> MeterVerdict:
        if card_count <= self.purchase_count:
            return MeterVerdict.NOTHING_NEW
        if card_count > self.purchase_count + 1:
            return MeterVerdict.COUNT_ERROR
        balance = self.remaining_fen - self.overdraft_fen + credit_fen
        ceiling = min(self.hoarding_limit_fen or card_app.MAX_BALANCE_FEN, card_app.MAX_BALANCE_FEN)
        if balance > ceiling:
            return MeterVerdict.OVER_LIMIT
        self.remaining_fen, self.overdraft_fen = max(balance, 0), max(-balance, 0)
        self.purchase_count = card_count
        self.relay_open = self.relay_open and self.remaining_fen == 0
        return MeterVerdict.LOADED

    @property
    def status(self) -> MeterStatus:
        status = MeterStatus(0)
        if self.relay_open:
            status |= MeterStatus.RELAY_OPEN
        if self.remaining_fen < self.alarm_fen:
            status |= MeterStatus.CREDIT_LOW
        if self.overdraft_fen:
            status |= MeterStatus.OVERDRAFT
        return status


def encode_report(meter: PrepaidMeter, now: datetime) -> bytes:
    """The write-back file ``meter`` writes at ``now``."""
    return write_back.encode_write_back(WriteBack(meter.meter_no, meter.remaining_fen, meter.overdraft_fen,
                                                  meter.purchase_count, meter.status,
                                                  now.replace(second=0, microsecond=0)))
