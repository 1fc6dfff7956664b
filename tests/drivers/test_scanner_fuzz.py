"""Fuzz: random and mutated lines, cut at random, through the assembler and the classifier.

No input may raise, and nothing may come out as a payment code unless it has
a published payment code's shape (checked against an oracle written apart
from the classifier) and was a whole line of the stream.  The CI run is
10,000 lines; bench/scanner_fuzz.py runs 100,000 and prints the figures.
Set SCANNER_FUZZ_SEED to explore other seeds.
"""

from __future__ import annotations

import os
import random
import re

from drivers.scanner.codes import PaymentCode, classify
from drivers.scanner.fuzzing import ORACLE, cut, random_stream
from drivers.scanner.lines import Line, LineAssembler, Terminator

SEED = int(os.environ.get("SCANNER_FUZZ_SEED", "1515"))


def run(lines: int, seed: int, terminator: Terminator) -> dict[str, int]:
    rng = random.Random(seed)
    stream = random_stream(rng, lines, terminator.bytes)
    whole = set(re.split(rb"\r\n|\r|\n", stream))
    assembler = LineAssembler(terminator, max_line=128)
    figures = {"lines_out": 0, "codes": 0, "refused": 0}
    for read in cut(stream, rng):
        for item in assembler.feed(read, 0.0):
            result = classify(item.text) if isinstance(item, Line) else item
            figures["lines_out"] += 1
            if isinstance(result, PaymentCode):
                figures["codes"] += 1
                assert ORACLE.fullmatch(result.code), result.masked
                assert result.code.encode() in whole, result.masked  # never glued from pieces
            else:
                figures["refused"] += 1
        assert assembler.pending <= 129
    return figures


def test_ten_thousand_random_lines_never_raise_and_never_pass_an_invalid_code():
    figures = run(10_000, SEED, Terminator.CR)
    # The generator makes about one valid code in eight lines: the run must have met both sides.
    assert figures["codes"] > 500 and figures["refused"] > 5000


def test_the_same_under_a_crlf_terminator():
    figures = run(3_000, SEED + 1, Terminator.CRLF)
    assert figures["codes"] > 100
