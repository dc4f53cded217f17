"""The grid of `shared/architecture.md`, checked from the source: every project import of every
module is read with `ast`, and an arrow that points the wrong way, a cycle, or a project import
inside a function fails here, naming the file and line.

The rules are data (`ALLOWED`): a module's layer is the longest prefix of its dotted name found
in `LAYERS`; it may import the layers listed for it and its own layer.
"""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")

#: dotted prefix → layer name (longest prefix wins)
LAYERS: dict[str, str] = {
    "handlers": "handlers",
    "bot.services": "services",
    "bot.domain": "domain",
    "storage": "storage",
    "bot.texts": "texts",
    "bot.telegram": "telegram",
    "bot.charts": "charts",
    "bot.devtools": "devtools",
    "bot.emulator": "emulator",
    "bot.context": "context",
    "bot.settings": "settings",
    "bot.logging_setup": "logging",
    "bot.app": "root",
    "bot.__main__": "root",
    "bot": "package",
}

#: layer → the layers it may import (besides itself). `settings` and `logging` import only the
#: domain; services read settings through their `Runtime`, so they may name the settings type.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "storage": {"domain"},
    "texts": {"domain"},
    "services": {"domain", "storage", "settings"},
    "charts": {"domain", "texts"},
    "telegram": {"domain", "texts", "services", "context", "charts", "settings"},
    "context": {"domain", "services"},
    "handlers": {"domain", "services", "texts", "telegram", "context", "settings"},
    "settings": {"domain"},
    "logging": {"domain"},
    "emulator": set(),
    "package": set(),
    "root": {
        "domain",
        "services",
        "storage",
        "texts",
        "telegram",
        "charts",
        "context",
        "handlers",
        "devtools",
        "settings",
        "logging",
        "package",
    },
    "devtools": {
        "domain",
        "services",
        "storage",
        "texts",
        "telegram",
        "charts",
        "context",
        "handlers",
        "settings",
        "logging",
        "root",
        "emulator",
        "package",
    },
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported project module
    path: pathlib.Path
    line: int
    lazy: bool  # inside a function or method


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, pathlib.Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            out[module_name(path)] = path
    return out


MODULES = project_modules()


def _resolve(name: str) -> str | None:
    """The project module an imported dotted name refers to (a module or a name in one)."""
    while name:
        if name in MODULES:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def _targets(node: ast.Import | ast.ImportFrom, source: str, path: pathlib.Path) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                package = package.rsplit(".", 1)[0]
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        names = [n if n in MODULES else base for n in names]
    found = {_resolve(n) for n in names if n.split(".")[0] in PACKAGES}
    return sorted(t for t in found if t and t != source)


def imports_of(source: str, path: pathlib.Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child, source, path):
                    out.append(Import(source, target, path, child.lineno, in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return out


ALL_IMPORTS = [imp for name, path in MODULES.items() for imp in imports_of(name, path)]


def layer_of(module: str) -> str:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.source} → {imp.target}"


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        assert layer_of(name) in ALLOWED, name


def test_arrows_point_down() -> None:
    wrong = [
        _where(imp) + f" ({layer_of(imp.source)} may not import {layer_of(imp.target)})"
        for imp in ALL_IMPORTS
        if (src := layer_of(imp.source)) != (dst := layer_of(imp.target))
        and dst not in ALLOWED[src]
        and not (dst == "package" and imp.target == "bot")
    ]
    assert not wrong, "imports against the grid:\n" + "\n".join(wrong)


def test_no_project_import_inside_a_function() -> None:
    lazy = [_where(imp) for imp in ALL_IMPORTS if imp.lazy]
    assert not lazy, "project imports inside functions (move them to the top):\n" + "\n".join(lazy)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        # a package's __init__ importing its own submodules is how a package exposes them
        if imp.target.startswith(imp.source + "."):
            continue
        edges.setdefault(imp.source, set()).add(imp.target)
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


# --- the checker checks: a wrong arrow, a cycle and a lazy import are each caught ------------------


def _imports_from_text(source: str, text: str, tmp_path: pathlib.Path) -> list[Import]:
    path = ROOT / "bot" / "_probe.py"
    tree_path = tmp_path / "probe.py"
    tree_path.write_text(text, encoding="utf-8")
    out = []
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _targets(node, source, path):
                lazy = node.col_offset > 0
                out.append(Import(source, target, path, node.lineno, lazy))
    return out


@pytest.mark.parametrize(
    ("source", "text", "layers"),
    [
        ("bot.services.reporting", "from handlers import lapor\n", ("services", "handlers")),
        ("storage.incidents", "from bot.services import reporting\n", ("storage", "services")),
        ("bot.domain.access", "import telegram\nfrom bot.texts import common\n", ("domain", "texts")),
    ],
)
def test_a_wrong_arrow_is_caught(source: str, text: str, layers: tuple[str, str], tmp_path: pathlib.Path) -> None:
    found = _imports_from_text(source, text, tmp_path)
    assert found, text
    assert all(layer_of(imp.target) not in ALLOWED[layer_of(imp.source)] for imp in found)
    assert (layer_of(found[0].source), layer_of(found[0].target)) == layers


def test_a_lazy_import_is_caught(tmp_path: pathlib.Path) -> None:
    found = _imports_from_text("bot.services.digest", "def f():\n    from storage import digests\n", tmp_path)
    assert [imp.lazy for imp in found] == [True]


def test_a_cycle_is_caught() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
