"""The cash collection page (清机) on screen: what it shows in each state, what each tap asks for.

The page is driven as the application drives it: its signals go to a real
collection form on a real journal, and each answer is rendered again.  Every
state is checked against the accessibility floors and saved as a screenshot
(/tmp/collection_page_<state>.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from kiosk.cash_collection import CashCollection
from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from offline_store.journal import MoneyJournal
from offline_store.maintenance_store import MaintenanceStore
from offline_store.pii import PiiKey
from screens.context import RenderContext
from screens.maintenance.collection_page import CollectionPage
from screens.stylesheet import stylesheet

from gui.accessibility import check_window
from harness import tap
from maintenance_world import HandClock

PAGE = (1640, 900)  # what the maintenance shell gives a page
ZERO_REST = {5000: 0, 2000: 0, 1000: 0, 500: 0, 100: 0}


class Screen:
    """The page wired to its form the way the application wires them, plus a log of every signal."""

    def __init__(self, form: CashCollection, lang: str = "en") -> None:
        self.form = form
        self.ctx = RenderContext(default_config(), Translator(lang))
        self.page = CollectionPage()
        self.page.resize(*PAGE)
        self.asked: list[tuple] = []
        self._wire()
        self.page.show()

    def _wire(self) -> None:
        page, form = self.page, self.form
        for name, act in (("row_chosen", form.choose_row), ("digit_pressed", form.type_digit),
                          ("backspace_pressed", form.backspace), ("clear_pressed", form.clear_count),
                          ("note_edit_requested", form.edit_note), ("phrase_toggled", form.toggle_phrase),
                          ("note_text_changed", form.set_note_text), ("record_requested", form.record),
                          ("reprint_requested", form.reprint), ("reload_requested", form.load)):
            getattr(page, name).connect(lambda *args, n=name, a=act: self._asked(n, a, args))

    def _asked(self, name: str, act, args: tuple) -> None:
        self.asked.append((name, *args))
        self.show(act(*args))

    def show(self, view) -> None:
        self.page.render(self.ctx, view)
        QCoreApplication.processEvents()

    def type_count(self, denomination: int, count: int) -> None:
        tap(self.page.table.rows[denomination].counted)
        for digit in str(count):
            tap(self.page.count_panel.keypad.keys[digit])

    def check(self, state: str, allowed: tuple[str, ...] = ()) -> None:
        image = self.page.grab().toImage()
        image.save(f"/tmp/collection_page_{state}.png")
        problems = [str(v) for v in check_window(self.page, image) if v.kind not in allowed]
        assert problems == [], f"{state}: {problems}"


@pytest.fixture
def journal(tmp_path: Path):
    clock = HandClock()
    made = MoneyJournal(tmp_path / "journal.sqlite", PiiKey.create(tmp_path / "journal.key"), clock)
    txn = made.open_payment("KS-0001", "electricity", "3201100017", "张小明", "城东区", 100,
                            cap_fen=1_000_000).transaction_no
    made.start_cash_in(txn)
    for ref, denomination in enumerate((10000, 10000, 5000)):
        made.record_note(txn, denomination, f"acceptor-1/{ref}")
    made.commit(txn, paid_at=clock())
    made.record_test_note(2000, "acceptor-1/test", by="zhao.min")
    made.record_unassigned_note(txn, None, "VEND VALID without escrow")
    yield made
    made.close()


@pytest.fixture
def screen(qapp, journal, tmp_path):
    qapp.setStyleSheet(stylesheet())
    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    form = CashCollection(journal, config=default_config(), audit=Audit(store, keep_days=365, clock=HandClock()),
                          user="wang.li")
    made = Screen(form)
    made.show(form.load())
    yield made
    made.page.close()
    made.page.deleteLater()
    store.close()


def test_the_page_shows_the_journals_figures_and_the_notes_to_check(screen):
    page = screen.page
    row = page.table.rows[10000]
    assert (row.note.text(), row.expected_count.text(), row.expected_amount.text()) == ("¥100", "2", "¥200.00")
    assert row.counted.text() == "Tap to count" and row.difference.text() == "—"
    assert page.table.rows[2000].expected_count.text() == "1"  # the test note is in the box
    assert page.count_panel.doubts.heading.text() == "Notes to check (1)"
    assert "unknown  count it  KS-0001-" in page.count_panel.doubts.lines[0].text()
    assert page.count_panel.doubts.outside.text() == "Of which test notes: 1, ¥20.00"
    assert page.count_panel.heading.text() == "Number of ¥100 notes"
    assert not page.record.isEnabled()
    screen.check("counting")


def test_tapping_a_row_and_the_keypad_asks_for_that_rows_count(screen):
    screen.type_count(5000, 12)
    tap(screen.page.count_panel.keypad.keys["backspace"])
    assert screen.asked == [("row_chosen", 5000), ("digit_pressed", "1"), ("digit_pressed", "2"),
                            ("backspace_pressed",)]
    row = screen.page.table.rows[5000]
    assert row.counted.text() == "1" and row.counted.property("chosen") is True
    assert row.difference.text() == "0"
    assert screen.page.count_panel.typed.text() == "1"


def test_a_count_that_differs_asks_for_a_note_and_the_chips_and_text_pad_give_it(screen):
    screen.type_count(10000, 1)
    for denomination, count in ZERO_REST.items():
        screen.type_count(denomination, count)
    page = screen.page
    assert page.table.rows[10000].difference.text() == "-1 · -¥100.00"
    assert page.table.rows[2000].difference.text() == "-1 · -¥20.00"
    assert page.message.text() == "The count differs: tap 'Write a note' and give the reason"
    assert not page.record.isEnabled()

    tap(page.write_note)
    chip = page.note_panel.chips["maint.collection.phrase.doubt_absent"]
    tap(chip)
    for key in ("b", "o", "x"):
        tap(page.note_panel.pad.keys[key])
    assert ("note_edit_requested",) in screen.asked
    assert ("phrase_toggled", "maint.collection.phrase.doubt_absent") in screen.asked
    assert screen.asked[-1] == ("note_text_changed", "box")
    assert chip.property("chosen") is True
    assert page.note.text() == "Note: [doubt_absent] Note to check was not in the box; box"
    assert page.record.isEnabled()
    screen.check("note")


def test_record_shows_the_collection_number_and_the_slip_state_and_offers_a_reprint(screen, journal):
    for denomination, count in {10000: 2, **ZERO_REST, 5000: 1, 2000: 1}.items():
        screen.type_count(denomination, count)
    tap(screen.page.record)

    number = journal.last_collection().number
    page = screen.page
    assert ("record_requested",) in screen.asked
    assert page.result_panel.number.text() == f"Collection no. {number}"
    assert page.result_panel.slip.text().startswith(f"Slip {number} not printed: no printer is fitted")
    assert page.table.rows[10000].counted_text.text() == "2" and not page.table.rows[10000].counted.isVisible()
    assert not page.record.isVisible()
    screen.check("recorded")

    tap(page.result_panel.reprint)
    assert screen.asked[-1] == ("reprint_requested", number)

    screen.show(screen.form.load())  # the page opened again later: a new period, the last slip still at hand
    assert page.table.rows[10000].expected_count.text() == "0" and page.record.isVisible()
    assert page.reprint_last.text() == f"Print slip {number} again"
    tap(page.reprint_last)
    assert screen.asked[-1] == ("reprint_requested", number)
    screen.check("next_period")


def test_the_page_in_chinese_fits_and_reads(journal, qapp, tmp_path):
    qapp.setStyleSheet(stylesheet())
    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    form = CashCollection(journal, config=default_config(), audit=Audit(store, keep_days=365, clock=HandClock()),
                          user="wang.li")
    screen = Screen(form, "zh")
    screen.show(form.load())
    assert screen.page.title.text() == "清机" and screen.page.record.text() == "记录清机"
    screen.check("counting_zh")
    tap(screen.page.write_note)
    screen.check("note_zh")
    screen.page.close()
    store.close()


def test_with_the_journal_not_open_the_page_says_why_and_offers_to_read_it_again(qapp, tmp_path):
    qapp.setStyleSheet(stylesheet())
    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    form = CashCollection(None, config=default_config(), audit=Audit(store, keep_days=365, clock=HandClock()),
                          user="wang.li", problem=("JOURNAL_MISSING", "the journal file is missing"))
    screen = Screen(form)
    screen.show(form.load())
    page = screen.page
    assert page.message.text().startswith(
        "The money journal is not open, so no collection can be recorded: the journal file is missing.")
    assert page.message.property("tone") == "error"
    assert not page.table.isVisible() and not page.record.isVisible()
    screen.check("refused")
    tap(page.reload)
    assert screen.asked == [("reload_requested",)]
    page.close()
    store.close()


def test_wipe_forgets_the_typed_note(screen):
    tap(screen.page.write_note)
    tap(screen.page.note_panel.pad.keys["a"])
    screen.page.wipe()
    assert screen.page.note_panel.pad.text() == ""
    assert screen.asked[-1] == ("note_text_changed", "a")  # the wipe itself asks for nothing
