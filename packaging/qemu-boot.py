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
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
    png.parent.mkdir(parents=True, exist_ok=True)  # also for the -lost/-timeout screens
    if image.isNull() or not image.save(str(png)):
        raise RuntimeError(f"could not convert {ppm} to {png}")


def qemu_command(overlay: Path, monitor: Path, accel: str, firmware: str, workdir: Path,
                 memory_mib: int, cpus: int, serial: Path | None = None) -> list[str]:
    command = [
        "qemu-system-x86_64", "-machine", f"q35,accel={accel}", "-smp", str(cpus), "-m", str(memory_mib),
        "-drive", f"file={overlay},format=qcow2,if=virtio",
        # virtio-vga: wlroots needs a DRM driver with PRIME import, which std VGA (bochs) lacks;
        # 1920x1080 as on the terminals' screens.
        "-vga", "none", "-device", "virtio-vga,xres=1920,yres=1080",
        "-display", "none", "-nic", "none",  # the hall's network is not needed to reach home
        "-monitor", f"unix:{monitor},server=on,wait=off",
    ]
    if serial is None:
        command += ["-serial", "null"]
    else:  # the drill's port (ttyS0); everything on it is also logged beside it
        command += ["-chardev", f"socket,id=drill,path={serial},server=on,wait=off,logfile={serial}.log",
                    "-serial", "chardev:drill"]
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


# The drill's guest side: a unit and a script, put only into the temporary copy
# of the image that --stop-drill boots.  It answers a fixed set of words on
# ttyS0; anything else is refused, so the port gives no shell.
DRILL_UNIT = """\
[Unit]
Description=qemu-boot.py --stop-drill (a temporary test copy of the image only)

[Service]
Type=simple
ExecStart=/usr/local/sbin/kiosk-qemu-drill
StandardInput=tty
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
"""
DRILL_SCRIPT = r"""#!/bin/sh
# qemu-boot.py --stop-drill: a temporary test copy of the image only.
stty 115200 -echo 2>/dev/null
unit=utility-kiosk.service
dropin=/run/systemd/system/$unit.d/drill-no-execstop.conf
show() {
    echo "drill: $(systemctl show "$unit" -p ActiveState -p SubState -p Result -p ExecMainCode \
        -p ExecMainStatus -p NRestarts -p MainPID | tr '\n' ' ')"
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "drill: ready"
while read -r word; do
    case $word in
        status) show ;;
        restart|stop|start)
            t0=$(uptime_s)
            systemctl "$word" "$unit"
            rc=$?
            echo "drill: systemctl $word rc=$rc from $t0 to $(uptime_s) s (guest uptime)"
            show ;;
        no-execstop)
            mkdir -p "${dropin%/*}"
            printf '[Service]\nExecStop=\n' > "$dropin"
            systemctl daemon-reload
            echo "drill: ExecStop= emptied by $dropin"
            systemctl show "$unit" -p ExecStop | sed 's/^/drill: /' ;;
        execstop)
            rm -f "$dropin"
            systemctl daemon-reload
            echo "drill: $dropin removed"
            systemctl show "$unit" -p ExecStop | sed 's/^/drill: /' ;;
        log)
            journalctl -b -o short-monotonic --no-pager --no-hostname _PID=1 UNIT="$unit" | tail -n 40 |
                sed 's/^/drill: /' ;;
        *) echo "drill: refused" ;;
    esac
    echo "drill: end $word"
done
"""


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
    --stop-drill: the drill's unit and script (DRILL_UNIT, DRILL_SCRIPT)."""
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
                unit = mnt / "etc/systemd/system/kiosk-qemu-drill.service"
                unit.write_text(DRILL_UNIT)
                script = mnt / "usr/local/sbin/kiosk-qemu-drill"
                script.write_text(DRILL_SCRIPT)
                script.chmod(0o755)
                wants = mnt / "etc/systemd/system/multi-user.target.wants"
                wants.mkdir(exist_ok=True)
                (wants / unit.name).symlink_to("/etc/systemd/system/" + unit.name)
    return copy


class DrillPort:
    """The host's end of the guest's ttyS0: send a word, collect the lines up to ``drill: end <word>``."""

    def __init__(self, path: Path, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with self.cond:
                self.lines += [line.decode(errors="replace").rstrip("\r") for line in complete]
                self.cond.notify_all()

    def wait_for(self, line: str, timeout_s: float, start: int = 0) -> int:
        """Index of the first line equal to ``line`` at or after ``start``."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while True:
                for index in range(start, len(self.lines)):
                    if self.lines[index] == line:
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {line!r} from the guest within {timeout_s:.0f} s")
                self.cond.wait(left)

    def run(self, word: str, timeout_s: float = 180) -> list[str]:
        with self.cond:
            start = len(self.lines)
        self.sock.sendall(word.encode() + b"\n")
        end = self.wait_for(f"drill: end {word}", timeout_s, start)
        with self.cond:
            answer = [line for line in self.lines[start:end] if line.startswith("drill: ")]
        for line in answer:
            print(f"qemu-boot: [{word}] {line}", flush=True)
        return answer


def wait_home(monitor: Monitor, ppm: Path, timeout_s: float) -> float | None:
    """Seconds until the screen shows the home screen, or None."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        monitor.command(f"screendump {ppm}")
        if looks_like_home(ppm)[0]:
            return time.monotonic() - began
        time.sleep(1)
    return None


def stop_drill(port: DrillPort, monitor: Monitor, ppm: Path, out: Path | None) -> dict[str, object]:
    """Restart, stop and start the kiosk under the guest's systemd; then the same without ExecStop=."""
    port.wait_for("drill: ready", 120)
    results: dict[str, object] = {}

    def step(word: str, expect_home: bool, name: str) -> None:
        began = time.monotonic()
        answer = port.run(word)
        took = time.monotonic() - began
        home = wait_home(monitor, ppm, 60 if expect_home else 0.1)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            to_png(ppm, out / f"drill-{name}.png")
        results[name] = {"answer": answer, "systemctl_s": round(took, 1),
                         "home_screen": home is not None,
                         "home_after_s": None if home is None else round(took + home, 1)}

    step("status", True, "before")
    step("restart", True, "restart")
    step("stop", False, "stop")
    step("start", True, "start")
    # Baseline: the same restart with ExecStop= emptied, as before kiosk-stop existed.
    step("no-execstop", True, "baseline-dropin")
    step("restart", True, "baseline-restart")
    step("execstop", True, "baseline-undone")
    step("restart", True, "restart-again")
    step("log", True, "log")
    return results
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

    with tempfile.TemporaryDirectory(prefix="kiosk-qemu-", dir=args.image.parent) as tmp:
        workdir = Path(tmp).resolve()  # qemu-img resolves a relative backing file from the overlay
        overlay = workdir / "overlay.qcow2"
        base = args.image.resolve()
        if args.stop_drill or args.devices == "emulator":
            began = time.monotonic()
            base = make_test_copy(base, workdir, args.devices, args.stop_drill)
            print(f"qemu-boot: test copy ({args.devices} devices{', drill' if args.stop_drill else ''}) "
                  f"made in {time.monotonic() - began:.1f} s", flush=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base),
                        str(overlay)], check=True)
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


def drill_passed(drill: object, journal: list[str]) -> bool:
    """The stop, the restarts and the power-off with ExecStop= ended in success, and home came back."""
    if not isinstance(drill, dict):
        print("qemu-boot: drill: not run", file=sys.stderr)
        return False
    problems = []
    for name in ("restart", "start", "restart-again"):
        if not drill[name]["home_screen"]:
            problems.append(f"no home screen after {name}")
    stop = " ".join(drill["stop"]["answer"]).split()
    # ExecMainCode=1 (CLD_EXITED): cage exited by itself.  systemd also calls a
    # stop by SIGHUP (ExecMainCode=2, status 1) a success; that one hid a tty hangup.
    if not {"Result=success", "ExecMainCode=1", "ExecMainStatus=0"} <= set(stop):
        problems.append("the stop did not end with cage exiting 0 by itself (Result=success, ExecMainCode=1, "
                        "ExecMainStatus=0)")
    if drill["stop"]["home_screen"]:
        problems.append("the home screen stayed up after the stop")
    # The baseline (no ExecStop=) is expected to fail with 'signal'; only the runs with it must be clean.
    failures = [line for line in journal if "Failed with result" in line or "dumped core" in line]
    print(f"qemu-boot: drill: {len(failures)} failed stop(s) in the journal (1 expected: the baseline)")
    if len(failures) > 1:
        problems.append("more failed stops than the baseline's")
    for problem in problems:
        print(f"qemu-boot: drill: {problem}", file=sys.stderr)
    return not problems


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
