"""The acceptor driver on a bad line: every frame of every read is acted on, and notes add up.

Hardening finding 1: one read from the port carried several frames; the
driver kept the oldest and dropped the ACK to its STACK-1 and the STACKED
status, so the next note of the same denomination reused the record of the
note already credited, and was stacked without a credit.  Here the emulator
plays each fault of that line — replies back to back in one write, split
across reads, noise between them, late by up to a second, ACKs lost — while
notes go in (the same denomination several times in a row, and others), and
each test counts: notes in the emulated cash box == notes credited, each
credited once and for its value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from drivers.id003 import codec
from drivers.id003.codec import Status
from drivers.id003.emulator import AcceptorEmulator
from drivers.id003.events import (
    NoteCredited,
    NoteEscrowed,
    NoteReturned,
    NoteUnaccounted,
)

try:
    from conftest_id003 import Recorder, make_driver, ready  # noqa: F401 - fixtures
except ImportError:  # tests/drivers made a package
    from .conftest_id003 import Recorder, make_driver, ready  # noqa: F401

SEED = int(os.environ.get("ID003_LINE_SEED", "1003"))
# The same denomination back to back (the finding's case), and others between.
NOTES_YUAN = (10, 10, 10, 50, 1, 10, 100, 10)
ACK_FROM_ACCEPTOR = codec.ACK  # the acceptor's answer to STACK-1/RETURN has the ACK code too


@pytest.fixture
def emulator() -> Iterator[AcceptorEmulator]:
    """The emulator with a fixed seed, so its line faults fall the same way each run."""
    with AcceptorEmulator(seed=SEED) as emulated:
        yield emulated


@dataclass(frozen=True)
class Tally:
    """What went into the cash box against what the driver said."""

    stacked_fen: list[int]
    credited_fen: list[int]
    credited_ids: list[int]
    escrowed_ids: list[int]
    returned_notes: int
    returned_events: int
    unaccounted: int

    def line(self, name: str) -> str:
        return (f"{name}: stacked {len(self.stacked_fen)} (¥{sum(self.stacked_fen) // 100}), credited "
                f"{len(self.credited_fen)} (¥{sum(self.credited_fen) // 100}), returned {self.returned_notes}, "
                f"unaccounted {self.unaccounted}")


def feed_until_settled(emulated: AcceptorEmulator, driver, recorder: Recorder, notes: tuple[int, ...],
                       timeout_s: float, heal_line_first: bool = False) -> Tally:
    """Insert the notes, wait until the acceptor has stacked or returned each one and the driver,
    inhibited, says nothing more can be credited (it has read every status up to DISABLED).

    ``heal_line_first``: switch the line faults off before inhibiting, for a
    fault (every IDLING lost) under which the driver could never see the
    state it inhibits from."""
    for yuan in notes:
        emulated.insert_note(yuan)

    def handled() -> int:
        counters = emulated.counters
        return sum(counters.stacked.values()) + sum(counters.returned.values()) + counters.rejected

    recorder.wait(lambda: handled() == len(notes), timeout_s, "every note stacked or returned")
    if heal_line_first:
        emulated.perfect_line()
    driver.inhibit()
    recorder.wait(lambda: driver.settled, 3.0, "the driver settled (inhibited, no note inside)")
    credited = recorder.of(NoteCredited)
    tally = Tally(
        stacked_fen=sorted(yuan * 100 for yuan, count in emulated.counters.stacked.items() for _ in range(count)),
        credited_fen=[event.denomination_fen for event in credited],
        credited_ids=[event.sequence for event in credited],
        escrowed_ids=[event.note_id for event in recorder.of(NoteEscrowed)],
        returned_notes=sum(emulated.counters.returned.values()),
        returned_events=len(recorder.of(NoteReturned)),
        unaccounted=len(recorder.of(NoteUnaccounted)))
    print(tally.line(os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]))
    return tally


def assert_every_stacked_note_credited_once(tally: Tally, stacked_notes: int) -> None:
    assert len(tally.stacked_fen) == stacked_notes, "the acceptor did not stack every note it was given"
    assert sorted(tally.credited_fen) == tally.stacked_fen, tally.line("stacked vs credited")
    assert tally.unaccounted == 0
    assert len(set(tally.credited_ids)) == len(tally.credited_ids), "a note was credited twice"
    assert set(tally.credited_ids) <= set(tally.escrowed_ids), "a credit names a note never seen in escrow"
    assert len(set(tally.escrowed_ids)) == len(tally.escrowed_ids), "one note id for two notes"


def assert_every_status_frame_was_acted_on(emulated: AcceptorEmulator, driver, recorder: Recorder) -> None:
    """The acceptor falls quiet; once what it already sent has arrived, the driver must have
    acted on exactly as many status frames as the acceptor put on the line — none dropped
    because it shared a read with another frame, came split, or came late."""
    emulated.go_silent(True)
    recorder.wait(lambda: emulated.line_idle, 3.0, "the line drained")
    sent = emulated.counters.status_replies_sent
    recorder.wait(lambda: driver.stats().status_replies == sent, 2.0,
                  f"the driver to act on all {sent} status frames (it has {driver.stats().status_replies})")


# ---------------------------------------------------------------- the finding itself


def test_a_note_whose_stack_ack_and_stacked_were_lost_does_not_swallow_the_next_note_of_the_same_value(ready):
    emulated, driver, recorder = ready
    emulated.lose_replies(ACK_FROM_ACCEPTOR, 1)  # the ACK to the first note's STACK-1
    emulated.lose_replies(Status.STACKED, 1)  # and the first note's STACKED
    # Nothing between the first VEND VALID and the second ESCROW reaches the
    # driver, as when those statuses were dropped with the rest of their reads.
    emulated.lose_replies(Status.IDLING, 10_000)
    emulated.lose_replies(Status.ACCEPTING, 10_000)

    tally = feed_until_settled(emulated, driver, recorder, (10, 10), timeout_s=5, heal_line_first=True)

    assert emulated.counters.replies_lost >= 3  # the line did lose them
    assert_every_stacked_note_credited_once(tally, stacked_notes=2)
    assert tally.credited_fen == [1000, 1000]
    first, second = recorder.of(NoteEscrowed)
    assert first.note_id != second.note_id
    assert tally.credited_ids == [first.note_id, second.note_id]
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)


# ---------------------------------------------------------------- one fault at a time


def test_replies_written_back_to_back_in_one_write_are_all_acted_on(ready):
    emulated, driver, recorder = ready
    emulated.burst_replies(3, hold_s=0.25)

    tally = feed_until_settled(emulated, driver, recorder, NOTES_YUAN, timeout_s=10)

    assert emulated.counters.multi_frame_writes >= 10 and driver.stats().multi_frame_reads >= 10
    assert_every_stacked_note_credited_once(tally, stacked_notes=len(NOTES_YUAN))
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)


def test_replies_split_across_reads_are_read_whole_even_when_the_tail_comes_after_the_window(ready):
    emulated, driver, recorder = ready
    # Gaps up to 0.15 s: some tails arrive after the 0.1 s response window.
    emulated.split_replies((0.002, 0.15))

    tally = feed_until_settled(emulated, driver, recorder, NOTES_YUAN, timeout_s=10)

    assert emulated.counters.split_writes >= 20 and driver.stats().late_replies >= 1
    assert_every_stacked_note_credited_once(tally, stacked_notes=len(NOTES_YUAN))
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)


def test_noise_between_back_to_back_replies_is_skipped_and_every_frame_read(ready):
    emulated, driver, recorder = ready
    emulated.burst_replies(2, hold_s=0.2)
    emulated.noise_between_replies(0.6, max_bytes=8)

    tally = feed_until_settled(emulated, driver, recorder, NOTES_YUAN, timeout_s=10)

    assert emulated.counters.noise_bytes >= 100 and driver.stats().skipped_bytes >= 100
    assert_every_stacked_note_credited_once(tally, stacked_notes=len(NOTES_YUAN))
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)


def test_replies_up_to_a_second_late_are_acted_on_and_vend_valid_is_not_acked_for_the_next_note(ready):
    emulated, driver, recorder = ready
    emulated.delay_replies(0.0, 1.0)
    notes = (10, 10, 50, 10, 10)

    tally = feed_until_settled(emulated, driver, recorder, notes, timeout_s=14)

    assert driver.stats().late_replies >= 10
    assert_every_stacked_note_credited_once(tally, stacked_notes=len(notes))
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)
    # A late VEND VALID read after our ACK is not acknowledged again, so no
    # stray ACK reached the acceptor while a later note waited in VEND VALID.
    assert emulated.counters.early_acks == 0


def test_lost_acks_both_ways_on_a_late_line_credit_every_stacked_note_once_and_return_the_rest(ready):
    emulated, driver, recorder = ready
    driver.set_decider(lambda fen: fen != 10000)  # ¥100 goes back: RETURN and its lost ACKs too
    emulated.delay_replies(0.0, 0.3)
    emulated.lose_replies(ACK_FROM_ACCEPTOR, 4)  # the acceptor's ACKs to STACK-1/RETURN
    emulated.drop_acks(3)  # the driver's ACKs to VEND VALID

    tally = feed_until_settled(emulated, driver, recorder, NOTES_YUAN, timeout_s=12)

    assert emulated.counters.replies_lost == 4 and emulated.counters.acks_dropped == 3
    assert_every_stacked_note_credited_once(tally, stacked_notes=len(NOTES_YUAN) - 1)
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)
    assert tally.returned_notes == 1 and tally.returned_events == 1
    assert 10000 not in tally.credited_fen


# ---------------------------------------------------------------- all of it


def test_every_line_fault_at_once_still_credits_exactly_the_notes_in_the_cash_box(ready):
    emulated, driver, recorder = ready
    emulated.burst_replies(2, hold_s=0.2)
    emulated.split_replies((0.002, 0.08))
    emulated.noise_between_replies(0.4)
    emulated.delay_replies(0.0, 0.3)
    emulated.lose_replies(ACK_FROM_ACCEPTOR, 2)
    emulated.lose_replies(Status.STACKED, 2)
    emulated.drop_acks(2)

    tally = feed_until_settled(emulated, driver, recorder, NOTES_YUAN, timeout_s=12)

    assert_every_stacked_note_credited_once(tally, stacked_notes=len(NOTES_YUAN))
    assert_every_status_frame_was_acted_on(emulated, driver, recorder)
    assert driver.stats().internal_errors == 0


def test_a_surplus_ack_is_counted_and_changes_no_note(ready):
    emulated, driver, recorder = ready
    emulated.insert_note(10)
    recorder.wait_events(NoteEscrowed)
    emulated.send_garbage(codec.ack())  # an ACK that answers nothing the driver sent
    emulated.insert_note(10)
    recorder.wait(lambda: sum(emulated.counters.stacked.values()) == 2, 5, "both notes stacked")
    driver.inhibit()
    recorder.wait(lambda: driver.settled, 3, "the driver settled")

    assert driver.stats().surplus_acks >= 1
    assert [event.denomination_fen for event in recorder.of(NoteCredited)] == [1000, 1000]
    assert recorder.of(NoteUnaccounted) == []
