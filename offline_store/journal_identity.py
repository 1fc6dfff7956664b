"""The journal and its key know each other: an identity file kept beside the key.

A money journal that is deleted, emptied, corrupted, rolled back or swapped
for another terminal's must never look like a fresh start: a fresh start
would forget what customers paid and hand out transaction numbers the
billing system has already booked.  So the journal's identity lives in two
places that fail independently:

* inside the journal, ``meta.journal_id`` (random, made with the journal);
* in ``<key_file>.journal-id`` beside the personal-data key, outside the data
  directory, together with

  - ``key_id``: which key seals this journal's personal data;
  - ``reserved``: per terminal and business day, the highest transaction
    sequence handed to the journal.  Numbers are reserved in blocks
    (:data:`SEQUENCE_BLOCK`) *before* the journal uses them, so after a lost
    journal the next number starts above every number ever issued;
  - ``running``: true while a kiosk has the journal open.  SQLite keeps the
    last commits in the ``-wal`` file until a clean close folds them in; a
    journal found without its WAL after an unclean stop has lost them.

:func:`inspect` compares the two and names what is wrong; ``kiosk run`` then
keeps cash off with that reason, ``kiosk journal check`` prints it and
``kiosk journal restore --from BACKUP`` puts a backup back.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from offline_store.fsync import fsync_path

SUFFIX = ".journal-id"
SEQUENCE_BLOCK = 50
FORMAT = 1


class JournalProblem(Enum):
    """What :func:`inspect` found; the value is the code a technician sees."""

    MISSING = "JOURNAL_MISSING"
    EMPTY = "JOURNAL_EMPTY"
    CORRUPT = "JOURNAL_CORRUPT"
    FOREIGN = "JOURNAL_FOREIGN"
    KEY_MISMATCH = "JOURNAL_KEY_MISMATCH"
    WAL_LOST = "JOURNAL_WAL_LOST"
    IDENTITY_UNREADABLE = "JOURNAL_IDENTITY_UNREADABLE"


@dataclass(frozen=True)
class Inspection:
    """The verdict on a journal file and its identity."""

    problem: JournalProblem | None
    detail: str = ""
    remedy: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.ok:
            return "ok"
        return f"{self.problem.value}: {self.detail}. {self.remedy}"


_RESTORE = ("Cash payments stay off. Restore the newest backup with `kiosk journal restore --from BACKUP` "
            "(backups are in storage.backup_dir), or call the utility's technical support")


def identity_path(key_file: str | Path) -> Path:
    return Path(f"{key_file}{SUFFIX}")


@dataclass
class JournalIdentity:
    """The identity file's content; :meth:`save` writes it atomically (0600, fsynced)."""

    path: Path
    journal_id: str
    key_id: str
    reserved: dict[str, int] = field(default_factory=dict)
    running: bool = False

    @classmethod
    def load(cls, path: str | Path) -> JournalIdentity | None:
        """The identity at ``path``, None when there is none; ValueError when unreadable."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            reserved = {str(k): int(v) for k, v in data["reserved"].items()}
            return cls(path, str(data["journal_id"]), str(data["key_id"]), reserved, bool(data["running"]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path} is not a journal identity ({type(error).__name__}: {error})") from None

    def save(self) -> None:
        body = json.dumps({"format": FORMAT, "journal_id": self.journal_id, "key_id": self.key_id,
                           "running": self.running, "reserved": self.reserved}, indent=1, sort_keys=True)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, body.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        fsync_path(self.path.parent)


class SequenceReservations:
    """Hands the journal transaction sequences that the identity file has already reserved."""

    def __init__(self, identity: JournalIdentity) -> None:
        self._identity = identity
        self._lock = threading.Lock()

    def floor(self, terminal_id: str, day: str) -> int:
        """The highest sequence ever reserved for this terminal and day (0 if none)."""
        with self._lock:
            return self._identity.reserved.get(f"{terminal_id}-{day}", 0)

    def cover(self, terminal_id: str, day: str, seq: int) -> None:
        """Make sure ``seq`` is reserved (a new block is written down before it is used)."""
        key = f"{terminal_id}-{day}"
        with self._lock:
            if seq <= self._identity.reserved.get(key, 0):
                return
            self._identity.reserved[key] = seq + SEQUENCE_BLOCK - 1
            self._drop_old_days()
            self._identity.save()

    def _drop_old_days(self, keep: int = 400) -> None:
        # A clock set back more than a year is not worth an ever-growing file.
        if len(self._identity.reserved) > keep:
            for old in sorted(self._identity.reserved, key=lambda k: k[-8:])[:-keep]:
                del self._identity.reserved[old]


def read_journal_facts(path: Path) -> tuple[str | None, str | None]:
    """(journal_id, pii_key_id) from the journal's meta, read-only; raises sqlite3.DatabaseError."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check}")
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            raise sqlite3.DatabaseError("no meta table: not a money journal")
        rows = dict(connection.execute("SELECT key, value FROM meta WHERE key IN ('journal_id', 'pii_key_id')"))
        return rows.get("journal_id"), rows.get("pii_key_id")
    finally:
        connection.close()


def inspect(journal: str | Path, key_file: str | Path, key_id: str | None, *, live: bool = True) -> Inspection:
    """What is wrong with the journal at ``journal`` for the key ``key_id`` (None: no key yet).

    ``live``: this is the journal a kiosk is about to run on (not a look at a
    copy or a report): only then does a missing WAL after an unclean stop count."""
    journal = Path(journal)
    try:
        identity = JournalIdentity.load(identity_path(key_file))
    except ValueError as error:
        return Inspection(JournalProblem.IDENTITY_UNREADABLE, str(error), _RESTORE)
    present = journal.exists()
    if identity is None:
        return _without_identity(journal, present)
    if not present:
        return Inspection(JournalProblem.MISSING,
                          f"the journal {journal} does not exist, but {identity.path} says journal "
                          f"{identity.journal_id} was made here", _RESTORE)
    if (empty := _empty(journal)) is not None:
        return empty
    if live and identity.running and not Path(f"{journal}-wal").exists():
        return Inspection(JournalProblem.WAL_LOST,
                          f"the kiosk stopped without closing the journal and its write-ahead log "
                          f"{journal}-wal is gone: the last payments before the stop are lost", _RESTORE)
    journal_id = _journal_id(journal)
    if isinstance(journal_id, Inspection):
        return journal_id
    if journal_id != identity.journal_id:
        return Inspection(JournalProblem.FOREIGN,
                          f"the journal {journal} is journal {journal_id or 'without identity'}, but this "
                          f"terminal's is {identity.journal_id} ({identity.path})", _RESTORE)
    if key_id is not None and key_id != identity.key_id:
        return Inspection(JournalProblem.KEY_MISMATCH,
                          f"the key file {key_file} is key {key_id}, but journal {identity.journal_id} is "
                          f"sealed with key {identity.key_id}",
                          "Cash payments stay off. Put this terminal's own key file back (key escrow)")
    return Inspection(None)


def _without_identity(journal: Path, present: bool) -> Inspection:
    """No identity file: a first start, or a journal made before identities (adopted)."""
    if not present:
        return Inspection(None)
    problem = _empty(journal) or _journal_id(journal)
    return problem if isinstance(problem, Inspection) else Inspection(None)


def _empty(journal: Path) -> Inspection | None:
    if journal.stat().st_size == 0:
        return Inspection(JournalProblem.EMPTY, f"the journal {journal} is empty (0 bytes)", _RESTORE)
    return None


def _journal_id(journal: Path) -> str | None | Inspection:
    """The journal's own id (None: a journal older than identities), or why it cannot be read."""
    try:
        return read_journal_facts(journal)[0]
    except sqlite3.DatabaseError as error:
        return Inspection(JournalProblem.CORRUPT, f"the journal {journal} cannot be read: {error}", _RESTORE)


def new_journal_id() -> str:
    return f"J-{time.strftime('%Y%m%d')}-{secrets.token_hex(8)}"
