"""'Need help?' calls a staff member through the billing system: one tap, one
call, nothing about the customer in it; a failure sends them to the counter."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QCoreApplication
from PySide6.QtTest import QTest

from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.config import HelpConfig, default_config
from kiosk.journey_state import Step
from screens.background import worker_pool

from gui.accessibility import check_window
from gui.test_inquiry_screens import look_up
from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until

ASSISTANCE_PATH = "/api/v1/terminals/KS-0001/assistance"


def open_help_in_english(kiosk):
    """From a customer's step: coming home gives the next customer the hall's language."""
    if kiosk.journey.state.step is Step.HOME:
        tap(kiosk.window.home.inquiry)
    tap(kiosk.window.header.language_switch)
    tap(kiosk.window.header.help)
    return kiosk.window.help_overlay


def accessibility_problems(kiosk, elder: bool = False) -> list[str]:
    # The card's layout settles over a few posted LayoutRequests (label, card,
    # shade); deliver them all before measuring, however loaded the machine is.
    for _ in range(5):
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
    window = kiosk.window
    return [str(v) for v in check_window(window, window.grab().toImage(), elder=elder)]


def test_a_tap_calls_one_staff_member_without_the_account_number(kiosk, sim):
    look_up(kiosk, "electricity_arrears")
    help_card = open_help_in_english(kiosk)
    assert help_card.call_button.isVisible() and help_card.call_button.text() == "Call a staff member"
    assert accessibility_problems(kiosk) == []
    tap(help_card.call_button)
    wait_until(lambda: "on the way" in help_card.call_status.text(), what="the staff member on the way")
    assert "(request A0001)" in help_card.call_status.text()
    assert not help_card.call_button.isEnabled()  # this customer has been called for
    assert accessibility_problems(kiosk) == []
    [call] = sim.assistance_calls
    _, account_no = DEMO_ACCOUNTS["electricity_arrears"]
    assert account_no not in str(call) and call["body"]["step"] == "overview"
    assert kiosk.journey.state.step is Step.OVERVIEW  # the step underneath is as it was


def test_a_failed_call_sends_the_customer_to_the_counter_and_may_be_tried_again(kiosk, sim):
    sim.inject("http_500", path_prefix=ASSISTANCE_PATH)
    help_card = open_help_in_english(kiosk)
    tap(help_card.call_button)
    wait_until(lambda: "Could not call" in help_card.call_status.text(), what="the failure")
    text = help_card.call_status.text()
    assert "a staffed counter" in text and "95598" in text
    assert "INTERNAL_ERROR" not in text and "500" not in text  # never a raw code
    assert accessibility_problems(kiosk) == []
    sim.clear_faults()
    tap(help_card.call_button)
    wait_until(lambda: "on the way" in help_card.call_status.text(), what="the second try")
    assert len(sim.assistance_calls) == 1


def test_the_next_customer_may_call_again_and_a_late_answer_is_dropped(kiosk, sim):
    look_up(kiosk, "water_arrears")
    sim.inject("delay", seconds=0.5, path_prefix=ASSISTANCE_PATH)
    help_card = open_help_in_english(kiosk)
    tap(help_card.call_button)
    assert help_card.call_status.text().startswith("Calling")
    tap(help_card.close_button)
    tap(kiosk.window.overview.nav.home)  # the customer leaves before the answer
    wait_until(lambda: len(sim.assistance_calls) == 1 and worker_pool().activeThreadCount() == 0,
               what="the late answer")
    QTest.qWait(30)  # its delivery to the GUI thread
    tap(kiosk.window.header.help)
    assert help_card.call_button.isEnabled() and not help_card.call_status.isVisible()
    tap(help_card.call_button)
    wait_until(lambda: len(sim.assistance_calls) == 2, what="the next customer's call")


def test_in_elder_mode_the_call_and_its_answer_are_large_enough(kiosk, sim):
    tap(kiosk.window.header.elder)
    help_card = open_help_in_english(kiosk)
    tap(help_card.call_button)
    wait_until(lambda: "on the way" in help_card.call_status.text(), what="the staff member on the way")
    assert accessibility_problems(kiosk, elder=True) == []


def test_with_call_staff_off_the_help_card_offers_no_button(qapp, sim, clock, tmp_path):
    config = replace(default_config(), help=HelpConfig(call_staff=False))
    whole = started_kiosk(kiosk_config(tmp_path, devices="none", base=config), sim.url, clock)
    try:
        tap(whole.window.header.help)
        help_card = whole.window.help_overlay
        assert help_card.isVisible() and help_card.close_button.isVisible()
        assert not help_card.call_button.isVisible() and not help_card.call_status.isVisible()
        assert sim.assistance_calls == []
    finally:
        close_kiosk(whole)
