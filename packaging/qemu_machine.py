"""The QEMU process for packaging/qemu-boot.py: its command line, its monitor, its power-off.

Its own module because this is everything that knows QEMU's options and its
human monitor; what the guest shows and what the drill asks it live beside it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


def connect_unix(path: Path, timeout_s: float, check: Callable[[], None] = lambda: None) -> socket.socket:
    """A stream socket connected to ``path``, tried again until QEMU has created it.

    ``check`` runs after each failed try and may raise to give up at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(path))
            return sock
        except OSError:
            sock.close()
            check()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Monitor:
    """QEMU's human monitor on a Unix socket: one command, its echo read back."""

    def __init__(self, path: Path, qemu: subprocess.Popen, timeout_s: float = 60) -> None:
        def qemu_alive() -> None:
            if qemu.poll() is not None:
                raise RuntimeError(f"QEMU exited with {qemu.returncode}: {qemu.stdout.read()}") from None

        self.sock = connect_unix(path, timeout_s, qemu_alive)
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
