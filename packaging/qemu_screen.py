"""The guest's screen for packaging/qemu-boot.py: is the kiosk's home screen on it, and does it stay.

Its own module because the home screen is recognised from QEMU's screendumps
by colour alone (the page background and the header blue of assets/kiosk.qss),
with no help from the guest; the boot and the drill both ask it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from qemu_machine import Monitor

PAGE_BACKGROUND = (0xEE, 0xF2, 0xF6)  # QMainWindow, #kioskRoot
HEADER_BLUE = (0x0B, 0x53, 0x94)  # #header


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments are not written by QEMU
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit P6 PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def share_of(pixels: bytes, colour: tuple[int, int, int], step: int = 7, tolerance: int = 6) -> float:
    """Fraction of (sampled) pixels within ``tolerance`` of ``colour``."""
    total = hits = 0
    for offset in range(0, len(pixels) - 2, 3 * step):
        r, g, b = pixels[offset], pixels[offset + 1], pixels[offset + 2]
        total += 1
        if abs(r - colour[0]) <= tolerance and abs(g - colour[1]) <= tolerance and abs(b - colour[2]) <= tolerance:
            hits += 1
    return hits / total if total else 0.0


def looks_like_home(ppm: Path) -> tuple[bool, str]:
    width, height, pixels = read_ppm(ppm)
    top = pixels[: width * max(1, height // 20) * 3]
    page, header = share_of(pixels, PAGE_BACKGROUND), share_of(top, HEADER_BLUE)
    return page > 0.4 and header > 0.5, f"{width}x{height} page {page:.0%} header {header:.0%}"


def to_png(ppm: Path, png: Path) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(ppm))
    png.parent.mkdir(parents=True, exist_ok=True)  # also for the -lost/-timeout screens
    if image.isNull() or not image.save(str(png)):
        raise RuntimeError(f"could not convert {ppm} to {png}")


def wait_home(monitor: Monitor, ppm: Path, timeout_s: float) -> float | None:
    """Seconds until the screen shows the home screen, or None."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        monitor.command(f"screendump {ppm}")
        if looks_like_home(ppm)[0]:
            return time.monotonic() - began
        time.sleep(1)
    return None


def watch_screen(qemu: subprocess.Popen, monitor: Monitor, ppm: Path, started: float,
                 args: argparse.Namespace) -> dict[str, object]:
    """Poll the screen until the home screen shows, then watch that it stays."""
    home_at = None
    while time.monotonic() - started < args.timeout:
        if qemu.poll() is not None:
            raise RuntimeError(f"QEMU exited with {qemu.returncode}: {qemu.stdout.read()}")
        monitor.command(f"screendump {ppm}")
        found, detail = looks_like_home(ppm)
        elapsed = time.monotonic() - started
        print(f"qemu-boot: {elapsed:6.1f} s  {detail}", flush=True)
        if found:
            home_at = elapsed
            break
        time.sleep(2)
    if home_at is None:
        failed = args.screenshot.with_name(args.screenshot.stem + "-timeout.png")
        to_png(ppm, failed)
        print(f"qemu-boot: no home screen within {args.timeout:.0f} s; the last screen is {failed}", file=sys.stderr)
        return {"timeout_s": args.timeout}
    print(f"qemu-boot: home screen after {home_at:.1f} s; watching it for {args.watch:.0f} s", flush=True)
    watch_end = time.monotonic() + args.watch
    while time.monotonic() < watch_end:
        time.sleep(3)
        monitor.command(f"screendump {ppm}")
        found, detail = looks_like_home(ppm)
        if not found:
            lost = args.screenshot.with_name(args.screenshot.stem + "-lost.png")
            to_png(ppm, lost)
            print(f"qemu-boot: the home screen went away ({detail}); that screen is {lost}", file=sys.stderr)
            return {"boot_to_home_screen_s": round(home_at, 1), "lost": True}
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    to_png(ppm, args.screenshot)
    print(f"qemu-boot: home screen still up after {args.watch:.0f} s; saved {args.screenshot}", flush=True)
    return {"boot_to_home_screen_s": round(home_at, 1), "watched_s": args.watch}
