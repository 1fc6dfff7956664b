"""Log export: the kiosk's real log files, to a folder or to a small real file system (a loop disk
standing in for a USB stick) that is full or read-only; nothing half-written is left as if complete."""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from kiosk.log_export import ExportFailed, export_logs, export_targets, human_size, log_files
from kiosk.logging_setup import configure_logging
from loop_disk import LOOP_DISK_NEEDS, MIB, SmallDisk, fill, free_bytes, loop_disks_possible

NOW = datetime(2026, 11, 23, 10, 15, 0)
ACCOUNT = "3201100031"
needs_loop_disk = pytest.mark.skipif(not loop_disks_possible(), reason=LOOP_DISK_NEEDS)


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """The kiosk's own rotating log (kiosk/logging_setup.py), rotated a few times: kiosk.log, .1, .2, .3."""
    folder = tmp_path / "log"
    configure_logging(folder, "INFO", max_bytes=200_000, backups=3, stderr=False)
    log = logging.getLogger("kiosk.test")
    for n in range(6000):
        log.info("payment %d for account %s posted", n, ACCOUNT)
    yield folder
    root = logging.getLogger("kiosk")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


def exported(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_logs_are_copied_as_they_are_on_disk_into_a_named_folder(log_dir, tmp_path):
    target = tmp_path / "media"
    target.mkdir()

    result = export_logs(log_dir, target, "T0001", now=NOW)

    folder = Path(result.folder)
    assert folder == target / "kiosk-logs-T0001-20261123-101500"
    originals = {path.name: path.read_bytes() for path in log_files(log_dir)}
    assert set(originals) == {"kiosk.log", "kiosk.log.1", "kiosk.log.2", "kiosk.log.3"}
    assert exported(folder) == originals  # byte for byte: masked on disk, masked here
    assert ACCOUNT not in b"".join(originals.values()).decode()
    assert result.total_bytes == sum(map(len, originals.values()))
    assert dict(result.files) == {name: len(data) for name, data in originals.items()}
    assert [p.name for p in target.iterdir()] == [folder.name]  # no partial folder beside it
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in folder.iterdir())


def test_two_exports_in_the_same_second_keep_both(log_dir, tmp_path):
    first = export_logs(log_dir, tmp_path, "T0001", now=NOW)
    second = export_logs(log_dir, tmp_path, "T0001", now=NOW)
    assert Path(second.folder).name == Path(first.folder).name + "-2"


def test_an_export_that_runs_out_of_time_leaves_nothing_behind(log_dir, tmp_path):
    target = tmp_path / "stick"
    target.mkdir()
    ticks = iter(range(0, 10_000, 40))  # every chunk costs 40 s: the first file fits, the second does not

    with pytest.raises(ExportFailed) as failed:
        export_logs(log_dir, target, "T0001", now=NOW, deadline_s=60, clock=lambda: next(ticks))

    assert failed.value.key == "maint.ops.export.timed_out"
    assert failed.value.values == {"target": str(target), "seconds": "60"}
    assert list(target.iterdir()) == []  # not even the partial folder with the first file in it


def test_no_log_files_and_a_pulled_stick_are_said_so(tmp_path):
    (tmp_path / "log").mkdir()
    with pytest.raises(ExportFailed) as nothing:
        export_logs(tmp_path / "log", tmp_path, "T0001", now=NOW)
    assert nothing.value.key == "maint.ops.export.no_logs"
    (tmp_path / "log" / "kiosk.log").write_text("{}\n")
    with pytest.raises(ExportFailed) as gone:
        export_logs(tmp_path / "log", tmp_path / "media" / "STICK", "T0001", now=NOW)
    assert gone.value.key == "maint.ops.export.target_gone"
    assert gone.value.values["target"].endswith("STICK")


def test_the_directories_below_the_export_directory_are_offered_then_the_directory_itself(tmp_path):
    media = tmp_path / "media"
    for name in ("STICK_B", "STICK_A", ".hidden"):
        (media / name).mkdir(parents=True)
    (media / "cdrom").symlink_to(media / "STICK_A")
    targets = export_targets(media)
    assert [t.label for t in targets] == ["STICK_A", "STICK_B", str(media)]
    assert all(t.writable and t.free_bytes > 0 for t in targets)
    assert export_targets(tmp_path / "no-such-dir") == []


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 4 MiB file system mounted at media/kiosk/disk, as udisks mounts a USB stick for a user."""
    user_folder = tmp_path / "media" / "kiosk"
    user_folder.mkdir(parents=True)
    disk = SmallDisk(user_folder, size_mib=4)
    yield disk
    disk.unmount()


@needs_loop_disk
def test_a_mounted_stick_inside_a_user_folder_is_offered_as_removable(stick, tmp_path):
    mounted = tmp_path / "media" / "kiosk" / "disk"
    targets = export_targets(tmp_path / "media")
    assert [(t.path, t.removable) for t in targets] == [(str(mounted), True), (str(tmp_path / "media"), False)]


@needs_loop_disk
def test_a_full_stick_is_refused_naming_it_and_its_free_space_and_nothing_is_written(stick, log_dir):
    fill(stick.mount_point, leave_bytes=100 * 1024)
    before = sorted(p.name for p in stick.mount_point.iterdir())

    with pytest.raises(ExportFailed) as failed:
        export_logs(log_dir, stick.mount_point, "T0001", now=NOW)

    assert failed.value.key == "maint.ops.export.no_space"
    values = failed.value.values
    assert values["target"] == str(stick.mount_point)
    assert values["free"] == human_size(free_bytes(stick.mount_point))
    assert values["needed"] == human_size(sum(p.stat().st_size for p in log_files(log_dir)))
    assert sorted(p.name for p in stick.mount_point.iterdir()) == before


@needs_loop_disk
def test_a_read_only_stick_is_refused_by_name(stick, log_dir):
    subprocess.run(["mount", "-o", "remount,ro", str(stick.mount_point)], check=True)
    with pytest.raises(ExportFailed) as failed:
        export_logs(log_dir, stick.mount_point, "T0001", now=NOW)
    assert failed.value.key == "maint.ops.export.read_only"
    assert failed.value.values == {"target": str(stick.mount_point)}
    assert not os.access(stick.mount_point, os.W_OK)


@needs_loop_disk
def test_a_stick_with_room_gets_the_logs(stick, log_dir):
    assert 2 * MIB < free_bytes(stick.mount_point)
    result = export_logs(log_dir, stick.mount_point, "T0001", now=NOW)
    assert Path(result.folder).parent == stick.mount_point
    assert exported(Path(result.folder)) == {p.name: p.read_bytes() for p in log_files(log_dir)}
