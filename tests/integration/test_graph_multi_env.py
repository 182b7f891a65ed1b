"""`revgraph graph` and `check --format markdown` with several environments.

Every format is ONE document covering all environments: one JSON object, one
``<svg>`` root, one HTML page, one Mermaid flowchart (a subgraph per
environment), one DOT digraph (a cluster per environment), and in the
markdown report one ```` ```mermaid ```` block per environment. One
environment (``--env``) keeps the output it always had.

The repository: two environments, ``shop`` and ``reporting``, that both hold a
revision ``aaaa01`` (ids are only unique within an environment). On ``main``
each grows; the checked-out ``feature`` branch adds ``cccc03`` to ``shop`` on
the same parent as main's ``bbbb02``, so the predicted merge has two heads
there: a finding, a conflict mark and a proposed edge.
"""

from __future__ import annotations

import json
import os
import re
import stat
import xml.dom.minidom
from collections import Counter
from html.parser import HTMLParser

import networkx as nx
import pytest

from tests.support.gitrepo import GitRepo

ENVIRONMENTS = ["shop", "reporting"]


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr


@pytest.fixture
def two_envs(gitrepo: GitRepo) -> GitRepo:
    gitrepo.write(
        "pyproject.toml",
        "[tool.revgraph.environments]\n"
        'shop = { versions = ["shop/versions"] }\n'
        'reporting = { versions = ["reporting/versions"] }\n',
    )
    gitrepo.add_revision("aaaa01", None, message="shop base", versions="shop/versions")
    gitrepo.add_revision("aaaa01", None, message="reporting base", versions="reporting/versions")
    gitrepo.commit("two environments")
    gitrepo.branch("feature")
    gitrepo.add_revision("bbbb02", "aaaa01", message="landed on main", versions="shop/versions")
    gitrepo.add_revision("dddd02", "aaaa01", message="reporting grows", versions="reporting/versions")
    gitrepo.commit("main grows")
    gitrepo.checkout("feature")
    gitrepo.add_revision("cccc03", "aaaa01", message="new on feature", versions="shop/versions")
    gitrepo.commit("feature grows")
    return gitrepo


def graph(repo: GitRepo, fmt: str, *args: str, env: dict | None = None) -> str:
    done = repo.run(*args, "graph", "--base", "main", "--format", fmt, env=env)
    assert_no_traceback(done.stderr)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---------------------------------------------------------------------- json
def test_json_is_one_object_with_a_node_link_graph_per_environment(two_envs):
    data = json.loads(graph(two_envs, "json"))  # one document: json.loads takes no "extra data"
    assert data["version"] == 1
    assert [env["environment"] for env in data["environments"]] == ENVIRONMENTS
    shop, reporting = (
        nx.node_link_graph(env, directed=True, multigraph=False, edges="edges")
        for env in data["environments"]
    )
    assert sorted(shop.nodes) == ["aaaa01", "bbbb02", "cccc03"]
    assert shop.edges["bbbb02", "cccc03"]["kind"] == "proposed"
    assert "conflict" in shop.nodes["cccc03"]["marks"]
    assert sorted(reporting.nodes) == ["aaaa01", "dddd02"]
    assert reporting.nodes["aaaa01"]["message"] == "reporting base"
    # One environment keeps the bare node-link graph it always had.
    single = json.loads(graph(two_envs, "json", "--env", "shop"))
    assert "environments" not in single
    assert single == {k: v for k, v in data["environments"][0].items() if k != "environment"}


def test_json_written_with_output_is_one_document_too(two_envs, tmp_path):
    target = tmp_path / "graph.json"
    done = two_envs.run("graph", "--base", "main", "--format", "json", "-o", str(target))
    assert_no_traceback(done.stderr)
    assert done.returncode == 0, done.stderr
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [env["environment"] for env in data["environments"]] == ENVIRONMENTS


# ----------------------------------------------------------------------- svg
def test_svg_is_one_root_with_a_group_per_environment(two_envs):
    out = graph(two_envs, "svg")
    root = xml.dom.minidom.parseString(out.encode("utf-8")).documentElement  # one root or it raises
    assert root.tagName == "svg"
    groups = [g for g in root.getElementsByTagName("g") if g.getAttribute("class") == "environment"]
    assert [g.getAttribute("data-environment") for g in groups] == ENVIRONMENTS
    node_ids = {
        g.getAttribute("data-environment"): sorted(
            n.getAttribute("data-id") for n in g.getElementsByTagName("g")
            if "node" in n.getAttribute("class").split()
        )
        for g in groups
    }
    assert node_ids == {"shop": ["aaaa01", "bbbb02", "cccc03"], "reporting": ["aaaa01", "dddd02"]}
    element_ids = [e.getAttribute("id") for e in root.getElementsByTagName("*") if e.hasAttribute("id")]
    assert len(element_ids) == len(set(element_ids)), Counter(element_ids).most_common(3)
    # The environments are stacked, not drawn over each other.
    offsets = [re.fullmatch(r"translate\(0,(\d+)\)", g.getAttribute("transform")) for g in groups]
    assert all(offsets) and int(offsets[0].group(1)) < int(offsets[1].group(1))
    assert int(offsets[1].group(1)) < int(root.getAttribute("height"))


# ---------------------------------------------------------------------- html
class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_one_page_holding_every_environment(two_envs):
    page = graph(two_envs, "html")
    parser = Tags()
    parser.feed(page)
    names = Counter(tag for tag, _ in parser.tags)
    assert (names["html"], names["body"], names["svg"], names["script"]) == (1, 1, 1, 1)
    assert page.count("<!DOCTYPE html>") == 1
    groups = [a["data-environment"] for t, a in parser.tags if a.get("class") == "environment"]
    assert groups == ENVIRONMENTS
    drawn = Counter(a["data-id"] for t, a in parser.tags if "node" in (a.get("class") or "").split())
    assert drawn == {"aaaa01": 2, "bbbb02": 1, "cccc03": 1, "dddd02": 1}
    # Both environments hold aaaa01: the page's script looks edges up per environment.
    assert 'closest(".environment")' in page


# ------------------------------------------------------------------- mermaid
def test_mermaid_is_one_flowchart_with_a_subgraph_per_environment(two_envs):
    out = graph(two_envs, "mermaid")
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("flowchart")] == ["flowchart BT"]
    subgraphs = [line.strip() for line in lines if line.strip().startswith("subgraph ")]
    assert len(subgraphs) == 3  # shop, reporting, the shared legend
    assert "shop: HEAD merged into main" in subgraphs[0]
    assert "reporting: HEAD merged into main" in subgraphs[1]
    assert sum(line.strip() == "end" for line in lines) == len(subgraphs)
    defined = [m.group(1) for m in re.finditer(r"^\s+(\w+)\[\"", out, re.M)]
    assert len(defined) == len(set(defined)), Counter(defined).most_common(3)
    assert len(defined) == 5 + 1  # five revisions and the legend's text
    links = re.findall(r"^\s+\w+ (?:-->|-\.->|-\. proposed \.->) \w+$", out, re.M)
    styled = [int(n) for n in re.findall(r"^\s+linkStyle (\d+) ", out, re.M)]
    assert styled and all(0 <= n < len(links) for n in styled)
    assert any("proposed" in links[n] for n in styled)


# ----------------------------------------------------------------------- dot
def test_dot_is_one_digraph_with_a_cluster_per_environment(two_envs):
    out = graph(two_envs, "dot")
    assert len(re.findall(r"^digraph ", out, re.M)) == 1
    clusters = re.findall(r"^\s+subgraph (cluster_\w+) \{\n\s+label=\"([^\"]*)\"", out, re.M)
    assert [label for name, label in clusters if "legend" not in name] == [
        "shop: HEAD merged into main", "reporting: HEAD merged into main",
    ]
    nodes = re.findall(r"^\s+(\"[^\"]+\") \[label=", out, re.M)
    assert len(nodes) == len(set(nodes))
    assert '"shop:aaaa01"' in nodes and '"reporting:aaaa01"' in nodes


def test_png_draws_every_environment_in_one_picture(two_envs, tmp_path):
    """A stand-in ``dot`` records the source it is given: one digraph with both environments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen.dot"
    fake = bin_dir / "dot"
    fake.write_text(f'#!/bin/sh\ncat >> "{seen}"\nprintf "\\211PNG\\r\\n\\032\\n"\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "graph.png"
    done = two_envs.run("graph", "--base", "main", "--format", "png", "-o", str(target), env=env)
    assert_no_traceback(done.stderr)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(b"\x89PNG")
    assert done.stderr == f"wrote {target}\n"  # as every other format says
    source = seen.read_text(encoding="utf-8")
    assert source.count("digraph ") == 1
    assert '"shop:cccc03"' in source and '"reporting:dddd02"' in source


# ------------------------------------------------------------------ markdown
def test_markdown_report_has_one_mermaid_block_per_environment(two_envs):
    done = two_envs.run("check", "--base", "main", "--format", "markdown")
    assert_no_traceback(done.stderr)
    assert done.returncode == 1, done.stderr  # shop forks
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", done.stdout, re.S | re.M)
    assert len(blocks) == 2, done.stdout
    for block, name in zip(blocks, ENVIRONMENTS):
        assert len(re.findall(r"^flowchart ", block, re.M)) == 1, block
        assert f"%% {name}: HEAD merged into main" in block
    assert "cccc03" in blocks[0] and "dddd02" in blocks[1]
    assert done.stdout.index("Environment `shop`") < done.stdout.index("Environment `reporting`")


def test_one_environment_keeps_its_single_picture(two_envs):
    """``--env`` draws one environment exactly as before: no subgraph, cluster or wrapper."""
    mermaid = graph(two_envs, "mermaid", "--env", "reporting")
    assert mermaid.startswith("%% reporting: HEAD merged into main\nflowchart BT\n    n0[")
    dot = graph(two_envs, "dot", "--env", "reporting")
    assert "cluster_revgraph_env" not in dot and '"aaaa01" [label=' in dot
    svg = graph(two_envs, "svg", "--env", "reporting")
    assert 'class="environment"' not in svg and 'id="node-0"' in svg
    done = two_envs.run("--env", "shop", "check", "--base", "main", "--format", "markdown")
    assert done.stdout.count("```mermaid") == 1 and "Environment `" not in done.stdout
    # ... while all environments together are one document of each.
    assert graph(two_envs, "mermaid").count("flowchart") == 1
