"""The house rules (docs/ARCHITECTURE.md), enforced on the source.

Dependencies point one way: ``console -> widgets -> backends.domain``, ``console ->
backends``, ``backends.* -> backends.domain``; presenters import no Textual (not even
through what they import); only the wiring and ``backends/demo`` import the demo; only
``widgets/render`` touches Textual's private API; no import circle; every package says
what it is in one line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("backends", "widgets", "console")
BACKEND_CLIENTS = {"kubernetes", "prometheus_api_client", "httpx", "sqlite_utils", "requests"}
TEXTUAL = {"textual", "textual_plotext", "textual_serve"}
PRIVATE_ATTRS = {"_reactive_connect", "_border_subtitle", "_border_title", "_default",
                 "_compositor", "_styles_cache", "_dirty_regions", "_bindings"}
"""Textual internals that only widgets/render may touch (it names what each mirrors)."""


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


def parse(path: Path) -> ast.Module:
    """``path``'s syntax tree. CPython 3.11 can raise a spurious ``SystemError: AST
    constructor recursion depth mismatch`` when another thread (a worker left by an earlier
    test) builds a syntax tree at the same moment (python/cpython#106905); the file did not
    change, so it is parsed again."""
    source = path.read_text(encoding="utf-8")
    for attempt in range(3):
        try:
            return ast.parse(source, filename=str(path))
        except SystemError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``).
    ``top_level_only``: only the imports that run when the module is imported (not inside
    functions, not under ``TYPE_CHECKING``) -- what can make an import circle."""
    tree = parse(path)
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not (top_level_only and _type_checking(node)):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.Try,)):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not top_level_only or isinstance(node, ast.ClassDef):
                    visit(node.body)
            elif not top_level_only:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child])

    visit(tree.body)
    return found


def offenders(prefix: str, bad) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, path in modules().items():
        if name == prefix or name.startswith(prefix + "."):
            found = {m for m in imports(path) if bad(name, m)}
            if found:
                out[name] = found
    return out


def under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_rules_see_every_package():
    names = modules()
    for package in ("backends.domain", "backends.kube.kinds", "backends.prometheus",
                    "backends.audit", "backends.actions", "backends.demo", "console.controllers",
                    "console.presenters", "console.screens.modals", "console.cli",
                    "widgets.render"):
        assert package in names, f"{package} is missing"


def test_backends_never_import_the_ui():
    assert offenders("backends", lambda _, m: under(m, *TEXTUAL, "console", "widgets")) == {}


def test_the_domain_imports_no_other_backend():
    assert offenders("backends.domain", lambda _, m: under(m, "backends")
                     and not under(m, "backends.domain")) == {}


def test_backend_packages_speak_through_the_domain():
    """Siblings import the domain; the few other arrows are named here, one way each."""
    allowed = {"backends.kube": {"backends.actions"}, "backends.demo": {"backends.actions"},
               "backends.alertmanager": {"backends.prometheus"}}

    def bad(name: str, mod: str) -> bool:
        if not under(mod, "backends") or under(mod, "backends.domain"):
            return False
        own = ".".join(name.split(".")[:2])
        return not under(mod, own) and not under(mod, *allowed.get(own, ()))

    assert offenders("backends", bad) == {}


def test_widgets_take_data_not_sources():
    def bad(_: str, mod: str) -> bool:
        if mod.split(".")[0] in BACKEND_CLIENTS | {"console"}:
            return True
        return under(mod, "backends") and not under(mod, "backends.domain")

    assert offenders("widgets", bad) == {}


def test_only_the_wiring_imports_the_demo():
    def bad(name: str, mod: str) -> bool:
        return under(mod, "backends.demo") and not under(name, "backends.demo",
                                                           "console.wiring")

    assert offenders("backends", bad) == {} and offenders("console", bad) == {}
    assert offenders("widgets", bad) == {}


def test_only_widgets_render_touches_textual_internals():
    def private_import(name: str, mod: str) -> bool:
        if under(name, "widgets.render") or mod.split(".")[0] not in TEXTUAL | {"plotext"}:
            return False
        return any(part.startswith("_") for part in mod.split("."))

    for package in PACKAGES:
        assert offenders(package, private_import) == {}
    touched = {}
    for name, path in modules().items():
        if under(name, "widgets.render"):
            continue
        tree = parse(path)
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & PRIVATE_ATTRS
        if attrs:
            touched[name] = attrs
    assert touched == {}


@pytest.mark.parametrize("package", ["console.presenters", "widgets.levels", "widgets.gpu_plan",
                                     "widgets.model_rows", "backends.actions.catalog",
                                     "widgets.alert_data"])
def test_pure_modules_load_no_textual(package):
    """Imported in a fresh interpreter, with everything they import."""
    names = [n for n in modules() if under(n, package)]
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(TEXTUAL)!r}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_no_import_circle():
    names = modules()
    graph = {n: {m for m in imports(p, top_level_only=True) if m in names and m != n}
             for n, p in names.items()}
    # a package's __init__ runs before its modules: an arrow into a module is one into
    # the packages above it too, but those hold only docstrings (checked below)
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def walk(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                circles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                walk(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            walk(n)
    assert circles == []


def test_every_package_says_what_it_is_in_one_line():
    for package in PACKAGES:
        for init in (ROOT / package).rglob("__init__.py"):
            tree = parse(init)
            doc = ast.get_docstring(tree)
            assert doc and doc.strip().splitlines()[0].endswith("."), f"{init}: no docstring"
            body = [n for n in tree.body if not (isinstance(n, ast.Expr)
                                                 and isinstance(n.value, ast.Constant))]
            assert body == [] or init.parent.name == "kinds", \
                f"{init} holds code: importing any module of the package would run it"
