"""One place builds the kiosk: devices, journal and payments, backend, monitor, window.

``kiosk run``, ``kiosk demo``, ``kiosk tour``, the GUI tests and the benches
all get their kiosk from :func:`build_kiosk`; none wires parts by hand, so
what the tests drive is what a terminal runs.

The order of :meth:`Kiosk.start` is the money's and the screen's:

1. the controller (home screen, heartbeat) — the window is already drawn;
2. the embedded billing simulator, where ``backend.url = "embedded"``;
3. the drivers and emulators, on their own thread (until each reports, the
   monitor offers nothing that needs it);
4. the payment stack: journal opened and recovered *before* the acceptor may
   take a note, sync worker, payment service — a background operation whose
   result (the service, or why cash stays off) reaches the controller on the
   GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.config import KioskConfig
from kiosk.devices import KioskDevices
from kiosk.payment_stack import PaymentStack
from kiosk.voice_link import voice_for
from offline_store.archive_writer import ArchiveWriter

log = logging.getLogger("kiosk.assembly")


class EmbeddedBackend:
    """The simulator on a free loopback port, for ``backend.url = "embedded"``.

    It starts on its own thread so the home screen does not wait for it; the
    backend client asks for :meth:`url` from a worker thread, which waits for
    the server (bounded) if it is not listening yet.
    """

    START_TIMEOUT_S = 10.0

    def __init__(self, config: KioskConfig) -> None:
        self._secret = config.backend.terminal_secret
        self._ready = threading.Event()
        self.simulator = None  # kiosk.backend.simulator.BackendSimulator, once up
        self._error: BaseException | None = None
        self._started = False  # a kiosk that failed to start never starts it

    def start(self) -> None:
        self._started = True
        threading.Thread(target=self._start, name="embedded-backend", daemon=True).start()

    def _start(self) -> None:
        try:
            from kiosk.backend.simulator import BackendSimulator

            self.simulator = BackendSimulator(terminal_secret=self._secret).start()
        except BaseException as exc:  # noqa: BLE001 - reported through url()
            self._error = exc
        finally:
            self._ready.set()

    def url(self) -> str:
        if not self._ready.wait(self.START_TIMEOUT_S):
            raise RuntimeError(f"the embedded backend simulator did not start within {self.START_TIMEOUT_S:.0f} s")
        if self.simulator is None:
            raise RuntimeError(f"the embedded backend simulator failed to start: {self._error}")
        return self.simulator.url

    def describe(self) -> str:
        return self.simulator.url if self.simulator else "embedded simulator (starting)"

    def stop(self) -> None:
        if self._started and self._ready.wait(self.START_TIMEOUT_S) and self.simulator is not None:
            self.simulator.stop()


def device_archive_writer(config: KioskConfig) -> ArchiveWriter:
    """The maintenance archive in ``storage.data_dir``, written off the GUI thread."""

    def open_archive():
        from offline_store.device_archive import DeviceArchive

        return DeviceArchive.at(Path(config.storage.data_dir) / "devices.sqlite")

    return ArchiveWriter(open_archive)


@dataclass
class Kiosk:
    """Everything one kiosk is made of; :meth:`start` and :meth:`stop` in the right order."""

    config: KioskConfig
    devices: KioskDevices
    archive: ArchiveWriter
    controller: object  # app.controller.KioskApp
    payments: PaymentStack
    simulator: EmbeddedBackend | None = None
    # Called on the GUI thread once the drivers are up (the demo's device panel).
    on_devices_started: Callable[[KioskDevices], None] | None = None
    maintenance: object = None  # app.maintenance_controller.MaintenanceController

    @property
    def window(self):
        return self.controller.window

    @property
    def backend_description(self) -> str:
        return self.simulator.describe() if self.simulator else self.config.backend.url

    def start(self, *, devices: bool = True) -> None:
        """Backend, screen, then (unless ``devices=False``: a bench measuring the screen
        alone first) :meth:`start_devices`."""
        if self.simulator is not None:
            self.simulator.start()
        self.controller.start()
        from screens.background import BackgroundOp

        # Whether this machine can speak (a sound card, the engine) is read off the GUI thread.
        BackgroundOp(self.controller, op=self.controller.voice.probe, success=lambda _: self.controller.render()) \
            .run_in_background()
        if devices:
            self.start_devices()

    def start_devices(self) -> None:
        """The drivers, then the payment stack (journal before intake): both off the GUI thread,
        through the one background helper, one after the other."""
        from screens.background import BackgroundOp

        controller = self.controller

        def open_devices() -> KioskDevices:
            return self.devices.open(controller.device_status.emit, controller.card_event.emit,
                                     on_acceptor_event=self.payments.acceptor_event)

        def payments_up(service) -> None:
            controller.top_up.up(self.payments.top_up.service)  # None: this kiosk sells no credit
            controller.payments_up(service)

        def devices_up(devices: KioskDevices) -> None:
            # The money first: a failing listener (the demo's panel) must not keep cash off.
            BackgroundOp(controller, op=self.payments.open, success=payments_up) \
                .failure(controller.payments_off).run_in_background()
            if self.on_devices_started is not None:
                self.on_devices_started(devices)

        def devices_failed(error: BaseException) -> None:
            log.error("devices could not be started: %s", error)  # each device's own status says which
            devices_up(self.devices)

        BackgroundOp(controller, op=open_devices, success=devices_up).failure(devices_failed).run_in_background()

    def stop(self) -> None:
        """Stop everything, in the reverse order of the start (each part bounds its own wait)."""
        self.controller.stop()
        self.devices.stop()
        self.payments.stop()
        self.archive.close()
        store = getattr(self.maintenance, "store", None)
        if store is not None:
            store.close()
        if self.simulator is not None:
            self.simulator.stop()


def build_kiosk(config: KioskConfig, *, backend_url: str | None = None,
                clock: Callable[[], float] = time.monotonic, realistic_emulators: bool = True,
                archive: ArchiveWriter | None = None,
                on_devices_started: Callable[[KioskDevices], None] | None = None) -> Kiosk:
    """The whole kiosk for ``config``; nothing runs until :meth:`Kiosk.start`.

    ``backend_url`` overrides the configured billing system (a test's own
    simulator); ``clock`` drives the journey's timers (tests move it by hand);
    ``realistic_emulators`` gives the emulated devices human timings (the
    demo) or fast ones (tests, tour); ``on_devices_started`` is called on
    the GUI thread once the drivers are up.
    """
    from app.controller import KioskApp

    simulator = EmbeddedBackend(config) if config.backend.embedded and backend_url is None else None
    devices = KioskDevices(config.devices, realistic_emulators=realistic_emulators)
    archive = archive or device_archive_writer(config)
    url = backend_url or (simulator.url if simulator else config.backend.url)
    controller = KioskApp(config, url, clock=clock, archive=archive, devices=devices.fitted, voice=voice_for(config))
    payments = PaymentStack(config, devices, lambda: controller.backend.get("sync"), controller.backend.get)
    maintenance = _maintenance(config, controller, payments, devices, archive, clock)
    return Kiosk(config, devices, archive, controller, payments, simulator, on_devices_started, maintenance)


def _maintenance(config: KioskConfig, controller, payments: PaymentStack, devices: KioskDevices,
                 archive: ArchiveWriter, idle_clock: Callable[[], float]):
    """The hidden maintenance screen, and the service switch it sets: read before the window is
    shown, so a terminal a technician put out of service comes up out of service."""
    from app.maintenance_controller import MaintenanceController
    from app.maintenance_parts import MaintenanceParts, open_service_switch

    import sqlite3

    try:
        store, switch = open_service_switch(config)
    except (OSError, sqlite3.Error) as error:
        # Customers are still served; the technician reads why the screen will not open.
        path = config.maintenance.store_path(config.storage)
        problem = f"the maintenance file {path} cannot be opened: {error} — make it writable and restart the kiosk"
        log.critical("maintenance screen unavailable: %s", problem)
        return MaintenanceController(config, controller, None, unavailable=problem)
    controller.services.switch = switch
    maintenance = MaintenanceController(config, controller, lambda: MaintenanceParts.build(
        config, store, switch, payments, devices, archive, idle_clock=idle_clock), monotonic=idle_clock)
    maintenance.store = store  # closed with the kiosk
    return maintenance
