"""Where ``kiosk demo`` puts the kiosk and its device panel on a developer's screen: side by side.

A terminal's screen is the kiosk's alone (1920x1080).  A developer's screen
also holds the device panel, and without a window manager nobody can move
it, so the panel must never lie over the kiosk.  The kiosk keeps its design
size in logical pixels — every screen laid out as on the terminal — and when
the screen is too small for both, Qt scales the whole process
(``QT_SCALE_FACTOR``), so kiosk and panel fit beside each other.  The factor
must be set before Qt starts, so the demo re-executes itself once with it.
"""

from __future__ import annotations

import os
import sys

KIOSK_SIZE = (1920, 1080)  # the terminal's panel, in logical pixels
PANEL_WIDTH = 380  # the device panel's width at scale 1
MARGIN = 8
SCALED_MARKER = "KIOSK_DEMO_SCALED"  # set on the re-executed process: scale once, never loop
UNSCALED_PLATFORMS = ("offscreen", "minimal")  # headless: there is no one to look at it


def scale_for(screen_width: int, screen_height: int) -> float | None:
    """The factor at which kiosk and panel fit side by side on this screen; None when they fit as they are."""
    need_width = KIOSK_SIZE[0] + PANEL_WIDTH + 2 * MARGIN
    factor = min(screen_width / need_width, screen_height / KIOSK_SIZE[1])
    return None if factor >= 1.0 else max(0.4, round(factor - 0.005, 2))


def rescale_if_needed(app) -> None:
    """Re-execute the demo with the scale its screen needs (once); returns when none is needed."""
    if os.environ.get(SCALED_MARKER) or os.environ.get("QT_SCALE_FACTOR") \
            or app.platformName() in UNSCALED_PLATFORMS:
        return
    screen = app.primaryScreen().availableGeometry()
    factor = scale_for(screen.width(), screen.height())
    if factor is None:
        return
    print(f"kiosk demo: the screen is {screen.width()}x{screen.height()}; drawing the kiosk at {factor:g} "
          "so the device panel fits beside it", flush=True)
    env = dict(os.environ, QT_SCALE_FACTOR=str(factor), **{SCALED_MARKER: "1"})
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def place_kiosk(window, screen) -> None:
    """The kiosk at the top left of ``screen`` (its available geometry), at its design size."""
    window.setGeometry(screen.left(), screen.top(), *KIOSK_SIZE)
    window.pin_size(*KIOSK_SIZE)


def place_panel_beside(window, panel) -> None:
    """The panel to the right of the kiosk (placed by :func:`place_kiosk`), on screen."""
    # MainWindow.screen(step) is the kiosk's own method; the display is the window handle's.
    screen = window.windowHandle().screen().availableGeometry()
    panel.setFixedWidth(min(PANEL_WIDTH, max(200, screen.width() - KIOSK_SIZE[0] - 2 * MARGIN)))
    panel.adjustSize()
    left = min(screen.left() + KIOSK_SIZE[0] + MARGIN, screen.right() - panel.width())
    panel.move(left, screen.top() + MARGIN)
    panel.show()
