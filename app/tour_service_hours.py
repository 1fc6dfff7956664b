"""The tour's service hours pass: today's hours on the operations page, and the closed sign.

Played for real on the tour's kiosk: the hall's clock is set to a Friday
morning, a technician closes the machine for the day on the operations page,
the closed sign goes up when they log out and lets them back in, they put the
usual hours back, and then the clock is moved past closing time for the sign
a customer meets in the evening.  The tour's kiosk keeps no hours otherwise
(its other states must not depend on when the tour runs), so the keeper is
lent to it for this pass only.
"""

from __future__ import annotations

import datetime

from app.tour_hands import tap, wait_until
from kiosk.maintenance_pages import MaintPage
from kiosk.service_hours import ServiceHoursKeeper

FRIDAY_MORNING = datetime.datetime(2026, 12, 4, 10, 0)
FRIDAY_EVENING = datetime.datetime(2026, 12, 4, 20, 30)


class HallClock:
    def __init__(self, at: datetime.datetime) -> None:
        self.at = at

    def __call__(self) -> datetime.datetime:
        return self.at


class TourServiceHours:
    def __init__(self, hands) -> None:
        """``hands``: the maintenance pass's (app.tour_maintenance.TourMaintenance)."""
        self.hands = hands
        self.tour = hands.tour
        self.window = hands.window
        self.services = hands.whole.controller.services

    def visit(self, lang: str) -> None:
        clock = HallClock(FRIDAY_MORNING)
        lent_over = self.services.hours
        self.services.hours = ServiceHoursKeeper.from_config(self.hands.whole.config,
                                                             self.hands.maintenance.store, clock)
        try:
            self.visit_closed_today(lang)
            clock.at = FRIDAY_EVENING
            wait_until(lambda: self.window.showing_out_of_order, what="the closed sign after closing time")
            self.tour.shoot("closed-sign-evening", lang)
        finally:
            self.services.hours = lent_over
        wait_until(lambda: not self.window.showing_out_of_order, what="the sign down")

    def visit_closed_today(self, lang: str) -> None:
        hands, keeper = self.hands, self.services.hours
        hands.open_login()
        hands.log_in("li.wei")
        hands.go_to(MaintPage.OPERATIONS)
        hands.shoot("service-hours", lang)
        page = hands.maintenance.pages.current.widget
        tap(page.hours_panel.change)
        hands.settled()
        hands.shoot("service-hours-form", lang)
        tap(page.hours_form.closed)
        hands.settled(lambda: keeper.override() is not None, "closed today")
        hands.shoot("service-hours-closed-today", lang)
        hands.log_out()
        wait_until(lambda: self.window.showing_out_of_order, what="the closed sign")
        self.tour.shoot("closed-sign-today", lang)
        hands.open_login()  # on the sign's code line
        hands.log_in("li.wei")
        hands.go_to(MaintPage.OPERATIONS)
        tap(hands.maintenance.pages.current.widget.hours_panel.clear)
        hands.settled(lambda: keeper.override() is None, "the usual hours back")
        hands.log_out()
        wait_until(lambda: not self.window.showing_out_of_order, what="the sign down")
