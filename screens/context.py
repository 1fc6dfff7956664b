"""What every screen needs to render: the language and the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.service_level import ServiceLevel
from kiosk.config import KioskConfig
from kiosk.i18n import Translator
from kiosk.voice_link import VoiceView


@dataclass(frozen=True)
class RenderContext:
    config: KioskConfig
    tr: Translator
    services: ServiceLevel = ServiceLevel(True)
    voice: VoiceView | None = None  # the voice's controls, when this machine can speak

    @property
    def lang(self) -> str:
        return self.tr.lang

    def utility_name(self, utility_id: str | None) -> str:
        if utility_id is None:
            return ""
        return self.config.utility(utility_id).name(self.lang)

    def unit_name(self, unit: str) -> str:
        """The unit as customers say it: 度 for kWh in Chinese, 立方米 for m³."""
        key = f"unit.{unit}"
        return self.tr(key) if self.tr.has(key) else unit


def set_role(widget: QWidget, role: str, **properties: object) -> QWidget:
    """Style hooks for assets/kiosk.qss; re-polish so a changed property shows."""
    widget.setProperty("role", role)
    for name, value in properties.items():
        widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    return widget


def centered(widget: QWidget) -> QHBoxLayout:
    """A row with ``widget`` in the middle (a spinner, a picture, a lone button)."""
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(widget)
    row.addStretch(1)
    return row
