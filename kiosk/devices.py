"""The kiosk's devices, built from ``[devices]`` in config.toml.

Each of ``acceptor``, ``printer``, ``card_reader`` and ``scanner`` is one of:

* ``"emulator"`` — the device emulator under ``drivers/`` runs in this process
  (an ID-003 acceptor on a pseudo-terminal, an ESC/POS printer on a loopback
  TCP port, the in-process card reader, a serial scanner on a pseudo-terminal)
  and the *real driver* talks to it,
  exactly as it would to hardware.  ``make demo`` plays faults through them
  with the device panel.
* ``"none"`` — the terminal has no such device; the services that need it are
  not offered and nothing is announced as broken.
* anything else — the hardware: a serial device or ``tcp://host:port``
  (acceptor, printer), ``"pcsc"`` or ``"pcsc:<reader name>"`` (card reader), a
  serial device or pyserial URL with the scanner's options (scanner).

:class:`KioskDevices` knows which devices are fitted as soon as it is made
(the device monitor needs that before the first screen), and imports and
starts the drivers only in :meth:`start`, off the GUI thread, after the home
screen is up.  Statuses, card events and scanner events reach the caller's
listeners on the drivers' threads; the kiosk turns them into queued Qt signals.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from drivers.device import DeviceSetting
from drivers.status import ACCEPTOR, CARD_READER, DEVICES, PRINTER, SCANNER, DeviceState, DeviceStatus
from kiosk.config import DevicesConfig

log = logging.getLogger("kiosk.devices")


# The acceptor is polled as JCM's integration guide suggests (100 ms); it is
# offline when it has not answered for a second.
ACCEPTOR_POLL_S = 0.1
ACCEPTOR_SILENCE_S = 1.0
PRINTER_STATUS_INTERVAL_S = 2.0
CARD_POLL_S = 0.3
STOP_TIMEOUT_S = 3.0
# A reset waits this long for the acceptor to settle (a real one stacks a note
# in about a second), then for the restarted driver's first word.
RESET_SETTLE_S = 5.0
RESET_REPORT_S = 3.0
_RESET_POLL_S = 0.02
# What a driver says before it has heard its device: not yet a result of the reset.
_NOT_YET = frozenset({"CONNECTING", "NOT_STARTED", "STOPPED"})

StatusListener = Callable[[DeviceStatus], None]
CardListener = Callable[[object], None]
ScannerListener = Callable[[object], None]  # drivers.scanner.events.ScannerEvent


@dataclass
class Emulators:
    """The emulators behind the devices configured as ``"emulator"`` (None for the others)."""

    acceptor: object | None = None  # drivers.id003.emulator.AcceptorEmulator
    printer: object | None = None  # drivers.escpos.emulator.PrinterEmulator
    card_reader: object | None = None  # drivers.pcsc.emulator.EmulatedReader
    scanner: object | None = None  # drivers.scanner.emulator.ScannerEmulator


class ResetRefused(Exception):
    """A device reset that was not done: ``code`` (NOT_FITTED, NOT_SETTLED, DID_NOT_STOP,
    NOT_STARTABLE, STOPPING) for the screen to choose its words by, ``detail`` the
    technician's sentence."""

    def __init__(self, device: str, code: str, detail: str) -> None:
        super().__init__(f"{device}: {code}: {detail}")
        self.device = device
        self.code = code
        self.detail = detail


class KioskDevices:
    def __init__(self, config: DevicesConfig, *, realistic_emulators: bool = True) -> None:
        """``realistic_emulators``: notes take as long as on a real acceptor (the demo);
        tests pass False for the emulator's fast timings."""
        self.config = config
        self._realistic = realistic_emulators
        self.settings = {ACCEPTOR: config.acceptor, PRINTER: config.printer, CARD_READER: config.card_reader,
                         SCANNER: config.scanner}
        self.emulators = Emulators()
        self.acceptor = None  # drivers.id003.driver.AcceptorDriver
        self.printer = None  # drivers.escpos.driver.PrinterDriver
        self.card_reader = None  # drivers.pcsc.reader.CardReaderDriver
        self.scanner = None  # drivers.scanner.driver.ScannerDriver
        self._started = threading.Event()
        self._on_acceptor_event: Callable[[object], None] | None = None
        self._on_status: StatusListener | None = None
        self._on_card_event: CardListener | None = None
        self._on_scanner_event: ScannerListener | None = None
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def fitted(self) -> tuple[str, ...]:
        """The devices this terminal has (in the monitor's order); known without starting anything."""
        return tuple(device for device in DEVICES if self.settings[device].fitted)

    # -- life cycle ------------------------------------------------------------------
    def start(self, on_status: StatusListener, on_card_event: CardListener,
              on_started: Callable[["KioskDevices"], None] | None = None,
              on_acceptor_event: Callable[[object], None] | None = None,
              on_scanner_event: ScannerListener | None = None) -> threading.Thread:
        """Build and start emulators and drivers on a thread of their own; returns it.

        ``on_status(DeviceStatus)`` and ``on_card_event(event)`` are called on
        driver threads.  A device that cannot even be built (a port setting the
        driver refuses) is reported as a status, never raised: the other
        devices still start.  ``on_started`` runs on that thread at the end.
        ``on_acceptor_event`` hears every acceptor event from its very first
        (a power-up with a note inside comes before anything else);
        ``on_scanner_event`` every code read or refused (none: nobody listens).
        """
        def start_then_tell() -> None:
            self.open(on_status, on_card_event, on_acceptor_event, on_scanner_event)
            if on_started is not None:
                on_started(self)

        thread = threading.Thread(target=start_then_tell, name="devices-start", daemon=True)
        thread.start()
        return thread

    def wait_started(self, timeout_s: float) -> bool:
        return self._started.wait(timeout_s)

    def open(self, on_status: StatusListener, on_card_event: CardListener,
             on_acceptor_event: Callable[[object], None] | None = None,
             on_scanner_event: ScannerListener | None = None) -> "KioskDevices":
        """Build and start emulators and drivers, here and now (a worker's thread: it blocks).

        The GUI runs it through its one background helper; :meth:`start` runs
        it on a thread of its own for callers without an event loop."""
        self._on_acceptor_event, self._on_scanner_event = on_acceptor_event, on_scanner_event
        self._on_status, self._on_card_event = on_status, on_card_event  # a reset builds with them again
        try:
            for device, build in ((ACCEPTOR, self._build_acceptor), (PRINTER, self._build_printer),
                                  (CARD_READER, self._build_card_reader), (SCANNER, self._build_scanner)):
                if not self.settings[device].fitted:
                    continue
                with self._lock:
                    if self._stopping:
                        return self
                    try:
                        build(on_status, on_card_event)
                    except Exception as exc:  # noqa: BLE001 - one device's failure must not stop the others
                        log.exception("device could not be started", extra={"device": device})
                        on_status(_not_startable(device, self.settings[device], exc))
            log.info("devices started", extra={"settings": {d: s.text for d, s in self.settings.items()}})
        finally:
            self._started.set()
        return self

    def _build_acceptor(self, on_status: StatusListener, _on_card_event: CardListener) -> None:
        from drivers.id003.driver import AcceptorDriver

        port = self.settings[ACCEPTOR].target  # a device path or a pyserial URL
        if self.settings[ACCEPTOR].emulated and self.emulators.acceptor is None:
            from drivers.id003.emulator import AcceptorEmulator, Timings

            timings = Timings.realistic() if self._realistic else Timings()
            self.emulators.acceptor = AcceptorEmulator(timings=timings).start()
        if self.emulators.acceptor is not None:  # a reset keeps the emulator, and the notes it holds
            port = self.emulators.acceptor.port
        driver = AcceptorDriver(port, ACCEPTOR_POLL_S, ACCEPTOR_SILENCE_S)
        driver.subscribe_status(on_status)
        if self._on_acceptor_event is not None:
            driver.subscribe_events(self._on_acceptor_event)
        self.acceptor = driver.start()

    def _build_printer(self, on_status: StatusListener, _on_card_event: CardListener) -> None:
        from drivers.escpos.driver import PrinterDriver

        setting = self.settings[PRINTER]
        if setting.emulated:
            from drivers.escpos.emulator import PrinterEmulator

            if self.emulators.printer is None:
                self.emulators.printer = PrinterEmulator().start()
            setting = setting.with_target(self.emulators.printer.url)
        driver = PrinterDriver(setting, PRINTER_STATUS_INTERVAL_S)
        driver.subscribe_status(on_status)
        self.printer = driver.start()

    def _build_card_reader(self, on_status: StatusListener, on_card_event: CardListener) -> None:
        from drivers.pcsc.reader import CardReaderDriver

        driver = CardReaderDriver(self.settings[CARD_READER], CARD_POLL_S)
        self.emulators.card_reader = driver.emulator  # None unless "emulator"
        driver.subscribe_status(on_status)
        driver.subscribe_events(on_card_event)
        self.card_reader = driver.start()

    def _build_scanner(self, on_status: StatusListener, _on_card_event: CardListener) -> None:
        from drivers.scanner.driver import ScannerDriver

        setting = self.settings[SCANNER]
        port = setting.target
        if setting.emulated:
            if self.emulators.scanner is None:  # a reset keeps the emulator: the panel holds it
                from drivers.scanner.emulator import ScannerEmulator

                self.emulators.scanner = ScannerEmulator(setting.scanner.terminator, setting.scanner.mode).start()
            port = self.emulators.scanner.port
        driver = ScannerDriver(port, setting.scanner)
        driver.subscribe_status(on_status)
        if self._on_scanner_event is not None:
            driver.subscribe_events(self._on_scanner_event)
        self.scanner = driver.start()

    # -- reset: one driver stopped and started again (a technician's action) ----------
    def reset(self, device: str, settle_s: float = RESET_SETTLE_S) -> DeviceStatus:
        """Stop one device's driver and start it again with the same listeners; bounded, blocks
        (a worker's call).  Returns the status the driver reports after the restart.

        The printer and the card reader restart in place (whoever holds them
        keeps a working driver).  The acceptor's driver cannot be started twice,
        so a new one is built on the same port and becomes :attr:`acceptor`
        (the scanner's too, at once: it holds nothing);
        it is only done once the acceptor is inhibited and *settled* — no note
        anywhere inside — because the new driver would not know the note the
        old one was following, and a note must never go unaccounted.
        ``settle_s`` bounds the wait for the acceptor to settle.  Raises
        :class:`ResetRefused` when it is not done.
        """
        if device not in self.fitted:
            raise ResetRefused(device, "NOT_FITTED", f"{device} is not fitted on this terminal ([devices] in "
                                                     "config.toml says \"none\"): there is nothing to reset")
        with self._lock:
            if self._stopping:
                raise ResetRefused(device, "STOPPING", "the kiosk is shutting down")
            try:
                if device == ACCEPTOR:
                    driver = self._restart_acceptor(settle_s)
                elif device == SCANNER:
                    driver = self._restart_scanner()
                else:
                    driver = self._restart_in_place(device)
            except ResetRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - a setting the driver refuses: say so, as a start would
                log.exception("device could not be started again", extra={"device": device})
                status = _not_startable(device, self.settings[device], exc)
                (self._on_status or _ignore)(status)
                raise ResetRefused(device, "NOT_STARTABLE", status.detail) from exc
        return _first_report(driver)

    def _restart_in_place(self, device: str):
        driver = self.printer if device == PRINTER else self.card_reader
        if driver is None:  # it could not even be built at start: try again, as a start would
            build = self._build_printer if device == PRINTER else self._build_card_reader
            build(self._on_status or _ignore, self._on_card_event or _ignore)
            return self.printer if device == PRINTER else self.card_reader
        if not driver.stop(STOP_TIMEOUT_S):
            raise ResetRefused(device, "DID_NOT_STOP", f"the {device} driver did not stop within "
                                                       f"{STOP_TIMEOUT_S:g} s; restart the kiosk")
        log.warning("device driver reset", extra={"device": device})
        return driver.start()

    def _restart_acceptor(self, settle_s: float):
        old = self.acceptor
        if old is not None:
            why = _acceptor_holds_a_note(old, settle_s)
            if why:
                raise ResetRefused(ACCEPTOR, "NOT_SETTLED", why)
            if not old.stop(STOP_TIMEOUT_S):
                raise ResetRefused(ACCEPTOR, "DID_NOT_STOP", f"the acceptor driver did not stop within "
                                                             f"{STOP_TIMEOUT_S:g} s; restart the kiosk")
        self._build_acceptor(self._on_status or _ignore, _ignore)
        log.warning("device driver reset", extra={"device": ACCEPTOR})
        return self.acceptor

    def _restart_scanner(self):
        # A scanner driver's thread runs once: a new driver on the same port takes over.
        if self.scanner is not None and not self.scanner.stop(STOP_TIMEOUT_S):
            raise ResetRefused(SCANNER, "DID_NOT_STOP", f"the scanner driver did not stop within "
                                                        f"{STOP_TIMEOUT_S:g} s; restart the kiosk")
        self._build_scanner(self._on_status or _ignore, _ignore)
        log.warning("device driver reset", extra={"device": SCANNER})
        return self.scanner

    def stop(self) -> None:
        """Stop the drivers (the acceptor is inhibited first), then the emulators; bounded."""
        with self._lock:  # waits for a start in progress to finish its current device
            self._stopping = True
        for name, stop in (
            ("acceptor", lambda: self.acceptor and self.acceptor.stop(STOP_TIMEOUT_S)),
            ("printer", lambda: self.printer and self.printer.stop(STOP_TIMEOUT_S)),
            ("card_reader", lambda: self.card_reader and self.card_reader.stop(STOP_TIMEOUT_S)),
            ("scanner", lambda: self.scanner and self.scanner.stop(STOP_TIMEOUT_S)),
            ("acceptor emulator", lambda: self.emulators.acceptor and self.emulators.acceptor.stop()),
            ("printer emulator", lambda: self.emulators.printer and self.emulators.printer.stop()),
            ("scanner emulator", lambda: self.emulators.scanner and self.emulators.scanner.close()),
        ):
            try:
                stop()
            except Exception:  # noqa: BLE001 - stopping one must not keep the others running
                log.exception("device did not stop cleanly", extra={"device": name})


def _ignore(_news: object) -> None:
    """Where news goes when the kiosk gave no listener for it."""


def _acceptor_holds_a_note(driver, settle_s: float) -> str:
    """Inhibit, wait until the acceptor settles; "" when it holds no note, else why a reset must wait."""
    driver.inhibit()
    deadline = time.monotonic() + settle_s
    while not driver.settled and time.monotonic() < deadline:
        time.sleep(_RESET_POLL_S)
    if driver.settled:
        return ""
    status = driver.status
    note = driver.protocol.notes.note
    if note is None and status.state is DeviceState.OFFLINE:
        return ""  # it does not answer, and no note was in it when it last did: nothing to lose
    if note is not None:
        value = f"a ¥{note.denomination_fen // 100} note" if note.denomination_fen else "a note"
        return (f"the driver is still following {value} in the acceptor ({status.reason or status.state.value}); "
                "wait until it is stacked or returned, or clear the jam — the acceptor resumes by itself")
    return (f"the acceptor is not settled after {settle_s:g} s ({status.reason or status.state.value}: "
            f"{status.detail}); put that right first — the acceptor resumes by itself")


def _first_report(driver) -> DeviceStatus:
    """The restarted driver's first status of its device, or what it says when the wait is over."""
    deadline = time.monotonic() + RESET_REPORT_S
    while driver.status.reason in _NOT_YET and time.monotonic() < deadline:
        time.sleep(_RESET_POLL_S)
    return driver.status


def _not_startable(device: str, setting: DeviceSetting, exc: BaseException) -> DeviceStatus:
    return DeviceStatus(device, DeviceState.OFFLINE, "NOT_STARTABLE",
                        f"{device} = {setting.text!r} in [devices]: {exc} — correct the setting and restart the kiosk "
                        f"(`kiosk check-config` checks it)")
