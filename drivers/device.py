"""What every device driver is, and the one grammar for saying where a device is.

A *device setting* is the text under ``[devices]`` in config.toml.  It is
parsed once, by :func:`parse_device_setting` (``kiosk/config.py`` calls it
while it checks the file), into a :class:`DeviceSetting`; the kiosk hands
that to the driver, which never parses text of its own.

    "emulator"                       the device's emulator, in this process
    "none"                           not fitted
    acceptor   /dev/ttyUSB0, any pyserial URL (rfc2217://, socket://, loop://, spy://),
               tcp://host:port (= pyserial's socket://)
    printer    tcp://host[:port] (9100 if left out), a serial device with options
               (/dev/ttyS1?baudrate=115200, serial:///dev/ttyS1), any pyserial URL,
               a device file written only (/dev/usb/lp0, /dev/lp0, file:///path)
    card_reader "pcsc" (the first reader) or "pcsc:<reader name as pcsc_scan shows it>"
    scanner    a serial device (/dev/ttyACM0 for USB-CDC, /dev/ttyS1) or a pyserial URL, with the
               scanner's options: ?baudrate=9600&terminator=cr|lf|crlf&mode=continuous|trigger
               &trigger=honeywell|gm65|custom (custom: &start=&stop=&ack= in hex) → ``scanner``

Every driver offers the same life cycle (:class:`Device`): ``start()``
returns the driver, ``stop(timeout_s)`` says whether it stopped within the
time, and ``subscribe_status`` / ``subscribe_events`` take a listener and
return the function that unsubscribes it.  Listeners run on the driver's own
thread; one that raises never stops the device.

This module imports nothing heavy: config checking runs it before any driver
(or pyserial) is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from drivers.listeners import Unsubscribe
from drivers.scanner.settings import SCANNER_OPTIONS, ScannerSettings, scanner_settings
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, SCANNER, DeviceStatus

DEFAULT_PRINTER_TCP_PORT = 9100
# The options pyserial's Serial() takes that make sense in a printer or acceptor URL.
SERIAL_OPTIONS: dict[str, type] = {"baudrate": int, "bytesize": int, "parity": str, "stopbits": float,
                                   "rtscts": int, "dsrdtr": int}
# pyserial's own URL handlers (serial.serial_for_url), spelled as it spells them.
PYSERIAL_SCHEMES = ("rfc2217", "socket", "loop", "spy", "hwgrep", "alt", "cp2110")
WRITE_ONLY_DEVICE_FILES = ("/dev/usb/lp", "/dev/lp")
_DEVICE_PATH = re.compile(r"/dev/[A-Za-z0-9._/+-]+")
_SERIAL_PATH = re.compile(r"/(?:[A-Za-z0-9._+:-]+/)*[A-Za-z0-9._+:-]+")
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")

class SettingKind(StrEnum):
    EMULATOR = "emulator"
    NOT_FITTED = "none"
    SERIAL = "serial"  # target: what pyserial's serial_for_url opens (a path or a pyserial URL)
    TCP = "tcp"  # host, port: a raw socket (a network printer)
    DEVICE_FILE = "file"  # path: written only, status cannot be read
    PCSC = "pcsc"  # target: the reader's name, "" for the first reader


@dataclass(frozen=True)
class DeviceSetting:
    """Where one device is, parsed; ``text`` is what config.toml says (for messages)."""

    device: str
    kind: SettingKind
    text: str
    target: str = ""  # serial: pyserial URL or path; file: path; pcsc: reader name
    host: str = ""
    port: int = 0
    serial_options: tuple[tuple[str, object], ...] = ()
    scanner: ScannerSettings | None = None  # the scanner's line and mode (its "emulator" too)

    @property
    def fitted(self) -> bool:
        return self.kind is not SettingKind.NOT_FITTED

    @property
    def emulated(self) -> bool:
        return self.kind is SettingKind.EMULATOR

    @property
    def can_read(self) -> bool:
        """The link carries answers back (a device file is written only: no status)."""
        return self.kind is not SettingKind.DEVICE_FILE

    def with_target(self, target: str) -> "DeviceSetting":
        """The same device pointed somewhere else (an emulator's pty or port once it runs)."""
        return parse_device_setting(self.device, target)


def parse_device_setting(device: str, text: str, quote: Callable[[str], str] | None = None) -> DeviceSetting:
    """``text`` from ``[devices]`` → :class:`DeviceSetting`; ``ValueError`` says what is wrong and what would do.

    The message quotes the setting with ``quote`` (config's own quoting, so it
    reads like every other config message) and does not repeat the key: the
    caller says which key it was."""
    quoted = quote or _show
    value = text.strip() if isinstance(text, str) else text
    if not isinstance(value, str):
        raise ValueError(f"{text!r}: expected a string")
    if value in (SettingKind.EMULATOR, SettingKind.NOT_FITTED):
        settings = ScannerSettings() if device == SCANNER and value == SettingKind.EMULATOR else None
        return DeviceSetting(device, SettingKind(value), text, scanner=settings)
    parse = {ACCEPTOR: _acceptor, PRINTER: _printer, CARD_READER: _card_reader, SCANNER: _scanner}.get(device)
    if parse is None:
        raise ValueError(f"{device!r} is not a device of this kiosk (acceptor, printer, card_reader, scanner)")
    return parse(value, text, quoted(text))


def _acceptor(value: str, text: str, shown: str) -> DeviceSetting:
    if value.startswith("tcp://"):
        host, port = _host_port(shown, value, default_port=None)
        return DeviceSetting(ACCEPTOR, SettingKind.SERIAL, text, target=f"socket://{value[len('tcp://'):]}",
                             host=host, port=port)
    # Any absolute path to a serial device: /dev/ttyUSB0, a udev link under
    # /dev/serial/by-id/, or the link socat makes for a pty wherever it is told.
    if _pyserial_url(value) or _SERIAL_PATH.fullmatch(value):
        return DeviceSetting(ACCEPTOR, SettingKind.SERIAL, text, target=value)
    raise ValueError(
        f'{shown} is not a port the kiosk can open — use "emulator", "none" (not fitted), a serial '
        'device such as "/dev/ttyUSB0", "tcp://host:port" such as "tcp://192.168.1.50:4001", or a pyserial '
        'URL such as "rfc2217://192.168.1.50:4001"')


def _printer(value: str, text: str, shown: str) -> DeviceSetting:
    expected = ('use "emulator", "none" (not fitted), tcp://HOST:PORT, a serial device such as /dev/ttyS1 or '
                '/dev/ttyUSB0?baudrate=115200, a pyserial URL such as rfc2217://HOST:PORT, or a device file '
                'such as /dev/usb/lp0 or file:///PATH')
    if value.startswith("tcp://"):
        host, port = _host_port(shown, value, default_port=DEFAULT_PRINTER_TCP_PORT)
        return DeviceSetting(PRINTER, SettingKind.TCP, text, host=host, port=port)
    if value.startswith("file://"):
        path = urlsplit(value).path
        if not path:
            raise ValueError(f"{shown}: no path after file:// — {expected}")
        return DeviceSetting(PRINTER, SettingKind.DEVICE_FILE, text, target=path)
    if _pyserial_url(value):
        return DeviceSetting(PRINTER, SettingKind.SERIAL, text, target=value,
                             serial_options=(("baudrate", 9600),))
    if value.startswith("serial://"):
        parts = urlsplit(value)
        return _serial_printer(text, shown, parts.path, parts.query, expected)
    if value.startswith("/dev/"):
        path, _, query = value.partition("?")
        if path.startswith(WRITE_ONLY_DEVICE_FILES):
            return DeviceSetting(PRINTER, SettingKind.DEVICE_FILE, text, target=path)
        return _serial_printer(text, shown, path, query, expected)
    raise ValueError(f"{shown} is not understood as a printer — {expected}")


def _serial_printer(text: str, shown: str, path: str, query: str, expected: str) -> DeviceSetting:
    if not _DEVICE_PATH.fullmatch(path or ""):
        raise ValueError(f"{shown}: no serial device path — {expected}")
    options: dict[str, object] = {"baudrate": 9600}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in SERIAL_OPTIONS:
            raise ValueError(f"{shown}: unknown serial option {key!r} "
                             f"(known: {', '.join(SERIAL_OPTIONS)})")
        try:
            options[key] = SERIAL_OPTIONS[key](values[-1])
        except ValueError:
            raise ValueError(f"{shown}: {key}={values[-1]!r} is not valid — {key} takes a number") from None
    return DeviceSetting(PRINTER, SettingKind.SERIAL, text, target=path,
                         serial_options=tuple(sorted(options.items())))


def _card_reader(value: str, text: str, shown: str) -> DeviceSetting:
    if value == "pcsc":
        return DeviceSetting(CARD_READER, SettingKind.PCSC, text)
    if value.startswith("pcsc:") and value[5:].strip():
        return DeviceSetting(CARD_READER, SettingKind.PCSC, text, target=value[5:].strip())
    raise ValueError(
        f'{shown} is not a card reader setting — use "emulator", "none" (not fitted), "pcsc" for the '
        'first PC/SC reader, or "pcsc:" followed by the reader name as pcsc_scan shows it')


def _scanner(value: str, text: str, shown: str) -> DeviceSetting:
    expected = ('use "emulator", "none" (not fitted), a serial device such as "/dev/ttyACM0" (a USB scanner in '
                'its COM-port mode) or "/dev/ttyS1", or a pyserial URL such as "rfc2217://HOST:PORT"; options go '
                'after "?", e.g. "/dev/ttyACM0?baudrate=9600&terminator=cr&mode=trigger&trigger=honeywell"')
    # The options are the scanner's, not pyserial's: "?" always starts them, also after a URL.
    target, _, query = value.partition("?")
    if not (_pyserial_url(target) or _SERIAL_PATH.fullmatch(target)):
        raise ValueError(f"{shown} is not a port the kiosk can open for the scanner — {expected}")
    options = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in SCANNER_OPTIONS:
            raise ValueError(f"{shown}: unknown scanner option {key!r} (known: {', '.join(SCANNER_OPTIONS)})")
        options[key] = values[-1]
    try:
        settings = scanner_settings(options)
    except ValueError as problem:
        raise ValueError(f"{shown}: {problem}") from None
    return DeviceSetting(SCANNER, SettingKind.SERIAL, text, target=target, scanner=settings)


def _pyserial_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme in PYSERIAL_SCHEMES and bool(rest)


def _host_port(shown: str, value: str, default_port: int | None) -> tuple[str, int]:
    parts = urlsplit(value)
    try:
        given = parts.port  # None when left out; 0 is given, and wrong
    except ValueError:
        given = -1
    port = default_port if given is None else given
    if port is None or not 1 <= port <= 65535:
        raise ValueError(f"{shown}: the port is missing or not a number from 1 to 65535 — "
                         f'write it as "tcp://192.168.1.50:4001"')
    host = parts.netloc.rsplit(":", 1)[0] if given is not None else parts.netloc
    if not host or not _HOST.fullmatch(host):
        raise ValueError(f"{shown}: no host name or address before the port — "
                         f'write it as "tcp://192.168.1.50:4001"')
    return parts.hostname or host, port


def _show(value: str) -> str:
    """The setting as the message quotes it: control characters visible, long values cut."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "...'"


@runtime_checkable
class Device(Protocol):
    """The life cycle and subscriptions every driver offers, named the same way."""

    @property
    def status(self) -> DeviceStatus: ...

    def start(self) -> "Device": ...

    def stop(self, timeout_s: float) -> bool: ...

    def subscribe_status(self, listener: Callable[[DeviceStatus], None]) -> Unsubscribe: ...

    def subscribe_events(self, listener: Callable[[object], None]) -> Unsubscribe: ...
