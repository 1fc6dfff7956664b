"""The repair form: preset phrases and typed words, parts, the faults it clears, saved and audited."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from drivers.status import ACCEPTOR, CARD_READER, PRINTER
from kiosk.maintenance_audit import Audit
from kiosk.repair_form import RepairForm, TextField, stored_text, WHAT_WAS_DONE
from offline_store.device_archive import DeviceArchive
from offline_store.maintenance_store import MaintenanceStore

FITTED = (ACCEPTOR, PRINTER, CARD_READER)


@pytest.fixture
def archive(tmp_path: Path) -> DeviceArchive:
    return DeviceArchive.at(tmp_path / "devices.sqlite")


@pytest.fixture
def store(tmp_path: Path) -> MaintenanceStore:
    opened = MaintenanceStore(tmp_path / "maintenance.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def form(archive, store) -> RepairForm:
    return RepairForm(lambda: archive, Audit(store, keep_days=90, clock=time.time), "tech-07", FITTED)


def audited(store: MaintenanceStore) -> list[tuple[str, str, str, str]]:
    return [(e.user, e.action, e.what, e.result) for e in store.audit_since(0)]


def test_a_repair_of_preset_phrases_and_typed_words_is_stored_by_key_and_english_words(form, archive, store):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    form.load()
    form.toggle_what("cleared_jam")
    form.toggle_what("cleaned_sensors")
    form.set_typed("folded note at the inlet")
    form.type_into("parts")
    form.toggle_part("belt")
    form.set_typed("spring x2")
    form.toggle_fault(jam)
    view = form.save()
    (repair,) = archive.repairs(ACCEPTOR)
    assert repair.note == "cleared_jam: Cleared a note jam; cleaned_sensors: Cleaned the sensors; folded note at the inlet"
    assert repair.parts == "belt: transport belt; spring x2"
    assert (repair.technician, repair.clears) == ("tech-07", (jam,))
    assert archive.open_faults() == []
    assert view.notice.key == "maint.repair.saved" and dict(view.notice.values) == {"number": repair.id, "count": 1}
    assert audited(store) == [("tech-07", "repair", f"acceptor: {repair.note} | parts: {repair.parts} | clears: [{jam}]",
                               f"ok #{repair.id}")]


def test_after_saving_the_form_is_empty_and_the_fault_it_cleared_is_no_longer_offered(form, archive):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    form.load()
    form.toggle_what("cleared_jam")
    form.toggle_fault(jam)
    view = form.save()
    assert not any(c.chosen for c in view.what) and view.free_note == "" and view.faults == ()
    assert view.saved_id == archive.repairs()[0].id


def test_what_was_done_is_required_and_nothing_is_written_without_it(form, archive, store):
    form.type_into("parts")
    form.set_typed("paper roll")
    view = form.save()
    assert view.notice.key == "maint.repair.need_what" and view.notice.tone == "error"
    assert archive.repairs() == [] and audited(store) == []
    assert view.free_parts == "paper roll"  # what was entered stays


def test_typed_words_that_are_too_long_are_refused_with_their_length(form, archive):
    form.set_typed("x" * 501)
    view = form.save()
    assert view.notice.key == "maint.repair.note_too_long"
    assert dict(view.notice.values) == {"length": 501, "limit": 500}
    assert archive.repairs() == []


def test_a_record_the_archive_cannot_write_keeps_everything_entered_and_says_why(archive, store, tmp_path):
    # The same file opened read-only, as after the disk remounted read-only: the write fails for real.
    read_only = sqlite3.connect(f"file:{tmp_path / 'devices.sqlite'}?mode=ro", uri=True, check_same_thread=False)
    failing = RepairForm(lambda: DeviceArchive(sqlite_utils.Database(read_only)),
                         Audit(store, keep_days=90, clock=time.time), "tech-07", FITTED)
    failing.select_device(PRINTER)
    failing.toggle_what("loaded_paper")
    failing.set_typed("roll 80mm")
    view = failing.save()
    assert view.notice.key == "maint.repair.failed" and "readonly" in str(dict(view.notice.values)["error"])
    assert [c.key for c in view.what if c.chosen] == ["loaded_paper"] and view.free_note == "roll 80mm"
    assert not view.busy
    assert audited(store)[-1][3].startswith("failed:")
    assert archive.repairs() == []


def test_choosing_another_device_drops_the_choices_that_belong_to_the_first(form, archive):
    archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    form.load()
    form.toggle_what("cleared_jam")
    view = form.select_device(PRINTER)
    assert view.device == PRINTER and not any(c.chosen for c in view.what)
    assert [c.key for c in view.what] == [key for key, _ in WHAT_WAS_DONE[PRINTER]]
    assert view.faults == () and not view.faults_loaded
    assert form.toggle_what("cleared_jam").what == view.what  # a stale tap from the acceptor's page is ignored


def test_the_faults_offered_are_the_devices_own_open_and_recovered_ones(form, archive):
    paper = archive.raise_fault(PRINTER, "hardware_error", "PAPER_OUT", "no paper")
    archive.clear_faults(PRINTER)
    cover = archive.raise_fault(PRINTER, "hardware_error", "COVER_OPEN", "cover open")
    archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    form.select_device(PRINTER)
    view = form.load()
    assert [(c.fault.id, c.fault.open) for c in view.faults] == [(cover, True), (paper, False)]


def test_the_pad_types_into_the_field_chosen(form):
    form.set_typed("cleaned rollers")
    form.type_into(TextField.PARTS)
    view = form.set_typed("roller")
    assert (view.free_note, view.free_parts, view.text_typed) == ("cleaned rollers", "roller", "roller")
    assert form.type_into(TextField.NOTE).text_typed == "cleaned rollers"


def test_wipe_forgets_everything_entered(form):
    form.select_device(CARD_READER)
    form.toggle_what("cleaned_contacts")
    form.set_typed("dust")
    view = form.wipe()
    assert view.device == ACCEPTOR and view.free_note == "" and not any(c.chosen for c in view.what)


def test_stored_text_keeps_the_presets_order_whatever_the_order_of_taps():
    presets = WHAT_WAS_DONE[ACCEPTOR]
    assert stored_text({"replaced_belt", "cleared_jam"}, presets, "  ") == (
        "cleared_jam: Cleared a note jam; replaced_belt: Replaced the transport belt")
