"""What stops `kiosk run` at start is said in one line, and check-config says it first (finding 11).

Before the window: a problem with what run needs on disk (a directory under a
regular file, a path with a NUL byte, a directory the kiosk cannot write in)
is found by ``kiosk check-config`` and refuses ``kiosk run`` with the same
lines and nothing created.  After the window is up (the log file cannot be
opened): the out-of-order sign with a reason code, one line on stderr, never
a traceback or a half-started home screen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def kiosk(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))


def kiosk_lines(stderr: str) -> list[str]:
    """Our own lines on stderr (Qt's offscreen plugin adds warnings of its own)."""
    return [line for line in stderr.splitlines() if line.startswith("kiosk:")]


@pytest.fixture
def unwritable_dir(tmp_path) -> Path:
    """A directory the test's user cannot create anything in: mode 0555, or for root
    (who ignores modes, as CI runs) the immutable flag."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o555)
        yield locked
        locked.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(locked)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("as root every directory is writable, and chattr +i is refused here "
                    "(no chattr, no CAP_LINUX_IMMUTABLE, or a file system without the flag)")
    try:
        yield locked
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)


# --------------------------------------------------------------------------- found before the window


REFUSED_BEFORE_THE_WINDOW = {
    "log directory under a regular file": (
        '[logging]\ndir = "afile/log"\n',
        'logging.dir: "afile/log" cannot be created (looked for {cwd}/afile/log): {cwd}/afile is a file, '
        "not a directory — move that file away, or set logging.dir to another directory",
    ),
    "NUL byte in the data directory": (
        '[storage]\ndata_dir = "var/da\\u0000ta"\n',
        'storage.data_dir: "var/da\\u0000ta" contains a NUL byte at character 7 — a path cannot hold one; '
        "retype the path with printable characters only",
    ),
    "key file's directory under a regular file": (
        '[storage]\nkey_file = "afile/journal.key"\n',
        'storage.key_file: "afile/journal.key" cannot be created: its directory "afile" is a file, not a '
        "directory (looked for {cwd}/afile) — move that file away, or set storage.key_file to a path in "
        "another directory",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_BEFORE_THE_WINDOW))
def test_check_config_finds_what_would_stop_run_and_run_refuses_with_the_same_line(tmp_path, case):
    text, problem = REFUSED_BEFORE_THE_WINDOW[case]
    (tmp_path / "afile").write_text("a regular file where a directory should be")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    expected = "config.toml: " + problem.format(cwd=tmp_path)

    checked = kiosk(tmp_path, "check-config", "config.toml")
    ran = kiosk(tmp_path, "run", "--exit-when-ready", "--config", "config.toml")

    assert checked.returncode == 1 and expected in checked.stderr.splitlines(), checked.stderr
    assert ran.returncode == 1, ran.stderr
    assert expected in ran.stderr.splitlines()
    assert ran.stderr.splitlines()[-1].startswith("kiosk: not started — fix what is listed above")
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "var").exists(), "run created files before refusing"


def test_a_data_directory_the_kiosk_cannot_write_in_is_found_by_check_config_and_refuses_run(tmp_path,
                                                                                            unwritable_dir):
    (tmp_path / "config.toml").write_text(f'[storage]\ndata_dir = "{unwritable_dir}/data"\n', encoding="utf-8")

    checked = kiosk(tmp_path, "check-config", "config.toml")
    ran = kiosk(tmp_path, "run", "--exit-when-ready", "--config", "config.toml")

    prefix = (f'config.toml: storage.data_dir: "{unwritable_dir}/data" cannot be created: '
              f"the kiosk's user cannot write in {unwritable_dir}")
    assert checked.returncode == 1 and checked.stderr.startswith(prefix), checked.stderr
    assert ran.returncode == 1 and ran.stderr.startswith(prefix), ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.fixture
def as_unprivileged_user():
    """How to run check-config as a user file modes apply to: this one, or for root the
    user nobody with the system's Python (the project's venv lives under /root)."""
    if os.geteuid() != 0:
        return {"python": sys.executable, "user": None}
    python = shutil.which("python3", path="/usr/bin:/bin")
    version = python and subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                                        capture_output=True, text=True, timeout=30).stdout.strip()
    if version != "True":
        pytest.skip("running as root without a system Python 3.11 that the user nobody may run")
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root, and there is no user nobody to check file modes with")
    return {"python": python, "user": "nobody"}


def test_check_config_as_an_unprivileged_user_names_the_directory_it_cannot_write_and_the_file_it_cannot_read(
        as_unprivileged_user):
    place = Path(tempfile.mkdtemp(prefix="kiosk-modes-"))  # not under pytest's 0700 tmp: nobody must reach it
    try:
        place.chmod(0o777)  # the user may create the key, backup and log beside the locked directory
        locked = place / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        ca_file = place / "ca.pem"
        ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
        ca_file.chmod(0o000 if as_unprivileged_user["user"] is None else 0o600)
        config = place / "config.toml"
        config.write_text(f'[backend]\nurl = "https://billing.example"\nca_file = "{ca_file}"\n'
                          f'[storage]\ndata_dir = "{locked}/data"\nkey_file = "{place}/journal.key"\n'
                          f'backup_dir = "{place}/backup"\n[logging]\ndir = "{place}/log"\n', encoding="utf-8")
        config.chmod(0o644)

        checked = subprocess.run([as_unprivileged_user["python"], "-m", "app.cli", "check-config", str(config)],
                                 capture_output=True, text=True, timeout=60, cwd=place,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT)), user=as_unprivileged_user["user"])
    finally:
        for path in (place / "ca.pem", place / "locked"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(place)

    lines = checked.stderr.splitlines()
    assert checked.returncode == 1, checked.stderr
    assert lines[0].startswith(f'{config}: backend.ca_file: "{ca_file}" is not readable by the kiosk\'s user (owner ')
    assert lines[1].startswith(f'{config}: storage.data_dir: "{locked}/data" cannot be created: the kiosk\'s '
                               f"user cannot write in {locked}: owner ")
    assert lines[1].endswith(f"— create it in {locked} with the kiosk's user as its owner, or set "
                             "storage.data_dir to another directory")
    assert len(lines) == 3 and "2 problems" in lines[2]


# --------------------------------------------------------------------------- after the window is up


def test_a_log_that_cannot_be_opened_puts_up_the_sign_and_says_why_in_one_line(tmp_path):
    (tmp_path / "var" / "log" / "kiosk.log").mkdir(parents=True)  # passes the checks; open() fails

    ran = kiosk(tmp_path, "run", "--exit-when-ready")

    assert ran.returncode == 4, (ran.stdout, ran.stderr)
    assert ran.stdout.strip() == "kiosk out of service: E-SYS-LOG on the out-of-order sign"
    assert kiosk_lines(ran.stderr) == [
        "kiosk: out of service — cannot open the log var/log/kiosk.log: Is a directory — make "
        "var/log/kiosk.log a file the kiosk's user can write (or set logging.dir in a config.toml given "
        "with --config), then restart the kiosk"
    ]
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "var" / "data" / "journal.sqlite").exists(), "a kiosk that did not start opened the journal"


@pytest.fixture
def sim():
    from kiosk.backend.simulator import BackendSimulator

    with BackendSimulator(port=0) as simulator:
        yield simulator


def test_the_sign_of_a_failed_start_stays_up_when_the_backend_answers_and_the_kiosk_renders(qapp, sim, tmp_path):
    from app.assembly import build_kiosk
    from app.runtime import REASON_LOG_UNAVAILABLE, StartFailure, show_start_failure
    from harness import close_kiosk, kiosk_config, wait_until

    whole = build_kiosk(kiosk_config(tmp_path, devices="none"), backend_url=sim.url)
    app = whole.controller
    app.window.resize(1280, 800)
    app.window.show()
    try:
        show_start_failure(app, StartFailure(REASON_LOG_UNAVAILABLE, "cannot open the log"))
        whole.start()  # a heartbeat that succeeds renders the home screen in a kiosk that started
        wait_until(lambda: app.availability.ever_up, what="the first heartbeat")
        app.render()

        assert app.window.showing_out_of_order
        assert REASON_LOG_UNAVAILABLE in app.window.out_of_order.code.text()
    finally:
        close_kiosk(whole)
