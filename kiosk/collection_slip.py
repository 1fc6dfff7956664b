"""The collection slip (清机结账单): what the box held, what was counted, and who counted it.

Built from a :class:`~offline_store.journal.Collection` as it is in the
journal, so a reprint days later says exactly what the first print said
(only "重印 Reprint" is added).  The slip model is ``drivers/escpos/slip.py``
(Chinese as GB18030 in the printer's Chinese mode, two columns a character),
as for the payment slips (``kiosk/payment_slips.py``).

It carries both languages, the hall and the terminal, the collector, the
period (from the collection before to this one), the expected and counted
notes per denomination with their difference, the totals, the test notes,
the notes in no payment and the doubts the count settled, the collector's
note, two signature lines, and the collection number as text and as a QR
code whose payload is the bare number.  No customer data is in a
collection: doubts name a transaction number at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drivers.escpos.slip import PAPER_80MM, Element, Field, QrCode, Separator, Slip, Text, Title, columns_of
from kiosk.config_types import TerminalConfig
from kiosk.i18n import Translator, yuan
from kiosk.slip_parts import label, note_name
from offline_store.journal import Collection, UnassignedNote

_ZH, _EN = Translator("zh"), Translator("en")
# What a doubt was, in the words of the collection screen and slip.
DOUBT_KINDS = {
    "maybe_in_box": "maint.collection.kind.maybe_in_box",
    "returned_after_credit": "maint.collection.kind.returned_after_credit",
    "in_box": "maint.collection.kind.in_box",
    "test_note": "maint.collection.kind.test_note",
}


def signed(number: int) -> str:
    """A difference as the collector reads it: +2, -1, 0."""
    return f"+{number:,}" if number > 0 else f"{number:,}"


def signed_yuan(fen: int) -> str:
    return ("+" if fen > 0 else "") + yuan(fen)


def when(moment: float) -> str:
    return f"{datetime.fromtimestamp(moment):%Y-%m-%d %H:%M:%S}"


@dataclass(frozen=True)
class CollectionSlipData:
    """What a collection slip says: the terminal's names and the collection as journaled."""

    hall_name_zh: str
    hall_name_en: str
    terminal_id: str
    printed_at: datetime
    collection: Collection
    reprint: bool = False

    def __post_init__(self) -> None:
        if not self.collection.number.strip():
            raise ValueError("the collection has no number: the slip's QR code and the audit need it")
        if not self.terminal_id.strip():
            raise ValueError("terminal_id is empty: a collection slip names its terminal")

    @classmethod
    def for_terminal(cls, terminal: TerminalConfig, collection: Collection, printed_at: datetime, *,
                     reprint: bool = False) -> CollectionSlipData:
        return cls(terminal.hall_name_zh, terminal.hall_name_en, terminal.id, printed_at, collection, reprint)


_label = label


def collection_slip(data: CollectionSlipData, columns: int = PAPER_80MM) -> Slip:
    elements = [
        *_heading(data),
        Separator(),
        *_counts_table(data.collection, columns),
        Separator(),
        *_totals(data.collection),
        Separator(),
        *_outside_payments(data.collection),
        *_note(data.collection),
        Separator(),
        Text(f"{_label('maint.collection.slip.signature')} ________"),
        Text(f"{_label('maint.collection.slip.checked_by')} ________"),
        QrCode(data.collection.number, caption=f"{_label('maint.collection.slip.number')} {data.collection.number}"),
    ]
    return Slip(tuple(elements), columns=columns)


def _heading(data: CollectionSlipData) -> list[Element]:
    collection = data.collection
    since = when(collection.since) if collection.since is not None else _label("maint.collection.slip.since_start")
    elements: list[Element] = [
        Title(_ZH("maint.collection.slip.title")),
        Text(_EN("maint.collection.slip.title"), "center", bold=True),
    ]
    if data.reprint:
        elements.append(Text(f"** {_label('maint.collection.slip.reprint')} **", "center", bold=True))
    return elements + [
        Text(data.hall_name_zh, "center"),
        Text(data.hall_name_en, "center"),
        Separator("="),
        Field(_label("maint.collection.slip.terminal"), data.terminal_id),
        Field(_label("maint.collection.slip.number"), collection.number, bold=True),
        Field(_label("maint.collection.slip.collector"), collection.by),
        Field(_label("maint.collection.slip.from"), since),
        Field(_label("maint.collection.slip.to"), when(collection.collected_at)),
        Field(_label("maint.collection.slip.printed"), data.printed_at.strftime("%Y-%m-%d %H:%M:%S")),
    ]


def _counts_table(collection: Collection, columns: int) -> list[Element]:
    """Denomination, expected, counted, difference: four columns, the figures on the right."""
    width = columns // 4
    header = ("maint.collection.slip.col_note", "maint.collection.slip.col_expected",
              "maint.collection.slip.col_counted", "maint.collection.slip.col_difference")
    lines = [_row([_ZH(k) for k in header], width), _row([_EN(k) for k in header], width)]
    for denomination, difference in collection.differences.items():
        lines.append(_row([note_name(denomination), str(collection.expected.get(denomination, 0)),
                           str(collection.counted.get(denomination, 0)), signed(difference)], width))
    if not collection.differences:
        lines.append(_label("maint.collection.slip.empty_box"))
    return [Text(line) for line in lines]


def _row(cells: list[str], width: int) -> str:
    first, *figures = cells
    return first + " " * max(1, width - columns_of(first)) + "".join(
        " " * max(1, width - columns_of(cell)) + cell for cell in figures)


def _totals(collection: Collection) -> list[Element]:
    expected_notes, counted_notes = sum(collection.expected.values()), sum(collection.counted.values())
    return [
        Field(f"{_label('maint.collection.slip.expected_total')} ({expected_notes})", yuan(collection.expected_fen)),
        Field(f"{_label('maint.collection.slip.counted_total')} ({counted_notes})", yuan(collection.counted_fen),
              bold=True),
        Field(_label("maint.collection.slip.difference"), signed_yuan(collection.difference_fen), bold=True),
    ]


def _outside_payments(collection: Collection) -> list[Element]:
    """Notes in the box that belong to no payment, and the doubts this count settled."""
    elements: list[Element] = [Text(_label("maint.collection.slip.test_notes"), bold=True)]
    elements += _note_lines(collection.test_notes)
    elements.append(Text(_label("maint.collection.slip.unassigned"), bold=True))
    elements += _note_lines(collection.unassigned)
    elements.append(Text(f"{_label('maint.collection.slip.doubts')}: {collection.to_check}", bold=True))
    for doubt in collection.doubts:
        elements += _doubt(doubt)
    return elements


def _note_lines(pairs: tuple[tuple[int, int], ...]) -> list[Element]:
    if not pairs:
        return [Text(f"  {_label('maint.collection.slip.none')}")]
    return [Field(f"{note_name(d)} × {c}", yuan(d * c)) for d, c in sorted(pairs, reverse=True)]


def _doubt(doubt: UnassignedNote) -> list[Element]:
    """When, what and which kind of doubt on one line; the payment it arrived during under it."""
    kind = DOUBT_KINDS.get(doubt.kind)
    words = _label(kind) if kind else str(doubt.kind)
    note = note_name(doubt.denomination_fen) if doubt.denomination_fen else _label("maint.collection.unknown_note")
    lines: list[Element] = [Text(f"{datetime.fromtimestamp(doubt.recorded_at):%m-%d %H:%M} {note} {words}")]
    if doubt.transaction_no:
        lines.append(Text(f"  {_label('maint.collection.slip.during')} {doubt.transaction_no}"))
    return lines


def _note(collection: Collection) -> list[Element]:
    if not collection.note:
        return []
    return [Separator(), Text(_label("maint.collection.slip.note"), bold=True), Text(collection.note)]
