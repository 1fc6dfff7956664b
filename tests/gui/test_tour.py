"""`kiosk tour` saves every screen, in both languages, at the kiosk's size."""

from __future__ import annotations

from PySide6.QtGui import QImage

from gui.accessibility import Extremes, check_window
from app.tour import run_tour

STATES = (
    "home", "utility-choose", "account-empty", "account-typing", "account-invalid-check-digit",
    "lookup-in-progress", "overview-arrears", "overview-nothing-owed", "overview-gas", "failed-not-found",
    "failed-account-closed", "failed-network-down", "failed-backend-error", "idle-prompt",
    "pay-notice", "cash-in-confirm", "cash-in", "help-during-cash-in", "cash-in-idle-prompt", "paying",
    "paid-posted", "paid-pending", "paid-referred", "paid-acceptor-failed", "pay-notice-no-slip",
    "paid-no-slip-part-payment", "overview-part-paid",
    "card-insert", "overview-by-card", "card-unreadable", "home-no-slip", "home-inquiry-only", "home-no-card-reader",
    "out-of-order-note-jam", "out-of-order-cash-box-removed", "out-of-order-no-device",
    # A prepaid card's top-up (app/tour_top_up.py).
    "top-up-card-overview", "top-up-amount", "top-up-amount-refused", "top-up-cash-in", "top-up-writing",
    "top-up-written", "top-up-card-pulled", "top-up-wrong-card", "top-up-rewrite-offered", "top-up-rewritten",
    "top-up-billing-down", "top-up-card-refused",
    "out-of-order",
)
# The maintenance screen, after the device states, in the standard pass only (staff have no elder mode).
MAINTENANCE = (
    "maint-login", "maint-login-wrong-pin", "maint-login-locked", "maint-device-fault", "maint-device-acceptor-test",
    "maint-device-printer-test", "maint-device-card-read", "maint-repair", "maint-repair-saved", "maint-operations",
    "maint-out-of-service-form", "maint-out-of-service", "out-of-service-sign", "maint-purchases",
    "maint-service-hours", "maint-service-hours-form", "maint-service-hours-closed-today", "closed-sign-today",
    "closed-sign-evening", "maint-collection-difference",
    "maint-collection-note", "maint-collection-recorded", "maint-accounts",
)
STANDARD = STATES[:-1] + MAINTENANCE + STATES[-1:]
# Every customer state again in elder mode (长辈模式).
SHOTS = ([f"{n:02d}-{state}" for n, state in enumerate(STANDARD, 1)]
         + [f"{n:02d}-elder-{state}" for n, state in enumerate(STATES, 1)])


def test_the_tour_saves_every_state_in_both_languages_at_1920x1080_and_every_screen_is_accessible(qapp, tmp_path):
    violations: list[str] = []
    extremes = {False: Extremes(), True: Extremes()}

    def check(name, lang, window, image) -> None:
        elder = name.startswith("elder-")
        violations.extend(f"{name}-{lang}: {v}" for v in check_window(window, image, elder=elder))
        extremes[elder].add(window, image)

    saved = run_tour(tmp_path, ("zh", "en"), (1920, 1080), on_shot=check)
    print(f"standard: {extremes[False]}\nelder mode: {extremes[True]}")
    assert violations == []
    names = sorted(path.name for path in saved)
    expected = sorted(f"{shot}-{lang}.png" for shot in SHOTS for lang in ("zh", "en"))
    assert names == expected
    for path in saved:
        image = QImage(str(path))
        assert (image.width(), image.height()) == (1920, 1080), path.name
