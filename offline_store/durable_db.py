"""One way to open a SQLite file that holds money or maintenance records.

WAL with ``synchronous=FULL``: every commit is on disk when it returns
(DESIGN.md, "Money is written down before it is acknowledged"); foreign keys
on, so a note can never point at a payment that is not there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils


def open_database(path: str | Path) -> sqlite_utils.Database:
    """A connection with the durability every money and maintenance record needs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(connection)
