"""The acceptor driver against the ID-003 emulator on a real pty: every status and fault.

Money is checked both ways: what the driver credited against what the
emulated cash box physically holds (``emulator.counters``).
"""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from drivers.id003.diag import EXIT_ABSENT, EXIT_ERROR, EXIT_OK, EXIT_SILENT, run_diag
from drivers.id003.driver import AcceptorDriver
from drivers.id003.emulator import AcceptorEmulator, Timings
from drivers.id003.events import (
    AcceptorReady, NoteCredited, NoteEscrowed, NoteRejected, NoteReturned, NoteUnaccounted, PowerUpWithNote,
)
from drivers.status import DeviceState, Stacker

try:
    from conftest_id003 import ALL_FEN, Recorder, emulator, make_driver, ready  # noqa: F401 - fixtures
except ImportError:  # tests/drivers made a package
    from .conftest_id003 import ALL_FEN, Recorder, emulator, make_driver, ready  # noqa: F401


def credited_fen(recorder: Recorder) -> list[int]:
    return [event.denomination_fen for event in recorder.of(NoteCredited)]


def stacked_fen(emulated: AcceptorEmulator) -> list[int]:
    return sorted(yuan * 100 for yuan, count in emulated.counters.stacked.items() for _ in range(count))


# ---------------------------------------------------------------- start-up


def test_power_up_is_reset_and_the_currency_table_is_mapped_to_cny(emulator, make_driver):
    driver, recorder = make_driver(emulator.port)
    (ready_event,) = recorder.wait_events(AcceptorReady)
    assert ready_event.denominations_fen == (100, 500, 1000, 2000, 5000, 10000)
    assert "ID003" in ready_event.version
    assert driver.denominations == {0x61: 100, 0x62: 500, 0x63: 1000, 0x64: 2000, 0x65: 5000, 0x66: 10000}
    status = recorder.wait_state(driver, DeviceState.ONLINE)
    assert status.detail == "Ready; note intake inhibited."  # never takes money before it is asked to
    assert emulator.counters.commands["RESET"] == 1
    assert ("busy", "POWER_UP") in [(s.state.value, s.reason) for s in recorder.statuses]


def test_constructor_validates_its_settings():
    with pytest.raises(ValueError, match="silence_timeout_s"):
        AcceptorDriver("/dev/null", poll_interval_s=0.5, silence_timeout_s=0.2)
    with pytest.raises(ValueError, match="poll_interval_s"):
        AcceptorDriver("/dev/null", poll_interval_s=0)
    with pytest.raises(ValueError, match="port_url"):
        AcceptorDriver("")
    with pytest.raises(ValueError, match="not CNY notes"):
        AcceptorDriver("/dev/null", denominations={0x61: 300})


# ---------------------------------------------------------------- notes


def test_each_note_is_credited_once_at_vend_valid_and_matches_the_cash_box(ready):
    emulated, driver, recorder = ready
    notes = [50, 100, 1, 5, 10, 20, 100, 50]
    for yuan in notes:
        emulated.insert_note(yuan)
    recorder.wait_events(NoteCredited, len(notes), timeout=5)
    time.sleep(0.1)  # nothing more may come
    assert credited_fen(recorder) == [yuan * 100 for yuan in notes]
    assert [event.sequence for event in recorder.of(NoteCredited)] == list(range(1, len(notes) + 1))
    assert sorted(credited_fen(recorder)) == stacked_fen(emulated)
    assert emulated.counters.vend_valid_sent >= len(notes)
    assert driver.stats().notes_credited == len(notes)


def test_vend_valid_repeated_because_acks_are_lost_still_credits_once(ready):
    emulated, driver, recorder = ready
    emulated.drop_acks(3)
    emulated.insert_note(100)
    recorder.wait_events(NoteCredited)
    recorder.wait(lambda: emulated.counters.stacked[100] == 1, what="note in the cash box")
    time.sleep(0.1)
    assert emulated.counters.acks_dropped == 3
    assert emulated.counters.vend_valid_sent >= 4  # the acceptor said VEND VALID four times or more
    assert credited_fen(recorder) == [10000]


def test_garbled_replies_around_vend_valid_still_credit_once(emulator, make_driver):
    emulator.timings = Timings(stacking_s=0.3)
    driver, recorder = make_driver(emulator.port)
    recorder.wait_events(AcceptorReady)
    driver.enable(ALL_FEN)
    emulator.insert_note(20)
    recorder.wait(lambda: emulator.phase == "stacking", what="stacking")
    emulator.garble_replies(4)
    emulator.drop_acks(1)
    recorder.wait(lambda: emulator.counters.stacked[20] == 1, what="note in the cash box")
    time.sleep(0.1)
    assert credited_fen(recorder) == [2000]
    assert driver.stats().crc_errors >= 1


def test_note_is_returned_when_decide_says_no(ready):
    emulated, driver, recorder = ready
    asked: list[int] = []
    driver.set_decider(lambda fen: asked.append(fen) or fen <= 2000)
    emulated.insert_note(100)
    emulated.insert_note(10)
    recorder.wait_events(NoteCredited)
    recorder.wait(lambda: emulated.counters.returned[100] == 1 and emulated.counters.stacked[10] == 1,
                  what="¥100 given back, ¥10 in the box")
    assert asked == [10000, 1000]
    assert recorder.of(NoteReturned) == [NoteReturned(10000)]
    assert [e.stacking for e in recorder.of(NoteEscrowed)] == [False, True]
    assert credited_fen(recorder) == [1000] and stacked_fen(emulated) == [1000]


def test_a_decider_that_raises_returns_the_note(ready):
    emulated, driver, recorder = ready
    driver.set_decider(lambda fen: 1 / 0)
    emulated.insert_note(50)
    recorder.wait(lambda: emulated.counters.returned[50] == 1, what="note given back")
    assert credited_fen(recorder) == []


def test_notes_outside_the_accepted_set_are_refused_by_the_acceptor(ready):
    emulated, driver, recorder = ready
    driver.enable({10000})
    recorder.wait(lambda: emulated.accepted_yuan == {100}, what="only ¥100 enabled in the acceptor")
    emulated.insert_note(1)
    (rejected,) = recorder.wait_events(NoteRejected)
    assert rejected.reason_code == 0x79 and "inhibited" in rejected.reason
    emulated.insert_note(100)
    recorder.wait_events(NoteCredited)
    assert credited_fen(recorder) == [10000] and emulated.counters.rejected == 1


def test_rejected_note_is_reported_with_its_reason(ready):
    emulated, driver, recorder = ready
    emulated.reject(0x72)
    (rejected,) = recorder.wait_events(NoteRejected)
    assert rejected == NoteRejected(0x72, "magnetic pattern error")
    assert credited_fen(recorder) == []


def test_inhibit_stops_intake_and_enable_resumes_it(ready):
    emulated, driver, recorder = ready
    driver.inhibit()
    recorder.wait(lambda: driver.status.detail == "Ready; note intake inhibited.", what="inhibited")
    emulated.insert_note(5)
    time.sleep(0.2)
    assert emulated.pending_notes == 1 and credited_fen(recorder) == []
    driver.enable(ALL_FEN)
    recorder.wait_events(NoteCredited)
    assert credited_fen(recorder) == [500]


def test_a_note_past_escrow_when_intake_stops_is_credited_before_the_driver_is_settled(ready):
    emulated, driver, recorder = ready
    emulated.insert_note(50)
    recorder.wait_events(NoteEscrowed)
    driver.inhibit()
    assert not driver.settled
    recorder.wait(lambda: driver.settled, what="inhibited with no note inside")
    assert credited_fen(recorder) == [5000]


# ---------------------------------------------------------------- faults


FAULTS = [
    # (name, set, clear, state, reason, detail check)
    ("jam in acceptor", lambda e: e.jam("acceptor"), lambda e: e.clear_jam(),
     DeviceState.HARDWARE_ERROR, "JAM_IN_ACCEPTOR", lambda d: d.jammed),
    ("jam in stacker", lambda e: e.jam("stacker"), lambda e: e.clear_jam(),
     DeviceState.HARDWARE_ERROR, "JAM_IN_STACKER", lambda d: d.jammed),
    ("stacker full", lambda e: e.stacker_full(True), lambda e: e.stacker_full(False),
     DeviceState.HARDWARE_ERROR, "STACKER_FULL", lambda d: d.stacker is Stacker.FULL),
    ("stacker open", lambda e: e.stacker_open(True), lambda e: e.stacker_open(False),
     DeviceState.HARDWARE_ERROR, "STACKER_OPEN", lambda d: d.stacker is Stacker.OPEN),
    ("cheated", lambda e: e.cheated(True), lambda e: e.cheated(False),
     DeviceState.HARDWARE_ERROR, "CHEATED", lambda d: True),
    ("failure", lambda e: e.failure(0xA6), lambda e: e.failure(None),
     DeviceState.HARDWARE_ERROR, "FAILURE", lambda d: True),
    ("pause", lambda e: e.pause(True), lambda e: e.pause(False),
     DeviceState.BUSY, "PAUSE", lambda d: True),
]


@pytest.mark.parametrize("name, set_fault, clear_fault, state, reason, check", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_maps_to_the_status_model_and_clears_by_itself(ready, name, set_fault, clear_fault, state, reason,
                                                              check):
    emulated, driver, recorder = ready
    set_fault(emulated)
    status = recorder.wait_state(driver, state, reason)
    assert check(status.device_detail) and status.detail
    if reason == "FAILURE":
        assert "A6h" in status.detail and "transport motor" in status.detail
    clear_fault(emulated)
    recorder.wait(lambda: driver.status.detail == "Accepting notes.", what="back online, enabled")
    emulated.insert_note(10)
    recorder.wait_events(NoteCredited)


def test_jam_while_stacking_is_reported_for_reconciliation(emulator, make_driver):
    emulator.timings = Timings(stacking_s=0.5)
    driver, recorder = make_driver(emulator.port)
    recorder.wait_events(AcceptorReady)
    driver.enable(ALL_FEN)
    emulator.insert_note(50)
    recorder.wait(lambda: emulator.phase == "stacking", what="stacking")
    emulator.jam("stacker")
    recorder.wait_state(driver, DeviceState.HARDWARE_ERROR, "JAM_IN_STACKER")
    emulator.clear_jam()
    (unaccounted,) = recorder.wait_events(NoteUnaccounted)
    assert unaccounted.denomination_fen == 5000
    assert credited_fen(recorder) == []


# ---------------------------------------------------------------- power


@pytest.mark.parametrize("where", ["acceptor", "stacker"])
def test_power_up_with_a_note_inside_is_a_distinct_event(emulator, make_driver, where):
    emulator.power_up_with_note(where, yuan=50)
    driver, recorder = make_driver(emulator.port)
    (event,) = recorder.wait_events(PowerUpWithNote)
    assert event == PowerUpWithNote(where, None, False)
    recorder.wait_events(AcceptorReady)
    recorder.wait_state(driver, DeviceState.ONLINE)
    assert credited_fen(recorder) == []
    box = emulator.counters.stacked if where == "stacker" else emulator.counters.returned
    assert box[50] == 1


def test_power_cut_while_a_credited_note_waits_for_its_ack_says_so(ready):
    emulated, driver, recorder = ready
    emulated.drop_acks(1000)
    emulated.insert_note(100)
    recorder.wait_events(NoteCredited)
    emulated.power_up_with_note("stacker", yuan=100)
    (event,) = recorder.wait_events(PowerUpWithNote)
    assert event == PowerUpWithNote("stacker", 10000, True)  # the journal already has it: do not pay twice
    recorder.wait_events(AcceptorReady, 2)  # re-initialised after the reset
    assert credited_fen(recorder) == [10000] and emulated.counters.stacked[100] == 1


def test_vend_valid_for_a_note_this_driver_never_saw_is_unaccounted_not_credited(emulator, make_driver):
    first, first_recorder = make_driver(emulator.port)
    first_recorder.wait_events(AcceptorReady)
    first.enable(ALL_FEN)
    emulator.drop_acks(1000)
    emulator.insert_note(20)
    first_recorder.wait_events(NoteCredited)
    assert first.stop(2.0)
    time.sleep(0.1)  # the first driver's last ACK may still be in the pty: let it be dropped too
    emulator.drop_acks(0)  # the line is good again
    second, recorder = make_driver(emulator.port)
    (unaccounted,) = recorder.wait_events(NoteUnaccounted)
    assert unaccounted.denomination_fen is None
    recorder.wait(lambda: emulator.counters.stacked[20] == 1, what="ACK from the second driver")
    assert credited_fen(recorder) == []


# ---------------------------------------------------------------- the line


def test_silent_acceptor_goes_offline_then_back_online(ready):
    emulated, driver, recorder = ready
    emulated.go_silent(True)
    status = recorder.wait_state(driver, DeviceState.OFFLINE, "SILENT", timeout=2)
    assert emulated.port in status.detail
    emulated.go_silent(False)
    recorder.wait_state(driver, DeviceState.ONLINE, timeout=2)
    emulated.insert_note(1)
    recorder.wait_events(NoteCredited)


def test_bytes_without_valid_frames_are_a_communication_error(ready):
    emulated, driver, recorder = ready
    emulated.go_silent(True)
    stop = threading.Event()

    def noise() -> None:
        while not stop.is_set():
            emulated.send_garbage(b"\x55\xaa\x13\x00")
            time.sleep(0.01)

    thread = threading.Thread(target=noise)
    thread.start()
    try:
        recorder.wait_state(driver, DeviceState.OFFLINE, "COMMUNICATION_ERROR", timeout=2)
    finally:
        stop.set()
        thread.join()
    emulated.go_silent(False)
    recorder.wait_state(driver, DeviceState.ONLINE, timeout=2)


def test_garbage_on_the_line_does_not_stop_notes(ready):
    emulated, driver, recorder = ready
    for burst in (b"\xfc", b"\xfc\x05\x11\x00\x00", b"\xfc\x40" + bytes(10), bytes(range(256)), b"\xfc\xfc\x06"):
        emulated.send_garbage(burst)
        time.sleep(0.01)
    emulated.insert_note(50)
    emulated.send_garbage(b"\x00\xfc\x07\x13")
    recorder.wait_events(NoteCredited)
    assert credited_fen(recorder) == [5000]
    assert driver.status.state in (DeviceState.ONLINE, DeviceState.BUSY)
    assert driver.stats().internal_errors == 0


def test_unplugged_port_is_port_gone_then_reconnects_by_itself(ready):
    emulated, driver, recorder = ready
    emulated.unplug()
    status = recorder.wait_state(driver, DeviceState.OFFLINE, "PORT_GONE", timeout=2)
    assert emulated.port in status.detail
    time.sleep(0.3)  # a few failed reopen attempts
    emulated.replug()
    recorder.wait(lambda: driver.status.detail == "Accepting notes.", timeout=3, what="reconnected and enabled")
    emulated.insert_note(100)
    recorder.wait_events(NoteCredited)
    assert driver.stats().port_losses == 1 and driver.stats().port_opens >= 2


def test_unplugged_mid_vend_valid_credits_once_after_reconnect(ready):
    emulated, driver, recorder = ready
    emulated.drop_acks(1000)
    emulated.insert_note(10)
    recorder.wait_events(NoteCredited)
    emulated.unplug()
    recorder.wait_state(driver, DeviceState.OFFLINE, "PORT_GONE", timeout=2)
    emulated.drop_acks(0)
    emulated.replug()
    recorder.wait(lambda: emulated.counters.stacked[10] == 1, timeout=3, what="ACK after reconnect")
    assert credited_fen(recorder) == [1000] and recorder.of(NoteUnaccounted) == []


def test_driver_started_before_the_port_exists_connects_when_it_appears(emulator, make_driver):
    emulator.unplug()
    driver, recorder = make_driver(emulator.port)
    recorder.wait_state(driver, DeviceState.OFFLINE, "PORT_GONE")
    emulator.replug()
    recorder.wait_events(AcceptorReady, timeout=3)


def test_stop_joins_quickly_and_inhibits_the_acceptor(ready):
    emulated, driver, recorder = ready
    started = time.monotonic()
    assert driver.stop(2.0)
    assert time.monotonic() - started < 0.5
    assert driver.status.reason == "STOPPED"
    emulated.insert_note(5)
    time.sleep(0.2)
    assert emulated.pending_notes == 1  # the acceptor was left inhibited


def test_a_listener_that_raises_does_not_stop_the_driver(ready):
    emulated, driver, recorder = ready
    driver.subscribe_events(lambda event: 1 / 0)
    emulated.insert_note(1)
    emulated.insert_note(5)
    recorder.wait_events(NoteCredited, 2)
    assert driver.stats().internal_errors == 0


# ---------------------------------------------------------------- kiosk diag acceptor


def test_diag_prints_status_version_and_table(emulator):
    out = io.StringIO()
    assert run_diag(emulator.port, None, 3.0, out, poll_interval_s=0.02) == EXIT_OK
    text = out.getvalue()
    assert "online" in text and "ID003" in text and "66h=¥100" in text


def test_diag_takes_notes_and_prints_one_json_line_each(emulator):
    out = io.StringIO()

    def customer() -> None:
        time.sleep(0.4)
        for yuan in (50, 20, 100):
            emulator.insert_note(yuan)

    threading.Thread(target=customer, daemon=True).start()
    assert run_diag(emulator.port, 2, 5.0, out, poll_interval_s=0.02) == EXIT_OK
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert lines == [{"event": "credited", "yuan": 50}, {"event": "credited", "yuan": 20},
                     {"event": "summary", "notes": 2, "total_yuan": 70, "timed_out": False}]
    assert emulator.counters.stacked[100] == 0  # stopped at N


@pytest.mark.parametrize("fault, code, words", [
    ("absent", EXIT_ABSENT, "does not exist"),
    ("silent", EXIT_SILENT, "No answer"),
    ("jam", EXIT_ERROR, "JAM_IN_ACCEPTOR"),
])
def test_diag_says_what_is_wrong_and_exits_non_zero(emulator, fault, code, words):
    if fault == "absent":
        emulator.unplug()
    elif fault == "silent":
        emulator.go_silent(True)
    else:
        emulator.jam()
    out = io.StringIO()
    assert run_diag(emulator.port, None, 2.0, out, poll_interval_s=0.02) == code
    assert words in out.getvalue()


def test_port_held_by_another_program_is_port_unavailable(emulator, make_driver):
    first, first_recorder = make_driver(emulator.port)
    first_recorder.wait_state(first, DeviceState.ONLINE)
    second, recorder = make_driver(emulator.port)
    status = recorder.wait_state(second, DeviceState.OFFLINE, "PORT_UNAVAILABLE")
    assert "lock" in status.detail
    assert first.status.state is DeviceState.ONLINE  # the holder is not disturbed
