"""The house's layers (ARCHITECTURE.md), checked on every import revgraph's modules make.

Data flows one way: where revisions come from -> what they are -> what is
wrong -> what to do -> how to show it. The pure core (model, parse, checks,
fix planning, render) takes data, not paths or git objects: it never imports
the sources, git operations, the API or the CLI, nor the modules that reach
files and processes. Lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "revgraph"

EDGES = (
    "revgraph.sources", "revgraph.gitops", "revgraph.api", "revgraph.cli", "revgraph.commands",
    "revgraph.resultcache", "revgraph.express", "revgraph.entry", "revgraph.demo", "revgraph.audit",
)  # fmt: skip
IO_MODULES = ("subprocess", "shutil", "tempfile", "git")

PURE = [
    "model.py", "parse.py", "parser_version.py", "findings.py", "rules.py", "lockfile.py", "listing.py",
    "checks", "fixes", "render",
]  # fmt: skip
# The edges of the core that the house names: the one writer, and the PNG renderer
# (which hands SVG to an external converter).
PURE_EXCEPT = {"fixes/apply.py": ("os", "shutil", "tempfile"), "render/png.py": ("shutil", "subprocess")}


def _modules(relative: str) -> list[Path]:
    path = PACKAGE / relative
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(path: Path, *, runtime_only: bool = False) -> list[tuple[int, str]]:
    """Every import ``path`` makes, lazy ones too; ``runtime_only`` leaves out those under
    ``if TYPE_CHECKING:`` (annotations only, never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "revgraph":  # from revgraph import api
                found += [(node.lineno, f"revgraph.{alias.name}") for alias in node.names]
    return found


def _reaching(package: str, forward: tuple[str, ...], *, runtime_only: bool = False) -> list[str]:
    """``package``'s imports of any of ``forward``, as ``path:line imports name``."""
    return [
        f"{path.relative_to(PACKAGE).as_posix()}:{line} imports {name}"
        for path in _modules(package)
        for line, name in _imports(path, runtime_only=runtime_only)
        if _under(name, forward)
    ]


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("relative", PURE)
def test_the_pure_core_imports_no_source_git_api_or_io(relative):
    bad = []
    for path in _modules(relative):
        rel = path.relative_to(PACKAGE).as_posix()
        allowed = PURE_EXCEPT.get(rel, ())
        for line, name in _imports(path):
            if _under(name, EDGES) or (_under(name, IO_MODULES) and name.split(".")[0] not in allowed):
                bad.append(f"{rel}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_sources_do_not_reach_forward_into_git_operations_the_api_or_the_cli():
    forward = ("revgraph.gitops", "revgraph.api", "revgraph.cli", "revgraph.commands", "revgraph.fixes",
               "revgraph.render", "revgraph.entry")  # fmt: skip
    bad = _reaching("sources", forward)
    assert not bad, "\n".join(bad)


def test_the_checker_sees_lazy_imports_and_from_package_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from revgraph import api\n    import subprocess\n")
    assert (2, "revgraph.api") in _imports(sample) and (3, "subprocess") in _imports(sample)


def test_git_operations_do_not_reach_forward_into_the_api_or_the_command_line():
    """gitops sits below the API: the API and the commands call it, never the other way."""
    forward = ("revgraph.api", "revgraph.cli", "revgraph.commands", "revgraph.entry", "revgraph.demo",
               "revgraph.audit", "revgraph.resultcache", "revgraph.express")  # fmt: skip
    bad = _reaching("gitops", forward, runtime_only=True)
    assert not bad, "\n".join(bad)


def test_the_runtime_import_checker_skips_type_checking_blocks(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from revgraph.api import X\n"
                      "def f():\n    from revgraph import api\n")  # fmt: skip
    assert _imports(sample, runtime_only=True) == [(1, "typing"), (5, "revgraph"), (5, "revgraph.api")]
    assert (3, "revgraph.api") in _imports(sample)
