"""A real kiosk window (offscreen, 1920×1080) on the real backend simulator."""

from __future__ import annotations

from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.backend.simulator import BackendSimulator
from kiosk.runtime import stylesheet
from screens.kiosk_app import KioskApp
from screens.tour import ManualClock, tour_config, wait_until

SCREEN = (1920, 1080)


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def kiosk(qapp: QApplication, sim: BackendSimulator, clock: ManualClock) -> Iterator[KioskApp]:
    qapp.setStyleSheet(stylesheet())
    app = KioskApp(tour_config(), sim.url, clock=clock)
    app.window.resize(*SCREEN)
    app.window.show()
    app.start()
    # tour_config has no start-up grace: the sign is up until the first heartbeat.
    wait_until(lambda: app.availability.ever_up and not app.window.showing_out_of_order,
               what="the first heartbeat")
    yield app
    app.stop()
    app.window.allow_close()
    app.window.close()
    app.window.deleteLater()
