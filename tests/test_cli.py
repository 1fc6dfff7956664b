"""The `kiosk` command as an installer or a developer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def kiosk(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=env or dict(os.environ))


def test_check_config_passes_the_shipped_file():
    result = kiosk("check-config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_check_config_names_the_misspelled_key_and_the_right_one(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[backend]\ntimout = 5\n[idle]\ncountdown_s = "20"\n', encoding="utf-8")
    result = kiosk("check-config", str(bad))
    assert result.returncode == 1
    assert f"{bad}: backend.timout: unknown key — did you mean backend.connect_timeout_s" in result.stderr
    assert 'idle.countdown_s: expected a number, got "20"' in result.stderr
    assert "2 problems" in result.stderr


def test_run_refuses_to_start_on_a_bad_config_and_says_why(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[idle]\nprompt_after_s = 5\n", encoding="utf-8")
    result = kiosk("run", "--config", str(bad))
    assert result.returncode == 1
    assert "idle.prompt_after_s: 5 is out of range" in result.stderr
    assert "not started" in result.stderr


def test_without_a_display_the_demo_says_so_in_one_line_and_points_to_the_tour(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = kiosk("demo", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no display" in result.stderr and "make tour" in result.stderr


def test_the_kiosk_starts_to_its_home_screen_headless_and_exits_when_asked(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = kiosk("run", "--exit-when-ready", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kiosk ready")
    assert (tmp_path / "var" / "log" / "kiosk.log").exists()
