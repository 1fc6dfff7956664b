"""Run the tour and print every accessibility violation per screen (a work list, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/gui/survey_accessibility.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from accessibility import check_window  # noqa: E402
from app.tour import run_tour  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="a11y-"))
    kinds: Counter = Counter()

    def on_shot(name, lang, window, image) -> None:
        for violation in check_window(window, image, elder=name.startswith("elder-")):
            kinds[violation.kind] += 1
            print(f"{name}-{lang}: {violation}")

    run_tour(out, ("zh", "en"), (1920, 1080), on_shot)
    print("by kind:", dict(kinds))


if __name__ == "__main__":
    main()
