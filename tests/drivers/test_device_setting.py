"""One grammar for where a device is (config.toml [devices]), parsed once into a DeviceSetting."""

from __future__ import annotations

import pytest

from drivers.device import SettingKind, parse_device_setting
from drivers.scanner.lines import Terminator
from drivers.scanner.settings import TRIGGER_PRESETS, ScanMode, ScannerSettings, TriggerCommands


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


def test_a_scanner_port_alone_is_a_factory_set_scanner_in_continuous_mode():
    setting = parse_device_setting("scanner", "/dev/ttyACM0")
    assert (setting.kind, setting.target, setting.scanner) == (SettingKind.SERIAL, "/dev/ttyACM0", ScannerSettings())


def test_a_scanner_setting_carries_its_line_and_trigger_and_opens_the_port_without_them():
    setting = parse_device_setting(
        "scanner", "rfc2217://10.0.0.9:4001?baudrate=115200&terminator=crlf&mode=trigger&trigger=gm65")
    assert setting.target == "rfc2217://10.0.0.9:4001"
    assert setting.scanner == ScannerSettings(115200, Terminator.CRLF, ScanMode.TRIGGER, TRIGGER_PRESETS["gm65"])


def test_a_custom_trigger_is_given_in_hex():
    setting = parse_device_setting("scanner", "/dev/ttyS1?mode=trigger&trigger=custom&start=1B31&stop=1B30")
    assert setting.scanner.trigger == TriggerCommands(b"\x1b1", b"\x1b0")


@pytest.mark.parametrize("text, fitted", [("emulator", True), ("none", False)])
def test_the_scanner_may_be_emulated_or_not_fitted(text, fitted):
    setting = parse_device_setting("scanner", text)
    assert setting.fitted is fitted and (setting.scanner is not None) is fitted


@pytest.mark.parametrize("device, text, words", [
    ("acceptor", "COM3", "is not a port the kiosk can open"),
    ("acceptor", "tcp://reader.local", "the port is missing"),
    ("printer", "tcp://:9100", "no host name or address"),
    ("printer", "/dev/ttyS0?baud=9600", "unknown serial option 'baud'"),
    ("printer", "/dev/ttyS0?baudrate=fast", "is not valid — baudrate takes a number"),
    ("card_reader", "pcsc:", "is not a card reader setting"),
    ("scanner", "COM3", "is not a port the kiosk can open for the scanner"),
    ("scanner", "/dev/ttyACM0?baud=9600", "unknown scanner option 'baud'"),
    ("scanner", "/dev/ttyACM0?baudrate=fast", "baudrate='fast' is not a number"),
    ("scanner", "/dev/ttyACM0?baudrate=1000", "baudrate=1000: a scanner speaks one of"),
    ("scanner", "/dev/ttyACM0?terminator=tab", "terminator='tab': use one of cr, lf, crlf"),
    ("scanner", "/dev/ttyACM0?mode=always", "mode='always': use one of continuous, trigger"),
    ("scanner", "/dev/ttyACM0?trigger=gm65", "trigger applies only with mode=trigger"),
    ("scanner", "/dev/ttyACM0?mode=trigger&trigger=zebra", "trigger='zebra': use one of honeywell, gm65"),
    ("scanner", "/dev/ttyACM0?mode=trigger&start=16540D", "start/stop/ack are the commands of trigger=custom"),
    ("scanner", "/dev/ttyACM0?mode=trigger&trigger=custom&start=zz", "give bytes in hex"),
    ("barcode", "/dev/ttyS0", "is not a device of this kiosk"),
])
def test_a_wrong_setting_says_what_is_wrong_and_what_would_do(device, text, words):
    with pytest.raises(ValueError, match=words):
        parse_device_setting(device, text)


def test_the_message_quotes_the_setting_as_the_caller_quotes_values():
    with pytest.raises(ValueError) as caught:
        parse_device_setting("acceptor", "COM3", quote=lambda text: f"«{text}»")
    assert str(caught.value).startswith("«COM3» is not a port")
