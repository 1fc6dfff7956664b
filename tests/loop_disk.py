"""A small ext4 file system on a loop device, for a journal that must meet a full or dying disk.

Shared by tests/test_journal_disk_faults.py and the crash-injection harness.
Needs root (mount) and loop devices; :func:`loop_disks_possible` says whether
this machine has both.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
from pathlib import Path

MIB = 1 << 20
LOOP_DISK_NEEDS = "a journal on its own small file system needs root and loop devices (/dev/loop-control)"
_EXT4_IOC_SHUTDOWN = 0x8004587D
_EXT4_GOING_FLAGS_NOLOGFLUSH = 2


def loop_disks_possible() -> bool:
    return os.geteuid() == 0 and Path("/dev/loop-control").exists()


class SmallDisk:
    """``size_mib`` of ext4 on a loop device, mounted at ``root/disk``."""

    def __init__(self, root: Path, size_mib: int = 32) -> None:
        self.image, self.mount_point = Path(root) / "disk.img", Path(root) / "disk"
        self.mount_point.mkdir(exist_ok=True)
        with open(self.image, "wb") as image:
            image.truncate(size_mib * MIB)
        # -m 0: no blocks reserved for root, so "full" is full for the kiosk (CI runs as root).
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(self.image)], check=True)
        self.mount()

    def mount(self) -> None:
        subprocess.run(["mount", "-o", "loop", str(self.image), str(self.mount_point)], check=True)

    def fail(self) -> None:
        """The disk dies under the kiosk: every read and write fails from now on (EXT4_IOC_SHUTDOWN
        without flushing the log, as a pulled cable would leave it)."""
        fd = os.open(self.mount_point, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, _EXT4_IOC_SHUTDOWN, struct.pack("I", _EXT4_GOING_FLAGS_NOLOGFLUSH))
        finally:
            os.close(fd)

    def repair(self) -> None:
        """The technician's fix: unmount, mount again (the ext4 log is replayed)."""
        subprocess.run(["umount", str(self.mount_point)], check=True)
        self.mount()

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.mount_point)], check=False)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Write a filler file until the file system has about ``leave_bytes`` free (or none)."""
    filler = Path(disk) / "filler"
    with open(filler, "ab") as out:
        try:
            while free_bytes(disk) > leave_bytes + 64 * 1024:
                out.write(bytes(64 * 1024))
                out.flush()
        except OSError:
            pass
    return filler
