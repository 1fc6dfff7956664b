"""The demo's device panel: a small window beside the kiosk to play the devices by hand.

Each button scripts an emulator (``kiosk/devices.py`` runs them for devices
set to ``"emulator"``); the real drivers see the result over their real links
(the pty, the TCP port, the PC/SC interface) and the kiosk reacts as it would
to hardware.  The panel also shows what each driver reports and what the
kiosk offers, so a person sees the whole chain: button → device → driver →
monitor → screen.

Developers and demonstrators use it, never a customer: it speaks English.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication, QGridLayout, QGroupBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from contract.card_token import DEMO_CARD_MASTER_KEY, card_key
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, SCANNER, DeviceStatus
from kiosk.devices import KioskDevices

NOTES_YUAN = (1, 5, 10, 20, 50, 100)
# What a scanner in a hall is shown besides payment codes: a link, a line of noise (a wrong speed).
SCANNED_URL = "https://weixin.qq.com/r/demo-shop"
SCANNED_GARBAGE = b"\x9c\xfe\x07\x81~\xe0"
_LOG_LINES = 200
# The kiosk's stylesheet sizes buttons for fingers on a 1920×1080 screen; the
# panel is a small window on a developer's screen.
PANEL_STYLE = """
QPushButton { font-size: 13px; min-height: 26px; min-width: 0; padding: 2px 10px; border-radius: 4px; }
QPushButton:checked { background: #f4b400; border-color: #b07f00; font-weight: bold; }
QLabel, QCheckBox, QGroupBox, QPlainTextEdit { font-size: 12px; }
QLabel#panelOffer { font-size: 14px; font-weight: bold; }
"""


def demo_card_image() -> CardImage:
    """The demo's card as issued: with its purchase key, so a top-up's write token is taken (or refused)."""
    return CardImage.of(DEMO_CARD, purse_key=card_key(DEMO_CARD_MASTER_KEY, DEMO_CARD.serial))


def describe_status(status: DeviceStatus) -> str:
    text = status.state.value + (f" · {status.reason}" if status.reason else "")
    detail = status.device_detail
    if detail is not None and status.device == ACCEPTOR:
        text += f" · stacker {detail.stacker.value}" + (" · jammed" if detail.jammed else "")
    elif detail is not None and status.device == PRINTER:
        text += f" · paper {detail.paper.value}" + (" · cover open" if detail.cover_open else "")
    elif detail is not None and status.device == CARD_READER:
        text += " · card in" if detail.card_present else " · no card"
    return text


class DevicePanel(QWidget):
    # Driver events arrive on driver threads; this carries them here (queued).
    event_seen = Signal(str)

    def __init__(self, devices: KioskDevices, kiosk) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("Device panel — kiosk demo")
        self.setObjectName("devicePanel")
        self.setStyleSheet(PANEL_STYLE)
        self.devices = devices
        self.kiosk = kiosk
        self._status_labels: dict[str, QLabel] = {}
        self.buttons: dict[str, QPushButton] = {}  # by name, for tests and the tour
        # One card for the whole demo, as a customer has one: what a top-up
        # wrote on it is still on it when it is inserted again.
        self.demo_card = demo_card_image()
        from drivers.pcsc.meter import PrepaidMeter

        self.meter = PrepaidMeter(DEMO_CARD.meter_no, remaining_fen=DEMO_CARD.balance_fen,
                                  purchase_count=DEMO_CARD.purchase_count)  # the card's meter, at home
        self.log = QPlainTextEdit(readOnly=True, maximumBlockCount=_LOG_LINES)
        self.log.setMinimumHeight(140)
        self.offer = QLabel(wordWrap=True)
        self.offer.setObjectName("panelOffer")

        layout = QVBoxLayout(self)
        layout.addWidget(self._acceptor_group())
        layout.addWidget(self._printer_group())
        layout.addWidget(self._card_group())
        layout.addWidget(self._scanner_group())
        layout.addWidget(self.offer)
        layout.addWidget(QLabel("What the drivers reported:"))
        layout.addWidget(self.log)

        self.event_seen.connect(self._append)
        kiosk.device_status.connect(self._show_status)
        kiosk.card_event.connect(lambda event: self._append(f"card reader: {event}"))
        if devices.acceptor is not None:
            devices.acceptor.subscribe_events(lambda event: self.event_seen.emit(f"acceptor: {event}"))
        if devices.scanner is not None:  # its events mask the code: the log shows the last four digits
            devices.scanner.subscribe_events(lambda event: self.event_seen.emit(f"scanner: {event!r}"))
        for device, driver in ((ACCEPTOR, devices.acceptor), (PRINTER, devices.printer),
                               (CARD_READER, devices.card_reader), (SCANNER, devices.scanner)):
            if driver is not None:
                self._show_status(driver.status if device != ACCEPTOR else driver.publisher.status)
        # The backend's word changes the offer too, without any device news.
        self._offer_timer = QTimer(self, interval=500, timeout=self._show_offer)
        self._offer_timer.start()
        self._show_offer()

    def show_beside(self, window: QWidget) -> None:
        """At the right edge of the kiosk's screen, on top of the fullscreen kiosk."""
        self.adjustSize()
        # MainWindow.screen(step) is the kiosk's own; the display is the window handle's.
        handle = window.windowHandle()
        screen = (handle.screen() if handle is not None else QApplication.primaryScreen()).availableGeometry()
        self.move(screen.right() - self.width() - 16, screen.top() + 40)
        self.show()

    # -- the four devices -------------------------------------------------------------
    def _acceptor_group(self) -> QGroupBox:
        box, grid = self._group("Banknote acceptor (ID-003)", ACCEPTOR)
        emulator = self.devices.emulators.acceptor
        if emulator is None:
            return box
        for column, yuan in enumerate(NOTES_YUAN):
            self._button(grid, f"¥{yuan}", 1, column, lambda y=yuan: emulator.insert_note(y), f"note_{yuan}")
        self._button(grid, "Counterfeit", 2, 0, emulator.reject, "counterfeit", span=2)
        # Only a payment opens the acceptor: a note fed outside one waits at the slot.
        grid.addWidget(QLabel("Notes are taken while a payment is open."), 2, 2, 1, 4)
        self._toggle(grid, "Jam", 3, 0, lambda on: emulator.jam() if on else emulator.clear_jam(), "jam")
        self._toggle(grid, "Stacker full", 3, 2, emulator.stacker_full, "stacker_full")
        self._toggle(grid, "Cash box out", 3, 4, emulator.stacker_open, "stacker_open")
        self._toggle(grid, "Pull cable", 4, 0, lambda on: emulator.unplug() if on else emulator.replug(),
                     "acceptor_cable")
        return box

    def _printer_group(self) -> QGroupBox:
        box, grid = self._group("Receipt printer (ESC/POS)", PRINTER)
        emulator = self.devices.emulators.printer
        if emulator is None:
            return box
        for column, (label, paper) in enumerate((("Paper ok", "ok"), ("Paper near end", "near_end"),
                                                 ("Paper out", "out"))):
            self._button(grid, label, 1, column * 2, lambda p=paper: emulator.set_paper(p), f"paper_{paper}", span=2)
        self._toggle(grid, "Cover open", 2, 0, emulator.open_cover, "cover_open")
        self._toggle(grid, "Pull cable", 2, 2, lambda on: emulator.disconnect() if on else emulator.reconnect(),
                     "printer_cable")
        self._button(grid, "Test slip", 2, 4, self._print_test_slip, "test_slip", span=2)
        return box

    def _card_group(self) -> QGroupBox:
        box, grid = self._group("Card reader (PC/SC)", CARD_READER)
        reader = self.devices.emulators.card_reader
        if reader is None:
            return box
        self._button(grid, "Insert card", 1, 0, lambda: reader.insert(self.demo_card), "card_insert", span=2)
        self._button(grid, "Remove card", 1, 2, reader.remove, "card_remove", span=2)
        self._toggle(grid, "Card mute", 1, 4, reader.mute, "card_mute")
        self._toggle(grid, "Pull reader", 2, 0, lambda on: reader.unplug() if on else reader.plug(),
                     "reader_cable", span=2)
        self._toggle(grid, "Stop PC/SC", 2, 2, lambda on: reader.stop_service() if on else reader.start_service(),
                     "pcsc_service", span=2)
        # One-shot faults of a top-up's purse write; the log line says when one is armed.
        self._button(grid, "Pull the card during the next write", 3, 0, reader.pull_on_write,
                     "card_pull_on_write", span=3)
        self._button(grid, "Make the next write fail verification", 3, 3, reader.spoil_next_mac,
                     "card_spoil_mac", span=3)
        # What the customer does at home: the card into the meter, which loads the credit and
        # writes back (the next purchase needs it: the billing system checks the meter took the last).
        self._button(grid, "Take the card home: into the meter", 4, 0, lambda: self._card_to_meter(reader),
                     "card_to_meter", span=6)
        return box

    def _scanner_group(self) -> QGroupBox:
        box, grid = self._group("Barcode/QR scanner (serial)", SCANNER)
        scanner = self.devices.emulators.scanner
        if scanner is None:
            return box
        from drivers.scanner.codes import CodeKind
        from drivers.scanner.samples import sample_code

        for column, (label, kind) in enumerate((("WeChat code", CodeKind.WECHAT), ("Alipay code", CodeKind.ALIPAY),
                                                ("UnionPay code", CodeKind.UNIONPAY))):
            self._button(grid, label, 1, column * 2, lambda k=kind: scanner.show(sample_code(k)),
                         f"scan_{kind.value}", span=2)
        self._button(grid, "A link", 2, 0, lambda: scanner.show(SCANNED_URL), "scan_url", span=2)
        self._button(grid, "Garbage", 2, 2, lambda: scanner.send_raw(SCANNED_GARBAGE + scanner.terminator.bytes), "scan_garbage")
        self._toggle(grid, "Pull cable", 2, 3, lambda on: scanner.unplug() if on else scanner.replug(),
                     "scanner_cable", span=3)
        return box

    def _card_to_meter(self, reader) -> None:
        from datetime import datetime

        from drivers.pcsc.applet import PrepaidCardApplet

        reader.remove()
        verdict = self.meter.take_card(PrepaidCardApplet(self.demo_card).process, datetime.now())
        self._append(f"meter: {verdict.value}, {self.meter.remaining_fen / 100:.2f} yuan in the meter, "
                     f"purchase {self.meter.purchase_count} loaded")

    def _group(self, title: str, device: str) -> tuple[QGroupBox, QGridLayout]:
        box = QGroupBox(title)
        grid = QGridLayout(box)
        label = QLabel(wordWrap=True)
        label.setObjectName(f"status_{device}")
        self._status_labels[device] = label
        setting = self.devices.settings[device]
        if not setting.fitted:
            label.setText("not fitted")
        elif not setting.emulated:
            label.setText(f"real device {setting.text}: nothing to play here")
        grid.addWidget(label, 0, 0, 1, 6)
        return box, grid

    def _button(self, grid: QGridLayout, text: str, row: int, column: int, action: Callable[[], object],
                name: str, span: int = 1) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(lambda: self._play(text, action))
        grid.addWidget(button, row, column, 1, span)
        self.buttons[name] = button
        return button

    def _toggle(self, grid: QGridLayout, text: str, row: int, column: int, action: Callable[[bool], object],
                name: str, span: int = 2) -> QPushButton:
        button = QPushButton(text, checkable=True)
        button.toggled.connect(lambda on: self._play(f"{text}: {'on' if on else 'off'}", lambda: action(on)))
        grid.addWidget(button, row, column, 1, span)
        self.buttons[name] = button
        return button

    def _play(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - a bad script step is shown, the demo goes on
            self._append(f"{what}: not possible: {exc}")
        else:
            self._append(f"› {what}")

    # -- actions that need a driver --------------------------------------------------------
    def _print_test_slip(self) -> None:
        from drivers.escpos.slip import test_slip

        terminal = self.kiosk.config.terminal
        slip = test_slip(terminal.hall_name_zh, terminal.id, hall_en=terminal.hall_name_en)
        # The result arrives on the printer's thread.
        self.devices.printer.print_slip(slip, lambda result: self.event_seen.emit(f"printer: {result}"))

    # -- what the drivers said ------------------------------------------------------------------
    def _show_status(self, status: DeviceStatus) -> None:
        label = self._status_labels.get(status.device)
        if label is not None:
            label.setText(describe_status(status))
            label.setToolTip(status.detail)
        self._append(f"{status.device}: {describe_status(status)}")
        self._show_offer()

    def _show_offer(self) -> None:
        level = self.kiosk.service_level()
        if not level.in_service:
            text = f"Kiosk: OUT OF ORDER ({level.reason_code})"
        else:
            offered = [name for name, on in (("cash", level.cash), ("slip", level.slip), ("card", level.card),
                                             ("scan", level.scan)) if on]
            text = "Kiosk offers: inquiry" + "".join(f", {name}" for name in offered)
        self.offer.setText(text)

    def _append(self, line: str) -> None:
        self.log.appendPlainText(line)
