"""Codes of each payment kind's published shape, for the demo panel and the tour to hand to the emulator.

Random digits after the kind's prefix; drawn again in the rare case the
classifier would refuse one (an 18-digit WeChat shape that is also a valid
resident ID number, see :mod:`drivers.scanner.codes`).
"""

from __future__ import annotations

import random

from drivers.scanner.codes import CodeKind, PaymentCode, classify

# kind → (first two digits allowed, lengths allowed): docs/scanner.md, "Code kinds".
SHAPES = {
    CodeKind.WECHAT: (range(10, 16), (18,)),
    CodeKind.ALIPAY: (range(25, 31), tuple(range(16, 25))),
    CodeKind.UNIONPAY: (range(62, 63), (19,)),
}


def sample_code(kind: CodeKind, rng: random.Random | None = None) -> str:
    """A code the classifier takes as ``kind``."""
    rng = rng or random.Random()
    prefixes, lengths = SHAPES[kind]
    while True:
        length = rng.choice(lengths)
        code = str(rng.choice(prefixes)) + "".join(rng.choice("0123456789") for _ in range(length - 2))
        result = classify(code)
        if isinstance(result, PaymentCode) and result.kind is kind:
            return code
