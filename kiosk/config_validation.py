"""Validation of a parsed ``config.toml`` against the schema, collecting *all* problems.

One restart should show every mistake, not the first, so the walker checks
each table against :mod:`kiosk.config_schema`, adds a problem for each bad key
(with the key, the value found, what is allowed and what to write instead),
and returns the values to use alongside the problems.  Turning TOML values
into messages is its own job, apart from reading the file
(:mod:`kiosk.config_toml`) and building the result (:mod:`kiosk.config`).

Entries of ``[[utilities]]`` are named ``utilities[1]``, ``utilities[2]``, …
counting from the first ``[[utilities]]`` in the file, as a technician counts
them on screen.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.config_disk import readable_file_problem
from kiosk.config_quoting import bound, either, kind_of, show, show_key
from kiosk.config_schema import DEFAULT_UTILITIES, SECTIONS, UTILITY_FIELDS, Field, Kind
from kiosk.config_types import ConfigProblem


def _type_problem(field: Field, value: Any, example: Any) -> str | None:
    """Why ``value`` is not of ``field``'s kind, with the line to write instead; None if it is."""
    name = field.name
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if field.kind is Kind.NUMBER:
        if is_number:
            return None
        fix = _unquote(name, value, float) or f"write a number, e.g. {name} = {show(example)}"
    elif field.kind is Kind.INTEGER:
        if is_number and isinstance(value, int):
            return None
        if isinstance(value, float) and value.is_integer():
            fix = f"write it without the decimal point: {name} = {int(value)}"
        else:
            fix = _unquote(name, value, int) or f"write a whole number, e.g. {name} = {show(example)}"
    elif field.kind is Kind.STRING:
        if isinstance(value, str):
            return None
        if is_number:
            fix = f'put it in quotes: {name} = "{show(value)}"'
        elif isinstance(value, datetime.time):  # TOML reads open = 08:00:00 as a time, not text
            fix = f'put it in quotes: {name} = "{value:%H:%M}"'
        else:
            fix = f"write it in double quotes, e.g. {name} = {show(example)}"
    elif field.kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            fix = f"write it without quotes: {name} = {value.strip().lower()}"
        else:
            fix = f"write {name} = true or {name} = false"
    elif field.kind is Kind.INTEGERS:
        if isinstance(value, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            return None
        if isinstance(value, list):
            items = [_as_whole_number(i) for i in value]
            fix = f"write the numbers without quotes: {name} = {show(items)}"
        else:
            fix = f"write a list in brackets, e.g. {name} = {show(example)}"
    else:  # Kind.STRINGS
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return None
        if isinstance(value, str):
            items = re.split(r"[\s,]+", value.strip())  # "zh, en" was meant as ["zh", "en"]
            fix = f"write it as a list in brackets: {name} = {show(items)}"
        elif isinstance(value, list):
            items = [item if isinstance(item, str) else show(item) for item in value]
            fix = f"put each item in double quotes: {name} = {show(items)}"
        else:
            fix = f"write a list in brackets, e.g. {name} = {show(example)}"
    return f"expected {field.kind.value}, got {show(value)} ({kind_of(value)}) — {fix}"


def _as_whole_number(item: Any) -> Any:
    """``item`` as the number it spells ("50" → 50), else ``item`` itself."""
    if isinstance(item, str) and item.strip().isdecimal():
        try:
            return int(item.strip())
        except ValueError:  # more digits than int() reads (4300)
            return item
    return item


def _unquote(name: str, value: Any, convert: Callable[[str], Any]) -> str | None:
    """The hint for a number written in quotes ("20"), or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        convert(value.strip())
    except ValueError:
        return None
    return f"write it without quotes: {name} = {value.strip()}"


def _value_problem(field: Field, value: Any, example: Any) -> str | None:
    """Why a well-typed ``value`` is not allowed for ``field``; None if it is."""
    if field.kind in (Kind.STRINGS, Kind.INTEGERS):
        return _list_problem(field, value)
    if isinstance(value, str) and not value.strip() and not field.may_be_empty:
        return f"{show(value)} is empty — write a value, e.g. {field.name} = {show(example)}"
    if field.choices and value not in field.choices:
        return f"{show(value)} is not allowed — choose one of {', '.join(show(c) for c in field.choices)}"
    if field.range and not field.range[0] <= value <= field.range[1]:  # also catches nan
        low, high = field.range
        unit = f" {field.unit}" if field.unit else ""
        return f"{show(value)} is out of range — allowed {bound(low)} to {bound(high)}{unit}"
    return field.check(value) if field.check else None


def _list_problem(field: Field, items: list[str]) -> str | None:
    allowed = ", ".join(show(c) for c in field.choices)
    if not items:
        return f"the list is empty — list at least one of {allowed}"
    for position, item in enumerate(items):
        if item not in field.choices:
            return f"{show(item)} is not allowed — choose from {allowed}"
        if item in items[:position]:
            return f"{show(item)} is listed twice — list each once"
    return None


def _close_keys(typed: str, valid: tuple[str, ...]) -> list[str]:
    """Valid keys that ``typed`` is probably a misspelling of, best first (at most two).

    Each word of a key counts as well as the whole key, so "timout" finds both
    ``connect_timeout_s`` and ``read_timeout_s``, which difflib alone would miss.
    """
    def score(key: str) -> float:
        words = [key, *(word for word in key.split("_") if len(word) >= 3)]
        return max(difflib.SequenceMatcher(None, typed.lower(), word).ratio() for word in words)

    scored = [(score(key), key) for key in valid]
    close = sorted((pair for pair in scored if pair[0] >= 0.6), key=lambda pair: -pair[0])
    return [key for _, key in close[:2]]


def _homes_of(key: str) -> list[str]:
    """The tables where ``key`` is a valid key, as a technician writes their headers."""
    homes = [f"[{section}]" for section, fields in SECTIONS.items() if any(f.name == key for f in fields)]
    if any(f.name == key for f in UTILITY_FIELDS):
        homes.append("[[utilities]]")
    return homes


def _unknown_key(prefix: str, table: str, key: str, valid: tuple[str, ...]) -> ConfigProblem:
    homes = _homes_of(key)
    # A key far longer than any valid one is no misspelling of one.
    near = _close_keys(key, valid) if len(key) <= 2 * max(map(len, valid)) else []
    key = show_key(key)
    if homes:  # a real key in the wrong table, e.g. written above the first [section] line
        advice = f"{key} belongs in {' or '.join(homes)}; move it there"
    elif near:
        advice = "did you mean " + " or ".join(prefix + n for n in near) + "?"
    else:
        advice = f"the keys of {table} are {', '.join(valid)}"
    return ConfigProblem(prefix + key, f"unknown key — {advice}")


def _walk_table(
    prefix: str, table: str, raw: Mapping[str, Any], fields: tuple[Field, ...],
    defaults: Mapping[str, Any], problems: list[ConfigProblem],
) -> dict[str, Any]:
    """Check one TOML table against its fields, adding to ``problems``.

    Returns the values to use: the file's where valid, the defaults where the
    key is absent.  A key with a problem is left out, so the cross-field checks
    skip it rather than report the same mistake twice.
    """
    valid = tuple(f.name for f in fields)
    problems.extend(_unknown_key(prefix, table, key, valid) for key in raw if key not in valid)
    values: dict[str, Any] = {}
    for field in fields:
        example = defaults[field.name]
        if field.name not in raw:
            if field.required:
                problems.append(ConfigProblem(
                    prefix + field.name,
                    f"missing — every {table} table needs one: {field.name} = {either(field.choices)}",
                ))
            else:
                values[field.name] = example
            continue
        value = raw[field.name]
        problem = _type_problem(field, value, example) or _value_problem(field, value, example)
        if problem:
            problems.append(ConfigProblem(prefix + field.name, problem))
        else:
            values[field.name] = value
    return values


def _walk_utilities(raw: Any, problems: list[ConfigProblem]) -> list[dict[str, Any]]:
    if raw is None:  # not in the file: the embedded list
        return [dict(entry) for entry in DEFAULT_UTILITIES.values()]
    if isinstance(raw, dict):
        problems.append(ConfigProblem("utilities", (
            "expected [[utilities]] tables, got a single [utilities] table — "
            "write [[utilities]] with double brackets above each utility"
        )))
        return []
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        problems.append(ConfigProblem("utilities", (
            f"expected [[utilities]] tables, got {show(raw)} ({kind_of(raw)}) — "
            'write each utility as its own [[utilities]] table with id = "electricity", "water" or "gas"'
        )))
        return []
    if not raw:
        problems.append(ConfigProblem("utilities", (
            "the list is empty — add a [[utilities]] table for each utility this hall takes payments for, "
            "or remove utilities to use the defaults"
        )))
    entries = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(raw, start=1):
        prefix = f"utilities[{number}]."
        given_id = entry.get("id")
        # Keys not given come from the default entry of the same id; with no valid id
        # there will be a problem anyway, and electricity's values serve as examples.
        defaults = DEFAULT_UTILITIES.get(given_id) if isinstance(given_id, str) else None
        values = _walk_table(
            prefix, "[[utilities]]", entry, UTILITY_FIELDS, defaults or DEFAULT_UTILITIES["electricity"], problems
        )
        utility_id = values.get("id")
        if utility_id in first_seen:
            earlier = f"utilities[{first_seen[utility_id]}]"
            problems.append(ConfigProblem(
                prefix + "id", f"{show(utility_id)} is already used by {earlier} — list each utility once"
            ))
        elif utility_id is not None:
            first_seen[utility_id] = number
        entries.append(values)
    return entries


def walk_document(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[ConfigProblem]]:
    problems: list[ConfigProblem] = []
    top_level = (*SECTIONS, "utilities")
    problems.extend(_unknown_key("", "the file", key, top_level) for key in doc if key not in top_level)
    values: dict[str, Any] = {}
    for section, fields in SECTIONS.items():
        raw = doc.get(section, {})
        if not isinstance(raw, dict):
            problems.append(ConfigProblem(section, (
                f"expected a [{section}] table, got {show(raw)} ({kind_of(raw)}) — "
                f"write its keys below a [{section}] line"
            )))
            raw = {}
        defaults = {f.name: f.default for f in fields}
        values[section] = _walk_table(section + ".", f"[{section}]", raw, fields, defaults, problems)
    values["utilities"] = _walk_utilities(doc.get("utilities"), problems)
    problems.extend(_cross_field_problems(values))
    return values, problems


def _cross_field_problems(values: Mapping[str, Any]) -> list[ConfigProblem]:
    """Rules that tie keys together; each runs only when its keys were valid on their own."""
    problems = []
    terminal = values["terminal"]
    if {"languages", "default_language"} <= terminal.keys():
        default, languages = terminal["default_language"], terminal["languages"]
        if default not in languages:
            problems.append(ConfigProblem("terminal.default_language", (
                f"{show(default)} is not in terminal.languages {show(languages)} — "
                f"add it to languages or choose one of {', '.join(show(lang) for lang in languages)}"
            )))
    hours = values["service_hours"]
    if {"open", "close"} <= hours.keys() and hours["close"] <= hours["open"]:  # "HH:MM" sorts as time does
        problems.append(ConfigProblem("service_hours.close", (
            f"{show(hours['close'])} is not later than service_hours.open {show(hours['open'])} — "
            "set close after open; service hours cannot run past midnight"
        )))
    backend = values["backend"]
    if {"url", "ca_file"} <= backend.keys() and backend["ca_file"] and urlsplit(backend["url"]).scheme == "https":
        state = readable_file_problem(Path(backend["ca_file"]))
        if state:
            problems.append(ConfigProblem("backend.ca_file", (
                f"{show(backend['ca_file'])} {state} — backend.url is https, so give the PEM file "
                'of the CA that signed the backend\'s certificate, or "" to use the system CA store'
            )))
    if {"call_deadline_s", "connect_timeout_s"} <= backend.keys():
        deadline, connect = backend["call_deadline_s"], backend["connect_timeout_s"]
        if deadline < connect:
            problems.append(ConfigProblem("backend.call_deadline_s", (
                f"{show(deadline)} is shorter than backend.connect_timeout_s {show(connect)} — a call could "
                "never even connect; set call_deadline_s to at least connect_timeout_s"
            )))
    return problems
