"""What the kiosk must know of the journal file before its window is up: sqlite3 only.

Start-up checks the key against the journal before anything is drawn (no key,
no start); loading the whole journal module (sqlite-utils) there would cost
the home screen ~90 ms, so the look at the file lives here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def holds_personal_data(conn: sqlite3.Connection) -> bool:
    sealed = ["account_no_enc", "holder_enc", "address_enc"]
    if any(row[1] == "error_message_enc" for row in conn.execute("PRAGMA table_info(payments)")):
        sealed.append("error_message_enc")  # schema v4 and later
    where = " OR ".join(f"{column} IS NOT NULL" for column in sealed)
    if conn.execute(f"SELECT 1 FROM payments WHERE {where} LIMIT 1").fetchone() is not None:
        return True
    # Schema v7: a mobile order seals its account number too, and may be the only sealed data.
    has_orders = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mobile_orders'").fetchone()
    return bool(has_orders) and conn.execute(
        "SELECT 1 FROM mobile_orders WHERE account_no_enc IS NOT NULL LIMIT 1").fetchone() is not None


def file_holds_personal_data(path: str | Path) -> bool:
    """Whether the journal file at ``path`` holds encrypted personal data (read-only look)."""
    path = Path(path)
    if not path.exists():
        return False
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payments'").fetchone()
        return bool(exists) and holds_personal_data(connection)
    finally:
        connection.close()
