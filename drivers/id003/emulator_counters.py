"""What the emulated acceptor physically did, for tests to compare with what the driver credited.

Its own module because two parts of the emulator count into the same record:
the acceptor's state machine (notes stacked, returned, ACKs) and the shaped
line (replies lost, delayed, split, noise), and neither should import the other.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field


@dataclass
class EmulatorCounters:
    """What physically happened, to compare with what the driver credited."""

    stacked: collections.Counter = field(default_factory=collections.Counter)  # yuan → notes in the cash box
    returned: collections.Counter = field(default_factory=collections.Counter)  # yuan → notes given back
    rejected: int = 0
    vend_valid_sent: int = 0
    acks_received: int = 0
    acks_dropped: int = 0
    commands: collections.Counter = field(default_factory=collections.Counter)  # Command name → count
    bad_frames: int = 0
    # what the line faults did
    replies_lost: int = 0
    replies_delayed: int = 0
    multi_frame_writes: int = 0  # writes that carried more than one reply
    split_writes: int = 0  # writes that went out in pieces
    noise_bytes: int = 0
    early_acks: int = 0  # controller ACKs that came before VEND VALID was reported (ignored)
    # Status frames put on the line intact (lost and garbled ones not counted;
    # COMMUNICATION ERROR and INVALID COMMAND neither): what a controller that
    # reads every frame has read once the line is quiet.
    status_replies_sent: int = 0

    @property
    def stacked_total_yuan(self) -> int:
        return sum(yuan * count for yuan, count in self.stacked.items())
