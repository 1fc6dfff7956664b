"""``kiosk tour``: drive the real journey through every screen and save PNGs.

The backend is the real simulator on a loopback port; taps are real mouse
clicks on the real buttons; faults are switched on in the simulator the way a
test would; the devices are the emulators behind the real drivers, and their
faults are played on the emulators.  Only time is ours: the idle prompt appears because the tour moves
the journey's clock forward instead of waiting a minute.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.assembly import build_kiosk
from app.tour_hands import ManualClock, tap, wait_until
from app.tour_maintenance import TourMaintenance, give_tour_accounts
from app.tour_top_up import TourTopUp
from kiosk.backend.seed import DEMO_ACCOUNTS
from kiosk.backend.simulator import BackendSimulator
from kiosk.config import KioskConfig, default_config
from kiosk.journey_state import Step
from kiosk.service_level import ServiceLevel
from screens.stylesheet import stylesheet

# The longest a device change takes to reach the screen: the printer is polled
# every 2 s, a silent acceptor is offline after 1 s, a mute card after 2 s.
DEVICE_CHANGE_S = 6.0


class LayoutOverflow(RuntimeError):
    """A screen's content does not fit the kiosk's screen."""


def tour_config(base: KioskConfig | None = None) -> KioskConfig:
    config = base or default_config()
    backend = replace(config.backend, connect_timeout_s=0.5, read_timeout_s=2.0, retries=1, startup_grace_s=0.0)
    return replace(config, backend=backend)


# Called with (state name, language, window, its picture) at every screen saved.
ShotListener = Callable[[str, str, QWidget, QImage], None]


class Tour:
    def __init__(self, out: Path, size: tuple[int, int], on_shot: ShotListener | None = None) -> None:
        self.out = out
        self.on_shot = on_shot
        self.size = size
        self.saved: list[Path] = []
        self._number = 0  # NN: the same state has the same number in every language and mode
        self.elder = False  # the pass in elder mode (长辈模式): every state again, as an elder sees it
        self.sim = BackendSimulator().start()
        self.clock = ManualClock()
        config = tour_config()
        # The devices are the emulators with the real drivers talking to them,
        # as in `make demo`: each device state below is played on an emulator.
        # The money journal lives in a folder of its own for the tour's run.
        self._data = tempfile.TemporaryDirectory(prefix="kiosk-tour-")
        config = replace(config, storage=replace(config.storage, data_dir=self._data.name,
                                                 key_file=os.path.join(self._data.name, "journal.key"),
                                                 backup_dir=os.path.join(self._data.name, "backup")))
        give_tour_accounts(config)  # as an installer sets them at the console, before the kiosk starts
        self.whole = build_kiosk(config, backend_url=self.sim.url, clock=self.clock, realistic_emulators=False)
        self.kiosk, self.devices = self.whole.controller, self.whole.devices
        self.window = self.kiosk.window
        self.window.pin_size(*size)
        self.window.show()
        self.whole.start()
        self._give_voice(config)
        wait_until(lambda: self.kiosk.availability.ever_up, what="the first heartbeat")
        wait_until(lambda: self.kiosk.payments is not None, timeout_s=DEVICE_CHANGE_S, what="payments ready")
        self.expect_services(lambda level: level.cash and level.slip and level.card, "every device online")

    def _give_voice(self, config: KioskConfig) -> None:
        """The screens as on a terminal with speakers: the voice's buttons are shown and every prompt is
        synthesised and played — into a process that reads it, the tour having no one to hear it."""
        from kiosk.voice import VoicePrompts
        from kiosk.voice_link import VoiceLink

        cards = Path(self._data.name) / "sound-cards"
        cards.write_text(" 0 [Tour           ]: the tour's player, which reads what the kiosk says\n")
        player = [sys.executable, "-c", "import sys; sys.stdin.buffer.read()"]
        self.kiosk.voice = VoiceLink(VoicePrompts(Path(self._data.name) / "voice-cache", player_command=player),
                                     config, sound_cards=str(cards))
        self.kiosk.voice.probe()  # False without espeak-ng: the screens then have no voice buttons

    def close(self) -> None:
        self.whole.stop()
        self._data.cleanup()
        self.window.allow_close()
        self.window.close()
        self.sim.stop()

    def expect_services(self, condition: Callable[[ServiceLevel], bool], what: str) -> None:
        # The printer is polled every 2 s and the acceptor is offline after 1 s of silence.
        wait_until(lambda: condition(self.kiosk.service_level()), timeout_s=DEVICE_CHANGE_S, what=what)
        QTest.qWait(50)  # the render that follows the change

    # -- moving around --------------------------------------------------------
    def home(self, lang: str) -> None:
        self.sim.clear_faults()
        self.kiosk.journey.go_home()
        if self.kiosk.lang != lang:
            tap(self.window.header.language_switch)
        if self.elder and not self.kiosk.journey.state.elder:  # each customer starts standard: ask again
            tap(self.window.header.elder)

    def to_account_entry(self, lang: str, utility_id: str) -> None:
        self.home(lang)
        tap(self.window.home.inquiry)
        tap(self.window.utility.tiles[utility_id])

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            tap(self.window.account_entry.keypad.keys[digit])

    def look_up(self, lang: str, scenario: str, expect: Step) -> None:
        utility_id, number = DEMO_ACCOUNTS[scenario]
        self.to_account_entry(lang, utility_id)
        self.type_digits(number)
        tap(self.window.account_entry.submit)
        wait_until(lambda: self.kiosk.journey.state.step is expect, what=f"{scenario} to reach {expect.value}")

    def look_up_during_fault(self, lang: str, fault: str) -> None:
        """A good account number while the billing system has ``fault``."""
        utility_id, number = DEMO_ACCOUNTS["electricity_arrears"]
        self.to_account_entry(lang, utility_id)
        self.sim.inject(fault, path_prefix="/api/v1/accounts")
        self.type_digits(number)
        tap(self.window.account_entry.submit)
        wait_until(lambda: self.kiosk.journey.state.step is Step.FAILED, what=f"the lookup to fail ({fault})")

    def shoot(self, name: str, lang: str) -> None:
        QTest.qWait(30)  # let layouts settle and the spinner draw
        needs = self.window.minimumSizeHint()
        if needs.width() > self.size[0] or needs.height() > self.size[1]:
            # The window is pinned to the panel: content that does not fit would
            # be squeezed over itself (on the kiosk: the bottom row cut off).
            raise LayoutOverflow(
                f"tour: {name} ({lang}) needs {needs.width()}x{needs.height()}, "
                f"more than the {self.size[0]}x{self.size[1]} screen"
            )
        if self.kiosk.journey.state.elder != self.elder:
            raise RuntimeError(f"tour: {name} ({lang}) was to be shown in {'elder' if self.elder else 'standard'} "
                               "mode, and is not")
        name = f"elder-{name}" if self.elder else name
        self._number += 1
        path = self.out / f"{self._number:02d}-{name}-{lang}.png"
        picture = self.window.grab()
        if not picture.save(str(path)):
            raise OSError(f"tour: could not write {path}")
        self.saved.append(path)
        if self.on_shot is not None:
            self.on_shot(name, lang, self.window, picture.toImage())

    # -- the states ---------------------------------------------------------------
    def visit_all(self, lang: str, *, elder: bool = False) -> None:
        self._number = 0
        self.elder = elder
        self.home(lang)
        # Nothing left over from the last language's faults on the first picture.
        self.expect_services(lambda level: level.in_service and level.cash and level.slip and level.card,
                             "every device online and the sign down")
        self.shoot("home", lang)
        tap(self.window.home.inquiry)
        self.shoot("utility-choose", lang)
        tap(self.window.utility.tiles["electricity"])
        self.shoot("account-empty", lang)
        self.type_digits("320123")
        self.shoot("account-typing", lang)
        self.type_digits("4560")  # ten digits, wrong check digit
        self.shoot("account-invalid-check-digit", lang)

        utility_id, number = DEMO_ACCOUNTS["electricity_arrears"]
        self.to_account_entry(lang, utility_id)
        self.sim.inject("delay", seconds=1.5, path_prefix="/api/v1/accounts")
        self.type_digits(number)
        tap(self.window.account_entry.submit)
        QTest.qWait(1100)
        self.shoot("lookup-in-progress", lang)
        wait_until(lambda: self.kiosk.journey.state.step is Step.OVERVIEW, what="the delayed lookup")
        self.shoot("overview-arrears", lang)

        self.look_up(lang, "water_paid_up", Step.OVERVIEW)
        self.shoot("overview-nothing-owed", lang)
        self.look_up(lang, "gas_arrears", Step.OVERVIEW)
        self.shoot("overview-gas", lang)
        self.look_up(lang, "electricity_unknown", Step.FAILED)
        self.shoot("failed-not-found", lang)
        self.look_up(lang, "electricity_closed", Step.FAILED)
        self.shoot("failed-account-closed", lang)

        self.look_up_during_fault(lang, "drop")
        self.shoot("failed-network-down", lang)
        self.look_up_during_fault(lang, "http_500")
        self.shoot("failed-backend-error", lang)

        self.to_account_entry(lang, "water")
        self.type_digits("1234")
        for idle_s in (self.kiosk.journey.waited_s(self.kiosk.config.idle.prompt_after_s) + 1, 5):  # prompt, counting
            self.clock.advance(idle_s)
            self.kiosk.journey.tick()
        self.shoot("idle-prompt", lang)
        self.visit_payment_states(lang)
        self.visit_device_states(lang)
        TourTopUp(self).visit(lang)
        if not elder:  # staff screens have no elder mode
            TourMaintenance(self).visit(lang)
        self.home(lang)
        self.sim.inject("drop", path_prefix="/api/v1/terminals")
        # Asked again until one is sent after the fault (one already under way may still get through).
        wait_until(lambda: self.kiosk.heartbeat() or self.window.showing_out_of_order, what="the out-of-order sign")
        self.shoot("out-of-order", lang)
        self.sim.clear_faults()
        self.kiosk.heartbeat()
        wait_until(lambda: not self.window.showing_out_of_order, what="the sign to come down")

    # -- paying ------------------------------------------------------------------
    def insert(self, *notes_yuan: int) -> None:
        """Notes fed into the acceptor emulator, once each is credited on screen."""
        before = self.kiosk.journey.state.payment.paid_fen
        for yuan in notes_yuan:
            self.devices.emulators.acceptor.insert_note(yuan)
        wait_until(lambda: self.kiosk.journey.state.payment.paid_fen == before + 100 * sum(notes_yuan),
                   timeout_s=DEVICE_CHANGE_S, what=f"notes {notes_yuan} credited")

    def to_cash_in(self, lang: str, *, notice: str = "") -> None:
        """From the overview to the cash-in; ``notice``: the name to save the notice under."""
        self.sim.restore_accounts()  # the same bill is owed in every visit
        self.look_up(lang, "electricity_arrears", Step.OVERVIEW)
        tap(self.window.overview.pay)
        if notice:
            self.shoot(notice, lang)
        tap(self.window.pay_notice.start)
        wait_until(lambda: self.kiosk.journey.state.payment.transaction_no, what="the payment opened")

    def pay_and_wait(self, what: str, timeout_s: float = 20) -> None:
        """"Done", confirmed when the screen asks (less than is owed), then the result."""
        tap(self.window.cash_in.finish)
        if self.window.cash_in.confirm.isVisible():
            tap(self.window.cash_in.confirm.pay)
        wait_until(lambda: self.kiosk.journey.state.step is Step.PAID, timeout_s=timeout_s, what=what)

    def visit_payment_states(self, lang: str) -> None:
        """A cash payment: the notice, notes going in, the confirmation, paying, posted."""
        self.to_cash_in(lang, notice="pay-notice")
        self.insert(100)
        tap(self.window.cash_in.cancel)  # money in: "Pay with what I put in" asks first
        self.shoot("cash-in-confirm", lang)
        tap(self.window.cash_in.confirm.more)
        self.insert(100)
        self.shoot("cash-in", lang)
        tap(self.window.header.help)  # money in: help says it is recorded, and closing it changes nothing
        self.shoot("help-during-cash-in", lang)
        tap(self.window.help_overlay.close_button)
        self.clock.advance(self.kiosk.journey.waited_s(self.kiosk.config.payment.cash_in_prompt_after_s) + 1)
        self.kiosk.journey.tick()
        self.shoot("cash-in-idle-prompt", lang)
        tap(self.window.idle_prompt.continue_button)
        self.insert(50)  # now above the amount due: the rest goes to the balance
        self.sim.inject("delay", seconds=1.5, path_prefix="/api/v1/payments")
        tap(self.window.cash_in.finish)
        wait_until(lambda: self.kiosk.journey.state.step is Step.PAYING, what="paying")
        QTest.qWait(300)
        self.shoot("paying", lang)
        wait_until(lambda: self.kiosk.journey.state.step is Step.PAID, timeout_s=15, what="the result")
        self.shoot("paid-posted", lang)
        tap(self.window.paid.done)
        self.visit_payment_outcomes(lang)

    def visit_payment_outcomes(self, lang: str) -> None:
        """Pending, referred, a jam with a note taken, a part payment without a slip."""
        self.to_cash_in(lang)
        self.insert(100)
        self.sim.inject("http_500", path_prefix="/api/v1/payments")
        self.pay_and_wait("the pending result")
        self.shoot("paid-pending", lang)
        self.sim.clear_faults()
        tap(self.window.paid.done)

        self.to_cash_in(lang)  # the account is closed at the billing office meanwhile: referred
        self.insert(20)
        self.sim.close_account(*DEMO_ACCOUNTS["electricity_arrears"])
        self.pay_and_wait("the referred result")
        self.shoot("paid-referred", lang)
        tap(self.window.paid.done)

        acceptor = self.devices.emulators.acceptor
        self.to_cash_in(lang)  # the acceptor jams with a note taken: paid in, sent to the counter
        self.insert(50)
        acceptor.jam()
        wait_until(lambda: self.kiosk.journey.state.step is Step.PAID, timeout_s=25, what="the result after a jam")
        self.shoot("paid-acceptor-failed", lang)
        acceptor.clear_jam()
        self.expect_services(lambda level: level.in_service and level.cash, "the jam cleared")
        tap(self.window.paid.done)
        self.visit_no_slip(lang)

    def visit_no_slip(self, lang: str) -> None:
        """Paper out: the notice says so, and the result shows the transaction as a QR code."""
        printer = self.devices.emulators.printer
        printer.set_paper("out")
        self.expect_services(lambda level: not level.slip, "paper out to be seen")
        self.to_cash_in(lang, notice="pay-notice-no-slip")
        self.insert(100)  # a part payment: what is still owed is on the result
        self.pay_and_wait("the result without a slip")
        self.shoot("paid-no-slip-part-payment", lang)
        tap(self.window.paid.done)
        self.look_up(lang, "electricity_arrears", Step.OVERVIEW)  # the same account again: its bill reads part paid
        self.shoot("overview-part-paid", lang)
        self.home(lang)
        printer.set_paper("ok")
        self.expect_services(lambda level: level.slip, "paper back")

    def visit_device_states(self, lang: str) -> None:
        """What the customer sees as devices fail and come back, each played on its emulator."""
        acceptor = self.devices.emulators.acceptor
        printer = self.devices.emulators.printer
        reader = self.devices.emulators.card_reader

        self.home(lang)
        tap(self.window.home.card)
        self.shoot("card-insert", lang)
        reader.insert(TourTopUp(self).card)  # a prepaid card: its own overview, then its bill
        wait_until(lambda: self.kiosk.journey.state.step is Step.CARD_OVERVIEW, what="the card's overview")
        tap(self.window.card_overview.bill)
        wait_until(lambda: self.kiosk.journey.state.step is Step.OVERVIEW, what="the overview of the card's account")
        self.shoot("overview-by-card", lang)
        reader.remove()
        self.home(lang)
        tap(self.window.home.card)
        reader.mute(True)
        reader.insert()
        wait_until(lambda: self.kiosk.journey.state.step is Step.FAILED, what="the mute card to be given up")
        self.shoot("card-unreadable", lang)
        reader.remove()
        reader.mute(False)

        self.home(lang)
        printer.set_paper("out")
        self.expect_services(lambda level: not level.slip, "paper out to be seen")
        self.shoot("home-no-slip", lang)
        printer.set_paper("ok")
        acceptor.unplug()
        self.expect_services(lambda level: level.slip and not level.cash, "the acceptor to go offline")
        self.shoot("home-inquiry-only", lang)
        acceptor.replug()
        reader.unplug()
        self.expect_services(lambda level: level.cash and not level.card, "the card reader to go")
        self.shoot("home-no-card-reader", lang)
        reader.plug()
        self.expect_services(lambda level: level.cash and level.slip and level.card, "every device back")

        acceptor.jam()
        self.expect_services(lambda level: not level.in_service, "the sign for a jammed note")
        self.shoot("out-of-order-note-jam", lang)
        acceptor.clear_jam()
        self.expect_services(lambda level: level.in_service and level.cash, "the jam cleared")
        acceptor.stacker_open(True)
        self.expect_services(lambda level: not level.in_service, "the sign for a removed cash box")
        self.shoot("out-of-order-cash-box-removed", lang)
        acceptor.stacker_open(False)
        self.expect_services(lambda level: level.in_service and level.cash, "the cash box back")

        acceptor.unplug()
        printer.disconnect()
        reader.unplug()
        self.expect_services(lambda level: not level.in_service, "the sign with no device working")
        self.shoot("out-of-order-no-device", lang)
        acceptor.replug()
        printer.reconnect()
        reader.plug()
        self.expect_services(lambda level: level.cash and level.slip and level.card, "every device back")


def run_tour(out: Path, languages: tuple[str, ...], size: tuple[int, int],
             on_shot: ShotListener | None = None) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["kiosk-tour"])
    app.setStyleSheet(stylesheet())
    tour = Tour(out, size, on_shot)
    try:
        for elder in (False, True):
            for lang in languages:
                tour.visit_all(lang, elder=elder)
    finally:
        tour.close()
    return tour.saved
