"""One status model for every device, in the CEN/XFS (XFS4IoT) vocabulary.

Every driver reports a :class:`DeviceStatus`: the common state every XFS4IoT
device class has (``online``, ``busy``, ``offline``, ``hardwareError``) plus
the detail of its own class — the acceptor's stacker and jam, the printer's
paper and cover, the card reader's reader and card (the scanner has none:
its reason says it all).  The device monitor in
``kiosk/`` turns these into what the kiosk can offer; screens only render.

``reason`` is a short machine code a technician can look up (``JAM``,
``PAPER_OUT``, ``PORT_GONE``); ``detail`` is the sentence that says what was
seen and what to do.  Both are for the maintenance archive and the technician,
never shown raw to a customer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Callable

from drivers.listeners import EventListeners, Unsubscribe


class DeviceName(StrEnum):
    """Which device of the kiosk: the names config.toml's ``[devices]`` and the archive use."""

    ACCEPTOR = "acceptor"
    PRINTER = "printer"
    CARD_READER = "card_reader"
    SCANNER = "scanner"  # the barcode/QR scanner: optional, it only adds 被扫 (docs/scanner.md)


ACCEPTOR = DeviceName.ACCEPTOR
PRINTER = DeviceName.PRINTER
CARD_READER = DeviceName.CARD_READER
SCANNER = DeviceName.SCANNER
DEVICES = tuple(DeviceName)


class DeviceState(Enum):
    """XFS4IoT Common.Status.Device, in our spelling."""

    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"  # not reachable: cable, port, power, service
    HARDWARE_ERROR = "hardware_error"  # reachable but cannot work: jam, cover open, paper out


class Stacker(Enum):
    OK = "ok"
    FULL = "full"
    OPEN = "open"  # cash box removed


class Paper(Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AcceptorDetail:
    stacker: Stacker = Stacker.OK
    jammed: bool = False
    note_in_escrow: bool = False


@dataclass(frozen=True)
class PrinterDetail:
    paper: Paper = Paper.UNKNOWN
    cover_open: bool = False


@dataclass(frozen=True)
class CardReaderDetail:
    reader_present: bool = False
    card_present: bool = False
    reader_name: str = ""


Detail = AcceptorDetail | PrinterDetail | CardReaderDetail


@dataclass(frozen=True)
class DeviceStatus:
    device: DeviceName
    state: DeviceState
    reason: str = ""
    detail: str = ""
    device_detail: Detail | None = None
    at: float = field(default_factory=time.time, compare=False)

    @property
    def usable(self) -> bool:
        return self.state in (DeviceState.ONLINE, DeviceState.BUSY)

    @property
    def fault_key(self) -> tuple[str, str]:
        """What identifies one fault in the archive: the same key is the same fault."""
        return (self.state.value, self.reason)


StatusListener = Callable[[DeviceStatus], None]


class StatusPublisher:
    """What every driver embeds: the latest status and who wants to hear of changes.

    Listeners are called on the driver's own thread; the device monitor moves
    the news to the GUI thread.  A listener that raises never takes the driver
    down with it.
    """

    def __init__(self, initial: DeviceStatus) -> None:
        self._lock = threading.Lock()
        self._status = initial
        self._listeners = EventListeners(logging.getLogger("kiosk.devices"))

    @property
    def status(self) -> DeviceStatus:
        with self._lock:
            return self._status

    def subscribe(self, listener: StatusListener) -> Unsubscribe:
        """Hear every change from now on; returns the function that stops it."""
        return self._listeners.subscribe(listener)

    def publish(self, status: DeviceStatus) -> None:
        with self._lock:
            changed = (status.state, status.reason, status.device_detail) != (
                self._status.state, self._status.reason, self._status.device_detail)
            self._status = status
        if changed:
            self._listeners.emit(status)

    def update(self, **changes) -> DeviceStatus:
        status = replace(self.status, at=time.time(), **changes)
        self.publish(status)
        return status
