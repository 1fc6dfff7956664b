"""`kiosk demo` puts the kiosk at its design size and the device panel beside it, never over it."""

from __future__ import annotations

import pytest

from app.demo_layout import KIOSK_SIZE, MARGIN, PANEL_WIDTH, scale_for


@pytest.mark.parametrize("screen", [(1920, 1080), (1366, 768), (1280, 800), (1600, 900)])
def test_a_small_screen_is_drawn_at_the_scale_where_both_fit(screen):
    factor = scale_for(*screen)
    assert factor is not None and factor < 1
    assert (KIOSK_SIZE[0] + PANEL_WIDTH + 2 * MARGIN) * factor <= screen[0]
    assert KIOSK_SIZE[1] * factor <= screen[1]


@pytest.mark.parametrize("screen", [(2560, 1440), (3840, 2160)])
def test_a_screen_with_room_for_both_is_not_scaled(screen):
    assert scale_for(*screen) is None
