"""The kiosk with a billing system that hangs (tests/backend/hostile_server.py).

A heartbeat that never completes counts as a failed one, so the out-of-order
sign goes up once the grace period is over; and systemd's SIGTERM ends the
kiosk within 5 s even while a call to the backend hangs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from backend.hostile_server import HostileServer, reply_json, trickle_head

from app.assembly import build_kiosk
from harness import ManualClock, close_kiosk, kiosk_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
AUTH_PATH = "/api/v1/terminals/auth"
TOKEN = {"token": "hostile-token", "expires_in_s": 3600}
SERVER_TIME = {"server_time": "2026-11-23T10:15:02+08:00"}


def test_a_heartbeat_that_hangs_past_the_deadline_counts_as_failed(qapp, tmp_path):
    grace_s = 20.0
    with HostileServer() as backend:
        backend.on(AUTH_PATH, reply_json(TOKEN))
        config = kiosk_config(tmp_path, devices="none")
        config = replace(config, backend=replace(config.backend, startup_grace_s=grace_s, read_timeout_s=10.0,
                                                 retries=0, call_deadline_s=1.0))
        heartbeat_path = f"/api/v1/terminals/{config.terminal.id}/heartbeat"
        backend.on(heartbeat_path, reply_json(SERVER_TIME))
        clock = ManualClock()
        whole = build_kiosk(config, backend_url=backend.url, clock=clock)
        kiosk = whole.controller
        try:
            whole.start()
            wait_until(lambda: kiosk.availability.ever_up, timeout_s=10, what="the first heartbeat")
            # From now on every heartbeat gets its headers a byte a second: no
            # read timeout ever trips, only the call's deadline can end it.
            backend.on(heartbeat_path, trickle_head(interval_s=1.0))
            kiosk.heartbeat()

            def out_of_order_once_grace_is_over() -> bool:
                clock.advance(grace_s)  # changes nothing until a failure has been recorded
                return not kiosk.service_level().in_service

            wait_until(out_of_order_once_grace_is_over, timeout_s=4, what="the hanging heartbeat to count as failed")
            level = kiosk.service_level()
            assert level.reason_code == "E-NET-01" and level.detail.startswith("TIMEOUT")
            kiosk.render()
            assert kiosk.window.showing_out_of_order
        finally:
            close_kiosk(whole)


def _config_file(folder: Path, backend_url: str) -> Path:
    """The shipped config.toml on a hostile backend, with no devices and files in ``folder``."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    settings = {
        "url": f'"{backend_url}"', "call_deadline_s": "60.0", "startup_grace_s": "600",
        "acceptor": '"none"', "printer": '"none"', "card_reader": '"none"',
        "data_dir": f'"{folder / "data"}"', "key_file": f'"{folder / "data" / "journal.key"}"',
        "backup_dir": f'"{folder / "backup"}"', "dir": f'"{folder / "log"}"',
    }
    for key, value in settings.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert found, f"config.toml has no {key}"
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# KioskApp.stop() closes the backend clients first, which ends a call in flight
# at once, then waits for the worker pool.
def test_sigterm_ends_the_kiosk_within_5_s_while_a_heartbeat_hangs(tmp_path):
    with HostileServer() as backend:
        backend.on(AUTH_PATH, reply_json(TOKEN))
        backend.on("/api/v1/terminals/KS-0001/heartbeat", trickle_head(interval_s=1.0))
        config = _config_file(tmp_path, backend.url)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        kiosk = subprocess.Popen([sys.executable, "-m", "app.cli", "run", "--config", str(config)], cwd=ROOT,
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            asked_by = time.monotonic() + 20
            while not backend.requests_to("/api/v1/terminals/KS-0001/heartbeat"):
                assert kiosk.poll() is None, kiosk.stderr.read()
                assert time.monotonic() < asked_by, "the kiosk sent no heartbeat within 20 s"
                time.sleep(0.05)
            time.sleep(0.5)  # the heartbeat is now hanging in its headers
            sent = time.monotonic()
            kiosk.send_signal(signal.SIGTERM)
            kiosk.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.wait(timeout=5)
        print(f"\nFIGURE SIGTERM with a hanging heartbeat: the kiosk exited {took:.2f} s later, code {kiosk.returncode}")
        assert took < 5.0, f"the kiosk took {took:.1f} s to stop"
