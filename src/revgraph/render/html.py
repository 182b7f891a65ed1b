"""One self-contained HTML page: the SVG inline, a search box, details on hover/click.

No network: no CDN, no external font, stylesheet or script. Every piece of
revision text reaches the page through ``xml_escape`` (markup or attribute
values), and the script writes details with ``textContent`` only, so a
message holding ``<script>`` stays text.

Several environments make one page: their pictures stacked in one inline SVG
(``render_svg_environments``), one search box over all of them.
"""

from __future__ import annotations

from typing import Sequence

from revgraph.render.graphview import FocusedView
from revgraph.render.svg import render_svg, render_svg_environments, xml_escape

_CSS = """
body { font: 14px/1.4 Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; }
header { position: sticky; top: 0; background: #f6f8fa; border-bottom: 1px solid #d0d7de;
         padding: 8px 16px; display: flex; gap: 16px; align-items: center; z-index: 1; }
header h1 { font-size: 16px; margin: 0; }
#search { font-size: 14px; padding: 4px 8px; width: 24em; }
#count { color: #57606a; }
main { display: flex; align-items: flex-start; }
#graph { flex: 1; overflow: auto; padding: 8px; }
#details { width: 22em; padding: 8px 16px; border-left: 1px solid #d0d7de; position: sticky;
           top: 48px; word-wrap: break-word; }
#details dt { font-weight: bold; margin-top: 6px; }
#details dd { margin: 0; white-space: pre-wrap; }
.node { cursor: pointer; }
.node.match rect { stroke: #0969da; stroke-width: 4; }
.node.selected rect { stroke: #0969da; stroke-width: 4; }
.searching .node:not(.match), .searching .edge:not(.match) { opacity: 0.2; }
"""

_JS = """
(function () {
  "use strict";
  var nodes = Array.prototype.slice.call(document.querySelectorAll("svg .node"));
  var edges = Array.prototype.slice.call(document.querySelectorAll("svg .edge"));
  var search = document.getElementById("search");
  var count = document.getElementById("count");
  var details = document.getElementById("details");
  var graph = document.getElementById("graph");
  var pinned = null;

  function matches(node, needle) {
    var d = node.dataset;
    return [d.revision, d.message, d.labels, d.path, d.first, d.last].some(function (v) {
      return (v || "").toLowerCase().indexOf(needle) >= 0;
    });
  }

  function filter() {
    var needle = search.value.trim().toLowerCase();
    var hits = {};
    var n = 0;
    nodes.forEach(function (node) {
      var hit = needle !== "" && matches(node, needle);
      node.classList.toggle("match", hit);
      if (hit) { hits[node.dataset.id] = true; n += 1; }
    });
    edges.forEach(function (edge) {
      edge.classList.toggle("match", !!(hits[edge.dataset.parent] && hits[edge.dataset.child]));
    });
    graph.classList.toggle("searching", needle !== "");
    count.textContent = needle === "" ? "" : n + " of " + nodes.length + " match";
  }

  function row(list, name, value) {
    if (!value) { return; }
    var dt = document.createElement("dt");
    dt.textContent = name;
    var dd = document.createElement("dd");
    dd.textContent = value;
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function show(node) {
    var d = node.dataset;
    var list = document.createElement("dl");
    if (d.hidden) {
      row(list, "collapsed", d.hidden + " revisions");
      row(list, "oldest", d.first);
      row(list, "newest", d.last);
    } else {
      row(list, "revision", d.revision);
      row(list, "branch labels", d.labels);
      row(list, "marks", d.marks);
      row(list, "message", d.message);
      row(list, "file", d.path);
      row(list, "created", d.date);
      row(list, "parents", edges.filter(function (e) {
        return e.dataset.child === d.id;
      }).map(function (e) { return e.dataset.parent + " (" + e.dataset.kind + ")"; }).join(", "));
    }
    details.replaceChildren(list);
  }

  nodes.forEach(function (node) {
    node.addEventListener("mouseenter", function () { if (!pinned) { show(node); } });
    node.addEventListener("click", function () {
      if (pinned) { pinned.classList.remove("selected"); }
      pinned = pinned === node ? null : node;
      if (pinned) { pinned.classList.add("selected"); }
      show(node);
    });
  });
  search.addEventListener("input", filter);
})();
"""


# Several environments may hold the same revision id: on their page a node's
# parents and a search's matching edges are looked up in the node's own
# environment (the ``<g class="environment">`` around it). The page of one
# environment keeps its script byte for byte, so this is the same script with
# those lookups scoped.
_SCOPED_JS = (
    (
        "  var pinned = null;\n",
        "  var pinned = null;\n\n"
        "  function scoped(el, id) {\n"
        '    return el.closest(".environment").dataset.environment + "\\n" + id;\n'
        "  }\n",
    ),
    ("hits[node.dataset.id] = true;", "hits[scoped(node, node.dataset.id)] = true;"),
    (
        "!!(hits[edge.dataset.parent] && hits[edge.dataset.child])",
        "!!(hits[scoped(edge, edge.dataset.parent)] && hits[scoped(edge, edge.dataset.child)])",
    ),
    (
        "return e.dataset.child === d.id;",
        "return scoped(e, e.dataset.child) === scoped(node, d.id);",
    ),
)


def _scoped_js() -> str:
    js = _JS
    for old, new in _SCOPED_JS:
        if old not in js:  # the script changed under the rewrite: fail loudly, not silently
            raise AssertionError(f"html script no longer holds {old!r}")
        js = js.replace(old, new)
    return js


def render_html(view: FocusedView) -> str:
    title = view.title or "revision graph"
    svg = render_svg(view, standalone=False)
    shown = f"{view.revision_count} of {view.total} revisions shown"
    return _page(title, svg, shown, _JS)


def render_html_environments(views: Sequence[tuple[str, FocusedView]]) -> str:
    """One page for several environments (``(name, view)`` each)."""
    title = "revision graphs: " + ", ".join(name for name, _ in views)
    svg = render_svg_environments(views, standalone=False)
    drawn = sum(view.revision_count for _, view in views)
    total = sum(view.total for _, view in views)
    shown = f"{drawn} of {total} revisions shown in {len(views)} environments"
    return _page(title, svg, shown, _scoped_js())


def _page(title: str, svg: str, shown: str, script: str) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<meta name=\"referrer\" content=\"no-referrer\">",
            f"<title>{xml_escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{xml_escape(title)}</h1>",
            '<input id="search" type="search" placeholder="search revision id or message" '
            'autocomplete="off">',
            '<span id="count"></span>',
            f"<span>{xml_escape(shown)}</span>",
            "</header>",
            "<main>",
            f'<div id="graph">{svg}</div>',
            '<aside id="details"><p>Hover or click a revision for details.</p></aside>',
            "</main>",
            f"<script>{script}</script>",
            "</body>",
            "</html>",
        ]
    ) + "\n"
