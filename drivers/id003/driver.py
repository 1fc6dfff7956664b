"""The banknote acceptor driver: ID-003 over a serial port, on its own thread.

What the controller decides — power up and reset, escrow and the credit
once per note, settings, reply matching, the status model — is the pure
:class:`~drivers.id003.protocol.AcceptorProtocol` (bytes and time in, frames
and events out).  This module is only what a pure object cannot be: the
pyserial port (9600 baud 8E1, any pyserial URL), the worker thread, the
reconnect with backoff, and the locks between the worker and the kiosk.

* **The line**: each :class:`~drivers.id003.protocol.Write` of a poll cycle
  is written, then the port is read in short slices, every byte handed to
  the protocol, until the write is answered or its response window closes.
  Bytes that arrived since the last read are handed over before anything is
  decided or written: a late reply is news, not noise.
* **Availability**: the port failing or vanishing → ``offline``
  (``PORT_GONE``) and the port is reopened in a loop with exponential backoff.

Nothing raises into the caller: :meth:`enable`, :meth:`inhibit` and
:meth:`stop` only set state and wake the worker; results come back as status
(:meth:`subscribe_status`) and events (:meth:`subscribe_events`), both on the
driver thread.
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
from drivers.id003.events import AcceptorEvent
from drivers.id003.protocol import AcceptorProtocol, Cycle, Decider
from drivers.id003.setup import CNY_NOTES_FEN, Intake
from drivers.id003.stats import DriverStats
from drivers.id003.status_model import AcceptorReason, StatusReport
from drivers.status import ACCEPTOR, AcceptorDetail, DeviceState, DeviceStatus, StatusPublisher

log = logging.getLogger("kiosk.devices.acceptor")

READ_SLICE_S = 0.01  # one pyserial read; the response window is made of these
EventListener = Callable[[AcceptorEvent], None]

__all__ = ["AcceptorDriver", "CNY_NOTES_FEN", "Decider", "DriverStats", "EventListener"]


def _check_timing(poll_interval_s: float, silence_timeout_s: float, response_timeout_s: float,
                  reconnect_backoff_s: tuple[float, float]) -> None:
    if not 0.005 <= poll_interval_s <= 5.0:
        raise ValueError(f"poll_interval_s={poll_interval_s} is outside 0.005..5 s")
    if not 0.01 <= response_timeout_s <= 2.0:
        raise ValueError(f"response_timeout_s={response_timeout_s} is outside 0.01..2 s")
    if silence_timeout_s <= max(poll_interval_s, response_timeout_s):
        raise ValueError(f"silence_timeout_s={silence_timeout_s} must be longer than the poll interval "
                         f"({poll_interval_s}) and the response timeout ({response_timeout_s})")
    low, high = reconnect_backoff_s
    if not 0 < low <= high:
        raise ValueError(f"reconnect_backoff_s={reconnect_backoff_s} must be (min, max) with 0 < min <= max")


class AcceptorDriver:
    """An ID-003 banknote acceptor on ``port_url`` (a device path or any pyserial URL).

    ``decide(denomination_fen) -> bool`` is asked for every note in escrow whose
    denomination is enabled; True stacks it, False returns it.  It runs on the
    driver thread, must be quick, and a decider that raises returns the note.
    Without a decider every enabled denomination is stacked.
    """

    def __init__(self, port_url: str, poll_interval_s: float = 0.1, silence_timeout_s: float = 1.0, *,
                 decide: Decider | None = None, response_timeout_s: float = 0.2,
                 reconnect_backoff_s: tuple[float, float] = (0.2, 5.0), denominations: dict[int, int] | None = None,
                 country_code: int | None = None, stop_timeout_s: float = 2.0) -> None:
        if not port_url:
            raise ValueError("port_url is empty: give a serial device (/dev/ttyS0) or a pyserial URL")
        _check_timing(poll_interval_s, silence_timeout_s, response_timeout_s, reconnect_backoff_s)
        if denominations is not None:
            bad = {code: fen for code, fen in denominations.items() if fen not in CNY_NOTES_FEN}
            if bad:
                raise ValueError(f"denominations {bad} are not CNY notes in fen {CNY_NOTES_FEN}")
        self.port_url = port_url
        self.poll_interval_s = poll_interval_s
        self.silence_timeout_s = silence_timeout_s
        self.response_timeout_s = response_timeout_s
        self._backoff = reconnect_backoff_s
        self._stop_timeout_s = stop_timeout_s
        self.publisher = StatusPublisher(DeviceStatus(
            ACCEPTOR, DeviceState.OFFLINE, AcceptorReason.CONNECTING, f"Driver not started yet on {port_url}.",
            AcceptorDetail()))
        self._lock = threading.Lock()  # the kiosk's wishes, read by the worker
        self._listeners = EventListeners(log)
        self._decide = decide
        self._intake = Intake()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: serial.SerialBase | None = None  # the worker's
        self._ever_opened = False
        self.protocol = AcceptorProtocol(
            clock=time.monotonic, emit=self._emit, publish=self._publish_report, intake=self._current_intake,
            decide=self._current_decider, response_timeout_s=response_timeout_s,
            silence_timeout_s=silence_timeout_s, port_label=port_url, override_table=denominations,
            country_code=country_code)

    # ------------------------------------------------------------ public API (drivers.device.Device)

    def start(self) -> "AcceptorDriver":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="id003-acceptor", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float | None = None) -> bool:
        """Inhibit the acceptor (best effort), close the port, join; True if the thread ended in time."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(self._stop_timeout_s if timeout_s is None else timeout_s)
        return not self._thread.is_alive()

    def __enter__(self) -> "AcceptorDriver":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def subscribe_events(self, listener: EventListener) -> Unsubscribe:
        """``listener(event)`` is called on the driver thread for every event; exceptions are logged."""
        return self._listeners.subscribe(listener)

    def subscribe_status(self, listener: Callable[[DeviceStatus], None]) -> Unsubscribe:
        return self.publisher.subscribe(listener)

    @property
    def running(self) -> bool:
        """The worker thread is alive (it only ends through :meth:`stop`)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> DeviceStatus:
        return self.publisher.status

    def set_decider(self, decide: Decider | None) -> None:
        with self._lock:
            self._decide = decide

    def enable(self, accepted_fen: set[int] | frozenset[int]) -> None:
        """Take notes of these denominations (fen).  Returns at once; the worker applies it."""
        accepted = frozenset(int(fen) for fen in accepted_fen)
        with self._lock:
            self._intake = Intake(bool(accepted), accepted)
        self._wake.set()

    def inhibit(self) -> None:
        """Take no more notes.  A note already past escrow is still credited when it vends."""
        with self._lock:
            self._intake = Intake(False, self._intake.accepted_fen)
        self._wake.set()

    @property
    def settled(self) -> bool:
        """Inhibited and no note anywhere in the acceptor: nothing more can be credited.

        The payment layer commits a payment only once this holds, so a note
        that was already past escrow when intake stopped is still in it."""
        return self.protocol.settled

    @property
    def version(self) -> str | None:
        return self.protocol.setup.version

    @property
    def denominations(self) -> dict[int, int]:
        """Escrow code → fen, as read from the acceptor's currency table (empty until known)."""
        table = self.protocol.setup.table
        return dict(table) if table else {}

    def stats(self) -> DriverStats:
        return self.protocol.stats()

    # ------------------------------------------------------------ worker loop

    def _run(self) -> None:
        backoff = self._backoff[0]
        while not self._stop.is_set():
            if self._serial is None:
                if not self._open_port():
                    self._sleep(backoff)
                    backoff = min(backoff * 2, self._backoff[1])
                    continue
                backoff = self._backoff[0]
            started = time.monotonic()
            try:
                self._drive(self.protocol.cycle())
            except (serial.SerialException, OSError) as error:
                self._port_lost(error)
                continue
            except Exception:  # noqa: BLE001 - a driver bug must not kill the thread that holds the money
                self.protocol.counters.add("internal_errors")
                log.exception("acceptor driver cycle failed")
            self._sleep(started + self.poll_interval_s - time.monotonic())
        self._shutdown()

    def _drive(self, steps: Cycle) -> None:
        """Write what the protocol asks for, hand it every byte read, until the cycle ends."""
        port = self._port()
        for write in self._resumed(steps, port):
            port.write(write.frame)
            while not write.answered and time.monotonic() < write.deadline:
                self.protocol.receive(port.read(max(1, port.in_waiting)))

    def _resumed(self, steps: Cycle, port: serial.SerialBase) -> Cycle:
        """``steps``, with what arrived meanwhile handed over before each decision is made."""
        while True:
            self._read_waiting(port)
            try:
                yield next(steps)
            except StopIteration:
                return

    def _read_waiting(self, port: serial.SerialBase) -> None:
        waiting = port.in_waiting
        if waiting:
            self.protocol.receive(port.read(waiting))

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and not self._stop.is_set():
            self._wake.wait(seconds)
        self._wake.clear()

    def _port(self) -> serial.SerialBase:
        port = self._serial
        assert port is not None, "the worker only talks to the acceptor with the port open"
        return port

    def _open_port(self) -> bool:
        try:
            port = serial.serial_for_url(
                self.port_url, baudrate=9600, bytesize=serial.EIGHTBITS, parity=serial.PARITY_EVEN,
                stopbits=serial.STOPBITS_ONE, timeout=READ_SLICE_S, write_timeout=0.5, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as error:
            self._publish_port_problem(error)
            return False
        self._serial = port
        self.protocol.counters.add("port_opens")
        self.protocol.line_opened()
        if self._ever_opened:
            log.info("acceptor port %s reopened", self.port_url)
        self._ever_opened = True
        return True

    def _publish_port_problem(self, error: Exception) -> None:
        code = getattr(error, "errno", None)
        path = self.port_url if "://" not in self.port_url else None
        if code == errno.ENOENT or (path is not None and not os.path.exists(path)):
            self._publish(DeviceState.OFFLINE, AcceptorReason.PORT_GONE,
                          f"Serial port {self.port_url} does not exist: check the acceptor's serial/USB cable "
                          f"and the port in the configuration. Retrying by itself.")
        else:
            self._publish(DeviceState.OFFLINE, AcceptorReason.PORT_UNAVAILABLE,
                          f"Serial port {self.port_url} cannot be opened ({error}): another program may hold it, "
                          f"or permissions are missing. Retrying by itself.")

    def _port_lost(self, error: Exception) -> None:
        self.protocol.counters.add("port_losses")
        log.warning("acceptor port %s lost: %s", self.port_url, error)
        self._close_port()
        self._publish(DeviceState.OFFLINE, AcceptorReason.PORT_GONE,
                      f"Serial port {self.port_url} failed or disappeared ({error}): check the acceptor's cable "
                      f"or USB adapter. Reconnecting by itself.")

    def _close_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a dead port may fail in any way
                pass

    def _shutdown(self) -> None:
        if self._serial is not None:
            try:
                self._drive(self.protocol.shutdown())
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        self._close_port()
        self._publish(DeviceState.OFFLINE, AcceptorReason.STOPPED,
                      "The acceptor driver was stopped (kiosk shutting down).")

    # ------------------------------------------------------------ between the worker and the kiosk

    def _current_intake(self) -> Intake:
        with self._lock:
            return self._intake

    def _current_decider(self) -> Decider | None:
        with self._lock:
            return self._decide

    def _publish_report(self, report: StatusReport) -> None:
        self.publisher.publish(report.as_status())

    def _publish(self, state: DeviceState, reason: AcceptorReason, detail: str) -> None:
        self._publish_report(StatusReport(state, reason, detail))

    def _emit(self, event: AcceptorEvent) -> None:
        self._listeners.emit(event)
