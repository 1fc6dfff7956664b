"""The card top-up slip (购电/购水/购气凭条) rendered to ESC/POS and read back with the decoder,
and printed through the real driver on the printer emulator: what the customer carries away
with a purchase, above all when the credit is not on the card."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import pytest

from contract.masking import mask_account
from drivers.escpos.decode import Cut, Decoded, Qr, decode
from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.escpos.slip import PAPER_58MM, PAPER_80MM
from drivers.status import Paper
from kiosk.top_up_records import TopUpOutcome, TopUpSlipData, advice_key, card_masked, problem_key
from kiosk.top_up_slip import TopUpSlipPrinter, top_up_slip

ACCOUNT = "3201100017"
SERIAL = "8601000000001234"
PURCHASE = "KS-0001-P20261123-000007"
TXN = "KS-0001-20261123-000007"
PAPERS = pytest.mark.parametrize("columns", [PAPER_80MM, PAPER_58MM], ids=["80mm", "58mm"])


def written(**changes) -> TopUpSlipData:
    """¥150 in a ¥100 and a ¥50 note: ¥50 of arrears settled, ¥100 of credit on the card, its 4th purchase."""
    data = TopUpSlipData(
        hall_name_zh="城东供电供水供气营业厅", hall_name_en="Chengdong Utility Business Hall",
        terminal_id="KS-0001", hotline="95598", printed_at=datetime(2026, 11, 23, 10, 15, 2),
        purchase_no=PURCHASE, transaction_no=TXN, utility_name_zh="电费", utility_name_en="Electricity",
        account_masked=mask_account(ACCOUNT), card_masked=card_masked(SERIAL), outcome=TopUpOutcome.WRITTEN,
        paid_fen=15000, notes=((5000, 1), (10000, 1)), credit_fen=10000, arrears_paid_fen=5000,
        receipt_no="R2026112300042", purchase_count=4, problem_key="", advice_key="", recovered=False)
    return replace(data, **changes)


def not_written(reason: str = "CARD_PULLED", **changes) -> TopUpSlipData:
    """Paid, the card pulled during the write: what TopUpService hands over for it."""
    return written(**{"outcome": TopUpOutcome.NOT_WRITTEN, "receipt_no": "", "problem_key": problem_key(reason),
                      "advice_key": advice_key(TopUpOutcome.NOT_WRITTEN), **changes})


def referred(**changes) -> TopUpSlipData:
    """The billing system refused to issue the token: booked nothing, the money kept."""
    return written(**{"outcome": TopUpOutcome.REFERRED, "receipt_no": "", "credit_fen": None,
                      "purchase_count": None, "problem_key": "top_up.problem.referred",
                      "advice_key": advice_key(TopUpOutcome.REFERRED), **changes})


def printed(data: TopUpSlipData, columns: int = PAPER_80MM) -> Decoded:
    return decode(top_up_slip(data, columns).render())


def has(decoded: Decoded, sentence: str) -> bool:
    """The sentence is on the paper, however the layout wrapped it."""
    return "".join(sentence.split()) in "".join(decoded.text.split())


EVERY_SLIP = {"written": written, "not_written": not_written, "referred": referred}
EVERY = pytest.mark.parametrize("kind", EVERY_SLIP)


# ---------------------------------------------------------------- what every slip holds


@EVERY
@PAPERS
def test_every_slip_carries_the_purchase_number_as_text_and_plain_qr_code_and_ends_with_a_cut(kind, columns):
    slip = printed(EVERY_SLIP[kind](), columns)
    assert slip.qr_codes == (PURCHASE,)
    assert slip.line_with(PURCHASE)
    assert isinstance(slip.items[-1], Cut) and slip.cuts == 1
    kinds = [type(item) for item in slip.items]
    assert kinds.index(Qr) > slip.items.index(slip.line_with("实收 Paid"))


@EVERY
@PAPERS
def test_every_slip_prints_without_substitutions_and_fits_the_paper(kind, columns):
    slip = printed(EVERY_SLIP[kind](), columns)
    assert (slip.suspect, slip.unknown, slip.unfinished) == ((), (), b"")
    assert [line.text for line in slip.lines if line.columns > columns] == []
    assert slip.line_with("实收 Paid").columns == columns  # the amount ends at the right edge


@EVERY
def test_every_slip_is_in_chinese_and_english_with_the_hall_terminal_time_and_hotline(kind):
    slip = printed(EVERY_SLIP[kind]())
    assert slip.texts[:4] == ("购电凭条", "Electricity purchase slip", "城东供电供水供气营业厅",
                              "Chengdong Utility Business Hall")
    assert slip.lines[0].size == (2, 2)
    assert slip.line_with("终端 Terminal").text.endswith("KS-0001")
    assert slip.line_with("时间 Time").text.endswith("2026-11-23 10:15:02")
    assert slip.line_with("购买单号 Purchase no.").text.endswith(PURCHASE)
    assert slip.line_with("交易号 Transaction").text.endswith(TXN)
    assert slip.line_with("项目 Utility").text.endswith("电费 Electricity")
    assert slip.line_with("服务热线 Hotline 95598")


@EVERY
def test_only_the_masked_account_and_the_cards_last_four_digits_reach_the_paper(kind):
    slip = printed(EVERY_SLIP[kind]())
    for secret in (ACCOUNT, SERIAL, SERIAL[:-4]):
        assert secret not in "".join(slip.text.split())
        assert all(secret not in payload for payload in slip.qr_codes)
    assert slip.line_with("户号 Account").text.endswith("32****0017")
    assert slip.line_with("卡号 Card").text.endswith("************1234")


@EVERY
def test_every_slip_lists_the_notes_taken_and_the_arrears_they_settled(kind):
    slip = printed(EVERY_SLIP[kind]())
    assert slip.line_with("实收 Paid").text.endswith("￥150.00") and slip.line_with("实收 Paid").bold
    assert " ".join(slip.line_with("￥100 × 1").text.split()) == "￥100 × 1 ￥100.00"
    assert " ".join(slip.line_with("￥50 × 1").text.split()) == "￥50 × 1 ￥50.00"
    assert slip.line_with("缴清欠费 Arrears paid").text.endswith("￥50.00")


# ---------------------------------------------------------------- by outcome


def test_a_written_slip_says_what_is_on_the_card_and_to_insert_it_into_the_meter():
    slip = printed(written())
    assert slip.line_with("写入卡内 Credit on card").text.endswith("￥100.00")
    assert slip.line_with("购买次数 Purchase count").text.endswith("4")
    assert slip.line_with("收据号 Receipt no.").text.endswith("R2026112300042")
    assert slip.line_with("已写入卡内").size == (2, 2)
    assert slip.line_with("Credit written to your card")
    assert has(slip, "请将卡插入电表，额度即可使用。")
    assert has(slip, "Insert the card into your electricity meter to load the credit.")
    assert slip.line_with("谢谢！Thank you.")
    for other in ("尚未写入", "NOT YET ON CARD", "发生了什么", "人工服务窗口"):
        assert not has(slip, other)


@PAPERS
def test_a_paid_not_written_slip_says_so_loudly_and_how_to_have_the_credit_written(columns):
    slip = printed(not_written(), columns)
    # Double size: on one line on 80 mm paper, broken after "已付款" on 58 mm.
    large = [line.text for line in slip.lines if line.size == (2, 2)]
    expected = ["已付款，尚未写入卡内"] if columns == PAPER_80MM else ["已付款", "尚未写入卡内"]
    assert all(part in large for part in expected), large
    assert slip.line_with("PAID — CREDIT NOT YET ON CARD").bold
    assert has(slip, "发生了什么 What happened")
    assert has(slip, "写卡时卡被取出，购买款已保存，请重新插卡补写。")
    assert has(slip, "The card was taken out during the write; your payment is kept")
    assert has(slip, "请重新插入同一张卡，本机将补写卡，不会重复收费。")
    assert has(slip, "Insert the same card again: the credit is written without paying twice.")
    assert has(slip, "也可在任一自助缴费机或营业厅柜台补写卡；请勿重复付款。")
    assert has(slip, "at the hall's counter. Do not pay again.")
    assert slip.line_with("待写入 Credit to write").text.endswith("￥100.00")
    assert has(slip, "请保留本凭条，作为付款凭证。") and has(slip, "it is your proof of payment")
    assert not has(slip, "已写入卡内") and not has(slip, "谢谢")
    # The number the rewrite and the counter ask for stands on its own line, large when it fits.
    own_line = [line for line in slip.lines if line.text.strip() == PURCHASE and line.bold]
    assert own_line and own_line[0].size == ((2, 2) if columns == PAPER_80MM else (1, 1))


@pytest.mark.parametrize("reason, zh, en", [
    ("CARD_MUTE", "卡片没有应答", "The card did not answer"),
    ("READER_GONE", "读卡器故障", "The card reader failed"),
    ("TOKEN_NOT_ISSUED", "营业系统暂未发出写卡数据", "has not yet issued the card data"),
], ids=["mute-card", "reader-gone", "no-token"])
def test_a_paid_not_written_slip_names_what_went_wrong_in_both_languages(reason, zh, en):
    slip = printed(not_written(reason))
    assert has(slip, zh) and has(slip, en)
    assert not has(slip, "写卡时卡被取出")


@PAPERS
def test_a_referred_slip_keeps_the_money_and_sends_the_customer_to_the_counter_with_it(columns):
    slip = printed(referred(), columns)
    assert has(slip, "请持此凭条到人工服务窗口办理") and has(slip, "Take this slip to a staffed counter")
    assert has(slip, "营业系统未能完成本次购买，购买款已保存，请凭凭条到柜台处理。")
    assert has(slip, "The billing system could not complete the purchase; your payment is kept")
    assert has(slip, "您的钱款 Your money")
    assert has(slip, "已收 ￥150.00，本机已记录，钱款不会丢失，无需再次付款。")
    assert has(slip, "Received ￥150.00, recorded by this machine: your money is not lost; do not pay again.")
    assert has(slip, "请凭凭条上的购买单号到人工柜台办理。")
    assert has(slip, "Take the purchase number on the slip to a staffed counter.")
    assert [line for line in slip.lines if line.text.strip() == PURCHASE and line.bold]
    for other in ("写入卡内", "购买次数", "收据号", "已写入", "补写卡"):
        assert not has(slip, other)


def test_a_referred_purchase_that_took_no_money_says_so():
    slip = printed(referred(paid_fen=0, notes=(), arrears_paid_fen=None))
    assert has(slip, "本次没有收到钱款。") and has(slip, "No money was taken this time.")
    assert not has(slip, "钱款不会丢失")


@EVERY
def test_a_slip_printed_after_a_restart_says_the_restart_carried_the_purchase_forward(kind):
    sentence_zh = "本机在办理此笔购买时中断，重新启动后已继续办理，并补打本凭条。"
    sentence_en = "it carried the purchase forward after restarting and printed this slip."
    assert not has(printed(EVERY_SLIP[kind]()), sentence_zh)
    slip = printed(EVERY_SLIP[kind](recovered=True))
    assert has(slip, sentence_zh) and has(slip, sentence_en)
    # Just under the heading: read before anything else on the slip.
    assert slip.texts.index(slip.line_with("本机在办理").text) < slip.texts.index(slip.line_with("户号").text)


def test_a_rewrite_of_a_purchase_paid_at_another_terminal_shows_nothing_paid_here():
    slip = printed(written(transaction_no="", paid_fen=0, notes=(), arrears_paid_fen=None))
    assert slip.line_with("实收 Paid").text.endswith("￥0.00")
    assert has(slip, "本次为补写卡，购买款已在此前付清，本次未收款。")
    assert has(slip, "This is a rewrite of a purchase paid before: nothing more was paid.")
    assert "交易号 Transaction" not in slip.text and "缴清欠费" not in slip.text
    assert slip.qr_codes == (PURCHASE,)


@pytest.mark.parametrize("zh, en, title_zh, title_en, meter_zh, meter_en", [
    ("水费", "Water", "购水凭条", "Water purchase slip", "水表", "water meter"),
    ("燃气费", "Gas", "购气凭条", "Gas purchase slip", "燃气表", "gas meter"),
    ("热费", "Heating", "购买凭条", "Credit purchase slip", "表计", "meter"),
], ids=["water", "gas", "unknown"])
def test_the_slip_is_named_after_the_utility_and_its_meter(zh, en, title_zh, title_en, meter_zh, meter_en):
    slip = printed(written(utility_name_zh=zh, utility_name_en=en))
    assert slip.texts[:2] == (title_zh, title_en)
    assert has(slip, f"请将卡插入{meter_zh}，") and has(slip, f"into your {meter_en} to load")


# ---------------------------------------------------------------- data refused before it reaches paper


@pytest.mark.parametrize("changes, message", [
    ({"account_masked": ACCOUNT}, "account_masked does not look masked"),
    ({"account_masked": "32*1100017"}, "account_masked does not look masked"),
    ({"card_masked": SERIAL}, "card_masked does not look masked"),
    ({"card_masked": "8601********1234"}, "card_masked does not look masked"),
    ({"notes": ((10000, 1),)}, "notes add up to 10000 fen but paid_fen=15000"),
    ({"notes": ((10000, 0), (5000, 3))}, "positive"),
    ({"purchase_no": " "}, "purchase_no is empty"),
    ({"outcome": TopUpOutcome.CANCELLED}, "outcome="),
], ids=["account", "account-long-run", "card", "card-half-masked", "notes-sum", "note-count", "no-number",
        "cancelled"])
def test_slip_data_that_would_print_personal_data_or_wrong_figures_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        top_up_slip(written(**changes))


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


def test_a_not_written_slip_comes_out_of_the_printer_as_laid_out(driver, printer):
    assert TopUpSlipPrinter(driver)(not_written()) is True
    on_paper = printer.decoded()
    assert on_paper.items == printed(not_written()).items
    assert on_paper.qr_codes == (PURCHASE,) and on_paper.cuts == 1 and on_paper.suspect == ()


def test_a_58mm_printer_gets_the_58mm_layout(driver, printer):
    assert TopUpSlipPrinter(driver, PAPER_58MM)(written()) is True
    assert printer.decoded().items == printed(written(), PAPER_58MM).items


def test_a_printer_out_of_paper_prints_nothing_and_says_not_printed(driver, printer):
    printer.set_paper(Paper.OUT)
    wait_for(lambda: not driver.status.usable, "the driver to see the paper out")
    assert TopUpSlipPrinter(driver)(written()) is False
    assert printer.decoded().lines == ()


def test_paper_running_out_in_the_middle_of_the_slip_says_not_printed(driver, printer):
    printer.fail_after(200, "paper_out")
    assert TopUpSlipPrinter(driver)(not_written()) is False


def test_a_printer_that_stops_answering_mid_slip_says_not_printed(driver, printer):
    printer.fail_after(200, "silent")
    assert TopUpSlipPrinter(driver, wait_s=10.0)(not_written()) is False


def test_the_customer_waits_for_a_slip_no_longer_than_the_slip_wait(printer):
    # A driver slow to give up (long timeouts): the slip wait, not the driver, ends the customer's wait.
    slow = PrinterDriver(printer.url, status_interval_s=0.05, timeout_s=1.0, print_timeout_s=2.5).start()
    try:
        wait_for(lambda: slow.status.usable, "the printer's first status")
        printer.fail_after(200, "silent")
        started = time.monotonic()
        assert TopUpSlipPrinter(slow, wait_s=0.2)(not_written()) is False
        assert time.monotonic() - started < 0.8
    finally:
        printer.go_silent(False)
        slow.stop()


def test_a_printer_gone_silent_before_the_slip_is_not_sent_the_slip(driver, printer):
    printer.go_silent()
    wait_for(lambda: not driver.status.usable, "the driver to see the printer not answering")
    assert TopUpSlipPrinter(driver)(referred()) is False
    assert printer.decoded().lines == ()


def test_a_recovery_slip_at_start_waits_for_the_printers_first_status(printer):
    # Recovery runs as the kiosk starts: the driver may not have read the printer yet.
    made = PrinterDriver(printer.url, status_interval_s=60.0, timeout_s=0.3, print_timeout_s=3.0)
    try:
        made.start()
        assert TopUpSlipPrinter(made)(not_written("RECOVERED", recovered=True)) is True
        assert printer.decoded().qr_codes == (PURCHASE,)
    finally:
        made.stop()


def test_no_printer_and_refused_slip_data_are_not_printed_and_raise_nothing(driver, printer):
    assert TopUpSlipPrinter(None)(written()) is False
    assert TopUpSlipPrinter(None)(written(recovered=True)) is False
    assert TopUpSlipPrinter(driver)(written(account_masked=ACCOUNT)) is False
    assert printer.decoded().lines == ()
