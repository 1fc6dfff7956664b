"""The collection slip (清机结账单) read back from its ESC/POS bytes, and printed through the real driver."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from drivers.escpos.decode import Cut, Decoded, decode
from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.escpos.slip import PAPER_58MM, PAPER_80MM
from drivers.status import Paper
from kiosk.cash_collection import CashCollection, SlipState, Stage
from kiosk.collection_slip import CollectionSlipData, collection_slip
from kiosk.config import default_config
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from offline_store.journal import Collection, MoneyJournal
from offline_store.maintenance_store import MaintenanceStore
from offline_store.pii import PiiKey

from maintenance_world import HandClock

PAPERS = pytest.mark.parametrize("columns", [PAPER_80MM, PAPER_58MM], ids=["80mm", "58mm"])
PRINTED_AT = datetime(2026, 11, 23, 18, 5, 0)
TERMINAL = default_config().terminal


class Box:
    """A journal on disk whose box holds payments, a test note, a note in no payment and a doubt."""

    def __init__(self, folder: Path) -> None:
        self.clock = HandClock()
        self.journal = MoneyJournal(folder / "journal.sqlite", PiiKey.create(folder / "journal.key"), self.clock)
        self.txn = self.journal.open_payment("KS-0001", "electricity", "3201100017", "张小明", "城东区", 100,
                                             cap_fen=1_000_000).transaction_no
        self.journal.start_cash_in(self.txn)
        for ref, denomination in enumerate((10000, 10000, 10000, 5000, 1000)):
            self.journal.record_note(self.txn, denomination, f"acceptor-1/{ref}")
        self.journal.commit(self.txn, paid_at=self.clock())
        self.journal.record_test_note(2000, "acceptor-1/test", by="zhao.min")
        self.journal.reconcile_power_up_note("stacker", 5000, already_credited=False)
        self.journal.record_unassigned_note(self.txn, None, "VEND VALID without escrow")
        self.clock.advance(120)

    def collect(self, counted: dict[int, int], note: str = "") -> Collection:
        return self.journal.record_collection("wang.li", counted, note)


@pytest.fixture
def box(tmp_path):
    made = Box(tmp_path)
    yield made
    made.journal.close()


SHORT = {10000: 2, 5000: 2, 2000: 1, 1000: 2, 500: 0, 100: 0}


def short_collection(box: Box) -> Collection:
    """A ¥100 note missing, and the doubt turned out a ¥10: counted ¥340 of ¥430 expected."""
    return box.collect(SHORT, "[doubt_absent] Note to check was not in the box")


def printed(collection: Collection, columns: int = PAPER_80MM, reprint: bool = False) -> Decoded:
    data = CollectionSlipData.for_terminal(TERMINAL, collection, PRINTED_AT, reprint=reprint)
    return decode(collection_slip(data, columns).render())


def figures(decoded: Decoded, note: str) -> list[str]:
    """The expected, counted and difference columns of one denomination's row."""
    line = next(line.text for line in decoded.lines if line.text.split()[:1] == [note])
    return line.split()[1:]


# ---------------------------------------------------------------- what the slip says


def test_the_slip_names_hall_terminal_collector_number_and_the_period(box):
    collection = short_collection(box)
    slip = printed(collection)

    assert slip.texts[:2] == ("清机结账单", "Cash collection slip") and slip.lines[0].size == (2, 2)
    assert slip.texts[2:4] == (TERMINAL.hall_name_zh, TERMINAL.hall_name_en)
    assert slip.line_with("终端 Terminal").text.endswith(TERMINAL.id)
    assert slip.line_with("清机单号 Collection no.").text.endswith(collection.number)
    assert slip.line_with("清机人 Collector").text.endswith("wang.li")
    assert slip.line_with("起 From").text.endswith("启用以来 journal start")
    assert slip.line_with("止 To").text.endswith(f"{datetime.fromtimestamp(collection.collected_at):%Y-%m-%d %H:%M:%S}")
    assert slip.line_with("打印 Printed").text.endswith("2026-11-23 18:05:00")
    assert "重印" not in slip.text


def test_the_slip_lists_expected_counted_and_difference_per_denomination_and_the_totals(box):
    slip = printed(short_collection(box))

    assert figures(slip, "￥100") == ["3", "2", "-1"]
    assert figures(slip, "￥50") == ["2", "2", "0"]  # one in a payment, one in no payment
    assert figures(slip, "￥20") == ["1", "1", "0"]  # the test note
    assert figures(slip, "￥10") == ["1", "2", "+1"]  # the doubt was a ¥10 note
    assert not any(line.text.startswith("￥5 ") for line in slip.lines)  # none expected, none counted
    assert slip.line_with("应有合计 Expected (7)").text.endswith("￥430.00")
    assert slip.line_with("实点合计 Counted (7)").text.endswith("￥340.00")
    assert slip.line_with("差额 Difference").text.endswith("-￥90.00") and slip.line_with("差额 Difference").bold


def test_the_slip_lists_test_notes_notes_in_no_payment_and_the_doubts_the_count_settled(box):
    collection = short_collection(box)
    slip = printed(collection)
    text = slip.text

    after = text.split("测试纸币 Test notes")[1]
    assert " ".join(after.splitlines()[1].split()) == "￥20 × 1 ￥20.00"
    after = text.split("未归属交易的纸币 Notes in no payment")[1]
    assert " ".join(after.splitlines()[1].split()) == "￥50 × 1 ￥50.00"
    assert slip.line_with("待清点核对 Notes to check: 1")
    assert slip.line_with("面额不明 unknown 待清点 count it")
    assert slip.line_with(f"交易 during {box.txn}")
    assert slip.line_with("[doubt_absent] Note to check was not in the box")
    assert slip.line_with("清机人签字 Collector") and slip.line_with("复核人签字 Checked by")


@PAPERS
def test_the_slip_carries_the_number_as_qr_code_ends_with_a_cut_and_fits_the_paper(box, columns):
    collection = short_collection(box)
    slip = printed(collection, columns)

    assert slip.qr_codes == (collection.number,)
    assert isinstance(slip.items[-1], Cut) and slip.cuts == 1
    assert slip.suspect == () and slip.unknown == () and slip.unfinished == b""
    assert [(line.columns, line.text) for line in slip.lines if line.columns > columns] == []
    assert "3201100017" not in slip.text and "张小明" not in slip.text  # no customer data on a collection slip


def test_the_next_collections_period_starts_at_the_one_before_and_an_empty_box_says_so(box):
    first = short_collection(box)
    box.clock.advance(3600)
    second = box.collect({})
    slip = printed(second)
    assert slip.line_with("起 From").text.endswith(f"{datetime.fromtimestamp(first.collected_at):%Y-%m-%d %H:%M:%S}")
    assert slip.line_with("钞箱无纸币 Box empty")
    assert slip.line_with("差额 Difference").text.endswith("￥0.00")


def test_a_reprint_says_so_and_otherwise_says_the_same(box):
    collection = short_collection(box)
    first, again = printed(collection), printed(collection, reprint=True)
    assert again.line_with("** 重印 Reprint **").bold
    assert [t for t in again.texts if "重印" not in t] == list(first.texts)


def test_slip_data_without_a_terminal_is_refused(box):
    with pytest.raises(ValueError, match="terminal_id is empty"):
        CollectionSlipData("城东营业厅", "Chengdong hall", " ", PRINTED_AT, short_collection(box))


# ---------------------------------------------------------------- through the real driver


@pytest.fixture
def printer():
    with PrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def driver(printer):
    made = PrinterDriver(printer.url, status_interval_s=0.05, timeout_s=0.3, print_timeout_s=3.0)
    made.start()
    wait_for(lambda: made.status.reason != "NOT_STARTED", "the printer's first status")
    yield made
    made.stop()


def wait_for(condition, what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def collector(box, driver, tmp_path):
    """The collection form of wang.li on this terminal, its printer the driver on the emulator."""
    store = MaintenanceStore(tmp_path / "maintenance.sqlite")
    form = CashCollection(box.journal, config=default_config(), audit=Audit(store, keep_days=365, clock=box.clock),
                          user="wang.li", printer=driver, clock=box.clock, print_wait_s=10)
    form.store = store
    yield form
    store.close()


def count_short(form: CashCollection) -> None:
    form.load()
    for denomination, count in SHORT.items():
        form.set_count(denomination, str(count))
    form.toggle_phrase("maint.collection.phrase.doubt_absent")


def audit(form: CashCollection) -> list[tuple[str, str]]:
    return [(e.what, e.result) for e in form.store.audit_since(0)]


def test_a_recorded_collection_prints_its_slip_through_the_driver(collector, printer, box):
    count_short(collector)
    view = collector.record()

    assert view.stage is Stage.RECORDED and view.slip is SlipState.PRINTED
    assert view.slip_message.text(Translator("en")) == f"Slip {view.number} printed"
    on_paper = printer.decoded()
    assert on_paper.qr_codes == (view.number,) and on_paper.cuts == 1 and on_paper.suspect == ()
    assert figures(on_paper, "￥100") == ["3", "2", "-1"]
    assert audit(collector)[-1] == (f"print slip {view.number}", "printed")


def test_a_printer_out_of_paper_leaves_the_collection_recorded_and_the_slip_prints_again_later(
        collector, printer, driver, box):
    printer.set_paper(Paper.OUT)
    wait_for(lambda: not driver.status.usable, "the driver to see the paper out")
    count_short(collector)
    view = collector.record()

    assert view.stage is Stage.RECORDED and box.journal.last_collection().number == view.number
    assert box.journal.cash_box().counts == {}  # the counters restarted all the same
    assert view.slip is SlipState.NOT_PRINTED
    assert view.slip_message.text(Translator("en")) == (
        f"Slip {view.number} not printed: the printer is out of paper. "
        "The collection is recorded — fix it, then tap 'Print slip again'")
    assert view.slip_message.text(Translator("zh")).startswith(f"清机单 {view.number} 未打印：打印机缺纸。")
    assert printer.decoded().lines == ()
    assert audit(collector)[-1][1].startswith("not printed: PAPER_OUT")

    printer.set_paper(Paper.OK)
    wait_for(lambda: driver.status.usable, "the driver to see the new roll")
    again = collector.reprint()
    assert again.slip is SlipState.PRINTED
    on_paper = printer.decoded()
    assert on_paper.line_with("** 重印 Reprint **") and on_paper.qr_codes == (view.number,)
    assert figures(on_paper, "￥10") == ["1", "2", "+1"]
    assert audit(collector)[-1] == (f"reprint slip {view.number}", "printed")


def test_paper_running_out_in_the_middle_of_the_slip_is_said_and_the_reprint_is_whole(collector, printer, driver):
    count_short(collector)
    printer.fail_after(200, "paper_out")
    view = collector.record()
    assert view.slip is SlipState.NOT_PRINTED and "out of paper" in view.slip_message.text(Translator("en"))

    printer.set_paper(Paper.OK)
    printer.clear()
    wait_for(lambda: driver.status.usable, "the driver to see the new roll")
    assert collector.reprint(view.number).slip is SlipState.PRINTED
    assert printer.decoded().qr_codes == (view.number,) and printer.decoded().cuts == 1


def test_the_last_collections_slip_can_be_printed_from_a_new_form_after_a_logout(collector, box, driver, printer):
    count_short(collector)
    number = collector.record().number
    printer.clear()
    form = CashCollection(box.journal, config=default_config(), audit=Audit(collector.store, keep_days=365, clock=box.clock),
                          user="chen.jie", printer=driver, clock=box.clock, print_wait_s=10)
    view = form.load()
    assert view.last_number == number
    again = form.reprint(view.last_number)
    assert again.slip is SlipState.PRINTED and again.message.text(Translator("en")) == f"Slip {number} printed"
    assert printer.decoded().line_with("清机单号 Collection no.").text.endswith(number)
