"""What the acceptor's states mean in the kiosk's status model, and its reason codes.

The acceptor reports its state in every answer to STATUS REQUEST (spec
ID03-001E 6-2); this module turns one such answer into the CEN/XFS status
of ``drivers/status.py`` (online, busy, offline, hardware error, plus the
stacker and jam detail), with a reason code a technician can look up and a
sentence that says what to do.  The faults (6-2-3, 43h–49h) clear by
themselves once the cause is removed, so none of them needs a command.

:class:`AcceptorReason` holds every ``reason`` the acceptor driver reports;
it is a ``StrEnum``, so ``status.reason == "JAM_IN_ACCEPTOR"`` still holds
wherever the kiosk compares with the plain string.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.id003 import codec
from drivers.id003.codec import Status, StatusReply
from drivers.status import ACCEPTOR, AcceptorDetail, DeviceState, DeviceStatus, Stacker


class AcceptorReason(StrEnum):
    """The ``reason`` of the acceptor's :class:`~drivers.status.DeviceStatus`."""

    NONE = ""  # online, or busy with a note
    CONNECTING = "CONNECTING"  # the driver has not opened the port yet
    STOPPED = "STOPPED"
    PORT_GONE = "PORT_GONE"
    PORT_UNAVAILABLE = "PORT_UNAVAILABLE"
    SILENT = "SILENT"
    COMMUNICATION_ERROR = "COMMUNICATION_ERROR"
    POWER_UP = "POWER_UP"
    INITIALIZING = "INITIALIZING"
    PAUSE = "PAUSE"
    NO_CURRENCY_TABLE = "NO_CURRENCY_TABLE"
    FAILURE = "FAILURE"
    STACKER_FULL = "STACKER_FULL"
    STACKER_OPEN = "STACKER_OPEN"
    JAM_IN_ACCEPTOR = "JAM_IN_ACCEPTOR"
    JAM_IN_STACKER = "JAM_IN_STACKER"
    CHEATED = "CHEATED"


@dataclass(frozen=True)
class StatusReport:
    """A status to publish; the driver stamps it (:meth:`as_status`) when it publishes it."""

    state: DeviceState
    reason: AcceptorReason
    detail: str
    device_detail: AcceptorDetail = AcceptorDetail()

    def as_status(self) -> DeviceStatus:
        return DeviceStatus(ACCEPTOR, self.state, self.reason, self.detail, self.device_detail)


def _fault(reason: AcceptorReason, stacker: Stacker, jammed: bool, detail: str) -> StatusReport:
    return StatusReport(DeviceState.HARDWARE_ERROR, reason, detail,
                        AcceptorDetail(stacker=stacker, jammed=jammed, note_in_escrow=False))


_FAULTS = {  # spec 6-2-3
    Status.STACKER_FULL: _fault(
        AcceptorReason.STACKER_FULL, Stacker.FULL, False,
        "The cash box is full: collect the cash (empty the box) and put it back; the acceptor resumes by itself."),
    Status.STACKER_OPEN: _fault(
        AcceptorReason.STACKER_OPEN, Stacker.OPEN, False,
        "The cash box is out or not locked in: put it back and lock it."),
    Status.JAM_IN_ACCEPTOR: _fault(
        AcceptorReason.JAM_IN_ACCEPTOR, Stacker.OK, True,
        "A note is stuck in the acceptor's transport path: open the acceptor head, remove the note, close the head."),
    Status.JAM_IN_STACKER: _fault(
        AcceptorReason.JAM_IN_STACKER, Stacker.OK, True,
        "A note is stuck between transport and cash box: take the box out, remove the note, put the box back; "
        "compare the journal before returning the note to anyone."),
    Status.CHEATED: _fault(
        AcceptorReason.CHEATED, Stacker.OK, False,
        "The acceptor detected a manipulation (note pulled back, foreign object or light in the path): inspect the "
        "note path, keep the hall camera recording, power-cycle the acceptor."),
}

POWER_UP_REPORT = StatusReport(DeviceState.BUSY, AcceptorReason.POWER_UP,
                               "The acceptor has just been powered up; the driver resets it.")


def report_for(reply: StatusReply, no_currency_table: bool) -> StatusReport:
    """The status model for one answer to STATUS REQUEST (not a power-up one: see :data:`POWER_UP_REPORT`).

    ``no_currency_table``: the acceptor answered but gave no usable currency
    table several times, so an idle acceptor cannot take notes."""
    status = reply.status
    escrow = status in (Status.ESCROW, Status.HOLDING)
    fault = _FAULTS.get(status)
    if fault is not None:
        return fault
    if status is Status.FAILURE:
        return _failure(reply.failure_code)
    if status is Status.PAUSE:
        return StatusReport(DeviceState.BUSY, AcceptorReason.PAUSE,
                            "A second note was pushed in while the first was being taken: the acceptor waits until "
                            "it is pulled out.", AcceptorDetail(note_in_escrow=escrow))
    if status is Status.INITIALIZE:
        return StatusReport(DeviceState.BUSY, AcceptorReason.INITIALIZING, "The acceptor is initialising.")
    if no_currency_table:
        return StatusReport(DeviceState.HARDWARE_ERROR, AcceptorReason.NO_CURRENCY_TABLE,
                            "The acceptor answers but gives no usable currency table (8Ah) with CNY notes: check its "
                            "currency/firmware set; notes are refused until then.")
    if status in (Status.IDLING, Status.DISABLED):
        return StatusReport(DeviceState.ONLINE, AcceptorReason.NONE,
                            "Accepting notes." if status is Status.IDLING else "Ready; note intake inhibited.")
    return StatusReport(DeviceState.BUSY, AcceptorReason.NONE, f"Handling a note ({status.name.lower()}).",
                        AcceptorDetail(note_in_escrow=escrow))


def _failure(code: int | None) -> StatusReport:
    text = codec.FAILURE_CODES.get(code, "unknown failure") if code is not None else "no code"
    shown = f"{code:02X}h" if code is not None else "?"
    return StatusReport(DeviceState.HARDWARE_ERROR, AcceptorReason.FAILURE,
                        f"The acceptor reports an internal failure {shown} ({text}): power it off and on; if it comes "
                        f"back, replace the unit.")


def silence_report(port_label: str, quiet_s: float, bytes_without_frames: bool) -> StatusReport:
    """No valid status for ``quiet_s``: the acceptor is offline, silent or talking nonsense."""
    if bytes_without_frames:
        return StatusReport(DeviceState.OFFLINE, AcceptorReason.COMMUNICATION_ERROR,
                            f"The acceptor on {port_label} sends bytes but no valid ID-003 frame for {quiet_s:.1f} s: "
                            f"check that it is set to 9600 baud 8E1 ID-003 and the cable is not picking up noise.")
    return StatusReport(DeviceState.OFFLINE, AcceptorReason.SILENT,
                        f"No answer from the acceptor on {port_label} for {quiet_s:.1f} s: check its power supply "
                        f"and the serial cable at the acceptor end.")
