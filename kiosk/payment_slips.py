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

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
from kiosk.i18n import yuan

Status = Literal["posted", "pending", "referred"]
STATUSES: tuple[str, ...] = ("posted", "pending", "referred")

_UNMASKED_DIGITS = re.compile(r"\d{6,}")
_DEFAULT_COUNTER = ("人工服务窗口", "a staffed counter")


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
    credited_to_balance_fen: int
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
        if (self.status == "posted") != bool(self.receipt_no.strip()):
            raise ValueError(f"receipt_no={self.receipt_no!r} with status={self.status!r}: "
                             "a receipt number exactly when the payment is posted")
        for name in ("amount_due_fen", "paid_fen", "credited_to_balance_fen"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: an amount on a slip is never negative")
        if self.credited_to_balance_fen > self.paid_fen:
            raise ValueError(f"credited_to_balance_fen={self.credited_to_balance_fen} is more than "
                             f"paid_fen={self.paid_fen}")
        if any(denomination <= 0 or count <= 0 for denomination, count in self.notes):
            raise ValueError(f"notes={self.notes!r}: denominations and counts are positive")
        notes_fen = sum(denomination * count for denomination, count in self.notes)
        if notes_fen != self.paid_fen:
            raise ValueError(f"notes add up to {notes_fen} fen but paid_fen={self.paid_fen}")
        _check_masked("account_masked", self.account_masked, required=True)
        _check_masked("holder_masked", self.holder_masked, required=False)

    @property
    def counter_zh(self) -> str:
        return self.counter_hint_zh.strip() or _DEFAULT_COUNTER[0]

    @property
    def counter_en(self) -> str:
        return self.counter_hint_en.strip() or _DEFAULT_COUNTER[1]


def _check_masked(name: str, value: str, *, required: bool) -> None:
    # A slip leaves the hall in the customer's pocket: an unmasked account
    # number or name on it would break rule 5 for good, so it is refused here.
    if not value and not required:
        return
    if "*" not in value or _UNMASKED_DIGITS.search(value):
        raise ValueError(f"{name} does not look masked (kiosk.masking): personal data never goes on a slip")


# ---------------------------------------------------------------- the slips


def payment_slip(data: PaymentSlipData, columns: int = PAPER_80MM) -> Slip:
    """The slip of a finished payment: who, what, how much, and whether it reached the account."""
    elements = [
        *_heading("缴费凭条", "Payment slip", data),
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
        *_heading("请到人工服务窗口", "Please go to a staffed counter", data),
        Separator("*"),
        Text("发生了什么 What happened", bold=True),
        Text(what_happened_zh),
        Text(what_happened_en),
        Separator("*"),
        Text("您的钱款 Your money", bold=True),
        *_account(data),
        *_amounts(data),
        Text(_money_zh(data)),
        Text(_money_en(data)),
        Separator("*"),
        Text("请您 What to do", bold=True),
        Text(f"请持此凭条到{data.counter_zh}办理，工作人员将凭交易号为您处理，您的钱不会丢失。"),
        Text(f"Take this slip to {data.counter_en}. Staff will settle this payment with the "
             "transaction number; your money is not lost."),
        *_prominent_transaction(data, columns),
        *_lookup(data),
        *_footer(data, thanks=False),
    ]
    return Slip(tuple(elements), columns=columns)


def recovery_slip(data: PaymentSlipData, columns: int = PAPER_80MM) -> Slip:
    """The slip a restart prints after finishing a payment that a power cut left open."""
    elements = [
        *_heading("缴费凭条", "Payment slip", data),
        Separator("*"),
        Text("本机在办理此笔缴费时中断（断电），重启后已完成此笔缴费。", bold=True),
        Text("This machine was interrupted (power cut) during this payment; "
             "it completed the payment after restarting.", bold=True),
        Text("已投入的钱全部计入本次缴费。"),
        Text("Every note taken in counts towards this payment."),
        Separator("*"),
        *_account(data),
        Separator(),
        *_amounts(data),
        *_status(data, columns),
        *_lookup(data),
        Text(f"如有疑问，请持此凭条到{data.counter_zh}。"),
        # No '?' on a slip: it is what a failed character substitution looks like.
        Text(f"If in doubt, take this slip to {data.counter_en}."),
        *_footer(data),
    ]
    return Slip(tuple(elements), columns=columns)


# ---------------------------------------------------------------- the parts


def _heading(title_zh: str, title_en: str, data: PaymentSlipData) -> list[Element]:
    return [
        Title(title_zh),
        Text(title_en, "center", bold=True),
        Text(data.hall_name_zh, "center"),
        Text(data.hall_name_en, "center"),
        Separator("="),
        Field("终端 Terminal", data.terminal_id),
        Field("时间 Time", data.printed_at.strftime("%Y-%m-%d %H:%M:%S")),
        Field("交易号 Transaction", data.transaction_no, bold=True),
    ]


def _account(data: PaymentSlipData) -> list[Element]:
    elements: list[Element] = [
        Field("项目 Utility", f"{data.utility_name_zh} {data.utility_name_en}".strip()),
        Field("户号 Account", data.account_masked),
    ]
    if data.holder_masked:
        elements.append(Field("户名 Name", data.holder_masked))
    return elements


def _amounts(data: PaymentSlipData) -> list[Element]:
    elements: list[Element] = [
        Field("应缴 Amount due", yuan(data.amount_due_fen)),
        Field("实收 Paid", yuan(data.paid_fen), bold=True),
    ]
    for denomination, count in sorted(data.notes, reverse=True):
        elements.append(Field(f"{_note(denomination)} × {count}", yuan(denomination * count)))
    elements.append(Field("预存 To your balance", yuan(data.credited_to_balance_fen)))
    return elements


def _note(denomination_fen: int) -> str:
    """A banknote as people name it: ¥100, ¥5, or ¥0.50 for a jiao note."""
    if denomination_fen % 100 == 0:
        return f"¥{denomination_fen // 100:,}"
    return yuan(denomination_fen)


def _status(data: PaymentSlipData, columns: int) -> list[Element]:
    if data.status == "posted":
        elements: list[Element] = [
            Separator("="),
            *_headline(("缴费成功", "已入账"), " ", columns),
            Text("Payment posted", "center", bold=True),
            Field("收据号 Receipt no.", data.receipt_no, bold=True),
        ]
        if data.balance_after_fen is not None:
            elements.append(Field("账户余额 Balance", yuan(data.balance_after_fen)))
        return [*elements, Text("请妥善保管本凭条。Please keep this slip.", "center"), Separator("=")]
    if data.status == "pending":
        # The customer walks away with money in the machine and nothing in the
        # account yet: this slip is their only proof, so it says so loudly.
        return [
            Separator("*"),
            *_headline(("已收款", "将稍后入账"), "，", columns),
            Text("Received — will be posted to your account", "center", bold=True),
            Text("您的钱已由本机安全收下并记录，稍后自动入账，无需再次缴费。"),
            Text("Your money is safely received and recorded by this machine. It will be posted "
                 "to your account automatically; do not pay again."),
            Text("请保留本凭条，作为缴费凭证。", bold=True),
            Text("Keep this slip: it is your proof of payment.", bold=True),
            Separator("*"),
        ]
    return [
        Separator("*"),
        *_headline(("请持此凭条到", "人工服务窗口办理"), "", columns),
        Text("Take this slip to a staffed counter", "center", bold=True),
        *_counter(data),
        Text("已收款，本机已记录，尚未入账；您的钱不会丢失。"),
        Text("Your money is received and recorded by this machine, not yet posted to your account; "
             "it is not lost."),
        *_prominent_transaction(data, columns),
    ]


def _counter(data: PaymentSlipData) -> list[Element]:
    if not (data.counter_hint_zh.strip() or data.counter_hint_en.strip()):
        return []
    return [Text(f"办理窗口 Counter: {data.counter_zh} {data.counter_en}", "center", bold=True)]


def _headline(parts: tuple[str, ...], joiner: str, columns: int) -> list[Element]:
    """Double-size status words: on one line when they fit, else a line per part, never a word split."""
    whole = joiner.join(parts)
    if 2 * columns_of(whole) <= columns:
        return [Title(whole)]
    return [Title(part) for part in parts]


def _prominent_transaction(data: PaymentSlipData, columns: int) -> list[Element]:
    """The transaction number the counter asks for, double size when it fits on one line."""
    number = data.transaction_no
    big: Element = Title(number) if 2 * columns_of(number) <= columns else Text(number, "center", bold=True)
    return [Text("交易号 Transaction no.", "center"), big]


def _money_zh(data: PaymentSlipData) -> str:
    if data.paid_fen == 0:
        return "本次没有收到钱款。"
    paid = yuan(data.paid_fen)
    return {
        "posted": f"已收 {paid}，已入账（收据号 {data.receipt_no}）。",
        "pending": f"已收 {paid}，本机已记录，将稍后自动入账，无需再次缴费。",
        "referred": f"已收 {paid}，本机已记录，尚未入账，不会丢失。",
    }[data.status]


def _money_en(data: PaymentSlipData) -> str:
    if data.paid_fen == 0:
        return "No money was taken this time."
    paid = yuan(data.paid_fen)
    return {
        "posted": f"Received {paid}, posted to your account (receipt {data.receipt_no}).",
        "pending": f"Received {paid}, recorded by this machine; it will be posted automatically - "
                   "do not pay again.",
        "referred": f"Received {paid}, recorded by this machine, not yet posted to your account; "
                    "it is not lost.",
    }[data.status]


def _lookup(data: PaymentSlipData) -> list[Element]:
    # The payload is the bare number: a counter's scanner types it into any
    # search box, and nothing else about the customer is in the code.
    return [QrCode(data.transaction_no, caption=f"交易号 Txn {data.transaction_no}")]


def _footer(data: PaymentSlipData, thanks: bool = True) -> list[Element]:
    elements: list[Element] = [Separator(), Text(f"服务热线 Hotline {data.hotline}", "center")]
    if thanks:
        elements.append(Text("谢谢！Thank you.", "center"))
    return elements
