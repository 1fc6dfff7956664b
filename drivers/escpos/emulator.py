"""An ESC/POS receipt printer in a thread: on a loopback TCP port, or behind a pseudo-terminal.

What it is and how it answers — paper, cover, errors, ``DLE EOT`` and
``GS r`` — is :class:`~drivers.escpos.emulated_printer.EmulatedPrinter`;
this module only puts it on a wire: accepting connections, moving bytes,
hanging up and listening again as a test scripts it.

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

from drivers.escpos.emulated_printer import ERRORS, FAULTS, EmulatedPrinter  # noqa: F401 - importable from here too
from drivers.status import Paper


class PrinterEmulator(EmulatedPrinter):
    """An :class:`EmulatedPrinter` served on a loopback TCP port or a pseudo-terminal, by threads of its own."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, pty: bool = False, gs_r: bool = True,
                 dle_eot: tuple[int, ...] = (1, 2, 3, 4)) -> None:
        """``gs_r``: whether this model answers ``GS r 1``; ``dle_eot``: the n of ``DLE EOT n`` it answers."""
        super().__init__(gs_r=gs_r, dle_eot=dle_eot)
        self._host, self._port = host, port
        self._pty = pty
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._master = self._slave = -1
        self._device_path = ""
        self.connections_accepted = 0

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

    # ------------------------------------------------------------ scripting the wire

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
