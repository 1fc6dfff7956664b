"""A serial scanner on a pseudo-terminal, for the tests, the diag and the demo panel.

``ScannerEmulator().start()`` opens a pty and points a stable symlink
(:attr:`port`) at its slave side; the driver opens that path as it would
``/dev/ttyACM0``.  The emulated scanner can be handed a code (:meth:`show`),
garbage (:meth:`send_raw`), a code split over several writes
(:meth:`show_split`), and be unplugged and plugged back in.

In trigger mode it behaves as the Honeywell serial-trigger scanners do: a
code shown is held until the host's start command arrives, then sent once;
the stop command ends the read.  It answers the ``ack`` bytes of its
trigger commands first when they have one (the GM65-class engines).

The pty itself is :class:`drivers.id003.emulator_pty.PtyPort` (raw mode,
replug behind the same link), shared with the acceptor's emulator.
"""

from __future__ import annotations

import collections
import os
import select
import shutil
import tempfile
import threading
import time

from drivers.id003.emulator_pty import PtyPort
from drivers.scanner.lines import Terminator
from drivers.scanner.settings import ScanMode, TRIGGER_PRESETS, TriggerCommands


class ScannerEmulator:
    """A scriptable scanner.  Script methods are thread-safe and return at once (except the split's gaps)."""

    def __init__(self, terminator: Terminator = Terminator.CR, mode: ScanMode = ScanMode.CONTINUOUS,
                 trigger: TriggerCommands = TRIGGER_PRESETS["honeywell"], *, link_dir: str | None = None,
                 link_name: str = "scanner") -> None:
        self.terminator = Terminator(terminator)
        self.mode = ScanMode(mode)
        self.trigger = trigger
        self._own_dir = None if link_dir else tempfile.mkdtemp(prefix="scanner-emu-")
        self._pty = PtyPort(link_dir or self._own_dir, link_name)
        self._lock = threading.RLock()
        self._held: collections.deque[bytes] = collections.deque()  # trigger mode: shown, not yet read
        self._reading = False
        self._received = bytearray()
        self.triggers_seen = 0
        self.stops_seen = 0
        self._thread: threading.Thread | None = None
        self._running = False

    @property
    def port(self) -> str:
        return self._pty.link

    @property
    def plugged(self) -> bool:
        return self._pty.master is not None

    def start(self) -> "ScannerEmulator":
        with self._lock:
            self._pty.plug()
            self._running = True
        self._thread = threading.Thread(target=self._listen, name="scanner-emulator", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        with self._lock:
            self._running = False
            self._pty.unplug()
        if self._thread is not None:
            self._thread.join(2)
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> "ScannerEmulator":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()

    # ------------------------------------------------------------ the script

    def show(self, code: str | bytes) -> None:
        """A code is held in front of the scanner: sent now (continuous) or at the next trigger."""
        line = (code.encode("latin-1") if isinstance(code, str) else code) + self.terminator.bytes
        with self._lock:
            if self.mode is ScanMode.TRIGGER:
                self._held.append(line)
                if self._reading:
                    self._send_held()
            else:
                self._pty.write(line)

    def show_split(self, code: str, pieces: int = 3, gap_s: float = 0.02) -> None:
        """The code and its terminator in ``pieces`` writes, ``gap_s`` apart (a slow USB adapter)."""
        line = code.encode("latin-1") + self.terminator.bytes
        size = max(1, -(-len(line) // pieces))
        for start in range(0, len(line), size):
            self.send_raw(line[start:start + size])
            time.sleep(gap_s)

    def send_raw(self, data: bytes) -> None:
        """Bytes on the line as they are: noise, a lone terminator, half a code."""
        with self._lock:
            self._pty.write(data)

    def unplug(self) -> None:
        with self._lock:
            self._pty.unplug()

    def replug(self) -> None:
        with self._lock:
            if self._pty.master is None:
                self._pty.plug()

    # ------------------------------------------------------------ the host's commands

    def _listen(self) -> None:
        while True:
            with self._lock:
                if not self._running:
                    return
                master = self._pty.master
            if master is None:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.02)
                data = os.read(master, 256) if ready else b""
            except (OSError, ValueError):
                time.sleep(0.01)  # unplugged meanwhile
                continue
            if data:
                self._on_host_bytes(data)

    def _on_host_bytes(self, data: bytes) -> None:
        with self._lock:
            self._received += data
            start, stop = self.trigger.start, self.trigger.stop
            while True:
                at_start = self._received.find(start) if start else -1
                at_stop = self._received.find(stop) if stop else -1
                if at_start < 0 and at_stop < 0:
                    break
                if at_stop < 0 or 0 <= at_start < at_stop:
                    del self._received[:at_start + len(start)]
                    self.triggers_seen += 1
                    self._reading = True
                    self._pty.write(self.trigger.ack)
                    self._send_held()
                else:
                    del self._received[:at_stop + len(stop)]
                    self.stops_seen += 1
                    self._reading = False
            del self._received[:-16]  # keep only what may be the start of a command

    def _send_held(self) -> None:
        if self._held:
            self._pty.write(self._held.popleft())
            self._reading = False  # one good read ends a triggered read
