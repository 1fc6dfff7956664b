"""The kiosk's configuration: load ``config.toml`` into the frozen :class:`KioskConfig`.

A technician edits ``config.toml`` on the terminal with a plain text editor.  A
misspelled key must not quietly fall back to its default (nobody would notice
until a customer did), and one restart should show every mistake, not the first.
So every key is declared once in the schema, with its type, range or choices
and any extra check; a walker validates each table against it and collects
*all* problems; only a clean document is turned into the frozen dataclasses
the rest of the kiosk reads.  No input, however malformed, raises anything but
:class:`ConfigError`.  :func:`load_config_for_run` (``kiosk run`` and
``kiosk check-config``) also checks what the kiosk will need on disk, so a
file check-config passes does not stop ``kiosk run`` at start.

This module is the entry: it loads and builds, and re-exports the names other
code imports, so ``from kiosk.config import X`` stays the one import path.
Each step is a sibling module with one job:

- :mod:`kiosk.config_types` — the frozen dataclasses and :class:`ConfigError`;
- :mod:`kiosk.config_schema` — every key with its type, default and checks;
- :mod:`kiosk.config_quoting` — how messages quote the value found;
- :mod:`kiosk.config_toml` — reading the file and parsing TOML;
- :mod:`kiosk.config_validation` — walking the document, collecting problems;
- :mod:`kiosk.config_disk` — what ``kiosk run`` needs on disk.

Sibling modules, not a ``kiosk/config/`` package: pyproject.toml lists the
installed packages by name, so a new package would be missing from the
installed kiosk (the .deb) until that list changed too, while siblings ship
as part of ``kiosk`` already.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any

from kiosk.config_disk import run_path_problems
from kiosk.config_schema import (
    CNY_NOTES_YUAN,
    DEFAULT_UTILITIES,
    LANGUAGES,
    LOG_LEVELS,
    SECTIONS,
    UTILITY_FIELDS,
    UTILITY_IDS,
    Field,
    Kind,
)
from kiosk.config_toml import read_toml
from kiosk.config_types import (
    EMBEDDED_SOURCE,
    WEEKDAYS,
    BackendConfig,
    ConfigError,
    ConfigProblem,
    DevicesConfig,
    HelpConfig,
    IdleConfig,
    KioskConfig,
    LoggingConfig,
    MaintenanceConfig,
    PaymentConfig,
    ServiceHours,
    StorageConfig,
    TerminalConfig,
    UiConfig,
    UtilityConfig,
    VoiceConfig,
)
from kiosk.config_validation import walk_document

__all__ = [
    "CNY_NOTES_YUAN", "DEFAULT_UTILITIES", "EMBEDDED_SOURCE", "LANGUAGES", "LOG_LEVELS", "SECTIONS",
    "UTILITY_FIELDS", "UTILITY_IDS", "WEEKDAYS",
    "BackendConfig", "ConfigError", "ConfigProblem", "DevicesConfig", "Field", "HelpConfig", "IdleConfig",
    "Kind", "KioskConfig", "LoggingConfig", "MaintenanceConfig", "PaymentConfig", "ServiceHours", "StorageConfig", "TerminalConfig",
    "UiConfig", "UtilityConfig", "VoiceConfig",
    "default_config", "load_config", "load_config_for_run",
]


def _converted(fields: tuple[Field, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values in the types the dataclasses promise: floats for numbers, tuples for lists."""
    kinds = {f.name: f.kind for f in fields}
    return {
        name: float(value) if kinds[name] is Kind.NUMBER
        else tuple(value) if kinds[name] in (Kind.STRINGS, Kind.INTEGERS) else value
        for name, value in values.items()
    }


def _build(source: str, values: Mapping[str, Any]) -> KioskConfig:
    section = {name: _converted(fields, values[name]) for name, fields in SECTIONS.items()}
    hours = section["service_hours"]
    return KioskConfig(
        source=source,
        terminal=TerminalConfig(**section["terminal"]),
        service_hours=ServiceHours(
            open=datetime.time.fromisoformat(hours["open"]),
            close=datetime.time.fromisoformat(hours["close"]),
            days=hours["days"],
        ),
        idle=IdleConfig(**section["idle"]),
        help=HelpConfig(**section["help"]),
        voice=VoiceConfig(**section["voice"]),
        maintenance=MaintenanceConfig(**section["maintenance"]),
        backend=BackendConfig(**section["backend"]),
        devices=DevicesConfig(**section["devices"]),
        ui=UiConfig(**section["ui"]),
        payment=PaymentConfig(**section["payment"]),
        storage=StorageConfig(**section["storage"]),
        logging=LoggingConfig(**section["logging"]),
        utilities=tuple(UtilityConfig(**_converted(UTILITY_FIELDS, u)) for u in values["utilities"]),
    )


def default_config() -> KioskConfig:
    """The embedded defaults: what an empty config.toml gives."""
    values, problems = walk_document({})
    if problems:  # a broken schema default; tests keep this from shipping
        raise ConfigError(EMBEDDED_SOURCE, problems)
    return _build(EMBEDDED_SOURCE, values)


def load_config(path: str | os.PathLike[str] | None) -> KioskConfig:
    """Read and check a configuration file; None gives the embedded defaults.

    A file may set only some keys; the rest take their defaults.  If it has
    ``[[utilities]]`` tables they replace the default list.  Raises
    :class:`ConfigError` with every problem found.
    """
    if path is None:
        return default_config()
    source = os.fspath(path)
    return _checked(source, read_toml(source), run_paths=False)


def load_config_for_run(path: str | os.PathLike[str] | None) -> KioskConfig:
    """:func:`load_config`, and whether ``kiosk run`` will find what it needs on disk.

    What ``kiosk run`` and ``kiosk check-config`` load, so a file check-config
    passes does not stop the kiosk at start: the directories it writes in can
    be created and written, the files it reads can be read
    (:func:`kiosk.config_disk.run_path_problems`).  Nothing is created here.
    """
    if path is None:
        return _checked(EMBEDDED_SOURCE, {}, run_paths=True)
    source = os.fspath(path)
    return _checked(source, read_toml(source), run_paths=True)


def _checked(source: str, doc: Mapping[str, Any], run_paths: bool) -> KioskConfig:
    values, problems = walk_document(doc)
    if run_paths:
        problems.extend(run_path_problems(values))
    if problems:
        raise ConfigError(source, problems)
    return _build(source, values)
