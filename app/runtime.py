"""The kiosk process: the Qt application, the window on screen, signals, systemd.

Order matters for a fast, honest start: the window with the home screen is on
screen first; then :meth:`app.assembly.Kiosk.start` loads the backend client
(and ``requests``), the drivers and the payment stack off the GUI thread.
"""

from __future__ import annotations

import logging
import signal
import sys
import time

from kiosk import systemd_notify
from kiosk.config import KioskConfig

log = logging.getLogger("kiosk.runtime")

# Codes on the out-of-order sign when the kiosk cannot start; the technician's
# line on stderr (journald) says what and what to do.
REASON_LOG_UNAVAILABLE = "E-SYS-LOG"
REASON_START_FAILED = "E-SYS-START"
EXIT_REFUSED = 3  # refused before the window: the journal's key
EXIT_START_FAILED = 4  # the window came up with the sign instead of the home screen
EXIT_RESTART = 75  # "Restart the kiosk" on the maintenance screen (EX_TEMPFAIL: come back)


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


def run_kiosk(
    config: KioskConfig,
    *,
    demo: bool,
    windowed: bool,
    size: tuple[int, int] | None,
    exit_when_ready: bool = False,
) -> int:
    started = time.perf_counter()
    windowed = windowed or not config.ui.fullscreen  # [ui] fullscreen = false: a window (a bench PC)
    refusal = _journal_key_refusal(config)
    if refusal is not None:
        # Personal data sealed with a key that is not here: taking money now
        # could not be accounted for.  The technician reads this on the console/journald.
        print(f"kiosk: refusing to start: {refusal}", file=sys.stderr, flush=True)
        return EXIT_REFUSED
    app, lockdown = _qt_application(config, demo)
    side_by_side = demo and not windowed
    if side_by_side:
        from app.demo_layout import rescale_if_needed

        rescale_if_needed(app)  # returns only when the screen holds kiosk and panel as they are
    whole, panel = _build_kiosk(config, demo, side_by_side)
    _show_window(app, whole.controller.window, windowed, size, side_by_side)
    run = _KioskRun(app, whole, config, started, exit_when_ready, keep_alive=(lockdown, panel))
    run.wire_signals()
    return run.loop(demo)


def _journal_key_refusal(config: KioskConfig) -> str | None:
    """Why the journal's key forbids a start, or None when it is there."""
    from kiosk.payment_stack import check_journal_key

    try:
        return check_journal_key(config)
    except (OSError, ValueError) as error:  # check-config checks the path; this is what it cannot foresee
        return (f"cannot open or create the journal's key file {config.storage.key_file}: "
                f"{_os_reason(error)} — let the kiosk's user create and read it (or set storage.key_file "
                f"{_in_config(config)}), then restart the kiosk")


def _qt_application(config: KioskConfig, demo: bool):
    """Qt's application, styled and locked down; with the lockdown filter, which the caller keeps alive."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QApplication

    from screens.main_window import KioskLockdown
    from screens.stylesheet import stylesheet

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    lockdown = KioskLockdown()
    app.installEventFilter(lockdown)
    if config.ui.hide_cursor and not demo:
        app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
    return app, lockdown


def _build_kiosk(config: KioskConfig, demo: bool, side_by_side: bool = False):
    """The whole kiosk with its home screen rendered, not yet started; with the demo's
    device panel list, which the caller keeps alive while the kiosk runs."""
    from app.assembly import build_kiosk

    if demo:
        from app.demo_staff import ensure_demo_staff

        ensure_demo_staff(config)  # before the kiosk opens the maintenance file
    panel = []  # the demo's device panel, kept alive while the kiosk runs

    def show_device_panel(started) -> None:
        from screens.device_panel import DevicePanel

        panel.append(DevicePanel(started, whole.controller))
        if side_by_side:
            from app.demo_layout import place_panel_beside

            place_panel_beside(whole.controller.window, panel[0])
        else:
            panel[0].show_beside(whole.controller.window)

    whole = build_kiosk(config, on_devices_started=show_device_panel if demo else None)
    if not demo:
        _keep_service_hours(config, whole)
    whole.controller.render()
    return whole, panel


def _keep_service_hours(config: KioskConfig, whole) -> None:
    """A terminal keeps ``[service_hours]`` and the day's override a technician set (the closed sign
    outside them).  Not the demo, which runs at any hour on a developer's machine, nor the tests
    and the tour, which build their kiosk without this and set a hall clock where they need one."""
    store = getattr(whole.maintenance, "store", None)
    if store is None:  # no maintenance file: the sign cannot be lifted by a technician, so none is kept
        log.error("service hours not kept: the maintenance file is not open")
        return
    from kiosk.service_hours import ServiceHoursKeeper

    whole.controller.services.hours = ServiceHoursKeeper.from_config(config, store)


def _show_window(app, window, windowed: bool, size: tuple[int, int] | None, side_by_side: bool = False) -> None:
    from PySide6.QtCore import Qt

    window.setWindowFlag(Qt.WindowType.FramelessWindowHint, not windowed)
    if side_by_side:  # the demo: the kiosk at its design size, the device panel beside it
        from app.demo_layout import place_kiosk

        place_kiosk(window, app.primaryScreen().availableGeometry())
        window.show()
    elif windowed:
        window.resize(*(size or (1280, 800)))
        window.show()
    else:
        # Without a window manager showFullScreen alone leaves a small window.
        screen = app.primaryScreen().geometry()
        window.setGeometry(screen)
        window.pin_size(screen.width(), screen.height())
        window.showFullScreen()


class _KioskRun:
    """The kiosk process once its window is up: signals, the start of the services, the loop, the stop.

    One object rather than closures in :func:`run_kiosk`: these steps share the
    application, the kiosk and the watchdog's timer, and each stays short.
    """

    def __init__(self, app, whole, config: KioskConfig, started: float, exit_when_ready: bool,
                 keep_alive: tuple) -> None:
        self.app = app
        self.whole = whole
        self.kiosk = whole.controller
        self.window = self.kiosk.window
        self.config = config
        self.started = started
        self.exit_when_ready = exit_when_ready
        self.start_failed: list[StartFailure] = []
        self._keep_alive = keep_alive  # Qt keeps no Python reference to these
        self._heartbeat_for_signals = None
        self.watchdog_ping = None

    def stop(self, *_args) -> None:
        systemd_notify.notify(systemd_notify.STOPPING)  # systemd: a stop we asked for, not a crash
        self.window.allow_close()
        self.app.quit()

    def wire_signals(self) -> None:
        from PySide6.QtCore import QTimer

        # Ctrl+C in the demo's terminal and systemd's SIGTERM end the kiosk;
        # the timer lets Python see the signal while Qt's loop runs.
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        self._heartbeat_for_signals = QTimer(interval=200, timeout=lambda: None)
        self._heartbeat_for_signals.start()
        systemd_notify.install_freeze_drill()  # SIGUSR2 freezes the GUI thread only when its env var is set

    def loop(self, demo: bool) -> int:
        """Qt's loop until the stop; the services start from its first turn."""
        from PySide6.QtCore import QTimer

        self.watchdog_ping = QTimer(timeout=lambda: systemd_notify.notify(systemd_notify.WATCHDOG))
        QTimer.singleShot(0, self.ready)
        if demo:
            print("kiosk demo: billing system simulated on loopback (embedded defaults); Ctrl+C here stops the kiosk",
                  flush=True)
        try:
            code = self.app.exec()
            return EXIT_START_FAILED if self.start_failed else code
        finally:
            self.whole.stop()

    def ready(self) -> None:
        try:
            self.start_services()
        except StartFailure as failure:
            self.fail_start(failure)
        except Exception as error:  # noqa: BLE001 - whatever it is, the sign instead of half a kiosk
            if logging.getLogger("kiosk").handlers:  # else Python would print the traceback on stderr
                log.critical("the kiosk could not start", exc_info=True)
            self.fail_start(StartFailure(REASON_START_FAILED, (
                f"start-up failed: {type(error).__name__}: {' '.join(str(error).split())} — the log has "
                "the details; restart the kiosk, and if it fails again call maintenance"
            )))

    def fail_start(self, failure: StartFailure) -> None:
        """The out-of-order sign for good, one line for the technician; the process stays up
        (systemd would only restart it into the same failure) unless asked to exit."""
        self.start_failed.append(failure)
        self.kiosk.stop()
        show_start_failure(self.kiosk, failure)
        print(f"kiosk: out of service — {failure.detail}", file=sys.stderr, flush=True)
        systemd_notify.notify(systemd_notify.READY, f"STATUS=out of service: {failure.detail}")
        if (ping_ms := systemd_notify.ping_interval_ms()) is not None:
            self.watchdog_ping.start(ping_ms)
        if self.exit_when_ready:
            shown = "on the out-of-order sign" if self.window.showing_out_of_order else "but the sign is NOT shown"
            print(f"kiosk out of service: {failure.reason_code} {shown}", flush=True)
            self.stop()

    def start_services(self) -> None:
        elapsed_ms = (time.perf_counter() - self.started) * 1000
        # Nothing is logged before the home screen is up (a bad config is
        # printed, not logged), so the rotating file is opened only now.
        log_path = open_log(self.config)
        # Only now the backend (simulator, requests), the drivers and the
        # payment stack start, off this thread: the home screen never waits.
        self.whole.start()
        log.info("home screen up", extra={"startup_ms": round(elapsed_ms, 1), "log": str(log_path),
                                          "backend": self.whole.backend_description})
        # systemd (Type=notify): the home screen is up.  WATCHDOG=1 comes from a
        # timer on this GUI thread, so a frozen event loop stops it and systemd
        # restarts the kiosk; half of WatchdogSec= as systemd.service(5) advises.
        systemd_notify.notify(systemd_notify.READY)
        if (ping_ms := systemd_notify.ping_interval_ms()) is not None:
            self.watchdog_ping.start(ping_ms)
        if self.exit_when_ready:
            print(f"kiosk ready {elapsed_ms:.1f} ms", flush=True)
            self.stop()


def show_start_failure(kiosk, failure: StartFailure) -> None:
    """Put the out-of-order sign up with ``failure``'s code, and keep it up."""
    from kiosk.i18n import Translator
    from kiosk.service_level import ServiceLevel
    from screens.context import RenderContext

    level = ServiceLevel(False, failure.reason_code, failure.detail)
    kiosk.window.hold_out_of_order(RenderContext(kiosk.config, Translator(kiosk.lang), level), level)
