"""What the journal hands out: frozen records of payments, card purchases, notes, the cash box."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contract.card_token import PurseUpdate, WriteToken
from contract.payment_rules import credited_to_balance_fen
from offline_store.journal.states import ON_CARD, PAID_NOT_WRITTEN, PaymentState, PurchaseState, UnassignedKind


@dataclass(frozen=True)
class Payment:
    """A payment as the journal holds it; amounts in fen, personal data masked."""

    transaction_no: str
    terminal_id: str
    utility: str
    account_masked: str
    holder_masked: str
    amount_due_fen: int
    cap_fen: int
    state: PaymentState
    paid_fen: int
    notes: tuple[tuple[int, int], ...]  # (denomination_fen, count), ascending
    opened_at: float
    committed_at: float | None
    paid_at: str | None  # ISO 8601 with offset, as posted
    finished_at: float | None  # posted, referred or cancelled
    receipt_no: str | None
    posted_at: str | None
    balance_after_fen: int | None
    arrears_after_fen: int | None
    error_code: str | None
    error_message: str | None
    attempts: int  # failed posting attempts (each left it pending)
    recovered: bool  # finished by recover() after a crash: print a recovery slip
    purged: bool  # personal data erased by retention

    @property
    def note_counts(self) -> dict[int, int]:
        return dict(self.notes)

    @property
    def note_count(self) -> int:
        return sum(count for _, count in self.notes)

    @property
    def credited_to_balance_fen(self) -> int:
        return credited_to_balance_fen(self.paid_fen, self.amount_due_fen)


@dataclass(frozen=True)
class PurchaseRecord:
    """A prepaid card purchase as the journal holds it; amounts in fen, the account masked.

    ``transaction_no`` is the payment row that holds its cash (its notes,
    escrow marks and cash box count are a payment's); None for the rewrite
    of a purchase another terminal took the cash for.  ``purchase_count`` is
    the count the card carries once it is written (fixed by the order);
    the token's fields are those of the billing system's write token.
    """

    purchase_no: str
    transaction_no: str | None
    terminal_id: str
    utility: str
    card_serial: str
    account_masked: str
    method: str  # how it was paid: "cash" (or "elsewhere": another terminal took the money)
    state: PurchaseState
    chosen_fen: int  # what the customer chose to buy
    min_amount_fen: int
    max_amount_fen: int
    card_count_before: int  # the card's purchase count when it was read for the order
    purchase_count: int | None  # None until ordered
    paid_fen: int  # the cash taken here: its notes so far while taking cash, then as committed
    notes: tuple[tuple[int, int], ...]  # (denomination_fen, count), ascending
    paid_at: str | None  # ISO 8601 with offset, as posted
    receipt_no: str | None
    arrears_paid_fen: int | None
    credit_fen: int | None  # the credit bought, once booked
    token_credit_fen: int | None
    token_count: int | None
    token_mac: bytes | None
    issued_at: str | None
    write_attempts: int  # writes begun (journaled before each is sent)
    write_outcome: str | None  # the last write's outcome (drivers.pcsc.purse_write.WriteOutcome value)
    write_reason: str | None  # why it is not on the card, when it is not
    card_count_after: int | None  # the card read back after the write
    card_credit_after_fen: int | None
    written_at: float | None
    confirmed_at: str | None
    attempts: int  # failed posting attempts of its payment or confirmation
    error_code: str | None
    error_message: str | None  # the technician's detail (never the billing system's words, which may name someone)
    opened_at: float
    finished_at: float | None
    recovered: bool  # carried forward by recovery after a crash: a recovery slip

    @property
    def write_token(self) -> WriteToken | None:
        if self.token_mac is None:
            return None
        update = PurseUpdate(self.card_serial, self.purchase_no, self.token_credit_fen, self.token_count)
        return WriteToken(update, self.token_mac)

    @property
    def paid_not_written(self) -> bool:
        """Money taken (or booked) and not on the card: the card is written again at its next insertion."""
        return self.state in PAID_NOT_WRITTEN

    @property
    def on_card(self) -> bool:
        return self.state in ON_CARD

    @property
    def note_count(self) -> int:
        return sum(count for _, count in self.notes)


class MobileOrderState(StrEnum):
    """A mobile payment order's place in the journal (offline_store/journal/mobile_orders.py).

    The contract's statuses (docs/api.md, 3.14) plus the kiosk's own two:
    ``opened`` (journaled, the order number exists, not yet known to the
    billing system) and ``not_created`` (the billing system never made it:
    refused, or not found after a lost create; nothing can be paid).
    """

    OPENED = "opened"
    CREATED = "created"
    USER_PAYING = "user_paying"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    REVERSED = "reversed"
    NOT_CREATED = "not_created"


@dataclass(frozen=True)
class MobileOrderRecord:
    """A mobile payment order as the journal holds it: the account masked, no payment code.

    ``final``: nothing about it can change any more (the billing system said
    so, or it was never made).  ``deadline_at`` is the kiosk's clock at the
    first answer plus its ``expires_in_s``: the QR's expiry, or for a scanned
    code the moment past which an unknown result is reversed.
    """

    order_no: str
    terminal_id: str
    utility: str
    account_masked: str
    purchase_no: str | None
    method: str  # contract.mobile.PaymentMethod value
    amount_fen: int
    state: MobileOrderState
    final: bool
    created_at: str  # as sent in the create body, the same on every attempt
    opened_at: float
    expires_at: str | None
    deadline_at: float | None
    qr_payload: str | None
    provider: str | None
    provider_ref_masked: str | None
    decline_reason: str | None
    paid_at: str | None
    posted_to: str | None
    receipt_no: str | None  # the billing system's posting of it (it posts a paid order itself)
    posted_at: str | None
    balance_after_fen: int | None
    arrears_after_fen: int | None
    cancel_asked_at: float | None  # journaled before the cancel (3.16) is sent
    reverse_asked_at: float | None  # journaled before the reverse (3.17) is sent
    asked: int  # answers recorded
    attempts: int  # asks that failed (network, a malformed reply): it is asked again
    error_code: str | None
    error_message: str | None  # the technician's detail, never the billing system's words
    last_asked_at: float | None
    finished_at: float | None
    recovered: bool  # carried forward after a restart: a recovery slip when it was paid
    purged: bool

    @property
    def paid(self) -> bool:
        return self.state is MobileOrderState.PAID

    @property
    def waiting(self) -> bool:
        """The phone (or the provider) may still act on it: opened, created or user_paying."""
        return self.state in (MobileOrderState.OPENED, MobileOrderState.CREATED, MobileOrderState.USER_PAYING)


@dataclass(frozen=True)
class PurchaseOutboxEntry:
    """One posting a purchase waits for: its ``payment`` or the ``confirm`` of its write."""

    id: int
    purchase_no: str
    step: str
    queued_at: float


@dataclass(frozen=True)
class Note:
    id: int
    transaction_no: str
    denomination_fen: int
    acceptor_ref: str
    stacked_at: float


@dataclass(frozen=True)
class UnassignedNote:
    """A note (or a doubt about one) that belongs to no payment's amount."""

    id: int
    recorded_at: float
    denomination_fen: int | None  # None: the acceptor could not say
    transaction_no: str | None  # the payment it arrived during, if any
    acceptor_ref: str | None
    kind: UnassignedKind
    reason: str


@dataclass(frozen=True)
class PersonalData:
    account_no: str
    holder: str
    address: str


@dataclass(frozen=True)
class RecoveryCase:
    """What :meth:`MoneyJournal.recover` did with one payment a crash left open."""

    transaction_no: str
    state_before: str
    action: str  # "committed" (queued for posting) | "cancelled"
    paid_fen: int
    note_count: int


@dataclass(frozen=True)
class PowerUpReconciliation:
    action: str  # "none" | "unassigned"
    transaction_no: str | None
    unassigned: UnassignedNote | None
    explanation: str


@dataclass(frozen=True)
class CashBox:
    """What should be in the cash box (since the last collection, or ever)."""

    since: float | None  # time of the last collection; None: since the journal began
    credited: tuple[tuple[int, int], ...]  # (denomination_fen, count) of notes in payments
    unassigned: tuple[tuple[int, int], ...]  # notes certainly in the box but in no payment
    to_check: tuple[UnassignedNote, ...]  # doubts the collection count settles
    test_notes: tuple[tuple[int, int], ...] = ()  # fed during device tests: in the box, in no payment

    @property
    def counts(self) -> dict[int, int]:
        """Notes per denomination the box should hold."""
        counts: dict[int, int] = {}
        for denomination, count in self.credited + self.unassigned + self.test_notes:
            counts[denomination] = counts.get(denomination, 0) + count
        return dict(sorted(counts.items()))

    @property
    def amounts(self) -> dict[int, int]:
        return {d: d * c for d, c in self.counts.items()}

    @property
    def total_fen(self) -> int:
        return sum(self.amounts.values())

    @property
    def note_count(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Collection:
    """One emptying of the cash box (清机): what the journal expected, what was counted, and why.

    ``expected`` is what the journal said the box held when it was emptied
    (payments, unassigned notes in the box, test notes); ``counted`` is what
    the collector counted, per denomination.  ``unassigned``, ``test_notes``
    and ``doubts`` break the period down for the slip.  Collections made
    before counting was recorded (schema v4) have ``counted == expected``.
    """

    id: int
    number: str  # C-<yyyymmdd>-<id>: on the slip and in the report
    collected_at: float
    by: str
    since: float | None  # the collection before it; None: since the journal began
    expected: dict[int, int]
    counted: dict[int, int]
    note: str = ""
    test_notes: tuple[tuple[int, int], ...] = ()
    unassigned: tuple[tuple[int, int], ...] = ()
    doubts: tuple[UnassignedNote, ...] = ()

    @property
    def expected_fen(self) -> int:
        return sum(d * c for d, c in self.expected.items())

    @property
    def counted_fen(self) -> int:
        return sum(d * c for d, c in self.counted.items())

    @property
    def difference_fen(self) -> int:
        """Counted minus expected: below zero the box held less than the journal says."""
        return self.counted_fen - self.expected_fen

    @property
    def differences(self) -> dict[int, int]:
        """Counted minus expected notes, per denomination that either names."""
        denominations = sorted(set(self.expected) | set(self.counted))
        return {d: self.counted.get(d, 0) - self.expected.get(d, 0) for d in denominations}

    @property
    def to_check(self) -> int:
        """How many doubts (notes maybe in the box) this collection's count settled."""
        return len(self.doubts)

    # What was taken out of the box: the names callers used before counts were typed in.
    @property
    def counts(self) -> dict[int, int]:
        return self.counted

    @property
    def total_fen(self) -> int:
        return self.counted_fen


_PAYMENT_COLUMNS = (
    "p.transaction_no, p.terminal_id, p.utility, p.account_masked, p.holder_masked, p.amount_due_fen, p.cap_fen, "
    "p.state, p.paid_fen, p.opened_at, p.committed_at, p.paid_at, p.finished_at, p.receipt_no, p.posted_at, "
    "p.balance_after_fen, p.arrears_after_fen, p.error_code, p.error_message, p.attempts, "
    "p.recovered, p.purged_at")


def _payment(row: tuple, notes: tuple[tuple[int, int], ...]) -> Payment:
    (txn, terminal, utility, account_masked, holder_masked, due, cap, state, paid, opened, committed, paid_at,
     finished, receipt, posted_at, balance, arrears, code, message, attempts, recovered, purged_at) = row
    return Payment(txn, terminal, utility, account_masked, holder_masked, due, cap, PaymentState(state), paid,
                   tuple(map(tuple, notes)), opened, committed, paid_at, finished, receipt, posted_at, balance,
                   arrears, code, message, attempts, bool(recovered), purged_at is not None)
