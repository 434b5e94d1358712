"""The data-access layer sits at the bottom: `db/` modules import only each other and the
package's foundations (errors, settings, logging, the `UNSET` sentinel), never the API, the
schemas or the services above them (an upward import ties the store to one door's types)."""

from __future__ import annotations

import ast
from pathlib import Path

import inference_core

DB = Path(inference_core.__file__).parent / "db"
FOUNDATIONS = {
    "inference_core.errors",
    "inference_core.settings",
    "inference_core.observability",
    "inference_core.unset",
}


def _our_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "inference_core"}


def test_db_modules_import_nothing_above_them() -> None:
    upward = {
        f"{path.name}: {name}"
        for path in sorted(DB.glob("*.py"))
        for name in _our_imports(path)
        if not name.startswith("inference_core.db") and name not in FOUNDATIONS
    }
    assert upward == set()
