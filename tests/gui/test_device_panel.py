"""The kiosk with its three devices on emulators, played through the demo's device panel.

Nothing here is faked: each panel button scripts an emulator, the real
drivers see it over a pty, a TCP socket and the PC/SC interface, and the
kiosk's screen changes.  This is what `make demo` runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

import pytest
from PySide6.QtTest import QTest

from contract.card_token import DEMO_CARD_MASTER_KEY, PurseUpdate, WriteToken
from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD
from drivers.pcsc.purse_write import WRONG_MAC, WriteOutcome, write_purse
from drivers.pcsc.reasons import CARD_PULLED
from drivers.status import ACCEPTOR, CARD_READER, PRINTER, SCANNER
from kiosk.journey_state import Step
from offline_store.device_archive import DeviceArchive
from screens.device_panel import DevicePanel
from app.controller import KioskApp

from harness import close_kiosk, kiosk_config, started_kiosk, tap, wait_until

DEVICE_TIMEOUT_S = 5  # the printer polls every 2 s; the card reader every 0.3 s


@pytest.fixture
def archive_path(tmp_path):
    return tmp_path / "data" / "devices.sqlite"  # where the assembled kiosk keeps its archive


@pytest.fixture
def kiosk_and_panel(qapp, sim, clock, tmp_path) -> Iterator[tuple[KioskApp, DevicePanel]]:
    whole = started_kiosk(kiosk_config(tmp_path), sim.url, clock)
    kiosk = whole.controller
    assert whole.devices.wait_started(10)
    panel = DevicePanel(whole.devices, kiosk)
    panel.show()
    wait_until(lambda: kiosk.service_level().in_service and kiosk.service_level().cash
               and kiosk.service_level().slip and kiosk.service_level().card,
               timeout_s=DEVICE_TIMEOUT_S, what="all three devices online")
    yield kiosk, panel
    close_kiosk(whole, panel)


def test_all_three_emulated_devices_come_online_and_the_home_screen_offers_the_card(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel

    assert kiosk.window.home.card.isVisible()
    assert not kiosk.window.home.unavailable.isVisible()
    wait_until(lambda: panel._status_labels[ACCEPTOR].text().startswith("online"), timeout_s=2,
               what="the acceptor to finish initializing")
    wait_until(lambda: panel.offer.text() == "Kiosk offers: inquiry, cash, slip, card, scan", timeout_s=2,
               what="the panel to show what the kiosk offers")


def test_jam_on_the_panel_puts_up_the_sign_and_archives_the_fault_until_it_is_cleared(kiosk_and_panel, archive_path):
    kiosk, panel = kiosk_and_panel

    tap(panel.buttons["jam"])
    wait_until(lambda: kiosk.window.showing_out_of_order, timeout_s=2, what="the out-of-order sign")
    assert "E-ACC-JAM_IN_ACCEPTOR" in kiosk.window.out_of_order.code.text()
    # The panel hears the same driver news on its own slot: it may be a turn of the loop behind.
    wait_until(lambda: "OUT OF ORDER (E-ACC-JAM_IN_ACCEPTOR)" in panel.offer.text(), timeout_s=2,
               what="the panel to say the kiosk is out of order")

    tap(panel.buttons["jam"])
    wait_until(lambda: not kiosk.window.showing_out_of_order, timeout_s=3, what="the sign to come down")
    kiosk.monitor._archive.flush()
    (fault,) = DeviceArchive.at(archive_path).history(ACCEPTOR)
    assert fault.reason == "E-ACC-JAM_IN_ACCEPTOR" and fault.cleared_at is not None


def test_paper_out_on_the_panel_announces_no_slip_and_paper_back_withdraws_it(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    home = kiosk.window.home

    tap(panel.buttons["paper_out"])
    wait_until(lambda: home.unavailable.isVisible(), timeout_s=DEVICE_TIMEOUT_S, what="the no-slip notice")
    assert "凭条" in home.unavailable.text()
    assert not kiosk.service_level().slip and kiosk.service_level().cash

    tap(panel.buttons["paper_ok"])
    wait_until(lambda: not home.unavailable.isVisible(), timeout_s=DEVICE_TIMEOUT_S, what="the notice to go")


def test_pulling_the_reader_cable_hides_the_card_tile_and_plugging_it_back_shows_it(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    home = kiosk.window.home

    tap(panel.buttons["reader_cable"])
    wait_until(lambda: not home.card.isVisible(), timeout_s=DEVICE_TIMEOUT_S, what="the card tile to hide")
    assert kiosk.monitor.statuses[CARD_READER].reason == "READER_UNPLUGGED"

    tap(panel.buttons["reader_cable"])
    wait_until(lambda: home.card.isVisible(), timeout_s=DEVICE_TIMEOUT_S, what="the card tile to come back")


def test_pulling_the_acceptor_cable_leaves_inquiry_only_not_the_sign(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel

    tap(panel.buttons["acceptor_cable"])
    wait_until(lambda: not kiosk.service_level().cash, timeout_s=DEVICE_TIMEOUT_S, what="cash to be withdrawn")
    assert kiosk.service_level().in_service
    assert kiosk.monitor.statuses[ACCEPTOR].state.value == "offline"

    tap(panel.buttons["acceptor_cable"])
    wait_until(lambda: kiosk.service_level().cash, timeout_s=DEVICE_TIMEOUT_S, what="the acceptor to reconnect")


def test_a_card_inserted_on_the_panel_leads_to_its_overview_and_from_there_to_its_bill(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel

    tap(panel.buttons["card_insert"])
    wait_until(lambda: kiosk.journey.state.step is Step.CARD_OVERVIEW, timeout_s=DEVICE_TIMEOUT_S,
               what="the prepaid card's own overview")
    tap(kiosk.window.card_overview.bill)
    wait_until(lambda: kiosk.journey.state.step is Step.OVERVIEW, timeout_s=DEVICE_TIMEOUT_S,
               what="the overview of the card's account")
    assert kiosk.journey.state.by_card
    assert kiosk.journey.state.account.account_no == "3201100017"
    assert kiosk.window.overview.take_card.text() == "离开前请取回您的表卡。"
    bar = kiosk.window.step_bar
    assert "插入表卡" in bar.labels[0].text() and "读取户号" in bar.labels[1].text()  # not "enter the number"


def _inserted_demo_card(panel) -> None:
    tap(panel.buttons["card_insert"])
    wait_until(lambda: panel.devices.card_reader.card is not None, timeout_s=DEVICE_TIMEOUT_S,
               what="the driver to announce the demo card")


def _next_purchase() -> WriteToken:
    """The billing system's token for the demo card's next purchase: 200 yuan, purchase count 4."""
    return WriteToken.issue(DEMO_CARD_MASTER_KEY, PurseUpdate(DEMO_CARD.serial, "DEMO-P-0004", 20000, 4))


def _purse_on(panel) -> tuple[int, int]:
    return card_app.parse_purse(bytes(panel.demo_card.files[card_app.EF_PURSE]))


def test_the_demo_card_takes_the_billing_systems_token(kiosk_and_panel):
    _, panel = kiosk_and_panel
    _inserted_demo_card(panel)

    result = write_purse(panel.devices.card_reader, _next_purchase())

    assert result.outcome is WriteOutcome.WRITTEN, result.detail
    assert _purse_on(panel) == (20000, 4)


def test_pull_during_the_next_write_takes_the_card_out_as_the_write_arrives(kiosk_and_panel):
    _, panel = kiosk_and_panel
    reader = panel.devices.emulators.card_reader
    _inserted_demo_card(panel)

    tap(panel.buttons["card_pull_on_write"])
    result = write_purse(panel.devices.card_reader, _next_purchase())

    assert (result.outcome, result.reason) == (WriteOutcome.UNKNOWN, CARD_PULLED), result.detail
    assert reader.writes_seen == 1 and not reader.card_present
    assert _purse_on(panel) == (5000, 3)  # pulled before the card took it
    assert "› Pull the card during the next write" in panel.log.toPlainText()

    wait_until(lambda: panel.devices.card_reader.card is None, timeout_s=DEVICE_TIMEOUT_S,
               what="the driver to see the card gone")
    _inserted_demo_card(panel)  # the customer puts it back: the write is made up (补写卡)
    assert write_purse(panel.devices.card_reader, _next_purchase()).outcome is WriteOutcome.WRITTEN


def test_fail_verification_spoils_only_the_next_writes_mac(kiosk_and_panel):
    _, panel = kiosk_and_panel
    _inserted_demo_card(panel)

    tap(panel.buttons["card_spoil_mac"])
    refused = write_purse(panel.devices.card_reader, _next_purchase())

    assert (refused.outcome, refused.reason, refused.sw) == (WriteOutcome.REFUSED, WRONG_MAC, 0x6988)
    assert _purse_on(panel) == (5000, 3)
    assert "› Make the next write fail verification" in panel.log.toPlainText()
    assert write_purse(panel.devices.card_reader, _next_purchase()).outcome is WriteOutcome.WRITTEN


def test_a_note_fed_outside_a_payment_is_not_taken(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    emulator = panel.devices.emulators.acceptor

    tap(panel.buttons["note_20"])

    QTest.qWait(500)
    assert emulator.pending_notes == 1 and sum(emulator.counters.stacked.values()) == 0
    assert "NoteCredited" not in panel.log.toPlainText()


def test_a_terminal_without_printer_and_card_reader_offers_no_slip_and_no_card_tile(qapp, sim, clock, tmp_path):
    base = kiosk_config(tmp_path)
    config = replace(base, devices=replace(base.devices, printer="none", card_reader="none", scanner="none"))
    whole = started_kiosk(config, sim.url, clock)
    kiosk = whole.controller
    try:
        assert whole.devices.fitted == (ACCEPTOR,)
        wait_until(lambda: kiosk.service_level().in_service and kiosk.service_level().cash,
                   timeout_s=DEVICE_TIMEOUT_S, what="the acceptor, the journal and the backend")
        level = kiosk.service_level()
        assert not level.slip and not level.card and not level.card_reader_fitted and level.degraded
        assert whole.devices.printer is None and PRINTER not in kiosk.monitor.statuses
    finally:
        close_kiosk(whole)


# --------------------------------------------------------------------------- the scanner


def scanning(kiosk) -> bool:
    return kiosk.service_level().scan


@pytest.mark.parametrize("kind", ["wechat", "alipay", "unionpay"])
def test_a_payment_code_handed_to_the_scanner_is_read_by_its_kind_and_logged_masked(kiosk_and_panel, kind):
    kiosk, panel = kiosk_and_panel
    wait_until(lambda: scanning(kiosk), timeout_s=DEVICE_TIMEOUT_S, what="the scanner online")
    tap(panel.buttons[f"scan_{kind}"])
    wait_until(lambda: f"scanner: CodeRead({kind}, ****" in panel.log.toPlainText(), timeout_s=2,
               what="the code read")
    line = next(line for line in panel.log.toPlainText().splitlines() if "CodeRead" in line)
    assert sum(ch.isdigit() for ch in line) == 4  # only the last four digits are ever written down


def test_a_link_shown_to_the_scanner_is_refused_and_changes_nothing(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    wait_until(lambda: scanning(kiosk), timeout_s=DEVICE_TIMEOUT_S, what="the scanner online")
    tap(panel.buttons["scan_url"])
    wait_until(lambda: "reason=<RefusalReason.URL" in panel.log.toPlainText(), timeout_s=2, what="the refusal")
    assert scanning(kiosk) and "CodeRead" not in panel.log.toPlainText()


def test_garbage_on_the_scanner_line_is_a_scanner_fault_that_leaves_cash_and_the_rest(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    wait_until(lambda: scanning(kiosk) and kiosk.service_level().cash, timeout_s=DEVICE_TIMEOUT_S, what="ready")
    for _ in range(5):  # the driver's limit of garbled lines in a row
        tap(panel.buttons["scan_garbage"])
    wait_until(lambda: panel._status_labels[SCANNER].text() == "hardware_error · LINE_GARBLED", timeout_s=2,
               what="the scanner's fault")
    level = kiosk.service_level()
    assert not level.scan and level.cash and level.slip and level.card and not level.degraded
    assert not kiosk.window.showing_out_of_order
    tap(panel.buttons["scan_wechat"])  # a clean line clears it
    wait_until(lambda: scanning(kiosk), timeout_s=2, what="scanning back")


def test_pulling_the_scanner_cable_stops_scanning_only_and_plugging_it_back_restores_it(kiosk_and_panel):
    kiosk, panel = kiosk_and_panel
    wait_until(lambda: scanning(kiosk) and kiosk.service_level().cash, timeout_s=DEVICE_TIMEOUT_S, what="ready")
    tap(panel.buttons["scanner_cable"])
    wait_until(lambda: not scanning(kiosk), timeout_s=2, what="scanning off")
    assert kiosk.service_level().cash and not kiosk.window.showing_out_of_order
    assert panel.offer.text() == "Kiosk offers: inquiry, cash, slip, card"
    tap(panel.buttons["scanner_cable"])
    wait_until(lambda: scanning(kiosk), timeout_s=8, what="scanning back")


def test_taking_the_card_home_puts_it_into_its_meter_which_loads_the_purchase_and_writes_back(kiosk_and_panel):
    from drivers.pcsc import write_back

    _, panel = kiosk_and_panel
    reader = panel.devices.emulators.card_reader
    _inserted_demo_card(panel)
    assert write_purse(panel.devices.card_reader, _next_purchase()).outcome is WriteOutcome.WRITTEN

    tap(panel.buttons["card_to_meter"])

    assert not reader.card_present  # out of the kiosk, into the meter
    assert (panel.meter.purchase_count, panel.meter.remaining_fen) == (4, DEMO_CARD.balance_fen + 20000)
    report = write_back.parse_write_back(bytes(panel.demo_card.files[write_back.EF_WRITE_BACK]))
    assert report.purchase_count == 4  # what the next purchase's quote will read
    assert "meter: loaded" in panel.log.toPlainText()
