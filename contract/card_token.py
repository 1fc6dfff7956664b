"""The write token of a prepaid card purchase: the purse update and the MAC that lets a card take it.

A real user card takes credit only through a MAC computed with the utility's
keys, the key diversified by the card serial (the issuing system's PSAM or
the meter's ESAM does it; the kiosk holds no card key).  Here the billing
system (its simulator) holds the master key and makes the token; the card
(the virtual card) derives the same card key from its own serial and checks
the MAC; the kiosk only carries the token from one to the other.

Simplified, and said so in docs/card.md: AES-128 stands in for the SM4/3DES
of the real cards (same construction: the card key is the master key's
encryption of the serial, the MAC is a CMAC truncated to 4 bytes as in the
7816-4 secure-messaging MACs), and the token is one plain command, not a
secure-messaging session with a card challenge.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAC_BYTES = 4
MAX_CREDIT_FEN = 99_999_999  # the purse's ceiling (docs/card.md, EF 0002)

# The demo's master key, from which each card's key is diversified by its
# serial (:func:`card_key`).  Here, not in the simulator, because both ends of
# the demo need it: the billing simulator issues tokens with it and the
# demo's virtual cards carry the keys it gives.  A real billing system keeps
# its master key in its key system, and no terminal ever sees it.
DEMO_CARD_MASTER_KEY = b"KIOSK-DEMO-MK-01"


def _aes_ecb(key: bytes, block: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def card_key(master_key: bytes, card_serial: str) -> bytes:
    """The card's own key: the master key's encryption of the serial (one 16-byte block)."""
    if len(master_key) != 16:
        raise ValueError(f"a master key is 16 bytes, this one is {len(master_key)}")
    serial = hashlib.sha256(card_serial.encode("ascii")).digest()[:16]  # any serial length to one block
    return _aes_ecb(master_key, serial)


@dataclass(frozen=True)
class PurseUpdate:
    """What the card's purse becomes: the credit it carries to the meter and its purchase count."""

    card_serial: str
    purchase_no: str  # the billing system's purchase number: the idempotency key of the purchase
    credit_fen: int  # the purse's credit after the write
    purchase_count: int  # the purse's purchase count after the write (the card's count + 1)

    def __post_init__(self) -> None:
        if not 0 <= self.credit_fen <= MAX_CREDIT_FEN:
            raise ValueError(f"credit {self.credit_fen} fen is outside 0..{MAX_CREDIT_FEN}")
        if not 0 < self.purchase_count < 2**32:
            raise ValueError(f"purchase count {self.purchase_count} is outside 1..2^32-1")
        if not self.purchase_no.isascii() or not 0 < len(self.purchase_no) <= 32:
            raise ValueError(f"purchase number {self.purchase_no!r} is not 1 to 32 ASCII characters")

    def signed_bytes(self) -> bytes:
        """What the MAC covers: serial, purchase number, credit, count (the card checks the same bytes)."""
        return (self.card_serial.encode("ascii") + b"|" + self.purchase_no.encode("ascii") + b"|"
                + self.credit_fen.to_bytes(4, "big") + self.purchase_count.to_bytes(4, "big"))


def purse_mac(key: bytes, update: PurseUpdate) -> bytes:
    """AES-CMAC of the update with the card key, truncated to 4 bytes."""
    from cryptography.hazmat.primitives import cmac
    from cryptography.hazmat.primitives.ciphers import algorithms

    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(update.signed_bytes())
    return mac.finalize()[:MAC_BYTES]


@dataclass(frozen=True)
class WriteToken:
    update: PurseUpdate
    mac: bytes

    @classmethod
    def issue(cls, master_key: bytes, update: PurseUpdate) -> "WriteToken":
        return cls(update, purse_mac(card_key(master_key, update.card_serial), update))

    def verifies_with(self, key: bytes) -> bool:
        import hmac

        return hmac.compare_digest(purse_mac(key, self.update), self.mac)
