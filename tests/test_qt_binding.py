"""The Qt binding itself must survive a day of signals.

PySide6 6.12.0 dropped a reference to ``True`` on every Python-side
``Signal.emit()``; after enough taps the interpreter aborts in bool_dealloc.
This pins the behaviour we rely on, so an upgrade of the binding that brings
such a bug back fails here and not in a business hall.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool, object)

    def __init__(self) -> None:
        super().__init__()
        self.received = 0
        self.fired.connect(self._count)

    def _count(self, _ok: bool, _value: object) -> None:
        self.received += 1


def test_emitting_signals_leaves_the_interpreters_singletons_alone(qapp):
    emitter = _Emitter()
    before_true, before_none = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(2000):
        emitter.fired.emit(True, None)
    assert emitter.received == 2000
    assert sys.getrefcount(True) >= before_true - 5
    assert sys.getrefcount(None) >= before_none - 5
