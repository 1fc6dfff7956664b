"""Starting and stopping the kiosk process (the one module of kiosk/ that uses Qt).

Order matters for a fast, honest start: the window with the home screen is on
screen first; the backend client (and ``requests``) is loaded afterwards on a
worker thread by the first heartbeat.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from kiosk import systemd_notify
from kiosk.config import KioskConfig
from kiosk.devices import KioskDevices
from offline_store.archive_writer import ArchiveWriter

log = logging.getLogger("kiosk.runtime")

# Codes on the out-of-order sign when the kiosk cannot start; the technician's
# line on stderr (journald) says what and what to do.
REASON_LOG_UNAVAILABLE = "E-SYS-LOG"
REASON_START_FAILED = "E-SYS-START"
EXIT_REFUSED = 3  # refused before the window: the journal's key
EXIT_START_FAILED = 4  # the window came up with the sign instead of the home screen


class StartFailure(Exception):
    """Something ``kiosk run`` needs at start is not there.

    ``reason_code`` goes on the sign a customer sees; ``detail`` is the
    technician's one line: what failed and what to do.
    """

    def __init__(self, reason_code: str, detail: str) -> None:
        super().__init__(detail)
        self.reason_code = reason_code
        self.detail = detail


def _os_reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def _in_config(config: KioskConfig) -> str:
    from kiosk.config import EMBEDDED_SOURCE

    return "in a config.toml given with --config" if config.source == EMBEDDED_SOURCE else f"in {config.source}"


def open_log(config: KioskConfig):
    """The rotating log in ``logging.dir``; a :class:`StartFailure` when it cannot be opened."""
    from pathlib import Path

    from kiosk.logging_setup import LOG_FILE, configure_logging

    try:
        return configure_logging(config.logging.dir, config.logging.level,
                                 config.logging.max_bytes, config.logging.backups)
    except (OSError, ValueError) as error:
        path = Path(config.logging.dir) / LOG_FILE
        raise StartFailure(REASON_LOG_UNAVAILABLE, (
            f"cannot open the log {path}: {_os_reason(error)} — make {path} a file the kiosk's user can "
            f"write (or set logging.dir {_in_config(config)}), then restart the kiosk"
        )) from None


def stylesheet() -> str:
    from kiosk.assets import read_text

    return read_text("kiosk.qss")


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
        self._simulator = None
        self._error: BaseException | None = None
        self._started = False  # a kiosk that failed to start never starts it

    def start(self) -> None:
        self._started = True
        threading.Thread(target=self._start, name="embedded-backend", daemon=True).start()

    def _start(self) -> None:
        try:
            from kiosk.backend.simulator import BackendSimulator

            self._simulator = BackendSimulator(terminal_secret=self._secret).start()
        except BaseException as exc:  # noqa: BLE001 - reported through url()
            self._error = exc
        finally:
            self._ready.set()

    def url(self) -> str:
        if not self._ready.wait(self.START_TIMEOUT_S):
            raise RuntimeError(f"the embedded backend simulator did not start within {self.START_TIMEOUT_S:.0f} s")
        if self._simulator is None:
            raise RuntimeError(f"the embedded backend simulator failed to start: {self._error}")
        return self._simulator.url

    def describe(self) -> str:
        return self._simulator.url if self._simulator else "embedded simulator (starting)"

    def stop(self) -> None:
        if self._started and self._ready.wait(self.START_TIMEOUT_S) and self._simulator is not None:
            self._simulator.stop()


def run_kiosk(
    config: KioskConfig,
    *,
    demo: bool,
    windowed: bool,
    size: tuple[int, int] | None,
    exit_when_ready: bool = False,
) -> int:
    started = time.perf_counter()
    from kiosk.payment_stack import PaymentStack, check_journal_key

    try:
        refusal = check_journal_key(config)
    except (OSError, ValueError) as error:  # check-config checks the path; this is what it cannot foresee
        refusal = (f"cannot open or create the journal's key file {config.storage.key_file}: "
                   f"{_os_reason(error)} — let the kiosk's user create and read it (or set storage.key_file "
                   f"{_in_config(config)}), then restart the kiosk")
    if refusal is not None:
        # Personal data sealed with a key that is not here: taking money now
        # could not be accounted for.  The technician reads this on the console/journald.
        print(f"kiosk: refusing to start: {refusal}", file=sys.stderr, flush=True)
        return EXIT_REFUSED
    from PySide6.QtCore import QObject, Qt, QTimer, Signal
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QApplication

    from screens.kiosk_app import KioskApp
    from screens.main_window import KioskLockdown

    class _DemoBridge(QObject):
        # The devices and payments start on threads of their own; what they
        # hand over is taken on this one.
        devices_started = Signal(object)
        payments_ready = Signal(object)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    lockdown = KioskLockdown()
    app.installEventFilter(lockdown)
    if config.ui.hide_cursor and not demo:
        app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))

    simulator = EmbeddedBackend(config) if config.backend.embedded else None
    devices = KioskDevices(config.devices)
    archive = device_archive_writer(config)
    kiosk = KioskApp(config, simulator.url if simulator else config.backend.url,
                     archive=archive, devices=devices.fitted)
    window = kiosk.window
    kiosk.render()
    window.setWindowFlag(Qt.WindowType.FramelessWindowHint, not windowed)
    if windowed:
        window.resize(*(size or (1280, 800)))
        window.show()
    else:
        # Without a window manager showFullScreen alone leaves a small window.
        window.setGeometry(app.primaryScreen().geometry())
        window.showFullScreen()

    def stop(*_args) -> None:
        systemd_notify.notify(systemd_notify.STOPPING)  # systemd: a stop we asked for, not a crash
        window.allow_close()
        app.quit()

    # Ctrl+C in the demo's terminal and systemd's SIGTERM end the kiosk;
    # the timer lets Python see the signal while Qt's loop runs.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    heartbeat_for_signals = QTimer(interval=200, timeout=lambda: None)
    heartbeat_for_signals.start()
    systemd_notify.install_freeze_drill()  # SIGUSR2 freezes the GUI thread only when its env var is set

    start_failed: list[StartFailure] = []

    def ready() -> None:
        try:
            start_services()
        except StartFailure as failure:
            fail_start(failure)
        except Exception as error:  # noqa: BLE001 - whatever it is, the sign instead of half a kiosk
            if logging.getLogger("kiosk").handlers:  # else Python would print the traceback on stderr
                log.critical("the kiosk could not start", exc_info=True)
            fail_start(StartFailure(REASON_START_FAILED, (
                f"start-up failed: {type(error).__name__}: {' '.join(str(error).split())} — the log has "
                "the details; restart the kiosk, and if it fails again call maintenance"
            )))

    def fail_start(failure: StartFailure) -> None:
        """The out-of-order sign for good, one line for the technician; the process stays up
        (systemd would only restart it into the same failure) unless asked to exit."""
        start_failed.append(failure)
        kiosk.stop()
        show_start_failure(kiosk, failure)
        print(f"kiosk: out of service — {failure.detail}", file=sys.stderr, flush=True)
        systemd_notify.notify(systemd_notify.READY, f"STATUS=out of service: {failure.detail}")
        if (ping_ms := systemd_notify.ping_interval_ms()) is not None:
            watchdog_ping.start(ping_ms)
        if exit_when_ready:
            shown = "on the out-of-order sign" if window.showing_out_of_order else "but the sign is NOT shown"
            print(f"kiosk out of service: {failure.reason_code} {shown}", flush=True)
            stop()

    def start_services() -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        # Nothing is logged before the home screen is up (a bad config is
        # printed, not logged), so the rotating file is opened only now.
        log_path = open_log(config)
        # Only now the backend (simulator, requests) is loaded, on worker
        # threads: the home screen never waits for it, taps queue behind it.
        if simulator is not None:
            simulator.start()
        kiosk.start()
        # Drivers (and emulators) start on their own thread; until each reports,
        # the monitor counts it as not there and offers nothing that needs it.
        devices.start(kiosk.device_status.emit, kiosk.card_event.emit,
                      on_started=bridge.devices_started.emit if demo else None,
                      on_acceptor_event=payments.acceptor_event)
        # Journal (recovery first), sync worker, then the payment service.
        payments.start(bridge.payments_ready.emit)
        log.info("home screen up", extra={"startup_ms": round(elapsed_ms, 1), "log": str(log_path),
                                          "backend": simulator.describe() if simulator else config.backend.url})
        # systemd (Type=notify): the home screen is up.  WATCHDOG=1 comes from a
        # timer on this GUI thread, so a frozen event loop stops it and systemd
        # restarts the kiosk; half of WatchdogSec= as systemd.service(5) advises.
        systemd_notify.notify(systemd_notify.READY)
        if (ping_ms := systemd_notify.ping_interval_ms()) is not None:
            watchdog_ping.start(ping_ms)
        if exit_when_ready:
            print(f"kiosk ready {elapsed_ms:.1f} ms", flush=True)
            stop()

    watchdog_ping = QTimer(timeout=lambda: systemd_notify.notify(systemd_notify.WATCHDOG))
    bridge = _DemoBridge()
    panel = []  # the demo's device panel, kept alive while the kiosk runs

    def show_device_panel(started: KioskDevices) -> None:
        from screens.device_panel import DevicePanel

        panel.append(DevicePanel(started, kiosk))
        panel[0].show_beside(window)

    bridge.devices_started.connect(show_device_panel)
    payments = PaymentStack(config, devices, lambda: kiosk.backend.get("sync"))
    bridge.payments_ready.connect(lambda service: setattr(kiosk, "payments", service))
    QTimer.singleShot(0, ready)
    if demo:
        print("kiosk demo: billing system simulated on loopback (embedded defaults); Ctrl+C here stops the kiosk",
              flush=True)
    try:
        code = app.exec()
        return EXIT_START_FAILED if start_failed else code
    finally:
        kiosk.stop()
        devices.stop()
        payments.stop()
        archive.close()
        if simulator is not None:
            simulator.stop()


def show_start_failure(kiosk, failure: StartFailure) -> None:
    """Put the out-of-order sign up with ``failure``'s code, and keep it up."""
    from kiosk.availability import ServiceLevel
    from kiosk.i18n import Translator
    from screens.context import RenderContext

    level = ServiceLevel(False, failure.reason_code, failure.detail)
    kiosk.window.hold_out_of_order(RenderContext(kiosk.config, Translator(kiosk.lang), level), level)


def device_archive_writer(config: KioskConfig) -> ArchiveWriter:
    """The maintenance archive in ``storage.data_dir``, written off the GUI thread."""
    from pathlib import Path

    def open_archive():
        from offline_store.device_archive import DeviceArchive

        return DeviceArchive.at(Path(config.storage.data_dir) / "devices.sqlite")

    return ArchiveWriter(open_archive)
