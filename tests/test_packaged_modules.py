"""Every package of the project's code is in the wheel (and so in the .deb): pyproject.toml lists them one by one."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("app", "contract", "kiosk", "screens", "drivers", "offline_store")


def test_every_package_with_code_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(init.parent.relative_to(ROOT).parts)
                for top in TOP_LEVEL for init in (ROOT / top).rglob("__init__.py")}
    # A package left out installs without it, and the terminal fails at its first import (a .deb test found one).
    assert packages - listed == set()
