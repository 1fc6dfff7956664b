"""Personal data at rest: AES-256-GCM with a key in a file of its own (MISSION.md rule 5).

The money journal keeps a customer's account number, name and address only
encrypted.  The key is 32 random bytes in a file with mode 0600 whose path is
``[storage] key_file``; it is kept out of the journal's backups, so a copied
journal or backup alone reveals nothing personal.

Each value is sealed as ``version (1 byte) | nonce (12 bytes) | ciphertext+tag``
with a fresh random 96-bit nonce (NIST SP 800-38D, 8.2.2: random nonces are
safe far beyond a kiosk's lifetime of values under one key).  The associated
data names the table, the row and the field the value belongs to, so a
ciphertext copied into another row or another column does not decrypt: it
fails the tag check like a tampered value would.

Key policy (:func:`open_or_create_key`): the key is created on the very first
start only, while the journal holds no encrypted data.  Once it does, a
missing key is a refusal to start -- a new key would silently orphan every
encrypted value, and a technician must restore the key instead.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from offline_store.fsync import fsync_path

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's native nonce size
FORMAT_VERSION = 1
_AAD_PREFIX = b"utility-kiosk/pii/v1"


class PiiKeyError(Exception):
    """The key file cannot be used; the kiosk must not start.

    ``path`` is the key file, ``problem`` what is wrong with it and ``remedy``
    what a technician does about it; ``str()`` says all three.
    """

    def __init__(self, path: str | Path, problem: str, remedy: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"personal-data key {self.path}: {problem}. {remedy}")


class PiiKeyMissing(PiiKeyError):
    """No key file where the configuration says it is."""


class PiiKeyInvalid(PiiKeyError):
    """The file is there but is not a key (wrong size, not a regular file)."""


class PiiKeyExposed(PiiKeyError):
    """Group or others may read or write the key file."""


class PiiKeyMismatch(PiiKeyError):
    """The key is a valid key, but not the one the journal's data was encrypted with."""


class PiiDecryptionError(Exception):
    """A stored value does not decrypt under this key, row and field: it was
    tampered with, moved from another row, or sealed under another key."""


class PiiKey:
    """An AES-256-GCM key for personal data; see the module docstring for the format."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a personal-data key is {KEY_BYTES} bytes, got {len(key)}")
        # cryptography is loaded here, not at import: the start-up key check
        # (open_or_create_key) runs before the window and needs only the file.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        # Names the key without revealing it; the journal stores it to tell a
        # wrong key (restored from the wrong terminal) from the right one.
        self.key_id = hashlib.sha256(b"utility-kiosk/pii-key-id\0" + key).hexdigest()[:16]

    def __repr__(self) -> str:  # never the key itself, not even in a traceback
        return f"PiiKey(key_id={self.key_id})"

    # -- the key file ---------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> PiiKey:
        """Read the key file, refusing one that is missing, malformed or readable by others."""
        path = Path(path)
        try:
            info = path.stat()
        except FileNotFoundError:
            raise PiiKeyMissing(
                path, "the file does not exist",
                "Restore it from the terminal's key escrow, or fix [storage] key_file in config.toml",
            ) from None
        except OSError as exc:
            raise PiiKeyInvalid(path, f"cannot be examined ({exc.strerror})",
                                "Check the directory's permissions for the kiosk's user") from None
        if not stat.S_ISREG(info.st_mode):
            raise PiiKeyInvalid(path, "is not a regular file",
                                "Point [storage] key_file at the key file itself")
        if info.st_mode & 0o077:
            raise PiiKeyExposed(
                path, f"has mode {stat.S_IMODE(info.st_mode):04o}, readable or writable by group or others",
                f"Run: chmod 600 {path}  (and check who may have copied it)",
            )
        if info.st_size != KEY_BYTES:
            raise PiiKeyInvalid(
                path, f"is {info.st_size} bytes long, a key is exactly {KEY_BYTES}",
                "Restore the original key file; do not edit it",
            )
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise PiiKeyInvalid(path, f"cannot be read ({exc.strerror})",
                                "The kiosk's user must own the key file") from None
        if len(key) != KEY_BYTES:  # changed between stat and read
            raise PiiKeyInvalid(path, f"is {len(key)} bytes long, a key is exactly {KEY_BYTES}",
                                "Restore the original key file; do not edit it")
        return cls(key)

    @classmethod
    def create(cls, path: str | Path) -> PiiKey:
        """Write a new random key with mode 0600; never replaces an existing file.

        The key is written and fsynced under a temporary name in the same
        directory, then hard-linked to ``path``: the link either appears
        complete or fails because a file is already there (FileExistsError),
        so a crash never leaves a half-written key and a race never
        overwrites one.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.write(fd, key)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.link(temporary, path)
        finally:
            if fd >= 0:
                os.close(fd)
            temporary.unlink(missing_ok=True)
        fsync_path(path.parent)
        return cls(key)

    # -- values -----------------------------------------------------------------
    def encrypt(self, value: str, *, table: str, row: str, field: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), _aad(table, row, field))
        return bytes([FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, *, table: str, row: str, field: str) -> str:
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise PiiDecryptionError(f"{table}.{field} of {row}: not a sealed value")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(nonce, sealed, _aad(table, row, field)).decode("utf-8")
        except InvalidTag:
            raise PiiDecryptionError(
                f"{table}.{field} of {row}: does not decrypt (tampered, moved from another row, "
                "or sealed under another key)"
            ) from None


def open_or_create_key(path: str | Path, journal_has_personal_data: bool) -> PiiKey:
    """The start-up policy: load the key; create it only while the journal holds no
    encrypted data (the first start).  Otherwise a missing key raises
    :class:`PiiKeyMissing`, and the kiosk refuses to start with its message."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        return PiiKey.load(path)
    if journal_has_personal_data:
        raise PiiKeyMissing(
            path,
            "the file does not exist, but the money journal holds personal data encrypted with it",
            "Restore the key file from the terminal's key escrow (mode 0600); do NOT create a new "
            "key: the journal's personal data would become unreadable",
        )
    try:
        return PiiKey.create(path)
    except FileExistsError:  # another process created it between our check and our link
        return PiiKey.load(path)


def _aad(table: str, row: str, field: str) -> bytes:
    # NUL-separated: no name can contain NUL, so no two triples give the same bytes.
    return b"\0".join((_AAD_PREFIX, table.encode(), row.encode(), field.encode()))
