"""Several environments drawn into one document (``render_graphs``), in memory.

One environment is drawn byte for byte as ``render_graph`` draws it; several
make one JSON object, one SVG root, one HTML page, one Mermaid flowchart and
one DOT digraph, with ids that stay apart when two environments hold the same
revision id, and environment names escaped like any other text.
"""

from __future__ import annotations

import json
import re
import xml.dom.minidom
from collections import Counter

import pytest

from revgraph.findings import Report
from revgraph.model import Revision, RevisionGraph
from revgraph.render.graphview import FocusedView, build_view, focus, render_graph, render_graphs
from revgraph.render.html import _JS, _scoped_js
from revgraph.render.markdown import render_markdown

TEXT_FORMATS = ("tree", "mermaid", "dot", "svg", "html", "json")
HOSTILE_NAME = 'a"b<script>&`#x'


def fork(title: str) -> FocusedView:
    """base <- landed, base <- new: two heads, a conflict and a proposed edge."""
    g = RevisionGraph([
        Revision(id="base01", message="base"),
        Revision(id="land02", down_revisions=("base01",), message="landed"),
        Revision(id="new003", down_revisions=("base01",), message="new"),
    ])
    view = build_view(g, new={"new003"}, landed={"base01", "land02"}, conflict={"new003"},
                      proposed=[("land02", "new003")], title=title)
    return focus(view, "all")


def line(title: str) -> FocusedView:
    """Shares ``base01`` with ``fork``: ids are only unique within one environment."""
    g = RevisionGraph([
        Revision(id="base01", message="other base"),
        Revision(id="next02", down_revisions=("base01",), message="next"),
    ])
    return focus(build_view(g, title=title), "all")


def empty(title: str) -> FocusedView:
    return focus(build_view(RevisionGraph([]), title=title), "all")


def several() -> list[tuple[str, FocusedView]]:
    return [("shop", fork("shop: HEAD")), (HOSTILE_NAME, line(f"{HOSTILE_NAME}: HEAD")),
            ("idle", empty("idle: HEAD"))]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_one_environment_is_drawn_exactly_as_before(fmt):
    view = fork("shop: HEAD")
    assert render_graphs([("shop", view)], fmt) == render_graph(view, fmt)


def test_json_of_several_is_one_object_in_their_order():
    data = json.loads(render_graphs(several(), "json"))
    assert [env["environment"] for env in data["environments"]] == ["shop", HOSTILE_NAME, "idle"]
    assert data["environments"][2]["nodes"] == []
    single = json.loads(render_graph(fork("shop: HEAD"), "json"))
    assert data["environments"][0] == {"environment": "shop", **single}


def test_svg_of_several_is_one_valid_document_with_unique_element_ids():
    svg = render_graphs(several(), "svg")
    root = xml.dom.minidom.parseString(svg.encode("utf-8")).documentElement
    groups = [g for g in root.getElementsByTagName("g") if g.getAttribute("class") == "environment"]
    assert [g.getAttribute("data-environment") for g in groups] == ["shop", HOSTILE_NAME, "idle"]
    ids = [e.getAttribute("id") for e in root.getElementsByTagName("*") if e.hasAttribute("id")]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert "<script>" not in svg
    assert len(root.getElementsByTagName("defs")) == 1  # arrow markers once, shared
    assert sum(g.getAttribute("class") == "legend" for g in root.getElementsByTagName("g")) == 1
    tops = [int(re.fullmatch(r"translate\(0,(\d+)\)", g.getAttribute("transform")).group(1))
            for g in groups]
    assert tops == sorted(set(tops))
    assert "no revisions" in groups[2].toxml()


def test_html_of_several_is_one_page_whose_script_scopes_lookups_to_an_environment():
    page = render_graphs(several(), "html")
    assert page.count("<html") == 1 and page.count("<svg") == 1 and page.count("<script>") == 1
    assert "<script>alert" not in page and HOSTILE_NAME not in page
    assert "5 of 5 revisions shown in 3 environments" in page
    scoped = _scoped_js()
    assert scoped in page and scoped != _JS
    # Every lookup of a node or edge by revision id goes through the environment.
    assert "hits[node.dataset.id]" not in scoped and "e.dataset.child === d.id;" not in scoped
    assert scoped.count("scoped(") == 6


def test_mermaid_of_several_is_one_flowchart_without_colliding_ids():
    out = render_graphs(several(), "mermaid")
    lines = out.splitlines()
    assert lines[0] == "flowchart BT" and out.count("flowchart") == 1
    defined = re.findall(r"^\s+(\w+)\[\"", out, re.M)
    assert len(defined) == len(set(defined))
    assert {"e0n0", "e1n0", "e2empty", "legendtext"} <= set(defined)
    assert HOSTILE_NAME not in out and "#34;" in out  # the name is escaped in its subgraph title
    # linkStyle numbers every link of the chart: the proposed edge is shop's, so it is in range.
    links = re.findall(r"^\s+(\w+) (-->|-\.->|-\. proposed \.->) (\w+)$", out, re.M)
    styled = [int(n) for n in re.findall(r"^\s+linkStyle (\d+) ", out, re.M)]
    assert [links[n][1] for n in styled] == ["-. proposed .->"]
    assert sum(ln.strip().startswith("subgraph ") for ln in lines) == \
        sum(ln.strip() == "end" for ln in lines) == 4
    # One classDef per style, its members from every environment.
    assert len(re.findall(r"classDef head ", out)) <= 1
    assert re.search(r"^\s+class [\w,]*e1n1[\w,]* head$", out, re.M)


def test_dot_of_several_is_one_digraph_with_a_cluster_each():
    out = render_graphs(several(), "dot")
    assert out.count("digraph ") == 1 and out.rstrip().endswith("}")
    assert out.count("subgraph cluster_revgraph_env_") == 3
    assert out.count("subgraph cluster_revgraph_legend") == 1
    nodes = re.findall(r'^\s+("(?:[^"\\]|\\.)*") \[label=', out, re.M)
    assert len(nodes) == len(set(nodes))
    assert '"shop:base01"' in nodes and '"shop:land02" -> "shop:new003"' in out
    assert r'a\"b<script>&`#x:base01' in out  # the name is quoted like any DOT string


def test_png_of_several_goes_through_one_dot_source(monkeypatch):
    seen = []
    monkeypatch.setattr("revgraph.render.png.render_png", lambda source: seen.append(source) or b"png")
    assert render_graphs(several(), "png") == b"png"
    assert len(seen) == 1 and seen[0] == render_graphs(several(), "dot")


def test_tree_of_several_is_one_picture_after_another():
    views = several()
    assert render_graphs(views, "tree") == "\n".join(render_graph(v, "tree") for _, v in views)


def test_markdown_has_a_mermaid_block_per_environment():
    report = Report(findings=(), environments=("shop", "reporting"))
    one = "flowchart BT\n    n0[\"x\"]\n"
    two = "flowchart BT\n    n0[\"y\"]\n"
    out = render_markdown(report, mermaid={"shop": one, "reporting": two})
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", out, re.S | re.M)
    assert blocks == [one, two]
    assert out.index("Environment `shop`") < out.index("```mermaid") < out.index("Environment `reporting`")
    # One environment, given either way, is the one block it always was.
    assert render_markdown(report, mermaid={"shop": one}) == render_markdown(report, mermaid=one)
    assert "Environment" not in render_markdown(report, mermaid=one)
