"""Slips rendered to ESC/POS bytes and read back with the decoder: what the paper would say."""

from __future__ import annotations

from datetime import datetime

import pytest
from escpos.printer import Dummy

from drivers.escpos.decode import Cut, Image, Line, Qr, decode
from drivers.escpos.slip import (
    FS_CHINESE_OFF,
    FS_CHINESE_ON,
    PAPER_58MM,
    PAPER_80MM,
    Feed,
    Field,
    Logo,
    QrCode,
    Separator,
    Slip,
    Text,
    Title,
    columns_of,
    encode_text,
    test_slip,
    wrap,
)

PAYMENT = Slip((
    Title("缴费凭条"),
    Text("Payment slip", "center", bold=True),
    Separator("="),
    Field("户号 Account", "3201100017"),
    Field("户名 Name", "张*明"),
    Field("应缴 Amount due", "¥86.40"),
    Field("实收 Paid", "¥100.00"),
    Field("预存 Credited to balance", "¥13.60"),
    Separator(),
    Text("温馨提示：本机不找零，多缴部分（¥13.60）已存入账户余额。"),
    Text("Note: this machine gives no change; the extra ¥13.60 is credited to your balance."),
    QrCode("https://pay.utility.example/t/T20240501-000123", caption="交易号 Txn T20240501-000123"),
))


def test_chinese_text_and_punctuation_come_back_exactly():
    printed = decode(PAYMENT.render())
    assert "温馨提示：本机不找零，多缴部分（￥13.60）已存入账户余额。" in printed.text.replace("\n", "")
    assert printed.line_with("缴费凭条").size == (2, 2)
    assert printed.line_with("张*明").text.endswith("张*明")
    assert printed.suspect == ()
    assert printed.unknown == ()


def test_chinese_is_sent_as_gb18030_inside_fs_ampersand_and_fs_period():
    data = PAYMENT.render()
    assert FS_CHINESE_ON + "缴费凭条".encode("gb18030") + FS_CHINESE_OFF in data
    assert encode_text("提示：") == FS_CHINESE_ON + "提示：".encode("gb18030") + FS_CHINESE_OFF
    assert encode_text("，。：（）") == b"\x1c\x26\xa3\xac\xa1\xa3\xa3\xba\xa3\xa8\xa3\xa9\x1c\x2e"
    # ASCII stays outside Chinese mode, byte for byte.
    assert encode_text("Paid 100") == b"Paid 100"
    # The slip leaves Chinese mode right after ESC @: printers that start in it print ASCII as ASCII.
    assert data.startswith(b"\x1b@\x1c\x2e")


def test_yen_sign_prints_as_the_full_width_gb2312_yen():
    assert encode_text("¥1") == b"\x1c\x26\xa3\xa4\x1c\x2e1"
    assert decode(encode_text("¥86.40") + b"\n").texts == ("￥86.40",)


def test_python_escpos_text_alone_turns_cjk_punctuation_into_question_marks_and_the_decoder_flags_it():
    naive = Dummy()
    naive.text("提示\n")
    naive.text("，。：（）\n")
    printed = decode(naive.output)
    assert "?????" in printed.texts
    assert printed.suspect == ("?????",)


@pytest.mark.parametrize("columns", [PAPER_58MM, PAPER_80MM])
def test_amounts_end_at_the_right_edge_with_chinese_counted_as_two_columns(columns):
    slip = Slip(PAYMENT.elements, columns=columns)
    printed = decode(slip.render())
    for amount in ("￥86.40", "￥100.00", "￥13.60"):
        line = printed.line_with(amount)
        assert line.text.endswith(amount)
        assert line.columns == columns == columns_of(line.text)
    assert printed.line_with("==").columns == columns


def test_a_label_too_long_for_the_line_puts_the_amount_under_it():
    slip = Slip((Field("本期应缴电费（含峰谷分时及阶梯加价）", "¥1,234.50"),), columns=PAPER_58MM)
    lines = decode(slip.render()).lines
    assert lines[-1].text == " " * (32 - len("￥1,234.50") - 1) + "￥1,234.50"
    assert all(line.columns <= 32 for line in lines)


def test_long_text_wraps_without_splitting_english_words_or_overflowing():
    text = "请在人工服务窗口出示本凭条 Please show this slip at a staffed counter for a refund"
    lines = decode(Slip((Text(text),), columns=PAPER_58MM).render()).lines
    assert "".join(line.text.replace(" ", "") for line in lines) == text.replace(" ", "")
    assert all(line.columns <= 32 for line in lines)
    assert "counter" in {word for line in lines for word in line.text.split()}


def test_wrap_cuts_a_word_longer_than_the_line():
    assert wrap("x" * 70, 32) == ["x" * 32, "x" * 32, "x" * 6]


def test_qr_payload_and_cut_come_after_the_amounts():
    printed = decode(PAYMENT.render())
    kinds = [type(item) for item in printed.items]
    assert printed.qr_codes == ("https://pay.utility.example/t/T20240501-000123",)
    assert kinds.index(Qr) > printed.items.index(printed.line_with("￥13.60"))
    assert kinds[-1] is Cut and printed.cuts == 1
    assert printed.line_with("交易号").align == "center"


def test_slip_without_cut_has_no_cut():
    printed = decode(Slip((Text("a"), Feed(2)), cut=False).render())
    assert printed.cuts == 0 and printed.texts == ("a",)


def test_control_characters_in_data_never_reach_the_printer_as_commands():
    hostile = "张\x1bd\x09明\x1dV\x00\x10\x04\x01"
    data = Slip((Field("户名 Name", hostile),), cut=False).render()
    printed = decode(data)
    assert printed.cuts == 0 and printed.status_requests == ()
    assert b"\x1dV" not in data and b"\x10\x04" not in data
    assert printed.lines[-1].columns == PAPER_80MM


def test_logo_prints_as_a_raster_image_before_the_title(tmp_path):
    from PIL import Image as PILImage

    path = tmp_path / "logo.png"
    PILImage.new("L", (128, 40), 255).save(path)
    printed = decode(Slip((Logo(str(path)), Title("国网"))).render())
    assert isinstance(printed.items[0], Image)
    assert (printed.items[0].width, printed.items[0].height) == (128, 40)
    assert printed.texts[0] == "国网"


def test_test_slip_is_bilingual_with_a_qr_code_naming_the_terminal():
    slip = test_slip("城东供电供水供气营业厅", "KS-0001", hall_en="Chengdong Utility Business Hall",
                     now=datetime(2024, 5, 1, 9, 30))
    printed = decode(slip.render())
    assert printed.texts[:4] == ("打印机测试", "Printer test slip", "城东供电供水供气营业厅",
                                 "Chengdong Utility Business Hall")
    assert printed.line_with("终端 Terminal").text.endswith("KS-0001")
    assert printed.line_with("时间 Time").text.endswith("2024-05-01 09:30:00")
    assert "中文：缴费成功，谢谢！（测试）" in printed.texts
    assert printed.qr_codes == ("KIOSK-TEST|KS-0001|20240501093000",)
    assert printed.cuts == 1 and printed.suspect == ()


def test_bad_layouts_are_refused_when_built():
    with pytest.raises(ValueError, match="columns"):
        Slip((), columns=10)
    with pytest.raises(ValueError, match="payload"):
        QrCode("")


def test_decoder_reads_gb18030_four_byte_characters_and_flags_bytes_it_cannot_decode():
    assert decode(FS_CHINESE_ON + "𠀀".encode("gb18030") + FS_CHINESE_OFF + b"\n").texts == ("𠀀",)
    broken = decode(FS_CHINESE_ON + b"\xb8" + FS_CHINESE_OFF + b"\n")
    assert broken.suspect == ("\ufffd",)


def test_decoder_keeps_a_command_cut_off_at_the_end_apart():
    printed = decode(b"ok\n\x1d(k\x10\x00")
    assert printed.lines == (Line("ok", 2),)
    assert printed.unfinished == b"\x1d(k\x10\x00"


def test_importing_the_slip_module_leaves_logging_and_tmp_alone(tmp_path):
    import os
    import subprocess
    import sys

    probe = ("import logging, drivers.escpos.slip as s; "
             "assert s.Slip((s.Text('x'),)).render(); print(len(logging.getLogger().handlers))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ESCPOS_")}
    env |= {"TMPDIR": str(tmp_path / "tmp"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    os.mkdir(tmp_path / "tmp")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"  # python-escpos's logging.basicConfig() undone
    assert os.listdir(tmp_path / "tmp") == []  # its mkdtemp() removed again
    assert os.listdir(tmp_path / "cache" / "utility-kiosk" / "python-escpos")  # its database cached


def test_chinese_punctuation_never_begins_a_line():
    text = "您的钱已由本机安全收下并记录，稍后自动入账，无需再次缴费。"
    for width in range(8, 48):
        lines = wrap(text, width)
        assert "".join(lines) == text
        assert not any(line[0] in "，。" for line in lines), (width, lines)
