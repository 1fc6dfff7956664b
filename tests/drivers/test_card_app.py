"""The prepaid card application as bytes: APDU builders, file parsers, the card's answers."""

from __future__ import annotations

import pytest

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage, PrepaidCardApplet
from drivers.pcsc.card_app import CardFormatError, CardInfo, CardType, StatusWordError, Utility

# A water card: purchase card, meter 000000000001, account 60120001 (docs/card.md, "Worked example").
WATER = CardInfo(Utility.WATER, "60120001", "000000000001", CardType.PURCHASE, 12345, 7, "0102030405060708")
WATER_INFO_FILE = bytes.fromhex("68 01 0013 01 02 02 000000000001 60120001FFFFFFFFFFFF 87 16")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# ----------------------------------------------------------------- command APDUs
def test_select_by_file_id_asks_for_no_response_data():
    assert card_app.select_file(card_app.MF) == h("00 A4 00 0C 02 3F 00")
    assert card_app.select_file(card_app.DF_PREPAID) == h("00 A4 00 0C 02 DF 01")


def test_read_binary_by_short_file_id_puts_the_sfi_in_p1():
    assert card_app.read_binary(4, sfi=1) == h("00 B0 81 00 04")
    assert card_app.read_binary(8, offset=3, sfi=2) == h("00 B0 82 03 08")


def test_read_binary_of_the_current_file_uses_a_15_bit_offset():
    assert card_app.read_binary(0x20, offset=0x0102) == h("00 B0 01 02 20")
    assert card_app.read_binary(256) == h("00 B0 00 00 00")


@pytest.mark.parametrize("kwargs", [dict(length=257), dict(length=4, sfi=31), dict(length=4, sfi=1, offset=256),
                                    dict(length=4, offset=0x8000)])
def test_read_binary_refuses_what_cannot_be_encoded(kwargs):
    with pytest.raises(ValueError):
        card_app.read_binary(**kwargs)


def test_update_binary_carries_lc_and_data():
    assert card_app.update_binary(h("0000 0064 0000 0004"), sfi=2) == h("00 D6 82 00 08 00000064 00000004")


# ----------------------------------------------------------------- files
def test_customer_info_file_has_the_documented_bytes():
    assert card_app.encode_customer_info(WATER) == WATER_INFO_FILE


def test_customer_info_file_reads_back():
    info = card_app.parse_customer_info(WATER_INFO_FILE)
    assert (info.utility, info.account_no, info.meter_no, info.card_type) == (
        Utility.WATER, "60120001", "000000000001", CardType.PURCHASE)


def test_account_numbers_up_to_twenty_digits_and_with_leading_zeros_survive():
    for account in ("0012345678", "12345678901234567890", "7"):
        raw = card_app.encode_customer_info(CardInfo(Utility.GAS, account, "123456789012"))
        assert card_app.parse_customer_info(raw).account_no == account


def corrupt(offset: int, value: int, fix_checksum: bool = True) -> bytes:
    raw = bytearray(WATER_INFO_FILE)
    raw[offset] = value
    if fix_checksum:
        raw[-2] = sum(raw[1:-2]) & 0xFF
    return bytes(raw)


@pytest.mark.parametrize("raw, field", [
    (corrupt(0, 0x00), "start"),
    (corrupt(1, 0x06), "card_command"),
    (corrupt(3, 0x14), "length"),
    (WATER_INFO_FILE[:-1] + b"\x00", "end"),
    (corrupt(7, 0x01, fix_checksum=False), "checksum"),
    (corrupt(4, 0x02), "layout_version"),
    (corrupt(5, 0x09), "utility"),
    (corrupt(6, 0x07), "card_type"),
    (corrupt(8, 0xA0), "meter_no"),
    (corrupt(13, 0xFF), "account_no"),
    (corrupt(14, 0x1F), "account_no"),
    (WATER_INFO_FILE[:20], "length"),
    (WATER_INFO_FILE[:3], "header"),
])
def test_a_broken_customer_info_file_names_the_field(raw, field):
    with pytest.raises(CardFormatError) as caught:
        card_app.parse_customer_info(raw)
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ":")


def test_purse_is_credit_then_purchase_count_big_endian():
    assert card_app.encode_purse(12345, 7) == h("00003039 00000007")
    assert card_app.parse_purse(h("00003039 00000007")) == (12345, 7)


@pytest.mark.parametrize("raw, field", [(h("05F5E100 00000001"), "balance_fen"), (h("00003039"), "purse")])
def test_a_broken_purse_names_the_field(raw, field):
    with pytest.raises(CardFormatError) as caught:
        card_app.parse_purse(raw)
    assert caught.value.field == field


@pytest.mark.parametrize("info, field", [
    (CardInfo(Utility.WATER, "6012000A", "000000000001"), "account_no"),
    (CardInfo(Utility.WATER, "1" * 21, "000000000001"), "account_no"),
    (CardInfo(Utility.WATER, "60120001", "1234"), "meter_no"),
])
def test_encoding_refuses_what_the_layout_cannot_hold(info, field):
    with pytest.raises(CardFormatError) as caught:
        card_app.encode_customer_info(info)
    assert caught.value.field == field


def test_atr_carries_the_card_serial_in_its_historical_bytes():
    atr = card_app.atr_for_serial("0102030405060708")
    assert atr == h("3B 69 00 00 55 0102030405060708")
    assert card_app.serial_from_atr(atr) == "0102030405060708"
    assert card_app.serial_from_atr(h("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")) == ""


def test_status_words_are_explained_as_iso_7816_4_does():
    assert card_app.sw_meaning(0x6A82) == "file or application not found"
    assert card_app.sw_meaning(0x6C19) == "wrong Le: exactly 25 bytes available"
    assert card_app.sw_meaning(0x6110) == "16 response bytes still available (GET RESPONSE)"
    assert "6A82" in str(StatusWordError("SELECT DF DF01", 0x6A82))


# ----------------------------------------------------------------- the card's answers (applet)
@pytest.fixture
def applet() -> PrepaidCardApplet:
    return PrepaidCardApplet(CardImage.of(WATER))


@pytest.mark.parametrize("apdu, answer", [
    ("00 A4 00 0C 02 3F 00", "9000"),
    ("00 A4 00 0C 02 DF 02", "6A82"),
    ("00 A4 00 0C 02 00 01", "6A82"),  # an EF of DF01 while the MF is selected
    ("00 A4 04 00 02 3F 00", "6A86"),
    ("00 A4 00 0C 01 3F", "6700"),
    ("00 B0 00 00 04", "6986"),  # no current EF
    ("00 B0 81 00 04", "6A82"),  # SFI outside DF01
    ("80 A4 00 0C 02 3F 00", "6E00"),
    ("00 84 00 00 08", "6D00"),
    ("00 B0", "6700"),
])
def test_the_card_answers_from_the_mf_with_iso_status_words(applet, apdu, answer):
    assert applet.process(h(apdu)).hex().upper() == answer


def in_df(applet: PrepaidCardApplet) -> PrepaidCardApplet:
    applet.process(card_app.select_file(card_app.MF))
    assert applet.process(card_app.select_file(card_app.DF_PREPAID)) == h("9000")
    return applet


@pytest.mark.parametrize("apdu, answer", [
    ("00 B0 81 00 04", "68010013 9000"),
    ("00 B0 81 17 02", "8716 9000"),
    ("00 B0 81 00 1A", "6C19"),  # one byte more than the file: the exact Le comes back
    ("00 B0 81 19 01", "6B00"),  # offset past the end
    ("00 B0 82 00 00", "00003039 00000007 6282"),  # "everything": the file ends before 256 bytes
    ("00 B0 C1 00 04", "6A86"),
    ("00 B0 83 00 04", "6A82"),
])
def test_the_card_reads_its_files_by_short_file_id(applet, apdu, answer):
    assert in_df(applet).process(h(apdu)) == h(answer)


def test_selecting_an_ef_by_file_id_makes_it_current(applet):
    in_df(applet)
    assert applet.process(card_app.select_file(card_app.EF_PURSE)) == h("9000")
    assert applet.process(h("00 B0 00 04 04")) == h("00000007 9000")


def test_update_binary_changes_the_purse(applet):
    in_df(applet)
    assert applet.process(card_app.update_binary(card_app.encode_purse(100, 8), sfi=2)) == h("9000")
    assert applet.process(card_app.read_binary(8, sfi=2)) == card_app.encode_purse(100, 8) + h("9000")
    assert applet.process(card_app.update_binary(h("01 02"), offset=7, sfi=2)) == h("6A84")


def test_a_reset_selects_the_mf_again(applet):
    in_df(applet).reset()
    assert applet.process(card_app.read_binary(8, sfi=2)) == h("6A82")


# ----------------------------------------------------------------- the read sequence
def test_read_card_reads_who_the_card_belongs_to_and_its_purse(applet):
    info = card_app.read_card(applet.process, applet.atr)
    assert info == WATER


def test_read_card_sends_the_documented_apdus(applet):
    sent = []

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu.hex(" ").upper())
        return applet.process(apdu)

    card_app.read_card(transmit)
    assert sent == ["00 A4 00 0C 02 3F 00", "00 A4 00 0C 02 DF 01", "00 B0 81 00 04", "00 B0 81 00 19",
                    "00 B0 82 00 08"]


def test_read_card_of_a_card_without_the_application_says_so():
    foreign = PrepaidCardApplet(CardImage.foreign())
    with pytest.raises(StatusWordError) as caught:
        card_app.read_card(foreign.process)
    assert (caught.value.command, caught.value.sw, caught.value.not_this_application) == ("SELECT DF DF01", 0x6A82, True)


def test_a_memory_failure_is_an_error_not_a_foreign_card():
    assert not StatusWordError("READ BINARY SFI 2", 0x6581).not_this_application


def test_exchange_follows_t0_procedure_bytes():
    """6CXX: send again with Le=XX; 61XX: GET RESPONSE until 9000 (ISO 7816-3 §12.2)."""
    script = {
        "00B0810000": "6C04",
        "00B0810004": "6801 6102",
        "00C0000002": "0013 9000",
    }
    sent = []

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu.hex().upper())
        return h(script[apdu.hex().upper()])

    assert card_app.exchange(transmit, card_app.read_binary(0, sfi=1), "READ") == h("68010013")
    assert sent == ["00B0810000", "00B0810004", "00C0000002"]


def test_a_response_without_status_word_is_a_format_error():
    with pytest.raises(CardFormatError) as caught:
        card_app.exchange(lambda apdu: b"\x90", card_app.select_file(card_app.MF), "SELECT MF")
    assert caught.value.field == "response"


def test_the_demo_card_is_the_simulators_account_with_arrears():
    from kiosk.backend.seed import DEMO_ACCOUNTS

    assert (DEMO_CARD.utility.value, DEMO_CARD.account_no) == DEMO_ACCOUNTS["electricity_arrears"]
