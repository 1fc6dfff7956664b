"""One conversation with one printer, synchronous, every step under a deadline.

:class:`PrinterLink` asks for the real-time status and prints a slip's bytes,
confirming that they reached the paper.  It is what the driver's worker
thread runs, and what ``kiosk diag printer`` runs directly.  It never raises
for a device problem: statuses and :class:`PrintResult` carry them.

Printing, step by step:

1. Real-time status (``DLE EOT 1–4``).  Paper out, cover open, an error, or
   no printer: the slip is refused and not one byte is sent.
2. The slip, in chunks, each under the write timeout.
3. ``GS r 1``, which the printer answers only after printing everything
   before it (Epson ESC/POS reference, GS r).  While waiting, ``DLE EOT 2``
   (offline cause) every quarter of the timeout: cover open, paper end or an
   error stop the wait at once, and a printer that stops answering ``DLE
   EOT`` is silent.  A failure is then named after the printer's status when
   it shows a cause (``PAPER_OUT`` …), or after what the wire did
   (``CONNECTION_LOST``, ``WRITE_TIMEOUT``, ``SILENT``, ``PRINT_TIMEOUT``).

A device file cannot be read: the slip is written and reported as
``PRINTED_UNCONFIRMED``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from enum import Enum

from drivers.escpos.realtime import (
    REQUEST_ALL,
    REQUEST_OFFLINE_CAUSE,
    TRANSMIT_PAPER_STATUS,
    BadReply,
    RealtimeStatus,
    Reason,
    is_paper_status_reply,
    is_realtime_reply,
    offline_cause_stops_printing,
    unreachable,
)
from drivers.escpos.transport import Endpoint, TransportError, open_transport, parse_url
from drivers.status import PRINTER, DeviceState, DeviceStatus, Paper, PrinterDetail

CHUNK = 256  # ~0.27 s at 9600 baud, so a chunk fits a short write timeout on a slow serial line


class PrintOutcome(Enum):
    PRINTED = "printed"  # the printer confirmed it printed everything
    PRINTED_UNCONFIRMED = "printed_unconfirmed"  # written to a device that cannot answer
    REFUSED = "refused"  # nothing was sent: the printer could not print
    FAILED = "failed"  # something was sent, the slip is not (known to be) complete


@dataclass(frozen=True)
class PrintResult:
    """What became of one slip.

    ``reason`` is a code from :class:`~drivers.escpos.realtime.Reason` (empty
    when printed) for the screen to choose the customer's words by;
    ``detail`` is the technician's sentence.
    """

    outcome: PrintOutcome
    reason: str = ""
    detail: str = ""
    bytes_sent: int = 0
    bytes_total: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in (PrintOutcome.PRINTED, PrintOutcome.PRINTED_UNCONFIRMED)


class PrinterLink:
    def __init__(self, url: str | Endpoint, timeout_s: float = 1.5, print_timeout_s: float = 30.0) -> None:
        self.endpoint = url if isinstance(url, Endpoint) else parse_url(url)
        self.timeout_s = timeout_s
        self.print_timeout_s = print_timeout_s
        self._transport = None

    @property
    def url(self) -> str:
        return self.endpoint.url

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # ------------------------------------------------------------ status

    def query_status(self) -> DeviceStatus:
        try:
            transport = self._open()
        except TransportError as error:
            return unreachable(Reason.UNREACHABLE, f"{self.url}: {error.detail}")
        if not transport.can_read:
            if self.endpoint.path.startswith("/dev/") and not os.path.exists(self.endpoint.path):
                self.close()  # the printer was unplugged: its device node is gone
                return unreachable(Reason.UNREACHABLE, f"{self.url}: device file is gone (printer unplugged?)")
            return DeviceStatus(PRINTER, DeviceState.ONLINE, Reason.NO_STATUS,
                                f"{self.url} is a write-only device file: paper and cover cannot be read",
                                PrinterDetail(paper=Paper.UNKNOWN))
        try:
            replies = self._ask_status()
        except TransportError as lost:
            # The printer may have restarted: one new connection before calling it gone.
            self.close()
            try:
                self._open()
                replies = self._ask_status()
            except TransportError as error:
                self.close()
                reason = Reason.SILENT if error.reason == Reason.WRITE_TIMEOUT else Reason.UNREACHABLE
                return unreachable(reason, f"{self.url}: {lost.detail}; then {error.detail}")
        if len(replies) < 4:
            self.close()  # a late answer must not be taken for the next one
            return unreachable(Reason.SILENT, (
                f"{self.url}: connected, but {len(replies)} of 4 DLE EOT status requests answered "
                f"within {self.timeout_s:g} s — printer switched off behind its interface, hung, "
                "or not an ESC/POS printer"))
        try:
            return RealtimeStatus.parse(replies).device_status()
        except BadReply as error:
            self.close()
            return DeviceStatus(PRINTER, DeviceState.HARDWARE_ERROR, Reason.BAD_REPLY,
                                f"{self.url}: {error} — not an ESC/POS printer, or a wrong baud rate",
                                PrinterDetail(paper=Paper.UNKNOWN))

    def _ask_status(self) -> bytes:
        transport = self._transport
        transport.discard_input()
        transport.write(REQUEST_ALL, self.timeout_s)
        deadline = time.monotonic() + self.timeout_s
        replies = b""
        while len(replies) < 4:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for byte in transport.read(4 - len(replies), remaining):
                # A late GS r answer (a slip finishing after a paper change) is not a status.
                if not is_paper_status_reply(byte):
                    replies += bytes([byte])
        return replies

    def _open(self):
        if self._transport is None:
            self._transport = open_transport(self.endpoint, self.timeout_s)
        return self._transport

    # ------------------------------------------------------------ printing

    def print_bytes(self, data: bytes) -> PrintResult:
        total = len(data)
        status = self.query_status()
        if not status.usable:
            return PrintResult(PrintOutcome.REFUSED, status.reason, f"not printed: {status.detail}", 0, total)
        transport = self._transport
        sent = 0
        try:
            for start in range(0, total, CHUNK):
                transport.write(data[start:start + CHUNK], self.timeout_s)
                sent = min(start + CHUNK, total)
        except TransportError as error:
            return self._failed(error.reason, f"{error.detail} after {sent} of {total} bytes", sent, total)
        if not transport.can_read:
            return PrintResult(PrintOutcome.PRINTED_UNCONFIRMED, Reason.NO_STATUS,
                               f"{total} bytes written to {self.url}; a device file cannot confirm printing",
                               total, total)
        return self._await_printed(total)

    def _await_printed(self, total: int) -> PrintResult:
        transport = self._transport
        started = time.monotonic()
        deadline = started + self.print_timeout_s
        asked_at: float | None = None  # when DLE EOT 2 went out unanswered
        try:
            transport.write(TRANSMIT_PAPER_STATUS, self.timeout_s)
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return self._failed(Reason.PRINT_TIMEOUT, (
                        f"all {total} bytes sent, but the printer did not confirm printing within "
                        f"{self.print_timeout_s:g} s"), total, total)
                if asked_at is not None and now - asked_at > self.timeout_s:
                    return self._failed(Reason.SILENT, (
                        f"printer stopped answering while printing ({total} bytes sent)"), total, total)
                answer = transport.read(1, min(deadline - now, self.timeout_s / 4))
                if not answer:
                    if asked_at is None:
                        transport.write(REQUEST_OFFLINE_CAUSE, self.timeout_s)
                        asked_at = time.monotonic()
                    continue
                byte = answer[0]
                if is_paper_status_reply(byte):
                    return PrintResult(PrintOutcome.PRINTED, "", (
                        f"{total} bytes printed, confirmed after {time.monotonic() - started:.2f} s"), total, total)
                if is_realtime_reply(byte) and asked_at is not None:
                    asked_at = None
                    if offline_cause_stops_printing(byte):
                        return self._failed(Reason.PRINTER_OFFLINE, (
                            f"printing stopped partway through the slip ({total} bytes sent)"), total, total)
        except TransportError as error:
            return self._failed(error.reason, f"{error.detail} before the printer confirmed the slip ({total} bytes sent)",
                                total, total)

    def _failed(self, reason: str, what: str, sent: int, total: int) -> PrintResult:
        """Name a failure after the printer's own status when it shows a cause."""
        self.close()  # whatever the printer still answers about this slip is not news for the next
        status = self.query_status()
        if not status.usable and status.state is DeviceState.HARDWARE_ERROR:
            reason = status.reason
            what = f"{status.detail} — {what}"
        return PrintResult(PrintOutcome.FAILED, reason, what, sent, total)
