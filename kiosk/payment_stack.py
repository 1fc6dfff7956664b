"""Bringing payments up when the kiosk starts: journal, recovery, sync worker, service.

The order is the money's: the journal is opened (its key checked) and every
payment a crash or power cut left open is finished — notes stacked are
committed and queued, a payment without notes is cancelled — *before* the
acceptor may take a new note; then the sync worker starts posting the outbox;
only then is the :class:`~kiosk.payments.PaymentService` handed to the screen.
Recovery slips are printed for the payments recovered, when the printer can.

:meth:`PaymentStack.open` does all of it and blocks: the application layer
runs it as a background operation after the home screen is up.  A journal
that cannot be opened leaves the kiosk without cash payments (:class:`CashOff`
says why, and the log and the console say it too) rather than without a screen.  The key check itself runs before the
window (:func:`check_journal_key`), so a missing key refuses the start.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from kiosk.config import KioskConfig
from kiosk.devices import KioskDevices

log = logging.getLogger("kiosk.payment")

JOURNAL_FILE = "journal.sqlite"
BACKUPS_KEPT = 7
DEVICES_START_TIMEOUT_S = 30.0
JOURNAL_WAIT_S = 30.0  # the longest the acceptor waits for the journal to open at start


def journal_path(config: KioskConfig) -> Path:
    return Path(config.storage.data_dir) / JOURNAL_FILE


def disk_reserve(config: KioskConfig):
    """The journal's free-space floor and ballast (``storage.min_free_mib``, ``storage.reserve_mib``)."""
    from offline_store.disk_reserve import DiskReserve

    storage = config.storage
    return DiskReserve(storage.data_dir, reserve_bytes=getattr(storage, "reserve_mib", 8) << 20,
                       min_free_bytes=getattr(storage, "min_free_mib", 64) << 20)


def check_journal_key(config: KioskConfig) -> str | None:
    """Before the window: the message to refuse the start with, or None.

    Without its key the journal's personal data cannot be read and new
    payments cannot be sealed; a kiosk that took money anyway could not
    account for it.  On a fresh journal the key is created (mode 0600)."""
    import sqlite3

    from offline_store.journal_file import file_holds_personal_data
    from offline_store.pii import PiiKeyError, open_or_create_key

    try:
        open_or_create_key(config.storage.key_file, file_holds_personal_data(journal_path(config)))
    except PiiKeyError as exc:
        return str(exc)
    except sqlite3.DatabaseError:
        return None  # a broken journal is not the key's problem: the payment stack keeps cash off and says why
    return None


class CashOff(Exception):
    """The money journal keeps cash payments off: ``code`` (JOURNAL_MISSING, …) and the
    technician's ``reason``, which says what to do."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class PaymentStack:
    def __init__(self, config: KioskConfig, devices: KioskDevices, post_client: Callable[[], object],
                 client_for: Callable[[str], object] | None = None) -> None:
        """``post_client()`` gives the backend client the sync worker posts with (called on its thread);
        ``client_for(purpose)`` one per kind of work for card top-ups (None: no top-ups)."""
        from kiosk.top_up_stack import TopUpStack

        self.config = config
        self.devices = devices
        self._post_client = post_client
        self._client_for = client_for
        self.top_up = TopUpStack()
        self.journal = None
        self.sync = None
        self.service = None
        self.problem: tuple[str, str] | None = None  # (code, reason) when cash is off because of the journal
        self._stopping = threading.Event()
        # The acceptor's notes outside a payment wait for this before they are written.
        self._journal_ready = threading.Event()

    def open(self):
        """Open and recover the journal, start the sync worker, build the payment service.

        Blocks (run it off the GUI thread).  Returns the
        :class:`~kiosk.payments.PaymentService`, or None when there is nothing
        to pay with (no acceptor fitted, the devices did not start, the kiosk
        is stopping); raises :class:`CashOff` when the journal keeps cash off.
        """
        from offline_store.outbox import SyncWorker

        journal, cases = self._open_journal()
        self.journal = journal
        self._journal_ready.set()  # the acceptor's news held back so far is written now
        self.sync = SyncWorker(self.journal, lambda request: self._post_client().post_payment(request),
                               status=lambda txn: self._post_client().payment_status(txn))
        self.sync.start()
        threading.Thread(target=self._housekeeping, name="journal-housekeeping", daemon=True).start()
        if not self.devices.wait_started(DEVICES_START_TIMEOUT_S) or self._stopping.is_set():
            log.error("devices did not start; cash payments are off")
            return None
        if self.devices.acceptor is None:
            return None  # no acceptor fitted: nothing to pay with
        from kiosk.payments import PaymentService

        self.service = PaymentService(self.config, self.journal, self.sync, self.devices.acceptor,
                                      self.devices.printer)
        for case in cases:
            self.service.print_recovery_slip(case.transaction_no)
        if self._client_for is not None:
            self._open_top_up()
        return self.service

    def _open_top_up(self) -> None:
        """Card top-ups after the bill payments (their recovery is bounded); a failure leaves cash for bills."""
        try:
            self.top_up.open(self.config, self.journal, self.devices, self._client_for)
        except Exception:  # noqa: BLE001 - no top-up is not no cash: the bills are still paid
            log.critical("card top-ups could not be opened; prepaid cards show their bill only", exc_info=True)

    def _open_journal(self):
        from offline_store.journal import JournalRefused, MoneyJournal

        try:
            journal = MoneyJournal.open(journal_path(self.config), self.config.storage.key_file,
                                        reserve=disk_reserve(self.config))
            journal.reserve.ensure()
            cases = journal.recover(time.time())
        except JournalRefused as refused:
            raise self._cash_off(refused.inspection.problem.value, str(refused)) from None
        except Exception as error:  # noqa: BLE001 - no journal, no cash: the inquiry goes on
            log.critical("money journal could not be opened; cash payments are off", exc_info=True)
            raise self._cash_off("JOURNAL_ERROR", f"{type(error).__name__}: {error}") from None
        for case in cases:
            log.warning("payment recovered after an interruption", extra={"case": str(case)})
        return journal, cases

    def _cash_off(self, code: str, reason: str) -> "CashOff":
        """No journal, no cash: the technician reads why on the console and in the log."""
        self.problem = (code, reason)
        log.critical("cash payments are off: the money journal cannot be used",
                     extra={"code": code, "reason": reason})
        print(f"kiosk: cash payments are off — {reason}", file=sys.stderr, flush=True)
        self._journal_ready.set()  # nothing to wait for: the acceptor's news goes to the log
        return CashOff(code, reason)

    # -- notes the acceptor reports outside any payment (driver thread) ------------
    def acceptor_event(self, event) -> None:
        """Give to :meth:`KioskDevices.start` as ``on_acceptor_event``.

        A power-up with a note inside, or a note stacked that no cash-in saw
        (the kiosk died between STACK and VEND VALID), is written to the
        journal here, on the driver's thread, *before* the driver goes on
        (RESET, ACK): until the journal is open the driver waits.  Held only
        in memory, such a note would be lost by a crash in that window.
        """
        from drivers.id003.events import NoteUnaccounted, PowerUpWithNote

        if not isinstance(event, PowerUpWithNote | NoteUnaccounted):
            return
        if not self._journal_ready.wait(JOURNAL_WAIT_S) or self.journal is None:
            # The log is the only trace left: everything the technician needs is in it.
            log.critical("acceptor note not journaled: the journal is not open", extra={"event": repr(event)})
            return
        if isinstance(event, PowerUpWithNote):
            outcome = self.journal.reconcile_power_up_note(event.where, event.denomination_fen,
                                                           event.already_credited)
            log.warning("acceptor powered up with a note inside", extra={
                "where": event.where, "denomination_fen": event.denomination_fen,
                "already_credited": event.already_credited, "journal": outcome.action,
                "detail": outcome.explanation})
        else:
            txn, fen, reason = None, event.denomination_fen, event.reason
            if fen is None and (claimed := self.journal.claim_orphaned_mark()) is not None:
                # The write-ahead mark of the note the last run told to stack: its value and payment.
                txn, fen = claimed
                reason = f"{reason}; its escrow mark says {fen // 100} yuan for payment {txn}"
            note = self.journal.record_unassigned_note(txn, fen, reason)
            log.error("note possibly in the cash box without a credit", extra={
                "denomination_fen": event.denomination_fen, "reason": event.reason, "journal_id": note.id})

    # -- housekeeping: retention and backups --------------------------------------------
    def _housekeeping(self) -> None:
        """Purge old personal data and back the journal up, now and then every interval."""
        storage = self.config.storage
        interval_s = storage.backup_interval_h * 3600
        while not self._stopping.is_set():
            try:
                purged = self.journal.purge_personal_data(storage.retention_days)
                _remove_unfinished_backups(Path(storage.backup_dir))
                backup = Path(storage.backup_dir) / f"journal-{time.strftime('%Y%m%d-%H%M%S')}.sqlite"
                self.journal.backup_to(backup)
                _keep_newest(Path(storage.backup_dir), BACKUPS_KEPT)
                log.info("journal housekeeping", extra={"purged": purged, "backup": str(backup)})
            except Exception:  # noqa: BLE001 - a failed backup is logged; the money is in the journal
                log.exception("journal housekeeping failed")
            self._stopping.wait(interval_s)

    def stop(self) -> None:
        self._stopping.set()
        self.top_up.stop(5.0)
        if self.sync is not None:
            self.sync.stop(5.0)
        if self.journal is not None:
            self.journal.close()


def _keep_newest(folder: Path, count: int) -> None:
    backups = sorted(folder.glob("journal-*.sqlite"))
    for old in backups[:-count]:
        old.unlink(missing_ok=True)


def _remove_unfinished_backups(folder: Path) -> None:
    """A backup cut short (the kiosk killed mid-copy) leaves its temporary copy:
    a whole journal, personal data included.  Only this thread writes backups,
    so any temporary found before a new one starts is such a leftover."""
    for leftover in folder.glob(".journal-*.tmp*"):
        leftover.unlink(missing_ok=True)
