"""The real kiosk, started as systemd would start it, tells a socket the test binds
that it is ready and alive, and falls silent when its GUI thread is blocked.

The process is ``kiosk run`` offscreen with a throw-away configuration; the
GUI thread is blocked through the watchdog drill (SIGUSR2 with
``KIOSK_WATCHDOG_DRILL_FREEZE_S`` set), the same way a technician checks a
terminal.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WATCHDOG_USEC = 1_000_000  # WatchdogSec=1s: pings every 0.5 s
FREEZE_S = 3.0
START_TIMEOUT_S = 60.0


class NotifyListener:
    """A datagram socket bound where $NOTIFY_SOCKET points, recording (time, message)."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.messages: list[tuple[float, str]] = []

    def wait_for(self, message: str, timeout_s: float, process: subprocess.Popen | None = None) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"kiosk exited with {process.returncode} before sending {message!r}; "
                                     f"received so far: {self.texts()}\n{_output(process)}")
            for at, text in self.collect(min(0.2, max(0.0, deadline - time.monotonic()))):
                if message in text.split("\n"):
                    return at
        raise AssertionError(f"no {message!r} within {timeout_s:.0f} s; received: {self.texts()}")

    def collect(self, duration_s: float) -> list[tuple[float, str]]:
        got = []
        end = time.monotonic() + duration_s
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            got.append((time.monotonic(), data.decode()))
        self.messages.extend(got)
        return got

    def texts(self) -> list[str]:
        return [text for _at, text in self.messages]

    def close(self) -> None:
        self.sock.close()


def _output(process: subprocess.Popen) -> str:
    if process.poll() is None:
        return ""
    out, _ = process.communicate(timeout=5)
    return f"kiosk output:\n{out[-3000:]}"


def _start_kiosk(tmp_path: Path, notify_socket: str, **env: str) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config.write_text(f'[logging]\ndir = "{tmp_path / "log"}"\n', encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHDOG_", "NOTIFY_"))}
    environ.update(QT_QPA_PLATFORM="offscreen", NOTIFY_SOCKET=notify_socket, **env)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--config", str(config)],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture
def socket_dir():
    # AF_UNIX paths are limited to 108 bytes: pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="kiosk-notify-") as directory:
        yield Path(directory)


@pytest.fixture
def kiosk_processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_kiosk_is_ready_then_pings_and_falls_silent_while_its_gui_thread_is_blocked(
    tmp_path, socket_dir, kiosk_processes
):
    address = str(socket_dir / "notify")
    listener = NotifyListener(address)
    try:
        kiosk = _start_kiosk(tmp_path, address, WATCHDOG_USEC=str(WATCHDOG_USEC),
                             KIOSK_WATCHDOG_DRILL_FREEZE_S=str(FREEZE_S))
        kiosk_processes.append(kiosk)
        ready_at = listener.wait_for("READY=1", START_TIMEOUT_S, kiosk)

        pings = [at for at, text in listener.collect(3.0) if text == "WATCHDOG=1"]
        assert len(pings) >= 4, f"expected a WATCHDOG=1 every 0.5 s after READY=1, got {listener.texts()}"
        gaps = [b - a for a, b in zip([ready_at, *pings], pings)]
        assert max(gaps) < 1.0, f"pings must come well inside WatchdogSec=1s; gaps were {gaps}"

        kiosk.send_signal(signal.SIGUSR2)  # the drill: the GUI thread sleeps FREEZE_S
        frozen_at = time.monotonic()
        # The handler runs within the runtime's 200 ms signal tick; give it 0.5 s,
        # then the GUI thread is asleep and nothing may arrive until it wakes.
        listener.collect(0.5)
        during = [text for _at, text in listener.collect(FREEZE_S - 1.0)]
        assert during == [], f"WATCHDOG=1 kept coming while the GUI thread was blocked: {during}"
        assert kiosk.poll() is None, "the drill must freeze the kiosk, not end it"

        resumed_at = listener.wait_for("WATCHDOG=1", FREEZE_S + 5.0, kiosk)
        assert resumed_at - frozen_at >= FREEZE_S - 0.5, "pings resumed before the freeze could have ended"

        kiosk.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1", 10.0)
        assert kiosk.wait(timeout=20) == 0, _output(kiosk)
    finally:
        listener.close()


def test_kiosk_reports_ready_on_an_abstract_socket_and_leaves_the_watchdog_to_watchdog_pid(
    tmp_path, kiosk_processes
):
    name = f"@utility-kiosk-test-{uuid.uuid4().hex}"
    listener = NotifyListener(b"\0" + name[1:].encode())
    try:
        # WATCHDOG_PID names another process (as under the compositor without
        # the session script): the kiosk reports READY=1 but must not ping.
        kiosk = _start_kiosk(tmp_path, name, WATCHDOG_USEC=str(WATCHDOG_USEC), WATCHDOG_PID="1")
        kiosk_processes.append(kiosk)
        listener.wait_for("READY=1", START_TIMEOUT_S, kiosk)
        assert "WATCHDOG=1" not in [text for _at, text in listener.collect(1.5)]
        kiosk.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1", 10.0)
        assert kiosk.wait(timeout=20) == 0, _output(kiosk)
    finally:
        listener.close()
