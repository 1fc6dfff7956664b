"""check-config on thousands of broken config.toml files: a message or "ok", never a traceback.

A seeded mutation fuzzer starts from the shipped config.toml and breaks it the
ways a technician's editor, a bad copy or a hostile file would: flipped and
deleted bytes, duplicated lines, values replaced by deep arrays, unbalanced
brackets in URLs, huge numbers, NUL bytes, non-UTF-8 bytes, very long strings
and values of the wrong type.  Each case goes through the same function
``kiosk check-config`` calls (:func:`kiosk.config.load_config_for_run`); a
handful go through the real command as well.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import ConfigError, ConfigProblem, KioskConfig, load_config_for_run

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (ROOT / "config.toml").read_bytes()
SEED = 20_241_202
CASES = 3000
MESSAGE_MAX_CHARS = 10_000  # a value shortened in a message; only a 4 KiB path could come near this

# Values that have broken, or could break, a walker that trusts tomllib's output.
NASTY_VALUES = (
    b"[" * 400 + b"]" * 400,
    b"[" * 3000 + b"]" * 3000,
    b"{a = " * 600 + b"1" + b"}" * 600,
    b"[" * 60 + b"1" + b"]" * 60,
    b'"http://[::1"', b'"http://[zz]:80"', b'"https://[::1]x:80"', b'"http://[billing.example]"',
    b'"https://billing.example:99999"', b'"http://:80"', b'"http://billing\\u0000.example"',
    b"1" + b"0" * 5000, b"1" + b"0" * 300, b"-" + b"9" * 4299, b"1e999", b"-1e999", b"nan", b"inf", b"-0",
    b"0x" + b"f" * 400, b"0o777", b"0b101", b"1_000_000",
    b'"\\u0000"', b'"var/\\u0000data"', b'"a\\u0007b\\u001b[31m"',
    b'"' + b"x" * 100_000 + b'"', b'"' + b"/d" * 3000 + b'"', b'"/' + b"n" * 300 + b'"',
    b"true", b"false", b"1979-05-27T07:32:00Z", b"1979-05-27", b"07:32:00", b"[]", b"{}", b'[1, "a", [2]]',
    b'"20"', b"'literal'", b'"""multi\nline"""', b'["zh", "zh"]', b'["zh", ["en"]]', b"[1.5, 2]",
    b'"/dev/null/x"', b'"/proc/self/fd/0"', b'"../../../.."', b'"/"', b'""', b'" "', b'"~/data"',
    "“中文引号”".encode(), b'"\\ud800"', b'"\xff\xfe"',
)

NASTY_LINES = (
    b"[backend.url]", b"[[terminal]]", b"[utilities]", b"[[utilities]]", b'[[utilities]]\nid = "gas"',
    b"utilities = [[1]]", b"utilities = 5", b"backend = 1", b"[storage]\n[storage]", b"a.b.c.d.e = 1",
    b'"\\u0000" = 1', b"x" * 20_000 + b" = 1", b"[" + b"t" * 5000 + b"]", b"= 1", b"[", b"]]",
    b"\x00", b"\xc3\x28", b"\xef\xbb\xbf", "＝，［］".encode(),
)


def _value_lines(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if b" = " in line and not line.lstrip().startswith(b"#")]


def _replace_value(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    candidates = _value_lines(lines)
    if not candidates:
        return data
    index = rng.choice(candidates)
    key = lines[index].split(b" = ", 1)[0]
    lines[index] = key + b" = " + rng.choice(NASTY_VALUES)
    return b"\n".join(lines)


def _insert_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(NASTY_LINES))
    return b"\n".join(lines)


def _duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[index])
    return b"\n".join(lines)


def _delete_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    start = rng.randrange(len(lines))
    del lines[start:start + rng.randint(1, 5)]
    return b"\n".join(lines)


def _flip_bytes(data: bytes, rng: random.Random) -> bytes:
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(mutable))
        mutable[position] = rng.choice((rng.randrange(256), mutable[position] ^ (1 << rng.randrange(8))))
    return bytes(mutable)


def _delete_bytes(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 40):]


def _insert_bytes(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data) + 1)
    noise = rng.choice((b"\x00", b"\xff", b"\xe4\xb8", b'"', b"[", b"]", b"{", b"=", b"\n", b"\\", b"\r"))
    return data[:position] + noise * rng.randint(1, 3) + data[position:]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


MUTATIONS = (_replace_value, _replace_value, _replace_value, _insert_line, _duplicate_line, _delete_lines,
             _flip_bytes, _delete_bytes, _insert_bytes, _truncate)


def mutated(rng: random.Random) -> bytes:
    data = SHIPPED
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(data, rng) or data
    return data


def check_gives_ok_or_problems(path: Path) -> KioskConfig | tuple[ConfigProblem, ...]:
    """What check-config does with ``path``; anything raised but ConfigError fails the test."""
    try:
        return load_config_for_run(path)
    except ConfigError as error:
        return error.problems


def assert_readable_problems(problems: tuple[ConfigProblem, ...], case: str) -> None:
    assert problems, f"{case}: a ConfigError without a problem"
    for problem in problems:
        line = f"{problem.key}: {problem.message}"
        assert problem.message.strip(), f"{case}: an empty message for {problem.key!r}"
        assert not any(c < " " or c == "\x7f" for c in line), f"{case}: a control character in {line[:300]!r}"
        assert len(line) < MESSAGE_MAX_CHARS, f"{case}: a message of {len(line)} characters: {line[:300]!r}"


def test_thousands_of_mutated_config_files_give_ok_or_a_list_of_problems_never_a_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the file's relative paths (var/...) are checked here; nothing is created
    rng = random.Random(SEED)
    path = tmp_path / "config.toml"
    outcomes = {"ok": 0, "problems": 0}
    started = time.monotonic()
    for number in range(CASES):
        data = mutated(rng)
        path.write_bytes(data)
        case = f"case {number} of seed {SEED} ({data[:120]!r}…)"
        try:
            result = check_gives_ok_or_problems(path)
        except Exception as error:  # noqa: BLE001 - the finding: anything but ConfigError is a traceback
            pytest.fail(f"{case}: check-config raised {type(error).__name__}: {str(error)[:300]}")
        if isinstance(result, KioskConfig):
            outcomes["ok"] += 1
        else:
            assert_readable_problems(result, case)
            outcomes["problems"] += 1
    elapsed_s = time.monotonic() - started
    # The fuzzer must reach both outcomes, or it is not exercising the walker.
    assert outcomes["ok"] > 50 and outcomes["problems"] > CASES // 2, outcomes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"], "checking created files"
    print(f"{CASES} mutated files in {elapsed_s:.1f} s: {outcomes}")


CLI_CASES = {
    "url with an unbalanced bracket": b'[backend]\nurl = "http://[::1"\n',
    "array nested 3000 deep": b"[terminal]\nlanguages = " + b"[" * 3000 + b"]" * 3000 + b"\n",
    "number of 5000 digits": b"[idle]\ncountdown_s = 1" + b"0" * 5000 + b"\n",
    "NUL byte in a path": b'[storage]\ndata_dir = "var/\\u0000data"\n',
    "raw NUL byte": b'[terminal]\nid = "KS\x00"\n',
    "list item of 5000 digits": b"[payment]\naccepted_notes = [1" + b"0" * 5000 + b"]\n",
    "tables nested 1000 deep": b"[ui]\nfullscreen = " + b"{a = " * 1000 + b"1" + b"}" * 1000 + b"\n",
    "100000-character value": b'[terminal]\nhall_name_en = "' + b"x" * 100_000 + b'"\nid = "' + b"K" * 100_000 + b'"\n',
    "log directory under a regular file": b'[logging]\ndir = "config.toml/log"\n',
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_the_real_check_config_command_answers_malformed_files_with_exit_1_and_no_traceback(tmp_path, name):
    path = tmp_path / "config.toml"
    path.write_bytes(CLI_CASES[name])

    result = subprocess.run([sys.executable, "-m", "app.cli", "check-config", str(path)], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, env=dict(os.environ))

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("the kiosk will not start with this file")
    assert all(line.startswith(f"{path}: ") for line in result.stderr.splitlines())
    assert max(map(len, result.stderr.splitlines())) < 1000, "a message that quotes the whole value"
