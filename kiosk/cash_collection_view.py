"""What the collection page shows (清机): frozen views the form hands to the page.

The page renders a :class:`CollectionView` and never computes a figure
itself; words are :class:`Message` s in the catalogue's terms
(``assets/i18n/maintenance_collection.toml``), translated by the page in the
language of the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.i18n import Translator


class Stage(StrEnum):
    UNLOADED = "unloaded"  # not read from the journal yet
    REFUSED = "refused"  # the journal is not open: no collection can be recorded
    COUNTING = "counting"
    RECORDED = "recorded"


class SlipState(StrEnum):
    NONE = "none"
    PRINTED = "printed"
    NOT_PRINTED = "not_printed"


class Editing(StrEnum):
    NOTHING = ""
    COUNT = "count"  # the keypad types the selected row's count
    NOTE = "note"  # the phrases and the text pad


@dataclass(frozen=True)
class Message:
    """Words for the page in the catalogue's terms; a value may itself be a Message."""

    key: str
    values: tuple[tuple[str, object], ...] = ()
    tone: str = ""  # "", "ok", "warning", "error" (maintMessage's tones)

    def text(self, tr: Translator) -> str:
        values = {k: v.text(tr) if isinstance(v, Message) else v for k, v in self.values}
        return tr(self.key, **values)


def message(key: str, tone: str = "", **values: object) -> Message:
    return Message(key, tuple(values.items()), tone)


@dataclass(frozen=True)
class CountRow:
    denomination_fen: int
    note: str  # "¥100"
    expected_count: int
    expected_fen: int
    typed: str  # the digits typed, "" while not counted
    difference_count: int | None  # None while not counted
    difference_fen: int | None
    selected: bool
    too_many: bool  # more than a box holds

    @property
    def counted(self) -> int | None:
        return int(self.typed) if self.typed else None


@dataclass(frozen=True)
class DoubtLine:
    """A note the count settles: when, what, during which payment, and what kind of doubt."""

    at: str
    note: str  # "¥50", or "" when the acceptor could not say
    transaction_no: str
    kind: Message  # transaction_no "" when it arrived outside any payment


@dataclass(frozen=True)
class PhraseChip:
    key: str
    chosen: bool


@dataclass(frozen=True)
class CollectionView:
    stage: Stage
    user: str
    since: str  # "2026-11-20 08:00", "" since the journal began
    rows: tuple[CountRow, ...] = ()
    expected_count: int = 0
    expected_fen: int = 0
    counted_count: int | None = None  # None until every row is counted
    counted_fen: int | None = None
    difference_fen: int | None = None
    doubts: tuple[DoubtLine, ...] = ()
    test_notes: tuple[tuple[int, int], ...] = ()
    unassigned: tuple[tuple[int, int], ...] = ()
    editing: Editing = Editing.NOTHING
    selected: int | None = None
    note_required: bool = False
    phrases: tuple[PhraseChip, ...] = ()
    note_text: str = ""
    note: str = ""  # what will be stored: phrases and text
    can_record: bool = False
    message: Message | None = None
    number: str = ""  # the recorded collection's
    slip: SlipState = SlipState.NONE
    slip_message: Message | None = None
    last_number: str = ""  # the last collection, for a reprint while counting
    limit: int = 0  # notes a box holds
