"""The review page (``revgraph graph --format html``) opened in a real browser.

Headless Chromium (Debian's ``chromium``, no network) loads the page the real
CLI writes for the demo's fork: two branches each adding a revision on the same
head, one of them landed on main. The tests look at what the browser paints
(the PNG's pixels) and at the DOM after the page's own script ran (search box,
details panel). Without Chromium they are skipped.

The Chromium invocation is the one ``scripts/screenshot_graph.py`` uses for the
picture in docs/usage.md, imported from there so both stay the same.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from revgraph.demo import LANDED, YOURS
from tests.support.gitrepo import REPO_ROOT, GitRepo


def _load_screenshot_script():
    path = REPO_ROOT / "scripts" / "screenshot_graph.py"
    spec = importlib.util.spec_from_file_location("screenshot_graph", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shot = _load_screenshot_script()

SEARCH_NEEDLE = "labels"  # in YOURS's message, in no other revision's text


# ----------------------------------------------------------------- fixtures
@pytest.fixture
def chromium() -> str:
    path = shot.find_chromium()
    if path is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    return path


@pytest.fixture
def fork(gitrepo: GitRepo) -> tuple[GitRepo, str]:
    """The demo's scene: LANDED merged into main, YOURS checked out, both on the same head."""
    gitrepo.copy_example()
    parent = shot.unlabelled_head(gitrepo.path)
    for revision in (LANDED, YOURS):
        gitrepo.git("checkout", "-q", "-b", revision.branch, "main")
        gitrepo.write(f"migrations/versions/{revision.filename}", revision.render(parent))
        gitrepo.commit(revision.message)
    gitrepo.checkout("main")
    gitrepo.git("merge", "-q", "--no-ff", "--no-edit", LANDED.branch)
    gitrepo.checkout(YOURS.branch)
    return gitrepo, parent


@pytest.fixture
def fork_page(fork: tuple[GitRepo, str], tmp_path: Path) -> Path:
    """The review page for the fork, written by the real CLI."""
    repo, _ = fork
    page = tmp_path / "graph.html"
    repo.run("graph", "--base", "main", "--format", "html", "-o", str(page), check=True)
    return page


# ------------------------------------------------------------- PNG pixels
def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG carries first."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR"), "PNG does not start with IHDR"
    return width, height


def png_colours(data: bytes) -> Counter[str]:
    """How many pixels have each ``#rrggbb`` colour (8-bit RGB/RGBA, not interlaced)."""
    chunks: dict[bytes, list[bytes]] = {}
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.setdefault(kind, []).append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6), "an unusual PNG from Chromium"
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    counts: Counter[str] = Counter()
    previous = bytearray(width * bpp)
    for y in range(height):
        start = y * (width * bpp + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + width * bpp]), previous, bpp)
        counts.update(row[i:i + 3].hex() for i in range(0, len(row), bpp))
        previous = row
    return counts


def _unfilter(kind: int, row: bytearray, above: bytearray, bpp: int) -> bytearray:
    """Undo one scanline's PNG filter (RFC 2083, section 6)."""
    if kind == 2:  # Up
        return bytearray((a + b) & 255 for a, b in zip(row, above))
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 1:  # Sub
            row[i] = (row[i] + left) & 255
        elif kind == 3:  # Average
            row[i] = (row[i] + (left + above[i]) // 2) & 255
        elif kind == 4:  # Paeth
            corner = above[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + _paeth(left, above[i], corner)) & 255
    return row


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


# ------------------------------------------------------------ DOM reading
class DomReader(HTMLParser):
    """The parts of the page the script changes: nodes, edges, #count, #graph, #details."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, set[str]] = {}  # data-id -> classes
        self.edges: dict[tuple[str, str, str], set[str]] = {}  # (parent, child, kind) -> classes
        self.graph_classes: set[str] = set()
        self.count = ""
        self.details: list[str] = []  # dt/dd texts, in order
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        if tag == "g" and "node" in classes:
            self.nodes[a["data-id"]] = classes
        elif tag == "g" and "edge" in classes:
            self.edges[(a["data-parent"], a["data-child"], a["data-kind"])] = classes
        elif a.get("id") == "graph":
            self.graph_classes = classes
        elif a.get("id") == "count":
            self._open = "count"
        elif tag in ("dt", "dd"):
            self._open = "details"
            self.details.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "dt", "dd"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "count":
            self.count += data
        elif self._open == "details":
            self.details[-1] += data


def read_dom(text: str) -> DomReader:
    reader = DomReader()
    reader.feed(text)
    reader.close()
    return reader


def drive(page: Path, out: Path, script: str) -> Path:
    """A copy of ``page`` whose own script runs first, then ``script`` (a user's actions)."""
    text = page.read_text(encoding="utf-8")
    assert text.count("</body>") == 1
    out.write_text(text.replace("</body>", f"<script>{script}</script></body>"), encoding="utf-8")
    return out


# ------------------------------------------------------------------ tests
@pytest.mark.chromium
def test_chromium_paints_the_review_page_with_the_fork_in_the_legend_colours(
    chromium: str, fork_page: Path, tmp_path: Path
) -> None:
    from revgraph.render.graphview import NODE_STYLES

    png = shot.screenshot(fork_page, tmp_path / "graph.png").read_bytes()

    assert png_size(png) == shot.WINDOW
    assert len(png) > 10_000, "a blank page compresses to a few KB"
    colours = png_colours(png)
    # YOURS is the new head (red), LANDED the conflicting landed head (orange):
    # each box's fill covers thousands of pixels, its frame hundreds.
    new_head, conflict = NODE_STYLES["newhead"], NODE_STYLES["conflict"]
    for style in (new_head, conflict):
        assert colours[style.fill.lstrip("#")] > 2000, f"no {style.name} box painted"
        assert colours[style.stroke.lstrip("#")] > 300, f"no {style.name} frame painted"


@pytest.mark.chromium
def test_review_page_script_runs_in_chromium_search_filters_and_click_shows_the_proposed_parent(
    chromium: str, fork: tuple[GitRepo, str], fork_page: Path, tmp_path: Path
) -> None:
    _, parent = fork
    # What a reviewer does: type in the search box, then click their revision.
    actions = f"""
      var search = document.getElementById("search");
      search.value = "{SEARCH_NEEDLE}";
      search.dispatchEvent(new Event("input"));
      document.querySelector('svg .node[data-id="{YOURS.rev_id}"]').dispatchEvent(new MouseEvent("click"));
    """
    dom = read_dom(shot.dump_dom(drive(fork_page, tmp_path / "driven.html", actions)))

    assert {YOURS.rev_id, LANDED.rev_id, parent} <= set(dom.nodes), sorted(dom.nodes)
    matching = sorted(rid for rid, classes in dom.nodes.items() if "match" in classes)
    assert matching == [YOURS.rev_id]
    assert "searching" in dom.graph_classes  # the rest is dimmed
    assert dom.count == f"1 of {len(dom.nodes)} match"
    assert not any("match" in classes for classes in dom.edges.values()), "an edge needs both ends matched"

    assert "selected" in dom.nodes[YOURS.rev_id]
    details = dict(zip(dom.details[::2], dom.details[1::2]))
    assert details["revision"] == YOURS.rev_id
    assert details["message"] == YOURS.message
    assert set(details["parents"].split(", ")) == {f"{parent} (down)", f"{LANDED.rev_id} (proposed)"}


@pytest.mark.chromium
def test_unchanged_review_page_shows_no_search_state_in_chromium(chromium: str, fork_page: Path) -> None:
    dom = read_dom(shot.dump_dom(fork_page))

    assert YOURS.rev_id in dom.nodes and LANDED.rev_id in dom.nodes
    assert (LANDED.rev_id, YOURS.rev_id, "proposed") in dom.edges
    assert not any("match" in classes or "selected" in classes for classes in dom.nodes.values())
    assert "searching" not in dom.graph_classes and dom.count == ""
    assert dom.details == []  # "Hover or click a revision" until someone does


# ----------------------------------- what the screenshot showed: a layout bug
_RECT = re.compile(
    r'<g id="node-\d+" class="node[^"]*" data-id="([^"]+)".*?'
    r'<rect x="(-?\d+)" y="(-?\d+)" width="(\d+)" height="(\d+)"',
    re.DOTALL,
)
_PROPOSED = re.compile(
    r'class="edge edge-proposed"[^>]*><path d="M(-?\d+),(-?\d+) C(-?\d+),(-?\d+) (-?\d+),(-?\d+) (-?\d+),(-?\d+)"'
)


def _bezier(points: list[tuple[int, int]], steps: int = 200) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
        out.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return out


def test_proposed_edge_between_heads_on_one_row_is_not_drawn_under_a_revision_box(
    fork: tuple[GitRepo, str]
) -> None:
    repo, _ = fork
    svg = repo.run("graph", "--base", "main", "--format", "svg", check=True).stdout
    boxes = {rid: tuple(int(v) for v in rest) for rid, *rest in _RECT.findall(svg)}
    found = _PROPOSED.search(svg)
    assert found and LANDED.rev_id in boxes and YOURS.rev_id in boxes, svg
    coords = [int(v) for v in found.groups()]
    curve = _bezier([tuple(coords[i:i + 2]) for i in range(0, 8, 2)])

    inset = 3  # the stroke on a box's edge is where the arrow is meant to touch it
    hidden = [
        (rid, (round(x), round(y)))
        for rid, (bx, by, bw, bh) in boxes.items()
        for x, y in curve
        if bx + inset < x < bx + bw - inset and by + inset < y < by + bh - inset
    ]
    assert hidden == [], f"proposed edge {found.group(0)} passes under {sorted({r for r, _ in hidden})}"
