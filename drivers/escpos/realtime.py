"""ESC/POS real-time status: the bytes we ask with, the bytes a printer answers, our status model.

Follows the Epson ESC/POS Command Reference:

* ``DLE EOT n`` (10 04 n), "Transmit real-time status"
  https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/dle_eot.html —
  n = 1 printer, 2 offline cause, 3 error cause, 4 roll paper sensor.  Each
  answer is one byte of the form ``0xx1xx10b`` (bits 0, 1, 4, 7 fixed), which
  tells it apart from other data the printer sends.  The printer answers even
  while offline (paper out, cover open), which is what makes it a status
  command; up to four requests may be sent at once, and nothing else until
  all are answered.
* ``GS r 1`` (1D 72 01), "Transmit status" (paper sensor)
  https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/gs_lr.html —
  not real-time: it waits in the receive buffer behind the data sent before
  it, so its answer means "everything before me has been printed".  Its
  answer has bits 4 and 7 at 0, so it cannot be mistaken for a ``DLE EOT``
  answer.  A printer stopped at paper end does not execute it.  Many models
  do not answer it at all, and some leave out one ``DLE EOT n``: what a
  printer answers is probed on each connection (``drivers/escpos/probe.py``).

Everything here is pure: bytes in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.status import PRINTER, DeviceState, DeviceStatus, Paper, PrinterDetail

DLE_EOT = b"\x10\x04"
REQUEST_PRINTER = DLE_EOT + b"\x01"
REQUEST_OFFLINE_CAUSE = DLE_EOT + b"\x02"
REQUEST_ERROR_CAUSE = DLE_EOT + b"\x03"
REQUEST_PAPER = DLE_EOT + b"\x04"
# Four requests at once is the most the reference allows before waiting.
REQUEST_ALL = REQUEST_PRINTER + REQUEST_OFFLINE_CAUSE + REQUEST_ERROR_CAUSE + REQUEST_PAPER
TRANSMIT_PAPER_STATUS = b"\x1dr\x01"  # GS r 1: answered once everything before it is printed

ALL_KINDS = (1, 2, 3, 4)  # the n of DLE EOT n we ask for
KIND_NAMES = {1: "printer status", 2: "offline cause", 3: "error cause", 4: "roll paper sensor"}
NOTHING_SET = 0x12  # an answer with only its fixed bits: what we assume for an n the printer ignores


def realtime_request(kinds: tuple[int, ...] = ALL_KINDS) -> bytes:
    """``DLE EOT n`` for each n, at once (at most four: the DLE EOT notes allow no more before waiting)."""
    return b"".join(DLE_EOT + bytes([n]) for n in kinds)


class Reason:
    """The ``reason`` codes the printer driver reports (see drivers/status.py)."""

    PAPER_NEAR_END = "PAPER_NEAR_END"  # online: the slip still prints, replace the roll soon
    PAPER_OUT = "PAPER_OUT"
    COVER_OPEN = "COVER_OPEN"
    CUTTER_ERROR = "CUTTER_ERROR"  # autocutter jammed or blocked
    OFFLINE_ERROR = "OFFLINE_ERROR"  # recoverable, unrecoverable or auto-recoverable error
    PRINTER_OFFLINE = "PRINTER_OFFLINE"  # offline with no cause in the status (feed button held, ...)
    BAD_REPLY = "BAD_REPLY"  # something answers, but not an ESC/POS real-time status
    SILENT = "SILENT"  # connected, no answer within the timeout
    UNREACHABLE = "UNREACHABLE"  # cannot connect / open the device
    CONNECTION_LOST = "CONNECTION_LOST"  # an open connection broke (print results)
    WRITE_TIMEOUT = "WRITE_TIMEOUT"  # the printer stopped taking data (print results)
    PRINT_TIMEOUT = "PRINT_TIMEOUT"  # data taken, printing never confirmed (print results)
    NO_STATUS = "NO_STATUS"  # write-only device file: status cannot be read
    NOT_STARTED = "NOT_STARTED"
    STOPPED = "STOPPED"


class BadReply(ValueError):
    """An answer to ``DLE EOT`` whose fixed bits are wrong."""


def is_realtime_reply(byte: int) -> bool:
    """``0xx1xx10b``: bits 0 and 7 clear, bits 1 and 4 set (DLE EOT notes)."""
    return byte & 0b1001_0011 == 0b0001_0010


def is_paper_status_reply(byte: int) -> bool:
    """A ``GS r 1`` answer: bits 4 and 7 fixed at 0 (reserved bits 5, 6 assumed 0)."""
    return byte & 0xF0 == 0


@dataclass(frozen=True)
class RealtimeStatus:
    """The four ``DLE EOT`` answers, decoded bit by bit (tables of the DLE EOT reference)."""

    # n = 1, printer status
    offline: bool = False
    waiting_online_recovery: bool = False  # bit 5
    feed_button_pressed: bool = False  # bit 6
    # n = 2, offline cause
    cover_open: bool = False  # bit 2
    feeding_by_button: bool = False  # bit 3
    paper_end_stop: bool = False  # bit 5: printing stopped at paper end
    error: bool = False  # bit 6
    # n = 3, error cause
    recoverable_error: bool = False  # bit 2
    autocutter_error: bool = False  # bit 3
    unrecoverable_error: bool = False  # bit 5
    auto_recoverable_error: bool = False  # bit 6
    # n = 4, roll paper sensor
    paper_near_end: bool = False  # bits 2 and 3
    paper_out: bool = False  # bits 5 and 6
    # the n the printer answered; what it ignores reads as "nothing set"
    kinds: tuple[int, ...] = ALL_KINDS

    @classmethod
    def parse(cls, replies: bytes, kinds: tuple[int, ...] = ALL_KINDS) -> RealtimeStatus:
        """Decode the answers to :func:`realtime_request` for ``kinds``, in that order."""
        if len(replies) != len(kinds):
            raise BadReply(f"expected {len(kinds)} status bytes, got {len(replies)}: {replies.hex(' ')}")
        answers = dict.fromkeys(ALL_KINDS, NOTHING_SET)
        for n, byte in zip(kinds, replies):
            if not is_realtime_reply(byte):
                raise BadReply(f"answer 0x{byte:02x} to DLE EOT {n} is not of the form 0xx1xx10b")
            answers[n] = byte
        printer, cause, error, paper = (answers[n] for n in ALL_KINDS)
        return cls(
            offline=bool(printer & 0x08),
            waiting_online_recovery=bool(printer & 0x20),
            feed_button_pressed=bool(printer & 0x40),
            cover_open=bool(cause & 0x04),
            feeding_by_button=bool(cause & 0x08),
            paper_end_stop=bool(cause & 0x20),
            error=bool(cause & 0x40),
            recoverable_error=bool(error & 0x04),
            autocutter_error=bool(error & 0x08),
            unrecoverable_error=bool(error & 0x20),
            auto_recoverable_error=bool(error & 0x40),
            # Both bits of a sensor pair are set together; either one counts.
            paper_near_end=bool(paper & 0x0C),
            paper_out=bool(paper & 0x60),
            kinds=tuple(kinds),
        )

    @property
    def paper(self) -> Paper:
        if self.paper_out or self.paper_end_stop:
            return Paper.OUT
        if 2 not in self.kinds and 4 not in self.kinds:
            return Paper.UNKNOWN  # neither the offline cause nor the paper sensor is answered
        return Paper.NEAR_END if self.paper_near_end else Paper.OK

    def device_status(self) -> DeviceStatus:
        """Our status model; the first matching cause wins (cover, paper, error, other offline)."""
        detail = PrinterDetail(paper=self.paper, cover_open=self.cover_open)
        state, reason, text = self._condition()
        return DeviceStatus(PRINTER, state, reason, text, detail)

    def _condition(self) -> tuple[DeviceState, str, str]:
        fault = DeviceState.HARDWARE_ERROR
        if self.cover_open:
            also = " (and the paper sensor reports no paper)" if self.paper is Paper.OUT else ""
            return fault, Reason.COVER_OPEN, f"printer cover is open{also}: close it firmly"
        if self.paper is Paper.OUT:
            return fault, Reason.PAPER_OUT, "paper roll is empty: load a new roll and close the cover"
        if self.autocutter_error:
            return fault, Reason.CUTTER_ERROR, (
                "autocutter error: clear the paper jammed in the cutter, then switch the printer off and on")
        if self.unrecoverable_error:
            return fault, Reason.OFFLINE_ERROR, (
                "unrecoverable printer error: switch the printer off; it needs repair if it comes back")
        if self.recoverable_error or self.auto_recoverable_error or self.error:
            kind = ("auto-recoverable error (print head or motor too hot; clears by itself)"
                    if self.auto_recoverable_error else
                    "recoverable error (paper jam or the like)" if self.recoverable_error else
                    "error reported without a cause")
            return fault, Reason.OFFLINE_ERROR, f"printer is offline with an {kind}"
        if self.offline:
            why = ("paper is being fed by the feed button" if self.feeding_by_button or self.feed_button_pressed
                   else "waiting for online recovery" if self.waiting_online_recovery else "no cause reported")
            return fault, Reason.PRINTER_OFFLINE, f"printer reports offline: {why}"
        if self.paper_near_end:
            return DeviceState.ONLINE, Reason.PAPER_NEAR_END, "paper roll is near its end: replace it soon"
        if self.paper is Paper.UNKNOWN:
            return DeviceState.ONLINE, "", "printer online; paper and cover unknown (it answers neither DLE EOT 2 nor 4)"
        return DeviceState.ONLINE, "", "printer online, paper ok, cover closed"


def unreachable(reason: str, detail: str) -> DeviceStatus:
    """A printer we cannot talk to: state offline, paper and cover unknown."""
    return DeviceStatus(PRINTER, DeviceState.OFFLINE, reason, detail, PrinterDetail(paper=Paper.UNKNOWN))
