"""The purse write against the real thing: pcscd + vsmartcard's vpcd + our virtual card, every card fault.

pcscd, its reader configuration and the skip rules are ``test_card_pcsc.py``'s
(its fixtures are imported here): everything is skipped, with the reason,
only where pcscd cannot run.  The in-process version of each story is in
``test_purse_write.py``.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
from datetime import datetime

import pytest

from contract.card_token import PurseUpdate, WriteToken, card_key
from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage, PrepaidCardApplet
from drivers.pcsc.diag import EXIT_OK, run_diag
from drivers.pcsc.meter import PrepaidMeter
from drivers.pcsc.purse_write import (COUNT_MISMATCH, HOARDING_LIMIT, READER_GONE, WRONG_MAC, WriteOutcome,
                                      write_purse)
from drivers.pcsc.reader import CardReaderDriver

try:
    from card_helpers import CardInserted, CardRemoved, Recorder
    from test_card_pcsc import VPCD_READER, card, clean_world, own_pcscd, pcscd  # noqa: F401 - fixtures
except ImportError:  # tests/drivers made a package
    from .card_helpers import CardInserted, CardRemoved, Recorder
    from .test_card_pcsc import VPCD_READER, card, clean_world, own_pcscd, pcscd  # noqa: F401 - fixtures

MASTER = bytes.fromhex("8F1E2D3C4B5A69788796A5B4C3D2E1F0")
CARD = DEMO_CARD  # purse: 50 yuan, 3 purchases


def issued(*, hoarding_limit_fen: int = 0) -> CardImage:
    return CardImage.of(CARD, purse_key=card_key(MASTER, CARD.serial), hoarding_limit_fen=hoarding_limit_fen)


def token(credit_fen: int = 20000, count: int = 4, purchase_no: str = "EP20261121-0007") -> WriteToken:
    return WriteToken.issue(MASTER, PurseUpdate(CARD.serial, purchase_no, credit_fen, count))


def on_card(image: CardImage) -> tuple[int, int]:
    return card_app.parse_purse(bytes(image.files[card_app.EF_PURSE]))


@pytest.fixture
def driver(pcscd):
    # The APDU timeout is longer than test_card_pcsc's: a pcscd restart must
    # come before the driver gives up on a held write.
    driver = CardReaderDriver(f"pcsc:{VPCD_READER}", poll_interval_s=0.1, apdu_timeout_s=1.5)
    yield driver
    driver.stop()


@pytest.fixture
def seen(driver, card) -> Recorder:
    recorder = Recorder(driver)
    driver.start()
    recorder.wait_online(card_present=False)
    return recorder


def put_in(card, seen: Recorder, image: CardImage) -> None:
    count = len(seen.of(CardInserted)) + 1
    card.insert(image)
    seen.wait_event(CardInserted, count=count)


def test_a_purchase_is_written_and_read_back_through_pcscd(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.after.purchase_count, result.after.credit_fen) == (WriteOutcome.WRITTEN, 4, 20000)
    assert write_purse(driver, token()).outcome is WriteOutcome.ALREADY_WRITTEN
    assert card.writes_seen == 1 and on_card(image) == (20000, 4)


def test_a_card_pulled_mid_apdu_is_unknown_and_the_next_read_decides(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    card.pull_on_write(after_writing=True)  # it took the write; vpcd gets no answer
    lost = write_purse(driver, token())
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, "CARD_PULLED")
    seen.wait_event(CardRemoved)
    put_in(card, seen, image)
    assert write_purse(driver, token()).outcome is WriteOutcome.ALREADY_WRITTEN
    assert card.writes_seen == 1


def test_a_card_pulled_before_it_took_the_write_is_written_once_it_is_back(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    card.pull_on_write()
    assert write_purse(driver, token()).outcome is WriteOutcome.UNKNOWN
    assert on_card(image) == (5000, 3)
    seen.wait_event(CardRemoved)
    put_in(card, seen, image)
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN
    assert on_card(image) == (20000, 4)


def test_a_card_mute_after_select_is_refused_with_nothing_sent(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    card.mute_on_apdu(3)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, "CARD_MUTE")
    assert card.writes_seen == 0
    card.remove()  # vpcd's blocked transmit returns; the abandoned session ends
    card.mute(False)
    seen.wait_online(card_present=False)


def test_a_wrong_mac_is_refused_with_6988(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    card.spoil_next_mac()
    result = write_purse(driver, token())
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.REFUSED, WRONG_MAC, 0x6988)
    assert on_card(image) == (5000, 3)


def test_a_count_mismatch_is_refused_without_writing(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    result = write_purse(driver, token(count=5))
    assert (result.outcome, result.reason) == (WriteOutcome.REFUSED, COUNT_MISMATCH)
    assert card.writes_seen == 0


def test_the_hoarding_limit_is_refused_by_the_card(card, seen, driver):
    image = issued(hoarding_limit_fen=200_000)
    PrepaidMeter(CARD.meter_no, remaining_fen=190_000, purchase_count=3).take_card(
        PrepaidCardApplet(image).process, datetime(2026, 11, 20, 8, 0))
    put_in(card, seen, image)
    result = write_purse(driver, token())
    assert (result.outcome, result.reason, result.sw) == (WriteOutcome.REFUSED, HOARDING_LIMIT, 0x6A80)


def test_the_reader_unplugged_during_the_write_is_unknown_then_written(own_pcscd, card, seen, driver):
    # vpcd's reader cannot be unplugged while pcscd runs (reader.conf readers are fixed):
    # pcscd comes back without it, as after a reader's USB cable was pulled.
    image = issued()
    put_in(card, seen, image)
    card.mute_on_write()
    unplugger = threading.Thread(target=lambda: card.wait_for_writes(1) and own_pcscd.restart("none"))
    unplugger.start()
    lost = write_purse(driver, token())
    unplugger.join(10)
    assert (lost.outcome, lost.reason) == (WriteOutcome.UNKNOWN, READER_GONE), lost
    card.mute(False)
    own_pcscd.restart("vpcd")
    seen.wait_event(CardInserted, count=2)  # the virtual card reconnects by itself
    assert write_purse(driver, token()).outcome is WriteOutcome.WRITTEN
    assert on_card(image) == (20000, 4)


def test_token_write_and_read_back_take_well_under_half_a_second(card, seen, driver):
    image = issued()
    put_in(card, seen, image)
    durations = []
    for count in range(4, 24):
        started = time.perf_counter()
        result = write_purse(driver, token(credit_fen=100 * count, count=count, purchase_no=f"EP-{count}"))
        durations.append(time.perf_counter() - started)
        assert result.outcome is WriteOutcome.WRITTEN, result
    p95 = statistics.quantiles(durations, n=20)[-1]
    assert p95 <= 0.5, f"p95 {p95 * 1000:.0f} ms"


def test_diag_prints_the_write_back_file_through_pcscd(card, pcscd):
    image = issued()
    PrepaidMeter(CARD.meter_no, remaining_fen=650, purchase_count=3).take_card(
        PrepaidCardApplet(image).process, datetime(2026, 11, 21, 19, 42))
    card.insert(image)
    out = io.StringIO()
    assert run_diag("read", VPCD_READER, 5.0, out) == EXIT_OK
    assert ("write-back: meter 000012345678 on 2026-11-21 19:42: ¥6.50 left, overdraft ¥0.00, "
            "loaded purchase 3; credit below the alarm level") in out.getvalue().splitlines()
