"""The card side of the prepaid meter application: files in memory, APDUs in.

What the chip's operating system does for the commands the kiosk sends — the
virtual card behind vpcd and the in-process emulator reader both answer with
this object, so the demo and the tests talk to one implementation of the
card.  Command semantics follow ISO/IEC 7816-4:2005 §7.1.1 (SELECT), §7.2.3
(READ BINARY), §7.2.5 (UPDATE BINARY) and the status words of §5.1.3; the
file layout is ``docs/card.md``.  Not modelled: access conditions, secure
messaging and the tariff and write-back files of a real State Grid card.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drivers.pcsc import card_app
from drivers.pcsc.card_app import CardInfo

SW_NOT_ENOUGH_MEMORY = 0x6A84


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass
class CardImage:
    """Everything on one card: its ATR and the EFs of its DF01 (None: no DF01).

    Tests corrupt a card by editing ``files``; a card of another application
    (a bank card, another utility's) is an image without the DF; a worn card
    answers READ BINARY of the files in ``read_faults`` with that status word
    (e.g. 6581, memory failure).
    """

    atr: bytes
    files: dict[int, bytearray] | None = field(default_factory=dict)
    read_faults: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, info: CardInfo) -> "CardImage":
        return cls(card_app.atr_for_serial(info.serial or "0000000000000001"), {
            card_app.EF_CUSTOMER_INFO: bytearray(card_app.encode_customer_info(info)),
            card_app.EF_PURSE: bytearray(card_app.encode_purse(info.balance_fen, info.purchase_count)),
        })

    @classmethod
    def foreign(cls, serial: str = "00000000000000FF") -> "CardImage":
        """A working card that does not carry the prepaid meter application."""
        return cls(card_app.atr_for_serial(serial), None)


_SFI_TO_FID = {card_app.SFI_CUSTOMER_INFO: card_app.EF_CUSTOMER_INFO, card_app.SFI_PURSE: card_app.EF_PURSE}


class PrepaidCardApplet:
    """Answers command APDUs from a :class:`CardImage`; thread safe."""

    def __init__(self, image: CardImage) -> None:
        self.image = image
        self._lock = threading.Lock()
        self._in_df = False
        self._current_ef: int | None = None

    @property
    def atr(self) -> bytes:
        return self.image.atr

    def reset(self) -> None:
        """Power-on or warm reset: the MF is selected again (7816-4 §7.1.1)."""
        with self._lock:
            self._in_df = False
            self._current_ef = None

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            return self._process(bytes(apdu))

    def _process(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return _sw(card_app.SW_WRONG_LENGTH)
        cla, ins, p1, p2 = apdu[:4]
        if cla != 0x00:
            return _sw(card_app.SW_CLA_NOT_SUPPORTED)
        if ins == 0xA4:
            return self._select(p1, p2, apdu[4:])
        if ins == 0xB0:
            return self._read_binary(p1, p2, apdu[4:])
        if ins == 0xD6:
            return self._update_binary(p1, p2, apdu[4:])
        return _sw(card_app.SW_INS_NOT_SUPPORTED)

    def _select(self, p1: int, p2: int, rest: bytes) -> bytes:
        if p1 != 0x00 or p2 not in (0x00, 0x0C):
            return _sw(card_app.SW_WRONG_P1P2)
        if len(rest) < 3 or rest[0] != 2 or len(rest) > 4:  # Lc=02, FID, optional Le
            return _sw(card_app.SW_WRONG_LENGTH)
        fid = int.from_bytes(rest[1:3], "big")
        files = self.image.files
        if fid == card_app.MF:
            self._in_df, self._current_ef = False, None
        elif fid == card_app.DF_PREPAID and files is not None:
            self._in_df, self._current_ef = True, None
        elif self._in_df and files is not None and fid in files:
            self._current_ef = fid
        else:
            return _sw(card_app.SW_FILE_NOT_FOUND)
        return _sw(card_app.SW_OK)

    def _target(self, p1: int, p2: int) -> tuple[int, int] | bytes:
        """The EF and offset that P1-P2 address, or the status word refusing it."""
        files = self.image.files
        if p1 & 0x80:
            if p1 & 0x60:
                return _sw(card_app.SW_WRONG_P1P2)
            fid = _SFI_TO_FID.get(p1 & 0x1F)
            if not self._in_df or files is None or fid not in files:
                return _sw(card_app.SW_FILE_NOT_FOUND)
            self._current_ef = fid
            offset = p2
        else:
            if self._current_ef is None or files is None:
                return _sw(card_app.SW_NO_CURRENT_EF)
            fid, offset = self._current_ef, (p1 << 8) | p2
        return fid, offset

    def _read_binary(self, p1: int, p2: int, rest: bytes) -> bytes:
        if len(rest) != 1:
            return _sw(card_app.SW_WRONG_LENGTH)
        target = self._target(p1, p2)
        if isinstance(target, bytes):
            return target
        fid, offset = target
        if fid in self.image.read_faults:
            return _sw(self.image.read_faults[fid])
        content = self.image.files[fid]
        if offset >= len(content):
            return _sw(card_app.SW_OFFSET_OUT_OF_FILE)
        available = len(content) - offset
        wanted = rest[0] or 256
        if wanted <= available:
            return bytes(content[offset:offset + wanted]) + _sw(card_app.SW_OK)
        if rest[0] == 0:  # "as much as there is": give it, and say the file ended
            return bytes(content[offset:]) + _sw(card_app.SW_END_OF_FILE)
        return _sw(0x6C00 | available)  # T=0: send again with this Le

    def _update_binary(self, p1: int, p2: int, rest: bytes) -> bytes:
        if not rest or len(rest) != rest[0] + 1 or rest[0] == 0:
            return _sw(card_app.SW_WRONG_LENGTH)
        target = self._target(p1, p2)
        if isinstance(target, bytes):
            return target
        fid, offset = target
        content = self.image.files[fid]
        data = rest[1:]
        if offset + len(data) > len(content):
            return _sw(SW_NOT_ENOUGH_MEMORY)
        content[offset:offset + len(data)] = data
        return _sw(card_app.SW_OK)


# The card `make demo` and the device panel insert: the backend simulator's
# "electricity_arrears" account (kiosk/backend/seed.py), so inserting it leads
# to an account overview with something owed.
DEMO_CARD = CardInfo(
    utility=card_app.Utility.ELECTRICITY,
    account_no="3201100017",
    meter_no="000012345678",
    card_type=card_app.CardType.PURCHASE,
    balance_fen=5000,
    purchase_count=3,
    serial="5A4B000000000017",
)
