"""The card side of the prepaid meter application: files in memory, APDUs in.

What the chip's operating system does for the commands the kiosk sends — the
virtual card behind vpcd and the in-process emulator reader both answer with
this object, so the demo and the tests talk to one implementation of the
card.  Command semantics follow ISO/IEC 7816-4:2005 §7.1.1 (SELECT), §7.2.3
(READ BINARY), §7.2.5 (UPDATE BINARY) and the status words of §5.1.3; the
file layout is ``docs/card.md``.  The purse write (``04 D6 82 00``, a
purchase's write token) is checked by :mod:`drivers.pcsc.card_purse`; a card
with a purchase key takes its purse only that way, and the write-back file
(EF 0005) is written by the meter with a plain UPDATE BINARY.  Not modelled:
other access conditions, secure messaging on reads, the tariff files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drivers.pcsc import card_app, write_back
from drivers.pcsc.card_app import CardInfo
from drivers.pcsc.card_purse import take_purse_write
from drivers.pcsc.status_words import SW_NOT_ENOUGH_MEMORY, SW_SECURITY_NOT_SATISFIED, SW_SM_NOT_SUPPORTED

_CLA_PROPRIETARY_SM = 0x04  # 7816-4 §5.1.1: CLA bits 4-3 = 01


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass
class CardImage:
    """Everything on one card: its ATR, the EFs of its DF01 (None: no DF01), what it was issued with.

    Tests corrupt a card by editing ``files``; a card of another application
    (a bank card, another utility's) is an image without the DF; a worn card
    answers READ BINARY of the files in ``read_faults``, and UPDATE of those
    in ``write_faults``, with that status word (e.g. 6581, memory failure),
    leaving the file as it was.

    Put on the card when it was issued: ``purse_key``, its own 16-byte
    purchase key (the master key diversified by its serial; None: a card
    that takes no top-up), and ``hoarding_limit_fen``, the most its meter
    may hold after a purchase (0: only the meters' ceiling).  A card with a
    key takes its purse only through the MAC'd purse write.
    """

    atr: bytes
    files: dict[int, bytearray] | None = field(default_factory=dict)
    read_faults: dict[int, int] = field(default_factory=dict)
    write_faults: dict[int, int] = field(default_factory=dict)
    purse_key: bytes | None = None
    hoarding_limit_fen: int = 0

    @classmethod
    def of(cls, info: CardInfo, *, purse_key: bytes | None = None, hoarding_limit_fen: int = 0) -> "CardImage":
        """A card as issued: customer info, purse, an empty write-back file."""
        if purse_key is not None and len(purse_key) != 16:
            raise ValueError(f"a purchase key is 16 bytes, this one is {len(purse_key)}")
        if not 0 <= hoarding_limit_fen <= card_app.MAX_BALANCE_FEN:
            raise ValueError(f"hoarding limit {hoarding_limit_fen} fen is outside 0..{card_app.MAX_BALANCE_FEN}")
        return cls(card_app.atr_for_serial(info.serial or "0000000000000001"), {
            card_app.EF_CUSTOMER_INFO: bytearray(card_app.encode_customer_info(info)),
            card_app.EF_PURSE: bytearray(card_app.encode_purse(info.balance_fen, info.purchase_count)),
            write_back.EF_WRITE_BACK: bytearray(write_back.EMPTY),
        }, purse_key=purse_key, hoarding_limit_fen=hoarding_limit_fen)

    @classmethod
    def foreign(cls, serial: str = "00000000000000FF") -> "CardImage":
        """A working card that does not carry the prepaid meter application."""
        return cls(card_app.atr_for_serial(serial), None)


_SFI_TO_FID = {card_app.SFI_CUSTOMER_INFO: card_app.EF_CUSTOMER_INFO, card_app.SFI_PURSE: card_app.EF_PURSE,
               write_back.SFI_WRITE_BACK: write_back.EF_WRITE_BACK}


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
        if cla == _CLA_PROPRIETARY_SM:
            return self._secure_command(ins, p1, p2, apdu[4:])
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
        if fid == card_app.EF_PURSE and self.image.purse_key is not None:
            return _sw(SW_SECURITY_NOT_SATISFIED)  # credit goes on only with the billing system's MAC
        content = self.image.files[fid]
        data = rest[1:]
        if offset + len(data) > len(content):
            return _sw(SW_NOT_ENOUGH_MEMORY)
        if fid in self.image.write_faults:
            return _sw(self.image.write_faults[fid])
        content[offset:offset + len(data)] = data
        return _sw(card_app.SW_OK)

    def _secure_command(self, ins: int, p1: int, p2: int, rest: bytes) -> bytes:
        """CLA 04: only the purse write (UPDATE BINARY, SFI 2, offset 0) is a secure command here."""
        if ins != 0xD6 or p1 != 0x80 | card_app.SFI_PURSE or p2 != 0:
            return _sw(SW_SM_NOT_SUPPORTED)
        files = self.image.files
        if not self._in_df or files is None or card_app.EF_PURSE not in files:
            return _sw(card_app.SW_FILE_NOT_FOUND)
        self._current_ef = card_app.EF_PURSE
        return _sw(take_purse_write(self.image, rest))


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
