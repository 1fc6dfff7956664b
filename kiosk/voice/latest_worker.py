"""One background thread that does only the newest job it was given.

Its own module because both halves of the voice need the same thing and
neither may invent its own threading: the caller (a screen, on the GUI
thread) hands over a job and returns at once; a job that has not started
when a newer one arrives is dropped, because a prompt for a screen the
customer has already left is worth nothing.  Cancelling a job that *has*
started is the job's owner's business (the player kills its process).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger("kiosk.voice")

T = TypeVar("T")
_NOTHING = object()


class LatestWorker(Generic[T]):
    """Runs ``handle(job)`` on a daemon thread named ``name``, started at the first job.

    ``handle`` runs on that thread only, one job at a time; what it raises is
    logged and the thread goes on.
    """

    def __init__(self, name: str, handle: Callable[[T], None]) -> None:
        self.name = name
        self._handle = handle
        self._changed = threading.Condition()
        self._pending: object = _NOTHING
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, job: T) -> None:
        """Queue ``job`` in place of any job not yet started; never blocks on the job."""
        with self._changed:
            if self._closed:
                return
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def discard(self) -> None:
        """Drop the job not yet started, if any."""
        with self._changed:
            self._pending = _NOTHING
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is queued or running; False if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending is _NOTHING and not self._busy, timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Drop the queued job, let the running one end, and stop the thread."""
        with self._changed:
            self._closed = True
            self._pending = _NOTHING
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending is not _NOTHING or self._closed)
                if self._closed:
                    return
                job, self._pending, self._busy = self._pending, _NOTHING, True
            try:
                self._handle(job)  # type: ignore[arg-type]
            except Exception:
                log.exception("voice worker %s: a job failed", self.name)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
