"""Every customer-visible string exists in Chinese and in English."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from contract.account_number import NumberProblem
from contract import errors
from kiosk.i18n import Translator, catalog
from kiosk.journey_state import ADVICE, STEP_BAR

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u9fff]")
KEY_LITERAL = re.compile(r"""["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")
# Keys built at run time from a prefix and a value.
DYNAMIC_PREFIXES = ("account.problem.", "step.", "overview.bill_", "unit.", "month.")


def source_files() -> list[Path]:
    return [p for folder in ("app", "contract", "kiosk", "screens") for p in (ROOT / folder).rglob("*.py")]


def keys_used_in_code() -> set[str]:
    found = set()
    for path in source_files():
        found |= set(KEY_LITERAL.findall(path.read_text("utf-8")))
    found |= {"account.problem." + p.value for p in NumberProblem}
    found |= {"step." + s.value for s in STEP_BAR}
    found |= {"overview.bill_paid", "overview.bill_unpaid"}
    found |= {cls.reason_key for cls in vars(errors).values()
              if isinstance(cls, type) and issubclass(cls, errors.BackendError)}
    found |= set(ADVICE.values())
    sections = {k.split(".")[0] for k in catalog()}
    # A literal ending in "." or "_" is a prefix completed at run time (added above).
    return {key for key in found if key.split(".")[0] in sections and not key.endswith((".", "_"))}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(catalog()))
def test_every_entry_has_chinese_and_english(key):
    entry = catalog()[key]
    assert set(entry) == {"zh", "en"}, f"{key}: needs exactly zh and en, has {sorted(entry)}"
    assert entry["zh"].strip() and entry["en"].strip(), f"{key}: empty text"


@pytest.mark.parametrize("key", sorted(catalog()))
def test_no_entry_is_left_untranslated(key):
    entry = catalog()[key]
    if key == "header.switch_language":  # the switch names the *other* language
        return
    assert CJK.search(entry["zh"]), f"{key}: the zh text has no Chinese: {entry['zh']!r}"
    assert not CJK.search(entry["en"]), f"{key}: the en text has Chinese: {entry['en']!r}"
    assert placeholders(entry["zh"]) == placeholders(entry["en"]), f"{key}: placeholders differ"


def test_every_key_the_code_uses_is_in_the_catalogue():
    missing = sorted(keys_used_in_code() - set(catalog()))
    assert not missing, f"keys used in code but missing from assets/i18n/messages.toml: {missing}"


def test_the_catalogue_holds_no_forgotten_keys():
    used = keys_used_in_code()
    unused = sorted(key for key in catalog() if key not in used and not key.startswith(DYNAMIC_PREFIXES))
    assert not unused, f"keys in messages.toml that no code uses: {unused}"


def test_a_missing_key_shows_itself_instead_of_a_blank():
    assert Translator("en")("no.such_key") == "[no.such_key]"


def test_every_unit_of_the_contract_has_a_customer_name_in_both_languages():
    from contract.models import UNITS

    for unit in UNITS:
        assert Translator("zh").has(f"unit.{unit}") and Translator("en").has(f"unit.{unit}"), unit
    assert Translator("zh")("unit.kWh") == "度"  # what customers say, not 千瓦时 or kWh
