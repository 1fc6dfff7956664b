"""The tour's maintenance pass: the hidden screen as technicians and collectors see it.

Reached as a technician reaches it (five taps on the hall name), with the
accounts an installer sets at the console; every state shown is played for
real (a wrong PIN typed, an account locked by five, the acceptor jammed on its
emulator, notes fed in a device test, a box collected with a difference, a
payment held in the outbox while the billing system fails, a card purchase
whose card was pulled mid-write listed for the technician and then rewritten,
the machine put out of service and back, closed for the day:
``app/tour_service_hours.py``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.tour_hands import tap, wait_until
from kiosk.maintenance_pages import MaintPage

STAFF = {  # name: (role, PIN) — the tour's own accounts, in its own data folder
    "li.wei": ("technician", "258036"),
    "zhao.min": ("collector", "369147"),
    "chen.jie": ("supervisor", "147258"),
    "wang.fang": ("technician", "470381"),  # the one the tour locks
}


def give_tour_accounts(config) -> None:
    from kiosk.maintenance_cli import open_accounts

    accounts = open_accounts(config)
    try:
        for name, (role, pin) in STAFF.items():
            accounts.set_pin(name, role, pin, by="tour")
    finally:
        accounts.store.close()


class TourMaintenance:
    def __init__(self, tour) -> None:
        self.tour = tour
        self.whole = tour.whole
        self.window = tour.window

    @property
    def maintenance(self):
        return self.whole.maintenance

    def settled(self, condition=lambda: True, what: str = "the maintenance screen") -> None:
        wait_until(lambda: not self.maintenance.busy and condition(), timeout_s=20, what=what)
        QTest.qWait(30)

    # -- hands -----------------------------------------------------------------------------
    def open_login(self) -> None:
        spot = self.window.out_of_order.code if self.window.showing_out_of_order else self.window.header.hall_name
        for _ in range(5):
            QTest.mouseClick(spot, Qt.MouseButton.LeftButton)
        self.settled(lambda: self.maintenance.is_open and self.maintenance.pages.login.form is not None,
                     "the login page")

    def type_pin(self, name: str, pin: str) -> None:
        page = self.maintenance.pages.login.widget
        (button,) = [b for b in page.name_buttons if b.isVisible() and b.property("userName") == name]
        tap(button)
        for digit in pin:
            tap(page.keypad.keys[digit])

    def log_in(self, name: str) -> None:
        self.type_pin(name, STAFF[name][1])
        tap(self.maintenance.pages.login.widget.submit)
        self.settled(lambda: self.maintenance.parts.session.user == name and self.maintenance.current is not None,
                     f"{name} logged in")

    def go_to(self, page: MaintPage) -> None:
        tap(self.maintenance.screen.nav_buttons[page])
        self.settled(lambda: self.maintenance.current is page, f"the {page.value} page")

    def log_out(self) -> None:
        tap(self.maintenance.screen.logout)
        self.settled(lambda: not self.maintenance.is_open, "the screen to close")

    def shoot(self, name: str, lang: str) -> None:
        self.maintenance.render()
        self.tour.shoot(f"maint-{name}", lang)

    # -- the states ----------------------------------------------------------------------------
    def visit(self, lang: str) -> None:
        from app.tour_service_hours import TourServiceHours

        self.visit_login(lang)
        self.visit_technician(lang)
        self.visit_purchases(lang)
        TourServiceHours(self).visit(lang)
        self.visit_collection(lang)
        self.visit_supervisor(lang)

    def visit_login(self, lang: str) -> None:
        self.tour.home(lang)
        self.open_login()
        self.maintenance.run(lambda parts: parts.accounts.unlock("wang.fang", by="tour"), lambda _: None)
        self.settled()
        self.maintenance.pages.login.open()  # the names again, without the lock the last pass left
        self.settled()
        self.type_pin("li.wei", STAFF["li.wei"][1][:4])
        self.shoot("login", lang)
        page = self.maintenance.pages.login.widget
        for digit in "11":
            tap(page.keypad.keys[digit])
        tap(page.submit)
        self.settled()
        self.shoot("login-wrong-pin", lang)
        for _ in range(4):
            self.type_pin("wang.fang", "111222")
            tap(page.submit)
            self.settled()
        self.type_pin("wang.fang", "111222")
        tap(page.submit)
        self.settled()
        self.shoot("login-locked", lang)
        tap(page.cancel)
        self.settled(lambda: not self.maintenance.is_open, "the customer side back")

    def visit_technician(self, lang: str) -> None:
        tour = self.tour
        self.open_login()
        self.log_in("li.wei")
        self.visit_devices(lang)
        self.visit_repair(lang)
        self.go_to(MaintPage.OPERATIONS)
        self.shoot("operations", lang)
        page = self.maintenance.pages.current.widget
        tap(page.put_out)
        tap(page.form.chips["device_repair"])
        self.settled()
        self.shoot("out-of-service-form", lang)
        tap(page.form.confirm)
        self.settled(lambda: self.maintenance.parts.switch.state().out, "out of service")
        self.shoot("out-of-service", lang)
        self.log_out()
        wait_until(lambda: self.window.showing_out_of_order, what="the sign of a terminal put out of service")
        tour.shoot("out-of-service-sign", lang)
        self.open_login()
        self.log_in("li.wei")
        self.go_to(MaintPage.OPERATIONS)
        tap(self.maintenance.pages.current.widget.put_back)
        self.settled(lambda: not self.maintenance.parts.switch.state().out, "back in service")
        self.log_out()
        wait_until(lambda: not self.window.showing_out_of_order, what="the sign down")

    def visit_purchases(self, lang: str) -> None:
        """A customer pulls the card while its credit is written and leaves: the technician finds the
        purchase paid and not written on the operations page.  Then the customer is back with the card
        and it is written, so the next language's top-up pass finds a card that may buy."""
        from app.tour_top_up import WRITE_S, TourTopUp
        from kiosk.journey_state import Step
        from screens.maintenance.outbox_table import PURCHASES

        top_up = TourTopUp(self.tour)
        top_up.to_meter()
        top_up.insert_card(lang)
        top_up.to_cash_in(50)
        self.tour.insert(50)
        top_up.reader.pull_on_write()
        top_up.finish()
        self.tour.home(lang)
        self.open_login()
        self.log_in("li.wei")
        self.go_to(MaintPage.OPERATIONS)
        tap(self.maintenance.pages.current.widget.outbox.list_chips[PURCHASES])
        self.shoot("purchases", lang)
        self.log_out()
        top_up.reader.insert(top_up.card)
        top_up.step(Step.CARD_OVERVIEW, "the rewrite offered")
        tap(self.window.card_overview.rewrite)
        top_up.step(Step.TOP_UP_DONE, "the rewrite", WRITE_S)
        top_up.to_meter()
        self.tour.home(lang)

    def visit_devices(self, lang: str) -> None:
        """The acceptor jammed (its fault live and in the archive), then cleared; a test with two notes;
        the printer's test slip; the card read."""
        acceptor = self.whole.devices.emulators.acceptor
        wiring = self.maintenance.pages.current
        page = wiring.widget
        acceptor.jam()
        wait_until(lambda: wiring.view.status is not None and wiring.view.status.reason.startswith("JAM"), timeout_s=6,
                   what="the jam on the device page")
        for _ in range(50):  # the archive writes the fault on its own thread: read again until it is there
            wiring.open()
            self.settled()
            if wiring.view.open_faults:
                break
            QTest.qWait(100)
        self.shoot("device-fault", lang)
        acceptor.clear_jam()
        wait_until(lambda: wiring.view.status is not None and wiring.view.status.state.value == "online",
                   timeout_s=6, what="the acceptor back online")
        tap(page.test_button)
        self.settled(lambda: wiring.view.test.acceptor is not None, "the acceptor test running")
        for yuan in (10, 20):
            acceptor.insert_note(yuan)
        wait_until(lambda: wiring.view.test.acceptor is not None and wiring.view.test.acceptor.count == 2,
                   timeout_s=10, what="two test notes")
        self.settled()
        self.shoot("device-acceptor-test", lang)
        tap(page.stop_button)
        self.settled(lambda: wiring.view.test.state.value != "running", "the test stopped")
        tap(page.chips["printer"])
        self.settled()
        tap(page.test_button)
        self.settled(lambda: wiring.view.test.printer is not None, "the test slip")
        self.shoot("device-printer-test", lang)
        tap(page.chips["card_reader"])
        self.settled()
        self.whole.devices.emulators.card_reader.insert()
        tap(page.test_button)
        self.settled(lambda: wiring.view.test.card is not None, "the card read")
        self.shoot("device-card-read", lang)
        self.whole.devices.emulators.card_reader.remove()

    def visit_repair(self, lang: str) -> None:
        self.go_to(MaintPage.REPAIRS)
        wiring = self.maintenance.pages.current
        page = wiring.widget
        self.settled(lambda: wiring.view is not None and wiring.view.faults_loaded, "the faults to clear")
        tap(page.what_chips[0])
        tap(page.part_chips[0])
        if wiring.view.faults:
            tap(page.fault_chips[0])
        self.shoot("repair", lang)
        tap(page.save)
        self.settled(lambda: wiring.view.saved_id is not None, "the repair recorded")
        self.shoot("repair-saved", lang)

    def visit_collection(self, lang: str) -> None:
        self.open_login()
        self.log_in("zhao.min")
        wiring = self.maintenance.pages.current
        self.settled(lambda: wiring.view is not None, "the collection figures")
        page = wiring.widget
        rows = wiring.view.rows
        for again, row in [(False, row) for row in rows] + [(True, rows[0])]:  # then the first again: one more
            tap(page.table.rows[row.denomination_fen].counted)
            tap(page.count_panel.keypad.keys["clear"])
            for digit in str(row.expected_count + again):
                tap(page.count_panel.keypad.keys[digit])
        self.shoot("collection-difference", lang)
        tap(page.write_note)
        tap(page.note_panel.chips["maint.collection.phrase.recounted"])
        self.shoot("collection-note", lang)
        tap(page.record)
        self.settled(lambda: wiring.view.number, "the collection recorded")
        self.shoot("collection-recorded", lang)
        self.log_out()

    def visit_supervisor(self, lang: str) -> None:
        self.open_login()
        self.log_in("chen.jie")
        self.go_to(MaintPage.ACCOUNTS)
        self.shoot("accounts", lang)
        self.log_out()
