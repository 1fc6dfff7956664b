"""What the kiosk writes is readable by the kiosk's user only (finding 10).

The money journal, its backups, the key, the device archive and the log hold
payments and personal data; a kiosk started with a careless umask (022, the
usual default) must still leave them 0600 in 0700 directories.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.logging_setup import configure_logging

ROOT = Path(__file__).resolve().parents[1]
CARELESS_UMASK = 0o022
START_DEADLINE_S = 20.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def closed_loopback_port() -> int:
    """A port nothing listens on: the printer driver's connection is refused, a fault
    the device monitor writes to the maintenance archive (devices.sqlite)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_files(root: Path, patterns: tuple[str, ...], process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while not all(any(root.glob(pattern)) for pattern in patterns):
        if process.poll() is not None:
            raise AssertionError(f"the kiosk exited with {process.returncode}: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            missing = [pattern for pattern in patterns if not any(root.glob(pattern))]
            raise AssertionError(f"after {START_DEADLINE_S} s still missing: {missing}")
        time.sleep(0.1)


@pytest.fixture
def running_kiosk(tmp_path):
    """`kiosk run` in an empty working directory, started with umask 022, stopped by SIGTERM."""
    config = tmp_path / "config.toml"
    config.write_text(f'[devices]\nprinter = "tcp://127.0.0.1:{closed_loopback_port()}"\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--config", str(config)], cwd=tmp_path,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: os.umask(CARELESS_UMASK),
    )
    try:
        yield tmp_path, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        process.stderr.close()


def test_journal_backups_key_archive_and_log_are_the_kiosk_users_alone(running_kiosk):
    root, process = running_kiosk
    expected = ("var/data/journal.sqlite", "var/data/journal.key", "var/data/devices.sqlite",
                "var/backup/journal-*.sqlite", "var/log/kiosk.log")
    wait_for_files(root, expected, process)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)

    written = sorted(path for path in (root / "var").rglob("*"))
    files = {str(p.relative_to(root)): oct(mode(p)) for p in written if p.is_file()}
    directories = {str(p.relative_to(root)): oct(mode(p)) for p in [root / "var", *written] if p.is_dir()}
    assert files and all(value == oct(0o600) for value in files.values()), files
    assert all(int(value, 8) & 0o077 == 0 for value in directories.values()), directories


@pytest.fixture
def careless_umask():
    previous = os.umask(CARELESS_UMASK)
    yield
    os.umask(previous)


@pytest.fixture
def kiosk_logger():
    yield logging.getLogger("kiosk.test.modes")
    root = logging.getLogger("kiosk")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


def test_rotated_log_files_are_created_0600_whatever_the_umask(tmp_path, careless_umask, kiosk_logger):
    log_file = configure_logging(tmp_path / "log", "INFO", max_bytes=2_000, backups=3, stderr=False)
    for number in range(200):
        kiosk_logger.info("note stacked", extra={"denomination_fen": 10_000, "number": number})

    written = sorted((tmp_path / "log").iterdir())
    assert [p.name for p in written] == ["kiosk.log", "kiosk.log.1", "kiosk.log.2", "kiosk.log.3"]
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(0o600) for p in written}
    assert mode(log_file.parent) & 0o077 == 0


def test_a_log_left_world_readable_by_an_older_kiosk_is_made_private(tmp_path, careless_umask, kiosk_logger):
    directory = tmp_path / "log"
    directory.mkdir()
    for name in ("kiosk.log", "kiosk.log.1"):
        (directory / name).write_text('{"msg": "an older kiosk"}\n')
        (directory / name).chmod(0o644)

    configure_logging(directory, "INFO", stderr=False)
    kiosk_logger.info("started")

    assert {p.name: oct(mode(p)) for p in directory.iterdir()} == {"kiosk.log": oct(0o600), "kiosk.log.1": oct(0o600)}
    assert "an older kiosk" in (directory / "kiosk.log").read_text()  # appended to, not replaced
