"""A message for the technician on a maintenance page: a catalogue key, its values, a tone.

The page models (Qt-free) say *which* message; the page widgets say it in the
language the screen is in, so a switch of language never needs the model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    """``tone``: "ok", "error", "warning" or "" (information), as the maintMessage style has them."""

    key: str
    tone: str = ""
    values: tuple[tuple[str, object], ...] = ()

    def text(self, tr) -> str:
        return tr(self.key, **dict(self.values))
