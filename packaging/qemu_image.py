"""The disk image for packaging/qemu-boot.py: the changed test copy, and the guest's journal read back.

Its own module because this is the part that needs root: loop devices over the
raw image, its EFI partition (mtools) and its root file system mounted.  The
image as built is never changed; only a temporary copy, or the QEMU overlay.
"""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qemu_drill import install_drill


@contextmanager
def loop_device(raw: Path, readonly: bool) -> Iterator[str]:
    """A loop device over a raw disk image, its partitions scanned (needs root)."""
    loop = subprocess.run(["losetup", "--show", "--find", "--partscan"] + (["--read-only"] if readonly else [])
                          + [str(raw)], check=True, capture_output=True, text=True).stdout.strip()
    try:
        subprocess.run(["partx", "--add", loop], capture_output=True)
        for _ in range(50):
            if Path(f"{loop}p3").exists():
                break
            time.sleep(0.1)
        yield loop
    finally:
        subprocess.run(["losetup", "-d", loop], timeout=60)


@contextmanager
def mounted_root(loop: str, mnt: Path, readonly: bool) -> Iterator[Path]:
    """The image's root file system (partition 3 of ``loop``) mounted at ``mnt``."""
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "ro,noload" if readonly else "rw", f"{loop}p3", str(mnt)],
                   check=True, timeout=60)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], timeout=60)


def journal_lines(overlay: Path, workdir: Path) -> list[str]:
    """The kiosk's lines from the guest's journal on the overlay (needs root for a loop device)."""
    if os.geteuid() != 0:
        return ["(journal not read: needs root)"]
    raw = workdir / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(overlay), str(raw)], check=True, timeout=600)
    with loop_device(raw, readonly=True) as loop, mounted_root(loop, workdir / "root", readonly=True) as mnt:
        out = subprocess.run(
            ["journalctl", "--directory", str(mnt / "var/log/journal"), "-b", "-o", "short-monotonic",
             "--no-pager", "--no-hostname"], capture_output=True, text=True, timeout=120).stdout
    raw.unlink()
    keep = ("utility-kiosk", "kiosk-session", "home screen up", "Startup finished", "cage", "kiosk.",
            "dumped core", "Shutting down", "Power-Off", "import-config")
    return [line for line in out.splitlines() if any(word in line for word in keep)]


# The three lines of the packaged configuration (packaging/deb/field-config.py)
# that name the terminal's real devices, and what --devices emulator puts there.
FIELD_DEVICES = (('acceptor = "/dev/kiosk-acceptor"', 'acceptor = "emulator"'),
                 ('printer = "/dev/kiosk-printer"', 'printer = "emulator"'),
                 ('card_reader = "pcsc"', 'card_reader = "emulator"'))


def emulator_config(example: str) -> str:
    """The image's config.example.toml with the devices emulated in the kiosk."""
    lines = example.splitlines()
    for old, new in FIELD_DEVICES:
        where = [i for i, line in enumerate(lines) if line.strip() == old]
        if len(where) != 1:
            raise SystemExit(f"qemu-boot: expected {old!r} once in the image's config.example.toml")
        lines[where[0]] = new
    return "\n".join(lines) + "\n"


def make_test_copy(image: Path, workdir: Path, devices: str, drill: bool) -> Path:
    """A sparse copy of the image, changed as the options ask; the image itself stays as built.

    --devices emulator: a QEMU guest has no acceptor, printer or card reader, and
    with none working the kiosk rightly shows its out-of-order sign (E-ACC-PORT_GONE)
    a few seconds after the home screen.  So the copy gets, as an installer would,
    utility-kiosk/config.toml on its EFI partition: the image's config.example.toml
    with the devices emulated in the kiosk; utility-kiosk-import-config.service
    checks it and takes it in at boot.
    --stop-drill: the drill's unit and script (qemu_drill.install_drill)."""
    copy = workdir / "test-copy.img"
    subprocess.run(["cp", "--sparse=always", str(image), str(copy)], check=True, timeout=600)
    with loop_device(copy, readonly=False) as loop:
        if devices == "emulator":
            env = dict(os.environ, MTOOLS_SKIP_CHECK="1")  # a loop device has no geometry
            example = subprocess.run(["mtype", "-i", f"{loop}p2", "::/utility-kiosk/config.example.toml"],
                                     check=True, capture_output=True, text=True, env=env).stdout
            config = workdir / "config.toml"
            config.write_text(emulator_config(example), encoding="utf-8")
            subprocess.run(["mcopy", "-o", "-i", f"{loop}p2", str(config), "::/utility-kiosk/config.toml"],
                           check=True, capture_output=True, env=env)
        if drill:
            with mounted_root(loop, workdir / "drill-root", readonly=False) as mnt:
                install_drill(mnt)
    return copy
