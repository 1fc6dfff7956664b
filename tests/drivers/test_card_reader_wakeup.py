"""An exchange with the card never waits for the reader worker's poll.

The worker sits in SCardGetStatusChange between polls (``poll_interval_s``,
0.3 s by default) and :meth:`CardReaderDriver.exchange` wakes it with
SCardCancel.  A cancel only reaches a call already waiting in pcscd, so one
sent while the worker is on its way into the call is lost; the emulated
reader plays that trip (``status_call_latency_s``) so these tests see what
a kiosk on pcscd sees.
"""

from __future__ import annotations

import time

import pytest

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD
from drivers.pcsc.emulator import EmulatedReader
from drivers.pcsc.reader import CardReaderDriver

try:
    from card_helpers import CardInserted, Recorder, wait_for_no_card_threads
except ImportError:  # tests/drivers made a package
    from .card_helpers import CardInserted, Recorder, wait_for_no_card_threads

POLL_S = 0.3  # the driver's default, the wait a lost wake-up costs
TRIP_S = 0.002  # a SCardGetStatusChange's way to pcscd, about what a local socket takes
SLOWEST_EXCHANGE_S = 0.1


@pytest.fixture
def driver_with_card():
    driver = CardReaderDriver("emulator", poll_interval_s=POLL_S,
                              emulator=EmulatedReader(status_call_latency_s=TRIP_S))
    seen = Recorder(driver)
    driver.start()
    seen.wait_online(card_present=False)
    driver.emulator.insert(DEMO_CARD)
    seen.wait_event(CardInserted)
    seen.wait_online(card_present=True)
    yield driver
    driver.stop()
    assert wait_for_no_card_threads() == []


def _timed_exchange(driver: CardReaderDriver) -> float:
    started = time.monotonic()
    result = driver.exchange([card_app.select_file(card_app.MF)])
    elapsed = time.monotonic() - started
    assert result.error is None, result.error
    return elapsed


def test_two_hundred_exchanges_in_a_row_each_answer_within_a_tenth_of_a_second(driver_with_card):
    # Gaps of 0 to 3 ms between the exchanges put each request at another
    # moment of the worker's loop, the trip into SCardGetStatusChange too.
    slow = []
    for number in range(200):
        time.sleep((number % 7) * 0.0005)
        elapsed = _timed_exchange(driver_with_card)
        if elapsed > SLOWEST_EXCHANGE_S:
            slow.append((number, round(elapsed, 3)))
    assert slow == [], f"exchanges (number, seconds) that waited for the poll: {slow}"


def test_an_exchange_after_the_worker_has_settled_into_its_poll_answers_at_once(driver_with_card):
    time.sleep(POLL_S / 2)  # the worker is deep in its wait: the cancel reaches it
    assert _timed_exchange(driver_with_card) < SLOWEST_EXCHANGE_S


def test_the_emulated_reader_refuses_a_trip_longer_than_a_second():
    with pytest.raises(ValueError, match="status_call_latency_s 2 is outside 0..1"):
        EmulatedReader(status_call_latency_s=2)
