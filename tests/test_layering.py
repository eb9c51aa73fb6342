"""Dependencies point one way: console -> widgets/backends; widgets -> models only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BACKEND_CLIENTS = {"kubernetes", "prometheus_api_client", "httpx", "sqlite_utils", "requests"}


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        mods: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.add(node.module.split(".")[0])
                if node.module.startswith("backends.") or node.module == "backends":
                    mods.add(node.module)
        found[str(path.relative_to(ROOT))] = mods
    return found


def test_packages_have_modules():
    for package in ("backends", "widgets", "console"):
        assert imported_modules(package), f"{package}/ has no Python modules"


def test_backends_never_import_textual():
    offenders = {f: m & {"textual", "textual_plotext", "console", "widgets"}
                 for f, m in imported_modules("backends").items()}
    assert {f: m for f, m in offenders.items() if m} == {}


def test_widgets_never_import_a_backend_client():
    offenders = {}
    for f, mods in imported_modules("widgets").items():
        bad = mods & (BACKEND_CLIENTS | {"console"})
        bad |= {m for m in mods if m.startswith("backends.") and m not in
                {"backends.domain.models", "backends.domain.actions"}}
        if bad:
            offenders[f] = bad
    assert offenders == {}


def test_backends_have_no_import_circle():
    """Every import in backends/ (function-level too; not those under TYPE_CHECKING)."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (ROOT / "backends").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test)
                       for sub in node.body for n in ast.walk(sub)}
        edges = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                edges.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                             else node.module for a in node.names)
        graph[name] = {e for e in edges if e in modules and e != name}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    assert sorted(m for m in graph if reaches(m, m)) == []
