"""What the journal tests share besides fixtures (imported by module name, as
tests/drivers/card_helpers.py: this directory has no __init__.py, because a
test package named ``offline_store`` would shadow the real one)."""

from __future__ import annotations

import time
from datetime import datetime

from kiosk.backend.seed import DEMO_ACCOUNTS

TERMINAL_ID = "T0001"
SECRET = "demo-terminal-secret"
ARREARS = DEMO_ACCOUNTS["electricity_arrears"]
CLOSED = DEMO_ACCOUNTS["electricity_closed"]
PAYMENTS_PATH = "/api/v1/payments"


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()


def wait_until(condition, timeout_s: float = 20.0) -> None:
    """Until ``condition()`` holds (the sync worker works on its own thread); fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sync worker")
        time.sleep(0.01)
