"""The wires a receipt printer hangs on, chosen by its device setting; each only opens, writes, reads and closes.

The setting is parsed by the kiosk's one device grammar (``drivers/device.py``):

    tcp://host[:port]                  network printer or print server (port 9100 if left out)
    /dev/ttyS1, /dev/ttyUSB0?baudrate=115200, serial:///dev/ttyS1, rfc2217://host:port
                                       serial line through pyserial (9600 8N1 by default)
    /dev/usb/lp0, /dev/lp0, file:///path
                                       device file, written only: status cannot be read

Every operation has a deadline: a write or read never waits longer than the
timeout it is given.  Failures are :class:`TransportError` with a reason code
(``UNREACHABLE``, ``CONNECTION_LOST``, ``WRITE_TIMEOUT``) and a sentence.

We keep these apart from python-escpos's own printer classes on purpose:
those take one timeout for connect, write and read alike (60 s by default for
``Network``), read through a private ``_read``, and raise on a vanished device
from places we cannot put a deadline on.  python-escpos still builds every
command the slip sends (``drivers/escpos/slip.py``).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time

from drivers.device import DeviceSetting, SettingKind, parse_device_setting
from drivers.escpos.realtime import Reason
from drivers.status import PRINTER


class TransportError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# A printer's place is the kiosk's one device setting (drivers/device.py):
# kind "tcp" (host, port), "serial" (target: a path or pyserial URL, with
# serial_options) or "file" (target: a path written only).
Endpoint = DeviceSetting
PRINTER_KINDS = (SettingKind.TCP, SettingKind.SERIAL, SettingKind.DEVICE_FILE)


def parse_url(url: str | DeviceSetting) -> Endpoint:
    """A printer setting, parsed by the one device grammar; ``ValueError`` names what is wrong and what would do."""
    setting = url if isinstance(url, DeviceSetting) else parse_device_setting(PRINTER, url)
    if setting.kind not in PRINTER_KINDS:
        raise ValueError(f"printer {setting.text!r} is not understood by the printer driver: it opens "
                         "tcp://HOST:PORT, a serial device or a device file (the kiosk starts the emulator itself)")
    return setting


def open_transport(endpoint: Endpoint, timeout_s: float):
    """Open the wire; raises :class:`TransportError` (``UNREACHABLE``) within ``timeout_s``."""
    kind = {"tcp": TcpTransport, "serial": SerialTransport, "file": DeviceFileTransport}[endpoint.kind]
    return kind(endpoint, timeout_s)


class TcpTransport:
    can_read = True

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        self.endpoint = endpoint
        try:
            self._sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_s)
        except OSError as error:
            raise TransportError(Reason.UNREACHABLE,
                                 f"cannot connect to {endpoint.host}:{endpoint.port}: {_why(error)}") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes, timeout_s: float) -> None:
        self._sock.settimeout(timeout_s)  # since Python 3.5 a bound on the whole sendall
        try:
            self._sock.sendall(data)
        except socket.timeout:
            raise TransportError(Reason.WRITE_TIMEOUT, f"printer took no data for {timeout_s:g} s") from None
        except OSError as error:
            raise TransportError(Reason.CONNECTION_LOST, f"connection lost while sending: {_why(error)}") from None

    def read(self, count: int, timeout_s: float) -> bytes:
        """Up to ``count`` bytes, fewer when the deadline passes; EOF is a lost connection."""
        deadline = time.monotonic() + timeout_s
        data = b""
        while len(data) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(count - len(data))
            except socket.timeout:
                break
            except OSError as error:
                raise TransportError(Reason.CONNECTION_LOST, f"connection lost while reading: {_why(error)}") from None
            if not chunk:
                raise TransportError(Reason.CONNECTION_LOST, "connection closed by the printer")
            data += chunk
        return data

    def discard_input(self) -> None:
        """Drop answers that arrived late, so the next answer belongs to the next question."""
        self._sock.setblocking(False)
        try:
            while self._sock.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as error:
            raise TransportError(Reason.CONNECTION_LOST, f"connection lost: {_why(error)}") from None
        finally:
            self._sock.setblocking(True)

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


class SerialTransport:
    can_read = True

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        import serial  # pyserial; only a serial printer needs it

        self.endpoint = endpoint
        self._serial_error = serial.SerialException
        self._timeout_error = serial.SerialTimeoutException
        options = dict(endpoint.serial_options)
        try:
            self._port = serial.serial_for_url(  # a device path or any pyserial URL
                endpoint.target, timeout=timeout_s, write_timeout=timeout_s,
                baudrate=options.get("baudrate", 9600), bytesize=options.get("bytesize", 8),
                parity=options.get("parity", "N"), stopbits=options.get("stopbits", 1),
                rtscts=bool(options.get("rtscts", 0)), dsrdtr=bool(options.get("dsrdtr", 0)),
                xonxoff=False,  # 0x11 / 0x13 would be taken for status bytes
            )
        except (OSError, ValueError, serial.SerialException) as error:
            hint = " — is the kiosk user in group dialout?" if "ermission" in str(error) else ""
            raise TransportError(Reason.UNREACHABLE, f"cannot open {endpoint.target}: {_why(error)}{hint}") from None

    def write(self, data: bytes, timeout_s: float) -> None:
        try:
            self._port.write_timeout = timeout_s  # pyserial reconfigures the port: it can fail too
            self._port.write(data)
        except self._timeout_error:
            raise TransportError(Reason.WRITE_TIMEOUT, f"printer took no data for {timeout_s:g} s "
                                 "(flow control held: printer busy, offline or unplugged)") from None
        except (OSError, self._serial_error) as error:
            raise TransportError(Reason.CONNECTION_LOST, f"serial port failed while sending: {_why(error)}") from None

    def read(self, count: int, timeout_s: float) -> bytes:
        try:
            self._port.timeout = timeout_s
            return self._port.read(count)
        except (OSError, self._serial_error) as error:
            raise TransportError(Reason.CONNECTION_LOST, f"serial port failed while reading: {_why(error)}") from None

    def discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except (OSError, self._serial_error) as error:
            raise TransportError(Reason.CONNECTION_LOST, f"serial port failed: {_why(error)}") from None

    def close(self) -> None:
        try:
            self._port.close()
        except (OSError, self._serial_error):
            pass


class DeviceFileTransport:
    """A device file such as ``/dev/usb/lp0``: written only, so no status and no confirmation."""

    can_read = False

    def __init__(self, endpoint: Endpoint, timeout_s: float) -> None:
        self.endpoint = endpoint
        flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        if not endpoint.target.startswith("/dev/"):
            flags |= os.O_CREAT | os.O_APPEND  # a plain file: a capture for tests and bench
        try:
            self._fd = os.open(endpoint.target, flags, 0o644)
        except OSError as error:
            hint = " — is the kiosk user in group lp?" if error.errno == errno.EACCES else ""
            raise TransportError(Reason.UNREACHABLE, f"cannot open {endpoint.target}: {_why(error)}{hint}") from None

    def write(self, data: bytes, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError(Reason.WRITE_TIMEOUT, f"device took no data for {timeout_s:g} s")
            try:
                _, ready, _ = select.select([], [self._fd], [], remaining)
                if not ready:
                    continue
                written = os.write(self._fd, view)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as error:
                raise TransportError(Reason.CONNECTION_LOST, f"device failed while writing: {_why(error)}") from None
            view = view[written:]

    def read(self, count: int, timeout_s: float) -> bytes:
        return b""

    def discard_input(self) -> None:
        pass

    def close(self) -> None:
        try:
            os.close(self._fd)
        except OSError:
            pass


def _why(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and not error.filename:
        return error.strerror
    return str(error) or type(error).__name__
