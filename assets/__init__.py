"""Static assets installed as the ``kiosk.assets`` package (translations, styles).

Read with :func:`read_text`: a plain file read next to this module, which
costs nothing at start-up (importlib.resources costs ~10 ms to import).
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def read_text(relative_path: str) -> str:
    return (_HERE / relative_path).read_text("utf-8")


def list_files(relative_dir: str) -> list[str]:
    """Names of the files in one asset folder."""
    return sorted(p.name for p in (_HERE / relative_dir).iterdir() if p.is_file())
