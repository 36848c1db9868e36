"""The layering holds: the core imports no database, scheduler or chat library, and nothing
below the adapters imports an adapter. Read from the source (every import, even one only for type
checkers), so a forbidden import fails here before it spreads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"slack_bolt", "slack_sdk", "discord", "aiohttp", "adapters"}
FORBIDDEN = {
    "bot": {"sqlalchemy", "sqlmodel", "alembic", "apscheduler", "runtime", *CHAT},
    "storage": {"apscheduler", "runtime", *CHAT},
    "runtime": {"adapters", "slack_bolt", "slack_sdk", "discord"},
}
# Entry points run on their own (Alembic's command line reads the settings to connect).
ENTRY_POINTS = {"storage/migrations/env.py"}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module a file imports, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    files = [
        p
        for p in sorted((ROOT / layer).rglob("*.py"))
        if str(p.relative_to(ROOT)) not in ENTRY_POINTS
    ]
    assert files, layer
    offences = {
        f"{path.relative_to(ROOT)}: {', '.join(sorted(bad))}"
        for path in files
        if (bad := imported_packages(path) & FORBIDDEN[layer])
    }
    assert not offences, offences


def test_the_check_sees_imports_inside_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sqlalchemy.engine import Connection\n"
        "def f():\n    import apscheduler.triggers.cron\n"
        "from . import sibling\n"
    )
    assert imported_packages(sample) == {"typing", "sqlalchemy", "apscheduler"}
