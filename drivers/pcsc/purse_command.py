"""The purse write command: a purchase's write token as one command APDU, built by the kiosk, parsed by the card.

The command is UPDATE BINARY of the purse file with a proprietary
secure-messaging class, as a State Grid user card takes its purse from the
issuing system's PSAM (meter firmware ``Card.c`` sends ``04 D6`` for the
write-back file and ``04 B0`` to read with a MAC)::

    04 D6 82 00 Lc  credit(4) count(4) n(1) purchase_no(n) MAC(4)

* CLA ``04``: ISO/IEC 7816-4:2005 §5.1.1 — bits 4-3 = 01, proprietary
  secure messaging; INS ``D6``: UPDATE BINARY (§7.2.5); P1 ``82``: short EF
  identifier 2, the purse; P2 ``00``: offset 0.
* credit and count: what the purse becomes (docs/card.md, EF 0002),
  unsigned big-endian; the purchase number: the billing system's, 1 to 32
  ASCII bytes; the MAC: 4 bytes over the billing system's
  ``PurseUpdate.signed_bytes`` (``contract/card_token.py``).

Simplified against a real card (said in docs/card.md): one command carries
the whole token, with no GET CHALLENGE before it, so the MAC covers no card
random, and the purchase number travels with it because the billing
system's MAC covers it.  The card turns the command back into the billing
system's token (:meth:`PurseWrite.token_for`) and checks it with the
billing system's own code, so there is one definition of what is signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.card_token import MAC_BYTES, PurseUpdate, WriteToken

PURSE_WRITE_HEADER = bytes([0x04, 0xD6, 0x82, 0x00])
MAX_PURCHASE_NO_BYTES = 32


@dataclass(frozen=True)
class PurseWrite:
    """The data field of the purse write command."""

    credit_fen: int
    purchase_count: int
    purchase_no: bytes
    mac: bytes

    def apdu(self) -> bytes:
        if not 0 < len(self.purchase_no) <= MAX_PURCHASE_NO_BYTES:
            raise ValueError(f"purchase number of {len(self.purchase_no)} bytes: 1 to {MAX_PURCHASE_NO_BYTES}")
        if len(self.mac) != MAC_BYTES:
            raise ValueError(f"a MAC is {MAC_BYTES} bytes, this one is {len(self.mac)}")
        data = (self.credit_fen.to_bytes(4, "big") + self.purchase_count.to_bytes(4, "big")
                + bytes([len(self.purchase_no)]) + self.purchase_no + self.mac)
        return PURSE_WRITE_HEADER + bytes([len(data)]) + data

    @classmethod
    def parse(cls, data: bytes) -> "PurseWrite | None":
        """The data field (after Lc) → the write, or None when its lengths do not add up."""
        if len(data) < 9:
            return None
        size = data[8]
        if not 0 < size <= MAX_PURCHASE_NO_BYTES or len(data) != 9 + size + MAC_BYTES:
            return None
        return cls(int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big"), bytes(data[9:9 + size]),
                   bytes(data[9 + size:]))

    def token_for(self, card_serial: str) -> WriteToken | None:
        """The billing system's token this command carries to the card ``card_serial``.

        None when no billing system could have issued it — a purchase number
        that is not ASCII, a credit or count outside the purse's range: such a
        command cannot carry a MAC the card would take."""
        try:
            update = PurseUpdate(card_serial, self.purchase_no.decode("ascii"), self.credit_fen,
                                 self.purchase_count)
        except (UnicodeDecodeError, ValueError):
            return None
        return WriteToken(update, self.mac)


def is_purse_write(apdu: bytes) -> bool:
    """True for the purse write command (the card faults of the emulators look for it)."""
    return bytes(apdu[:4]) == PURSE_WRITE_HEADER


def with_spoiled_mac(apdu: bytes) -> bytes:
    """The same command with the last bit of its MAC flipped: a token the card must refuse."""
    return bytes(apdu[:-1]) + bytes([apdu[-1] ^ 0x01])
