"""A pseudo-terminal that a serial driver can open like ``/dev/ttyS0``, behind a stable symlink.

**Parity on a pty** (see the platform notes): Linux ptys drop PARENB, and a
second 8E1 open of the same pty then fails with EINVAL.  The driver must keep
asking for 8E1, so the emulator copes: it keeps its own slave descriptor and
puts the slave's original termios (raw, another speed) back after every read
and on every loop turn (:meth:`PtyPort.restore_slave`).  The next
``tcsetattr`` from pyserial then changes the speed as well, which the kernel
accepts.

Its own module because this is the emulator's transport, apart from the
protocol it speaks: opening, pulling and replugging the "cable", and the
termios workaround above.  It holds no lock; the emulator calls it under its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import termios
import tty


class PtyPort:
    """The master side for the emulator, the slave side's path (:attr:`link`) for the driver."""

    def __init__(self, link_dir: str | None, link_name: str) -> None:
        self._own_dir = link_dir is None
        self._dir = link_dir or tempfile.mkdtemp(prefix="id003-emu-")
        self.link = os.path.join(self._dir, link_name)
        self.master: int | None = None
        self._slave: int | None = None
        self._slave_attrs: list | None = None

    def plug(self) -> None:
        """Open a fresh pty and point :attr:`link` at its slave side."""
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        # A speed the driver never asks for, so its tcsetattr always changes
        # more than PARENB (see the module docstring).
        attrs[4] = attrs[5] = termios.B38400
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.master, self._slave = master, slave
        self._slave_attrs = termios.tcgetattr(slave)
        temporary = self.link + ".new"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, self.link)

    def unplug(self) -> None:
        """Remove the link and close the pty."""
        if os.path.lexists(self.link):
            os.unlink(self.link)
        for fd in (self.master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self._slave = None

    def remove_dir(self) -> None:
        """Delete the link's directory if this port made it."""
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def restore_slave(self) -> None:
        if self._slave is None:
            return
        try:
            if termios.tcgetattr(self._slave) != self._slave_attrs:
                termios.tcsetattr(self._slave, termios.TCSANOW, self._slave_attrs)
        except termios.error:
            pass

    def write(self, data: bytes) -> None:
        """Write to the controller; nothing when unplugged, and a write error is a lost write."""
        if self.master is None:
            return
        try:
            os.write(self.master, data)
        except OSError:
            pass
