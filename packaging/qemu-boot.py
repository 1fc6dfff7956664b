"""Boot the kiosk's disk image in QEMU, headless, and prove the kiosk reaches its home screen.

    python packaging/qemu-boot.py --image build/image/utility-kiosk.img \
        --screenshot docs/screenshots/qemu-home.png [--accel tcg|kvm] [--firmware bios|uefi] \
        [--devices emulator|field] [--stop-drill]

The image itself is not changed: QEMU writes to a qcow2 overlay beside it.
A QEMU guest has none of the terminal's devices, and with no device working
the kiosk shows its out-of-order sign, so by default (``--devices emulator``)
the overlay sits on a temporary copy of the image whose EFI drop folder holds
``utility-kiosk/config.toml``: the image's config.example.toml with the
devices emulated in the kiosk, taken in at boot as an installer's would be.
Every few seconds the QEMU monitor's ``screendump`` takes the guest's screen;
the home screen is recognised by its colours (the page background and the
header blue of assets/kiosk.qss covering most of the screen).  Once it is up
the screen is watched for a while longer, since a kiosk that the watchdog
kills would drop back to black.  Then the guest is powered off, and the
kiosk's lines from the guest's own journal (read from the overlay) are
printed: ``Started utility-kiosk.service`` comes only after READY=1.

With ``--stop-drill`` (root) it then checks stopping and restarting under the
booted systemd: it boots a temporary copy of the image with one extra unit
(kiosk-qemu-drill.service, in the copy only, never in the built image) that
reads a fixed set of words from the serial port -- restart, stop, start,
status, and no-execstop/execstop, which take the unit's ExecStop= away and back
in a runtime drop-in for a baseline -- runs the matching ``systemctl``
command and writes the unit's state back.  No shell is offered on the port.
The home screen must come back after the restart and the start; the stop
results come from systemd's own ``Result=``/``ExecMainStatus=`` and the journal.

Needs qemu-system-x86, qemu-utils and PySide6 (for PPM to PNG); the journal
read-out needs root (loop device) and is skipped otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script (the dash in its name): its helper modules sit beside it, on sys.path[0].
from qemu_drill import DrillPort, drill_passed, stop_drill
from qemu_image import journal_lines, make_test_copy
from qemu_machine import Monitor, power_off, qemu_command
from qemu_screen import watch_screen


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="kiosk-qemu-", dir=args.image.parent) as tmp:
        workdir = Path(tmp).resolve()  # qemu-img resolves a relative backing file from the overlay
        overlay = make_overlay(args, workdir)
        figures = boot_and_watch(args, workdir, overlay)
        # The guest's own account, whether or not the screen showed the kiosk.
        lines = journal_lines(overlay, workdir)
        print("qemu-boot: the guest's journal (monotonic seconds since the kernel started):")
        for line in lines:
            print("   ", line)
        figures["journal"] = lines
        if args.report:
            args.report.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    ok = "boot_to_home_screen_s" in figures and "lost" not in figures
    if args.stop_drill:
        ok = ok and drill_passed(figures.get("drill"), lines)
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, type=Path)
    parser.add_argument("--screenshot", required=True, type=Path, help="PNG of the home screen")
    parser.add_argument("--accel", choices=("tcg", "kvm"), default="tcg",
                        help="tcg: software emulation, as on a build machine without KVM (default)")
    parser.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    parser.add_argument("--memory", type=int, default=2048, help="MiB (default 2048)")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to reach the home screen")
    parser.add_argument("--watch", type=float, default=45,
                        help="seconds the home screen must then stay up (default 45: three WatchdogSec=15s)")
    parser.add_argument("--report", type=Path, help="write the figures as JSON here")
    parser.add_argument("--devices", choices=("emulator", "field"), default="emulator",
                        help="emulator (default): boot a copy whose EFI drop folder holds a config.toml with "
                             "emulated devices (root); field: the image as built, which without devices shows "
                             "the out-of-order sign, not the home screen")
    parser.add_argument("--stop-drill", action="store_true",
                        help="then restart/stop/start the kiosk under the guest's systemd (root; boots a test copy)")
    parser.add_argument("--drill-screens", type=Path, help="save the drill's screendumps (PNG) in this folder")
    args = parser.parse_args()
    if (args.stop_drill or args.devices == "emulator") and os.geteuid() != 0:
        parser.error("--devices emulator and --stop-drill need root (they change a copy of the image); "
                     "use --devices field")
    return args


def make_overlay(args: argparse.Namespace, workdir: Path) -> Path:
    """The qcow2 overlay QEMU writes to, over the image or over its test copy."""
    overlay = workdir / "overlay.qcow2"
    base = args.image.resolve()
    if args.stop_drill or args.devices == "emulator":
        began = time.monotonic()
        base = make_test_copy(base, workdir, args.devices, args.stop_drill)
        print(f"qemu-boot: test copy ({args.devices} devices{', drill' if args.stop_drill else ''}) "
              f"made in {time.monotonic() - began:.1f} s", flush=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base),
                    str(overlay)], check=True)
    return overlay


def boot_and_watch(args: argparse.Namespace, workdir: Path, overlay: Path) -> dict[str, object]:
    """Boot the overlay, watch for the home screen (then the drill), power off: the figures."""
    monitor_path = workdir / "monitor.sock"
    serial_path = workdir / "ttyS0.sock" if args.stop_drill else None
    command = qemu_command(overlay, monitor_path, args.accel, args.firmware, workdir, args.memory, args.cpus,
                           serial_path)
    print("qemu-boot:", " ".join(command), flush=True)
    started = time.monotonic()
    qemu = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    figures: dict[str, object] = {"accel": args.accel, "firmware": args.firmware, "cpus": args.cpus,
                                  "memory_mib": args.memory, "devices": args.devices}
    monitor = None
    try:
        monitor = Monitor(monitor_path, qemu)
        port = DrillPort(serial_path) if serial_path else None
        figures.update(watch_screen(qemu, monitor, workdir / "screen.ppm", started, args))
        if port is not None and "boot_to_home_screen_s" in figures and "lost" not in figures:
            figures["drill"] = stop_drill(port, monitor, workdir / "screen.ppm", args.drill_screens)
    finally:
        power_off(qemu, monitor)
        if serial_path is not None and Path(f"{serial_path}.log").exists():
            figures["serial"] = Path(f"{serial_path}.log").read_text(errors="replace").splitlines()
    return figures


if __name__ == "__main__":
    sys.exit(main())
