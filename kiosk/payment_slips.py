"""The slips (凭条) of a cash bill payment, laid out from data, in Chinese and English.

Three slips, all built from one :class:`PaymentSlipData` through the slip model
of ``drivers/escpos/slip.py`` (so Chinese is real GB18030 in the printer's
Chinese mode, and a Chinese character takes two columns of the paper):

* :func:`payment_slip` — the result of a payment (ISSUES #5, "Result and
  slip"): posted, pending (received, will be posted — the customer's proof of
  payment) or referred (take it to a staffed counter);
* :func:`referral_slip` — a failure (acceptor jammed with money inside, the
  backend rejected the account): what happened, what became of the money,
  what to do, which counter (MISSION rule 3);
* :func:`recovery_slip` — printed after a restart finished a payment that a
  power cut left open.

Every slip carries both languages (the hall's customers read either), the
transaction number as text and as a QR code whose payload is the number
itself (a counter's scanner reads it as typed), the hotline, and a cut.

Only masked personal data ever reaches a slip: :class:`PaymentSlipData`
refuses an account number or a name that does not look masked (rule 5).
The wording follows the payment screens (``paid.*`` in
``assets/i18n/messages.toml``) so the slip and the screen say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contract.payment_rules import credited_to_balance_fen, still_due_fen
from contract.payment_state import PENDING, POSTED, REFERRED, PaymentState
from drivers.escpos.slip import (
    PAPER_80MM,
    Element,
    Field,
    QrCode,
    Separator,
    Slip,
    Text,
    Title,
    columns_of,
)
from kiosk.i18n import Translator, yuan
from kiosk.slip_parts import EN, ZH, both, check_masked, headline, label, note_name

Status = PaymentState  # POSTED, PENDING or REFERRED: what a slip can say of the money
STATUSES: tuple[PaymentState, ...] = (POSTED, PENDING, REFERRED)

@dataclass(frozen=True)
class PaymentSlipData:
    """What a payment slip says; amounts in fen, personal data already masked.

    ``notes`` is ``((denomination_fen, count), ...)`` and must add up to
    ``paid_fen``: a slip whose figures disagree is refused when built, not
    handed to a customer.  ``receipt_no`` is the backend's receipt number,
    present exactly when the payment is posted.  ``counter_hint_zh/en`` name
    the staffed counter to go to (e.g. "3号窗口" / "counter 3"); without them
    the slip says "人工服务窗口" / "a staffed counter".
    """

    hall_name_zh: str
    hall_name_en: str
    terminal_id: str
    hotline: str
    printed_at: datetime
    transaction_no: str
    utility_name_zh: str
    utility_name_en: str
    account_masked: str
    holder_masked: str
    amount_due_fen: int
    paid_fen: int
    notes: tuple[tuple[int, int], ...]
    status: Status
    receipt_no: str = ""
    balance_after_fen: int | None = None
    counter_hint_zh: str = ""
    counter_hint_en: str = ""

    def __post_init__(self) -> None:
        if not self.transaction_no.strip():
            raise ValueError("transaction_no is empty: the slip's QR code and the counter need it")
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r}: one of {', '.join(STATUSES)}")
        if (self.status == POSTED) != bool(self.receipt_no.strip()):
            raise ValueError(f"receipt_no={self.receipt_no!r} with status={self.status!r}: "
                             "a receipt number exactly when the payment is posted")
        for name in ("amount_due_fen", "paid_fen"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: an amount on a slip is never negative")
        if any(denomination <= 0 or count <= 0 for denomination, count in self.notes):
            raise ValueError(f"notes={self.notes!r}: denominations and counts are positive")
        notes_fen = sum(denomination * count for denomination, count in self.notes)
        if notes_fen != self.paid_fen:
            raise ValueError(f"notes add up to {notes_fen} fen but paid_fen={self.paid_fen}")
        _check_masked("account_masked", self.account_masked, required=True)
        _check_masked("holder_masked", self.holder_masked, required=False)

    @property
    def credited_to_balance_fen(self) -> int:
        return credited_to_balance_fen(self.paid_fen, self.amount_due_fen)

    @property
    def counter_zh(self) -> str:
        return self.counter_hint_zh.strip() or Translator("zh")("slip.default_counter")

    @property
    def counter_en(self) -> str:
        return self.counter_hint_en.strip() or Translator("en")("slip.default_counter")



# ---------------------------------------------------------------- the slips
# Every word comes from assets/i18n/messages.toml (``slip.*``), in both languages.

_ZH, _EN = ZH, EN
_label, _both, _headline, _check_masked, _note = label, both, headline, check_masked, note_name


def payment_slip(data: PaymentSlipData, columns: int = PAPER_80MM) -> Slip:
    """The slip of a finished payment: who, what, how much, and whether it reached the account."""
    elements = [
        *_heading("slip.payment_title", data),
        Separator(),
        *_account(data),
        Separator(),
        *_amounts(data),
        *_status(data, columns),
        *_lookup(data),
        *_footer(data),
    ]
    return Slip(tuple(elements), columns=columns)


def referral_slip(data: PaymentSlipData, what_happened_zh: str, what_happened_en: str,
                  columns: int = PAPER_80MM) -> Slip:
    """A failure the customer takes to a staffed counter: what happened, the money, what to do."""
    if not what_happened_zh.strip() or not what_happened_en.strip():
        raise ValueError("a referral slip says what happened in both languages")
    elements = [
        *_heading("slip.referral_title", data),
        Separator("*"),
        Text(_label("slip.what_happened"), bold=True),
        Text(what_happened_zh),
        Text(what_happened_en),
        Separator("*"),
        Text(_label("slip.your_money"), bold=True),
        *_account(data),
        *_amounts(data),
        *_money(data),
        Separator("*"),
        Text(_label("slip.what_to_do"), bold=True),
        Text(_ZH("slip.go_to_counter", counter=data.counter_zh)),
        Text(_EN("slip.go_to_counter", counter=data.counter_en)),
        *_prominent_transaction(data, columns),
        *_lookup(data),
        *_footer(data, thanks=False),
    ]
    return Slip(tuple(elements), columns=columns)


def recovery_slip(data: PaymentSlipData, columns: int = PAPER_80MM) -> Slip:
    """The slip a restart prints after finishing a payment that a power cut left open."""
    elements = [
        *_heading("slip.payment_title", data),
        Separator("*"),
        *_both("slip.recovered", bold=True),
        *_both("slip.recovered_money"),
        Separator("*"),
        *_account(data),
        Separator(),
        *_amounts(data),
        *_status(data, columns),
        *_lookup(data),
        Text(_ZH("slip.if_in_doubt", counter=data.counter_zh)),
        Text(_EN("slip.if_in_doubt", counter=data.counter_en)),
        *_footer(data),
    ]
    return Slip(tuple(elements), columns=columns)


# ---------------------------------------------------------------- the parts


def _heading(title_key: str, data: PaymentSlipData) -> list[Element]:
    return [
        Title(_ZH(title_key)),
        Text(_EN(title_key), "center", bold=True),
        Text(data.hall_name_zh, "center"),
        Text(data.hall_name_en, "center"),
        Separator("="),
        Field(_label("slip.terminal"), data.terminal_id),
        Field(_label("slip.time"), data.printed_at.strftime("%Y-%m-%d %H:%M:%S")),
        Field(_label("slip.transaction"), data.transaction_no, bold=True),
    ]


def _account(data: PaymentSlipData) -> list[Element]:
    elements: list[Element] = [
        Field(_label("slip.utility"), f"{data.utility_name_zh} {data.utility_name_en}".strip()),
        Field(_label("slip.account"), data.account_masked),
    ]
    if data.holder_masked:
        elements.append(Field(_label("slip.name"), data.holder_masked))
    return elements


def _amounts(data: PaymentSlipData) -> list[Element]:
    elements: list[Element] = [
        Field(_label("slip.amount_due"), yuan(data.amount_due_fen)),
        Field(_label("slip.paid"), yuan(data.paid_fen), bold=True),
    ]
    for denomination, count in sorted(data.notes, reverse=True):
        elements.append(Field(f"{_note(denomination)} × {count}", yuan(denomination * count)))
    elements.append(Field(_label("slip.to_balance"), yuan(data.credited_to_balance_fen)))
    if owed := still_due_fen(data.paid_fen, data.amount_due_fen):
        elements.append(Field(_label("slip.still_owed"), yuan(owed), bold=True))
    return elements


def _status(data: PaymentSlipData, columns: int) -> list[Element]:
    if data.status == POSTED:
        elements: list[Element] = [
            Separator("="),
            *_headline("slip.posted_headline", columns),
            Field(_label("slip.receipt_no"), data.receipt_no, bold=True),
        ]
        if data.balance_after_fen is not None:
            elements.append(Field(_label("slip.balance"), yuan(data.balance_after_fen)))
        return [*elements, Text(f"{_ZH('slip.keep')}{_EN('slip.keep')}", "center"), Separator("=")]
    if data.status == PENDING:
        # The customer walks away with money in the machine and nothing in the
        # account yet: this slip is their only proof, so it says so loudly.
        return [
            Separator("*"),
            *_headline("slip.pending_headline", columns),
            *_both("slip.pending_proof"),
            *_both("slip.pending_keep", bold=True),
            Separator("*"),
        ]
    return [
        Separator("*"),
        *_headline("slip.referred_headline", columns),
        *_counter(data),
        *_both("slip.referred_money_safe"),
        *_prominent_transaction(data, columns),
    ]


def _counter(data: PaymentSlipData) -> list[Element]:
    if not (data.counter_hint_zh.strip() or data.counter_hint_en.strip()):
        return []
    return [Text(f"{_label('slip.counter')}: {data.counter_zh} {data.counter_en}", "center", bold=True)]


def _prominent_transaction(data: PaymentSlipData, columns: int) -> list[Element]:
    """The transaction number the counter asks for, double size when it fits on one line."""
    number = data.transaction_no
    big: Element = Title(number) if 2 * columns_of(number) <= columns else Text(number, "center", bold=True)
    return [Text(_label("slip.transaction_no"), "center"), big]


_MONEY = {POSTED: "slip.money_posted", PENDING: "slip.money_pending", REFERRED: "slip.money_referred"}


def _money(data: PaymentSlipData) -> list[Element]:
    if data.paid_fen == 0:
        return _both("slip.money_none")
    return _both(_MONEY[data.status], paid=yuan(data.paid_fen), receipt_no=data.receipt_no)


def _lookup(data: PaymentSlipData) -> list[Element]:
    # The payload is the bare number: a counter's scanner types it into any
    # search box, and nothing else about the customer is in the code.
    return [QrCode(data.transaction_no, caption=f"{_label('slip.qr_caption')} {data.transaction_no}")]


def _footer(data: PaymentSlipData, thanks: bool = True) -> list[Element]:
    elements: list[Element] = [Separator(), Text(f"{_label('slip.hotline')} {data.hotline}", "center")]
    if thanks:
        elements.append(Text(f"{_ZH('slip.thanks')}{_EN('slip.thanks')}", "center"))
    return elements
