"""``kiosk journal check | restore | new | report``: the money journal from a terminal.

For the technician at a kiosk whose cash is off because of its journal: what
is wrong (the same verdict ``kiosk run`` acts on), how to put the newest
backup back, and -- only when no backup can be had -- how to start a new
journal that still never reissues a transaction number.  Every outcome is
a sentence on stdout/stderr and an exit code (0 ok, 1 a problem, 3 the key),
never a traceback.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from kiosk.config import KioskConfig
from offline_store import journal_identity
from offline_store.fsync import fsync_path
from offline_store.journal_identity import (
    JournalIdentity,
    identity_path,
    inspect,
    read_journal_facts,
)

EXIT_OK, EXIT_PROBLEM, EXIT_KEY = 0, 1, 3


def _journal_path(config: KioskConfig) -> Path:
    from kiosk.payment_stack import journal_path

    return journal_path(config)


def _key_id(config: KioskConfig) -> str | None:
    from offline_store.pii import PiiKey

    path = Path(config.storage.key_file)
    return PiiKey.load(path).key_id if path.exists() else None


def check(config: KioskConfig) -> int:
    """What ``kiosk run`` would say of the journal, and its counts when it is sound."""
    from offline_store.pii import PiiKeyError

    path = _journal_path(config)
    try:
        verdict = inspect(path, config.storage.key_file, _key_id(config))
    except PiiKeyError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return EXIT_KEY
    if not verdict.ok:
        print(f"kiosk: journal {path}: {verdict}", file=sys.stderr)
        return EXIT_PROBLEM
    if not path.exists():
        print(f"journal {path}: not made yet (a new terminal: the first start makes it)")
        return EXIT_OK
    counts = _counts(path)
    print(f"journal {path}: ok — {counts}")
    return EXIT_OK


def _counts(path: Path) -> str:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        payments = connection.execute("SELECT state, COUNT(*) FROM payments GROUP BY state ORDER BY state").fetchall()
        outbox = connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        connection.close()
    states = ", ".join(f"{count} {state}" for state, count in payments) or "no payments"
    return f"integrity {integrity}; {states}; {outbox} waiting to be posted"


def restore(config: KioskConfig, backup: str) -> int:
    """Put ``backup`` back as the journal; the broken one is kept beside it."""
    source = Path(backup)
    path = _journal_path(config)
    try:
        identity = _identity(config)
    except ValueError:
        return EXIT_PROBLEM
    problem = _unusable_backup(source, identity)
    if problem:
        print(f"kiosk: not restored: {problem}", file=sys.stderr)
        return EXIT_PROBLEM
    if _kiosk_running(path):
        print(f"kiosk: not restored: the kiosk has {path} open — stop it first (systemctl stop utility-kiosk)",
              file=sys.stderr)
        return EXIT_PROBLEM
    kept = _set_aside(path)
    _copy_durably(source, path)
    if identity is not None:
        identity.running = False
        identity.save()
    taken = time.strftime("%Y-%m-%d %H:%M", time.localtime(source.stat().st_mtime))
    print(f"restored {source} (taken {taken}) as {path}" + (f"; the previous file is kept as {kept}" if kept else ""))
    print("Payments made after the backup was taken are not in the restored journal: check them against the "
          "billing system by transaction number. New transaction numbers continue above every number issued.")
    return EXIT_OK


def _identity(config: KioskConfig) -> JournalIdentity | None:
    """This terminal's journal identity (None: none yet); an unreadable one is said and re-raised."""
    try:
        return JournalIdentity.load(identity_path(config.storage.key_file))
    except ValueError as error:
        print(f"kiosk: {error} — restore the identity file from the key escrow first", file=sys.stderr)
        raise


def _unusable_backup(source: Path, identity: JournalIdentity | None) -> str:
    if not source.is_file():
        return f"{source} is not a file — give one of the backups in storage.backup_dir"
    try:
        journal_id, _ = read_journal_facts(source)
    except sqlite3.DatabaseError as error:
        return f"{source} is not a readable journal backup ({error})"
    if identity is not None and journal_id != identity.journal_id:
        return (f"{source} is a backup of journal {journal_id}, this terminal's journal is {identity.journal_id} "
                f"({identity.path}): it belongs to another terminal or an older journal")
    return ""


def new_after_loss(config: KioskConfig) -> int:
    """No backup at all: a new, empty journal under a new identity, numbers kept above the old ones."""
    from offline_store.journal import MoneyJournal
    from offline_store.pii import PiiKey

    path = _journal_path(config)
    identity_file = identity_path(config.storage.key_file)
    try:
        identity = _identity(config)
    except ValueError:
        return EXIT_PROBLEM
    if _kiosk_running(path):
        print(f"kiosk: the kiosk has {path} open — stop it first", file=sys.stderr)
        return EXIT_PROBLEM
    key = PiiKey.load(config.storage.key_file) if Path(config.storage.key_file).exists() \
        else PiiKey.create(config.storage.key_file)
    kept = _set_aside(path)
    journal_id = journal_identity.new_journal_id()
    with MoneyJournal(path, key) as journal:
        journal.set_identity(journal_id)
    reserved = identity.reserved if identity is not None else {}
    JournalIdentity(identity_file, journal_id, key.key_id, reserved, running=False).save()
    print(f"new journal {journal_id} at {path}" + (f"; the previous file is kept as {kept}" if kept else ""))
    print("Every payment of the lost journal must be settled from the billing system's records and the cash "
          "box count; transaction numbers continue above every number issued before.")
    return EXIT_OK


def report(config: KioskConfig, since) -> int:
    """The cash box since the last collection, the payments since ``since`` and the past
    collections (清机: who, the journal's figure, the count, the difference, the note)."""
    from offline_store.cash_report import report as cash_report
    from offline_store.journal import JournalRefused, MoneyJournal
    from offline_store.pii import PiiKeyError

    path = _journal_path(config)
    if not path.exists():
        print(f"kiosk: no money journal at {path} — check storage.data_dir in {config.source}", file=sys.stderr)
        return EXIT_PROBLEM
    try:
        journal = MoneyJournal.open(path, config.storage.key_file, attach_identity=False)
    except PiiKeyError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return EXIT_KEY
    except (JournalRefused, sqlite3.DatabaseError) as error:
        print(f"kiosk: journal {path}: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    with journal:
        print(cash_report(journal, since))
    return EXIT_OK


def _kiosk_running(path: Path) -> bool:
    """Another process has the journal open (Linux: its open files under /proc)."""
    try:
        target = path.resolve()
    except OSError:
        return False
    me = str(os.getpid())
    for process in Path("/proc").iterdir():
        if not process.name.isdigit() or process.name == me:
            continue
        try:
            if any(Path(os.readlink(fd)) == target for fd in (process / "fd").iterdir()):
                return True
        except OSError:  # gone, or not ours to look at
            continue
    return False


def _set_aside(path: Path) -> Path | None:
    """Rename the journal (and its -wal/-shm) to ``<name>.broken-<time>``; None if there was none."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.broken-{stamp}")
    moved = None
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, Path(f"{kept}{suffix}"))
            moved = kept
    return moved


def _copy_durably(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, temporary)
    fsync_path(temporary)
    os.replace(temporary, target)
    fsync_path(target.parent)
