"""`revgraph graph --focus all` draws every revision, however many (PRODUCT §2 `graph`).

A history over ``graphview.LARGE_GRAPH`` revisions: the default picture
(nothing new: focus ``compact``) folds its long linear runs, as it always
did; ``--focus all`` is the user asking for everything, in every format, and
the JSON is node-link data a script loads as the whole graph.
"""

from __future__ import annotations

import json
import re

import pytest

from revgraph.render.graphview import LARGE_GRAPH, LONG_RUN_COMPACT
from tests.support.gitrepo import GitRepo

FORMATS = ("json", "tree", "mermaid", "dot", "svg", "html")
PLACEHOLDER = re.compile(r"… [\d,]+ revisions? …")


@pytest.fixture
def long_history(gitrepo: GitRepo) -> list[str]:
    """A line of LARGE_GRAPH + 30 revisions with one side branch, all on main."""
    gitrepo.init_env()
    ids = [f"r{i:05d}" for i in range(LARGE_GRAPH + 30)]
    for parent, rid in zip([None, *ids], ids):
        gitrepo.add_revision(rid, parent, message=f"step {rid}")
    gitrepo.add_revision("side01", ids[100], message="side branch", branch_labels="side")
    gitrepo.commit("a long history")
    return [*ids, "side01"]


def graph(repo: GitRepo, *args: str) -> str:
    done = repo.run("graph", *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_focus_all_draws_every_revision_of_a_long_history(gitrepo, long_history):
    # One history for every format: 231 revisions take a while to write.
    drawn = {fmt: graph(gitrepo, "--focus", "all", "--format", fmt) for fmt in FORMATS}
    for fmt, out in drawn.items():
        assert not PLACEHOLDER.search(out), fmt
        assert all(rid in out for rid in long_history), fmt
    data = json.loads(drawn["json"])
    assert data["graph"]["focus"] == "all"
    assert data["graph"]["shown"] == data["graph"]["revisions"] == len(long_history)
    assert sorted(node["id"] for node in data["nodes"]) == sorted(long_history)


def test_the_default_picture_of_a_long_history_still_folds_long_runs(gitrepo, long_history):
    data = json.loads(graph(gitrepo, "--format", "json"))
    assert data["graph"]["focus"] == "compact"
    assert data["graph"]["revisions"] == len(long_history) > data["graph"]["shown"]
    assert json.loads(graph(gitrepo, "--focus", "compact", "--format", "json")) == data
    assert PLACEHOLDER.search(graph(gitrepo))


def test_help_says_what_each_focus_draws(gitrepo):
    text = " ".join(graph(gitrepo, "--help").replace("│", " ").split())  # unwrapped from its box
    assert "all: every revision, nothing folded" in text
    assert f"compact: every revision, but over {LARGE_GRAPH} revisions a linear run of more than {LONG_RUN_COMPACT}" in text
    assert "(default: new when there are new revisions, else compact)" in text


def test_graph_takes_text_for_its_terminal_tree_as_the_other_commands_name_it(gitrepo):
    # QA: `graph -f text` was "unknown graph format" while check, diff and heads call
    # their terminal output text.
    gitrepo.init_env()
    gitrepo.add_revision("a0a0a0a0a0a0", None, message="root")
    gitrepo.commit("root")
    text = gitrepo.run("graph", "-f", "text")
    assert text.returncode == 0 and text.stdout == gitrepo.run("graph", "-f", "tree").stdout


def test_a_mermaid_chart_past_mermaids_text_size_is_drawn_with_a_warning(gitrepo):
    # Under Mermaid's 500 links but over its 50,000 characters: GitHub shows
    # "Maximum text size in diagram exceeded" instead; the user is told why and
    # what draws it, and still gets the chart.
    gitrepo.init_env()
    ids = [f"{i:04d}_add_the_{'abcdefghijklmnopqrstuvw'[i % 23]}_table_{i:04d}" for i in range(420)]
    for parent, rid in zip([None, *ids], ids):
        gitrepo.add_revision(rid, parent, message=f"add the reporting table number {rid[:4]} with indexes")
    gitrepo.commit("a long history")
    done = gitrepo.run("graph", "--focus", "all", "--format", "mermaid")
    assert done.returncode == 0, done.stderr
    assert all(rid in done.stdout for rid in ids)
    assert done.stdout.count(" --> ") < 500 and len(done.stdout) > 50_000
    assert "more than Mermaid reads by default (50,000)" in done.stderr
    assert "-f svg or html" in done.stderr
