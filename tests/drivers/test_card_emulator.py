"""The card reader driver on the in-process emulated reader (no pcscd): every fault, fast.

The same driver code runs here as on pcscd; the emulator answers with the
same card application and the PC/SC return codes pcscd gives.
"""

from __future__ import annotations

import io

import pytest

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.pcsc.diag import EXIT_CARD_ERROR, EXIT_NO_CARD, EXIT_NO_READER, EXIT_OK, EXIT_SERVICE_DOWN, run_diag
from drivers.pcsc.emulator import EMULATED_READER_NAME, EmulatedReader
from drivers.pcsc.reader import CardReaderDriver, ExchangeResult, parse_reader_setting
from drivers.status import DeviceState

try:
    from card_helpers import CardError, CardInserted, CardRemoved, Recorder, wait_for_no_card_threads
except ImportError:  # tests/drivers made a package
    from .card_helpers import CardError, CardInserted, CardRemoved, Recorder, wait_for_no_card_threads

FAST = dict(poll_interval_s=0.05, apdu_timeout_s=0.3)


@pytest.fixture
def driver():
    driver = CardReaderDriver("emulator", **FAST)
    yield driver
    driver.stop()
    if driver.emulator is not None:
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


def test_an_empty_reader_is_online_with_no_card(driver, seen):
    status = driver.status
    assert (status.state, status.reason) == (DeviceState.ONLINE, "")
    assert (status.device_detail.reader_present, status.device_detail.card_present,
            status.device_detail.reader_name) == (True, False, EMULATED_READER_NAME)


def test_inserting_a_card_announces_its_account_after_reading_it(driver, reader, seen):
    reader.insert(DEMO_CARD)
    event = seen.wait_event(CardInserted)
    assert event.card_info == DEMO_CARD
    assert event.atr == card_app.atr_for_serial(DEMO_CARD.serial)
    assert event.reader == EMULATED_READER_NAME
    assert seen.wait_online(card_present=True)
    assert driver.card == DEMO_CARD
    assert (DeviceState.BUSY, "") in [(s.state, s.reason) for s in seen.statuses]


def test_taking_the_card_out_announces_its_removal(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    reader.remove()
    assert seen.wait_event(CardRemoved).reader == EMULATED_READER_NAME
    seen.wait_online(card_present=False)
    assert driver.card is None


def test_a_mute_card_times_out_as_card_mute_until_it_is_taken_out(driver, reader, seen):
    reader.mute(True)
    reader.insert()
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_MUTE"
    assert "00 A4 00 0C 02 3F 00" in error.detail and "0.3 s" in error.detail
    status = seen.wait_reason(DeviceState.HARDWARE_ERROR, "CARD_MUTE")
    assert status.device_detail.card_present
    reader.remove()
    reader.mute(False)
    seen.wait_online(card_present=False)
    reader.insert()
    assert seen.wait_event(CardInserted).card_info.account_no == DEMO_CARD.account_no
    assert seen.of(CardRemoved) == []  # the mute card was never announced, so never removed


def test_a_card_swapped_between_two_looks_is_removed_and_the_new_one_read(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    other = card_app.CardInfo(card_app.Utility.GAS, "5101200011", "000000000042", serial="00000000000000AA")
    with reader._cond:  # out and in while the driver cannot look
        reader.remove()
        reader.insert(other)
    seen.wait_event(CardRemoved)
    assert seen.wait_event(CardInserted, count=2).card_info == other


def test_a_card_pulled_while_it_is_read_is_card_pulled_and_never_announced(driver, reader, seen):
    reader.pull_on_apdu(3)
    reader.insert()
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_PULLED"
    assert "0x80100016" in error.detail
    seen.wait_online(card_present=False)
    assert seen.of(CardInserted) == [] and seen.of(CardRemoved) == []


def test_a_card_pulled_during_an_exchange_fails_it_and_is_removed(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    reader.pull_on_apdu(2)
    result = driver.exchange([card_app.select_file(card_app.MF), card_app.select_file(card_app.DF_PREPAID)])
    assert result.error is not None and result.error.reason == "CARD_PULLED"
    seen.wait_event(CardRemoved)
    seen.wait_online(card_present=False)


def test_an_exchange_returns_every_response(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    result = driver.exchange([card_app.select_file(card_app.MF), card_app.select_file(card_app.DF_PREPAID),
                              card_app.read_binary(8, sfi=card_app.SFI_PURSE)])
    assert result == ExchangeResult((bytes.fromhex("9000"), bytes.fromhex("9000"),
                                     card_app.encode_purse(5000, 3) + bytes.fromhex("9000")))


def test_an_exchange_with_a_card_that_goes_mute_times_out(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    reader.mute(True)
    result = driver.exchange([card_app.select_file(card_app.MF)])
    assert result.error.reason == "CARD_MUTE"
    seen.wait_reason(DeviceState.HARDWARE_ERROR, "CARD_MUTE")
    reader.remove()
    seen.wait_event(CardRemoved)
    seen.wait_online(card_present=False)


def test_an_exchange_without_a_card_says_no_card(driver, seen):
    result = driver.exchange([card_app.select_file(card_app.MF)])
    assert (result.ok, result.error.reason) == (False, "NO_CARD")


def test_an_exchange_with_a_stopped_driver_says_so():
    driver = CardReaderDriver("emulator")
    assert driver.exchange([card_app.select_file(card_app.MF)]).error.reason == "DRIVER_STOPPED"


def test_a_card_of_another_application_is_card_unknown_while_it_stays_in(driver, reader, seen):
    reader.insert(CardImage.foreign())
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_UNKNOWN"
    assert "SELECT DF DF01" in error.detail and "6A82" in error.detail
    status = seen.wait_reason(DeviceState.ONLINE, "CARD_UNKNOWN")
    assert status.usable and status.device_detail.card_present
    reader.remove()
    seen.wait_online(card_present=False)


def test_a_corrupt_customer_file_is_card_unknown_naming_the_field(driver, reader, seen):
    image = CardImage.of(DEMO_CARD)
    image.files[card_app.EF_CUSTOMER_INFO][-2] ^= 0xFF  # checksum
    reader.insert(image)
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_UNKNOWN" and "checksum:" in error.detail


def test_a_purse_of_the_wrong_size_is_card_unknown_naming_the_purse(driver, reader, seen):
    image = CardImage.of(DEMO_CARD)
    image.files[card_app.EF_PURSE] = bytearray(4)  # the read of 8 gets 6C04, then 4 bytes
    reader.insert(image)
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_UNKNOWN" and "purse:" in error.detail


def test_a_worn_card_that_refuses_a_read_is_card_error(driver, reader, seen):
    image = CardImage.of(DEMO_CARD)
    image.read_faults[card_app.EF_PURSE] = 0x6581
    reader.insert(image)
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_ERROR"
    assert "READ BINARY SFI 2: card answered 6581 (memory failure)" in error.detail
    status = seen.wait_reason(DeviceState.ONLINE, "CARD_ERROR")
    assert status.device_detail.card_present


def test_unplugging_the_reader_is_reader_unplugged_and_plugging_it_back_recovers(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    reader.unplug()
    status = seen.wait_reason(DeviceState.OFFLINE, "READER_UNPLUGGED")
    assert not status.device_detail.reader_present
    assert "disappeared" in status.detail
    seen.wait_event(CardRemoved)
    reader.plug()
    seen.wait_event(CardInserted, count=2)
    seen.wait_online(card_present=True)


def test_a_stopped_service_is_pcsc_service_down_until_it_is_back(driver, reader, seen):
    reader.insert()
    seen.wait_event(CardInserted)
    reader.stop_service()
    status = seen.wait_reason(DeviceState.OFFLINE, "PCSC_SERVICE_DOWN")
    assert "0x8010001D" in status.detail and "pcscd" in status.detail
    seen.wait_event(CardRemoved)
    reader.start_service()
    seen.wait_event(CardInserted, count=2)
    seen.wait_online(card_present=True)


def test_no_reader_at_start_is_no_reader():
    shared = EmulatedReader()
    shared.unplug()
    driver = CardReaderDriver("emulator", emulator=shared, **FAST)
    seen = Recorder(driver)
    try:
        driver.start()
        assert "no PC/SC card reader connected" in seen.wait_reason(DeviceState.OFFLINE, "NO_READER").detail
        shared.plug()
        seen.wait_online(card_present=False)
    finally:
        driver.stop()


def test_a_listener_that_raises_does_not_stop_the_reader(driver, reader, seen):
    def broken(event):
        raise RuntimeError("consumer bug")

    driver.subscribe_events(broken)
    reader.insert()
    seen.wait_event(CardInserted)
    reader.remove()
    seen.wait_event(CardRemoved)


def test_stopping_with_a_mute_card_inside_leaves_no_thread_once_it_is_out(driver, reader, seen):
    reader.mute(True)
    reader.insert()
    seen.wait_event(CardError)
    driver.stop()
    assert driver.status.reason == "NOT_STARTED"
    reader.remove()  # the abandoned session's transmit returns; the fixture checks the threads end


@pytest.mark.parametrize("setting, parsed", [("emulator", ("emulator", None)), ("pcsc", ("pcsc", None)),
                                             ("pcsc: ACS ACR39U 00 00 ", ("pcsc", "ACS ACR39U 00 00"))])
def test_reader_settings_are_parsed_as_config_toml_documents_them(setting, parsed):
    assert parse_reader_setting(setting) == parsed


@pytest.mark.parametrize("kwargs", [dict(reader="usb"), dict(reader="pcsc:"), dict(poll_interval_s=0),
                                    dict(apdu_timeout_s=0.01)])
def test_bad_settings_are_refused_at_construction(kwargs):
    with pytest.raises(ValueError):
        CardReaderDriver(**kwargs)


# ----------------------------------------------------------------- kiosk diag card, on the emulator
def test_diag_read_prints_the_atr_and_the_account_number():
    reader = EmulatedReader()
    reader.insert(DEMO_CARD)
    out = io.StringIO()
    assert run_diag("read", "emulator", 2.0, out, emulator=reader) == EXIT_OK
    text = out.getvalue()
    assert "ATR:     3B 69 00 00 55 5A 4B 00 00 00 00 00 17" in text
    assert "account: 3201100017 (electricity)" in text
    assert wait_for_no_card_threads() == []


def test_diag_read_without_a_card_gives_up_after_the_timeout():
    out = io.StringIO()
    assert run_diag("read", "emulator", 0.3, out, emulator=EmulatedReader()) == EXIT_NO_CARD
    assert "no card inserted within 0.3 s" in out.getvalue()


def test_diag_read_of_a_foreign_card_says_it_is_unreadable():
    reader = EmulatedReader()
    reader.insert(CardImage.foreign())
    out = io.StringIO()
    assert run_diag("read", "emulator", 2.0, out, emulator=reader) == EXIT_CARD_ERROR
    assert "CARD_UNKNOWN" in out.getvalue()


def test_diag_with_the_service_down_or_no_reader_says_so_and_fails():
    reader = EmulatedReader()
    reader.stop_service()
    out = io.StringIO()
    assert run_diag("list", emulator=reader, out=out) == EXIT_SERVICE_DOWN
    assert run_diag("read", "emulator", 1.0, out, emulator=reader) == EXIT_SERVICE_DOWN
    assert out.getvalue().count("PC/SC service not running") == 2
    reader.start_service()
    reader.unplug()
    assert run_diag("list", emulator=reader, out=out) == EXIT_NO_READER
    assert run_diag("read", "emulator", 1.0, out, emulator=reader) == EXIT_NO_READER
    assert "no PC/SC card reader connected" in out.getvalue()


def test_diag_list_shows_each_reader_and_its_card():
    reader = EmulatedReader()
    reader.insert()
    out = io.StringIO()
    assert run_diag("list", emulator=reader, out=out) == EXIT_OK
    assert out.getvalue() == f"{EMULATED_READER_NAME}\tcard in, ATR 3B 69 00 00 55 5A 4B 00 00 00 00 00 17\n"
