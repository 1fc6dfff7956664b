"""The acceptor driver's counters: what the technician and the tests read from ``driver.stats()``."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.id003.codec import DecoderStats


@dataclass(frozen=True)
class DriverStats:
    """Counters for the technician and the tests (a snapshot)."""

    polls: int = 0
    status_replies: int = 0
    response_timeouts: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    skipped_bytes: int = 0
    multi_frame_reads: int = 0  # reads that carried more than one frame (all are acted on)
    late_replies: int = 0  # replies that came after their response window, still acted on
    surplus_acks: int = 0  # ACKs that answer no command in flight (ignored)
    unmatched_replies: int = 0  # echoes, versions or tables no command waits for (ignored)
    unknown_replies: int = 0  # checked frames with a code or data we do not understand
    resyncs: int = 0  # GET INHIBIT sent to put reply matching back in step after a lost reply
    invalid_commands: int = 0
    communication_error_replies: int = 0
    resets_sent: int = 0
    acks_sent: int = 0
    notes_credited: int = 0
    port_losses: int = 0
    port_opens: int = 0
    internal_errors: int = 0


class Counters:
    """Named counts, added to by the thread that owns them and copied by :func:`snapshot`."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + amount


def snapshot(decoder: DecoderStats, *counts: dict[str, int]) -> DriverStats:
    """One :class:`DriverStats` from the frame decoder's figures and any number of counter sets."""
    values: dict[str, int] = {}
    for part in counts:
        for name, amount in dict(part).items():
            values[name] = values.get(name, 0) + amount
    values.update(crc_errors=decoder.crc_errors, length_errors=decoder.length_errors,
                  skipped_bytes=decoder.skipped_bytes + decoder.flushed_bytes)
    return DriverStats(**{name: values.get(name, 0) for name in DriverStats.__dataclass_fields__})
