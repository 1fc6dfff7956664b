"""The kiosk writes a purchase to the card exactly once: the real driver on the in-process reader, every outcome.

The same story against pcscd + vpcd is ``test_purse_write_pcsc.py``.  The
tokens are the billing side's (``contract/card_token.py``); the card checks
them with the key it was issued with.
"""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import datetime

import pytest

from contract.card_token import PurseUpdate, WriteToken, card_key
from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.pcsc.diag import EXIT_OK, run_diag
from drivers.pcsc.emulator import EmulatedReader
from drivers.pcsc.applet import PrepaidCardApplet
from drivers.pcsc.meter import MeterVerdict, PrepaidMeter, encode_report
from drivers.pcsc.purse_write import (COUNT_MISMATCH, HOARDING_LIMIT, MEMORY_FAILURE, METER_BEHIND, NOT_THIS_CARD,
                                      READER_GONE, WRONG_MAC, PurseReading, WriteOutcome, read_purse, write_purse)
from drivers.pcsc.reader import CardReaderDriver
from drivers.pcsc.write_back import EF_WRITE_BACK

try:
    from card_helpers import CardInserted, CardRemoved, Recorder, wait_for_no_card_threads
except ImportError:  # tests/drivers made a package
    from .card_helpers import CardInserted, CardRemoved, Recorder, wait_for_no_card_threads

MASTER = bytes.fromhex("8F1E2D3C4B5A69788796A5B4C3D2E1F0")
CARD = DEMO_CARD  # purse: 50 yuan, 3 purchases


def issued(info=CARD, *, hoarding_limit_fen: int = 0) -> CardImage:
    return CardImage.of(info, purse_key=card_key(MASTER, info.serial), hoarding_limit_fen=hoarding_limit_fen)


def token(credit_fen: int = 20000, count: int = 4, purchase_no: str = "EP20261121-0007",
          serial: str = CARD.serial) -> WriteToken:
    return WriteToken.issue(MASTER, PurseUpdate(serial, purchase_no, credit_fen, count))


def at_the_meter(image: CardImage, meter: PrepaidMeter, when: datetime) -> MeterVerdict:
    """The customer takes the card home: the meter reads it out of any reader."""
    return meter.take_card(PrepaidCardApplet(image).process, when)


def on_card(image: CardImage) -> tuple[int, int]:
    return card_app.parse_purse(bytes(image.files[card_app.EF_PURSE]))


@pytest.fixture
def driver():
    driver = CardReaderDriver("emulator", poll_interval_s=0.05, apdu_timeout_s=0.3)
    yield driver
    driver.stop()
    driver.emulator.mute(False)
    assert wait_for_no_card_threads() == []


@pytest.fixture
def reader(driver) -> EmulatedReader:
    return driver.emulator


@pytest.fixture
def seen(driver) -> Recorder:
    recorder = Recorder(driver)
    driver.start()
    recorder.wait_online(card_present=False)
    return recorder


def put_in(reader: EmulatedReader, seen: Recorder, image: CardImage) -> None:
    count = len(seen.of(CardInserted)) + 1
    reader.insert(image)
    seen.wait_event(CardInserted, count=count)


# ----------------------------------------------------------------- written, and exactly once
def test_a_purchase_is_written_and_read_back(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.WRITTEN, "", 0x9000)
    assert result.before == PurseReading(5000, 3, None)
    assert result.after == PurseReading(20000, 4, None)
    assert on_card(image) == (20000, 4) and reader.writes_seen == 1


def test_a_purchase_already_on_the_card_is_confirmed_without_writing_again(reader, seen, driver):
    image = issued(replace(CARD, balance_fen=20000, purchase_count=4))  # the write went through, the kiosk died
    put_in(reader, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.on_card) == (WriteOutcome.ALREADY_WRITTEN, True)
    assert reader.writes_seen == 0
    assert "nothing sent" in result.detail


def test_writing_the_same_purchase_twice_writes_it_once(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN
    assert write_purse(driver, token()).outcome is WriteOutcome.ALREADY_WRITTEN
    assert reader.writes_seen == 1 and on_card(image) == (20000, 4)


# ----------------------------------------------------------------- refused before anything is sent
def test_a_card_that_took_another_purchase_is_refused_without_writing(reader, seen, driver):
    image = issued(replace(CARD, balance_fen=8800, purchase_count=4))  # count 4 is someone else's 88 yuan
    put_in(reader, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, COUNT_MISMATCH)
    assert "purchase count is 4" in result.detail and "needs it at 3" in result.detail
    assert reader.writes_seen == 0 and on_card(image) == (8800, 4)


def test_a_card_whose_meter_has_not_loaded_its_last_purchase_is_refused(reader, seen, driver):
    image = issued()  # purchase 3 on the card; its meter wrote back when it loaded purchase 2
    image.files[EF_WRITE_BACK][:] = encode_report(PrepaidMeter(CARD.meter_no, 1200, 2), datetime(2026, 11, 20, 8))
    put_in(reader, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, METER_BEHIND)
    assert result.before.meter_behind and reader.writes_seen == 0
    assert "loaded only 2" in result.detail


def test_a_token_for_another_card_is_refused_before_reading(reader, seen, driver):
    put_in(reader, seen, issued())
    result = write_purse(driver, token(serial="5A4B000000000099"))
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, NOT_THIS_CARD)
    assert reader.writes_seen == 0


def test_no_card_in_the_reader_is_refused(seen, driver):
    result = write_purse(driver, token())
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, "NO_CARD")


def test_a_card_mute_after_the_selects_is_refused_as_mute_with_nothing_sent(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.mute_on_apdu(3)  # SELECT MF and SELECT DF01 answered, then silence
    result = write_purse(driver, token())
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, "CARD_MUTE")
    assert reader.writes_seen == 0 and on_card(image) == (5000, 3)


# ----------------------------------------------------------------- refused by the card
def test_a_write_that_fails_verification_is_refused_with_6988(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.spoil_next_mac()
    result = write_purse(driver, token())
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.REFUSED, WRONG_MAC, 0x6988)
    assert on_card(image) == (5000, 3)
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN  # the same token, unspoiled


def test_credit_above_the_hoarding_limit_is_refused_by_the_card(reader, seen, driver):
    image = issued(hoarding_limit_fen=200_000)
    at_the_meter(image, PrepaidMeter(CARD.meter_no, remaining_fen=190_000, purchase_count=3), datetime(2026, 11, 20))
    put_in(reader, seen, image)
    result = write_purse(driver, token(credit_fen=20000))
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.REFUSED, HOARDING_LIMIT, 0x6A80)
    assert result.before.write_back.remaining_fen == 190_000 and on_card(image) == (5000, 3)


def test_a_worn_card_that_fails_the_write_is_read_back_and_refused(reader, seen, driver):
    image = issued()
    image.write_faults[card_app.EF_PURSE] = 0x6581
    put_in(reader, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.REFUSED, MEMORY_FAILURE, 0x6581)
    assert result.after == PurseReading(5000, 3, None)


# ----------------------------------------------------------------- the answer lost: the next read decides
def test_a_card_pulled_as_the_write_arrives_is_unknown_then_written_when_it_is_back(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.pull_on_write()
    lost = write_purse(driver, token())
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, "CARD_PULLED")
    assert on_card(image) == (5000, 3)
    seen.wait_event(CardRemoved)
    put_in(reader, seen, image)
    again = write_purse(driver, token())
    assert (again.outcome, again.before.purchase_count) == (WriteOutcome.WRITTEN, 3)
    assert reader.writes_seen == 2 and on_card(image) == (20000, 4)


def test_a_card_pulled_after_it_took_the_write_is_unknown_then_confirmed_without_writing(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.pull_on_write(after_writing=True)
    lost = write_purse(driver, token())
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, "CARD_PULLED")
    seen.wait_event(CardRemoved)
    put_in(reader, seen, image)
    again = write_purse(driver, token())
    assert again.outcome is WriteOutcome.ALREADY_WRITTEN
    assert reader.writes_seen == 1 and on_card(image) == (20000, 4)


def test_a_card_mute_on_the_write_is_unknown(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.mute_on_write()
    lost = write_purse(driver, token())
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, "CARD_MUTE")
    reader.remove()
    reader.mute(False)
    seen.wait_online(card_present=False)
    put_in(reader, seen, image)
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN


def test_the_reader_unplugged_during_the_write_is_unknown_then_written_when_it_is_back(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    reader.mute_on_write()
    unplugger = threading.Thread(target=lambda: reader.wait_for_writes(1) and reader.unplug())
    unplugger.start()
    lost = write_purse(driver, token())
    unplugger.join(5)
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, READER_GONE)
    assert "unavailable" in lost.detail or "disappeared" in lost.detail
    reader.mute(False)
    reader.plug()
    seen.wait_event(CardInserted, count=2)  # the card still in it is read again
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN
    assert on_card(image) == (20000, 4)


# ----------------------------------------------------------------- reading, and the technician's view
def test_the_meter_fills_the_write_back_file_and_the_next_read_shows_it(reader, seen, driver):
    image = issued()
    put_in(reader, seen, image)
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN
    reader.remove()
    meter = PrepaidMeter(CARD.meter_no, remaining_fen=350, purchase_count=3)
    assert at_the_meter(image, meter, datetime(2026, 11, 21, 19, 42)) is MeterVerdict.LOADED
    put_in(reader, seen, image)
    reading = read_purse(driver)
    assert (reading.write_back.remaining_fen, reading.write_back.purchase_count) == (20350, 4)
    assert not reading.meter_behind


def test_diag_prints_the_purse_and_the_write_back_file():
    image = issued()
    at_the_meter(image, PrepaidMeter(CARD.meter_no, remaining_fen=650, purchase_count=3, alarm_fen=1000),
                 datetime(2026, 11, 21, 19, 42))
    emulator = EmulatedReader()
    emulator.insert(image)
    out = io.StringIO()
    assert run_diag("read", "emulator", 2.0, out, emulator=emulator) == EXIT_OK
    lines = out.getvalue().splitlines()
    assert "purse:   ¥50.00 to load, 3 purchases" in lines
    assert ("write-back: meter 000012345678 on 2026-11-21 19:42: ¥6.50 left, overdraft ¥0.00, "
            "loaded purchase 3; credit below the alarm level") in lines
    emulator.remove()
    assert wait_for_no_card_threads() == []


def test_diag_says_when_the_card_has_not_been_in_its_meter():
    emulator = EmulatedReader()
    emulator.insert(issued())
    out = io.StringIO()
    assert run_diag("read", "emulator", 2.0, out, emulator=emulator) == EXIT_OK
    assert "write-back: empty — the card has not been in its meter since it was issued" in out.getvalue()
    emulator.remove()
    assert wait_for_no_card_threads() == []
