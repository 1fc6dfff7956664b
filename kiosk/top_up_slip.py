"""The card top-up slip (购电/购水/购气凭条), laid out from a :class:`TopUpSlipData`, and its printer.

One slip per purchase, in Chinese and English, through the slip model of
``drivers/escpos/slip.py`` as the payment slips are (``kiosk/payment_slips.py``,
whose label and sentence helpers it shares).  What it says follows the
purchase's outcome (:class:`~kiosk.top_up_records.TopUpOutcome`, ISSUES #14):

* WRITTEN — the credit is on the card and read back: the amounts, the credit
  written, the card's purchase count, the receipt, and "insert the card into
  your meter";
* NOT_WRITTEN — paid and the money kept, the card not written (pulled, mute,
  reader gone, a power cut): "PAID — CREDIT NOT YET ON CARD" in large type,
  what happened, and how to have it written (补写卡) without paying again.
  The customer leaves with nothing on the card, so the slip is their proof;
* REFERRED — the billing system did not book the purchase: what happened,
  that the money is kept, and the counter, with this slip.

Every slip carries the purchase number as text and as a QR code whose payload
is the bare number (the counter's scanner types it into any search box; the
rewrite is looked up by it), the hotline, and a cut.  A slip printed after a
restart carried the purchase forward says so.

Only masked personal data reaches the paper: :func:`top_up_slip` refuses an
account number or a card serial that does not look masked (MISSION rule 5),
and figures that disagree (notes that do not add up to what was paid).
"""

from __future__ import annotations

import logging

from drivers.escpos.slip import PAPER_80MM, Element, Field, QrCode, Separator, Slip, Text, Title, columns_of
from kiosk.i18n import Translator, yuan
# The payment slips' helpers, so a label reads "户号 Account" and a headline
# breaks the same way on every slip the kiosk prints.
from kiosk.slip_parts import both as _both, check_masked as _check_masked, headline as _headline, label as _label
from kiosk.slip_parts import note_name
from kiosk.slip_printing import SLIP_WAIT_S, print_slip_on
from kiosk.top_up_records import TopUpOutcome, TopUpSlipData

log = logging.getLogger("kiosk.top_up")

_ZH, _EN = Translator("zh"), Translator("en")
O = TopUpOutcome
SLIPS = (O.WRITTEN, O.NOT_WRITTEN, O.REFERRED)  # a cancelled purchase took no money: no slip

_TITLES = {"electricity": "top_up_slip.title.electricity", "water": "top_up_slip.title.water",
           "gas": "top_up_slip.title.gas", "": "top_up_slip.title.other"}
_METERS = {"electricity": "top_up_slip.meter.electricity", "water": "top_up_slip.meter.water",
           "gas": "top_up_slip.meter.gas", "": "top_up_slip.meter.other"}
# How a utility's configured names say which it is (config.toml [[utilities]]:
# 电费/Electricity, 水费/Water, 燃气费/Gas by default; a hall may rename them).
_NAMED = (("electricity", "电", "electric"), ("water", "水", "water"), ("gas", "气", "gas"))
_CARD_VISIBLE = 4  # top_up_records.card_masked shows the serial's last four characters


def utility_kind(data: TopUpSlipData) -> str:
    """"electricity", "water" or "gas" from the utility's names on the slip; "" when neither says."""
    english = data.utility_name_en.casefold()
    for kind, chinese, word in _NAMED:
        if chinese in data.utility_name_zh or word in english:
            return kind
    return ""


def check_slip_data(data: TopUpSlipData) -> None:
    """Refuse what must not reach paper: personal data unmasked, figures that disagree, no number."""
    if not data.purchase_no.strip():
        raise ValueError("purchase_no is empty: the slip's QR code, the rewrite and the counter need it")
    if data.outcome not in SLIPS:
        raise ValueError(f"outcome={data.outcome!r}: a slip is printed for {', '.join(SLIPS)}")
    if data.paid_fen < 0 or any(d <= 0 or c <= 0 for d, c in data.notes):
        raise ValueError(f"paid_fen={data.paid_fen}, notes={data.notes!r}: amounts and counts are positive")
    notes_fen = sum(denomination * count for denomination, count in data.notes)
    if notes_fen != data.paid_fen:
        raise ValueError(f"notes add up to {notes_fen} fen but paid_fen={data.paid_fen}")
    _check_masked("account_masked", data.account_masked, required=True)
    if "*" not in data.card_masked or sum(c != "*" for c in data.card_masked) > _CARD_VISIBLE:
        raise ValueError("card_masked does not look masked (top_up_records.card_masked): "
                         "a card serial never goes on a slip whole")


def top_up_slip(data: TopUpSlipData, columns: int = PAPER_80MM) -> Slip:
    """The slip of a purchase that took money or wrote a card, by its outcome."""
    check_slip_data(data)
    body = {O.WRITTEN: _written, O.NOT_WRITTEN: _not_written, O.REFERRED: _referred}[data.outcome]
    elements = [
        *_heading(data),
        *_recovered(data),
        *body(data, columns),
        QrCode(data.purchase_no, caption=f"{_label('top_up_slip.purchase_no')} {data.purchase_no}"),
        Separator(),
        Text(f"{_label('slip.hotline')} {data.hotline}", "center"),
    ]
    if data.outcome is O.WRITTEN:
        elements.append(Text(f"{_ZH('slip.thanks')}{_EN('slip.thanks')}", "center"))
    return Slip(tuple(elements), columns=columns)


# ---------------------------------------------------------------- by outcome


def _written(data: TopUpSlipData, columns: int) -> list[Element]:
    meter = _METERS[utility_kind(data)]
    return [
        Separator(),
        *_card(data),
        Separator(),
        *_amounts(data, "top_up_slip.credit"),
        Separator("="),
        *_headline("top_up_slip.written_headline", columns),
        Text(_ZH("top_up_slip.insert_into_meter", meter=_ZH(meter)), bold=True),
        Text(_EN("top_up_slip.insert_into_meter", meter=_EN(meter)), bold=True),
        Text(f"{_ZH('slip.keep')}{_EN('slip.keep')}", "center"),
        Separator("="),
    ]


def _not_written(data: TopUpSlipData, columns: int) -> list[Element]:
    # Paid, and nothing on the card to show for it: the headline says so in
    # large type, and the number the rewrite and the counter need stands out.
    return [
        Separator("*"),
        *_headline("top_up_slip.not_written_headline", columns),
        Separator("*"),
        *_happened(data),
        Text(_label("slip.what_to_do"), bold=True),
        *_both(data.advice_key or "top_up.advice.insert_card_again", bold=True),
        *_both("top_up_slip.rewrite_anywhere"),
        Separator(),
        *_card(data),
        *_amounts(data, "top_up_slip.credit_to_write"),
        Separator("*"),
        *_prominent_number(data, columns),
        *_both("top_up_slip.keep_as_proof", bold=True),
        Separator("*"),
    ]


def _referred(data: TopUpSlipData, columns: int) -> list[Element]:
    money = _both("top_up_slip.money_kept", paid=yuan(data.paid_fen)) if data.paid_fen else _both("slip.money_none")
    return [
        Separator("*"),
        *_headline("slip.referred_headline", columns),
        Separator("*"),
        *_happened(data),
        Text(_label("slip.your_money"), bold=True),
        *money,
        Text(_label("slip.what_to_do"), bold=True),
        *_both(data.advice_key or "top_up.advice.counter", bold=True),
        Separator(),
        *_card(data),
        *_amounts(data, None),
        Separator("*"),
        *_prominent_number(data, columns),
        Separator("*"),
    ]


# ---------------------------------------------------------------- the parts


def _heading(data: TopUpSlipData) -> list[Element]:
    title = _TITLES[utility_kind(data)]
    elements: list[Element] = [
        Title(_ZH(title)),
        Text(_EN(title), "center", bold=True),
        Text(data.hall_name_zh, "center"),
        Text(data.hall_name_en, "center"),
        Separator("="),
        Field(_label("slip.terminal"), data.terminal_id),
        Field(_label("slip.time"), data.printed_at.strftime("%Y-%m-%d %H:%M:%S")),
        Field(_label("top_up_slip.purchase_no"), data.purchase_no, bold=True),
    ]
    if data.transaction_no:  # none for the rewrite of a purchase paid at another terminal
        elements.append(Field(_label("slip.transaction"), data.transaction_no))
    return elements


def _recovered(data: TopUpSlipData) -> list[Element]:
    if not data.recovered:
        return []
    return [Separator("*"), *_both("top_up_slip.recovered", bold=True)]


def _happened(data: TopUpSlipData) -> list[Element]:
    if not data.problem_key:
        return []
    return [Text(_label("slip.what_happened"), bold=True), *_both(data.problem_key)]


def _card(data: TopUpSlipData) -> list[Element]:
    return [
        Field(_label("slip.utility"), f"{data.utility_name_zh} {data.utility_name_en}".strip()),
        Field(_label("slip.account"), data.account_masked),
        Field(_label("top_up_slip.card"), data.card_masked),
    ]


def _amounts(data: TopUpSlipData, credit_key: str | None) -> list[Element]:
    """What was paid and in which notes, the arrears it settled, and what it bought."""
    elements: list[Element] = [Field(_label("slip.paid"), yuan(data.paid_fen), bold=True)]
    for denomination, count in sorted(data.notes, reverse=True):
        elements.append(Field(f"{note_name(denomination)} × {count}", yuan(denomination * count)))
    if data.paid_fen == 0 and data.outcome is not O.REFERRED:
        elements += _both("top_up_slip.rewrite_paid_before")
    if data.arrears_paid_fen:
        elements.append(Field(_label("top_up_slip.arrears_paid"), yuan(data.arrears_paid_fen)))
    if credit_key and data.credit_fen is not None:
        elements.append(Field(_label(credit_key), yuan(data.credit_fen), bold=True))
    if data.card_credit_before_fen is not None and data.outcome is O.WRITTEN:
        elements.append(Field(_label("top_up_slip.card_before"), yuan(data.card_credit_before_fen)))
    if data.card_credit_after_fen is not None:
        elements.append(Field(_label("top_up_slip.card_after"), yuan(data.card_credit_after_fen), bold=True))
    if data.purchase_count is not None:
        elements.append(Field(_label("top_up_slip.purchase_count"), str(data.purchase_count)))
    if data.receipt_no:
        elements.append(Field(_label("slip.receipt_no"), data.receipt_no))
    return elements


def _prominent_number(data: TopUpSlipData, columns: int) -> list[Element]:
    """The purchase number the rewrite and the counter ask for, double size when it fits."""
    number = data.purchase_no
    big: Element = Title(number) if 2 * columns_of(number) <= columns else Text(number, "center", bold=True)
    return [Text(_label("top_up_slip.purchase_no"), "center"), big]


# ---------------------------------------------------------------- the printer


class TopUpSlipPrinter:
    """``TopUpService``'s ``slip_printer``: lays the slip out and prints it on the
    PrinterDriver (or None: no printer).  Returns whether it printed; never raises,
    since the purchase is decided before its slip."""

    def __init__(self, printer, columns: int = PAPER_80MM, *, wait_s: float = SLIP_WAIT_S) -> None:
        self.printer = printer
        self.columns = columns
        self.wait_s = wait_s

    def __call__(self, data: TopUpSlipData) -> bool:
        what = {"purchase": data.purchase_no}
        try:
            slip = top_up_slip(data, self.columns)
        except Exception:  # noqa: BLE001 - a slip refused (unmasked data, bad figures) is logged, not raised
            log.exception("top-up slip not laid out", extra=what)
            return False
        if data.recovered and self.printer is not None:
            self._fresh_status()
        return print_slip_on(self.printer, slip, what, wait_s=self.wait_s)

    def _fresh_status(self) -> None:
        # Recovery prints as the kiosk starts, maybe before the printer's first
        # poll: ask for its status now rather than refuse a slip it could print.
        try:
            self.printer.refresh().result(timeout=self.wait_s)
        except Exception:  # noqa: BLE001 - no status: print_slip_on finds it not usable
            log.warning("printer status not read before a recovery slip", exc_info=True)
