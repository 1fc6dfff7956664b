"""Fuzz the scanner input: 100,000 random and mutated lines through the line assembler and the classifier.

    .venv/bin/python bench/scanner_fuzz.py [--lines N] [--seed S]

Prints how many lines went in, what came out (payment codes by kind,
refusals by reason), the throughput, and the two invariants: nothing raised,
and every payment code that came out has a published payment code's shape
(an oracle written apart from the classifier) and was a whole line of the
stream.  Exit status 1 if an invariant broke.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.scanner.codes import PaymentCode, classify  # noqa: E402
from drivers.scanner.fuzzing import ORACLE, cut, random_stream  # noqa: E402
from drivers.scanner.lines import Line, LineAssembler, Terminator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1515)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stream = random_stream(rng, args.lines)
    whole = set(re.split(rb"\r\n|\r|\n", stream))
    assembler = LineAssembler(Terminator.CR)
    kinds: collections.Counter = collections.Counter()
    bad: list[str] = []
    started = time.perf_counter()
    for read in cut(stream, rng):
        for item in assembler.feed(read, 0.0):
            result = classify(item.text) if isinstance(item, Line) else item
            if isinstance(result, PaymentCode):
                kinds[result.kind.value] += 1
                if not ORACLE.fullmatch(result.code) or result.code.encode() not in whole:
                    bad.append(result.masked)
            else:
                kinds["refused " + result.reason.value] += 1
    elapsed = time.perf_counter() - started
    print(f"scanner fuzz: {args.lines} lines in, {len(stream)} bytes, seed {args.seed}")
    for name, count in sorted(kinds.items()):
        print(f"  {name:<24} {count:>7}")
    print(f"  {sum(kinds.values())} lines out in {elapsed:.2f} s "
          f"({sum(kinds.values()) / elapsed:,.0f} lines/s, {elapsed / max(1, args.lines) * 1e6:.1f} µs a line)")
    print(f"  exceptions: 0; payment codes not valid or not whole lines: {len(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
