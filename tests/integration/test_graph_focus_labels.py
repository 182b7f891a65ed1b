"""`revgraph graph --focus new` says which labelled line a new revision continues.

OpenStack keystone's layout: an ``expand`` and a ``contract`` line off one
root, each label declared once (``branch_labels``), on its line's first
revision. A branch adds one revision to ``contract``. With the default
context the declarer lies deep in the history, and revgraph used to fold it,
with the root and most of ``expand``, into one "… 14 revisions …" node: no
picture said which line the new revision is on. The nearest label declarer
below each new revision (and each head) now stays drawn, in every format.

The repository is built once and drawn once per format (the suite's time budget).
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.support.gitrepo import GitRepo, apply_environ, isolated_environ

FORMATS = ("tree", "mermaid", "dot", "svg", "html", "json")
PLACEHOLDER = re.compile(r"… [\d,]+ revisions? …")
ROOT = "a0root"
LINES = {label: [f"{label[:3]}{i:02d}" for i in range(1, 9)] for label in ("expand", "contract")}
NEW = "newcon"  # on contract's head


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("labelled-lines")
    # Built once for the module: isolated like the gitrepo fixture, through the repo's env.
    repo = GitRepo.init(root / "repo", apply_environ(isolated_environ(root / "home"), os.environ))
    repo.init_env()
    repo.add_revision(ROOT, None, message="initial schema")
    for label, ids in LINES.items():
        for parent, rid in zip([ROOT, *ids], ids):
            first = parent == ROOT
            repo.add_revision(rid, parent, message=f"{label} {rid}", branch_labels=(label,) if first else None)
    repo.commit("expand and contract lines")
    repo.branch("feature")
    repo.checkout("feature")
    repo.add_revision(NEW, LINES["contract"][-1], message="drop the old column")
    repo.commit("contract: drop the old column")
    drawn = {}
    for fmt in FORMATS:
        done = repo.run("graph", "--focus", "new", "--format", fmt)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (fmt, done.stderr)
        drawn[fmt] = done.stdout
    return drawn


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_draws_the_label_of_the_line_a_new_revision_continues(pictures, fmt):
    out = pictures[fmt]
    assert NEW in out
    assert PLACEHOLDER.search(out), "the history is still folded"  # else the test proves nothing
    if fmt == "json":
        nodes = {node["id"]: node for node in json.loads(out)["nodes"]}
        assert nodes[LINES["contract"][0]]["branch_labels"] == ["contract"]
        assert "label:contract" in nodes[LINES["contract"][0]]["marks"]
    else:
        # Every picture writes a labelled revision as "ID (LABEL)".
        assert f"{LINES['contract'][0]} (contract)" in out


def _below(edges: list[tuple[str, str]], start: str) -> set[str]:
    """Every node reachable from ``start`` going down (child -> parent)."""
    parents: dict[str, list[str]] = {}
    for parent, child in edges:
        parents.setdefault(child, []).append(parent)
    seen, stack = set(), [start]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def test_json_the_new_revision_leads_down_to_contract_and_not_expand(pictures):
    data = json.loads(pictures["json"])
    nodes = {node["id"]: node for node in data["nodes"]}
    below = _below([(e["source"], e["target"]) for e in data["edges"]], NEW)
    labels_below = {label for rid in below for label in nodes[rid]["branch_labels"]}
    # The nearest label below it is contract's; expand's declarer is on the other line.
    assert LINES["contract"][0] in below and LINES["expand"][0] not in below
    assert "contract" in labels_below
    # The JSON contract keeps its fields: placeholders and revisions as they were.
    placeholder = next(node for node in data["nodes"] if node["placeholder"])
    assert set(placeholder) == {
        "id", "label", "path", "message", "marks", "branch_labels", "create_date",
        "placeholder", "hidden", "first", "last",
    }  # fmt: skip
    assert set(nodes[NEW]) == {"id", "label", "path", "message", "marks", "branch_labels", "create_date", "placeholder"}


def test_dot_edges_lead_from_the_new_revision_to_the_contract_label(pictures):
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)"', pictures["dot"], flags=re.M)
    below = _below(edges, NEW)
    assert LINES["contract"][0] in below and LINES["expand"][0] not in below


def test_the_other_head_shows_its_line_too(pictures):
    # Two heads read as RG101 unless the picture says they are on distinct labels.
    tree = pictures["tree"]
    assert f"{LINES['expand'][-1]} expand {LINES['expand'][-1]} [head] [landed]" in tree
    assert f"{LINES['expand'][0]} (expand)" in tree
