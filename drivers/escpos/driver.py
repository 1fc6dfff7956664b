"""The receipt printer driver: a worker thread that polls the printer's status and prints slips.

    driver = PrinterDriver("tcp://10.0.0.20:9100", status_interval_s=2.0, timeout_s=1.5)
    driver.subscribe_status(monitor_listener)   # DeviceStatus on every change
    driver.subscribe_events(log_listener)       # the PrintResult of every slip
    driver.start()
    future = driver.print_slip(slip, on_done=show_result)   # returns at once
    ...
    driver.stop()

Each connection starts by learning which status commands the printer answers
(``drivers/escpos/probe.py``), so a model without ``GS r`` or without one
``DLE EOT n`` prints, and its slips are confirmed, with what it has.

Everything that touches the printer runs on the driver's own thread, under
the link's timeouts (``drivers/escpos/link.py``); the caller's thread only
puts work on a queue, so the GUI never waits on the printer.  A printer
problem is a :class:`~drivers.status.DeviceStatus` or a
:class:`~drivers.escpos.link.PrintResult`, never an exception.

Status reasons (``drivers/escpos/realtime.py``, :class:`Reason`):

    online          ""  or PAPER_NEAR_END (still prints), NO_STATUS (device file)
    busy            while a slip prints
    hardware_error  PAPER_OUT, COVER_OPEN, CUTTER_ERROR, OFFLINE_ERROR, PRINTER_OFFLINE, BAD_REPLY
    offline         UNREACHABLE (cannot connect/open), SILENT (connected, no answer),
                    NOT_STARTED, STOPPED
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Callable

from drivers.device import DeviceSetting
from drivers.listeners import EventListeners, Unsubscribe
from drivers.escpos.link import PrinterLink, PrintOutcome, PrintResult
from drivers.escpos.print_time import ASSUMED_SPEED_MM_S
from drivers.escpos.realtime import Reason, unreachable
from drivers.escpos.slip import Slip
from drivers.escpos.transport import parse_url
from drivers.status import DeviceState, DeviceStatus, StatusListener, StatusPublisher

log = logging.getLogger("kiosk.devices.printer")

PrintCallback = Callable[[PrintResult], None]


@dataclass(frozen=True)
class _PrintJob:
    data: Slip | bytes
    future: Future
    on_done: PrintCallback | None


@dataclass(frozen=True)
class _Refresh:
    future: Future


_STOP = object()


class PrinterDriver:
    def __init__(self, url: str | DeviceSetting, status_interval_s: float = 2.0, timeout_s: float = 1.5, *,
                 print_timeout_s: float = 30.0, assumed_speed_mm_s: float = ASSUMED_SPEED_MM_S) -> None:
        """``url``: a printer setting (``drivers/device.py``); a bad one raises ``ValueError`` here, at once.

        ``assumed_speed_mm_s``: how fast a printer that does not answer ``GS r 1``
        is taken to print, to know how long to watch it (``drivers/escpos/link.py``).
        """
        if status_interval_s <= 0 or timeout_s <= 0 or assumed_speed_mm_s <= 0:
            raise ValueError("status_interval_s, timeout_s and assumed_speed_mm_s must be positive")
        self.endpoint = parse_url(url)
        self.url = self.endpoint.text
        self.status_interval_s = status_interval_s
        self.timeout_s = timeout_s
        self.print_timeout_s = print_timeout_s
        self.assumed_speed_mm_s = assumed_speed_mm_s
        self.publisher = StatusPublisher(unreachable(Reason.NOT_STARTED, "printer driver not started"))
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._polled = threading.Event()  # the first status has been read
        self._listeners = EventListeners(log)

    # ------------------------------------------------------------ caller side (any thread)

    @property
    def status(self) -> DeviceStatus:
        return self.publisher.status

    def subscribe_status(self, listener: StatusListener) -> Unsubscribe:
        """``listener(status)`` on the driver's thread at every change."""
        return self.publisher.subscribe(listener)

    def subscribe_events(self, listener: Callable[[object], None]) -> Unsubscribe:
        """``listener(result)`` with the :class:`PrintResult` of every slip, however it ended."""
        return self._listeners.subscribe(listener)

    def start(self) -> "PrinterDriver":
        if self._thread is not None:
            return self
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="printer-driver", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float | None = None) -> bool:
        """Stop the worker; slips still queued are refused (``STOPPED``).  True if it ended in time."""
        thread = self._thread
        if thread is None:
            return True
        self._running.clear()
        self._jobs.put(_STOP)
        if thread is not threading.current_thread():  # stop() from a listener or on_done
            # The longest the worker can be inside one step: a print and its confirmation.
            thread.join(timeout_s if timeout_s is not None else self.print_timeout_s + 4 * self.timeout_s)
        self._thread = None
        self._refuse_queued()
        self.publisher.publish(unreachable(Reason.STOPPED, "printer driver stopped"))
        return not thread.is_alive() or thread is threading.current_thread()

    def print_slip(self, slip: Slip | bytes, on_done: PrintCallback | None = None) -> Future:
        """Queue a slip; the future's result (and ``on_done``'s argument) is a :class:`PrintResult`.

        Refused at once, on the caller's thread, when the driver is not running
        or the printer's last known status says it cannot print; otherwise
        ``on_done`` runs on the driver's thread.  The future never raises.
        """
        future: Future = Future()
        refusal = self._early_refusal(slip)
        if refusal is not None:
            self._resolve(future, on_done, refusal)
            return future
        self._jobs.put(_PrintJob(slip, future, on_done))
        return future

    def refresh(self) -> Future:
        """Read the status now, instead of at the next interval; the future holds the DeviceStatus."""
        future: Future = Future()
        if not self._running.is_set():
            future.set_result(self.status)
        else:
            self._jobs.put(_Refresh(future))
        return future

    def _early_refusal(self, slip: Slip | bytes) -> PrintResult | None:
        total = len(slip) if isinstance(slip, bytes) else 0
        if not self._running.is_set():
            return PrintResult(PrintOutcome.REFUSED, Reason.NOT_STARTED, "printer driver is not running", 0, total)
        status = self.status
        if self._polled.is_set() and status.state in (DeviceState.OFFLINE, DeviceState.HARDWARE_ERROR):
            return PrintResult(PrintOutcome.REFUSED, status.reason, f"not printed: {status.detail}", 0, total)
        return None

    # ------------------------------------------------------------ the worker

    def _run(self) -> None:
        link = PrinterLink(self.endpoint, self.timeout_s, self.print_timeout_s,
                           assumed_speed_mm_s=self.assumed_speed_mm_s)
        next_poll = 0.0
        try:
            while self._running.is_set():
                wait = max(0.0, next_poll - time.monotonic())
                try:
                    job = self._jobs.get(timeout=wait)
                except queue.Empty:
                    job = None
                if job is _STOP or not self._running.is_set():
                    if job is not None and job is not _STOP:
                        self._jobs.put(job)  # refused by stop() with the rest
                    break
                try:
                    if isinstance(job, _PrintJob):
                        self._print(link, job)
                    else:
                        status = self._poll(link)
                        if isinstance(job, _Refresh):
                            job.future.set_result(status)
                except Exception:  # noqa: BLE001 - a bug here must not kill the printer for the day
                    log.exception("printer driver step failed")
                    link.close()
                    if isinstance(job, _PrintJob) and not job.future.done():
                        self._resolve(job.future, job.on_done, PrintResult(
                            PrintOutcome.FAILED, "DRIVER_ERROR", "internal error in the printer driver, see log"))
                    elif isinstance(job, _Refresh) and not job.future.done():
                        job.future.set_result(self.status)
                next_poll = time.monotonic() + self.status_interval_s
        finally:
            link.close()

    def _poll(self, link: PrinterLink) -> DeviceStatus:
        status = link.query_status()
        self.publisher.publish(status)
        self._polled.set()
        return status

    def _print(self, link: PrinterLink, job: _PrintJob) -> None:
        try:
            data = job.data.render() if isinstance(job.data, Slip) else job.data
        except (OSError, ValueError) as error:  # a logo file missing or unreadable, say
            self._resolve(job.future, job.on_done, PrintResult(
                PrintOutcome.REFUSED, "SLIP_LAYOUT", f"slip could not be laid out: {error}"))
            return
        before = self.status
        self.publisher.publish(replace(before, state=DeviceState.BUSY, reason=before.reason if before.usable else "",
                                       at=time.time()))
        result = link.print_bytes(data)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "slip %s", result.outcome.value,
                extra={"reason": result.reason, "detail": result.detail, "bytes": result.bytes_total})
        self._poll(link)  # BUSY ends with what the printer says now
        self._resolve(job.future, job.on_done, result)

    def _refuse_queued(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, _PrintJob):
                self._resolve(job.future, job.on_done, PrintResult(
                    PrintOutcome.REFUSED, Reason.STOPPED, "printer driver stopped before printing"))
            elif isinstance(job, _Refresh):
                job.future.set_result(self.status)

    def _resolve(self, future: Future, on_done: PrintCallback | None, result: PrintResult) -> None:
        future.set_result(result)
        self._listeners.emit(result)
        if on_done is not None:
            try:
                on_done(result)
            except Exception:  # noqa: BLE001 - the caller's bug must not stop the driver
                log.exception("print callback failed")
