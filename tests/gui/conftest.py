"""A real kiosk (offscreen, 1920×1080), built as a terminal builds it, on the real backend simulator."""

from __future__ import annotations

from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.backend.simulator import BackendSimulator
from screens.stylesheet import stylesheet

from harness import ManualClock, close_kiosk, kiosk_config, started_kiosk


@pytest.fixture
def sim() -> Iterator[BackendSimulator]:
    with BackendSimulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def inquiry_kiosk(qapp: QApplication, sim: BackendSimulator, clock: ManualClock, tmp_path):
    """A kiosk with no devices fitted: inquiry only (the assembled kiosk, not hand-wired)."""
    qapp.setStyleSheet(stylesheet())
    whole = started_kiosk(kiosk_config(tmp_path, devices="none"), sim.url, clock)
    yield whole
    close_kiosk(whole)


@pytest.fixture
def kiosk(inquiry_kiosk):
    """Its controller, which the inquiry tests drive."""
    return inquiry_kiosk.controller
