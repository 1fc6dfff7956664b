"""``kiosk diag card`` names the reader and prints the ATR of every card, ours or not (in-process reader).

The same tests against pcscd + vpcd are in ``test_card_pcsc.py`` (an unknown
card, a card pulled while it is read, ``--list``).
"""

from __future__ import annotations

import io

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.pcsc.diag import EXIT_CARD_ERROR, EXIT_OK, describe_atr, run_diag
from drivers.pcsc.emulator import EMULATED_READER_NAME, EmulatedReader

try:
    from card_helpers import wait_for_no_card_threads
except ImportError:  # tests/drivers made a package
    from .card_helpers import wait_for_no_card_threads

# A card the kiosk does not know: a contactless storage card's ATR as PC/SC part 3 builds it.
UNKNOWN_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")


def read_with(card: CardImage, timeout_s: float = 2.0, *, mute: bool = False) -> tuple[int, list[str]]:
    reader = EmulatedReader()
    reader.mute(mute)
    reader.insert(card)
    out = io.StringIO()
    try:
        code = run_diag("read", "emulator", timeout_s, out, emulator=reader)
    finally:
        reader.remove()  # a mute card's held APDU ends with it
        reader.mute(False)
    assert wait_for_no_card_threads() == []
    return code, out.getvalue().splitlines()


def test_an_unknown_card_gets_its_reader_and_atr_printed():
    code, lines = read_with(CardImage(UNKNOWN_ATR, None))
    assert code == EXIT_CARD_ERROR
    assert lines[1:4] == [
        f"reader:  {EMULATED_READER_NAME}",
        "ATR:     3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
        "         protocols T=0, T=1; 15 historical bytes: 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00",
    ]
    assert lines[4].endswith("card unreadable: CARD_UNKNOWN")


def test_a_worn_card_of_ours_that_refuses_a_read_gets_its_atr_printed():
    image = CardImage.of(DEMO_CARD)
    image.read_faults[card_app.EF_PURSE] = 0x6581  # memory failure
    code, lines = read_with(image)
    assert code == EXIT_CARD_ERROR
    assert "ATR:     3B 69 00 00 55 5A 4B 00 00 00 00 00 17" in lines
    assert any(line.endswith("card unreadable: CARD_ERROR") for line in lines)


def test_a_card_that_answers_its_reset_but_no_command_gets_its_atr_printed():
    code, lines = read_with(CardImage.foreign("00000000000000C3"), timeout_s=3.0, mute=True)
    assert code == EXIT_CARD_ERROR
    assert "ATR:     3B 69 00 00 55 00 00 00 00 00 00 00 C3" in lines
    assert any(line.endswith("card unreadable: CARD_MUTE") for line in lines)


def test_a_card_of_ours_gets_its_atr_described_too():
    code, lines = read_with(CardImage.of(DEMO_CARD))
    assert code == EXIT_OK
    assert lines[1:4] == [
        f"reader:  {EMULATED_READER_NAME}",
        "ATR:     3B 69 00 00 55 5A 4B 00 00 00 00 00 17",
        "         protocols T=0; 9 historical bytes: 55 5A 4B 00 00 00 00 00 17",
    ]


def test_list_says_when_a_card_in_a_reader_gave_no_atr():
    reader = EmulatedReader()
    reader.insert(CardImage(b"", None))
    out = io.StringIO()
    assert run_diag("list", emulator=reader, out=out) == EXIT_OK
    assert out.getvalue() == (f"{EMULATED_READER_NAME}\tcard in, no ATR — the card did not answer the reset "
                              "(mute, dirty contacts, or inserted the wrong way round)\n")


def test_an_atr_is_described_by_its_protocols_and_historical_bytes():
    # TA1 TB1 TC1 TD1(T=1) TD2(T=1) TA3 TB3, then 8 historical bytes and TCK (ISO/IEC 7816-3 §8.2).
    jcop = bytes.fromhex("3B F8 13 00 00 81 31 FE 45 4A 43 4F 50 76 32 34 31 B7")
    assert describe_atr(jcop) == 'protocols T=1; 8 historical bytes: 4A 43 4F 50 76 32 34 31 "JCOPv241"'
    assert describe_atr(bytes.fromhex("3B 8F 80")) == "interface bytes cut short: not a valid ATR"
    assert describe_atr(bytes.fromhex("3B 69 00 00 55")) == "says 9 historical bytes but has 1: not a valid ATR"
    assert describe_atr(b"\x3b") == "too short for an ATR (1 byte)"
