"""Repair records in the device archive: schema v2, the faults a repair clears, the history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from drivers.status import ACCEPTOR, PRINTER
from offline_store.device_archive import SCHEMA_VERSION, DeviceArchive, FaultRecord, RepairRecord, open_database


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 60.0) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def archive(tmp_path: Path, clock: Clock) -> DeviceArchive:
    return DeviceArchive(open_database(tmp_path / "devices.sqlite"), clock=clock)


def write_v1_file(path: Path) -> None:
    """A devices.sqlite as the first release wrote it: one fault open, one closed, one repair."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE device_faults (id INTEGER PRIMARY KEY, device TEXT NOT NULL, state TEXT NOT NULL,
            reason TEXT NOT NULL, detail TEXT, raised_at FLOAT NOT NULL, cleared_at FLOAT);
        CREATE INDEX idx_device_faults_device_cleared_at ON device_faults (device, cleared_at);
        CREATE TABLE repairs (id INTEGER PRIMARY KEY, device TEXT NOT NULL, technician TEXT, note TEXT NOT NULL,
            at FLOAT NOT NULL);
        INSERT INTO device_faults VALUES (1, 'printer', 'hardware_error', 'PAPER_OUT', 'no paper', 100.0, 200.0);
        INSERT INTO device_faults VALUES (2, 'acceptor', 'hardware_error', 'JAM_IN_ACCEPTOR', 'jam', 300.0, NULL);
        INSERT INTO repairs VALUES (1, 'printer', 'tech-07', 'new paper roll', 210.0);
        PRAGMA user_version = 1;
    """)
    conn.commit()
    conn.close()


# ---------------------------------------------------------------- the v1 file


def test_a_v1_archive_is_migrated_keeping_its_faults_and_repairs(tmp_path):
    path = tmp_path / "devices.sqlite"
    write_v1_file(path)
    archive = DeviceArchive.at(path)
    assert open_database(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert [f.id for f in archive.open_faults()] == [2]
    assert archive.repairs() == [RepairRecord(1, "printer", "tech-07", "new paper roll", "", 210.0, ())]


def test_a_migrated_archive_takes_repairs_that_clear_its_old_faults(tmp_path):
    path = tmp_path / "devices.sqlite"
    write_v1_file(path)
    archive = DeviceArchive.at(path)
    repair_id = archive.record_repair(ACCEPTOR, "tech-07", "cleared jam", parts="belt", clears=[2])
    assert archive.open_faults() == []
    assert archive.repairs(ACCEPTOR)[0] == RepairRecord(repair_id, "acceptor", "tech-07", "cleared jam", "belt",
                                                        archive.repairs(ACCEPTOR)[0].at, (2,))


def test_opening_a_migrated_archive_again_changes_nothing(tmp_path):
    path = tmp_path / "devices.sqlite"
    write_v1_file(path)
    DeviceArchive.at(path).record_repair(PRINTER, "tech-07", "cleaned the cutter", clears=[1])
    again = DeviceArchive.at(path)
    assert [(r.note, r.clears) for r in again.repairs()] == [("cleaned the cutter", (1,)), ("new paper roll", ())]


def test_an_archive_from_a_newer_kiosk_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "devices.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(ValueError, match="schema version 7.*knows up to 2.*newer kiosk"):
        DeviceArchive.at(path)


# ---------------------------------------------------------------- record_repair


def test_a_repair_closes_the_open_faults_it_names_and_no_others(archive, clock):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    paper = archive.raise_fault(PRINTER, "hardware_error", "PAPER_OUT", "no paper")
    repaired_at = clock.tick()
    repair_id = archive.record_repair(ACCEPTOR, "tech-07", "removed a folded note", parts="", clears=[jam])
    assert [f.id for f in archive.open_faults()] == [paper]
    (closed,) = archive.history(ACCEPTOR)
    assert closed.cleared_at == repaired_at
    assert archive.repairs(ACCEPTOR) == [
        RepairRecord(repair_id, "acceptor", "tech-07", "removed a folded note", "", repaired_at, (jam,))]


def test_a_fault_the_device_already_recovered_from_is_linked_and_keeps_its_clearing_time(archive, clock):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    cleared_at = clock.tick()
    archive.clear_faults(ACCEPTOR)
    clock.tick()
    archive.record_repair(ACCEPTOR, "tech-07", "removed a folded note", clears=[jam])
    assert archive.history(ACCEPTOR)[0].cleared_at == cleared_at
    assert archive.repairs(ACCEPTOR)[0].clears == (jam,)


def test_a_repair_naming_another_devices_fault_is_refused_and_nothing_is_written(archive):
    paper = archive.raise_fault(PRINTER, "hardware_error", "PAPER_OUT", "no paper")
    with pytest.raises(ValueError, match=rf"fault\(s\) \[{paper}\] belong to another device, not acceptor"):
        archive.record_repair(ACCEPTOR, "tech-07", "replaced the belt", clears=[paper])
    assert archive.repairs() == []
    assert [f.id for f in archive.open_faults()] == [paper]


def test_a_repair_naming_a_fault_that_does_not_exist_is_refused(archive):
    with pytest.raises(ValueError, match=r"fault\(s\) \[99\] are not in the archive"):
        archive.record_repair(PRINTER, "tech-07", "replaced the cutter", clears=[99])
    assert archive.repairs() == []


def test_when_closing_a_fault_fails_midway_the_repair_and_every_closing_are_rolled_back(archive, tmp_path):
    first = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    archive.clear_faults(ACCEPTOR)
    second = archive.raise_fault(ACCEPTOR, "hardware_error", "STACKER_FULL", "box full")
    third = archive.raise_fault(ACCEPTOR, "hardware_error", "CHEATED", "string on a note")
    # The disk refuses the last write of the transaction (a real SQLite failure, from a trigger).
    conn = sqlite3.connect(tmp_path / "devices.sqlite")
    conn.execute(f"CREATE TRIGGER refuse BEFORE UPDATE ON device_faults WHEN OLD.id = {third} "
                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match="disk I/O error"):
        archive.record_repair(ACCEPTOR, "tech-07", "cleaned the sensors", clears=[first, second, third])
    assert archive.repairs() == []
    assert archive.unrepaired_faults(ACCEPTOR) == archive.history(ACCEPTOR)
    assert [f.id for f in archive.open_faults()] == [third]  # raising the third closed the second


@pytest.mark.parametrize("note, parts, message", [
    ("  ", "", "needs a note saying what was done"),
    ("x" * 501, "", "501 characters; at most 500"),
    ("replaced the roller", "p" * 201, "parts list is 201 characters; at most 200"),
])
def test_a_repair_needs_what_was_done_and_short_texts(archive, note, parts, message):
    with pytest.raises(ValueError, match=message):
        archive.record_repair(PRINTER, "tech-07", note, parts=parts)


def test_a_repair_needs_a_technician(archive):
    with pytest.raises(ValueError, match="needs the technician"):
        archive.record_repair(PRINTER, " ", "replaced the roller")


def test_a_fault_named_twice_is_linked_once(archive):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    archive.record_repair(ACCEPTOR, "tech-07", "removed a folded note", clears=[jam, jam])
    assert archive.repairs()[0].clears == (jam,)


# ---------------------------------------------------------------- what the pages read


def test_unrepaired_faults_are_the_ones_no_repair_names_yet(archive):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    archive.clear_faults(ACCEPTOR)
    full = archive.raise_fault(ACCEPTOR, "hardware_error", "STACKER_FULL", "box full")
    archive.record_repair(ACCEPTOR, "tech-07", "removed a folded note", clears=[jam])
    assert [f.id for f in archive.unrepaired_faults(ACCEPTOR)] == [full]


def test_the_timeline_interleaves_faults_and_repairs_newest_first(archive, clock):
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "JAM_IN_ACCEPTOR", "note stuck")
    clock.tick()
    archive.raise_fault(PRINTER, "hardware_error", "PAPER_OUT", "no paper")
    clock.tick()
    archive.record_repair(ACCEPTOR, "tech-07", "removed a folded note", clears=[jam])
    clock.tick()
    archive.raise_fault(ACCEPTOR, "hardware_error", "STACKER_FULL", "box full")
    kinds = [(type(e).__name__, getattr(e, "reason", getattr(e, "note", ""))) for e in archive.timeline(ACCEPTOR)]
    assert kinds == [("FaultRecord", "STACKER_FULL"), ("RepairRecord", "removed a folded note"),
                     ("FaultRecord", "JAM_IN_ACCEPTOR")]
    assert len(archive.timeline()) == 4
    assert len(archive.timeline(limit=2)) == 2
    assert all(isinstance(e, FaultRecord | RepairRecord) for e in archive.timeline())


def test_the_maintenance_screen_reads_and_writes_through_the_archive_the_writer_thread_uses(tmp_path):
    from offline_store.archive_writer import ArchiveWriter

    writer = ArchiveWriter(lambda: DeviceArchive.at(tmp_path / "devices.sqlite"))
    try:
        archive = writer.opened()  # no fault yet today: the file is opened for the screen
        writer.raise_fault(PRINTER, "hardware_error", "PAPER_OUT", "no paper")
        assert writer.flush(5.0)
        assert writer.opened() is archive and writer.archive is archive
        (paper,) = archive.open_faults(PRINTER)
        archive.record_repair(PRINTER, "tech-07", "new paper roll", clears=[paper.id])
        assert archive.open_faults() == []
    finally:
        assert writer.close(5.0)
