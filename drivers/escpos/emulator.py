"""An ESC/POS receipt printer in a thread: on a loopback TCP port, or behind a pseudo-terminal.

It records every byte it receives, "prints" (keeps in :attr:`printed`) what
a real printer would get onto paper, and answers from its own state:

* ``DLE EOT 1/2/3/4`` at once, as a real-time command, even while stopped
  (paper out, cover open, error) — bits as in the Epson reference
  (https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/dle_eot.html);
* ``GS r 1`` only once everything before it has been printed, never while
  printing is stopped (…/gs_lr.html).  Data received while stopped waits,
  and prints when the cause is cleared, as on a real printer.

Script it from a test or the demo's device panel::

    with PrinterEmulator() as printer:          # port 0: a free port
        driver = PrinterDriver(printer.url)
        printer.set_paper(Paper.NEAR_END)
        printer.open_cover(True)
        printer.set_error("autocutter")         # or "unrecoverable", "auto_recoverable", None
        printer.go_silent(True)                 # connected, answers nothing, prints nothing
        printer.disconnect(); printer.reconnect()   # cable pulled and put back (TCP)
        printer.fail_after(200, "paper_out")    # the fault hits after 200 more bytes
        decode(printer.printed).lines

``PrinterEmulator(pty=True)`` serves a pseudo-terminal in raw mode instead;
:attr:`url` is then its device path, for the serial transport.

Not every printer model answers every status command.  Many answer ``DLE
EOT`` but take ``GS r 1`` in silence, and some leave out one ``DLE EOT n``;
``PrinterEmulator(gs_r=False)`` and ``PrinterEmulator(dle_eot=(1, 2, 4))``
are such models: they take the command's bytes and answer nothing.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
import tty

from drivers.escpos.decode import DLE, ESC, FS, GS, Decoded, command_length, decode
from drivers.status import Paper

FAULTS = ("disconnect", "paper_out", "cover_open", "silent", "error")
ERRORS = {"recoverable": 0x04, "autocutter": 0x08, "unrecoverable": 0x20, "auto_recoverable": 0x40}


class PrinterEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, pty: bool = False, gs_r: bool = True,
                 dle_eot: tuple[int, ...] = (1, 2, 3, 4)) -> None:
        """``gs_r``: whether this model answers ``GS r 1``; ``dle_eot``: the n of ``DLE EOT n`` it answers."""
        if not set(dle_eot) <= {1, 2, 3, 4}:
            raise ValueError(f"dle_eot={dle_eot!r}: the real-time status requests are n = 1, 2, 3 and 4")
        self._host, self._port = host, port
        self._pty = pty
        self.answers_gs_r = gs_r
        self.answers_dle_eot = frozenset(dle_eot)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._master = self._slave = -1
        self._device_path = ""
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
        self.connections_accepted = 0
        self.status_requests = 0

    # ------------------------------------------------------------ life

    def start(self) -> PrinterEmulator:
        if self._pty:
            self._open_pty()
        else:
            self._listen()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()
        self._drop_connections()
        if self._pty:
            self._close_pty()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> PrinterEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._pty:
            return self._device_path
        return f"tcp://{self._host}:{self._port}"

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

    def disconnect(self) -> None:
        """Drop every connection and stop listening, as if the cable were pulled."""
        if self._pty:
            self._close_pty()
            return
        self._close_listener()
        self._drop_connections()

    def reconnect(self) -> None:
        """Listen again on the same port."""
        if self._pty:
            raise RuntimeError("a pseudo-terminal cannot come back under the same name; start a new emulator")
        if self._listener is None:
            # The old listener's accept() may hold the port for one more 50 ms tick.
            give_up = time.monotonic() + 1.0
            while True:
                try:
                    self._listen()
                    return
                except OSError as error:
                    if error.errno != errno.EADDRINUSE or time.monotonic() > give_up:
                        raise
                    time.sleep(0.02)

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

    # ------------------------------------------------------------ TCP

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._host, self._port))
        except OSError:
            listener.close()
            raise
        listener.listen(4)
        listener.settimeout(0.05)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept_loop, listener)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is listener:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self._listener is not listener:  # disconnect() came while this one was accepted
                conn.close()
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.add(conn)
                self.connections_accepted += 1
            self._spawn(self._serve_connection, conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)

        def send(answer: bytes) -> None:
            try:
                conn.sendall(answer)
            except OSError:
                pass

        try:
            while not self._stop.is_set() and conn in self._connections:
                try:
                    data = conn.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                answer, hang_up = self._receive(data, send)
                if answer:
                    send(answer)
                if hang_up:
                    return
        finally:
            self._forget(conn)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _drop_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    # ------------------------------------------------------------ pseudo-terminal

    def _open_pty(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes as they are
        self._device_path = os.ttyname(self._slave)
        self._spawn(self._serve_pty, self._master)

    def _serve_pty(self, master: int) -> None:
        def send(answer: bytes) -> None:
            try:
                os.write(master, answer)
            except OSError:
                pass

        while not self._stop.is_set() and self._master == master:
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except OSError:
                time.sleep(0.05)  # the other side closed the port; wait for it to open again
                continue
            answer, hang_up = self._receive(data, send)
            if answer:
                send(answer)
            if hang_up:
                self._close_pty()
                return

    def _close_pty(self) -> None:
        master, slave = self._master, self._slave
        self._master = self._slave = -1
        for fd in (master, slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"escpos-emulator-{target.__name__}")
        self._threads = [alive for alive in self._threads if alive.is_alive()]
        self._threads.append(thread)
        thread.start()


def main(argv: list[str] | None = None) -> int:
    """``python -m drivers.escpos.emulator [--port 9100]``: a printer to point ``kiosk diag`` at."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m drivers.escpos.emulator", description=main.__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--pty", action="store_true", help="serve a pseudo-terminal instead of TCP")
    parser.add_argument("--paper", choices=[p.value for p in Paper if p is not Paper.UNKNOWN], default="ok")
    parser.add_argument("--cover-open", action="store_true")
    parser.add_argument("--no-gs-r", action="store_true", help="a model that does not answer GS r 1")
    parser.add_argument("--dle-eot", type=_kinds, default=(1, 2, 3, 4), metavar="N,N,...",
                        help="the DLE EOT n this model answers (default 1,2,3,4)")
    args = parser.parse_args(argv)
    with PrinterEmulator(port=args.port, pty=args.pty, gs_r=not args.no_gs_r, dle_eot=args.dle_eot) as printer:
        printer.set_paper(args.paper)
        printer.open_cover(args.cover_open)
        print(f"ESC/POS printer emulator at {printer.url} — Ctrl+C stops it", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        printed = printer.decoded()
        print(f"received {len(printer.received)} bytes; printed {len(printed.lines)} lines, "
              f"{len(printed.qr_codes)} QR codes, {printed.cuts} cuts")
    return 0


def _kinds(text: str) -> tuple[int, ...]:
    """``--dle-eot 1,2,4`` as (1, 2, 4)."""
    import argparse

    try:
        kinds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        kinds = ()
    if not kinds or not set(kinds) <= {1, 2, 3, 4}:
        raise argparse.ArgumentTypeError(f"{text!r}: write the n it answers, from 1, 2, 3, 4, e.g. 1,2,4")
    return kinds


if __name__ == "__main__":
    raise SystemExit(main())
