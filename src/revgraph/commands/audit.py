"""``revgraph audit``: past multi-head windows, merge revisions and changed landed revisions."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional

import typer

# Below this many commits the walk is quick enough that a bar would only flicker.
PROGRESS_MIN_COMMITS = 50


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    ref: Optional[str] = typer.Option(
        None, "--ref", metavar="REF", help="The branch to walk (default: the base branch: origin/HEAD, main, master)."
    ),
    since: Optional[str] = typer.Option(
        None, "--since", metavar="DATE", help="Only commits after DATE (2024-03-01, '6 months ago')."
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help="text, json or markdown."),
) -> None:
    """Walk a branch's history: past multi-head windows, merge revisions, changed landed revisions.

    Follows the first-parent history of REF (the order revisions landed in) and
    reports when the graph had several heads and what closed it, and landed
    revisions that were later edited, re-pointed or deleted. After a
    fast-forward merge that history runs through the merged branch's own
    commits, whose past is then reported as REF's. A report: exits 0
    whatever it finds (2 when REF is unknown).
    """
    from revgraph.audit import RENDERERS, run_audit
    from revgraph.cli import state
    from revgraph.errors import UsageError

    if fmt not in RENDERERS:
        raise UsageError(f"audit --format takes {', '.join(RENDERERS)}, not {fmt!r}")
    st = state()
    with st.workspace() as ws, _progress_bar(enabled=not st.quiet) as progress:
        report = run_audit(ws, ref, since=since, progress=progress)
    text = RENDERERS[fmt](report)
    if fmt == "text" and st.use_color:
        _print_colored(st.console, text)
    else:
        if fmt != "json":  # (JSON escapes control characters itself)
            from revgraph.render.inert import inert

            text = inert(text)  # ids, paths and messages are shown, not obeyed
        from revgraph.cli import _emit

        _emit(text, None, document=fmt != "text")  # (a document: UTF-8 whatever the locale)


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator:
    """A transient bar on stderr, only on a terminal and only for long histories."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("auditing history"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = None

    def advance(done: int, total: int) -> None:
        nonlocal task
        if total < PROGRESS_MIN_COMMITS:
            return
        if task is None:
            bar.start()
            task = bar.add_task("audit", total=total)
        bar.update(task, completed=done)

    try:
        yield advance
    finally:
        bar.stop()


def _print_colored(console, text: str) -> None:
    from rich.text import Text

    styles = {"still open": "bold red", "multi-head windows": "bold", "landed revisions": "bold yellow"}
    for line in text.rstrip("\n").split("\n"):
        rendered = Text(line)
        for needle, style in styles.items():
            rendered.highlight_words([needle], style=style)
        console.print(rendered)
