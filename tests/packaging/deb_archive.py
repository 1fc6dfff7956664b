"""Reading and re-versioning a built .deb with dpkg-deb."""

from __future__ import annotations

import shutil
from pathlib import Path

from debian_root import run_host


def control_field(deb: Path, field: str) -> str:
    return run_host(["dpkg-deb", "--field", str(deb), field], f"dpkg-deb --field {field}", 60).stdout.strip()


def repack_with_version(deb: Path, version: str, out_dir: Path) -> Path:
    """The same package under a newer version, as the next release would arrive."""
    tree = out_dir / "tree"
    run_host(["dpkg-deb", "--raw-extract", str(deb), str(tree)], "dpkg-deb --raw-extract", 300)
    control = tree / "DEBIAN" / "control"
    lines = [f"Version: {version}" if line.startswith("Version:") else line
             for line in control.read_text().splitlines()]
    control.write_text("\n".join(lines) + "\n")
    newer = out_dir / f"utility-kiosk_{version}_amd64.deb"
    run_host(["dpkg-deb", "--root-owner-group", "-Znone", "--build", str(tree), str(newer)],
             "dpkg-deb --build (newer version)", 300)
    shutil.rmtree(tree)
    return newer
