"""The maintenance screen's device tests and resets, on the kiosk's own devices: the real
drivers against the emulators (the acceptor on a pty, the printer on loopback TCP, the
in-process card reader), and a real money journal."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from drivers.escpos.decode import Cut
from drivers.id003.events import NoteCredited
from drivers.pcsc.applet import DEMO_CARD
from drivers.pcsc.card_app import atr_for_serial
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, DeviceState, Paper
from kiosk.config_types import DevicesConfig
from kiosk.device_tests import (JOURNAL_UNAVAILABLE, AcceptorTest, CardOutcome, CardReadTest, PrinterOutcome,
                                PrinterTest)
from kiosk.devices import KioskDevices, ResetRefused
from offline_store.disk_reserve import DiskReserve, note_guard
from offline_store.journal import MoneyJournal
from offline_store.journal.states import TEST_NOTE
from offline_store.pii import PiiKey

from waiting import wait_for

ALL_FEN = frozenset({100, 500, 1000, 2000, 5000, 10000})
HALL = ("城东供电供水供气营业厅", "Chengdong Utility Business Hall")


class Heard:
    """What the kiosk's listeners hear from the devices (on the drivers' threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statuses: list = []
        self.acceptor_events: list = []

    def status(self, status) -> None:
        with self._lock:
            self.statuses.append(status)

    def acceptor_event(self, event) -> None:
        with self._lock:
            self.acceptor_events.append(event)

    def of(self, device) -> list:
        with self._lock:
            return [s for s in self.statuses if s.device == device]


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def devices(heard) -> Iterator[KioskDevices]:
    fitted = KioskDevices(DevicesConfig("emulator", "emulator", "emulator"), realistic_emulators=False)
    fitted.open(heard.status, lambda _event: None, on_acceptor_event=heard.acceptor_event)
    wait_for(lambda: fitted.acceptor.status.state is DeviceState.ONLINE, 10, "the acceptor online")
    wait_for(lambda: fitted.printer.status.state is DeviceState.ONLINE, 10, "the printer online")
    wait_for(lambda: fitted.card_reader.status.state is DeviceState.ONLINE, 10, "the card reader online")
    yield fitted
    fitted.stop()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[MoneyJournal]:
    with MoneyJournal(tmp_path / "journal.sqlite", PiiKey.create(tmp_path / "journal.key"), time.time) as opened:
        yield opened


def disk_guard(folder: Path, min_free_bytes: int = 0):
    """The kiosk's own guard before every note, on the test's file system."""
    return note_guard(DiskReserve(folder, reserve_bytes=0, min_free_bytes=min_free_bytes))


def feed(devices: KioskDevices, *yuan: int) -> None:
    for value in yuan:
        devices.emulators.acceptor.insert_note(value)


# ---------------------------------------------------------------- the acceptor test


def test_two_test_notes_are_journaled_as_test_notes_in_no_payment_and_counted_in_the_box(devices, journal, tmp_path):
    test = AcceptorTest(journal, devices.acceptor, "tech-07", ALL_FEN, guard=disk_guard(tmp_path))
    assert test.start().running
    feed(devices, 100, 50)
    wait_for(lambda: test.progress.count == 2, 10, "two test notes")
    progress = test.stop(5.0)
    assert (progress.running, progress.notes_fen, progress.total_fen) == (False, (10000, 5000), 15000)
    rows = journal.unassigned_notes()
    assert [(row.kind, row.denomination_fen, row.transaction_no) for row in rows] == [
        (TEST_NOTE, 10000, None), (TEST_NOTE, 5000, None)]
    assert all("tech-07" in row.reason for row in rows)
    assert journal.payments_between(0, time.time() + 60) == []  # never credited to a customer
    box = journal.cash_box()
    assert box.test_notes == ((5000, 1), (10000, 1)) and box.total_fen == 15000
    assert devices.emulators.acceptor.counters.stacked[100] == 1  # and it is physically in the box
    assert devices.acceptor.settled


def test_each_test_note_is_on_disk_before_the_acceptor_gets_its_acknowledgement(devices, journal, tmp_path):
    emulated = devices.emulators.acceptor
    seen: list[tuple[int, int]] = []  # (test notes journaled, ACKs the acceptor had) when the credit was told
    test = AcceptorTest(journal, devices.acceptor, "tech-07", ALL_FEN, guard=disk_guard(tmp_path))
    test.start()
    acks_before = emulated.counters.acks_received
    # Listeners are called in order, on the driver's thread, before it sends the ACK to VEND VALID.
    devices.acceptor.subscribe_events(lambda e: isinstance(e, NoteCredited) and seen.append(
        (len(journal.unassigned_notes()), emulated.counters.acks_received - acks_before)))
    feed(devices, 20)
    wait_for(lambda: test.progress.count == 1, 10, "the credit")
    test.stop(5.0)
    assert seen == [(1, 0)]
    assert emulated.counters.acks_received - acks_before == 1


def test_a_test_note_is_returned_when_the_journal_cannot_record_it(devices, journal, tmp_path):
    full_disk = disk_guard(tmp_path, min_free_bytes=1 << 62)  # more than any disk has free
    test = AcceptorTest(journal, devices.acceptor, "tech-07", ALL_FEN, guard=full_disk)
    test.start()
    feed(devices, 100)
    wait_for(lambda: test.progress.returned_reason == JOURNAL_UNAVAILABLE and not test.progress.note_in_escrow,
             10, "the note returned")
    wait_for(lambda: devices.emulators.acceptor.counters.returned, 10, "the note back in the customer's hand")
    progress = test.stop(5.0)
    assert progress.count == 0
    assert journal.unassigned_notes() == []
    assert devices.emulators.acceptor.counters.stacked.get(100, 0) == 0


def test_a_denomination_not_offered_is_not_taken(devices, journal, tmp_path):
    test = AcceptorTest(journal, devices.acceptor, "tech-07", frozenset({10000}), guard=disk_guard(tmp_path))
    test.start()
    feed(devices, 20)
    wait_for(lambda: test.progress.returned_reason, 10, "the note refused")
    assert test.stop(5.0).count == 0
    assert journal.unassigned_notes() == []


def test_a_stacked_note_the_journal_fails_on_is_logged_and_intake_stops(devices, tmp_path, caplog):
    broken = MoneyJournal(tmp_path / "broken.sqlite", PiiKey.create(tmp_path / "broken.key"), time.time)
    broken.close()  # the journal's disk went away after the note was decided
    test = AcceptorTest(broken, devices.acceptor, "tech-07", ALL_FEN)
    test.start()
    with caplog.at_level(logging.CRITICAL, "kiosk.maintenance.devices"):
        feed(devices, 100)
        wait_for(lambda: test.progress.journal_failed, 10, "the failed write")
    assert "test note stacked but not journaled" in caplog.text
    assert caplog.records[-1].denomination_fen == 10000 and caplog.records[-1].by == "tech-07"
    feed(devices, 50)  # intake stopped: the next note is refused
    progress = test.stop(5.0)
    assert progress.count == 0 and devices.emulators.acceptor.counters.stacked.get(50, 0) == 0


def test_a_test_needs_the_technicians_name():
    with pytest.raises(ValueError, match="technician's name"):
        AcceptorTest(None, None, " ", ALL_FEN)


# ---------------------------------------------------------------- the printer test


def test_the_printer_test_prints_a_bilingual_slip_with_the_printers_capabilities_a_qr_and_a_cut(devices):
    emulated = devices.emulators.printer
    emulated.clear()
    result = PrinterTest(devices.printer, "KS-0001", *HALL, now=lambda: datetime(2026, 11, 23, 10, 15, 2)).run(10)
    assert (result.outcome, result.reason, result.confirmed) == (PrinterOutcome.OK, "", True)
    slip = emulated.decoded()
    assert slip.texts[0] == "打印机测试" and slip.line_with("Printer test")
    assert slip.line_with("终端 Terminal").text.endswith("KS-0001")
    assert slip.line_with("时间 Time").text.endswith("2026-11-23 10:15:02")
    assert slip.line_with("连接方式 Link").text.endswith("网络 TCP network")
    assert slip.line_with("状态回读 Status read back").text.endswith("是 yes")
    assert slip.line_with("纸张 Paper").text.endswith("正常 OK")
    assert slip.line_with("纸宽 Paper width").text.endswith("80 mm, 48 cols")
    assert slip.qr_codes == ("KIOSK-TEST|KS-0001|20261123101502",)
    assert isinstance(slip.items[-1], Cut) and slip.cuts == 1
    assert slip.suspect == () and slip.unknown == ()
    assert all(line.columns <= 48 for line in slip.lines)


def test_the_printer_test_says_paper_out_with_the_drivers_reason(devices):
    devices.emulators.printer.set_paper(Paper.OUT)
    wait_for(lambda: devices.printer.status.reason == "PAPER_OUT", 10, "paper out seen")
    devices.emulators.printer.clear()
    result = PrinterTest(devices.printer, "KS-0001", *HALL).run(10)
    assert (result.outcome, result.reason) == (PrinterOutcome.PAPER_OUT, "PAPER_OUT")
    assert result.facts.paper is Paper.OUT
    assert result.detail  # the driver's sentence, for the technician
    assert devices.emulators.printer.printed == b""


def test_the_printer_test_says_offline_when_the_printer_does_not_answer(devices):
    devices.emulators.printer.go_silent()
    wait_for(lambda: devices.printer.status.state is DeviceState.OFFLINE, 10, "the printer silent")
    result = PrinterTest(devices.printer, "KS-0001", *HALL).run(10)
    assert (result.outcome, result.reason) == (PrinterOutcome.OFFLINE, "SILENT")


# ---------------------------------------------------------------- the card read test


def test_the_card_read_shows_its_atr_type_utility_and_masked_account(devices):
    reading = CardReadTest(devices.card_reader)
    try:
        assert reading.read().outcome is CardOutcome.NO_CARD
        devices.emulators.card_reader.insert(DEMO_CARD)
        result = reading.read(wait_s=10)
    finally:
        reading.close()
    assert result.outcome is CardOutcome.CARD
    assert result.atr_hex == atr_for_serial(DEMO_CARD.serial).hex(" ").upper()
    assert (result.card_type, result.utility, result.account_masked) == ("PURCHASE", "electricity", "32****0017")
    assert DEMO_CARD.account_no not in repr(result)


def test_the_card_read_with_no_card_says_so_after_waiting(devices):
    reading = CardReadTest(devices.card_reader)
    started = time.monotonic()
    result = reading.read(wait_s=0.3)
    reading.close()
    assert result.outcome is CardOutcome.NO_CARD and time.monotonic() - started >= 0.3


def test_the_card_read_of_a_card_that_does_not_answer_says_why(devices):
    reading = CardReadTest(devices.card_reader)
    devices.emulators.card_reader.mute(True)
    devices.emulators.card_reader.insert(DEMO_CARD)
    try:
        result = reading.read(wait_s=10)
        wait_for(lambda: reading.read().outcome is CardOutcome.CARD_ERROR, 10, "the card declared mute")
        result = reading.read()
    finally:
        devices.emulators.card_reader.mute(False)
        reading.close()
    assert (result.outcome, result.reason) == (CardOutcome.CARD_ERROR, "CARD_MUTE")


# ---------------------------------------------------------------- reset


def test_resetting_the_printer_restarts_the_same_driver_which_prints_again(devices, heard):
    before = devices.printer
    status = devices.reset(PRINTER)
    assert devices.printer is before and status.state is DeviceState.ONLINE
    assert [s.reason for s in heard.of(PRINTER)][-2:] == ["STOPPED", ""]  # the kiosk heard it all
    assert PrinterTest(devices.printer, "KS-0001", *HALL).run(10).outcome is PrinterOutcome.OK


def test_resetting_the_card_reader_restarts_it_and_it_reads_cards_again(devices):
    reading = CardReadTest(devices.card_reader)
    status = devices.reset(CARD_READER)
    assert status.state is DeviceState.ONLINE
    devices.emulators.card_reader.insert(DEMO_CARD)
    assert reading.read(wait_s=10).account_masked == "32****0017"
    reading.close()


def test_resetting_a_settled_acceptor_builds_a_new_driver_the_kiosk_still_hears(devices, heard, journal, tmp_path):
    old = devices.acceptor
    status = devices.reset(ACCEPTOR)
    assert devices.acceptor is not old and not old.running
    assert status.state in (DeviceState.ONLINE, DeviceState.BUSY)
    wait_for(lambda: devices.acceptor.status.state is DeviceState.ONLINE, 10, "the new driver online")
    assert heard.of(ACCEPTOR)[-1].state is DeviceState.ONLINE  # its statuses reach the kiosk's listener
    test = AcceptorTest(journal, devices.acceptor, "tech-07", ALL_FEN, guard=disk_guard(tmp_path))
    test.start()
    feed(devices, 10)
    wait_for(lambda: test.progress.count == 1, 10, "a note through the new driver")
    test.stop(5.0)
    assert journal.cash_box().test_notes == ((1000, 1),)


def test_the_acceptor_is_not_reset_while_it_is_not_settled(devices):
    devices.emulators.acceptor.jam("acceptor")
    wait_for(lambda: devices.acceptor.status.reason == "JAM_IN_ACCEPTOR", 10, "the jam seen")
    before = devices.acceptor
    with pytest.raises(ResetRefused) as refused:
        devices.reset(ACCEPTOR, settle_s=0.3)
    assert refused.value.code == "NOT_SETTLED" and "JAM_IN_ACCEPTOR" in refused.value.detail
    assert devices.acceptor is before and before.running  # still following whatever is inside
    devices.emulators.acceptor.clear_jam()
    wait_for(lambda: devices.acceptor.status.state is DeviceState.ONLINE, 10, "the jam cleared")
    assert devices.reset(ACCEPTOR).state in (DeviceState.ONLINE, DeviceState.BUSY)


def test_a_device_that_is_not_fitted_is_not_reset():
    bare = KioskDevices(DevicesConfig("none", "none", "none"))
    with pytest.raises(ResetRefused, match="not fitted") as refused:
        bare.reset(PRINTER)
    assert refused.value.code == "NOT_FITTED"
