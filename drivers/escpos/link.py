"""One conversation with one printer, synchronous, every step under a deadline.

:class:`PrinterLink` asks for the real-time status and prints a slip's bytes,
confirming that they reached the paper.  It is what the driver's worker
thread runs, and what ``kiosk diag printer`` runs directly.  It never raises
for a device problem: statuses and :class:`PrintResult` carry them.

On each new connection it first learns which status commands this printer
answers (``drivers/escpos/probe.py``): the ``DLE EOT n`` it answers are the
ones every later status read asks, and whether it answers ``GS r 1`` decides
how a slip is confirmed.

Printing, step by step:

1. Real-time status (the ``DLE EOT n`` it answers).  Paper out, cover open,
   an error, or no printer: the slip is refused and not one byte is sent.
2. The slip, in chunks, each under the write timeout.
3. The confirmation, watching ``DLE EOT 2`` (offline cause; all the ``DLE
   EOT n`` it answers when it ignores 2) every quarter of the timeout
   meanwhile: cover open, paper end or an error end the wait at once as a
   failure, and a printer that stops answering ``DLE EOT`` is ``SILENT``.

   * A printer that answers ``GS r 1``: that command, sent after the slip,
     is answered only once everything before it is printed (Epson ESC/POS
     reference, GS r).  No answer within ``print_timeout_s``:
     ``PRINT_TIMEOUT``.
   * A printer that does not: ``DLE EOT`` is a real-time command, executed
     when it arrives and answered even while data waits in the buffer (Epson
     DLE EOT), so its first answer after the slip says every byte was taken;
     the link then keeps asking for as long as the slip takes to print
     (``drivers/escpos/print_time.py``).  Taken, and no stop reported in that
     time: printed.  A slip the printer took and reports no error for is
     never failed for want of an answer the printer does not give.

   A failure is named after the printer's status when it shows a cause
   (``PAPER_OUT`` …), or after what the wire did (``CONNECTION_LOST``,
   ``WRITE_TIMEOUT``, ``SILENT``, ``PRINT_TIMEOUT``).

A device file cannot be read: the slip is written and reported as
``PRINTED_UNCONFIRMED``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from enum import Enum

from drivers.escpos.print_time import ASSUMED_SPEED_MM_S, estimated_print_s
from drivers.escpos.probe import (PROBE_TIMEOUT_S, Capabilities, answers_paper_status, ask_realtime,
                                  realtime_answered_each)
from drivers.escpos.realtime import (
    ALL_KINDS,
    TRANSMIT_PAPER_STATUS,
    BadReply,
    RealtimeStatus,
    Reason,
    is_paper_status_reply,
    is_realtime_reply,
    realtime_request,
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
    def __init__(self, url: str | Endpoint, timeout_s: float = 1.5, print_timeout_s: float = 30.0, *,
                 assumed_speed_mm_s: float = ASSUMED_SPEED_MM_S) -> None:
        """``assumed_speed_mm_s``: how fast a printer that does not answer ``GS r 1`` is taken to print."""
        if assumed_speed_mm_s <= 0:
            raise ValueError(f"assumed_speed_mm_s={assumed_speed_mm_s!r}: a printing speed must be positive")
        self.endpoint = url if isinstance(url, Endpoint) else parse_url(url)
        self.timeout_s = timeout_s
        self.print_timeout_s = print_timeout_s
        self.assumed_speed_mm_s = assumed_speed_mm_s
        self.probe_timeout_s = min(timeout_s, PROBE_TIMEOUT_S)
        self._transport = None
        self._capabilities: Capabilities | None = None

    @property
    def url(self) -> str:
        return self.endpoint.text

    @property
    def capabilities(self) -> Capabilities | None:
        """What this connection's printer answers; None before a status was read on it."""
        return self._capabilities

    def close(self) -> None:
        self._capabilities = None  # the next connection may be another printer, or the same one restarted
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
            if self.endpoint.target.startswith("/dev/") and not os.path.exists(self.endpoint.target):
                self.close()  # the printer was unplugged: its device node is gone
                return unreachable(Reason.UNREACHABLE, f"{self.url}: device file is gone (printer unplugged?)")
            return DeviceStatus(PRINTER, DeviceState.ONLINE, Reason.NO_STATUS,
                                f"{self.url} is a write-only device file: paper and cover cannot be read",
                                PrinterDetail(paper=Paper.UNKNOWN))
        try:
            return self._read_status()
        except TransportError as lost:
            # The printer may have restarted: one new connection before calling it gone.
            self.close()
            try:
                self._open()
                return self._read_status()
            except TransportError as error:
                self.close()
                reason = Reason.SILENT if error.reason == Reason.WRITE_TIMEOUT else Reason.UNREACHABLE
                return unreachable(reason, f"{self.url}: {lost.detail}; then {error.detail}")

    def _read_status(self) -> DeviceStatus:
        """Ask the real-time status on the open connection, probing the printer first if it is new."""
        kinds = self._capabilities.realtime if self._capabilities else ALL_KINDS
        gap_s = None if self._capabilities else self.probe_timeout_s
        replies = ask_realtime(self._transport, kinds, self.timeout_s, gap_s=gap_s)
        if self._capabilities is None and replies:
            kinds, replies = self._learn_realtime(replies)
        if not replies or len(replies) < len(kinds):
            self.close()  # a late answer must not be taken for the next one
            return unreachable(Reason.SILENT, (
                f"{self.url}: connected, but {len(replies)} of {len(kinds)} DLE EOT status requests answered "
                f"within {self.timeout_s:g} s — printer switched off behind its interface, hung, "
                "or not an ESC/POS printer"))
        try:
            status = RealtimeStatus.parse(replies, kinds).device_status()
        except BadReply as error:
            self.close()
            return DeviceStatus(PRINTER, DeviceState.HARDWARE_ERROR, Reason.BAD_REPLY,
                                f"{self.url}: {error} — not an ESC/POS printer, or a wrong baud rate",
                                PrinterDetail(paper=Paper.UNKNOWN))
        if status.usable and self._capabilities.paper_status is None:
            answered = answers_paper_status(self._transport, self.probe_timeout_s)
            self._capabilities = replace(self._capabilities, paper_status=answered)
        return status

    def _learn_realtime(self, replies: bytes) -> tuple[tuple[int, ...], bytes]:
        """A new connection's first answers: which ``DLE EOT n`` this printer answers, and their bytes."""
        if len(replies) == len(ALL_KINDS):
            self._capabilities = Capabilities(ALL_KINDS)
            return ALL_KINDS, replies
        answered = realtime_answered_each(self._transport, self.probe_timeout_s)
        if not answered:
            return ALL_KINDS, b""
        kinds = tuple(answered)
        self._capabilities = Capabilities(kinds)
        return kinds, bytes(answered.values())

    def _open(self):
        if self._transport is None:
            self._transport = open_transport(self.endpoint, self.timeout_s)
            self._capabilities = None
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
        try:
            if self._capabilities.confirms_by_paper_status:
                return self._confirm_by_paper_status(total)
            return self._confirm_by_realtime_status(total, estimated_print_s(data, self.assumed_speed_mm_s))
        except TransportError as error:
            return self._failed(error.reason, f"{error.detail} before the printer confirmed the slip ({total} bytes sent)",
                                total, total)

    def _watch(self) -> _StatusWatch:
        kinds = (2,) if 2 in self._capabilities.realtime else self._capabilities.realtime
        return _StatusWatch(self._transport, kinds, self.timeout_s)

    def _confirm_by_paper_status(self, total: int) -> PrintResult:
        """``GS r 1`` after the slip: its answer means everything before it is printed (Epson GS r)."""
        transport = self._transport
        watch = self._watch()
        started = time.monotonic()
        deadline = started + self.print_timeout_s
        transport.write(TRANSMIT_PAPER_STATUS, self.timeout_s)
        while True:
            now = time.monotonic()
            if now >= deadline:
                return self._failed(Reason.PRINT_TIMEOUT, (
                    f"all {total} bytes sent, but the printer did not confirm printing within "
                    f"{self.print_timeout_s:g} s"), total, total)
            if watch.overdue(now):
                return self._silent_while_printing(total)
            answer = transport.read(1, min(deadline - now, watch.interval_s))
            if not answer:
                if not watch.asking:
                    watch.ask()
                continue
            if is_paper_status_reply(answer[0]):
                return PrintResult(PrintOutcome.PRINTED, "", (
                    f"{total} bytes printed, confirmed by GS r 1 after {time.monotonic() - started:.2f} s"),
                    total, total)
            status = watch.take(answer[0])
            if status is not None and not status.usable:
                return self._stopped_while_printing(status, total)

    def _confirm_by_realtime_status(self, total: int, print_s: float) -> PrintResult:
        """No ``GS r``: the first ``DLE EOT`` answer after the slip says it was all taken (real-time
        commands are executed on arrival, Epson DLE EOT); then no stop for as long as it takes to print."""
        transport = self._transport
        watch = self._watch()
        started = time.monotonic()
        print_s = min(print_s, self.print_timeout_s)
        taken_at: float | None = None
        watch.ask()
        while True:
            now = time.monotonic()
            if watch.overdue(now):
                return self._silent_while_printing(total)
            if not watch.asking and now >= watch.next_ask_at:
                watch.ask()
            answer = transport.read(1, watch.interval_s)
            if not answer:
                continue
            status = watch.take(answer[0])
            if status is None:
                continue  # not a complete answer yet, or not a status byte at all
            if not status.usable:
                return self._stopped_while_printing(status, total)
            answered_at = time.monotonic()
            if taken_at is None:
                taken_at = answered_at
            if answered_at - taken_at >= print_s:
                return PrintResult(PrintOutcome.PRINTED, "", (
                    f"{total} bytes printed: taken by the printer after {taken_at - started:.2f} s, then no stop "
                    f"reported for {answered_at - taken_at:.2f} s, as long as the slip takes to print at "
                    f"{self.assumed_speed_mm_s:g} mm/s (this printer does not answer GS r 1)"), total, total)

    def _stopped_while_printing(self, stopped: DeviceStatus, total: int) -> PrintResult:
        return self._failed(stopped.reason, (
            f"printing stopped partway through the slip ({total} bytes sent)"), total, total)

    def _silent_while_printing(self, total: int) -> PrintResult:
        return self._failed(Reason.SILENT, f"printer stopped answering while printing ({total} bytes sent)",
                            total, total)

    def _failed(self, reason: str, what: str, sent: int, total: int) -> PrintResult:
        """Name a failure after the printer's own status when it shows a cause."""
        self.close()  # whatever the printer still answers about this slip is not news for the next
        status = self.query_status()
        if not status.usable and status.state is DeviceState.HARDWARE_ERROR:
            reason = status.reason
            what = f"{status.detail} — {what}"
        return PrintResult(PrintOutcome.FAILED, reason, what, sent, total)


class _StatusWatch:
    """``DLE EOT`` asked while a slip prints, a quarter of the timeout apart, and what the answers say.

    Answers come back in the order asked, one byte each; a byte that is not
    of the ``DLE EOT`` form (a ``GS r`` answer) is not counted.
    """

    def __init__(self, transport, kinds: tuple[int, ...], timeout_s: float) -> None:
        self._transport = transport
        self._kinds = kinds
        self._timeout_s = timeout_s
        self.interval_s = timeout_s / 4
        self._asked_at: float | None = None
        self._answers = b""
        self.next_ask_at = 0.0

    @property
    def asking(self) -> bool:
        return self._asked_at is not None

    def ask(self) -> None:
        self._transport.write(realtime_request(self._kinds), self._timeout_s)
        self._asked_at = time.monotonic()
        self._answers = b""

    def overdue(self, now: float) -> bool:
        return self._asked_at is not None and now - self._asked_at > self._timeout_s

    def take(self, byte: int) -> DeviceStatus | None:
        """Count one byte read; the printer's status once the answer to the last request is complete."""
        if self._asked_at is None or not is_realtime_reply(byte):
            return None
        self._answers += bytes([byte])
        if len(self._answers) < len(self._kinds):
            return None
        self._asked_at = None
        self.next_ask_at = time.monotonic() + self.interval_s
        return RealtimeStatus.parse(self._answers, self._kinds).device_status()
