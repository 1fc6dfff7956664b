"""The simulator's HTTP transport: a threading HTTP/1.1 server on loopback,
and the handler that turns sockets into requests and replies.

Its own module because it is the transport half of the simulator, kept
apart from the billing behaviour (sim_billing.py) as in python-escpos; it is
also the only place faults (sim_faults.py) meet the wire: a delay, a dropped
connection, a broken body, a reply that never comes.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kiosk.backend.sim_faults import _with_fault
from kiosk.backend.sim_messages import _error, _Reply, _Request

if TYPE_CHECKING:
    from kiosk.backend.simulator import BackendSimulator

log = logging.getLogger("kiosk.backend.simulator")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections idle in their threads; stop() closes them itself
    # instead of waiting for every client to hang up.
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: BackendSimulator) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real backend behind a proxy
    server_version = "BackendSimulator/1"
    timeout = 60  # an idle keep-alive connection is closed after this
    # Headers and body leave in separate writes; with Nagle on, the body waits
    # for the client's delayed ACK and every request costs 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the client is gone; nothing left to flush to

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        request = _Request(
            method=self.command,
            path=urlsplit(self.path).path,
            headers=self.headers,
            body=self._read_body(),
        )
        simulator = self.server.simulator
        try:
            if request.path.startswith("/_sim/"):
                reply = simulator._control(request)
            else:
                simulator._note_request(request)
                reply = _with_fault(simulator._api_for(request.path), request, simulator._faults.take(request.path))
        except Exception:  # a bug in the simulator must still answer like a server
            log.exception("simulator failed on %s %s", request.method, request.path)
            reply = _error(500, "INTERNAL_ERROR")
        if reply is None:
            self._hang_up()
        else:
            self._send(reply)

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0  # then the body is not JSON, and the route says so
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: _Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.payload)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.payload)
        except OSError:
            # The client gave up first (its read timeout ran out during a delay).
            self.close_connection = True

    def _hang_up(self) -> None:
        """Close without a byte of reply, as a crashed backend or a cut cable."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

