"""Graphviz DOT source: every id quoted, every label escaped, newest at the top.

Several environments make one digraph with a cluster each (``dot`` draws only
the first graph of a file into a PNG or SVG); their node ids carry the
environment's name (``app:ae1027a6acf``), since two environments may hold the
same revision id. The legend is shared.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

from revgraph.render.graphview import (
    EDGE_STYLES,
    FocusedView,
    ViewEdge,
    ViewNode,
    legend_lines,
    legend_view,
    node_style,
    printable,
    styles_present,
    truncate,
)

MESSAGE_LIMIT = 60
FONT = "Helvetica"
TITLE_LIMIT = 200  # a box's first line: the id and its branch labels
# Graphviz refuses a quoted string over 16,384 bytes ("longer than 16384?") and
# draws nothing. A UTF-8 character is at most 4 bytes (10 as the id's \u{...}):
# 1,000 characters of data keep every string well below that.
QUOTED_LIMIT = 1_000
ID_LIMIT = 200  # characters of an id kept in its node's name before a digest stands for the rest


def render_dot(view: FocusedView) -> str:
    lines = _header(view.title)
    lines.extend(_node(node) for node in view.nodes)
    lines.extend(_edge(edge) for edge in view.edges)
    if view.nodes:
        lines.extend(_legend(view))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot_environments(views: Sequence[tuple[str, FocusedView]]) -> str:
    """One digraph for several environments (``(name, view)`` each): a cluster per environment."""
    lines = _header("")
    for number, (name, view) in enumerate(views):
        lines.append(f"  subgraph cluster_revgraph_env_{number} {{")
        lines.append(f'    label={quote(view.title or name)}; color="#d0d7de";')
        if not view.nodes:  # (a lone backslash: no revision's node is named so, see node_id)
            lines.append(f"    \"\\empty {number}\" [label=\"no revisions\", shape=plaintext, style=\"\"];")
        lines.extend("  " + _node(node, name) for node in view.nodes)
        lines.extend("  " + _edge(edge, name) for edge in view.edges)
        lines.append("  }")
    shared = legend_view(view for _, view in views)
    if shared.nodes:
        lines.extend(_legend(shared))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _header(title: str) -> list[str]:
    return [
        "digraph revgraph {",
        f"  graph [rankdir=BT, fontname={quote(FONT)}, labelloc=t"
        + (f", label={quote(title)}" if title else "")
        + "];",
        f'  node [shape=box, style="rounded,filled", fontname={quote(FONT)}, fontsize=10];',
        f"  edge [fontname={quote(FONT)}, fontsize=9, arrowsize=0.7];",
    ]


def quote(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, on one line, at most
    ``QUOTED_LIMIT`` characters of ``text`` (a tooltip carries a whole message)."""
    text = truncate(" ".join(printable(text).split()), QUOTED_LIMIT)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_id(revision: str, environment: str | None = None) -> str:
    """The quoted DOT id of a revision's node (in ``environment``'s cluster): the id as
    it is, one node per revision.

    ``quote`` makes labels readable: it folds whitespace and replaces control
    characters, so "a\\nb" and "a b" gave one node (and an id could take a legend
    node's name). Here each backslash is doubled and each other character that
    cannot stand in the id is written ``\\u{hex}``; a lone backslash never comes
    out otherwise, which keeps the legend's names (``\\legend ...``) and the
    environment's ``:`` (written ``\\:`` inside its name) apart from any id.
    """
    def encoded(text: str) -> str:
        out = []
        for char in text:
            if char == "\\":
                out.append("\\\\")
            elif char == '"':
                out.append('\\"')
            elif char == " " or char.isprintable():
                out.append(char)
            else:
                out.append(f"\\u{{{ord(char):x}}}")
        return "".join(out)

    def capped(text: str) -> str:
        # A 20,000-character id would pass Graphviz's limit for a quoted string.
        # Past ID_LIMIT a digest of the whole id stands for the rest, after "\\#",
        # which no id's own encoding writes: ids still get a node each.
        if len(text) <= ID_LIMIT:
            return encoded(text)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return encoded(text[:ID_LIMIT]) + "\\#" + digest

    prefix = capped(environment).replace(":", "\\:") + ":" if environment is not None else ""
    return f'"{prefix}{capped(revision)}"'


def _label(node: ViewNode) -> str:
    """Lines joined with DOT's ``\\n`` escape, each line escaped on its own."""
    if node.is_placeholder:
        lines = [node.title, node.summary]
    else:
        title = node.title + (f" ({', '.join(node.branch_labels)})" if node.branch_labels else "")
        lines = [truncate(title, TITLE_LIMIT)]
        if node.summary:
            lines.append(truncate(node.summary, MESSAGE_LIMIT))
        if node.tags:
            lines.append(node.tags)
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines) + '"'


def _node(node: ViewNode, environment: str | None = None) -> str:
    style = node_style(node)
    attrs = {
        "label": _label(node),
        "fillcolor": quote(style.fill),
        "color": quote(style.stroke),
        "penwidth": str(style.width),
        "tooltip": quote(_tooltip(node)),
        "class": quote(" ".join(node.mark_list)),
    }
    if style.dashed:
        attrs["style"] = quote("rounded,filled,dashed")
    return f"  {node_id(node.id, environment)} [{_attrs(attrs)}];"


def _tooltip(node: ViewNode) -> str:
    if node.is_placeholder:
        return f"{node.title} {node.first} … {node.last}"
    return " ".join(part for part in (node.title, node.path, node.message, node.tags) if part)


def _edge(edge: ViewEdge, environment: str | None = None) -> str:
    style = EDGE_STYLES[edge.kind]
    attrs = {"color": quote(style.color), "penwidth": str(style.width)}
    if edge.kind == "depends":
        attrs["style"] = "dashed"
    elif edge.kind == "collapsed":
        attrs["style"] = "dotted"
    elif edge.kind == "proposed":
        attrs.update(style="dashed", label=quote("proposed"), fontcolor=quote(style.color),
                     constraint="false")
    return f"  {node_id(edge.parent, environment)} -> {node_id(edge.child, environment)} [{_attrs(attrs)}];"


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in attrs.items())


def _legend(view: FocusedView) -> list[str]:
    """A legend cluster: one sample box per style used, then the marks and edges in words."""
    lines = [
        "  subgraph cluster_revgraph_legend {",
        '    label="legend"; fontsize=10; color="#d0d7de";',
    ]
    for style in styles_present(view):
        dashed = ",dashed" if style.dashed else ""
        lines.append(
            f"    \"\\legend {style.name}\" [label={quote(style.meaning)}, "
            f"fillcolor={quote(style.fill)}, color={quote(style.stroke)}, penwidth={style.width}, "
            f'style="rounded,filled{dashed}"];'
        )
    text = "\\l".join(quote(line)[1:-1] for line in legend_lines(view)) + "\\l"
    lines.append(f'    "\\legend text" [shape=plaintext, style="", label="{text}"];')
    lines.append("  }")
    return lines
