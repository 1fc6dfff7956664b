"""The line assembler: bytes cut anywhere by the port in, whole lines (or a stated refusal) out."""

from __future__ import annotations

import pytest

from drivers.scanner.codes import Refusal, RefusalReason
from drivers.scanner.lines import Line, LineAssembler, Terminator

WECHAT = "134567890123456789"


def texts(items):
    return [item.text if isinstance(item, Line) else item.reason.value for item in items]


def feed_all(assembler: LineAssembler, *reads: bytes, now: float = 0.0):
    out = []
    for data in reads:
        out += assembler.feed(data, now)
    return texts(out)


@pytest.mark.parametrize("terminator, reads, expected", [
    ("cr", [b"111\r222\r333\r"], ["111", "222", "333"]),
    ("cr", [WECHAT[:5].encode(), WECHAT[5:].encode() + b"\r"], [WECHAT]),
    ("cr", [b"111\r\n222\r\n"], ["111", "222"]),  # a scanner set to CR LF still reads under CR
    ("cr", [b"111\r", b"\n222\r"], ["111", "222"]),  # ... also when the LF comes in the next read
    ("cr", [b"\r", b"\r\n", b"\n"], []),  # lone terminators are no code
    ("lf", [b"111\n222\r\n"], ["111", "222"]),
    ("crlf", [b"111\r", b"\n222\r\n"], ["111", "222"]),
    ("crlf", [b"1\r2\r\n"], ["1\r2"]),  # a lone CR inside a CR LF line stays, and is refused later
    ("cr", [b"ab\xe6\xb0\xb4\r"], ["ab\xe6\xb0\xb4"]),  # non-ASCII kept byte for byte, refused later
], ids=["several-in-one-read", "split-over-reads", "crlf-under-cr", "crlf-split-under-cr", "lone-terminators",
        "lf", "crlf-split", "cr-inside-crlf", "non-ascii"])
def test_lines_come_out_whole_whatever_the_reads(terminator, reads, expected):
    assert feed_all(LineAssembler(Terminator(terminator)), *reads) == expected


def test_a_line_longer_than_the_bound_is_discarded_to_its_end_and_reported_once():
    assembler = LineAssembler(max_line=64)
    out = feed_all(assembler, b"9" * 50, b"9" * 5000, b"9" * 50 + b"\r" + WECHAT.encode() + b"\r")
    assert out == ["TOO_LONG", WECHAT]
    assert assembler.pending == 0


def test_the_buffer_never_holds_more_than_the_bound_while_a_flood_lasts():
    assembler = LineAssembler(max_line=64)
    for _ in range(1000):
        assembler.feed(b"x" * 997, 0.0)
        assert assembler.pending <= 65


def test_the_too_long_report_gives_the_length_seen():
    (refusal,) = LineAssembler(max_line=64).feed(b"7" * 300 + b"\r", 0.0)
    assert refusal == Refusal(RefusalReason.TOO_LONG, length=300)


def test_a_line_cut_short_is_dropped_after_the_stale_time_and_not_glued_to_the_next():
    assembler = LineAssembler(stale_s=0.3)
    assert assembler.feed(WECHAT[:9].encode(), 10.0) == []
    assert assembler.expire(10.2) == []
    assert texts(assembler.expire(10.31)) == ["INCOMPLETE"]
    assert feed_all(assembler, WECHAT.encode() + b"\r", now=11.0) == [WECHAT]


def test_the_trigger_acknowledgement_is_skipped_where_a_line_starts_even_split():
    ack = bytes.fromhex("02 00 00 01 00 33 31")
    assembler = LineAssembler(skip=ack)
    assert feed_all(assembler, ack[:3], ack[3:] + b"2812", b"34567890123456\r") == ["281234567890123456"]


def test_an_acknowledgement_with_no_code_after_it_is_nothing_to_report():
    ack = bytes.fromhex("02 00 00 01 00 33 31")
    assembler = LineAssembler(skip=ack)
    assembler.feed(ack, 0.0)
    assert assembler.expire(5.0) == []


def test_a_line_is_never_shown_whole_in_its_repr():
    assert WECHAT not in repr(Line(WECHAT))
    assert repr(Line(WECHAT)).endswith("6789')")


@pytest.mark.parametrize("bad", [dict(max_line=10), dict(stale_s=0), dict(terminator="tab")])
def test_settings_out_of_range_are_refused_with_the_setting_named(bad):
    with pytest.raises(ValueError):
        LineAssembler(**bad)
