"""``revgraph.api``: one import path for every use case, each module imported on first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from revgraph import api

USE_CASES = ("checking", "diffing", "fixing", "locking", "graphing")
PACKAGE = Path(api.__file__).resolve().parent


def _public_names(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("module", USE_CASES)
def test_every_public_name_of_a_use_case_is_reached_through_revgraph_api(module):
    from importlib import import_module

    defined = import_module(f"revgraph.api.{module}")
    for name in sorted(_public_names(module)):
        assert getattr(api, name) is getattr(defined, name), f"revgraph.api.{name}"
        assert name in dir(api)


def test_every_name_in_all_resolves_and_an_unknown_one_is_an_attribute_error():
    assert all(getattr(api, name) is not None for name in api.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_use_case'"):
        api.no_such_use_case  # noqa: B018


def test_a_use_case_module_is_imported_only_when_one_of_its_names_is_asked_for():
    script = """
import json, sys
import revgraph.api as api
loaded = lambda: sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("revgraph.api."))
steps = [loaded()]
api.Workspace, api.heads
steps.append(loaded())
from revgraph.api import check
steps.append(loaded())
print(json.dumps(steps))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    bare, shared_only, after_check = json.loads(done.stdout)
    assert bare == [] and shared_only == []
    assert "checking" in after_check and "fixing" not in after_check and "locking" not in after_check
