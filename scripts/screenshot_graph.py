"""Screenshot ``revgraph graph --format html`` in headless Chromium, for the docs.

Builds the situation ``revgraph demo`` starts from, in a throwaway git
repository: the bundled example on ``main``, two branches that each add a
revision on the same head, one of them landed on ``main``, the other checked
out. Then writes the review page with the real CLI
(``revgraph graph --base main --format html -o graph.html``) and opens it in
headless Chromium (Debian's ``chromium``) with the network shut off, saving a
PNG of what a reviewer sees.

    python scripts/screenshot_graph.py [--out docs/img/graph-example.png] [--keep DIR]

The Chromium helpers (``find_chromium``, ``screenshot``, ``dump_dom``) are
also what tests/integration/test_html_in_chromium.py drives the page with.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "docs" / "img" / "graph-example.png"
WINDOW = (1400, 1000)
CHROMIUM_TIMEOUT = 60  # seconds; a hung browser must not hang the docs build or the tests
VIRTUAL_TIME_MS = 2000  # lets the page's script run before the DOM is dumped or painted
BASE = "main"

# Headless, no sandbox (CI runs as root), and nothing that reaches the network:
# no background services, no updates, every host name unresolvable.
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    f"--virtual-time-budget={VIRTUAL_TIME_MS}",
)


class ChromiumFailed(RuntimeError):
    """Chromium did not produce what was asked (exit code, timeout, no file)."""


# ------------------------------------------------------------------ Chromium
def find_chromium() -> str | None:
    """The Chromium executable on PATH (Debian: ``chromium``; Ubuntu: ``chromium-browser``)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(page: Path, *action: str, window: tuple[int, int] = WINDOW) -> bytes:
    """Open ``page`` (a local file) with ``action`` flags; Chromium's stdout.

    Each run gets its own profile and HOME in a temporary folder, so nothing
    of the user's browser is read and nothing is left behind.
    """
    chromium = find_chromium()
    if chromium is None:
        raise ChromiumFailed("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="revgraph-chromium-") as scratch:
        home = Path(scratch)
        argv = [
            chromium,
            *_CHROMIUM_FLAGS,
            f"--user-data-dir={home / 'profile'}",
            f"--window-size={window[0]},{window[1]}",
            *action,
            page.resolve().as_uri(),
        ]
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
        try:
            done = subprocess.run(
                argv, capture_output=True, stdin=subprocess.DEVNULL, env=env,
                cwd=home, timeout=CHROMIUM_TIMEOUT, check=False,
            )
        except subprocess.TimeoutExpired:
            raise ChromiumFailed(f"chromium did not finish in {CHROMIUM_TIMEOUT} s: {' '.join(argv)}") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace")[-2000:]
        raise ChromiumFailed(f"chromium exited {done.returncode}: {' '.join(argv)}\n{tail}")
    return done.stdout


def screenshot(page: Path, out: Path, *, window: tuple[int, int] = WINDOW) -> Path:
    """A PNG of ``page`` as a ``window``-sized browser window shows it, after its script ran."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()  # a stale picture must not pass for a new one
    run_chromium(page, f"--screenshot={out}", window=window)
    if not out.is_file():
        raise ChromiumFailed(f"chromium exited 0 but wrote no screenshot at {out}")
    return out


def dump_dom(page: Path) -> str:
    """The page's DOM (serialised HTML) once its script has run."""
    return run_chromium(page, "--dump-dom").decode("utf-8")


# --------------------------------------------------------------- the scene
def build_scene(repo: Path) -> str:
    """The demo's starting point at ``repo``; returns the head both branches revise.

    Run inside ``patched_environ(demo_environ())``: git sees a fixed identity
    and none of the user's configuration.
    """
    from revgraph.demo import LANDED, YOURS, DemoGit, find_example

    git = DemoGit(repo)
    git.init()
    example = find_example()
    shutil.copyfile(example / "alembic.ini", repo / "alembic.ini")
    shutil.copytree(
        example / "migrations", repo / "migrations",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.db"),
    )
    git.commit_all("the bundled example")
    parent = unlabelled_head(repo)
    for revision in (LANDED, YOURS):
        git("checkout", "-q", "-b", revision.branch, BASE)
        (repo / "migrations" / "versions" / revision.filename).write_text(revision.render(parent), encoding="utf-8")
        git.commit_all(revision.message)
    git("checkout", "-q", BASE)
    git("merge", "-q", "--no-ff", "--no-edit", "--no-verify", LANDED.branch)
    git("checkout", "-q", YOURS.branch)
    return parent


def unlabelled_head(repo: Path) -> str:
    """The one head of ``repo``'s working tree without a branch label (the example has one)."""
    from revgraph import api

    with api.Workspace(api.Options(cwd=repo, no_cache=True)) as ws:
        graph = api.heads(ws)[0].graph
    heads = [h for h in graph.heads if not graph.labels_of(h)]
    if len(heads) != 1:
        raise SystemExit(f"expected one unlabelled head in {repo}, found {heads}")
    return heads[0]


def render_page(repo: Path, page: Path) -> Path:
    """``revgraph graph --base main --format html -o page``, through the real CLI."""
    argv = [sys.executable, "-m", "revgraph", "-C", str(repo), "graph", "--base", BASE, "--format", "html", "-o", str(page)]
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    if done.returncode != 0 or not page.is_file():
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return page


# -------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the PNG to write (default: {DEFAULT_OUT})")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR (must not exist) and keep it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from revgraph.demo import demo_environ, patched_environ

    args = parse_args(argv)
    if find_chromium() is None:
        print("screenshot_graph: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="revgraph-screenshot-") as scratch:
        work = args.keep.resolve() if args.keep else Path(scratch)
        if args.keep:
            if work.exists():
                print(f"screenshot_graph: --keep {work}: already exists", file=sys.stderr)
                return 2
            work.mkdir(parents=True)
        with patched_environ(demo_environ()):
            build_scene(work / "repo")
            page = render_page(work / "repo", work / "graph.html")
        try:
            out = screenshot(page, args.out)
        except ChromiumFailed as exc:
            print(f"screenshot_graph: {exc}", file=sys.stderr)
            return 1
    kept = f"; the repository and page stay in {work}" if args.keep else ""
    print(f"wrote {out} ({out.stat().st_size // 1024} KB){kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
