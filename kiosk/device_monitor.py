"""One place that turns every device's status into what the kiosk can offer.

    all services  — every device usable
    degraded      — no slip (printer unusable: the customer is told before
                    paying and chooses), no card services (card reader
                    unusable: hidden), inquiry only (acceptor unusable)
    none          — the out-of-order sign: money would be at risk (a note
                    jammed inside, the cash box open or removed, a cheat
                    attempt) or no device works at all

The scanner stands apart: it only adds reading the customer's payment code
(``scan``).  Whatever it reports never raises the sign, never turns cash or
anything else off, and a scanner alone does not count as "a device works".

Every fault and every recovery goes to the device maintenance archive.  Plain
Python, no Qt: the GUI hands statuses in on its own thread, tests call
:meth:`DeviceMonitor.update` directly.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drivers.status import (
    ACCEPTOR,
    CARD_READER,
    DEVICES,
    PRINTER,
    SCANNER,
    DeviceState,
    DeviceStatus,
)
from kiosk.service_level import ServiceLevel, out_of_order

if TYPE_CHECKING:  # the kiosk hands in an ArchiveWriter; sqlite_utils stays off start-up
    from offline_store.archive_writer import ArchiveWriter
    from offline_store.device_archive import DeviceArchive

log = logging.getLogger("kiosk.devices")

# Acceptor faults that put the machine out of order: taking money now could
# lose it or could not be accounted for (rule 6 of MISSION.md).
MONEY_AT_RISK = {"JAM_IN_ACCEPTOR", "JAM_IN_STACKER", "STACKER_OPEN", "CHEATED"}

# Card reader reasons that are about the customer's card, not the reader: the
# reader still works for the next card, so card services stay (the customer
# is told about their card by the journey); the archive still records them,
# as many in a row point at a dirty or failing reader.
CARD_PROBLEMS = {"CARD_MUTE", "CARD_UNKNOWN", "CARD_PULLED", "CARD_ERROR"}

_SHORT = {ACCEPTOR: "ACC", PRINTER: "PRN", CARD_READER: "CRD", SCANNER: "SCN"}


def reason_code(status: DeviceStatus) -> str:
    """The code on the sign and in the archive: E-ACC-JAM_IN_ACCEPTOR."""
    return f"E-{_SHORT.get(status.device, status.device.upper())}-{status.reason or status.state.value.upper()}"


class DeviceMonitor:
    def __init__(self, archive: "DeviceArchive | ArchiveWriter | None", devices: tuple[str, ...] = DEVICES) -> None:
        """``devices``: the devices this kiosk has drivers for; only they count.
        ``archive``: the kiosk passes an :class:`ArchiveWriter`, so no disk
        write ever happens on the GUI thread."""
        self._archive = archive
        # Until a driver reports, a device counts as not there: the kiosk must
        # not offer cash before it knows the acceptor answers.
        self._statuses: dict[str, DeviceStatus] = {
            device: DeviceStatus(device, DeviceState.OFFLINE, "NOT_STARTED", "driver has not reported yet")
            for device in devices
        }

    @property
    def statuses(self) -> dict[str, DeviceStatus]:
        return dict(self._statuses)

    def update(self, status: DeviceStatus) -> bool:
        """Take a driver's news; record faults and recoveries; True if it changed."""
        previous = self._statuses.get(status.device)
        self._statuses[status.device] = status
        if previous is not None and previous.fault_key == status.fault_key and previous.device_detail == status.device_detail:
            return False
        self._archive_change(previous, status)
        return True

    def _archive_change(self, previous: DeviceStatus | None, status: DeviceStatus) -> None:
        was_fault = previous is not None and not previous.usable and previous.reason != "NOT_STARTED"
        if status.usable:
            if was_fault:
                log.warning("device recovered", extra={"device": status.device, "after": previous.reason})
            # Also on a device's first report: a fault left open by the last run
            # (the kiosk stopped before the device recovered) is closed now.
            if self._archive is not None and (was_fault or previous is None or previous.reason == "NOT_STARTED"):
                self._archive.clear_faults(status.device)
            return
        if previous is not None and previous.fault_key == status.fault_key:
            return
        log.warning("device fault", extra={"device": status.device, "state": status.state.value,
                                           "reason": status.reason, "detail": status.detail})
        if self._archive is not None:
            self._archive.raise_fault(status.device, status.state.value, reason_code(status), status.detail)

    def level(self) -> ServiceLevel:
        """What the devices allow (the service monitor adds the backend and the journal)."""
        acceptor = self._statuses.get(ACCEPTOR)
        printer = self._statuses.get(PRINTER)
        reader = self._statuses.get(CARD_READER)
        if acceptor is not None and acceptor.reason in MONEY_AT_RISK:
            return out_of_order(reason_code(acceptor), acceptor.detail)
        scanner = self._statuses.get(SCANNER)
        services = {device: s for device, s in self._statuses.items() if device != SCANNER}
        reported = [s for s in services.values() if s.reason != "NOT_STARTED"]
        if reported and len(reported) == len(services) and not any(s.usable for s in reported):
            worst = next(iter(services.values()))
            return out_of_order(reason_code(worst), "no device is working: " + "; ".join(
                f"{s.device}: {s.reason}" for s in services.values()))
        # A device the terminal does not have ("none" in [devices]) offers
        # nothing: no acceptor, no cash; no printer, no slip (the customer is
        # told before paying).  A card reader is optional equipment: without
        # one the card tile is simply not there, nothing is announced.
        return ServiceLevel(
            cash=acceptor is not None and acceptor.usable,
            slip=printer is not None and printer.usable,
            card=reader is not None and (reader.usable or reader.reason in CARD_PROBLEMS),
            card_reader_fitted=reader is not None,
            scan=scanner is not None and scanner.usable,
        )
