"""Personal data at rest: the key file and its policy, and values bound to their row."""

from __future__ import annotations

import os
import stat

import pytest

from offline_store.journal import MoneyJournal
from offline_store.pii import (
    KEY_BYTES,
    PiiDecryptionError,
    PiiKey,
    PiiKeyExposed,
    PiiKeyInvalid,
    PiiKeyMismatch,
    PiiKeyMissing,
    open_or_create_key,
)

from journal_helpers import TERMINAL_ID


def test_a_new_key_is_32_random_bytes_with_mode_0600(key_path):
    PiiKey.create(key_path)
    info = key_path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_size == KEY_BYTES
    assert not [p for p in key_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_creating_a_key_never_overwrites_an_existing_one(key_path):
    first = PiiKey.create(key_path)
    with pytest.raises(FileExistsError):
        PiiKey.create(key_path)
    assert PiiKey.load(key_path).key_id == first.key_id


def test_a_missing_key_file_is_refused_naming_the_path_and_what_to_do(tmp_path):
    path = tmp_path / "nowhere" / "journal.key"
    with pytest.raises(PiiKeyMissing) as caught:
        PiiKey.load(path)
    message = str(caught.value)
    assert str(path) in message and "does not exist" in message and "key_file" in message


def test_a_key_file_of_the_wrong_size_is_refused(key_path):
    key_path.parent.mkdir(parents=True)
    key_path.write_bytes(b"x" * 16)
    key_path.chmod(0o600)
    with pytest.raises(PiiKeyInvalid, match="16 bytes long, a key is exactly 32"):
        PiiKey.load(key_path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_readable_by_group_or_others_is_refused(key_path, mode):
    PiiKey.create(key_path)
    key_path.chmod(mode)
    with pytest.raises(PiiKeyExposed) as caught:
        PiiKey.load(key_path)
    assert f"{mode:04o}" in str(caught.value) and f"chmod 600 {key_path}" in str(caught.value)


def test_first_start_creates_the_key_while_the_journal_holds_no_personal_data(key_path):
    key = open_or_create_key(key_path, journal_has_personal_data=False)
    assert key_path.exists() and open_or_create_key(key_path, True).key_id == key.key_id


def test_a_missing_key_with_personal_data_in_the_journal_refuses_to_start(key_path):
    with pytest.raises(PiiKeyMissing) as caught:
        open_or_create_key(key_path, journal_has_personal_data=True)
    assert "do NOT create a new key" in str(caught.value)
    assert not key_path.exists()


def test_the_kiosk_refuses_to_start_when_the_key_of_its_journal_is_gone(journal_path, key_path, clock):
    with MoneyJournal.open(journal_path, key_path, clock) as journal:
        journal.open_payment(TERMINAL_ID, "water", "60120001", "刘大强", "城西区", 100, cap_fen=1000)
    key_path.unlink()
    assert MoneyJournal.file_holds_personal_data(journal_path)
    with pytest.raises(PiiKeyMissing, match=str(key_path)):
        MoneyJournal.open(journal_path, key_path, clock)


def test_a_journal_refuses_a_key_other_than_the_one_that_sealed_its_data(journal_path, key, tmp_path, clock):
    with MoneyJournal(journal_path, key, clock) as journal:
        journal.open_payment(TERMINAL_ID, "water", "60120001", "刘大强", "城西区", 100, cap_fen=1000)
    with pytest.raises(PiiKeyMismatch, match="Restore this terminal's own key file"):
        MoneyJournal(journal_path, PiiKey.create(tmp_path / "other.key"), clock)


def test_a_value_decrypts_only_in_its_own_row_and_field(key):
    sealed = key.encrypt("3201100017", table="payments", row="T0001-20261123-000001", field="account_no")
    assert key.decrypt(sealed, table="payments", row="T0001-20261123-000001", field="account_no") == "3201100017"
    with pytest.raises(PiiDecryptionError):
        key.decrypt(sealed, table="payments", row="T0001-20261123-000002", field="account_no")
    with pytest.raises(PiiDecryptionError):
        key.decrypt(sealed, table="payments", row="T0001-20261123-000001", field="holder")


def test_sealing_the_same_value_twice_gives_different_bytes(key):
    one, two = (key.encrypt("张小明", table="payments", row="r", field="holder") for _ in range(2))
    assert one != two and one[1:13] != two[1:13]  # a fresh 96-bit nonce each time


def test_ciphertext_moved_to_another_row_of_the_journal_fails_to_decrypt(journal):
    first = journal.open_payment(TERMINAL_ID, "electricity", "3201100017", "张小明", "城东区", 100, cap_fen=1000)
    second = journal.open_payment(TERMINAL_ID, "electricity", "3201100025", "李四", "高新区", 100, cap_fen=1000)
    conn = journal._db.conn  # the attacker's view: raw SQL on the file
    with conn:
        conn.execute("UPDATE payments SET account_no_enc = (SELECT account_no_enc FROM payments "
                     "WHERE transaction_no = ?) WHERE transaction_no = ?",
                     [first.transaction_no, second.transaction_no])
    assert journal.personal_data(first.transaction_no).account_no == "3201100017"
    with pytest.raises(PiiDecryptionError, match="moved from another row"):
        journal.personal_data(second.transaction_no)


def test_the_journal_file_holds_no_personal_data_in_clear(journal, journal_path):
    journal.open_payment(TERMINAL_ID, "electricity", "3201100017", "张小明", "城东区幸福路8号", 100, cap_fen=1000)
    journal.close()
    raw = b"".join(p.read_bytes() for p in journal_path.parent.iterdir() if p.is_file())
    for secret in ("3201100017", "张小明", "幸福路"):
        assert secret.encode() not in raw
    assert "32****0017".encode() in raw and "张*明".encode() in raw  # the masked forms are kept for slips


def test_the_key_file_is_not_readable_by_the_umask_of_a_careless_installer(tmp_path):
    old = os.umask(0)
    try:
        PiiKey.create(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
