"""The graph in the terminal, drawn like ``git log --graph``: newest first.

``render_tree`` returns plain text (``*`` a revision, ``|`` a lane, ``|\\``
a fork, ``|/`` a join, ``_`` a join that passes under other lanes);
``tree_renderable`` returns the same lines as a ``rich.text.Text`` with
styles, which a rich console colours only on a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from revgraph.render.graphview import FocusedView, ViewEdge, ViewNode, mark_legend, node_style

if TYPE_CHECKING:  # pragma: no cover
    from rich.text import Text

Segment = tuple[str, str]  # (text, rich style; "" for none)
Line = list[Segment]

LANE_KINDS = ("down", "collapsed")  # drawn as lanes; depends/proposed are annotations
STAR_STYLES = {
    "conflict": "bold red",
    "newhead": "bold red",
    "new": "green",
    "edited": "magenta",
    "head": "bold",
    "landed": "dim",
    "plain": "",
    "placeholder": "dim",
}
MARK_STYLES = {
    "head": "bold",
    "base": "dim",
    "new": "green",
    "landed": "dim",
    "merge": "magenta",
    "conflict": "bold red",
    "edited": "magenta",
    "repointed": "magenta",
    "orphan": "bold red",
}


def render_tree(view: FocusedView) -> str:
    from revgraph.render.inert import inert  # ids and messages are anyone's: shown, not obeyed

    return inert("\n".join("".join(text for text, _ in line).rstrip() for line in tree_lines(view)) + "\n")


def tree_renderable(view: FocusedView) -> "Text":
    from rich.text import Text

    out = Text()
    for i, line in enumerate(tree_lines(view)):
        if i:
            out.append("\n")
        for text, style in line:
            out.append(text, style=style or None)
    return out


def tree_lines(view: FocusedView) -> list[Line]:
    from revgraph.render.inert import one_line

    # Every line is one list of segments: a line break in an id, a label or the
    # title (it names the environment) is shown escaped, never starts a line.
    return [[(one_line(text), style) for text, style in line] for line in _tree_lines(view)]


def _tree_lines(view: FocusedView) -> list[Line]:
    lines: list[Line] = []
    if view.title:
        lines.append([(view.title, "bold")])
    if not view.nodes:
        lines.append([("(no revisions)", "dim")])
        return lines
    lines.extend(_graph_lines(view))
    legend = mark_legend(view)
    if legend:
        lines.append([("legend: " + " · ".join(legend), "dim")])
    return lines


# --------------------------------------------------------------------- lanes
def _graph_lines(view: FocusedView) -> list[Line]:
    lane_parents = _parents(view, LANE_KINDS)
    order = display_order(view)
    shown_at = {nid: i for i, nid in enumerate(order)}
    notes = _annotations(view)
    lanes: list[str] = []
    printed: set[str] = set()
    lines: list[Line] = []
    ended = None  # the column of a base just drawn: its lane ends there
    for nid in order:
        if ended is not None and nid not in lanes and len(lanes) == ended:
            # A new line would start right under a base, in the column the base
            # just freed, and read as its parent (git log --graph does that):
            # one row with the other lanes only keeps them apart.
            lines.append([(" ".join("|" for _ in lanes), "")])
        col, rows = _converge(lanes, nid)
        lines.extend([(row, "")] for row in rows)
        row = " ".join("*" if i == col else "|" for i in range(len(lanes)))
        node = view.node(nid)
        lines.append([(row[: 2 * col], ""), ("*", STAR_STYLES[node_style(node).name])]
                     + [(row[2 * col + 1:] + "  ", "")] + _describe(node) + notes.get(nid, []))
        printed.add(nid)
        parents = sorted((p for p in lane_parents[nid] if p not in printed), key=shown_at.get)
        ended = col if not lane_parents[nid] else None
        rows = _branch_out(lanes, col, parents)
        lines.extend([(r, "")] for r in rows)
    return lines


def _converge(lanes: list[str], nid: str) -> tuple[int, list[str]]:
    """Join every lane waiting for ``nid`` into the leftmost one; its column and rows."""
    cols = [i for i, lane in enumerate(lanes) if lane == nid]
    if not cols:
        lanes.append(nid)
        return len(lanes) - 1, []
    col = cols[0]
    rows: list[str] = []
    removed: set[int] = set()
    for extra in reversed(cols[1:]):
        removed.add(extra)
        rows.append(_join_row(len(lanes), col, extra, removed))
    moves = []
    kept = [i for i in range(len(lanes)) if i not in removed]
    for new_col, old_col in enumerate(kept):
        moves.append((old_col, new_col))
    lanes[:] = [lanes[i] for i in kept]
    return col, rows + _shift_rows(moves)


def _join_row(width: int, col: int, extra: int, removed: set[int]) -> str:
    """Lane ``extra`` turns left and runs under the lanes between into ``col``."""
    chars = [" "] * (2 * width)
    for i in range(width):
        if i not in removed:
            chars[2 * i] = "|"
    for pos in range(2 * col + 1, 2 * extra - 1, 2):
        chars[pos] = "_"
    chars[2 * extra - 1] = "/"
    return "".join(chars).rstrip()


def _branch_out(lanes: list[str], col: int, parents: Sequence[str]) -> list[str]:
    """Replace lane ``col`` with one lane per parent; the rows that draw it."""
    moves = [(i, i) for i in range(col)]
    moves += [(col, col + j) for j in range(len(parents))]
    moves += [(i, i + len(parents) - 1) for i in range(col + 1, len(lanes))]
    lanes[col : col + 1] = list(parents)
    return _shift_rows(moves)


def _shift_rows(moves: Sequence[tuple[int, int]]) -> list[str]:
    """Rows moving each edge one column per row from its old column to its new one.

    The moves keep the lanes' order, so no two edges cross.
    """
    rows: list[str] = []
    current = sorted(set(moves))
    while any(a != b for a, b in current):
        chars = [" "] * (2 * max(max(a, b) for a, b in current) + 2)
        following = []
        for a, b in current:
            if a == b:
                chars[2 * a] = "|"
                following.append((a, b))
            elif b > a:
                chars[2 * a + 1] = "\\"
                following.append((a + 1, b))
            else:
                chars[2 * a - 1] = "/"
                following.append((a - 1, b))
        rows.append("".join(chars).rstrip())
        current = sorted(set(following))
    return rows


# --------------------------------------------------------------------- order
def _parents(view: FocusedView, kinds: Sequence[str]) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {n.id: [] for n in view.nodes}
    for edge in view.edges:
        if edge.kind in kinds:
            parents[edge.child].append(edge.parent)
    return parents


def display_order(view: FocusedView) -> list[str]:
    """Children before parents, newest head first, each branch kept together."""
    parents = _parents(view, ("down", "collapsed", "depends"))
    waiting: dict[str, int] = {n.id: 0 for n in view.nodes}
    for ps in parents.values():
        for p in ps:
            waiting[p] += 1
    stack = sorted((nid for nid, count in waiting.items() if count == 0), key=view.position)
    done: set[str] = set()
    order: list[str] = []
    while len(order) < len(view.nodes):
        if not stack:  # a cycle: start at its newest member
            stack.append(max((n.id for n in view.nodes if n.id not in done), key=view.position))
        nid = stack.pop()
        if nid in done:
            continue
        done.add(nid)
        order.append(nid)
        for parent in sorted(parents[nid], key=view.position):
            waiting[parent] -= 1
            if waiting[parent] == 0 and parent not in done:
                stack.append(parent)
    return order


# ---------------------------------------------------------------------- text
def _describe(node: ViewNode) -> Line:
    if node.is_placeholder:
        return [(node.title, "dim italic"), (f"  ({node.first} … {node.last})", "dim")]
    parts: Line = [(node.title, "yellow")]
    if node.branch_labels:
        parts.append((f" ({', '.join(node.branch_labels)})", "bold cyan"))
    if node.summary:
        parts.append((" " + node.summary, ""))
    for mark in node.mark_list:
        parts.append((f" [{mark}]", MARK_STYLES.get(mark, "")))
    return parts


def _annotations(view: FocusedView) -> dict[str, Line]:
    """depends_on and proposed edges, written after the child's text."""
    found: dict[str, dict[str, list[str]]] = {}
    for edge in view.edges:
        if edge.kind == "depends":
            found.setdefault(edge.child, {}).setdefault(edge.kind, []).append(_depends_target(view, edge))
        elif edge.kind == "proposed":
            found.setdefault(edge.child, {}).setdefault(edge.kind, []).append(edge.parent)
    notes: dict[str, Line] = {}
    for nid, kinds in found.items():
        line: Line = []
        if "depends" in kinds:
            line.append((f"  depends on: {', '.join(sorted(kinds['depends']))}", "dim"))
        if "proposed" in kinds:
            line.append((f"  proposed: re-point onto {', '.join(kinds['proposed'])}", "bold red"))
        notes[nid] = line
    return notes


def _depends_target(view: FocusedView, edge: ViewEdge) -> str:
    """The depends_on ids ``edge`` stands for, as the file names them.

    A target folded into a placeholder is named with it (``c (in … 7 revisions …)``):
    the placeholder's node id is internal and names another revision.
    """
    parent = view.node(edge.parent)
    if not parent.is_placeholder:
        return edge.parent
    return f"{', '.join(edge.targets) or parent.summary} (in {parent.title})"
