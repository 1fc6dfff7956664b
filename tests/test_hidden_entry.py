"""The hidden entry counts taps, not time spent near the spot: five within three seconds, then afresh."""

from __future__ import annotations

from kiosk.hidden_entry import TapSequence


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tap_at(sequence: TapSequence, clock: Clock, *times: float) -> list[bool]:
    results = []
    for at in times:
        clock.now = at
        results.append(sequence.tap())
    return results


def test_five_taps_within_three_seconds_open_the_entry():
    clock = Clock()
    assert tap_at(TapSequence(clock=clock), clock, 0.0, 0.5, 1.0, 1.5, 2.9) == [False] * 4 + [True]


def test_five_taps_spread_over_more_than_three_seconds_do_not():
    clock = Clock()
    assert not any(tap_at(TapSequence(clock=clock), clock, 0.0, 1.0, 2.0, 3.0, 3.1))


def test_a_slow_start_is_forgotten_and_the_last_five_count():
    clock = Clock()
    results = tap_at(TapSequence(clock=clock), clock, 0.0, 10.0, 10.2, 10.4, 10.6, 10.8)
    assert results == [False] * 5 + [True]


def test_the_sequence_starts_afresh_after_it_opened():
    clock = Clock()
    sequence = TapSequence(clock=clock)
    assert tap_at(sequence, clock, 0, 0.1, 0.2, 0.3, 0.4)[-1]
    assert not any(tap_at(sequence, clock, 0.5, 0.6, 0.7, 0.8))  # four more taps are not a second entry
