"""Checks and conversions of the values the journal is given."""

from __future__ import annotations

from datetime import datetime


def check_fen(name: str, value: int, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer number of fen >= {minimum}, got {value!r}")


def iso_with_offset(moment: float | datetime | str) -> str:
    """The contract's time format (docs/api.md, "Conventions"): ISO 8601 with offset."""
    if isinstance(moment, str):
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError(f"paid_at {moment!r} has no UTC offset")
        return moment
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("paid_at must be an aware datetime (with its UTC offset)")
        return moment.isoformat(timespec="seconds")
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")
