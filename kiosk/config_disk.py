"""What the kiosk will need on disk: whether the files it reads can be read and the directories it writes in can be made.

``kiosk run`` and ``kiosk check-config`` both ask this
(:func:`kiosk.config.load_config_for_run`), so a file check-config passes does
not stop ``kiosk run`` at start.  These checks look at the machine (stat,
``os.access``, mount flags), not at the document, so they are apart from the
validation; nothing here creates anything.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.config_quoting import show
from kiosk.config_types import ConfigProblem


def readable_file_problem(path: Path) -> str | None:
    """What keeps the kiosk from reading ``path`` ("does not exist", …), or None."""
    looked = "" if path.is_absolute() else f" (looked for {path.absolute()})"
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"does not exist{looked}"
    except OSError as error:
        return f"cannot be looked at{looked}: {error.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"is not a file{looked}"
    if not os.access(path, os.R_OK):
        return f"is not readable by the kiosk's user{looked} ({_owner_and_mode(info)})"
    return None


def _owner_and_mode(info: os.stat_result) -> str:
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:  # a uid without a name (a file from another machine)
        owner = str(info.st_uid)
    return f"owner {owner}, mode {stat.S_IMODE(info.st_mode):04o}"


# The directories ``kiosk run`` creates when missing and then writes in.
_RUN_DIRECTORIES = (("storage", "data_dir"), ("storage", "backup_dir"), ("logging", "dir"))


def run_path_problems(values: Mapping[str, Any]) -> list[ConfigProblem]:
    """What would stop ``kiosk run`` on this machine, found without creating anything.

    Each directory must exist and be writable, or its nearest existing parent
    must be a directory the kiosk's user may create it in; the key file must
    be readable, or creatable the same way.  Checks ``os.access`` for the
    process's own user, so run it as the kiosk's user (root passes them all,
    except on a read-only or immutable directory).
    """
    problems = []
    for section, key in _RUN_DIRECTORIES:
        if key in values[section]:
            problem = _directory_problem(values[section][key], f"{section}.{key}")
            if problem:
                problems.append(ConfigProblem(f"{section}.{key}", problem))
    if "key_file" in values["storage"]:
        problem = _key_file_problem(values["storage"]["key_file"])
        if problem:
            problems.append(ConfigProblem("storage.key_file", problem))
    return problems


def _key_file_problem(text: str) -> str | None:
    path = Path(text)
    if os.path.lexists(path):
        state = readable_file_problem(path)
        return state and f"{show(text)} {state} — the journal's key must be a file the kiosk's user can read"
    blocked = _directory_blocked(str(path.parent))
    if blocked is None:
        return None
    state, advice = blocked
    return (f"{show(text)} cannot be created: its directory {show(str(path.parent))} {state} — "
            f"{advice}, or set storage.key_file to a path in another directory")


def _directory_problem(text: str, key: str) -> str | None:
    blocked = _directory_blocked(text)
    if blocked is None:
        return None
    state, advice = blocked
    return f"{show(text)} {state} — {advice}, or set {key} to another directory"


def _directory_blocked(text: str) -> tuple[str, str] | None:
    """Why the kiosk could not create (when missing) and write in directory ``text``,
    as (what is wrong, what to do); None when it can."""
    path = Path(text).absolute()  # not resolved: "x/.." after a file x fails here as it will in mkdir
    looked = "" if Path(text).is_absolute() else f" (looked for {path})"
    existing, info = _nearest_existing(path)
    if info is None:
        return (f"cannot be created{looked}: {existing} is a symbolic link to a path that does not exist",
                "remove the link or create what it points to")
    if not stat.S_ISDIR(info.st_mode):
        if existing == path:
            return f"is a file, not a directory{looked}", "move that file away"
        return f"cannot be created{looked}: {existing} is a file, not a directory", "move that file away"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    why, file_system_fix = _why_not_writable(existing, info)
    if file_system_fix:
        advice = file_system_fix
    elif existing == path:
        advice = "give the kiosk's user write access to it"
    else:
        advice = f"create it in {existing} with the kiosk's user as its owner"
    if existing == path:
        return f"is a directory the kiosk's user cannot write in{looked}: {why}", advice
    return f"cannot be created{looked}: the kiosk's user cannot write in {existing}: {why}", advice


def _nearest_existing(path: Path) -> tuple[Path, os.stat_result | None]:
    """The nearest of ``path`` and its parents that exists, with its stat (None: a broken symbolic link)."""
    for candidate in (path, *path.parents):
        try:
            return candidate, candidate.stat()
        except FileNotFoundError:
            if os.path.lexists(candidate):
                return candidate, None
        except OSError:  # ENOTDIR (a file on the way), EACCES, ELOOP: look further up
            continue
    return Path(path.anchor), Path(path.anchor).stat()


def _why_not_writable(path: Path, info: os.stat_result) -> tuple[str, str]:
    """The owner and mode; and when those allow writing and the file system refuses, what to do about it."""
    if os.geteuid() == 0:
        mode_allows = True
    elif info.st_uid == os.geteuid():
        mode_allows = bool(info.st_mode & stat.S_IWUSR)
    elif info.st_gid in (os.getegid(), *os.getgroups()):
        mode_allows = bool(info.st_mode & stat.S_IWGRP)
    else:
        mode_allows = bool(info.st_mode & stat.S_IWOTH)
    owner_and_mode = _owner_and_mode(info)
    if not mode_allows:
        return owner_and_mode, ""
    if _is_read_only_mount(path):
        return f"{owner_and_mode}, on a read-only file system", "mount that file system read-write"
    return (f"{owner_and_mode}, yet writes are refused (immutable: lsattr -d shows i)",
            f"clear the flag with chattr -i {path}")


def _is_read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
