"""The kiosk's billing-system clients: one per kind of work, made on first use off the GUI thread."""

from __future__ import annotations

import threading
from typing import Callable

from kiosk.config import KioskConfig


class BackendClients:
    """One client per kind of work, created on first use off the GUI thread.

    Lookups and heartbeats run on different workers at once; a requests
    Session is not meant to be shared between threads, so each has its own.
    """

    def __init__(self, config: KioskConfig, base_url: str | Callable[[], str]) -> None:
        self._config = config
        # A callable when the URL is only known later (the embedded simulator
        # starts after the home screen is up); it is called on a worker thread.
        self._base_url = base_url if callable(base_url) else (lambda: base_url)
        self._lock = threading.Lock()
        self._clients: dict[str, object] = {}

    def get(self, purpose: str):
        with self._lock:
            client = self._clients.get(purpose)
            if client is None:
                from kiosk.backend.client import (
                    BackendClient,  # imports requests: keep it off start-up
                )

                backend = self._config.backend
                client = BackendClient(
                    self._base_url(),
                    terminal_id=self._config.terminal.id,
                    secret=backend.terminal_secret,
                    connect_timeout_s=backend.connect_timeout_s,
                    read_timeout_s=backend.read_timeout_s,
                    ca_file=backend.ca_file,
                    retries=backend.retries,
                    # A call (and so a heartbeat) that hangs fails at this
                    # deadline and counts as a failed heartbeat.
                    call_deadline_s=backend.call_deadline_s,
                    max_reply_bytes=backend.max_reply_kib * 1024,
                )
                self._clients[purpose] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
