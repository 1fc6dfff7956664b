"""The maintenance screen's hidden entry: five taps within three seconds on the hall name.

Why this gesture: the terminal has no service-door switch the kiosk can read
and no technician card issuing process; self-service terminals in banks' and
utilities' halls open their operator mode with a tap sequence on a fixed,
unmarked spot followed by an operator login.  Five taps in three seconds is
nothing a customer does by chance (a customer taps a label once, if at all),
the spot is the same on every customer screen (the header's hall name) and on
the out-of-order sign (its code line), and the PIN behind it is what guards
the machine.  Plain Python: the window reports taps, this decides.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

TAPS = 5
WITHIN_S = 3.0


class TapSequence:
    def __init__(self, taps: int = TAPS, within_s: float = WITHIN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._taps = taps
        self._within_s = within_s
        self._clock = clock
        self._times: deque[float] = deque(maxlen=taps)

    def tap(self) -> bool:
        """One tap; True when it completes the sequence (which then starts afresh)."""
        now = self._clock()
        self._times.append(now)
        if len(self._times) == self._taps and now - self._times[0] <= self._within_s:
            self._times.clear()
            return True
        return False
