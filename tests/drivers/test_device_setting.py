"""One grammar for where a device is (config.toml [devices]), parsed once into a DeviceSetting."""

from __future__ import annotations

import pytest

from drivers.device import SettingKind, parse_device_setting


@pytest.mark.parametrize("text, target", [
    ("/dev/ttyUSB0", "/dev/ttyUSB0"),
    ("rfc2217://10.0.0.5:4001", "rfc2217://10.0.0.5:4001"),
    ("socket://10.0.0.5:4001", "socket://10.0.0.5:4001"),
    ("spy:///dev/ttyS0", "spy:///dev/ttyS0"),
    ("loop://?logging=debug", "loop://?logging=debug"),
    ("tcp://10.0.0.5:4001", "socket://10.0.0.5:4001"),
    ("/dev/serial/by-id/usb-FTDI_FT232R-if00-port0", "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0"),
    ("/run/kiosk/acceptor-pty", "/run/kiosk/acceptor-pty"),  # a link socat made for a pty
])
def test_an_acceptor_is_any_serial_device_or_pyserial_url(text, target):
    setting = parse_device_setting("acceptor", text)
    assert (setting.kind, setting.target) == (SettingKind.SERIAL, target)


def test_a_serial_printer_keeps_its_line_options():
    setting = parse_device_setting("printer", "serial:///dev/ttyS1?baudrate=115200&parity=E")
    assert setting.kind is SettingKind.SERIAL and setting.target == "/dev/ttyS1"
    assert dict(setting.serial_options) == {"baudrate": 115200, "parity": "E"}


def test_an_emulator_setting_can_be_pointed_at_the_emulator_once_it_runs():
    setting = parse_device_setting("printer", "emulator").with_target("tcp://127.0.0.1:40123")
    assert (setting.kind, setting.host, setting.port) == (SettingKind.TCP, "127.0.0.1", 40123)


@pytest.mark.parametrize("device, text, words", [
    ("acceptor", "COM3", "is not a port the kiosk can open"),
    ("acceptor", "tcp://reader.local", "the port is missing"),
    ("printer", "tcp://:9100", "no host name or address"),
    ("printer", "/dev/ttyS0?baud=9600", "unknown serial option 'baud'"),
    ("printer", "/dev/ttyS0?baudrate=fast", "is not valid — baudrate takes a number"),
    ("card_reader", "pcsc:", "is not a card reader setting"),
    ("scanner", "/dev/ttyS0", "is not a device of this kiosk"),
])
def test_a_wrong_setting_says_what_is_wrong_and_what_would_do(device, text, words):
    with pytest.raises(ValueError, match=words):
        parse_device_setting(device, text)


def test_the_message_quotes_the_setting_as_the_caller_quotes_values():
    with pytest.raises(ValueError) as caught:
        parse_device_setting("acceptor", "COM3", quote=lambda text: f"«{text}»")
    assert str(caught.value).startswith("«COM3» is not a port")
