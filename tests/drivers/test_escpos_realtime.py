"""DLE EOT answers, byte for byte from the Epson tables, mapped to our status model; printer URLs."""

from __future__ import annotations

import pytest

from drivers.escpos.realtime import (
    REQUEST_ALL,
    BadReply,
    RealtimeStatus,
    is_paper_status_reply,
    is_realtime_reply,
)
from drivers.escpos.transport import parse_url
from drivers.status import DeviceState, Paper, PrinterDetail


def status(printer=0x12, cause=0x12, error=0x12, paper=0x12):
    return RealtimeStatus.parse(bytes([printer, cause, error, paper])).device_status()


def test_the_request_is_four_dle_eot_commands_at_once():
    assert REQUEST_ALL == bytes.fromhex("10 04 01 10 04 02 10 04 03 10 04 04")


def test_all_fixed_bits_and_nothing_else_is_online_with_paper():
    got = status()
    assert (got.state, got.reason) == (DeviceState.ONLINE, "")
    assert got.device_detail == PrinterDetail(paper=Paper.OK, cover_open=False)


def test_near_end_sensor_keeps_the_printer_online():
    got = status(paper=0x1E)
    assert (got.state, got.reason, got.device_detail.paper) == (DeviceState.ONLINE, "PAPER_NEAR_END", Paper.NEAR_END)


def test_paper_end_is_a_hardware_error():
    got = status(printer=0x1A, cause=0x32, paper=0x7E)
    assert (got.state, got.reason, got.device_detail.paper) == (DeviceState.HARDWARE_ERROR, "PAPER_OUT", Paper.OUT)


def test_cover_open_wins_over_paper_and_says_both():
    got = status(printer=0x1A, cause=0x36, paper=0x72)
    assert got.reason == "COVER_OPEN" and "no paper" in got.detail
    assert got.device_detail == PrinterDetail(paper=Paper.OUT, cover_open=True)


@pytest.mark.parametrize("error_byte, reason, words", [
    (0x1A, "CUTTER_ERROR", "cutter"),
    (0x32, "OFFLINE_ERROR", "unrecoverable"),
    (0x52, "OFFLINE_ERROR", "auto-recoverable"),
    (0x16, "OFFLINE_ERROR", "recoverable"),
])
def test_error_causes_are_named(error_byte, reason, words):
    got = status(printer=0x1A, cause=0x52, error=error_byte)
    assert (got.state, got.reason) == (DeviceState.HARDWARE_ERROR, reason)
    assert words in got.detail


def test_offline_without_a_cause_says_so():
    got = status(printer=0x1A, cause=0x1A)
    assert (got.reason, "feed button" in got.detail) == ("PRINTER_OFFLINE", True)


@pytest.mark.parametrize("replies", [b"\x12\x12\x12", b"\x12\x12\x12\x13", b"HTTP"])
def test_answers_that_are_not_real_time_status_are_rejected(replies):
    with pytest.raises(BadReply):
        RealtimeStatus.parse(replies)


def test_gs_r_answers_cannot_be_mistaken_for_dle_eot_answers():
    for byte in range(256):
        assert not (is_realtime_reply(byte) and is_paper_status_reply(byte))
    assert is_paper_status_reply(0x00) and is_paper_status_reply(0x03)


@pytest.mark.parametrize("url, kind, where", [
    ("tcp://192.168.1.50:9100", "tcp", ("192.168.1.50", 9100)),
    ("tcp://printer.hall", "tcp", ("printer.hall", 9100)),
    ("/dev/ttyS1", "serial", "/dev/ttyS1"),
    ("/dev/ttyUSB0?baudrate=115200", "serial", "/dev/ttyUSB0"),
    ("serial:///dev/ttyACM0", "serial", "/dev/ttyACM0"),
    ("/dev/usb/lp0", "file", "/dev/usb/lp0"),
    ("file:///tmp/slips.bin", "file", "/tmp/slips.bin"),
])
def test_printer_urls(url, kind, where):
    endpoint = parse_url(url)
    assert endpoint.kind == kind
    assert ((endpoint.host, endpoint.port) if kind == "tcp" else endpoint.target) == where
    assert endpoint.can_read == (kind != "file")


def test_serial_options_are_read_from_the_url():
    assert dict(parse_url("/dev/ttyUSB0?baudrate=115200").serial_options)["baudrate"] == 115200


@pytest.mark.parametrize("url, words", [
    ("emulator", "not understood"),
    ("http://printer:80", "not understood"),
    ("tcp://:9100", "no host"),
    ("tcp://printer:99999", "port"),
    ("/dev/ttyS0?speed=9600", "unknown serial option"),
    ("/dev/ttyS0?baudrate=fast", "not valid"),
])
def test_bad_urls_say_what_is_wrong(url, words):
    with pytest.raises(ValueError, match=words):
        parse_url(url)
