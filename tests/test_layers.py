"""The layering holds: the core imports no database, scheduler or chat library, and nothing
below the adapters imports an adapter. Read from the source (every import, even one only for type
checkers), so a forbidden import fails here before it spreads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"slack_bolt", "slack_sdk", "discord", "nio", "aiohttp", "adapters"}
FORBIDDEN = {
    "bot": {"sqlalchemy", "sqlmodel", "alembic", "apscheduler", "runtime", *CHAT},
    "storage": {"apscheduler", "runtime", *CHAT},
    "runtime": {"adapters", "slack_bolt", "slack_sdk", "discord", "nio"},
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


OURS = ("bot", "storage", "runtime", "adapters")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {_module_name(p): p for layer in OURS for p in sorted((ROOT / layer).rglob("*.py"))}


def imported_modules(path: Path, known: set[str], this: str | None = None) -> set[str]:
    """Our modules a file imports (`from a import b` counts `a.b` when b is a module), wherever
    the import sits: inside functions and under TYPE_CHECKING too."""
    this = this or _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]

    def ours(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(m for alias in node.names if (m := ours(alias.name)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                submodule = ours(f"{base}.{alias.name}")
                m = submodule if submodule not in (None, base) else ours(base)
                if m:
                    found.add(m)
    found.discard(this)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    known = set(modules)
    return {name: imported_modules(path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_of_ours_imports_itself_round_a_circle() -> None:
    assert find_cycle(import_graph()) is None, " → ".join(find_cycle(import_graph()) or [])


def test_the_circle_check_finds_a_circle_through_type_checking_imports(tmp_path: Path) -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    sample = tmp_path / "x.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import y\n"
        "def f():\n    from . import z\n"
    )
    assert imported_modules(sample, {"bot", "bot.x", "bot.y", "bot.z"}, "bot.x") == {
        "bot.y",
        "bot.z",
    }


def allowed(module: str, imported: str) -> bool:
    if module.startswith("bot.domain"):
        return imported.startswith("bot.domain")
    if module.startswith("storage"):
        return imported.startswith(("storage", "bot.domain"))
    if module.startswith("bot"):
        return not imported.startswith(("runtime", "adapters"))
    return True


def test_each_module_imports_only_the_layers_below_it() -> None:
    """bot/domain: nothing of ours outside it. storage: of bot, only bot.domain. bot: no
    runtime or adapters."""
    offences: list[str] = []
    for module, imports in import_graph().items():
        if str(our_modules()[module].relative_to(ROOT)) in ENTRY_POINTS:
            continue
        offences += [
            f"{module} → {imported}" for imported in imports if not allowed(module, imported)
        ]
    assert not offences, offences
