"""The billing system's rules for a purchase on a prepaid card, behind the
simulator (docs/api.md, 3.8 "Limits"): whether the card as read may take a
purchase at all, and what the purchase may be.

Its own module because these are the utility's business rules -- the
purchase-count rule of the card and the meter (docs/card.md), the hoarding
limit (囤积上限), arrears first -- and they are easier to check read apart
from the idempotency and bookkeeping of sim_purchases.py.  Pure functions:
a card record, the account, the reading in; limits out, or a refusal.
"""

from __future__ import annotations

from typing import Any

from contract.purchase import PurchaseRefusal as Refusal
from contract.purchase_requests import CardReading
from kiosk.backend.sim_messages import _json_reply, _Refused, _Reply

# Cash is whole yuan: the acceptor takes notes of 1 to 100 yuan.
STEP_FEN = 100

# code -> (message_zh, message_en); none is retryable: each needs a person
# or another step first (docs/api.md, "Error codes").
PURCHASE_ERROR_TEXTS: dict[str, tuple[str, str]] = {
    Refusal.CARD_NOT_FOUND: ("该卡不是本公司的预付费卡", "This card is not a prepaid card of this utility"),
    Refusal.CARD_CANCELLED: ("该卡已挂失或已补卡作废，请到人工窗口办理", "This card was reported lost or replaced"),
    Refusal.CARD_MISMATCH: ("卡片与记录不符", "The card does not match the record"),
    Refusal.CARD_COUNT_MISMATCH: ("卡内购买次数与系统记录不符，请到人工窗口办理",
                                  "The card's purchase count does not match the record"),
    Refusal.NOT_LOADED_IN_METER: ("上次购买尚未插表，请先将卡插入表计",
                                  "The last purchase has not been loaded into the meter yet"),
    Refusal.UNWRITTEN_PURCHASE: ("该卡有已付款未写卡的购买，请先补写卡",
                                 "A paid purchase has not been written to this card yet"),
    Refusal.LIMIT_REACHED: ("已达囤积上限，暂不能购买", "The meter holds as much credit as it may"),
    Refusal.ORDER_STALE: ("此订单之后该卡已有其他购买", "Another purchase for this card was paid after this order"),
    Refusal.ISSUE_REFUSED: ("写卡数据生成失败，请到人工窗口办理", "The write token could not be issued"),
    Refusal.PURCHASE_NOT_FOUND: ("未找到该笔购买", "No purchase has this number"),
    Refusal.NOT_ISSUED: ("该笔购买尚未生成写卡数据", "This purchase has no write token yet"),
    Refusal.WRITE_MISMATCH: ("卡内数据与该笔购买不符", "The card does not show this purchase"),
}


def purchase_error(status: int, code: str, explanation: str = "") -> _Reply:
    """The contract's error body for a purchase code (docs/api.md, "Errors")."""
    message_zh, message_en = PURCHASE_ERROR_TEXTS[code]
    if explanation:
        message_en = f"{message_en}: {explanation}"
    return _json_reply(status, {"error": {"code": str(code), "message_zh": message_zh,
                                          "message_en": message_en, "retryable": False}})


def refuse(status: int, code: str, explanation: str = "") -> _Refused:
    return _Refused(purchase_error(status, code, explanation))


def check_card_fits(card: dict[str, Any], reading: CardReading, unwritten: int) -> None:
    """Refuse a card that cannot take a new purchase now, before any cash is taken.

    The order of the checks is the order of what the customer should do:
    a card that is not the record's goes to the counter; a purchase paid and
    not written is written first (补写卡); a purchase on the card the meter
    has not loaded must reach the meter first, because the meter refuses a
    card two purchases ahead of it (docs/card.md, EF 0002).
    """
    if (reading.utility, reading.account_no) != (card["utility"], card["account_no"]):
        raise refuse(422, Refusal.CARD_MISMATCH, "the card's customer file names another account")
    if unwritten:
        raise refuse(409, Refusal.UNWRITTEN_PURCHASE, f"{unwritten} purchase(s) to write first")
    if reading.purchase_count != card["purchase_count"]:
        raise refuse(409, Refusal.CARD_COUNT_MISMATCH,
                     f"the card shows {reading.purchase_count}, the record {card['purchase_count']}")
    if reading.meter_purchase_count is not None and reading.meter_purchase_count < reading.purchase_count:
        raise refuse(409, Refusal.NOT_LOADED_IN_METER,
                     f"the meter last loaded purchase {reading.meter_purchase_count} of {reading.purchase_count}")
    if reading.meter_purchase_count is None and reading.purchase_count > card.get("issued_count", 0):
        # Sold here since, and no meter has written back: a second purchase would overwrite the
        # first on the card, and the meter would refuse the card as two purchases ahead.
        raise refuse(409, Refusal.NOT_LOADED_IN_METER,
                     f"the card carries purchase {reading.purchase_count} and no meter has written back since")


def limits_for(card: dict[str, Any], account: dict[str, Any], reading: CardReading) -> dict[str, Any]:
    """The ``limits`` object of a quote or an order (docs/api.md, 3.8).

    ``held_fen`` is what already counts against the hoarding limit: the
    credit the meter still holds, as it last wrote back to the card, or --
    when the card has no write-back -- the credit the card carries.
    """
    held = reading.credit_fen if reading.meter_credit_fen is None else reading.meter_credit_fen
    min_credit = card["min_purchase_fen"]
    max_credit = min(card["max_purchase_fen"], card["hoarding_limit_fen"] - held)
    arrears = account["arrears_fen"]
    due = arrears if card["arrears_first"] else 0
    min_amount = -(-(due + min_credit) // STEP_FEN) * STEP_FEN  # up to whole yuan
    max_amount = (due + max_credit) // STEP_FEN * STEP_FEN  # down to whole yuan
    if max_credit < min_credit or min_amount > max_amount:
        raise refuse(422, Refusal.LIMIT_REACHED,
                     f"room for {max(0, max_credit)} fen under the hoarding limit, the minimum is {min_credit}")
    return {
        "min_purchase_fen": card["min_purchase_fen"], "max_purchase_fen": card["max_purchase_fen"],
        "hoarding_limit_fen": card["hoarding_limit_fen"], "held_fen": held,
        "min_credit_fen": min_credit, "max_credit_fen": max_credit,
        "arrears_fen": arrears, "arrears_first": card["arrears_first"],
        "min_amount_fen": min_amount, "max_amount_fen": max_amount, "step_fen": STEP_FEN,
    }


def amount_problem(limits: dict[str, Any], amount_fen: int) -> str:
    """Why ``amount_fen`` of cash is not a purchase these limits allow, or ""."""
    if amount_fen % limits["step_fen"]:
        return f"amount_fen {amount_fen} is not whole yuan"
    if not limits["min_amount_fen"] <= amount_fen <= limits["max_amount_fen"]:
        return f"amount_fen {amount_fen} is outside {limits['min_amount_fen']}..{limits['max_amount_fen']}"
    return ""
