"""Reading ``config.toml`` from disk and parsing it, with a message for each way that can fail.

A wrong path (a directory, a FIFO, a disk image), a file saved as GBK, a
TOML syntax error typed with a Chinese input method: each becomes one
:class:`~kiosk.config_types.ConfigError` that says where and what to do,
never a traceback.  Reading bytes and parsing TOML come before any key is
looked at, so this is apart from the validation of the parsed document.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Callable
from typing import Any

from kiosk.config_types import ConfigError, ConfigProblem


_READ_HINTS = {
    FileNotFoundError: "pass an existing file or omit --config to use the embedded defaults",
    IsADirectoryError: "pass the configuration file itself, not its directory",
    PermissionError: "let the kiosk's user read it (check the owner and mode of the file)",
}

# Typed with a Chinese input method these look like TOML's own punctuation but are not.
_FULL_WIDTH = "“”‘’＝，［］"


# A configuration is a few kilobytes; this bounds what a wrong path (a log, a
# disk image, /dev/zero) makes the kiosk read before it says so.
_MAX_CONFIG_BYTES = 1 << 20


def read_toml(path: str) -> dict[str, Any]:
    data = _read_config_bytes(path)
    try:
        text = data.decode("utf-8-sig")  # Notepad writes a byte-order mark; it is harmless
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(path, [ConfigProblem("", (
            f"line {line}: not UTF-8 text — save the file as UTF-8 (some editors save Chinese text as GBK)"
        ))]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [ConfigProblem("", _syntax_message(str(error), text))]) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise ConfigError(path, [ConfigProblem("", _too_deep_message(text))]) from None
    except ValueError as error:  # int() refuses more than 4300 digits (CVE-2020-10735)
        raise ConfigError(path, [ConfigProblem("", _too_long_number_message(str(error), text))]) from None


def _read_config_bytes(path: str) -> bytes:
    try:
        # O_NONBLOCK: a FIFO given by mistake must not wait for a writer.
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(path, [ConfigProblem("", (
                    "cannot read: not a regular file — pass the configuration file itself"
                ))])
            data = file.read(_MAX_CONFIG_BYTES + 1)
    except OSError as error:
        hint = _READ_HINTS.get(type(error), "check the path and the file's permissions")
        raise ConfigError(path, [ConfigProblem("", f"cannot read: {error.strerror or error} — {hint}")]) from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(path, [ConfigProblem("", (
            f"larger than {_MAX_CONFIG_BYTES >> 20} MiB — a configuration is a few kilobytes; "
            "check that this is the kiosk's config.toml"
        ))])
    return data


def _line_where(text: str, score: Callable[[str], int]) -> str:
    """The number of the line scoring highest, for a message without tomllib's position."""
    lines = text.splitlines() or [""]
    number = max(range(len(lines)), key=lambda index: score(lines[index]))
    return f"line {number + 1}"


def _too_deep_message(text: str) -> str:
    where = _line_where(text, lambda line: line.count("[") + line.count("{"))
    return (f"{where}: not valid TOML (brackets nested hundreds deep) — no setting takes more than one "
            "level of [ ] or { }; remove the extra brackets")


def _longest_digit_run(line: str) -> int:
    return max((len(run) for run in re.findall(r"[0-9_]+", line)), default=0)


def _too_long_number_message(reason: str, text: str) -> str:
    where = _line_where(text, _longest_digit_run)
    return (f"{where}: not valid TOML (a number too long to read: {reason.split(':')[0].lower()}) — "
            "no setting takes a number that long; write the value the comment above the key allows")


def _syntax_message(reason: str, text: str) -> str:
    # tomllib (3.11) puts the position only in the message: "... (at line 3, column 9)".
    at = re.search(r" \(at line (\d+), column (\d+)\)$", reason)
    if at:
        where, reason = f"line {at[1]}, column {at[2]}", reason[: at.start()]
        line = text.splitlines()[int(at[1]) - 1] if int(at[1]) <= len(text.splitlines()) else ""
    else:
        where, reason, line = "end of file", reason.removesuffix(" (at end of document)"), ""
    if any(char in line for char in _FULL_WIDTH):
        hint = 'that line has Chinese punctuation (“ ” ＝ ，) — retype it with plain quotes " and = and ,'
    elif reason.startswith(("Cannot overwrite", "Cannot declare")):
        hint = "that key or [section] is already written above; keep only one of them"
    else:
        hint = 'fix the TOML there: text needs double quotes (level = "INFO", open = "08:00"), one key = value per line'
    return f"{where}: not valid TOML ({reason}) — {hint}"
