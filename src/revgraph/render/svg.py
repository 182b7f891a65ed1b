"""SVG laid out by revgraph itself: no Graphviz needed.

Layout (a small Sugiyama): longest-path layers (bases at the bottom, newest
at the top), a dummy point per layer on long edges, barycenter sweeps to
order each layer, then x positions that stay as close as possible to the
neighbours' average while keeping boxes apart (isotonic regression, pool
adjacent violators). Coordinates are integers, so the output is the same
bytes for the same view.

Several environments are stacked in one ``<svg>`` (one XML root), each laid out
on its own in a ``<g class="environment">`` moved down below the one before,
with one legend under them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Hashable, Sequence

from revgraph.render.graphview import (
    EDGE_MEANINGS,
    EDGE_STYLES,
    FocusedView,
    ViewEdge,
    ViewNode,
    legend_view,
    mark_legend,
    node_style,
    styles_present,
    truncate,
)

FONT = "Helvetica, Arial, sans-serif"
FONT_SIZE = 12
CHAR_W = 7  # average glyph width at FONT_SIZE, for sizing boxes without font metrics
LINE_H = 15
NODE_H = 3 * LINE_H + 10
PLACEHOLDER_H = LINE_H + 14
ROW_H = NODE_H + 34
GAP = 24
DUMMY_W = 10
MARGIN = 20
MIN_CHARS, MAX_CHARS = 14, 44
SWEEPS = 4
SVG_NS = "http://www.w3.org/2000/svg"

Vertex = Hashable  # a node id (str) or a dummy point on a long edge (tuple)


# ------------------------------------------------------------------ escaping
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_escape(text: str) -> str:
    """Text safe in XML/HTML content and quoted attributes (no character XML forbids)."""
    text = _NOT_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def xml_attr(text: str) -> str:
    """Like ``xml_escape``, keeping line breaks that attribute parsing would flatten."""
    return xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


# -------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Box:
    node: ViewNode
    x: int  # centre
    y: int  # centre
    w: int
    h: int


@dataclass(frozen=True)
class Route:
    edge: ViewEdge
    points: tuple[tuple[int, int], ...]  # parent end first
    forward: bool  # drawn along the layers (False: proposed or a cycle's back edge)


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: int
    height: int
    node_width: int


def layout(view: FocusedView, *, top: int = MARGIN) -> Layout:
    node_w = _node_width(view)
    forward = [e for e in view.edges if e.kind != "proposed" and _is_forward(view, e)]
    layer = _layers(view, forward)
    layers, chains = _with_dummies(view, forward, layer)
    below, above = _neighbours(layers, chains, view)
    _order(layers, below, above)
    widths = {v: (node_w if isinstance(v, str) else DUMMY_W) for row in layers for v in row}
    xs = _x_positions(layers, widths, below, above)
    top_layer = len(layers) - 1
    ys = {
        v: top + (top_layer - li) * ROW_H + NODE_H // 2
        for li, row in enumerate(layers)
        for v in row
    }
    boxes = {}
    for node in view.nodes:
        h = PLACEHOLDER_H if node.is_placeholder else NODE_H
        boxes[node.id] = Box(node, xs[node.id], ys[node.id], node_w, h)
    routes = []
    for edge in view.edges:
        chain = chains.get((edge.parent, edge.child, edge.kind))
        if chain is None:
            routes.append(Route(edge, _side_route(boxes[edge.parent], boxes[edge.child]), False))
            continue
        start, end = boxes[edge.parent], boxes[edge.child]
        points = [(start.x, start.y - start.h // 2)]
        points += [(xs[d], ys[d]) for d in chain]
        points.append((end.x, end.y + end.h // 2))
        routes.append(Route(edge, tuple(points), True))
    right = max((b.x + b.w // 2 for b in boxes.values()), default=0)
    right = max([right] + [xs[v] for row in layers for v in row])
    right = max([right] + [_reach(r.points) + 70 for r in routes if not r.forward])
    bottom = top + len(layers) * ROW_H
    return Layout(boxes, tuple(routes), right + MARGIN, bottom, node_w)


def _is_forward(view: FocusedView, edge: ViewEdge) -> bool:
    return view.position(edge.parent) < view.position(edge.child)


def _node_width(view: FocusedView) -> int:
    longest = max((len(line) for node in view.nodes for line in node_lines(node)), default=0)
    return min(max(longest, MIN_CHARS), MAX_CHARS) * CHAR_W + 16


def _layers(view: FocusedView, edges: Sequence[ViewEdge]) -> dict[str, int]:
    parents: dict[str, list[str]] = {n.id: [] for n in view.nodes}
    for edge in edges:
        parents[edge.child].append(edge.parent)
    layer: dict[str, int] = {}
    for node in view.nodes:  # parents come first in view.nodes
        layer[node.id] = 1 + max((layer[p] for p in parents[node.id]), default=-1)
    return layer


def _with_dummies(view: FocusedView, edges: Sequence[ViewEdge], layer: dict[str, int]):
    """Layers of vertices, and for each forward edge the dummy points it passes."""
    count = 1 + max(layer.values(), default=-1)
    layers: list[list[Vertex]] = [[] for _ in range(count)]
    for node in view.nodes:
        layers[layer[node.id]].append(node.id)
    chains: dict[tuple[str, str, str], list[Vertex]] = {}
    for index, edge in enumerate(edges):
        chain = []
        for li in range(layer[edge.parent] + 1, layer[edge.child]):
            dummy = ("dummy", index, li)
            layers[li].append(dummy)
            chain.append(dummy)
        chains[(edge.parent, edge.child, edge.kind)] = chain
    return layers, chains


def _neighbours(layers, chains, view: FocusedView):
    below: dict[Vertex, list[Vertex]] = {v: [] for row in layers for v in row}
    above: dict[Vertex, list[Vertex]] = {v: [] for row in layers for v in row}
    for (parent, child, _), chain in chains.items():
        path = [parent, *chain, child]
        for low, high in zip(path, path[1:]):
            below[high].append(low)
            above[low].append(high)
    return below, above


def _order(layers: list[list[Vertex]], below, above) -> None:
    """Barycenter sweeps, up then down, in place; keeps the order with fewest crossings."""
    best, fewest = [list(row) for row in layers], _crossings(layers, below)
    for _ in range(SWEEPS):
        for li in range(1, len(layers)):
            _sort_by_barycenter(layers[li], layers[li - 1], below)
        for li in range(len(layers) - 2, -1, -1):
            _sort_by_barycenter(layers[li], layers[li + 1], above)
        count = _crossings(layers, below)
        if count < fewest:
            best, fewest = [list(row) for row in layers], count
    layers[:] = best


def _crossings(layers: list[list[Vertex]], below) -> int:
    """Edge crossings between adjacent layers (inversions, counted with bisect)."""
    from bisect import bisect_right, insort

    total = 0
    for li in range(1, len(layers)):
        low = {v: i for i, v in enumerate(layers[li - 1])}
        seen: list[int] = []
        for v in layers[li]:
            ends = sorted(low[u] for u in below[v] if u in low)
            for end in ends:  # edges already seen that end further right cross this one
                total += len(seen) - bisect_right(seen, end)
            for end in ends:
                insort(seen, end)
    return total


def _sort_by_barycenter(row: list[Vertex], ref_row: list[Vertex], links) -> None:
    index = {v: i for i, v in enumerate(ref_row)}
    current = {v: i for i, v in enumerate(row)}

    def key(v: Vertex) -> tuple[float, int]:
        refs = [index[r] for r in links[v] if r in index]
        if not refs:
            return (current[v] * len(ref_row) / max(len(row), 1), current[v])
        return (sum(refs) / len(refs), current[v])

    row.sort(key=key)


def _x_positions(layers, widths, below, above) -> dict[Vertex, int]:
    xs: dict[Vertex, float] = {}
    for row in layers:
        x = 0.0
        for v in row:
            xs[v] = x + widths[v] / 2
            x += widths[v] + GAP
    for sweep in range(SWEEPS):
        upward = sweep % 2 == 0
        indices = range(1, len(layers)) if upward else range(len(layers) - 2, -1, -1)
        links = below if upward else above
        for li in indices:
            row = layers[li]
            wanted = [_mean([xs[r] for r in links[v]], xs[v]) for v in row]
            for v, x in zip(row, _spread(wanted, [widths[v] for v in row])):
                xs[v] = x
    left = min((xs[v] - widths[v] / 2 for v in xs), default=0.0)
    return {v: int(round(x - left + MARGIN)) for v, x in xs.items()}


def _mean(values: Sequence[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _spread(wanted: Sequence[float], widths: Sequence[int]) -> list[float]:
    """Centres as close to ``wanted`` as possible (least squares) with boxes kept apart.

    Subtracting each box's minimum offset from the first turns the spacing
    constraint into plain monotonicity: isotonic regression by pool adjacent
    violators.
    """
    offsets, total = [], 0.0
    for i, w in enumerate(widths):
        if i:
            total += (widths[i - 1] + w) / 2 + GAP
        offsets.append(total)
    blocks: list[list[float]] = []  # [mean, count]
    for target in (w - o for w, o in zip(wanted, offsets)):
        blocks.append([target, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            prev = blocks[-1]
            prev[0] = (prev[0] * prev[1] + mean * count) / (prev[1] + count)
            prev[1] += count
    fitted = [mean for mean, count in blocks for _ in range(int(count))]
    return [f + o for f, o in zip(fitted, offsets)]


def _side_route(start: Box, end: Box) -> tuple[tuple[int, int], ...]:
    """A proposed or back edge: from the right side of one box to the right side of the other.

    Two boxes on one row (two heads, typically) are joined top to top instead:
    a bulge to the right would run straight through the box on the right.
    """
    if start.y == end.y:
        return ((start.x, start.y - start.h // 2), (end.x, end.y - end.h // 2))
    return ((start.x + start.w // 2, start.y), (end.x + end.w // 2, end.y))


ARCH = 40  # control-point height of a same-row arch: its top is 3/4 of it, inside the row gap
ARCH_RISE = ARCH * 3 // 4


def _arch_over_top_row(lay: Layout) -> bool:
    """Whether a same-row arch (see ``_bulge``) rises above the first row of boxes."""
    if not lay.boxes:
        return False
    top = min(box.y - box.h // 2 for box in lay.boxes.values())
    return any(
        not route.forward and route.points[0][1] == route.points[-1][1] == top
        for route in lay.routes
    )


# ----------------------------------------------------------------------- SVG
def node_lines(node: ViewNode) -> list[str]:
    if node.is_placeholder:
        return [node.title]
    head = node.title + (f" ({', '.join(node.branch_labels)})" if node.branch_labels else "")
    return [head, node.summary, node.tags]


def render_svg(view: FocusedView, *, standalone: bool = True) -> str:
    """An SVG document (``standalone``) or an ``<svg>`` element to inline in HTML."""
    drawing, lay = _drawing(view)
    legend, legend_h, legend_w = _legend(view, lay.height + 10)
    width = max(lay.width, legend_w + 2 * MARGIN, 200)
    height = lay.height + 10 + legend_h + MARGIN
    out = _open(width, height, view.title or "revision graph", standalone)
    out.extend(drawing)
    out.extend(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_svg_environments(
    views: Sequence[tuple[str, FocusedView]], *, standalone: bool = True
) -> str:
    """Several environments (``(name, view)`` each) stacked in one SVG document or element."""
    groups: list[str] = []
    top = widest = 0
    for number, (name, view) in enumerate(views):
        drawing, lay = _drawing(view, key=f"{number}-")
        groups.append(
            f'<g class="environment" data-environment="{xml_attr(name)}" '
            f'transform="translate(0,{top})">'
        )
        groups.extend(drawing)
        groups.append("</g>")
        # An empty environment's "no revisions" line sits below its (empty) layout.
        top += lay.height if view.nodes else lay.height + LINE_H + 10
        widest = max(widest, lay.width)
    legend, legend_h, legend_w = _legend(legend_view(v for _, v in views), top + 10)
    width = max(widest, legend_w + 2 * MARGIN, 200)
    height = top + 10 + legend_h + MARGIN
    title = "revision graphs: " + ", ".join(name for name, _ in views)
    out = _open(width, height, title, standalone)
    out.extend(groups)
    out.extend(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _open(width: int, height: int, title: str, standalone: bool) -> list[str]:
    """The root element's opening, its ``<title>`` and the arrow markers every edge uses."""
    ns = f' xmlns="{SVG_NS}"' if standalone else ""
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    out.append(
        f'<svg{ns} class="revgraph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="{FONT_SIZE}" '
        'role="img">'
    )
    out.append(f"<title>{xml_escape(title)}</title>")
    out.append(_defs())
    return out


def _drawing(view: FocusedView, *, key: str = "") -> tuple[list[str], Layout]:
    """The view's title, edges and nodes, and their layout; ``key`` keeps node ids unique."""
    title_h = LINE_H + 10 if view.title else 0
    lay = layout(view, top=MARGIN + title_h)
    if _arch_over_top_row(lay):  # room for it, under the title and inside the picture
        lay = layout(view, top=MARGIN + title_h + ARCH_RISE)
    out = []
    if view.title:
        out.append(
            f'<text class="title" x="{MARGIN}" y="{MARGIN + LINE_H}" font-size="14" '
            f'font-weight="bold">{xml_escape(view.title)}</text>'
        )
    if not view.nodes:
        out.append(f'<text x="{MARGIN}" y="{MARGIN + title_h + LINE_H}">no revisions</text>')
    out.append('<g class="edges">')
    out.extend(_edge_svg(route) for route in lay.routes)
    out.append("</g>")
    out.append('<g class="nodes">')
    out.extend(_node_svg(f"{key}{i}", lay.boxes[node.id]) for i, node in enumerate(view.nodes))
    out.append("</g>")
    return out, lay


def _defs() -> str:
    markers = []
    for kind, style in EDGE_STYLES.items():
        markers.append(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{style.color}"/></marker>'
        )
    return "<defs>" + "".join(markers) + "</defs>"


def _edge_svg(route: Route) -> str:
    edge = route.edge
    style = EDGE_STYLES[edge.kind]
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    path = _curve(route.points) if route.forward else _bulge(route.points)
    label = ""
    if edge.kind == "proposed":
        (x0, y0), (x1, y1) = route.points[0], route.points[-1]
        if y0 == y1:  # an arch over the row: the label sits under its top, above the boxes
            x, y = (x0 + x1) // 2 - 24, y0 - 6
        else:  # the bulge's rightmost point (t = 1/2 of the cubic), plus a little air
            x, y = (x0 + x1) // 8 + 3 * _reach(route.points) // 4 + 6, (y0 + y1) // 2 + 4
        label = (
            f'<text class="edge-label" x="{x}" y="{y}" '
            f'fill="{style.color}" font-size="11">proposed</text>'
        )
    return (
        f'<g class="edge edge-{edge.kind}" data-parent="{xml_attr(edge.parent)}" '
        f'data-child="{xml_attr(edge.child)}" data-kind="{edge.kind}">'
        f'<path d="{path}" fill="none" stroke="{style.color}" stroke-width="{style.width}"{dash} '
        f'marker-end="url(#arrow-{edge.kind})"/>{label}</g>'
    )


def _curve(points: Sequence[tuple[int, int]]) -> str:
    """Through every point, leaving and entering each vertically."""
    (x, y), rest = points[0], points[1:]
    d = [f"M{x},{y}"]
    for nx_, ny in rest:
        mid = (y + ny) // 2
        d.append(f"C{x},{mid} {nx_},{mid} {nx_},{ny}")
        x, y = nx_, ny
    return " ".join(d)


def _reach(points: Sequence[tuple[int, int]]) -> int:
    (x0, y0), (x1, y1) = points[0], points[-1]
    return max(x0, x1) + 40 + abs(y1 - y0) // 8


def _bulge(points: Sequence[tuple[int, int]]) -> str:
    """A curve out to the right and back, clear of the boxes in between."""
    (x0, y0), (x1, y1) = points[0], points[-1]
    if y0 == y1:  # top to top on one row (see _side_route)
        return f"M{x0},{y0} C{x0},{y0 - ARCH} {x1},{y1 - ARCH} {x1},{y1 - 2}"
    reach = _reach(points)
    return f"M{x0},{y0} C{reach},{y0} {reach},{y1} {x1 + 2},{y1}"


def _node_svg(key: str, box: Box) -> str:
    node = box.node
    style = node_style(node)
    classes = " ".join(["node", f"style-{style.name}"] + [f"mark-{m}" for m in node.mark_list])
    data = {
        "id": node.id,
        "marks": " ".join(node.mark_list),
        "labels": " ".join(node.branch_labels),
        "message": node.message,
        "path": node.path,
        "date": node.create_date or "",
        "revision": node.title,  # what the page shows as the id (a second file of an id has its own node id)
    }
    if node.is_placeholder:
        data.update(hidden=str(node.hidden), first=node.first, last=node.last)
    attrs = " ".join(f'data-{k}="{xml_attr(v)}"' for k, v in data.items())
    left, top = box.x - box.w // 2, box.y - box.h // 2
    dash = ' stroke-dasharray="5 3"' if style.dashed else ""
    out = [
        f'<g id="node-{key}" class="{classes}" {attrs}>',
        f"<title>{xml_escape(_hover_text(node))}</title>",
        f'<rect x="{left}" y="{top}" width="{box.w}" height="{box.h}" rx="6" '
        f'fill="{style.fill}" stroke="{style.stroke}" stroke-width="{style.width}"{dash}/>',
    ]
    limit = (box.w - 16) // CHAR_W
    for i, line in enumerate(node_lines(node)):
        if not line:
            continue
        weight = ' font-weight="bold"' if i == 0 and not node.is_placeholder else ""
        fill = "#57606a" if i == 2 or node.is_placeholder else "#1f2328"
        y = top + 7 + LINE_H * (i + 1) - 3
        out.append(
            f'<text x="{left + 8}" y="{y}" fill="{fill}"{weight}>'
            f"{xml_escape(truncate(line, limit))}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _hover_text(node: ViewNode) -> str:
    if node.is_placeholder:
        return f"{node.title}\n{node.first} … {node.last}"
    parts = [node.title, node.message.strip(), node.path, node.tags]
    return "\n".join(p for p in parts if p)


def _legend(view: FocusedView, top: int) -> tuple[list[str], int, int]:
    """Sample boxes for the styles used, the marks and the edges in words."""
    if not view.nodes:
        return [], 0, 0
    out = [
        '<g class="legend">',
        f'<text x="{MARGIN}" y="{top + LINE_H}" font-weight="bold">legend</text>',
    ]
    y = top + LINE_H + 8
    widest = 0
    for style in styles_present(view):
        dash = ' stroke-dasharray="4 2"' if style.dashed else ""
        out.append(
            f'<rect x="{MARGIN}" y="{y}" width="28" height="14" rx="3" fill="{style.fill}" '
            f'stroke="{style.stroke}" stroke-width="{style.width}"{dash}/>'
            f'<text x="{MARGIN + 36}" y="{y + 11}">{xml_escape(style.meaning)}</text>'
        )
        widest = max(widest, 36 + CHAR_W * len(style.meaning))
        y += 20
    for kind in view.edge_kinds_present:
        style = EDGE_STYLES[kind]
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        out.append(
            f'<line x1="{MARGIN}" y1="{y + 7}" x2="{MARGIN + 28}" y2="{y + 7}" '
            f'stroke="{style.color}" stroke-width="{style.width}"{dash}/>'
            f'<text x="{MARGIN + 36}" y="{y + 11}">{xml_escape(EDGE_MEANINGS[kind])}</text>'
        )
        widest = max(widest, 36 + CHAR_W * len(EDGE_MEANINGS[kind]))
        y += 20
    marks = " · ".join(mark_legend(view))
    out.append(f'<text x="{MARGIN}" y="{y + 11}" fill="#57606a">{xml_escape(marks)}</text>')
    widest = max(widest, CHAR_W * len(marks))
    out.append("</g>")
    return out, y + 20 - top, widest
