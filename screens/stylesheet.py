"""The kiosk's Qt stylesheet (assets/kiosk.qss), one string for the whole application."""

from __future__ import annotations


def stylesheet() -> str:
    """The customer screens' rules, then the maintenance screen's (its own object names only)."""
    from kiosk.assets import read_text

    return read_text("kiosk.qss") + "\n" + read_text("maintenance.qss")


def elder_stylesheet() -> str:
    """Elder mode's larger type, targets and stronger colours, laid over the kiosk's."""
    from kiosk.assets import read_text

    return read_text("kiosk-elder.qss")
