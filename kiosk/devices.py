"""The kiosk's devices, built from ``[devices]`` in config.toml.

Each of ``acceptor``, ``printer`` and ``card_reader`` is one of:

* ``"emulator"`` — the device emulator under ``drivers/`` runs in this process
  (an ID-003 acceptor on a pseudo-terminal, an ESC/POS printer on a loopback
  TCP port, the in-process card reader) and the *real driver* talks to it,
  exactly as it would to hardware.  ``make demo`` plays faults through them
  with the device panel.
* ``"none"`` — the terminal has no such device; the services that need it are
  not offered and nothing is announced as broken.
* anything else — the hardware: a serial device or ``tcp://host:port``
  (acceptor, printer), ``"pcsc"`` or ``"pcsc:<reader name>"`` (card reader).

:class:`KioskDevices` knows which devices are fitted as soon as it is made
(the device monitor needs that before the first screen), and imports and
starts the drivers only in :meth:`start`, off the GUI thread, after the home
screen is up.  Statuses and card events reach the caller's listeners on the
drivers' threads; the kiosk turns them into queued Qt signals.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from drivers.device import DeviceSetting
from drivers.status import ACCEPTOR, CARD_READER, DEVICES, PRINTER, DeviceStatus
from kiosk.config import DevicesConfig

log = logging.getLogger("kiosk.devices")


# The acceptor is polled as JCM's integration guide suggests (100 ms); it is
# offline when it has not answered for a second.
ACCEPTOR_POLL_S = 0.1
ACCEPTOR_SILENCE_S = 1.0
PRINTER_STATUS_INTERVAL_S = 2.0
CARD_POLL_S = 0.3
STOP_TIMEOUT_S = 3.0

StatusListener = Callable[[DeviceStatus], None]
CardListener = Callable[[object], None]


@dataclass
class Emulators:
    """The emulators behind the devices configured as ``"emulator"`` (None for the others)."""

    acceptor: object | None = None  # drivers.id003.emulator.AcceptorEmulator
    printer: object | None = None  # drivers.escpos.emulator.PrinterEmulator
    card_reader: object | None = None  # drivers.pcsc.emulator.EmulatedReader


class KioskDevices:
    def __init__(self, config: DevicesConfig, *, realistic_emulators: bool = True) -> None:
        """``realistic_emulators``: notes take as long as on a real acceptor (the demo);
        tests pass False for the emulator's fast timings."""
        self.config = config
        self._realistic = realistic_emulators
        self.settings = {ACCEPTOR: config.acceptor, PRINTER: config.printer, CARD_READER: config.card_reader}
        self.emulators = Emulators()
        self.acceptor = None  # drivers.id003.driver.AcceptorDriver
        self.printer = None  # drivers.escpos.driver.PrinterDriver
        self.card_reader = None  # drivers.pcsc.reader.CardReaderDriver
        self._started = threading.Event()
        self._on_acceptor_event: Callable[[object], None] | None = None
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def fitted(self) -> tuple[str, ...]:
        """The devices this terminal has (in the monitor's order); known without starting anything."""
        return tuple(device for device in DEVICES if self.settings[device].fitted)

    # -- life cycle ------------------------------------------------------------------
    def start(self, on_status: StatusListener, on_card_event: CardListener,
              on_started: Callable[["KioskDevices"], None] | None = None,
              on_acceptor_event: Callable[[object], None] | None = None) -> threading.Thread:
        """Build and start emulators and drivers on a thread of their own; returns it.

        ``on_status(DeviceStatus)`` and ``on_card_event(event)`` are called on
        driver threads.  A device that cannot even be built (a port setting the
        driver refuses) is reported as a status, never raised: the other
        devices still start.  ``on_started`` runs on that thread at the end.
        ``on_acceptor_event`` hears every acceptor event from its very first
        (a power-up with a note inside comes before anything else).
        """
        def start_then_tell() -> None:
            self.open(on_status, on_card_event, on_acceptor_event)
            if on_started is not None:
                on_started(self)

        thread = threading.Thread(target=start_then_tell, name="devices-start", daemon=True)
        thread.start()
        return thread

    def wait_started(self, timeout_s: float) -> bool:
        return self._started.wait(timeout_s)

    def open(self, on_status: StatusListener, on_card_event: CardListener,
             on_acceptor_event: Callable[[object], None] | None = None) -> "KioskDevices":
        """Build and start emulators and drivers, here and now (a worker's thread: it blocks).

        The GUI runs it through its one background helper; :meth:`start` runs
        it on a thread of its own for callers without an event loop."""
        self._on_acceptor_event = on_acceptor_event
        try:
            for device, build in ((ACCEPTOR, self._build_acceptor), (PRINTER, self._build_printer),
                                  (CARD_READER, self._build_card_reader)):
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
        if self.settings[ACCEPTOR].emulated:
            from drivers.id003.emulator import AcceptorEmulator, Timings

            timings = Timings.realistic() if self._realistic else Timings()
            self.emulators.acceptor = AcceptorEmulator(timings=timings).start()
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

    def stop(self) -> None:
        """Stop the drivers (the acceptor is inhibited first), then the emulators; bounded."""
        with self._lock:  # waits for a start in progress to finish its current device
            self._stopping = True
        for name, stop in (
            ("acceptor", lambda: self.acceptor and self.acceptor.stop(STOP_TIMEOUT_S)),
            ("printer", lambda: self.printer and self.printer.stop(STOP_TIMEOUT_S)),
            ("card_reader", lambda: self.card_reader and self.card_reader.stop(STOP_TIMEOUT_S)),
            ("acceptor emulator", lambda: self.emulators.acceptor and self.emulators.acceptor.stop()),
            ("printer emulator", lambda: self.emulators.printer and self.emulators.printer.stop()),
        ):
            try:
                stop()
            except Exception:  # noqa: BLE001 - stopping one must not keep the others running
                log.exception("device did not stop cleanly", extra={"device": name})


def _not_startable(device: str, setting: DeviceSetting, exc: BaseException) -> DeviceStatus:
    from drivers.status import DeviceState

    return DeviceStatus(device, DeviceState.OFFLINE, "NOT_STARTABLE",
                        f"{device} = {setting.text!r} in [devices]: {exc} — correct the setting and restart the kiosk "
                        f"(`kiosk check-config` checks it)")
