"""The scanner driver: a serial scanner's lines, classified, on its own thread.

What a line *is* belongs to the pure parts (:mod:`drivers.scanner.lines`,
:mod:`drivers.scanner.codes`); this module is only what they cannot be: the
pyserial port (8N1 at the configured speed; any path or pyserial URL, a
USB-CDC ACM scanner is ``/dev/ttyACM0``), the worker thread, the reconnect
with backoff, and the trigger command with its deadline.

* **Availability as data**: the port opens → ``online``; it fails, vanishes
  or cannot be opened → ``offline`` (``PORT_GONE`` / ``PORT_UNAVAILABLE``)
  and it is reopened in a loop with exponential backoff; a port that opens
  but brings only noise (``garbled_limit`` garbled lines in a row: a wrong
  speed, or a scanner set to another interface) → ``hardware_error``
  (``LINE_GARBLED``) until a clean line comes.
* **Deadlines**: every port read returns within :data:`READ_SLICE_S`; every
  write within :data:`WRITE_TIMEOUT_S`; in trigger mode one read, from the
  start command to a code, lasts at most ``read_timeout_s`` and then the
  stop command is sent and :class:`~drivers.scanner.events.ReadTimedOut` is
  emitted; a partial line is dropped after ``stale_s``.
* **Privacy**: events carry the code for the payment layer; the driver logs
  only the masked form (last four digits).

Nothing raises into the caller: :meth:`trigger` and :meth:`stop` only set
state and wake the worker.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from typing import Callable

import serial

from drivers.listeners import EventListeners, Unsubscribe
from drivers.scanner.codes import PaymentCode, Refusal, RefusalReason, classify
from drivers.scanner.events import SCANNER, CodeRead, CodeRefused, ReadTimedOut, ScannerEvent, ScannerReason
from drivers.scanner.lines import Line, LineAssembler
from drivers.scanner.settings import ScanMode, ScannerSettings
from drivers.status import DeviceState, DeviceStatus, StatusPublisher

log = logging.getLogger("kiosk.devices.scanner")

READ_SLICE_S = 0.02
WRITE_TIMEOUT_S = 0.5
_GARBLED = (RefusalReason.NOT_ASCII, RefusalReason.CONTROL_BYTES)


class ScannerDriver:
    """A serial barcode/QR scanner on ``port_url``; events are :data:`~drivers.scanner.events.ScannerEvent`."""

    def __init__(self, port_url: str, settings: ScannerSettings | None = None, *,
                 reconnect_backoff_s: tuple[float, float] = (0.2, 5.0), garbled_limit: int = 5,
                 stop_timeout_s: float = 2.0) -> None:
        if not port_url:
            raise ValueError("port_url is empty: give a serial device (/dev/ttyACM0) or a pyserial URL")
        low, high = reconnect_backoff_s
        if not 0 < low <= high:
            raise ValueError(f"reconnect_backoff_s={reconnect_backoff_s} must be (min, max) with 0 < min <= max")
        if garbled_limit < 1:
            raise ValueError(f"garbled_limit={garbled_limit} must be 1 or more")
        self.port_url = port_url
        self.settings = settings or ScannerSettings()
        self._backoff = reconnect_backoff_s
        self._garbled_limit = garbled_limit
        self._stop_timeout_s = stop_timeout_s
        self.publisher = StatusPublisher(DeviceStatus(
            SCANNER, DeviceState.OFFLINE, ScannerReason.CONNECTING, f"Driver not started yet on {port_url}."))
        self._listeners = EventListeners(log)
        self._assembler = self._new_assembler()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._trigger_wanted = False
        self._cancel_wanted = False
        self._read_deadline: float | None = None
        self._read_started = 0.0
        self._garbled_run = 0
        self._thread: threading.Thread | None = None
        self._serial: serial.SerialBase | None = None
        self.counters = {"lines": 0, "codes": 0, "refused": 0, "port_opens": 0, "port_losses": 0, "timeouts": 0}

    # ------------------------------------------------------------ public API (drivers.device.Device)

    def start(self) -> "ScannerDriver":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float | None = None) -> bool:
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(self._stop_timeout_s if timeout_s is None else timeout_s)
        return not self._thread.is_alive()

    def subscribe_events(self, listener: Callable[[ScannerEvent], None]) -> Unsubscribe:
        return self._listeners.subscribe(listener)

    def subscribe_status(self, listener: Callable[[DeviceStatus], None]) -> Unsubscribe:
        return self.publisher.subscribe(listener)

    @property
    def status(self) -> DeviceStatus:
        return self.publisher.status

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def trigger(self) -> None:
        """Trigger mode: start one read (up to ``read_timeout_s``).  Continuous mode: nothing to do."""
        if self.settings.mode is ScanMode.TRIGGER:
            with self._lock:
                self._trigger_wanted, self._cancel_wanted = True, False
            self._wake.set()

    def cancel_read(self) -> None:
        """Trigger mode: stop the read now (the customer left the screen)."""
        if self.settings.mode is ScanMode.TRIGGER:
            with self._lock:
                self._trigger_wanted, self._cancel_wanted = False, True
            self._wake.set()

    # ------------------------------------------------------------ worker loop

    def _run(self) -> None:
        backoff = self._backoff[0]
        while not self._stop.is_set():
            if self._serial is None:
                if not self._open_port():
                    self._wake.wait(backoff)
                    self._wake.clear()
                    backoff = min(backoff * 2, self._backoff[1])
                    continue
                backoff = self._backoff[0]
            try:
                self._cycle(self._serial)
            except (serial.SerialException, OSError) as error:
                self._port_lost(error)
            except Exception:  # noqa: BLE001 - a driver bug must not kill the scanner thread
                log.exception("scanner driver cycle failed")
        self._close_port()
        self._publish(DeviceState.OFFLINE, ScannerReason.STOPPED, "The scanner driver was stopped.")

    def _cycle(self, port: serial.SerialBase) -> None:
        self._apply_trigger(port)
        data = port.read(max(1, port.in_waiting))
        now = time.monotonic()
        items: list[Line | Refusal] = self._assembler.feed(data, now) if data else []
        items += self._assembler.expire(now)
        for item in items:
            self._handle(item, now)
        if self._read_deadline is not None and now >= self._read_deadline:
            self._end_read(port)
            self.counters["timeouts"] += 1
            self._listeners.emit(ReadTimedOut(round(now - self._read_started, 3)))

    def _apply_trigger(self, port: serial.SerialBase) -> None:
        with self._lock:
            wanted, cancel = self._trigger_wanted, self._cancel_wanted
            self._trigger_wanted = self._cancel_wanted = False
        if wanted:
            port.write(self.settings.trigger.start)
            self._read_started = time.monotonic()
            self._read_deadline = self._read_started + self.settings.read_timeout_s
        elif cancel and self._read_deadline is not None:
            self._end_read(port)

    def _end_read(self, port: serial.SerialBase) -> None:
        self._read_deadline = None
        if self.settings.trigger.stop:
            port.write(self.settings.trigger.stop)

    def _handle(self, item: Line | Refusal, now: float) -> None:
        self.counters["lines"] += 1
        self._read_deadline = None  # a triggered read ends with whatever the scanner decoded
        result = classify(item.text) if isinstance(item, Line) else item
        if isinstance(result, PaymentCode):
            self.counters["codes"] += 1
            self._line_clean()
            log.info("scanner read a %s payment code %s", result.kind.value, result.masked)
            self._listeners.emit(CodeRead(result.kind, result.code, time.time()))
            return
        self.counters["refused"] += 1
        if result.reason in _GARBLED:
            self._garbled_run += 1
            if self._garbled_run >= self._garbled_limit:
                self._publish(DeviceState.HARDWARE_ERROR, ScannerReason.LINE_GARBLED,
                              f"Only garbled data from the scanner on {self.port_url}: check that the scanner's "
                              f"speed is {self.settings.baudrate} baud 8N1 and that it is set to its serial "
                              f"(RS-232 or USB COM port) interface.")
        else:
            self._line_clean()
        log.info("scanner line refused: %s (%d characters) %s", result.reason.value, result.length, result.shown)
        self._listeners.emit(CodeRefused(result.reason, result.shown, result.length, time.time()))

    def _line_clean(self) -> None:
        self._garbled_run = 0
        if self.status.state is DeviceState.HARDWARE_ERROR:
            self._publish_online()

    # ------------------------------------------------------------ the port

    def _open_port(self) -> bool:
        try:
            port = serial.serial_for_url(
                self.port_url, baudrate=self.settings.baudrate, bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE, stopbits=serial.STOPBITS_ONE, timeout=READ_SLICE_S,
                write_timeout=WRITE_TIMEOUT_S, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as error:
            self._publish_port_problem(error)
            return False
        self._serial = port
        self._assembler = self._new_assembler()  # nothing of a line from before the cable was pulled
        self._read_deadline = None
        self.counters["port_opens"] += 1
        if self.counters["port_opens"] > 1:
            log.info("scanner port %s reopened", self.port_url)
        self._publish_online()
        return True

    def _publish_online(self) -> None:
        self._garbled_run = 0
        mode = self.settings.mode.value
        self._publish(DeviceState.ONLINE, ScannerReason.NONE,
                      f"Scanner port {self.port_url} open ({self.settings.baudrate} baud, {mode} mode).")

    def _publish_port_problem(self, error: Exception) -> None:
        path = self.port_url if "://" not in self.port_url else None
        if getattr(error, "errno", None) == errno.ENOENT or (path is not None and not os.path.exists(path)):
            self._publish(DeviceState.OFFLINE, ScannerReason.PORT_GONE,
                          f"Serial port {self.port_url} does not exist: check the scanner's USB or serial cable "
                          f"and the port in the configuration. Retrying by itself.")
        else:
            self._publish(DeviceState.OFFLINE, ScannerReason.PORT_UNAVAILABLE,
                          f"Serial port {self.port_url} cannot be opened ({error}): another program may hold it, "
                          f"or permissions are missing. Retrying by itself.")

    def _port_lost(self, error: Exception) -> None:
        self.counters["port_losses"] += 1
        log.warning("scanner port %s lost: %s", self.port_url, error)
        self._close_port()
        self._publish(DeviceState.OFFLINE, ScannerReason.PORT_GONE,
                      f"Serial port {self.port_url} failed or disappeared ({error}): check the scanner's cable. "
                      f"Reconnecting by itself.")

    def _close_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a dead port may fail in any way
                pass

    def _new_assembler(self) -> LineAssembler:
        s = self.settings
        return LineAssembler(s.terminator, s.max_line, s.stale_s, skip=s.trigger.ack if s.mode is ScanMode.TRIGGER
                             else b"")

    def _publish(self, state: DeviceState, reason: ScannerReason, detail: str) -> None:
        self.publisher.publish(DeviceStatus(SCANNER, state, reason, detail))
