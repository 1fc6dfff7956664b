"""A bounded wait for tests without a window (the GUI tests use harness.wait_until)."""

from __future__ import annotations

import threading
import time
from typing import Callable


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s} s waiting for {what or 'the condition'}")
        time.sleep(0.01)


def open_payments(stack, on_ready: Callable[[object], None]) -> threading.Thread:
    """What the kiosk does at start, without a window: ``stack.open()`` on a thread of
    its own, ``on_ready(service)`` once payments are up (not when cash stays off)."""
    from kiosk.payment_stack import CashOff

    def run() -> None:
        try:
            service = stack.open()
        except CashOff:
            return  # stack.problem says why
        if service is not None:
            on_ready(service)

    thread = threading.Thread(target=run, name="payments-open", daemon=True)
    thread.start()
    return thread
