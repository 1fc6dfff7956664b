"""The money journal: every cash payment and every stacked note, on disk first.

DESIGN.md, "Money is written down before it is acknowledged": each method
that changes a payment commits its SQLite transaction (WAL,
``synchronous=FULL``, through :func:`offline_store.device_archive.open_database`)
before it returns, so the caller may show the change or tell the backend only
after the journal holds it.  A power cut at any instant leaves either the
state before a call or the state after it.

A payment is a small state machine (docs/journal.md has the picture)::

    opened ──start_cash_in──▶ cash_in ──commit──▶ committed ──▶ posted
       │                        │                    │  ▲  └──▶ referred
       └────────cancel──────────┴──▶ cancelled       ▼  │
                  (no note stacked)               pending

* ``opened``: the customer saw the amount due; the transaction number exists.
* ``cash_in``: the acceptor is enabled; each stacked note is a row.
* ``committed``: the amount is the sum of the notes, and the payment is in the
  outbox, written in the same transaction (the sync worker posts it).
* ``pending``: a posting attempt failed in a way that may pass; still in the outbox.
* ``posted`` / ``referred``: the billing system booked it / refused it for
  good (e.g. the account is closed).  A referred payment is kept: the staffed
  counter settles it with the transaction number.
* ``cancelled``: the customer left before any note was stacked.

The transaction number is the idempotency key of the posting (docs/api.md,
3.4 and 5): ``<terminal>-<yyyymmdd>-<6-digit daily sequence>``.  The sequence
of each day is a row of its own that only ever grows, so numbers stay unique
across restarts and when the clock goes back (the primary key makes a
duplicate impossible in any case).

Notes are never lost: :meth:`MoneyJournal.record_note` writes a note that
cannot join its payment (the payment is no longer in cash-in, or unknown) to
``unassigned_notes`` before it refuses, so the cash box count still includes
it and the technician's report lists it.  A note a technician feeds during a
device test is journaled too (:meth:`MoneyJournal.record_test_note`): it is in
the box and in no payment.  Notes are never counted twice: each
carries the acceptor's reference (driver instance + ``NoteCredited.sequence``),
unique over the whole journal.

A collection (清机, :meth:`MoneyJournal.record_collection`) records in one
transaction what the collector counted against what the journal expected,
the difference and the collector's note, and starts the box's counters again.

A prepaid card purchase (:mod:`~offline_store.journal.purchases`,
:mod:`~offline_store.journal.purchase_steps`) is a state machine of its own
whose cash is a payment row: its notes are credited by the same code, once,
and counted in the box; its postings go through the purchase outbox.

A mobile payment order (扫码支付, :mod:`~offline_store.journal.mobile_orders`)
is journaled ``opened`` before it is made and then follows what the billing
system answers; the billing system posts a paid order itself, so the journal
records its receipt and queues nothing.

Personal data (account number, holder, address) is stored only sealed with
:class:`offline_store.pii.PiiKey`; ``account_masked`` and ``holder_masked``
are kept in clear for slips and reports.
"""

from __future__ import annotations

from offline_store.journal.cash_box import BoxChanged, CashBoxBook, UnknownCollection
from offline_store.journal.core import JournalCore
from offline_store.journal.errors import (
    DuplicateAcceptorRef,
    JournalError,
    JournalRefused,
    JournalTooNew,
    MoneyStacked,
    NoteOutsideCashIn,
    NothingPaid,
    PaymentStateError,
    PersonalDataPurged,
    SequenceExhausted,
    UnknownPayment,
)
from offline_store.journal.mobile_orders import MobileOrders, MobileOrderStateError, UnknownMobileOrder
from offline_store.journal.posting import Posting
from offline_store.journal.purchase_steps import PurchaseSteps
from offline_store.journal.purchases import PurchaseBook, PurchaseStateError, UnknownPurchase, purchase_number
from offline_store.journal.reading import Reading
from offline_store.journal.records import (
    CashBox,
    Collection,
    MobileOrderRecord,
    MobileOrderState,
    Note,
    Payment,
    PersonalData,
    PurchaseOutboxEntry,
    PurchaseRecord,
    PowerUpReconciliation,
    RecoveryCase,
    UnassignedNote,
)
from offline_store.journal.recovery import Recovery
from offline_store.journal.retention import Retention
from offline_store.journal.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from offline_store.journal.states import (
    CANCELLED,
    CASH_IN,
    COMMITTED,
    IN_BOX,
    IN_OUTBOX,
    MAYBE_IN_BOX,
    OPENED,
    ON_CARD,
    PAID_NOT_WRITTEN,
    PENDING,
    POSTED,
    PURCHASE_FINAL,
    PURCHASE_UNFINISHED,
    REFERRED,
    RETURNED_AFTER_CREDIT,
    STATES,
    TEST_NOTE,
    UNASSIGNED_KINDS,
    UNFINISHED,
    PaymentState,
    PurchaseState,
    UnassignedKind,
)
from offline_store.journal.taking_cash import TakingCash


class MoneyJournal(JournalCore, PurchaseBook, PurchaseSteps, MobileOrders, TakingCash, Posting, Reading, Recovery,
                   Retention, CashBoxBook):
    """The money journal in one SQLite file; safe to call from any thread.

    ``key`` seals personal data; ``clock`` gives epoch seconds (the journal's
    notion of "now" for every timestamp it writes).  Each idea lives in a
    module of its own (see the package); this class only joins them.  The
    purchases come before the payments: their :meth:`recover` finishes the
    purchases' cash before the payments' recovery runs.  The mobile orders
    come before Retention: their purge adds the orders' sealed account numbers.
    """


__all__ = [
    "BoxChanged", "CANCELLED", "CASH_IN", "COMMITTED", "IN_BOX", "IN_OUTBOX", "MAYBE_IN_BOX", "MIGRATIONS", "OPENED", "PENDING",
    "POSTED", "REFERRED", "RETURNED_AFTER_CREDIT", "SCHEMA_VERSION", "STATES", "TEST_NOTE", "UNASSIGNED_KINDS",
    "UNFINISHED",
    "CashBox", "Collection", "DuplicateAcceptorRef", "JournalError", "JournalRefused", "JournalTooNew",
    "MoneyJournal", "MoneyStacked", "Note", "NoteOutsideCashIn", "NothingPaid", "Payment", "PaymentState",
    "PaymentStateError", "PersonalData", "PersonalDataPurged", "PowerUpReconciliation", "RecoveryCase",
    "SequenceExhausted", "UnassignedKind", "UnassignedNote", "UnknownCollection", "UnknownPayment", "migrate",
    "ON_CARD", "PAID_NOT_WRITTEN", "PURCHASE_FINAL", "PURCHASE_UNFINISHED", "PurchaseOutboxEntry", "PurchaseRecord",
    "PurchaseState", "PurchaseStateError", "UnknownPurchase", "purchase_number",
    "MobileOrderRecord", "MobileOrderState", "MobileOrderStateError", "UnknownMobileOrder",
]
