"""When a failed attempt of a call is repeated: what a retry may cure, how
long to wait first, and whether the call's deadline leaves time for it.

Its own module because the policy is docs/api.md section 5 ("Timeouts,
retries and idempotency") and deserves to be read apart from the HTTP work
it repeats; which requests are safe to repeat is decided by the callers.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from contract.errors import BackendServerError, BackendTimeout, BackendUnreachable
from kiosk.backend.call_guard import _CallGuard

log = logging.getLogger("kiosk.backend")

# What a retry may cure (docs/api.md, "Timeouts, retries and idempotency").
_TRANSIENT = (BackendUnreachable, BackendTimeout, BackendServerError)

T = TypeVar("T")


def _retrying(guard: _CallGuard, attempt: Callable[[_CallGuard], T], retries: int, backoff_s: float) -> T:
    """Run ``attempt``, repeating it up to ``retries`` times after failures a
    retry may cure, while the deadline leaves time for another attempt."""
    for number in range(1, retries + 2):
        guard.attempts = number
        try:
            return attempt(guard)
        except _TRANSIENT as err:
            if number > retries or not err.retryable or guard.cut:
                raise
            pause = backoff_s * number
            if guard.remaining() <= pause:
                raise  # the deadline leaves no time for another attempt
            log.warning(
                "attempt %d of %d failed (%s); retrying in %.2f s",
                number, retries + 1, err, pause,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")  # the loop returns or raises
