"""A customer pays a bill in cash, end to end: real taps, the acceptor and printer emulators
behind the real drivers, the money journal on disk, the sync worker posting to the simulator."""

from __future__ import annotations

from typing import Iterator

import pytest

from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.journey_state import Step
from kiosk.payment_stack import journal_path
from offline_store.journal import MoneyJournal
from app.assembly import Kiosk
from app.controller import KioskApp

from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until

NOTE_TIMEOUT_S = 5


@pytest.fixture
def paying_kiosk(qapp, sim, clock, tmp_path) -> Iterator[Kiosk]:
    """The whole kiosk as a terminal builds it, with the fast emulators of all three devices."""
    whole = started_kiosk(kiosk_config(tmp_path), sim.url, clock)
    controller = whole.controller
    wait_until(lambda: controller.payments is not None and controller.service_level().cash
               and controller.service_level().slip,
               timeout_s=NOTE_TIMEOUT_S, what="payments ready with acceptor and printer online")
    yield whole
    close_kiosk(whole)


def at_overview(kiosk: KioskApp, scenario: str = "electricity_arrears") -> None:
    utility_id, number = DEMO_ACCOUNTS[scenario]
    tap(kiosk.window.home.inquiry)
    tap(kiosk.window.utility.tiles[utility_id])
    for digit in number:
        tap(kiosk.window.account_entry.keypad.keys[digit])
    tap(kiosk.window.account_entry.submit)
    wait_until(lambda: kiosk.journey.state.step is Step.OVERVIEW, what="the overview")


def cash_in(kiosk: KioskApp) -> None:
    tap(kiosk.window.overview.pay)
    assert kiosk.journey.state.step is Step.PAY_NOTICE
    tap(kiosk.window.pay_notice.start)
    wait_until(lambda: kiosk.journey.state.payment.transaction_no != "", what="the payment to be opened")


def insert(whole: Kiosk, *notes_yuan: int) -> None:
    kiosk = whole.controller
    before = kiosk.journey.state.payment.paid_fen
    for yuan in notes_yuan:
        whole.devices.emulators.acceptor.insert_note(yuan)
    wait_until(lambda: kiosk.journey.state.payment.paid_fen == before + 100 * sum(notes_yuan),
               timeout_s=NOTE_TIMEOUT_S, what=f"notes {notes_yuan} to be credited")


def test_a_cash_payment_is_journaled_posted_once_and_printed(paying_kiosk, sim, tmp_path):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    due = kiosk.journey.state.account.arrears_fen
    cash_in(kiosk)
    txn = kiosk.journey.state.payment.transaction_no

    insert(whole, 100, 100, 50)
    assert kiosk.window.cash_in.finish.isEnabled()
    tap(kiosk.window.cash_in.finish)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")

    payment = kiosk.journey.state.payment
    assert payment.outcome == "posted" and payment.slip_printed and payment.receipt_no
    assert payment.credited_to_balance_fen == 25_000 - due
    assert [p["transaction_no"] for p in sim.postings] == [txn]
    assert sim.postings[0]["amount_fen"] == 25_000
    journal = MoneyJournal.open(journal_path(kiosk.config), kiosk.config.storage.key_file, attach_identity=False)
    assert journal.get(txn).state == "posted" and journal.get(txn).note_counts == {5000: 1, 10000: 2}
    printed = whole.devices.emulators.printer.decoded().text
    assert txn in printed and "已入账" in printed


def test_a_note_above_the_cap_is_returned_with_the_reason_on_screen(paying_kiosk):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk, "water_paid_up")  # nothing owed: the cap is the prepay allowance
    cash_in(kiosk)
    cap = kiosk.journey.state.payment.cap_fen

    insert(whole, *([100] * (cap // 10_000)))
    whole.devices.emulators.acceptor.insert_note(100)
    wait_until(lambda: kiosk.journey.state.payment.returned_reason == "cash.note_over_cap", timeout_s=NOTE_TIMEOUT_S,
               what="the over-cap note to come back")
    assert kiosk.journey.state.payment.paid_fen == cap
    wait_until(lambda: whole.devices.emulators.acceptor.counters.returned[100] == 1, timeout_s=NOTE_TIMEOUT_S,
               what="the note back in the customer's hand")
    assert kiosk.window.cash_in.returned.isVisible()


def test_cancel_with_nothing_paid_goes_back_to_the_account_and_posts_nothing(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)

    tap(kiosk.window.cash_in.cancel)

    wait_until(lambda: kiosk.journey.state.step is Step.OVERVIEW, what="back to the account")
    assert sim.postings == []


def test_cancel_after_a_note_says_it_pays_and_asks_to_confirm_with_the_amount(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    insert(whole, 20)
    screen = kiosk.window.cash_in
    assert screen.kept.isVisible()
    assert screen.cancel.text() == "按已投入金额缴费"

    tap(screen.cancel)

    assert screen.confirm.isVisible() and not screen.buttons.isVisible()
    assert "¥20.00" in screen.confirm.question.text()
    assert "不会退回" in screen.confirm.facts.text() and "仍欠" in screen.confirm.facts.text()
    assert sim.postings == [] and kiosk.journey.state.step is Step.CASH_IN
    tap(screen.confirm.pay)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
    assert kiosk.journey.state.payment.paid_fen == 2_000
    assert [p["amount_fen"] for p in sim.postings] == [2_000]


def test_a_part_payment_is_confirmed_first_and_put_in_more_goes_back_to_the_notes(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    screen = kiosk.window.cash_in
    assert not screen.finish.isEnabled() and screen.finish_hint.text()  # says to put a note in first
    insert(whole, 20)

    tap(screen.finish)
    assert screen.confirm.isVisible() and "仍欠" in screen.confirm.facts.text()
    tap(screen.confirm.more)

    assert not screen.confirm.isVisible() and screen.buttons.isVisible()
    assert kiosk.journey.state.step is Step.CASH_IN and sim.postings == []
    insert(whole, 100, 100)  # now more than is owed: "Done" pays at once
    tap(screen.finish)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
    assert kiosk.journey.state.payment.paid_fen == 22_000


def test_with_the_billing_system_down_the_money_is_received_and_posted_later_once(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    txn = kiosk.journey.state.payment.transaction_no
    insert(whole, 50)
    sim.inject("http_500", count=1000, path_prefix="/api/v1/payments")

    tap(kiosk.window.cash_in.finish)
    tap(kiosk.window.cash_in.confirm.pay)  # ¥50 is less than is owed: the customer confirms

    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=20, what="the result")
    assert kiosk.journey.state.payment.outcome == "pending"
    assert "将稍后入账" in whole.devices.emulators.printer.decoded().text
    sim.clear_faults()
    kiosk.payments.sync.wake()
    wait_until(lambda: [p["transaction_no"] for p in sim.postings] == [txn], timeout_s=20,
               what="the sync worker to post it")


def test_a_jam_during_cash_in_pays_in_what_was_taken_and_refers_to_the_counter(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    txn = kiosk.journey.state.payment.transaction_no
    insert(whole, 100)

    whole.devices.emulators.acceptor.jam()

    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=25, what="the result after the jam")
    payment = kiosk.journey.state.payment
    assert payment.outcome == "posted" and payment.problem_key == "pay.problem_acceptor"
    paid = kiosk.window.paid
    # One message: posted, but the counter must settle the note inside — no "success" over a fault.
    assert paid.title.text() == "已入账，请到人工窗口确认" and not paid.mark.isVisible()
    assert "没有计入" in paid.problem.text()
    assert "staffed counter" in kiosk.window.paid.advice.text() or "人工服务窗口" in kiosk.window.paid.advice.text()
    assert payment.paid_fen == 10_000
    assert [(p["transaction_no"], p["amount_fen"]) for p in sim.postings] == [(txn, 10_000)]
    slip = whole.devices.emulators.printer.decoded().text
    assert txn in slip and "纸币识别器出现故障" in slip


def test_an_account_closed_before_the_posting_is_referred_to_the_counter_and_kept(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    at_overview(kiosk)
    cash_in(kiosk)
    txn = kiosk.journey.state.payment.transaction_no
    insert(whole, 20)
    sim.close_account(*DEMO_ACCOUNTS["electricity_arrears"])  # at the billing office, meanwhile

    tap(kiosk.window.cash_in.finish)
    tap(kiosk.window.cash_in.confirm.pay)

    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
    payment = kiosk.journey.state.payment
    assert payment.outcome == "referred" and payment.problem_key == "pay.problem_account_rejected"
    assert sim.postings == []
    journal = MoneyJournal.open(journal_path(kiosk.config), kiosk.config.storage.key_file, attach_identity=False)
    assert journal.get(txn).state == "referred" and journal.get(txn).paid_fen == 2_000  # kept for the counter
    assert txn in whole.devices.emulators.printer.decoded().text


def test_home_leads_with_paying_and_the_way_there_says_pay(paying_kiosk):
    kiosk = paying_kiosk.controller
    home = kiosk.window.home
    assert home.pay.isVisible() and home.pay.x() < home.inquiry.x()  # the machine's main job comes first

    tap(home.pay)

    assert kiosk.journey.state.step is Step.UTILITY and kiosk.journey.state.to_pay
    assert "缴费" in kiosk.window.utility.title.text()


def test_with_the_printer_out_of_paper_the_result_shows_the_transaction_as_a_qr_code(paying_kiosk, sim):
    whole = paying_kiosk
    kiosk = whole.controller
    whole.devices.emulators.printer.set_paper("out")
    wait_until(lambda: not kiosk.service_level().slip, what="the printer reported out of paper")
    at_overview(kiosk)
    cash_in(kiosk)
    txn = kiosk.journey.state.payment.transaction_no
    insert(whole, 100, 100)
    tap(kiosk.window.cash_in.finish)
    wait_until(lambda: kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")

    paid = kiosk.window.paid
    assert not kiosk.journey.state.payment.slip_printed
    assert paid.qr.isVisible() and paid.qr.payload == txn
    assert "二维码" in paid.slip.text() and "请保管好凭条" not in paid.advice.text()


def test_help_is_on_every_screen_and_closing_it_leaves_the_cash_in_as_it_was(paying_kiosk):
    whole = paying_kiosk
    kiosk = whole.controller
    assert kiosk.window.header.help.isVisible()  # on home already
    at_overview(kiosk)
    cash_in(kiosk)
    insert(whole, 20)

    tap(kiosk.window.header.help)

    help_card = kiosk.window.help_overlay
    assert help_card.isVisible() and "95598" in help_card.hotline.text()
    assert help_card.money.isVisible()  # money is in: it is recorded and safe
    tap(help_card.close_button)
    assert not help_card.isVisible()
    assert kiosk.journey.state.step is Step.CASH_IN and kiosk.journey.state.payment.paid_fen == 2_000
