"""The cash collection form (清机), without a window: expected, counted, difference, note, record, refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.cash_collection import CashCollection, Editing, SlipState, Stage
from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from kiosk.payment_stack import CashOff, PaymentStack, journal_path
from offline_store.journal import MoneyJournal
from offline_store.maintenance_store import MaintenanceStore
from offline_store.pii import PiiKey

from maintenance_world import HandClock

EN, ZH = Translator("en"), Translator("zh")
ALL_NOTES = (10000, 5000, 2000, 1000, 500, 100)  # the default accepted notes, highest first


class World:
    """A journal with money in it, the maintenance file's audit, and the configuration, all on disk."""

    def __init__(self, folder: Path, *, box_notes: int = 1000, note_required: bool = True) -> None:
        self.clock = HandClock()
        base = default_config()
        self.config = replace(base, maintenance=replace(base.maintenance, cash_box_notes=box_notes,
                                                        collection_difference_note=note_required),
                              storage=replace(base.storage, data_dir=str(folder / "data"),
                                              key_file=str(folder / "keys" / "journal.key")))
        self.journal = MoneyJournal(folder / "journal.sqlite", PiiKey.create(folder / "journal.key"), self.clock)
        self.store = MaintenanceStore(folder / "maintenance.sqlite")
        self.audit = Audit(self.store, keep_days=365, clock=self.clock)
        self._refs = iter(range(1, 1_000_000))

    def pay(self, *notes_fen: int) -> str:
        txn = self.journal.open_payment("KS-0001", "electricity", "3201100017", "张小明", "城东区", 100,
                                        cap_fen=10_000_000).transaction_no
        self.journal.start_cash_in(txn)
        for denomination in notes_fen:
            self.journal.record_note(txn, denomination, f"acceptor-1/{next(self._refs)}")
        self.journal.commit(txn, paid_at=self.clock())
        return txn

    def form(self, **kwargs) -> CashCollection:
        return CashCollection(self.journal, config=self.config, audit=self.audit, user="wang.li", clock=self.clock,
                              **kwargs)

    def audit_rows(self) -> list[tuple[str, str, str, str]]:
        return [(e.user, e.action, e.what, e.result) for e in self.store.audit_since(0)]

    def close(self) -> None:
        self.journal.close()
        self.store.close()


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.close()


def count_all(form: CashCollection, figures: dict[int, int]) -> None:
    """The collector's taps: each row, then its digits on the keypad."""
    for denomination, count in figures.items():
        form.choose_row(denomination)
        form.clear_count()
        for digit in str(count):
            form.type_digit(digit)


def row(view, denomination: int):
    return next(r for r in view.rows if r.denomination_fen == denomination)


def said(view, tr: Translator = EN) -> str:
    return view.message.text(tr)


# ---------------------------------------------------------------- what the form shows


def test_the_form_shows_the_journals_figures_per_denomination_with_test_notes_and_doubts(world):
    txn = world.pay(10000, 10000, 5000)
    world.journal.record_test_note(2000, "acceptor-1/test", by="zhao.min")
    world.journal.record_unassigned_note(txn, None, "VEND VALID without escrow")
    view = world.form().load()

    assert view.stage is Stage.COUNTING and view.since == ""
    assert [r.denomination_fen for r in view.rows] == list(ALL_NOTES)
    assert [(r.note, r.expected_count, r.expected_fen) for r in view.rows[:3]] == [
        ("¥100", 2, 20000), ("¥50", 1, 5000), ("¥20", 1, 2000)]
    assert (view.expected_count, view.expected_fen) == (4, 27000)
    assert view.test_notes == ((2000, 1),)
    assert [(d.note, d.transaction_no, d.kind.text(EN)) for d in view.doubts] == [("", txn, "count it")]
    assert all(r.typed == "" and r.difference_count is None for r in view.rows)
    assert view.counted_fen is None and not view.can_record
    assert view.selected == 10000 and view.editing is Editing.COUNT  # the keypad types into the first row
    assert said(view) == "Tap each denomination and type the notes counted (0 if none)"


def test_counts_typed_on_the_keypad_give_the_difference_per_denomination_and_in_all(world):
    world.pay(10000, 10000, 5000)
    form = world.form()
    form.load()
    count_all(form, {10000: 2, 5000: 0, 2000: 1, 1000: 0, 500: 0, 100: 0})
    view = form.view()

    assert (row(view, 10000).typed, row(view, 10000).difference_count, row(view, 10000).difference_fen) == ("2", 0, 0)
    assert (row(view, 5000).difference_count, row(view, 5000).difference_fen) == (-1, -5000)
    assert (row(view, 2000).difference_count, row(view, 2000).difference_fen) == (1, 2000)
    assert (view.counted_count, view.counted_fen, view.difference_fen) == (3, 22000, -3000)
    assert view.note_required and not view.can_record
    assert said(view) == "The count differs: tap 'Write a note' and give the reason"


def test_backspace_and_clear_change_only_the_chosen_row(world):
    world.pay(10000)
    form = world.form()
    form.load()
    for digit in "120":
        form.type_digit(digit)
    assert row(form.backspace(), 10000).typed == "12"
    form.choose_row(5000)
    form.type_digit("4")
    view = form.clear_count()
    assert (row(view, 5000).typed, row(view, 10000).typed) == ("", "12")


# ---------------------------------------------------------------- bad figures: a clear message, nothing lost


def test_a_count_that_is_not_digits_is_refused_naming_the_denomination_and_the_figure_before_stays(world):
    world.pay(10000)
    form = world.form()
    form.load()
    form.set_count(5000, "7")
    view = form.set_count(5000, "7O")

    assert said(view) == "¥50: '7O' is not a count — type digits only"
    assert view.message.tone == "error" and row(view, 5000).typed == "7"
    assert said(view, ZH) == "¥50：“7O”不是张数，只能输入数字"


def test_a_count_above_what_a_box_holds_names_the_denomination_and_blocks_recording(tmp_path):
    world = World(tmp_path, box_notes=500)
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, {10000: 501, 5000: 0, 2000: 0, 1000: 0, 500: 0, 100: 0})
    view = form.view()

    assert row(view, 10000).too_many and not view.can_record
    assert said(view) == "¥100: 501 notes is more than a box holds (500) — count again"
    assert form.record().stage is Stage.COUNTING and world.journal.collections() == []
    # Far above a box: the digit is refused, what was typed stays.
    view = form.set_count(10000, "123456")
    assert row(view, 10000).typed == "501" and "123456 notes is more than a box holds" in said(view)
    world.close()


def test_counts_that_are_each_possible_but_together_more_than_a_box_holds_are_refused(tmp_path):
    world = World(tmp_path, box_notes=500)
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, {10000: 300, 5000: 250, 2000: 0, 1000: 0, 500: 0, 100: 0})
    view = form.view()
    assert said(view) == "550 notes in all is more than a box holds (500) — check each figure"
    assert not view.can_record
    world.close()


def test_every_denomination_must_be_counted_before_recording_zero_included(world):
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, {10000: 1, 5000: 0})
    view = form.record()

    assert view.stage is Stage.COUNTING and world.journal.collections() == []
    assert said(view) == "Not counted yet: ¥20, ¥10, ¥5, ¥1. Type 0 where there are none"
    assert world.audit_rows()[-1] == ("wang.li", "collection", "record refused: " + said(view), "refused")


def test_a_difference_needs_a_note_and_a_phrase_or_typed_words_make_one(world):
    world.pay(10000, 5000)
    form = world.form()
    form.load()
    count_all(form, {10000: 1, 5000: 0, 2000: 0, 1000: 0, 500: 0, 100: 0})
    refused = form.record()
    assert said(refused) == "The count differs from the journal by -¥50.00: write a note saying why"

    form.edit_note()
    form.toggle_phrase("maint.collection.phrase.doubt_absent")
    view = form.set_note_text("box  checked twice ")
    assert view.editing is Editing.NOTE and view.can_record
    assert view.note == "[doubt_absent] Note to check was not in the box; box checked twice"
    assert [p.key for p in view.phrases if p.chosen] == ["maint.collection.phrase.doubt_absent"]


def test_without_the_note_rule_a_difference_is_recorded_without_one(tmp_path):
    world = World(tmp_path, note_required=False)
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, dict.fromkeys(ALL_NOTES, 0))
    view = form.record()
    assert view.stage is Stage.RECORDED and world.journal.last_collection().difference_fen == -10000
    world.close()


# ---------------------------------------------------------------- recording


def test_recording_journals_counts_difference_and_note_audits_it_and_restarts_the_counters(world):
    world.pay(10000, 10000, 5000)
    form = world.form()
    form.load()
    count_all(form, {10000: 2, 5000: 0, 2000: 0, 1000: 0, 500: 0, 100: 0})
    form.toggle_phrase("maint.collection.phrase.doubt_absent")
    view = form.record()

    stored = world.journal.last_collection()
    assert (stored.by, stored.counted, stored.difference_fen) == ("wang.li", {5000: 0, 10000: 2}, -5000)
    assert stored.note == "[doubt_absent] Note to check was not in the box"
    assert view.stage is Stage.RECORDED and view.number == stored.number
    assert said(view) == f"Collection {stored.number} is recorded; the box counters start again from zero"
    assert [(r.note, r.expected_count, r.typed, r.difference_count) for r in view.rows] == [
        ("¥100", 2, "2", 0), ("¥50", 1, "0", -1)]
    assert world.journal.cash_box().counts == {}
    assert world.audit_rows()[-2] == (
        "wang.li", "collection", f"record {stored.number}: expected ¥250.00 (3 notes), counted ¥200.00 (2 notes), "
        "difference -¥50.00, note: [doubt_absent] Note to check was not in the box", "ok")
    # No printer on this terminal: recorded all the same, and the form says the slip is still to print.
    assert view.slip is SlipState.NOT_PRINTED and "no printer is fitted" in view.slip_message.text(EN)
    assert world.audit_rows()[-1] == ("wang.li", "collection", f"print slip {stored.number}",
                                      "not printed: NO_PRINTER no printer is fitted to this terminal")


def test_a_second_tap_on_record_records_nothing_more(world):
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, {10000: 1, **dict.fromkeys(ALL_NOTES[1:], 0)})
    form.record()
    form.record()
    assert len(world.journal.collections()) == 1


def test_a_note_journaled_while_counting_refuses_the_record_and_shows_the_new_figures_keeping_the_counts(world):
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, {10000: 1, **dict.fromkeys(ALL_NOTES[1:], 0)})
    world.journal.reconcile_power_up_note("stacker", 5000, already_credited=False)  # journaled meanwhile
    view = form.record()

    assert world.journal.collections() == [] and view.stage is Stage.COUNTING
    assert said(view).startswith("A note was journaled while you counted")
    assert row(view, 5000).expected_count == 1 and row(view, 5000).difference_count == -1
    assert row(view, 10000).typed == "1"


def test_a_journal_write_that_fails_records_nothing_and_keeps_every_figure_and_the_note(world):
    world.pay(10000)
    form = world.form()
    form.load()
    count_all(form, dict.fromkeys(ALL_NOTES, 0))
    form.set_note_text("box empty")
    world.journal._db.execute("CREATE TEMP TRIGGER refuse AFTER INSERT ON main.collections "
                              "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    view = form.record()

    assert view.stage is Stage.COUNTING and world.journal.collections() == []
    assert said(view) == "The collection was not recorded: disk I/O error. Your figures are kept — try again"
    assert all(r.typed == "0" for r in view.rows) and view.note == "box empty"
    assert world.audit_rows()[-1][2:] == ("record failed: IntegrityError: disk I/O error", "failed")
    world.journal._db.execute("DROP TRIGGER temp.refuse")
    assert form.record().stage is Stage.RECORDED


def test_with_the_journal_not_open_the_collection_is_refused_with_the_payment_stacks_reason(world, tmp_path):
    (tmp_path / "data").mkdir()
    journal_path(world.config).write_bytes(b"not a journal " * 100)
    stack = PaymentStack(world.config, None, lambda: None)
    with pytest.raises(CashOff):
        stack.open()
    form = CashCollection(None, config=world.config, audit=world.audit, user="wang.li", problem=stack.problem)
    view = form.load()

    assert view.stage is Stage.REFUSED and view.message.tone == "error"
    assert said(view).startswith("The money journal is not open, so no collection can be recorded: "
                                 "JOURNAL_CORRUPT: the journal ")
    assert "file is not a database" in said(view) and said(view).endswith("tap 'Read the journal again'")
    assert form.record().stage is Stage.REFUSED and form.set_count(10000, "1").rows == ()


def test_a_reprint_of_a_collection_the_journal_does_not_hold_says_so(world):
    form = world.form()
    form.load()
    view = form.reprint("C-20261123-0099")
    assert said(view).startswith("Slip C-20261123-0099 cannot be printed again: the journal ")
    assert said(view).endswith("holds no collection 'C-20261123-0099'")
    assert world.audit_rows()[-1][3] == "failed"


def test_wipe_forgets_every_figure_and_the_note(world):
    world.pay(10000)
    form = world.form()
    form.load()
    form.type_digit("3")
    form.toggle_phrase("maint.collection.phrase.recounted")
    form.set_note_text("abc")
    form.wipe()
    assert form.view().stage is Stage.UNLOADED
    view = form.load()
    assert all(r.typed == "" for r in view.rows) and view.note == "" and not any(p.chosen for p in view.phrases)
