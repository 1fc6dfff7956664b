"""The layers only point down: app → screens → kiosk → offline_store, drivers → contract.

Read from the code's own import statements (including imports inside
functions), so a lazy import cannot slip a layer past the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("app", "screens", "kiosk", "offline_store", "drivers", "contract")
# What each layer may import of the project (and PySide6 only where it says so).
MAY_IMPORT = {
    "contract": set(),
    "drivers": {"drivers", "contract"},
    "offline_store": {"offline_store", "contract"},
    "kiosk": {"kiosk", "contract", "offline_store", "drivers"},
    "screens": {"screens", "kiosk", "contract", "drivers", "PySide6"},
    "app": {"app", "screens", "kiosk", "contract", "offline_store", "drivers", "PySide6"},
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots & {*PROJECT, "PySide6"}


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_a_layer_imports_only_what_lies_below_it(layer):
    wrong = {}
    for path in sorted((ROOT / layer).rglob("*.py")):
        bad = imported_roots(path) - MAY_IMPORT[layer] - {layer}
        if bad:
            wrong[str(path.relative_to(ROOT))] = sorted(bad)
    assert not wrong, f"{layer}/ imports layers above it: {wrong}"
