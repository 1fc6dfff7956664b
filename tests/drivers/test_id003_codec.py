"""The ID-003 codec with byte strings: vectors, every message kind, resynchronisation."""

from __future__ import annotations

import pytest

from drivers.id003 import codec
from drivers.id003.codec import (
    Ack, Command, CurrencyAssignment, CurrencyEntry, Frame, FrameDecoder, SettingEcho, Status, StatusReply,
    UnknownCommand, UnknownReply, VersionInfo,
)

STATUS_REQUEST = bytes.fromhex("FC 05 11 27 56")
ACK = bytes.fromhex("FC 05 50 AA 05")


def test_crc16_kermit_check_value():
    assert codec.crc16_kermit(b"123456789") == 0x2189  # the catalogued check value of CRC-16/KERMIT


def test_status_request_and_ack_vectors():
    assert codec.status_request() == STATUS_REQUEST
    assert codec.ack() == ACK
    assert codec.encode(Command.ACK) == ACK


@pytest.mark.parametrize("frame, hex_bytes", [
    (codec.operation(Command.STACK_1), "FC 05 41 A2 04"),
    (codec.request(Command.GET_CURRENCY_ASSIGN), "FC 05 8A 7D 7C"),
])
def test_vectors_seen_in_public_implementations(frame, hex_bytes):
    assert frame == bytes.fromhex(hex_bytes)


def test_frame_layout_length_counts_the_whole_frame_crc_low_byte_first():
    frame = codec.status_reply(Status.ESCROW, b"\x65")
    assert frame[0] == 0xFC and frame[1] == len(frame) == 6 and frame[2] == 0x13 and frame[3] == 0x65
    crc = codec.crc16_kermit(frame[:4])
    assert frame[4] == crc & 0xFF and frame[5] == crc >> 8


def test_decoder_yields_frames_split_across_any_chunking():
    stream = STATUS_REQUEST + codec.status_reply(Status.REJECTING, b"\x72") + ACK
    for size in (1, 2, 3, 7, len(stream)):
        decoder = FrameDecoder()
        frames = []
        for start in range(0, len(stream), size):
            frames += decoder.feed(stream[start:start + size])
        assert frames == [Frame(0x11), Frame(0x17, b"\x72"), Frame(0x50)]
        assert decoder.stats.skipped_bytes == 0 and decoder.pending == 0


@pytest.mark.parametrize("noise, counter", [
    (b"\x00\x13\xff", "skipped_bytes"),                    # garbage before the frame
    (b"\xfc\x02", "length_errors"),                         # LNG below 5
    (b"\xfc\xf0\x11", "length_errors"),                     # LNG above the maximum
    (STATUS_REQUEST[:-1] + b"\x00", "crc_errors"),          # bad CRC
    (b"\xfc\x06\x13", "skipped_bytes"),                     # short frame: cut off, then a good one
    (b"\xfc\xfc\xfc", "skipped_bytes"),                     # runs of SYNC
])
def test_decoder_resynchronises_on_the_next_good_frame_without_raising(noise, counter):
    decoder = FrameDecoder()
    frames = decoder.feed(noise + ACK)
    assert frames == [Frame(0x50)]
    assert getattr(decoder.stats, counter) >= 1
    assert decoder.pending == 0


def test_short_frame_waiting_for_bytes_gives_way_to_a_complete_frame_behind_it():
    decoder = FrameDecoder()
    assert decoder.feed(b"\xfc\x20\x13") == []  # claims 32 bytes
    assert decoder.pending == 3
    assert decoder.feed(ACK) == [Frame(0x50)]


def test_flush_drops_a_partial_frame_and_counts_it():
    decoder = FrameDecoder()
    decoder.feed(STATUS_REQUEST[:3])
    assert decoder.flush() == 3 and decoder.stats.flushed_bytes == 3
    assert decoder.feed(STATUS_REQUEST) == [Frame(0x11)]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_code_parses_as_a_status(status):
    data = b"\x61" if status in (Status.ESCROW, Status.REJECTING, Status.FAILURE) else b""
    (frame,) = FrameDecoder().feed(codec.status_reply(status, data))
    assert codec.parse_reply(frame) == StatusReply(status, data)


def test_status_reply_fields():
    assert StatusReply(Status.ESCROW, b"\x66").escrow_code == 0x66
    assert StatusReply(Status.REJECTING, b"\x79").reject_reason == 0x79
    assert StatusReply(Status.FAILURE, b"\xa2").failure_code == 0xA2
    assert StatusReply(Status.IDLING).escrow_code is None


def test_escrow_without_its_denomination_byte_is_unknown_not_an_exception():
    reply = codec.parse_reply(Frame(0x13))
    assert isinstance(reply, UnknownReply) and "ESCROW" in reply.why


def test_replies_of_every_kind():
    assert codec.parse_reply(Frame(0x50)) == Ack()
    assert codec.parse_reply(Frame(0xC3, b"\x01")) == SettingEcho(Command.SET_INHIBIT, b"\x01")
    assert codec.parse_reply(Frame(0x80, b"\xfc\xff")) == SettingEcho(Command.GET_DENOMINATIONS, b"\xfc\xff")
    assert codec.parse_reply(Frame(0x88, b"ID003 V1 \x00")) == VersionInfo("ID003 V1")
    assert codec.parse_reply(Frame(0x89, b"BOOT")) == VersionInfo("BOOT", boot=True)
    assert isinstance(codec.parse_reply(Frame(0x99)), UnknownReply)
    assert isinstance(codec.parse_reply(Frame(0x50, b"\x00")), UnknownReply)


def test_currency_assign_table_is_four_bytes_per_denomination():
    entries = (CurrencyEntry(0x61, 0x00, 1, 0), CurrencyEntry(0x65, 0x00, 5, 1), CurrencyEntry(0x66, 0x00, 1, 2))
    (frame,) = FrameDecoder().feed(codec.currency_assign_reply(entries))
    reply = codec.parse_reply(frame)
    assert reply == CurrencyAssignment(entries)
    assert [entry.value for entry in reply.entries] == [1, 50, 100]
    assert isinstance(codec.parse_reply(Frame(0x8A, b"\x61\x00\x01")), UnknownReply)


def test_commands_parse_on_the_acceptor_side():
    assert codec.parse_command(Frame(0x11)) == codec.CommandFrame(Command.STATUS_REQUEST)
    assert codec.parse_command(Frame(0x40)) == codec.CommandFrame(Command.RESET)
    assert codec.parse_command(Frame(0xC0, b"\x00\x00")) == codec.CommandFrame(Command.SET_DENOMINATIONS, b"\0\0")
    assert isinstance(codec.parse_command(Frame(0xC0, b"\x00")), UnknownCommand)  # wrong length
    assert isinstance(codec.parse_command(Frame(0x12)), UnknownCommand)


def test_command_builders_refuse_what_is_not_that_kind_of_command():
    with pytest.raises(ValueError):
        codec.operation(Command.STATUS_REQUEST)
    with pytest.raises(ValueError):
        codec.setting(Command.SET_INHIBIT, b"\x00\x00")
    with pytest.raises(ValueError):
        codec.request(Command.RESET)
    with pytest.raises(ValueError):
        codec.encode(0x11, bytes(251))


def test_setting_commands_and_their_data():
    assert codec.setting(Command.SET_INHIBIT, codec.inhibit_data(True)) == codec.encode(0xC3, b"\x01")
    assert codec.setting(Command.SET_COMMUNICATION_MODE, b"\x00") == codec.encode(0xC2, b"\x00")
    bits = codec.denomination_bits({0x61, 0x66})
    assert bits == bytes((0b1101_1110, 0xFF))  # set bit = refused
    assert codec.enabled_codes(bits) == {0x61, 0x66}
    assert codec.denomination_bits(set()) == b"\xff\xff"
