"""ISO/IEC 7816-4 status words (§5.1.3, table 5-6): the ones we name, and what any of them means.

Its own module because status words are the card's vocabulary, not our
application's: the host side (``card_app``), the card side (``applet``) and
the errors both raise (``card_errors``) share this one table.
"""

from __future__ import annotations

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_INCOMPATIBLE_FILE = 0x6981
SW_NO_CURRENT_EF = 0x6986
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_OFFSET_OUT_OF_FILE = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_NO_DIAGNOSIS = 0x6F00
# The purse write (docs/card.md, "Writing a purchase to the card").
SW_MEMORY_FAILURE = 0x6581
SW_SM_NOT_SUPPORTED = 0x6882
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_MAC = 0x6988
SW_WRONG_DATA = 0x6A80
SW_NOT_ENOUGH_MEMORY = 0x6A84

_SW_MEANINGS = {
    0x9000: "normal processing",
    0x6281: "part of returned data may be corrupted",
    0x6282: "end of file reached before reading Le bytes",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6882: "secure messaging not supported",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the command data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6B00: "wrong parameters P1-P2 (offset outside the EF)",
    0x6D00: "instruction code not supported or invalid",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}

# A card that answers one of these to our SELECT or READ is not a card of this
# application (another utility's, a bank card, a blank card), not a broken one.
NOT_THIS_APPLICATION = frozenset({SW_FILE_NOT_FOUND, SW_WRONG_P1P2, SW_OFFSET_OUT_OF_FILE, SW_INS_NOT_SUPPORTED,
                                  SW_CLA_NOT_SUPPORTED, SW_INCOMPATIBLE_FILE, SW_NO_CURRENT_EF})


def sw_meaning(sw: int) -> str:
    """What ISO/IEC 7816-4 table 5-6 says a status word means."""
    if sw in _SW_MEANINGS:
        return _SW_MEANINGS[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2} response bytes still available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le: exactly {sw2} bytes available"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    return {0x62: "warning, memory unchanged", 0x63: "warning, memory changed", 0x64: "error, memory unchanged",
            0x65: "error, memory changed", 0x68: "function in CLA not supported",
            0x69: "command not allowed", 0x6A: "wrong parameters P1-P2"}.get(sw1, "unknown status word")
