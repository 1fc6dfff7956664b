"""Boot the kiosk's disk image in QEMU, headless, and prove the kiosk reaches its home screen.

    python packaging/qemu-boot.py --image build/image/utility-kiosk.img \
        --screenshot docs/screenshots/qemu-home.png [--accel tcg|kvm] [--firmware bios|uefi]

The image itself is not changed: QEMU writes to a qcow2 overlay beside it.
Every few seconds the QEMU monitor's ``screendump`` takes the guest's screen;
the home screen is recognised by its colours (the page background and the
header blue of assets/kiosk.qss covering most of the screen).  Once it is up
the screen is watched for a while longer, since a kiosk that the watchdog
kills would drop back to black.  Then the guest is powered off, and the
kiosk's lines from the guest's own journal (read from the overlay) are
printed: ``Started utility-kiosk.service`` comes only after READY=1.

Needs qemu-system-x86, qemu-utils and PySide6 (for PPM to PNG); the journal
read-out needs root (loop device) and is skipped otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE_BACKGROUND = (0xEE, 0xF2, 0xF6)  # QMainWindow, #kioskRoot
HEADER_BLUE = (0x0B, 0x53, 0x94)  # #header
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


class Monitor:
    """QEMU's human monitor on a Unix socket: one command, its echo read back."""

    def __init__(self, path: Path, qemu: subprocess.Popen, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if qemu.poll() is not None:
                    raise RuntimeError(f"QEMU exited with {qemu.returncode}: {qemu.stdout.read()}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(30)
        self._read_prompt()

    def _read_prompt(self) -> str:
        data = b""
        while not data.endswith(b"(qemu) "):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("QEMU closed its monitor")
            data += chunk
        return data.decode(errors="replace")

    def command(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        return self._read_prompt()


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
    if image.isNull() or not image.save(str(png)):
        raise RuntimeError(f"could not convert {ppm} to {png}")


def qemu_command(overlay: Path, monitor: Path, accel: str, firmware: str, workdir: Path,
                 memory_mib: int, cpus: int) -> list[str]:
    command = [
        "qemu-system-x86_64", "-machine", f"q35,accel={accel}", "-smp", str(cpus), "-m", str(memory_mib),
        "-drive", f"file={overlay},format=qcow2,if=virtio",
        # virtio-vga: wlroots needs a DRM driver with PRIME import, which std VGA (bochs) lacks;
        # 1920x1080 as on the terminals' screens.
        "-vga", "none", "-device", "virtio-vga,xres=1920,yres=1080",
        "-display", "none", "-nic", "none",  # the hall's network is not needed to reach home
        "-monitor", f"unix:{monitor},server=on,wait=off", "-serial", "null",
    ]
    if accel == "tcg":
        command += ["-cpu", "max"]
    else:
        command += ["-cpu", "host"]
    if firmware == "uefi":
        variables = workdir / "OVMF_VARS.fd"
        variables.write_bytes(OVMF_VARS.read_bytes())
        command += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={variables}"]
    return command


def journal_lines(overlay: Path, workdir: Path) -> list[str]:
    """The kiosk's lines from the guest's journal on the overlay (needs root for a loop device)."""
    if os.geteuid() != 0:
        return ["(journal not read: needs root)"]
    raw = workdir / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(overlay), str(raw)], check=True, timeout=600)
    loop = subprocess.run(["losetup", "--show", "--find", "--partscan", "--read-only", str(raw)],
                          check=True, capture_output=True, text=True).stdout.strip()
    mnt = workdir / "root"
    mnt.mkdir()
    try:
        subprocess.run(["partx", "--add", loop], capture_output=True)
        for _ in range(50):
            if Path(f"{loop}p3").exists():
                break
            time.sleep(0.1)
        subprocess.run(["mount", "-o", "ro,noload", f"{loop}p3", str(mnt)], check=True, timeout=60)
        try:
            out = subprocess.run(
                ["journalctl", "--directory", str(mnt / "var/log/journal"), "-b", "-o", "short-monotonic",
                 "--no-pager", "--no-hostname"], capture_output=True, text=True, timeout=120).stdout
        finally:
            subprocess.run(["umount", str(mnt)], timeout=60)
    finally:
        subprocess.run(["losetup", "-d", loop], timeout=60)
    keep = ("utility-kiosk", "kiosk-session", "home screen up", "Startup finished", "cage", "kiosk.")
    return [line for line in out.splitlines() if any(word in line for word in keep)]


def main() -> int:
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kiosk-qemu-", dir=args.image.parent) as tmp:
        workdir = Path(tmp)
        overlay = workdir / "overlay.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(args.image.resolve()),
                        str(overlay)], check=True)
        monitor_path = workdir / "monitor.sock"
        command = qemu_command(overlay, monitor_path, args.accel, args.firmware, workdir, args.memory, args.cpus)
        print("qemu-boot:", " ".join(command), flush=True)
        started = time.monotonic()
        qemu = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        figures: dict[str, object] = {"accel": args.accel, "firmware": args.firmware, "cpus": args.cpus,
                                      "memory_mib": args.memory}
        monitor = None
        try:
            monitor = Monitor(monitor_path, qemu)
            figures.update(watch_screen(qemu, monitor, workdir / "screen.ppm", started, args))
        finally:
            power_off(qemu, monitor)
        # The guest's own account, whether or not the screen showed the kiosk.
        lines = journal_lines(overlay, workdir)
        print("qemu-boot: the guest's journal (monotonic seconds since the kernel started):")
        for line in lines:
            print("   ", line)
        figures["journal"] = lines
        if args.report:
            args.report.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if "boot_to_home_screen_s" in figures and "lost" not in figures else 1


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


def power_off(qemu: subprocess.Popen, monitor: Monitor | None) -> None:
    """ACPI power button first, so the guest's journal is written out; then force."""
    if qemu.poll() is not None:
        return
    try:
        if monitor is None:
            raise RuntimeError("no monitor")
        monitor.command("system_powerdown")
        qemu.wait(timeout=240)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        qemu.kill()
        qemu.wait()


if __name__ == "__main__":
    sys.exit(main())
