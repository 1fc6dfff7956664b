"""Customer-visible text in Chinese and English.

Every string a customer can see lives in ``assets/i18n/messages.toml`` as one
key with its ``zh`` and ``en`` side by side, so a translator reviews both at
once and a test can prove that nothing is missing or left untranslated.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    from kiosk.assets import read_text

    return tomllib.loads(read_text("i18n/messages.toml"))


@dataclass(frozen=True)
class Translator:
    """Looks up a key in one language; a missing key shows itself, loudly."""

    lang: str

    def __call__(self, key: str, **values: object) -> str:
        entry = catalog().get(key)
        if entry is None or self.lang not in entry:
            # Tests fail on this; on a kiosk a visible key beats a blank label.
            return f"[{key}]"
        text = entry[self.lang]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return self.lang in catalog().get(key, {})


def yuan(fen: int) -> str:
    """Money as customers read it: ¥1,234.50 (negative shown with a minus)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"
