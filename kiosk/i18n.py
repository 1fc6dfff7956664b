"""Customer-visible text in Chinese and English.

Every string a customer can see lives in ``assets/i18n/messages.toml`` as one
key with its ``zh`` and ``en`` side by side, so a translator reviews both at
once and a test can prove that nothing is missing or left untranslated.  A
part with many words of its own keeps them in a file of its own beside it
(``maintenance*.toml``: the staff's screen; ``top_up.toml``, ...); the
catalogue is all the files together, and a key in two files is an error, not
a silent override.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

LANGUAGES = ("zh", "en")


CATALOGUE_FILES = ("messages.toml",)  # then every other *.toml, in name order


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    from kiosk.assets import list_files, read_text

    names = list(CATALOGUE_FILES) + sorted(n for n in list_files("i18n") if n.endswith(".toml")
                                           and n not in CATALOGUE_FILES)
    merged: dict[str, dict[str, str]] = {}
    for name in names:
        part = tomllib.loads(read_text(f"i18n/{name}"))
        if twice := sorted(set(part) & set(merged)):
            raise ValueError(f"assets/i18n/{name}: keys already in another catalogue file: {', '.join(twice)}")
        merged.update(part)
    return merged


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
