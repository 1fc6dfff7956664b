"""Which lines are payment codes (table-driven), and that everything else is refused with its reason."""

from __future__ import annotations

import pytest

from drivers.scanner.codes import CodeKind, PaymentCode, Refusal, RefusalReason, classify, mask

R = RefusalReason


@pytest.mark.parametrize("text, kind", [
    ("134567890123456789", CodeKind.WECHAT),
    ("104567890123456789", CodeKind.WECHAT),
    ("154567890123456789", CodeKind.WECHAT),
    ("2812345678901234", CodeKind.ALIPAY),  # 16, the shortest
    ("281234567890123456", CodeKind.ALIPAY),
    ("301234567890123456789012", CodeKind.ALIPAY),  # 24, the longest
    ("251234567890123456", CodeKind.ALIPAY),
    ("6212345678901234567", CodeKind.UNIONPAY),
])
def test_published_payment_code_shapes_are_recognised(text, kind):
    assert classify(text) == PaymentCode(kind, text)


@pytest.mark.parametrize("text, reason", [
    ("164567890123456789", R.UNKNOWN_DIGITS),  # 18 digits, prefix 16: no WeChat code
    ("13456789012345678", R.UNKNOWN_DIGITS),  # WeChat one short
    ("1345678901234567890", R.UNKNOWN_DIGITS),  # WeChat one long
    ("281234567890123", R.UNKNOWN_DIGITS),  # Alipay 15: too short
    ("3112345678901234", R.UNKNOWN_DIGITS),  # prefix 31
    ("241234567890123456", R.UNKNOWN_DIGITS),  # prefix 24
    ("621234567890123456", R.UNKNOWN_DIGITS),  # UnionPay 18
    ("62123456789012345678", R.UNKNOWN_DIGITS),  # UnionPay 20
    ("3012345678901234567890123", R.TOO_LONG),  # 25 digits
    ("6901234567892", R.EAN13),  # a product barcode with a good check digit
    ("6901234567893", R.UNKNOWN_DIGITS),  # ... and with a wrong one: just digits
    ("11010519491231002X", R.ID_CARD),  # the GB 11643 example number
    ("https://qr.alipay.com/bax01234567890", R.URL),
    ("HTTP://WWW.EXAMPLE.COM", R.URL),
    ("www.example.cn/pay", R.URL),
    ("weixin://wxpay/bizpayurl?pr=abc", R.URL),
    ("ABC123", R.LETTERS),
    ("13456789012345678X", R.LETTERS),
    ("1345 6789 0123 4567", R.LETTERS),
    ("水费", R.NOT_ASCII),
    ("13456789012345678\xff", R.NOT_ASCII),
    ("1345678\x0090123456789", R.CONTROL_BYTES),
    ("1\r2", R.CONTROL_BYTES),
])
def test_lines_that_are_not_payment_codes_are_refused_with_a_specific_reason(text, reason):
    result = classify(text)
    assert isinstance(result, Refusal)
    assert result.reason is reason
    assert result.explanation


def test_a_wechat_shaped_line_that_is_a_valid_resident_id_is_refused_as_an_id():
    # 18 digits starting 11: WeChat's shape, but a real birth date and check digit.
    assert classify("110105199003070017").reason is R.ID_CARD


def test_a_wechat_code_that_only_resembles_an_id_number_is_still_a_wechat_code():
    # The same digits with another check digit (or no real birth date) are no ID number.
    assert classify("110105199003070015") == PaymentCode(CodeKind.WECHAT, "110105199003070015")
    assert classify("111111199913450000") == PaymentCode(CodeKind.WECHAT, "111111199913450000")


def test_a_refusal_never_shows_a_whole_id_number_or_a_url_path():
    assert classify("11010519491231002X").shown == "**************002X"
    assert classify("https://pay.example.cn/q/secret-token").shown == "https://pay.example.cn"


@pytest.mark.parametrize("code, shown", [("134567890123456789", "**************6789"), ("1234", "****"), ("", "")])
def test_masking_keeps_only_the_last_four(code, shown):
    assert mask(code) == shown


def test_a_payment_code_is_never_whole_in_its_repr():
    code = PaymentCode(CodeKind.WECHAT, "134567890123456789")
    assert "134567890123456789" not in repr(code) and "6789" in repr(code)
