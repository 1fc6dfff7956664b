"""Random and mutated scanner lines, for the fuzz test (tests/drivers/test_scanner_fuzz.py) and
bench/scanner_fuzz.py.  Every line is made from a fixed seed, so a failure is reproducible.

The lines are what a business hall's scanner really sees — payment codes of
each kind, near misses (one digit short, a neighbouring prefix), URLs,
resident ID numbers, EAN-13 product codes, words, Chinese text, long codes,
noise — then mutated the ways a line breaks: a byte changed, dropped,
doubled or inserted, a terminator in the middle, the line cut short.
"""

from __future__ import annotations

import random
import re

# The published shapes, written again here apart from drivers.scanner.codes so
# the fuzz test checks the classifier against an independent statement.
ORACLE = re.compile(r"1[0-5][0-9]{16}|(?:2[5-9]|30)[0-9]{14,22}|62[0-9]{17}")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def payment_code(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return str(rng.randint(10, 15)) + _digits(rng, 16)
    if kind == 1:
        return str(rng.randint(25, 30)) + _digits(rng, rng.randint(14, 22))
    return "62" + _digits(rng, 17)


def resident_id(rng: random.Random) -> str:
    body = str(rng.randint(11, 65)) + _digits(rng, 4) + f"{rng.randint(1930, 2015)}{rng.randint(1, 12):02d}" \
        f"{rng.randint(1, 28):02d}" + _digits(rng, 3)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def ean13(rng: random.Random) -> str:
    body = "69" + _digits(rng, 10)  # 690–699: GS1 China
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _near_miss(rng: random.Random) -> str:
    code = payment_code(rng)
    if rng.random() < 0.5:
        return code[:-1] if rng.random() < 0.5 else code + rng.choice("0123456789")
    return str(rng.choice((9, 16, 24, 31, 61, 63))) + code[2:]


_MAKERS = (
    lambda rng: payment_code(rng).encode(),
    lambda rng: _near_miss(rng).encode(),
    lambda rng: f"https://pay.example.cn/q/{_digits(rng, rng.randint(4, 40))}".encode(),
    lambda rng: resident_id(rng).encode(),
    lambda rng: ean13(rng).encode(),
    lambda rng: "".join(rng.choice("ABCXYZabcxyz0123456789-_/+=") for _ in range(rng.randint(1, 40))).encode(),
    lambda rng: "水费缴纳 账户 12345".encode(rng.choice(("utf-8", "gb18030"))),
    lambda rng: _digits(rng, rng.randint(25, 400)).encode(),
    lambda rng: bytes(rng.randrange(256) for _ in range(rng.randint(0, 60))),
    lambda rng: b"",
)


def mutate(line: bytes, rng: random.Random) -> bytes:
    data = bytearray(line)
    kind = rng.randrange(6)
    where = rng.randrange(len(data) + 1)
    if kind == 0 and data:
        data[min(where, len(data) - 1)] = rng.randrange(256)
    elif kind == 1 and data:
        del data[min(where, len(data) - 1)]
    elif kind == 2:
        data.insert(where, rng.choice(b"0123456789\r\n\x00\x16\x7f\xff"))
    elif kind == 3:
        data = data[:where]
    elif kind == 4:
        data = data + data
    else:
        data[where:where] = rng.choice((b"\r", b"\n", b"\r\n"))
    return bytes(data)


def random_line(rng: random.Random, mutate_share: float = 0.4) -> bytes:
    """One line as a scanner might send it, without its terminator."""
    line = rng.choice(_MAKERS)(rng)
    return mutate(line, rng) if rng.random() < mutate_share else line


def random_stream(rng: random.Random, lines: int, terminator: bytes = b"\r") -> bytes:
    """``lines`` random lines, each ended by ``terminator`` (now and then another one)."""
    endings = (terminator,) * 8 + (b"\r\n", b"\n", b"\r")
    return b"".join(random_line(rng) + rng.choice(endings) for _ in range(lines))


def cut(stream: bytes, rng: random.Random, largest: int = 64) -> list[bytes]:
    """The stream in reads of random sizes, as a port hands it over."""
    pieces, start = [], 0
    while start < len(stream):
        size = rng.randint(1, largest)
        pieces.append(stream[start:start + size])
        start += size
    return pieces
