"""The payment slips rendered to ESC/POS and read back with the decoder: what the customer takes home."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import pytest

from drivers.escpos.decode import Cut, Decoded, Qr, decode
from drivers.escpos.driver import PrinterDriver
from drivers.escpos.emulator import PrinterEmulator
from drivers.escpos.link import PrintOutcome
from drivers.escpos.slip import FS_CHINESE_OFF, FS_CHINESE_ON, PAPER_58MM, PAPER_80MM, Slip
from contract.masking import mask_account, mask_name
from kiosk.payment_slips import PaymentSlipData, payment_slip, recovery_slip, referral_slip

ACCOUNT = "3201100017"
HOLDER = "张小明"
TXN = "KS-0001-20261123-000001"
JAM_ZH = "收款机卡住了一张纸币，这张纸币未计入本次缴费。"
JAM_EN = "The note acceptor jammed with one note inside; that note is not counted in this payment."
PAPERS = pytest.mark.parametrize("columns", [PAPER_80MM, PAPER_58MM], ids=["80mm", "58mm"])


def paid(**changes) -> PaymentSlipData:
    """¥86.40 due, two ¥100 notes and one ¥50 paid, ¥163.60 to the balance, posted."""
    data = PaymentSlipData(
        hall_name_zh="城东供电供水供气营业厅",
        hall_name_en="Chengdong Utility Business Hall",
        terminal_id="KS-0001",
        hotline="95598",
        printed_at=datetime(2026, 11, 23, 10, 15, 2),
        transaction_no=TXN,
        utility_name_zh="电费",
        utility_name_en="Electricity",
        account_masked=mask_account(ACCOUNT),
        holder_masked=mask_name(HOLDER),
        amount_due_fen=8640,
        paid_fen=25000,
        notes=((5000, 1), (10000, 2)),
        status="posted",
        receipt_no="R2026112300042",
        balance_after_fen=16360,
    )
    return replace(data, **changes)


def pending(**changes) -> PaymentSlipData:
    return paid(**{"status": "pending", "receipt_no": "", "balance_after_fen": None, **changes})


def referred(**changes) -> PaymentSlipData:
    return pending(**{"status": "referred", "counter_hint_zh": "3号窗口", "counter_hint_en": "counter 3", **changes})


def printed(slip: Slip) -> Decoded:
    return decode(slip.render())


def squeezed(decoded: Decoded) -> str:
    """All the printed text without spaces and line breaks: wrapped sentences read whole again."""
    return "".join(decoded.text.split())


def has(decoded: Decoded, sentence: str) -> bool:
    return "".join(sentence.split()) in squeezed(decoded)


EVERY_SLIP = {
    "posted": lambda columns: payment_slip(paid(), columns),
    "pending": lambda columns: payment_slip(pending(), columns),
    "referred": lambda columns: payment_slip(referred(), columns),
    "referral": lambda columns: referral_slip(pending(), JAM_ZH, JAM_EN, columns),
    "recovery": lambda columns: recovery_slip(pending(), columns),
}
EVERY = pytest.mark.parametrize("kind", EVERY_SLIP)


# ---------------------------------------------------------------- what every slip holds


@EVERY
@PAPERS
def test_every_slip_carries_the_transaction_number_as_text_and_plain_qr_code_and_ends_with_a_cut(kind, columns):
    slip = printed(EVERY_SLIP[kind](columns))
    assert slip.qr_codes == (TXN,)
    assert slip.line_with(TXN)
    assert isinstance(slip.items[-1], Cut) and slip.cuts == 1
    # The QR code comes after the amounts, as the customer reads down the slip.
    kinds = [type(item) for item in slip.items]
    assert kinds.index(Qr) > slip.items.index(slip.line_with("实收 Paid"))


@EVERY
@PAPERS
def test_every_slip_prints_without_substitutions_or_unknown_commands(kind, columns):
    slip = printed(EVERY_SLIP[kind](columns))
    assert slip.suspect == ()
    assert slip.unknown == ()
    assert slip.unfinished == b""


@EVERY
@PAPERS
def test_every_line_fits_the_paper_with_chinese_counted_as_two_columns(kind, columns):
    slip = printed(EVERY_SLIP[kind](columns))
    too_wide = [(line.columns, line.text) for line in slip.lines if line.columns > columns]
    assert too_wide == []
    # Amounts end at the right edge: the layout and the decoder agree on the width.
    for amount in ("￥86.40", "￥250.00", "￥163.60"):
        assert slip.line_with(amount).columns == columns


@EVERY
@PAPERS
def test_the_unmasked_account_number_and_full_name_never_reach_the_paper(kind, columns):
    slip = printed(EVERY_SLIP[kind](columns))
    for secret in (ACCOUNT, HOLDER):
        assert secret not in squeezed(slip)
        assert all(secret not in payload for payload in slip.qr_codes)
    assert slip.line_with("户号 Account").text.endswith("32****0017")
    assert slip.line_with("户名 Name").text.endswith("张*明")


@EVERY
def test_every_slip_is_in_chinese_and_english(kind):
    slip = printed(EVERY_SLIP[kind](PAPER_80MM))
    for both in ("交易号 Transaction", "户号 Account", "应缴 Amount due", "实收 Paid", "存入余额 To your balance",
                 "服务热线 Hotline 95598"):
        assert slip.line_with(both)
    assert slip.texts[2:4] == ("城东供电供水供气营业厅", "Chengdong Utility Business Hall")


@EVERY
def test_chinese_goes_to_the_printer_as_gb18030_in_chinese_mode(kind):
    data = EVERY_SLIP[kind](PAPER_80MM).render()
    assert FS_CHINESE_ON + "交易号".encode("gb18030") + FS_CHINESE_OFF in data
    assert FS_CHINESE_ON + "￥".encode("gb18030") + FS_CHINESE_OFF + b"86.40" in data


# ---------------------------------------------------------------- the payment slip, by status


def test_posted_slip_lists_hall_terminal_time_utility_amounts_and_notes_by_denomination():
    slip = printed(payment_slip(paid()))
    assert slip.texts[0] == "缴费凭条" and slip.lines[0].size == (2, 2)
    assert slip.line_with("Payment slip")
    assert slip.line_with("终端 Terminal").text.endswith("KS-0001")
    assert slip.line_with("时间 Time").text.endswith("2026-11-23 10:15:02")
    assert slip.line_with("交易号 Transaction").text.endswith(TXN)
    assert slip.line_with("项目 Utility").text.endswith("电费 Electricity")
    assert slip.line_with("应缴 Amount due").text.endswith("￥86.40")
    assert slip.line_with("实收 Paid").text.endswith("￥250.00")
    assert slip.line_with("存入余额 To your balance").text.endswith("￥163.60")
    # Highest note first, each with its count and subtotal.
    notes = [line.text for line in slip.lines if " × " in line.text]
    assert [" ".join(text.split()) for text in notes] == ["￥100 × 2 ￥200.00", "￥50 × 1 ￥50.00"]


def test_posted_slip_says_payment_posted_with_the_receipt_number_and_new_balance():
    slip = printed(payment_slip(paid()))
    assert slip.line_with("缴费成功 已入账").size == (2, 2)
    assert slip.line_with("Payment posted").bold
    assert slip.line_with("收据号 Receipt no.").text.endswith("R2026112300042")
    assert slip.line_with("账户余额 Balance").text.endswith("￥163.60")
    assert not has(slip, "将稍后入账") and not has(slip, "staffed counter")


@PAPERS
def test_pending_slip_says_received_will_be_posted_and_to_keep_it_as_proof(columns):
    slip = printed(payment_slip(pending(), columns))
    big = [line.text for line in slip.lines if line.size == (2, 2)]
    assert "".join(big[1:]) in ("已收款，将稍后入账", "已收款将稍后入账")  # one line at 80 mm, two at 58 mm
    assert has(slip, "Received — will be posted to your account")
    assert has(slip, "无需再次缴费") and has(slip, "do not pay again")
    assert has(slip, "请保留本凭条，作为缴费凭证。")
    assert has(slip, "Keep this slip: it is your proof of payment.")
    assert not has(slip, "缴费成功") and not has(slip, "Payment posted") and not has(slip, "收据号")


def test_pending_slip_has_its_status_in_double_size_on_one_line_at_80mm():
    slip = printed(payment_slip(pending()))
    assert slip.line_with("已收款，将稍后入账").size == (2, 2)


@PAPERS
def test_referred_slip_sends_the_customer_to_the_counter_with_the_transaction_number_prominent(columns):
    slip = printed(payment_slip(referred(), columns))
    assert has(slip, "请持此凭条到人工服务窗口办理")
    assert has(slip, "Take this slip to a staffed counter")
    assert has(slip, "办理窗口 Counter: 3号窗口 counter 3")
    assert has(slip, "您的钱不会丢失") and has(slip, "it is not lost")
    # The number stands on its own line, whole, in large type when the paper allows.
    own_line = [line for line in slip.lines if line.text.strip() == TXN and line.bold]
    assert own_line
    assert own_line[0].size == ((2, 2) if columns == PAPER_80MM else (1, 1))
    assert not has(slip, "缴费成功")


def test_referred_slip_without_a_counter_hint_names_any_staffed_counter():
    slip = printed(payment_slip(referred(counter_hint_zh="", counter_hint_en="")))
    assert has(slip, "人工服务窗口") and has(slip, "a staffed counter")
    assert not has(slip, "办理窗口 Counter")


def test_a_prepayment_with_nothing_due_credits_all_of_it_to_the_balance():
    slip = printed(payment_slip(paid(amount_due_fen=0, paid_fen=10000, notes=((10000, 1),), balance_after_fen=26000)))
    assert slip.line_with("应缴 Amount due").text.endswith("￥0.00")
    assert slip.line_with("存入余额 To your balance").text.endswith("￥100.00")


def test_large_amounts_have_thousands_separators_and_jiao_notes_keep_their_decimals():
    data = paid(amount_due_fen=123450, paid_fen=123450, notes=((10000, 12), (2000, 1), (1000, 1), (50, 9)), balance_after_fen=0)
    slip = printed(payment_slip(data, PAPER_58MM))
    assert slip.line_with("应缴 Amount due").text.endswith("￥1,234.50")
    assert " ".join(slip.line_with("￥100 × 12").text.split()) == "￥100 × 12 ￥1,200.00"
    assert " ".join(slip.line_with("￥0.50 × 9").text.split()) == "￥0.50 × 9 ￥4.50"


# ---------------------------------------------------------------- the referral and recovery slips


@PAPERS
def test_referral_slip_says_what_happened_what_became_of_the_money_and_where_to_go(columns):
    slip = printed(referral_slip(pending(counter_hint_zh="3号窗口", counter_hint_en="counter 3"),
                                 JAM_ZH, JAM_EN, columns))
    assert has(slip, "请到人工服务窗口") and has(slip, "Please go to a staffed counter")
    assert has(slip, "发生了什么 What happened") and has(slip, JAM_ZH) and has(slip, JAM_EN)
    assert has(slip, "已收 ￥250.00，本机已记录，将稍后自动入账，无需再次缴费。")
    assert has(slip, "Received ￥250.00, recorded by this machine; it will be posted automatically")
    assert has(slip, "请持此凭条到3号窗口办理") and has(slip, "Take this slip to counter 3.")
    assert [line.text.strip() for line in slip.lines if line.text.strip() == TXN]


def test_referral_slip_for_a_rejected_account_says_the_money_is_recorded_but_not_posted():
    slip = printed(referral_slip(referred(), "缴费系统拒绝了此户号：该户已销户。",
                                 "The billing system refused this account: it is closed."))
    assert has(slip, "缴费系统拒绝了此户号：该户已销户。")
    assert has(slip, "已收 ￥250.00，本机已记录，尚未入账，不会丢失。")
    assert has(slip, "not yet posted to your account; it is not lost.")


def test_referral_slip_when_no_money_was_taken_says_so():
    data = referred(paid_fen=0, notes=())
    slip = printed(referral_slip(data, "第一张纸币卡在收款机内。", "The first note jammed in the acceptor."))
    assert has(slip, "本次没有收到钱款。") and has(slip, "No money was taken this time.")
    assert slip.line_with("实收 Paid").text.endswith("￥0.00")


def test_referral_slip_needs_what_happened_in_both_languages():
    with pytest.raises(ValueError, match="both languages"):
        referral_slip(pending(), JAM_ZH, " ")


@PAPERS
def test_recovery_slip_says_the_payment_was_completed_after_an_interruption(columns):
    slip = printed(recovery_slip(pending(), columns))
    assert has(slip, "本机在办理此笔缴费时中断（断电），重启后已完成此笔缴费。")
    assert has(slip, "it completed the payment after restarting")
    assert slip.line_with("实收 Paid").text.endswith("￥250.00")
    assert has(slip, "Received — will be posted to your account")
    assert has(slip, "If in doubt, take this slip to a staffed counter.")


def test_recovery_slip_of_a_payment_that_posted_on_restart_shows_the_receipt():
    slip = printed(recovery_slip(paid()))
    assert has(slip, "重启后已完成此笔缴费")
    assert slip.line_with("缴费成功 已入账")
    assert slip.line_with("收据号 Receipt no.").text.endswith("R2026112300042")


# ---------------------------------------------------------------- data refused before it reaches paper


@pytest.mark.parametrize("changes, message", [
    ({"account_masked": ACCOUNT}, "account_masked does not look masked"),
    ({"account_masked": "32*1100017"}, "account_masked does not look masked"),
    ({"holder_masked": HOLDER}, "holder_masked does not look masked"),
    ({"notes": ((10000, 2),)}, "notes add up to 20000 fen but paid_fen=25000"),
    ({"notes": ((10000, 0), (5000, 5))}, "positive"),
    ({"status": "done"}, "status='done'"),
    ({"receipt_no": ""}, "receipt number exactly when the payment is posted"),
    ({"status": "pending"}, "receipt number exactly when the payment is posted"),
    ({"transaction_no": ""}, "transaction_no is empty"),
    ({"amount_due_fen": -1}, "never negative"),
], ids=["account", "account-long-run", "name", "notes-sum", "note-count", "status", "posted-no-receipt",
        "pending-with-receipt", "no-transaction", "negative"])
def test_slip_data_that_would_print_personal_data_or_wrong_figures_is_refused(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        paid(**changes)


def test_what_a_slip_credits_to_the_balance_is_what_was_paid_above_the_amount_due():
    assert paid().credited_to_balance_fen == 25000 - 8640
    assert paid(amount_due_fen=30000, status="pending", receipt_no="").credited_to_balance_fen == 0


def test_a_customer_without_a_name_on_record_gets_a_slip_without_the_name_line():
    slip = printed(payment_slip(paid(holder_masked="")))
    assert "户名 Name" not in slip.text
    assert slip.line_with("户号 Account")


# ---------------------------------------------------------------- through the real driver


@pytest.fixture
def printer():
    with PrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def driver(printer):
    driver = PrinterDriver(printer.url, status_interval_s=0.05, timeout_s=0.3, print_timeout_s=3.0)
    driver.start()
    deadline = time.monotonic() + 3.0
    while driver.status.reason == "NOT_STARTED" and time.monotonic() < deadline:
        time.sleep(0.01)
    yield driver
    driver.stop()


def test_a_pending_slip_printed_through_the_driver_comes_out_of_the_printer_as_laid_out(driver, printer):
    slip = payment_slip(pending())
    result = driver.print_slip(slip).result(timeout=5)
    assert result.outcome is PrintOutcome.PRINTED, result
    on_paper = printer.decoded()
    assert on_paper.items == printed(slip).items
    assert on_paper.line_with("已收款，将稍后入账").size == (2, 2)
    assert on_paper.qr_codes == (TXN,) and on_paper.cuts == 1 and on_paper.suspect == ()


def test_a_part_payment_slip_prints_what_is_still_owed():
    slip = printed(payment_slip(paid(amount_due_fen=30000, paid_fen=25000, status="pending", receipt_no="")))
    assert slip.line_with("仍欠 Still owed").text.endswith("￥50.00")
    assert slip.line_with("存入余额 To your balance").text.endswith("￥0.00")


def test_a_slip_paid_in_full_has_no_still_owed_line():
    assert "仍欠" not in printed(payment_slip(paid())).text
