"""Tapping through the real window: keypad, lookup, failures, idle, sign."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.journey_state import Step
from harness import tap, wait_until


def enter_number(kiosk, utility: str, number: str) -> None:
    window = kiosk.window
    tap(window.home.inquiry)
    tap(window.utility.tiles[utility])
    for digit in number:
        tap(window.account_entry.keypad.keys[digit])


def look_up(kiosk, scenario: str, expect: Step = Step.OVERVIEW) -> None:
    utility, number = DEMO_ACCOUNTS[scenario]
    enter_number(kiosk, utility, number)
    tap(kiosk.window.account_entry.submit)
    wait_until(lambda: kiosk.journey.state.step is expect, timeout_s=10, what=f"{scenario} → {expect}")


def visible_texts(kiosk) -> str:
    labels = kiosk.window.findChildren(QLabel) + kiosk.window.findChildren(QAbstractButton)
    return "\n".join(w.text() for w in labels)


def all_texts(kiosk) -> str:
    """Every label and button, visible or not: what could leak to the next customer."""
    widgets = kiosk.window.findChildren(QLabel) + kiosk.window.findChildren(QAbstractButton)
    return "\n".join(w.text() for w in widgets)


def test_a_customer_taps_a_number_in_and_sees_the_masked_account(kiosk):
    look_up(kiosk, "electricity_arrears")
    overview = kiosk.window.overview
    account = kiosk.journey.state.account
    number = DEMO_ACCOUNTS["electricity_arrears"][1]
    assert overview.holder[1].text() == account.holder_masked
    assert "*" in overview.holder[1].text()
    assert overview.account_no[1].text() == number[:2] + "****" + number[-4:]
    assert overview.arrears.text().startswith("¥")
    assert len(overview.chart.months) == 12
    assert number not in all_texts(kiosk)


def test_a_wrong_check_digit_is_explained_beside_the_field(kiosk):
    enter_number(kiosk, "electricity", "3201234560")
    status = kiosk.window.account_entry.status.text()
    assert "逐位核对" in status  # what to do, in words a customer uses (no "check digit")
    assert not kiosk.window.account_entry.submit.isEnabled()  # a number known to be wrong is not looked up
    assert kiosk.journey.state.step is Step.ACCOUNT


def test_a_digit_past_the_end_leaves_a_right_number_right(kiosk):
    number = DEMO_ACCOUNTS["electricity_arrears"][1]
    enter_number(kiosk, "electricity", number)
    screen = kiosk.window.account_entry

    tap(screen.keypad.keys["5"])

    assert kiosk.journey.state.digits == number
    assert screen.field.property("invalid") == "false" and screen.status.property("role") == "hint"
    assert "已输满" in screen.status.text() and screen.submit.isEnabled()


def test_an_unknown_number_says_so_and_how_to_fix_it(kiosk):
    look_up(kiosk, "electricity_unknown", Step.FAILED)
    failure = kiosk.window.failure
    number = DEMO_ACCOUNTS["electricity_unknown"][1]
    assert failure.reason.text().replace(" ", "") == "没有找到户号" + number  # to compare with the bill
    assert "核对" in failure.advice.text() and "电费" in failure.advice.text()  # the utility may be the mistake
    assert "ACCOUNT_NOT_FOUND" in failure.code.text()
    assert not failure.retry.isVisible()


def test_a_closed_account_sends_the_customer_to_the_counter(kiosk):
    look_up(kiosk, "electricity_closed", Step.FAILED)
    assert kiosk.window.failure.reason.text() == "该账户已销户"
    assert "人工服务窗口" in kiosk.window.failure.advice.text()


def test_network_down_is_explained_and_can_be_retried(kiosk, sim):
    sim.inject("drop", path_prefix="/api/v1/accounts")
    look_up(kiosk, "water_arrears", Step.FAILED)
    failure = kiosk.window.failure
    assert failure.reason.text() == "暂时无法连接营业系统"
    assert failure.retry.isVisible()
    sim.clear_faults()
    tap(failure.retry)
    wait_until(lambda: kiosk.journey.state.step is Step.OVERVIEW, what="the retried lookup")


def test_the_gui_keeps_running_while_the_backend_is_slow(kiosk, sim):
    sim.inject("delay", seconds=1.5, path_prefix="/api/v1/accounts")
    utility, number = DEMO_ACCOUNTS["gas_arrears"]
    enter_number(kiosk, utility, number)
    ticks: list[float] = []
    timer = QTimer(interval=50, timeout=lambda: ticks.append(time.monotonic()))
    timer.start()
    tap(kiosk.window.account_entry.submit)
    assert kiosk.window.steps.currentWidget() is kiosk.window.lookup_progress
    wait_until(lambda: kiosk.journey.state.step is Step.OVERVIEW, what="the slow lookup")
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) >= 15, "the event loop stalled during the lookup"
    assert max(gaps) < 0.5, f"the GUI thread was blocked for {max(gaps):.2f} s"


def test_cancel_during_a_lookup_returns_to_the_keypad_and_drops_the_reply(kiosk, sim):
    sim.inject("delay", seconds=1.0, path_prefix="/api/v1/accounts")
    utility, number = DEMO_ACCOUNTS["electricity_arrears"]
    enter_number(kiosk, utility, number)
    tap(kiosk.window.account_entry.submit)
    tap(kiosk.window.lookup_progress.cancel)
    assert kiosk.journey.state.step is Step.ACCOUNT
    QTest.qWait(1500)  # the delayed reply arrives meanwhile
    assert kiosk.journey.state.step is Step.ACCOUNT
    assert kiosk.journey.state.account is None


def test_an_idle_customer_is_prompted_then_every_trace_is_wiped(kiosk, clock):
    look_up(kiosk, "electricity_arrears")
    holder = kiosk.journey.state.account.holder_masked
    clock.advance(kiosk.config.idle.prompt_after_s + 1)
    kiosk.journey.tick()
    assert kiosk.window.idle_prompt.isVisible()
    assert "更多时间" in kiosk.window.idle_prompt.question.text()
    clock.advance(kiosk.config.idle.countdown_s + 1)
    kiosk.journey.tick()
    assert kiosk.journey.state.step is Step.HOME
    assert not kiosk.window.idle_prompt.isVisible()
    texts = all_texts(kiosk)
    assert holder not in texts
    assert "****" not in texts
    assert kiosk.window.overview.chart.months == ()


def test_more_time_keeps_the_customer_where_they_were(kiosk, clock):
    enter_number(kiosk, "water", "6012")
    clock.advance(kiosk.config.idle.prompt_after_s + 1)
    kiosk.journey.tick()
    tap(kiosk.window.idle_prompt.continue_button)
    assert not kiosk.window.idle_prompt.isVisible()
    assert kiosk.journey.state.digits == "6012"


def test_the_language_switch_turns_every_step_english_and_the_next_customer_gets_chinese(kiosk):
    tap(kiosk.window.header.language_switch)
    assert kiosk.window.home.title.text() == "Welcome to self-service"
    look_up(kiosk, "water_paid_up")
    assert kiosk.window.overview.arrears_name.text() == "Nothing owed"
    tap(kiosk.window.overview.nav.home)
    assert kiosk.window.home.title.text() == "欢迎使用自助服务终端"


def test_every_button_is_a_big_enough_touch_target_at_1920x1080(kiosk):
    def check_visible_buttons(where: str) -> None:
        for button in kiosk.window.findChildren(QAbstractButton):
            if button.isVisible():
                assert button.width() >= 60 and button.height() >= 60, (
                    f"{where}: {button.text()!r} is {button.width()}x{button.height()}")

    check_visible_buttons("home")
    tap(kiosk.window.home.inquiry)
    check_visible_buttons("utility")
    tap(kiosk.window.utility.tiles["electricity"])
    check_visible_buttons("account")
    tap(kiosk.window.account_entry.nav.home)
    look_up(kiosk, "electricity_unknown", Step.FAILED)
    check_visible_buttons("failure")


def test_the_out_of_order_sign_goes_up_when_the_backend_is_gone_and_down_when_it_returns(kiosk, sim):
    wait_until(lambda: kiosk.availability.ever_up, what="the first heartbeat")
    sim.inject("drop", path_prefix="/api/v1/terminals")
    kiosk.heartbeat()
    wait_until(lambda: kiosk.window.showing_out_of_order, what="the sign")
    sign = kiosk.window.out_of_order
    assert sign.title_zh.text() == "暂停服务" and sign.title_en.text() == "Out of service"
    assert "E-NET-01" in sign.code.text()
    assert kiosk.config.terminal.hotline in sign.text_zh.text()
    sim.clear_faults()
    kiosk.heartbeat()
    wait_until(lambda: not kiosk.window.showing_out_of_order, what="the sign to come down")


def test_esc_and_close_requests_do_not_leave_the_kiosk(kiosk, qapp):
    from screens.main_window import KioskLockdown

    lockdown = KioskLockdown()
    qapp.installEventFilter(lockdown)
    try:
        tap(kiosk.window.home.inquiry)
        QApplication.sendEvent(kiosk.window.utility, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape,
                                                              Qt.KeyboardModifier.NoModifier))
        assert kiosk.journey.state.step is Step.UTILITY
        assert kiosk.window.close() is False
        assert kiosk.window.isVisible()
    finally:
        qapp.removeEventFilter(lockdown)


def test_chinese_has_a_font_that_draws_it(qapp):
    from PySide6.QtGui import QFontDatabase

    families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    assert families, "no font for Simplified Chinese: install fonts-noto-cjk (make setup does)"


def test_the_screens_draw_chinese_in_a_font_with_a_real_bold(qapp):
    """Qt's synthetic bold of a single-weight font fills 量 and 燃 into blocks."""
    from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

    assert "Noto Sans CJK SC" in QFontDatabase.families(), "install fonts-noto-cjk (make setup does)"
    assert QFontDatabase.isSmoothlyScalable("Noto Sans CJK SC", "Bold")
    bold = QFont("Noto Sans CJK SC")
    bold.setBold(True)
    assert QFontInfo(bold).family() == "Noto Sans CJK SC" and QFontInfo(bold).bold()


def test_without_an_acceptor_home_offers_no_pay_tile_and_the_overview_says_where_to_pay(kiosk):
    assert not kiosk.window.home.pay.isVisible()
    look_up(kiosk, "electricity_arrears")
    overview = kiosk.window.overview
    assert not overview.pay.isVisible()
    assert overview.no_pay.isVisible() and "人工窗口" in overview.no_pay.text()


def test_without_cash_the_step_bar_does_not_promise_paying(kiosk):
    look_up(kiosk, "electricity_arrears")
    bar = kiosk.window.step_bar
    assert [label.isVisible() for label in bar.labels] == [True, True, True, False]
    assert "查看账户" in bar.labels[2].text()


def test_elder_mode_is_one_tap_from_home_makes_text_and_targets_larger_and_ends_at_home(kiosk):
    window = kiosk.window
    title_before = window.home.title.font().pixelSize()

    tap(window.header.elder)

    assert window.elder_mode and kiosk.journey.state.elder
    assert window.home.title.font().pixelSize() >= 43  # MIIT: largest text >= 30 pt = 43 px on this panel
    assert window.home.title.font().pixelSize() > title_before
    look_up(kiosk, "electricity_arrears")
    overview = window.overview
    assert min(b.height() for b in (overview.nav.back, overview.nav.home)) >= 96
    assert not overview._chart_card.isVisible()  # fewer things at once
    tap(overview.nav.home)
    assert not window.elder_mode  # the next customer starts in the standard mode


def test_a_language_chosen_at_home_survives_elder_mode_and_help_and_the_next_customer_starts_in_chinese(kiosk):
    tap(kiosk.window.header.language_switch)
    assert kiosk.lang == "en"
    tap(kiosk.window.header.elder)  # a tap at home is the same customer
    tap(kiosk.window.header.help)
    assert kiosk.lang == "en" and kiosk.journey.state.elder
    tap(kiosk.window.help_overlay.close_button)
    tap(kiosk.window.home.inquiry)
    tap(kiosk.window.utility.nav.home)  # the customer leaves
    assert kiosk.lang == "zh" and not kiosk.journey.state.elder
