"""``graph --format json``: networkx node-link data (PRODUCT §6).

Each node has ``id`` (the revision id; ``ID @ PATH`` for a second file of an
id declared twice), ``path``, ``message``, ``marks`` (the marks plus
``label:NAME`` for each branch label), ``label`` (its title in the pictures:
the revision id, "… 412 revisions …" for a placeholder) and the fields below; each edge
has ``source`` (parent), ``target`` (child) and ``kind``. The edge list is
under ``edges``, networkx's own key; ``networkx.node_link_graph(data)``
loads it back.

With several environments the output is one object holding one such graph
per environment, each with its ``environment`` name added (networkx ignores
the extra key): ``{"version": 1, "environments": [{"environment": "app",
"directed": true, ...}, ...]}``. One environment keeps the bare graph.
"""

from __future__ import annotations

import json
from typing import Sequence

from revgraph.render.graphview import FocusedView, ViewNode

FORMAT_VERSION = 1


def node_link_data(view: FocusedView) -> dict:
    return {
        "directed": True,
        "multigraph": False,
        "graph": {
            "version": FORMAT_VERSION,
            "title": view.title,
            "focus": view.mode,
            "revisions": view.total,
            "shown": view.revision_count,
        },
        "nodes": [_node(node) for node in view.nodes],
        "edges": [
            {"source": e.parent, "target": e.child, "kind": e.kind} for e in view.edges
        ],
    }


def render_graph_json(view: FocusedView) -> str:
    return json.dumps(node_link_data(view), indent=2, ensure_ascii=False) + "\n"


def render_graph_json_environments(views: Sequence[tuple[str, FocusedView]]) -> str:
    """One JSON object for several environments (``(name, view)`` each), in their order."""
    data = {
        "version": FORMAT_VERSION,
        "environments": [{"environment": name, **node_link_data(view)} for name, view in views],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _node(node: ViewNode) -> dict:
    data: dict = {
        "id": node.id,
        "label": node.title,
        "path": node.path,
        "message": node.message,
        "marks": list(node.mark_list) + [f"label:{label}" for label in node.branch_labels],
        "branch_labels": list(node.branch_labels),
        "create_date": node.create_date,
        "placeholder": node.is_placeholder,
    }
    if node.is_placeholder:
        data.update(hidden=node.hidden, first=node.first, last=node.last)
    return data
