"""The one way the GUI runs slow work: :class:`BackgroundOp`.

    BackgroundOp(parent, op=lambda: client.lookup_account(u, n), success=show)
        .failure(explain).run_in_background()

``op`` runs on a worker thread of a bounded pool; ``success`` or ``failure``
runs afterwards on the GUI thread (a queued signal), never both, never neither:
an exception inside ``op`` reaches ``failure``, and an exception inside the
callbacks is logged instead of killing the event loop.  No screen starts a
thread of its own.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("kiosk.background")

T = TypeVar("T")

_pool: QThreadPool | None = None


def worker_pool() -> QThreadPool:
    """A pool of our own, so nothing else in Qt competes with the backend calls."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(4)
    return _pool


class _Relay(QObject):
    """Carries the outcome from the worker thread to the GUI thread.

    The relay lives on the GUI thread, so its slot is a queued connection from
    the worker's emit: the callback runs in the GUI event loop.
    """

    finished = Signal(bool, object)

    def __init__(self, parent: QObject, deliver: Callable[[bool, object], None]) -> None:
        super().__init__(parent)
        self._deliver = deliver
        self.finished.connect(self._on_finished)

    @Slot(bool, object)
    def _on_finished(self, ok: bool, value: object) -> None:
        self._deliver(ok, value)


class _Job(QRunnable):
    def __init__(self, op: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._op = op
        self._relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread
        try:
            result = self._op()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI
            self._relay.finished.emit(False, exc)
        else:
            self._relay.finished.emit(True, result)


_running: set[_Relay] = set()  # keeps relays alive until their job reports


class BackgroundOp(Generic[T]):
    def __init__(self, parent: QObject, op: Callable[[], T], success: Callable[[T], None]) -> None:
        self._parent = parent
        self._op = op
        self._success = success
        self._failure: Callable[[BaseException], None] = _log_failure

    def failure(self, on_failure: Callable[[BaseException], None]) -> "BackgroundOp[T]":
        self._failure = on_failure
        return self

    def run_in_background(self) -> None:
        def deliver(ok: bool, value: object) -> None:
            _running.discard(relay)
            relay.deleteLater()
            callback = self._success if ok else self._failure
            try:
                callback(value)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - a screen bug must not stop the kiosk
                log.exception("background op callback failed")

        relay = _Relay(self._parent, deliver)
        _running.add(relay)
        worker_pool().start(_Job(self._op, relay))


def _log_failure(exc: BaseException) -> None:
    log.error("background op failed: %s", exc)
