"""Who hears a driver: listeners added from any thread and called on the driver's own.

Its own module because both the status every driver publishes
(``drivers/status.py``) and the events it emits (``drivers/device.py``) keep
their listeners the same way, and neither may import the other's module.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

Unsubscribe = Callable[[], None]


class EventListeners:
    """The listeners of one driver's events: added from any thread, called on the driver's.

    A listener that raises is logged and the others still hear the event: a
    consumer's bug never stops the device."""

    def __init__(self, logger: logging.Logger) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[object], None]] = []
        self._log = logger

    def subscribe(self, listener: Callable[[object], None]) -> Unsubscribe:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def emit(self, event: object) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the device
                self._log.exception("event listener failed on %r", event)
