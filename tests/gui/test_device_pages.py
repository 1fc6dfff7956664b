"""The device and repair pages on screen, driven as the application drives them.

The pages' signals go to the real page models; the models work on the kiosk's
own devices (the real drivers on the emulators), a real device archive fed by
the real device monitor, a real money journal and a real audit log.  Model
news from driver threads reaches the page through a queued Qt signal, as in
the application.  Every state is checked against the accessibility floors
(reason codes are the technician's to read, so they are allowed here) and
saved as /tmp/device_page_<state>.png or /tmp/repair_page_<state>.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

from drivers.pcsc.applet import DEMO_CARD
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, DeviceState
from kiosk.config import default_config
from kiosk.config_types import DevicesConfig
from kiosk.device_monitor import DeviceMonitor
from kiosk.device_page import DevicePage, DeviceTestSetup, RunState
from kiosk.devices import KioskDevices
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from kiosk.repair_form import RepairForm
from offline_store.device_archive import DeviceArchive
from offline_store.journal import MoneyJournal
from offline_store.maintenance_store import MaintenanceStore
from offline_store.pii import PiiKey
from screens.context import RenderContext
from screens.maintenance.device_page import DevicePageWidget
from screens.maintenance.repair_page import RepairPageWidget
from screens.stylesheet import stylesheet

from gui.accessibility import check_window
from harness import tap, wait_until

PAGE = (1640, 900)
TECHNICIAN_SHOWN = ("raw code or key",)  # reason codes and fault codes are what a technician looks up


def laid_out() -> None:
    """Let the layouts take the new words' sizes, as the event loop does between two frames."""
    QCoreApplication.processEvents()  # polish: the styles' fonts, which ask for a new layout
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    QCoreApplication.processEvents()


class Bridge(QObject):
    """Model news from any thread, onto the GUI thread (a queued connection)."""

    news = Signal(object)


@pytest.fixture
def world(qapp, tmp_path: Path) -> Iterator[dict]:
    qapp.setStyleSheet(stylesheet())
    archive = DeviceArchive.at(tmp_path / "devices.sqlite")
    monitor = DeviceMonitor(archive)
    statuses = Bridge()
    devices = KioskDevices(DevicesConfig("emulator", "emulator", "emulator"), realistic_emulators=False)
    devices.open(statuses.news.emit, lambda _event: None)
    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    journal = MoneyJournal(tmp_path / "journal.sqlite", PiiKey.create(tmp_path / "journal.key"), time.time)
    config = default_config()
    yield dict(archive=archive, monitor=monitor, statuses=statuses, devices=devices, journal=journal,
               audit=Audit(store, keep_days=90, clock=time.time), store=store, config=config)
    devices.stop()
    journal.close()
    store.close()


class DeviceScreen:
    def __init__(self, world: dict, lang: str = "en") -> None:
        config = world["config"]
        self.ctx = RenderContext(config, Translator(lang))
        self.page = DevicePageWidget()
        self.page.resize(*PAGE)
        self.bridge = Bridge()
        self.bridge.news.connect(lambda view: self.page.render(self.ctx, view), Qt.ConnectionType.QueuedConnection)
        setup = DeviceTestSetup(config.terminal.id, config.terminal.hall_name_zh, config.terminal.hall_name_en,
                                config.payment.accepted_fen)
        self.model = DevicePage(world["devices"], lambda: world["archive"], lambda: world["journal"], world["audit"],
                                "tech-07", setup, on_change=self.bridge.news.emit)
        self.asked: list[str] = []

        def status_news(status) -> None:  # the GUI thread, as the kiosk's device_status signal
            world["monitor"].update(status)
            self.model.update_status(status)

        world["statuses"].news.connect(status_news, Qt.ConnectionType.QueuedConnection)
        for name in ("device_chosen", "test_requested", "test_stop_requested", "reset_requested",
                     "repair_requested"):
            getattr(self.page, name).connect(lambda *args, n=name: self.asked.append((n, *args)))
        self.page.show()
        for device in world["devices"].fitted:  # the statuses the monitor already had when the page opened
            driver = getattr(world["devices"], str(device))
            status_news(driver.status)
        self.page.render(self.ctx, self.model.view())

    def act(self, call, *args):
        """A model call (on a worker in the application; here, the test's thread), its news drawn
        in order through the queued signal, as in the application."""
        view = call(*args)
        laid_out()
        return view

    def settle(self, what: str, condition) -> None:
        wait_until(condition, 15, what)
        wait_until(lambda: True, 0.1)

    def check(self, state: str) -> None:
        laid_out()
        image = self.page.grab().toImage()
        image.save(f"/tmp/device_page_{state}.png")
        problems = [str(v) for v in check_window(self.page, image) if v.kind not in TECHNICIAN_SHOWN]
        assert problems == [], f"{state}: {problems}"


def acceptor_online(world) -> bool:
    return world["devices"].acceptor is not None and world["devices"].acceptor.status.state is DeviceState.ONLINE


def test_the_acceptor_page_shows_an_open_jam_fault_from_the_archive(world):
    screen = DeviceScreen(world)
    screen.settle("the acceptor online", lambda: acceptor_online(world))
    world["devices"].emulators.acceptor.jam("acceptor")
    screen.settle("the jam archived", lambda: world["archive"].open_faults(ACCEPTOR))
    view = screen.act(screen.model.refresh)
    assert view.status.reason == "JAM_IN_ACCEPTOR"
    (fault,) = view.open_faults
    assert fault.reason == "E-ACC-JAM_IN_ACCEPTOR"
    assert screen.page.badge.text() == "Hardware error"
    assert screen.page.fault_rows[0][0].text().startswith(f"#{fault.id}")
    assert "A note is stuck" in screen.page.status_detail.text()
    assert screen.page.sensors.text() == "Cash box: in place; jam: yes; note in escrow: no"
    assert "Fault #" in screen.page.history_rows[0][0].text()
    screen.check("acceptor_jam")


def test_a_running_note_test_shows_the_two_test_notes_and_stops_on_a_tap(world):
    screen = DeviceScreen(world)
    screen.settle("the acceptor online", lambda: acceptor_online(world))
    tap(screen.page.test_button)
    assert screen.asked == [("test_requested",)]
    view = screen.act(screen.model.run_test)
    assert view.test.state is RunState.RUNNING
    for yuan in (100, 20):
        world["devices"].emulators.acceptor.insert_note(yuan)
    screen.settle("two test notes on the page", lambda: "Test notes: 2" in screen.page.result_lines[0].text())
    assert screen.page.result_lines[0].text() == "Test notes: 2, total ¥120.00"
    assert screen.page.stop_button.isVisible() and not screen.page.test_button.isVisible()
    assert not screen.page.reset_button.isEnabled()  # no reset while notes are fed
    screen.check("acceptor_test_running")
    tap(screen.page.stop_button)
    assert screen.asked[-1] == ("test_stop_requested",)
    view = screen.act(screen.model.stop_test)
    assert view.test.state is RunState.DONE and view.notice.key == "maint.devices.acceptor_done"
    assert world["journal"].cash_box().test_notes == ((2000, 1), (10000, 1))
    assert [(e.action, e.result) for e in world["store"].audit_since(0)] == [
        ("device_test", "started"), ("device_test", "ok")]
    screen.check("acceptor_test_done")


def test_the_printer_page_prints_a_test_slip_and_says_it_printed(world):
    screen = DeviceScreen(world)
    screen.settle("the printer online", lambda: world["devices"].printer.status.state is DeviceState.ONLINE)
    tap(screen.page.chips[PRINTER])
    assert screen.asked == [("device_chosen", "printer")]
    screen.act(screen.model.select, PRINTER)
    screen.act(screen.model.refresh)
    view = screen.act(screen.model.run_test)
    assert view.test.printer.outcome == "ok" and view.notice.key == "maint.devices.printer_ok"
    assert world["devices"].emulators.printer.decoded().qr_codes[0].startswith("KIOSK-TEST|")
    screen.settle("the result drawn", lambda: screen.page.message.text() == "Test slip printed")
    assert screen.page.result_lines[0].text() == "Link: TCP network; status read back: yes; paper: OK"
    screen.check("printer_test_ok")


def test_the_card_reader_page_shows_the_card_read_with_its_account_masked(world):
    screen = DeviceScreen(world, lang="zh")
    screen.act(screen.model.select, CARD_READER)
    screen.model.prepare()
    screen.settle("the reader online", lambda: world["devices"].card_reader.status.state is DeviceState.ONLINE)
    world["devices"].emulators.card_reader.insert(DEMO_CARD)
    view = screen.act(screen.model.run_test)
    assert view.test.card.outcome == "card"
    screen.settle("the card drawn", lambda: screen.page.message.text() == "已读卡")
    lines = [label.text() for label in screen.page.result_lines if label.isVisibleTo(screen.page)]
    assert lines[0].startswith("复位应答（ATR）：3B 69 00 00 55")
    assert lines[1:] == ["卡类型：购买卡", "业务：电费", "户号：32****0017"]
    assert all(DEMO_CARD.account_no not in line for line in lines)
    screen.check("card_read")


def test_a_reset_asks_for_confirmation_then_restarts_the_driver(world):
    screen = DeviceScreen(world)
    screen.act(screen.model.select, PRINTER)
    tap(screen.page.reset_button)
    assert screen.asked == [] and screen.page.confirm_reset.isVisible()
    screen.check("reset_confirm")
    tap(screen.page.confirm_reset)
    assert screen.asked == [("reset_requested",)]
    view = screen.act(screen.model.reset)
    assert view.notice.key == "maint.devices.reset_done" and view.reset_status.state is DeviceState.ONLINE
    assert world["store"].audit_since(0)[-1].action == "reset"


def test_the_page_asks_for_the_repair_form_of_the_device_shown(world):
    screen = DeviceScreen(world)
    screen.act(screen.model.select, CARD_READER)
    tap(screen.page.repair)
    assert screen.asked == [("repair_requested", "card_reader")]


# ---------------------------------------------------------------- the repair page


class RepairScreen:
    def __init__(self, world: dict, lang: str = "en") -> None:
        self.ctx = RenderContext(world["config"], Translator(lang))
        self.page = RepairPageWidget()
        self.page.resize(*PAGE)
        self.form = RepairForm(lambda: world["archive"], world["audit"], "tech-07", world["devices"].fitted)
        for name, act in (("device_chosen", self.form.select_device), ("what_toggled", self.form.toggle_what),
                          ("part_toggled", self.form.toggle_part), ("fault_toggled", self.form.toggle_fault),
                          ("typing_into", self.form.type_into), ("text_typed", self.form.set_typed),
                          ("save_requested", self.form.save)):
            getattr(self.page, name).connect(lambda *args, a=act: self.show(a(*args)))
        self.page.show()
        self.show(self.form.load())

    def show(self, view) -> None:
        self.page.render(self.ctx, view)

    def check(self, state: str) -> None:
        laid_out()
        image = self.page.grab().toImage()
        image.save(f"/tmp/repair_page_{state}.png")
        problems = [str(v) for v in check_window(self.page, image) if v.kind not in TECHNICIAN_SHOWN]
        assert problems == [], f"{state}: {problems}"


def test_a_repair_is_entered_by_taps_saved_and_closes_the_fault_it_names(world):
    archive = world["archive"]
    jam = archive.raise_fault(ACCEPTOR, "hardware_error", "E-ACC-JAM_IN_ACCEPTOR", "note stuck")
    screen = RepairScreen(world)
    assert screen.page.fault_chips[0].text().startswith(f"#{jam} E-ACC-JAM_IN_ACCEPTOR")
    tap(screen.page.what_chips[0])  # Cleared a note jam
    for key in "inlet":
        tap(screen.page.pad.keys[key])
    tap(screen.page.field_chips["parts"])
    tap(screen.page.part_chips[0])  # transport belt
    tap(screen.page.fault_chips[0])
    assert screen.page.what_chips[0].property("chosen") and screen.page.fault_chips[0].property("chosen")
    assert screen.page.typed_note.text() == "What was done: inlet"
    screen.check("filled")
    tap(screen.page.save)
    (repair,) = archive.repairs(ACCEPTOR)
    assert repair.note == "cleared_jam: Cleared a note jam; inlet"
    assert repair.parts == "belt: transport belt" and repair.clears == (jam,)
    assert archive.open_faults() == []
    assert screen.page.message.text() == f"Repair record {repair.id} saved; 1 fault(s) dealt with"
    assert screen.page.pad.text() == "" and not screen.page.what_chips[0].property("chosen")
    screen.check("saved")


def test_saving_without_saying_what_was_done_shows_why_in_chinese(world):
    screen = RepairScreen(world, lang="zh")
    tap(screen.page.device_chips[PRINTER])
    tap(screen.page.save)
    assert screen.page.message.text() == "请写明做了什么：选择一项，或用键盘输入"
    assert world["archive"].repairs() == []
    screen.check("need_what_zh")


def test_wipe_clears_the_pad_and_the_message(world):
    screen = RepairScreen(world)
    tap(screen.page.pad.keys["a"])
    tap(screen.page.save)
    screen.page.wipe()
    assert screen.page.pad.text() == "" and screen.page.message.text() == ""


def test_the_history_shows_repairs_beside_faults_newest_first_a_page_at_a_time(world):
    archive = world["archive"]
    faults = [archive.raise_fault(PRINTER, "hardware_error", f"E-PRN-CODE_{n}", f"fault {n}") for n in range(7)]
    archive.record_repair(PRINTER, "tech-07", "loaded_paper: Loaded a new paper roll", parts="paper_roll: paper roll",
                          clears=faults[-1:])
    screen = DeviceScreen(world)
    screen.act(screen.model.select, PRINTER)
    view = screen.act(screen.model.refresh)
    assert len(view.history) == 8  # four a page
    first, second = screen.page.history_rows[0]
    assert "Repair  tech-07" in first.text()
    assert second.text() == (f"loaded_paper: Loaded a new paper roll  ·  parts: paper_roll: paper roll  ·  "
                             f"clears fault #{faults[-1]}")
    assert screen.page.page_label.text() == "Page 1 of 2" and not screen.page.newer.isEnabled()
    tap(screen.page.older)
    assert [screen.page.history_rows[n][0].text()[-12:] for n in range(4)] == [
        "E-PRN-CODE_3", "E-PRN-CODE_2", "E-PRN-CODE_1", "E-PRN-CODE_0"]
    assert screen.page.page_label.text() == "Page 2 of 2" and not screen.page.older.isEnabled()
    screen.check("history_page_2")


def test_no_reset_while_the_note_test_runs(world):
    screen = DeviceScreen(world)
    screen.settle("the acceptor online", lambda: acceptor_online(world))
    screen.act(screen.model.run_test)
    view = screen.act(screen.model.reset)
    assert view.notice.key == "maint.devices.reset_test_running"
    assert screen.act(screen.model.stop_test).test.state is RunState.DONE
