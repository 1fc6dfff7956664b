"""The total deadline of one client call, and the watchdog that enforces it.

Its own module because it works below requests: it reaches into urllib3's
connection classes to learn each socket a call opens, and cuts them from a
timer thread.  The client only opens a guard around a call and asks it how
much time is left; nothing here knows the billing API.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _CallGuard:
    """The deadline of one public call, and the sockets to cut when it passes.

    Why a watchdog that shuts sockets down rather than more timeouts: requests
    and urllib3 time each socket operation, not the call, so a server that
    sends a byte a second, or one ``100 Continue`` after another, never trips
    a read timeout (PLATFORM.md).  Only something outside the blocked thread
    can end such a read.  ``shutdown(2)`` on the call's sockets wakes a blocked
    ``recv`` at once on Linux and makes every later read on them fail (a peer
    that keeps sending gets a reset) -- whether http.client is reading a
    status line, skipping 1xx answers, parsing headers, in a TLS handshake or
    reading the body.  Connecting is bounded by the connect timeout, cut to
    the time left.

    The guard holds a duplicate descriptor of each socket it watches, so it
    can never shut down a descriptor number that was closed and reused
    meanwhile; the duplicates are closed when the call ends, and so is the
    watchdog's timer thread: no thread outlives the call.

    The connection classes below find the guard of the call running on their
    thread through :meth:`current` (urllib3 does all of a request's socket
    work on the calling thread).
    """

    _local = threading.local()

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self.phase = "preparing the request"  # what the call is doing: says what was slow
        self.attempts = 0
        self.expired = False  # the deadline passed and the sockets were cut
        self.aborted = False  # close() cut them: the kiosk is stopping
        self._started = time.monotonic()
        self._finished = False
        self._handles: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline_s, self._expire)
        self._timer.name = "backend-call-deadline"
        self._timer.daemon = True

    @classmethod
    def current(cls) -> _CallGuard | None:
        return getattr(cls._local, "guard", None)

    @property
    def cut(self) -> bool:
        return self.expired or self.aborted

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def remaining(self) -> float:
        return self.deadline_s - self.elapsed()

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` too when the deadline passes (at once if it has)."""
        try:
            handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return  # closed meanwhile: nothing left to cut
        with self._lock:
            if self._finished:
                handle.close()
                return
            self._handles.append(handle)
            if self.cut:
                _shut_down(handle)

    def abort(self) -> None:
        self._cut_all(aborted=True)

    def _expire(self) -> None:
        self._cut_all(aborted=False)

    def _cut_all(self, *, aborted: bool) -> None:
        with self._lock:
            if self._finished:
                return
            if aborted:
                self.aborted = True
            else:
                self.expired = True
            for handle in self._handles:
                _shut_down(handle)

    def __enter__(self) -> _CallGuard:
        _CallGuard._local.guard = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _CallGuard._local.guard = None
        with self._lock:
            self._finished = True
            handles, self._handles = self._handles, []
        self._timer.cancel()
        self._timer.join(timeout=1.0)  # at once: cancel() wakes it, and it no longer waits for the lock
        for handle in handles:
            handle.close()


def _shut_down(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected yet, or already gone: either way no read can block on it


class _GuardedConnectionMixin:
    """urllib3 connection hooks that hand each socket of a call to its guard
    and tell it what the call is doing."""

    def _new_conn(self) -> socket.socket:
        guard = _CallGuard.current()
        if guard is not None:
            guard.phase = "connecting"
        sock = super()._new_conn()  # type: ignore[misc]
        if guard is not None:
            guard.watch(sock)
            tls = isinstance(self, HTTPSConnection)
            guard.phase = "in the TLS handshake" if tls else "sending the request"
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = _CallGuard.current()
        if guard is not None:
            if self.sock is not None:  # type: ignore[attr-defined]  # a kept-alive connection
                guard.watch(self.sock)  # type: ignore[attr-defined]
            guard.phase = "sending the request"
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        guard = _CallGuard.current()
        if guard is not None:
            guard.phase = "waiting for the status line and headers"
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection
