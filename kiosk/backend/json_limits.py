"""The reply body as JSON, within limits: nesting depth, integer digits, no
NaN or Infinity.

Its own module because json.loads trusts its input: it recurses once per
level and builds integers of any length.  The limits are checked here, before
and while decoding, so a hostile body costs a MalformedReply, never a
RecursionError or seconds of CPU.
"""

from __future__ import annotations

import json
import re
from typing import Any

from contract.errors import MalformedReply

# The contract nests three levels (account, bills, bill); extra fields may
# add a few.  Deeper is refused before json.loads could recurse on it.
_MAX_JSON_DEPTH = 16
# No value of the contract has more digits (64-bit fen has 19).  Longer
# integers are refused while decoding: Python would build them digit by digit.
_MAX_INTEGER_DIGITS = 30


class _NumberTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_INTEGER_DIGITS:
        raise _NumberTooLong(digits)
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # json.loads would accept NaN and Infinity


# A JSON string, or an unterminated one running to the end: always matching
# from its opening quote, possessively, keeps the scan linear (a pattern that
# could fail there would be retried from every quote inside the string).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"[\[{][\]}]")


def _nesting_problem(text: str) -> str:
    """Why the JSON's nesting is refused, or "".

    json.loads recurses once per level: 100,000 levels raise RecursionError.
    So the nesting is looked at first, without recursion: strings taken out,
    then the innermost bracket pairs peeled off, one level per pass.  A valid
    document is empty after as many passes as it has levels; one that stops
    shrinking has brackets that do not balance.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(_MAX_JSON_DEPTH):
        if not brackets:
            return ""
        peeled = _INNERMOST_PAIR.sub("", brackets)
        if peeled == brackets:
            return "the body is not JSON (its brackets do not balance)"
        brackets = peeled
    if brackets:
        return f"the body nests deeper than {_MAX_JSON_DEPTH} levels"
    return ""


def _decode_json(where: str, status: int, body: bytes) -> Any:
    """The body as JSON, or MalformedReply; never RecursionError or a giant int."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body is not JSON in UTF-8 (byte {exc.start:,} of {len(body):,})"
        ) from None
    problem = _nesting_problem(text)
    if problem:
        raise MalformedReply(f"{where} -> {status}: {problem}")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except _NumberTooLong as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body holds an integer of {exc.digits:,} digits; "
            f"no value of the contract has more than {_MAX_INTEGER_DIGITS}"
        ) from None
    except json.JSONDecodeError as exc:
        raise MalformedReply(
            f"{where} -> {status}: the body is not JSON ({exc.msg} at character {exc.pos:,} of {len(text):,})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise MalformedReply(f"{where} -> {status}: the body is not JSON ({type(exc).__name__})") from None
