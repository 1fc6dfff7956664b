"""The card's side of a top-up as bytes: the purse write it takes or refuses, the write-back file, the meter.

The tokens come from the billing side's own code (``contract/card_token.py``),
which the card also checks them with: a token the billing system issues is
taken, and one with any bit changed, or made for another card or with another
key, is refused.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from contract.card_token import PurseUpdate, WriteToken, card_key
from drivers.pcsc import card_app, purse_command, write_back
from drivers.pcsc.applet import CardImage, PrepaidCardApplet
from drivers.pcsc.card_app import CardFormatError, CardInfo, CardType, Utility
from drivers.pcsc.meter import MeterVerdict, PrepaidMeter
from drivers.pcsc.purse_command import PurseWrite
from drivers.pcsc.write_back import MeterStatus, WriteBack

MASTER = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
GAS = CardInfo(Utility.GAS, "7700123", "000000000042", CardType.PURCHASE, 5000, 3, "0102030405060708")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def token(credit_fen: int, count: int, purchase_no: str = "P-0001", serial: str = GAS.serial,
          master: bytes = MASTER) -> WriteToken:
    return WriteToken.issue(master, PurseUpdate(serial, purchase_no, credit_fen, count))


def write_apdu(t: WriteToken) -> bytes:
    u = t.update
    return PurseWrite(u.credit_fen, u.purchase_count, u.purchase_no.encode("ascii"), t.mac).apdu()


@pytest.fixture
def image() -> CardImage:
    return CardImage.of(GAS, purse_key=card_key(MASTER, GAS.serial), hoarding_limit_fen=300_000)


@pytest.fixture
def card(image) -> PrepaidCardApplet:
    applet = PrepaidCardApplet(image)
    applet.process(card_app.select_file(card_app.MF))
    assert applet.process(card_app.select_file(card_app.DF_PREPAID)) == h("9000")
    return applet


def purse(card: PrepaidCardApplet) -> bytes:
    return card.process(card_app.read_binary(8, sfi=card_app.SFI_PURSE))


# ----------------------------------------------------------------- the command
def test_the_purse_write_is_update_binary_with_proprietary_secure_messaging():
    apdu = PurseWrite(20000, 4, b"P-0001", h("A1B2C3D4")).apdu()
    assert apdu == h("04 D6 82 00 13  00004E20 00000004 06 502D30303031 A1B2C3D4")
    assert PurseWrite.parse(apdu[5:]) == PurseWrite(20000, 4, b"P-0001", h("A1B2C3D4"))


def test_the_card_reads_the_command_back_as_the_billing_systems_token():
    issued = token(20000, 4)
    assert PurseWrite.parse(write_apdu(issued)[5:]).token_for(GAS.serial) == issued


# ----------------------------------------------------------------- taken
def test_a_token_of_the_billing_system_is_taken_and_the_purse_becomes_it(card):
    assert card.process(write_apdu(token(20000, 4))) == h("9000")
    assert purse(card) == card_app.encode_purse(20000, 4) + h("9000")


def test_the_card_takes_the_write_only_in_its_application(image):
    fresh = PrepaidCardApplet(image)
    assert fresh.process(write_apdu(token(20000, 4))) == h("6A82")
    assert image.files[card_app.EF_PURSE] == card_app.encode_purse(5000, 3)


# ----------------------------------------------------------------- refused, purse unchanged
@pytest.mark.parametrize("bad", [
    pytest.param(lambda: token(20000, 4, master=bytes(16)), id="another utility's master key"),
    pytest.param(lambda: token(20000, 4, serial="0102030405060709"), id="another card's token"),
])
def test_a_token_made_with_another_key_is_refused_as_a_wrong_mac(card, bad):
    assert card.process(write_apdu(bad())) == h("6988")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


def test_a_token_with_one_bit_changed_is_refused_as_a_wrong_mac(card):
    good = write_apdu(token(20000, 4))
    assert card.process(purse_command.with_spoiled_mac(good)) == h("6988")
    credit_changed = good[:5] + h("00009C40") + good[9:]  # 400 yuan instead of 200, same MAC
    assert card.process(credit_changed) == h("6988")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


@pytest.mark.parametrize("data", [
    pytest.param("00004E20 00000004 06 502D3030FF31", id="a purchase number that is not ASCII"),
    pytest.param("00004E20 00000000 06 502D30303031", id="purchase count 0"),
    pytest.param("05F5E100 00000004 06 502D30303031", id="a credit above the purse's ceiling"),
])
def test_a_command_no_billing_system_could_sign_is_refused_as_a_wrong_mac(card, data):
    mac = token(20000, 4).mac  # a MAC the card would take on the right bytes
    command = h(data) + mac
    assert card.process(purse_command.PURSE_WRITE_HEADER + bytes([len(command)]) + command) == h("6988")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


@pytest.mark.parametrize("count", [3, 5, 1])
def test_a_purchase_count_other_than_the_cards_plus_one_is_refused(card, count):
    assert card.process(write_apdu(token(20000, count))) == h("6985")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


def test_the_same_token_twice_is_taken_once(card):
    once = write_apdu(token(20000, 4))
    assert card.process(once) == h("9000")
    assert card.process(once) == h("6985")
    assert purse(card) == card_app.encode_purse(20000, 4) + h("9000")


def test_a_card_issued_without_a_purchase_key_takes_no_token():
    card = PrepaidCardApplet(CardImage.of(GAS))
    card.process(card_app.select_file(card_app.MF))
    card.process(card_app.select_file(card_app.DF_PREPAID))
    assert card.process(write_apdu(token(20000, 4))) == h("6982")


def test_a_card_with_a_purchase_key_refuses_a_plain_update_of_its_purse(card):
    assert card.process(card_app.update_binary(card_app.encode_purse(999_999, 4), sfi=2)) == h("6982")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


@pytest.mark.parametrize("apdu, sw", [
    ("04 D6 82 00 05 00004E20 00", "6700"),  # data field cut short
    ("04 D6 82 00 13 00004E20 00000004 07 502D30303031 A1B2C3D4", "6700"),  # purchase number says 7, has 6
    ("04 B0 82 00 08", "6882"),  # reads take no secure messaging here
    ("04 D6 81 00 04 01020304", "6882"),  # only the purse is written this way
])
def test_a_malformed_secure_command_is_refused(card, apdu, sw):
    assert card.process(h(apdu)) == h(sw)


def test_a_worn_card_reports_a_memory_failure_and_keeps_its_purse(image, card):
    image.write_faults[card_app.EF_PURSE] = 0x6581
    assert card.process(write_apdu(token(20000, 4))) == h("6581")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")


# ----------------------------------------------------------------- the hoarding limit
def meter_reported(image: CardImage, remaining_fen: int, count: int = 3) -> None:
    image.files[write_back.EF_WRITE_BACK][:] = write_back.encode_write_back(WriteBack(
        GAS.meter_no, remaining_fen, 0, count, MeterStatus(0), datetime(2026, 11, 20, 14, 5)))


def test_credit_that_would_take_the_meter_above_the_hoarding_limit_is_refused(image, card):
    meter_reported(image, 290_000)  # 2900 yuan in the meter, the limit is 3000
    assert card.process(write_apdu(token(20000, 4))) == h("6A80")
    assert purse(card) == card_app.encode_purse(5000, 3) + h("9000")
    assert card.process(write_apdu(token(10000, 4, "P-0002"))) == h("9000")  # exactly up to the limit


def test_a_card_without_a_limit_of_its_own_stops_at_the_meters_ceiling():
    image = CardImage.of(GAS, purse_key=card_key(MASTER, GAS.serial))
    card = PrepaidCardApplet(image)
    card.process(card_app.select_file(card_app.MF))
    card.process(card_app.select_file(card_app.DF_PREPAID))
    meter_reported(image, 99_000_000)
    assert card.process(write_apdu(token(999_999 + 1, 4))) == h("6A80")
    assert card.process(write_apdu(token(999_999, 4))) == h("9000")


# ----------------------------------------------------------------- the write-back file
REPORT = WriteBack("000000000042", 12345, 0, 3, MeterStatus.CREDIT_LOW, datetime(2026, 11, 20, 14, 5))
REPORT_FILE = h("68 11 0019 01 02 000000000042 00003039 00000000 00000003 2611201405 4B 16")


def test_the_write_back_file_has_the_documented_bytes():
    assert write_back.encode_write_back(REPORT) == REPORT_FILE
    assert write_back.parse_write_back(REPORT_FILE) == REPORT


def test_a_card_just_issued_has_an_empty_write_back_file(card):
    assert card.process(card_app.read_binary(31, sfi=5)) == bytes(31) + h("9000")
    assert write_back.parse_write_back(bytes(31)) is None


@pytest.mark.parametrize("offset, value, field", [(29, 0x00, "checksum"), (5, 0x80, "meter_status"),
                                                  (0, 0x69, "write_back"), (25, 0x13, "written_at")])
def test_a_spoiled_write_back_file_names_the_field(offset, value, field):
    raw = bytearray(REPORT_FILE)
    raw[offset] = value
    if field != "checksum":
        raw[29] = sum(raw[1:29]) & 0xFF
    with pytest.raises(CardFormatError) as caught:
        write_back.parse_write_back(bytes(raw))
    assert caught.value.field == field


# ----------------------------------------------------------------- the meter
def test_the_meter_loads_the_next_purchase_and_writes_back(card):
    meter = PrepaidMeter(GAS.meter_no, remaining_fen=800, purchase_count=3)
    assert card.process(write_apdu(token(20000, 4))) == h("9000")
    assert meter.take_card(card.process, datetime(2026, 11, 21, 9, 30, 12)) is MeterVerdict.LOADED
    assert (meter.remaining_fen, meter.purchase_count) == (20800, 4)
    report = write_back.parse_write_back(card.process(card_app.read_binary(31, sfi=5))[:-2])
    assert report == WriteBack(GAS.meter_no, 20800, 0, 4, MeterStatus(0), datetime(2026, 11, 21, 9, 30))
    assert meter.take_card(card.process, datetime(2026, 11, 21, 9, 31)) is MeterVerdict.NOTHING_NEW
    assert meter.remaining_fen == 20800


def test_the_meter_refuses_a_card_two_purchases_ahead_and_still_writes_back(card):
    meter = PrepaidMeter(GAS.meter_no, remaining_fen=0, purchase_count=1, relay_open=True)
    assert meter.take_card(card.process, datetime(2026, 11, 21, 9, 30)) is MeterVerdict.COUNT_ERROR
    report = write_back.parse_write_back(card.process(card_app.read_binary(31, sfi=5))[:-2])
    assert (report.purchase_count, report.status) == (1, MeterStatus.RELAY_OPEN | MeterStatus.CREDIT_LOW)


def test_the_meter_of_another_card_leaves_it_alone(card):
    meter = PrepaidMeter("000000000099", purchase_count=2)
    assert meter.take_card(card.process, datetime(2026, 11, 21, 9, 30)) is MeterVerdict.WRONG_METER
    assert card.process(card_app.read_binary(31, sfi=5)) == bytes(31) + h("9000")
