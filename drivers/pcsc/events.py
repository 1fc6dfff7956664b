"""What the card reader driver reports besides its status: a card in, out, or unusable.

Apart from the driver so the core can tell events apart by type without
loading pyscard (``drivers/pcsc/reader.py`` imports it).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.pcsc.card_app import CardInfo


@dataclass(frozen=True)
class CardInserted:
    """A utility card was read: its account (``card_info``)."""

    atr: bytes
    card_info: CardInfo
    reader: str = ""


@dataclass(frozen=True)
class CardRemoved:
    reader: str = ""


@dataclass(frozen=True)
class CardError:
    """A card could not be used: ``reason`` for the journey, ``detail`` for the technician."""

    reason: str
    detail: str
    reader: str = ""


CardEvent = CardInserted | CardRemoved | CardError
