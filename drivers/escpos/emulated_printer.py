"""What the emulated ESC/POS printer is and how it answers: bytes in, answers and paper out.

No sockets and no threads here: :class:`EmulatedPrinter` takes what came
off the wire and returns what a printer in its state would send back, so
the TCP and pseudo-terminal servers of ``drivers/escpos/emulator.py`` only
move bytes.  It records every byte it receives, "prints" (keeps in
:attr:`~EmulatedPrinter.printed`) what a real printer would get onto paper,
and answers from its own state:

* ``DLE EOT 1/2/3/4`` at once, as a real-time command, even while stopped
  (paper out, cover open, error) — bits as in the Epson reference
  (https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/dle_eot.html);
* ``GS r 1`` only once everything before it has been printed, never while
  printing is stopped (…/gs_lr.html).  Data received while stopped waits,
  and prints when the cause is cleared, as on a real printer.
"""

from __future__ import annotations

import threading

from drivers.escpos.decode import DLE, ESC, FS, GS, Decoded, command_length, decode
from drivers.status import Paper

FAULTS = ("disconnect", "paper_out", "cover_open", "silent", "error")
ERRORS = {"recoverable": 0x04, "autocutter": 0x08, "unrecoverable": 0x20, "auto_recoverable": 0x40}


class EmulatedPrinter:
    """The printer's state, the scripting of it, and its answers to what it receives."""

    def __init__(self, *, gs_r: bool = True, dle_eot: tuple[int, ...] = (1, 2, 3, 4)) -> None:
        """``gs_r``: whether this model answers ``GS r 1``; ``dle_eot``: the n of ``DLE EOT n`` it answers."""
        if not set(dle_eot) <= {1, 2, 3, 4}:
            raise ValueError(f"dle_eot={dle_eot!r}: the real-time status requests are n = 1, 2, 3 and 4")
        self.answers_gs_r = gs_r
        self.answers_dle_eot = frozenset(dle_eot)
        self._lock = threading.RLock()
        # what the printer is
        self.paper = Paper.OK
        self.cover_open = False
        self.error: str | None = None
        self.silent = False
        # what it has seen
        self._received = bytearray()
        self._printed = bytearray()
        self._pending = bytearray()  # received, not yet printed
        self._pending_sink = None  # where a GS r answer for pending data goes
        self._realtime_tail = b""
        self._fail_budget: int | None = None
        self._fail_fault = ""
        self.status_requests = 0

    # ------------------------------------------------------------ scripting

    def set_paper(self, paper: Paper | str) -> None:
        with self._lock:
            self.paper = Paper(paper)
            self._print_pending()

    def open_cover(self, on: bool = True) -> None:
        with self._lock:
            self.cover_open = on
            self._print_pending()

    def set_error(self, kind: str | None) -> None:
        if kind is not None and kind not in ERRORS:
            raise ValueError(f"error kind {kind!r}: one of {', '.join(ERRORS)} or None")
        with self._lock:
            self.error = kind
            self._print_pending()

    def go_silent(self, on: bool = True) -> None:
        with self._lock:
            self.silent = on

    def fail_after(self, n_bytes: int, fault: str = "disconnect") -> None:
        """After ``n_bytes`` more bytes arrive: drop the connection, run out of paper, open the cover, …"""
        if fault not in FAULTS:
            raise ValueError(f"fault {fault!r}: one of {', '.join(FAULTS)}")
        with self._lock:
            self._fail_budget, self._fail_fault = n_bytes, fault

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._printed.clear()

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    @property
    def printed(self) -> bytes:
        with self._lock:
            return bytes(self._printed)

    def decoded(self) -> Decoded:
        return decode(self.printed)

    # ------------------------------------------------------------ the printer's answers

    def _stopped(self) -> bool:
        return self.cover_open or self.paper is Paper.OUT or self.error is not None

    def _realtime(self, n: int) -> bytes:
        """One ``DLE EOT n`` answer: 0xx1xx10b with the state's bits set."""
        value = 0x12
        if n == 1 and self._stopped():
            value |= 0x08
        elif n == 2:
            value |= (0x04 if self.cover_open else 0) | (0x20 if self.paper is Paper.OUT else 0)
            value |= 0x40 if self.error else 0
        elif n == 3 and self.error:
            value |= ERRORS[self.error]
        elif n == 4:
            value |= (0x0C if self.paper is not Paper.OK else 0) | (0x60 if self.paper is Paper.OUT else 0)
        return bytes([value])

    def _paper_status(self) -> bytes:
        """The ``GS r 1`` answer: near-end bits 0 and 1."""
        return b"\x03" if self.paper is Paper.NEAR_END else b"\x00"

    def _receive(self, data: bytes, sink) -> tuple[bytes, bool]:
        """Take bytes off the wire; return (answer, whether to hang up)."""
        with self._lock:
            budget = self._fail_budget
            if budget is None or len(data) < budget:
                if budget is not None:
                    self._fail_budget = budget - len(data)
                return self._take(data, sink), False
            fault, self._fail_budget = self._fail_fault, None
            answer = self._take(data[:budget], sink)
            if fault == "disconnect":
                return b"", True
            self._fault(fault)
            return answer + self._take(data[budget:], sink), False

    def _fault(self, fault: str) -> None:
        if fault == "paper_out":
            self.paper = Paper.OUT
        elif fault == "cover_open":
            self.cover_open = True
        elif fault == "silent":
            self.silent = True
        elif fault == "error":
            self.error = "autocutter"

    def _take(self, data: bytes, sink) -> bytes:
        self._received += data
        if self.silent:
            return b""
        # Real-time commands act on arrival, wherever they sit in the stream.
        stream = self._realtime_tail + data
        answer = bytearray()
        index = stream.find(b"\x10\x04")
        while 0 <= index < len(stream) - 2:
            n = stream[index + 2]
            if 1 <= n <= 4:
                self.status_requests += 1
                if n in self.answers_dle_eot:
                    answer += self._realtime(n)
            index = stream.find(b"\x10\x04", index + 2)
        self._realtime_tail = stream[-2:]
        self._pending += data
        self._pending_sink = sink
        answer += self._print_pending(send=False)
        return bytes(answer)

    def _print_pending(self, send: bool = True) -> bytes:
        """Move whole commands from the receive buffer to paper while nothing stops the printer."""
        answer = bytearray()
        buffer = self._pending
        index = 0
        while index < len(buffer) and not self._stopped():
            byte = buffer[index]
            if byte in (ESC, GS, FS, DLE):
                length = command_length(buffer, index)
                if length is None or index + length > len(buffer):
                    break
                if buffer[index:index + 3] in (b"\x1dr\x01", b"\x1dr1") and self.answers_gs_r:
                    answer += self._paper_status()
            else:
                length = 1
            self._printed += buffer[index:index + length]
            index += length
        del buffer[:index]
        if send and answer and self._pending_sink is not None:
            self._pending_sink(bytes(answer))
            return b""
        return bytes(answer)
