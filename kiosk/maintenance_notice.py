"""What a maintenance page says after an action: a catalogue key, its values and a tone.

Qt-free forms (login, staff accounts) hold a :class:`Notice`, the page renders
it in the person's language through ``maintMessage`` (its tone is the style's
``tone``: "" for a neutral prompt, "ok", "warning", "error").  Times in a
notice are the terminal's local clock, as the staff member's watch reads it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

TONES = ("", "ok", "warning", "error")


@dataclass(frozen=True)
class Notice:
    key: str
    tone: str = ""
    values: tuple[tuple[str, str | int], ...] = ()

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"notice tone {self.tone!r} is not one of {TONES}")

    def text(self, tr: Callable[..., str]) -> str:
        return tr(self.key, **dict(self.values))


def notice(key: str, tone: str = "", **values: str | int) -> Notice:
    return Notice(key, tone, tuple(sorted(values.items())))


def clock_text(at: float, now: float) -> str:
    """09:15 today, 12-04 09:15 on another day (a lock may run past midnight)."""
    when = datetime.datetime.fromtimestamp(at)
    if when.date() == datetime.datetime.fromtimestamp(now).date():
        return when.strftime("%H:%M")
    return when.strftime("%m-%d %H:%M")
