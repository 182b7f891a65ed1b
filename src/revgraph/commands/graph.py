"""`revgraph graph`: the DAG as a picture for code review."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

GRAPH_FORMATS = ("tree", "mermaid", "dot", "svg", "png", "html", "json")
# -o FILE's extension -> the format it names: without --format, the one written.
EXTENSION_FORMATS = {
    ".png": "png",
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".json": "json",
    ".txt": "tree",
}
# Plain text: the tree by default, but any text format may be written there.
TEXT_EXTENSIONS = frozenset({".txt"})


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)


def graph(
    ref: Optional[str] = typer.Option(None, "--ref", metavar="REF", help="Draw this commit-ish instead of the working tree (`:` draws the index)."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="Show what merging into REF would do (default: the base, when there is one; with --ref, only when --base is given)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", metavar="FORMAT", help="tree (or text), mermaid, dot, svg, png, html or json (default: from -o FILE's extension, else tree)."),
    focus_mode: Optional[str] = typer.Option(None, "--focus", metavar="new|compact|all", help="new: the new revisions with some landed context; compact: every revision, but over 200 revisions a linear run of more than 8 unmarked ones folds into one node; all: every revision, nothing folded (default: new when there are new revisions, else compact)."),
    context: int = typer.Option(2, "--context", min=0, help="Landed ancestors shown around new revisions."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE (needed for png; - is stdout, with --format). Without --format, FILE's extension picks the format: .png, .svg, .html/.htm, .dot/.gv, .mmd/.mermaid, .json; .txt, none or another: tree."),
) -> None:
    """Draw the revision DAG: new, landed, head, conflicting and edited revisions are marked."""
    from revgraph import api
    from revgraph.cli import (
        _emit, is_stdout, print_problems, state, warn_missing_versions, warn_ref_settings, warn_report, write_output,
    )  # fmt: skip
    from revgraph.errors import UsageError
    from revgraph.render.graphview import FOCUS_MODES, default_focus, focus, render_graphs

    st = state()
    if is_stdout(output):
        # No file name to take the format from: --format says it.
        if fmt is None:
            raise UsageError(
                "-o - writes the graph to stdout, where no file extension names a format: pass --format",
                hint=f"--format takes {', '.join(GRAPH_FORMATS)}",
            )
        output = None
    fmt = output_format(fmt, output)
    if focus_mode is not None and focus_mode not in FOCUS_MODES:
        raise UsageError(f"--focus takes {', '.join(FOCUS_MODES[:-1])} or {FOCUS_MODES[-1]}")
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise UsageError("PNG is binary: pass -o FILE")
    with st.workspace() as ws:
        report = None
        repo = ws.maybe_repo()
        # The marks are check's findings on what is drawn: the working tree's, or
        # those of --ref as they would be with it checked out. --ref alone draws
        # that ref by itself (api.graph_view), with no merge to find fault with.
        merging = base is not None or bool(
            ref is None and repo is not None and repo.head_sha() is not None and ws.resolve_base(None, required=False)
        )
        if merging:
            report = api.check(ws, base=base, head_ref=ref)
        findings = report.findings if report is not None else ()
        views = []
        for env in ws.environments:
            view = api.graph_view(ws, env, ref=ref, base=base, findings=findings)
            mode = focus_mode or default_focus(view)
            views.append((env.name, focus(view, mode, context)))
            print_problems(ws.snapshot(env, ref).problems)  # the picture leaves them out
        if ref is None:
            warn_missing_versions(ws)
        else:
            warn_ref_settings(ws, ref)
        if report is not None:  # the picture is the merge into the base
            warn_report(report)
        # Every environment in one document: two JSON objects or two <svg> roots
        # one after the other parse nowhere.
        drawn = render_graphs(views, fmt)
    if fmt == "png":
        if output is not None:
            write_output(output, drawn)
            if not st.quiet:
                st.err.print(f"wrote {output}", markup=False)  # as for every other format
        else:
            sys.stdout.buffer.write(drawn)
        return
    text = drawn if isinstance(drawn, str) else drawn.decode()
    if fmt == "mermaid":
        from revgraph.render.mermaid import refusal

        refused = refusal(text)
        if refused is not None:
            st.say(f"warning: the chart cannot be drawn by Mermaid: {refused}; GitHub shows an error "
                   "instead; --focus new, or -f svg or html, draw it", err=True)  # fmt: skip
    if output is not None:
        write_output(output, text.encode("utf-8", "backslashreplace"))  # non-UTF-8 names
        if not st.quiet:
            st.err.print(f"wrote {output}", markup=False)
        return
    if fmt == "tree" and st.use_color:
        from revgraph.render.tree import tree_renderable

        with st.workspace() as ws:  # re-render with styles for the terminal
            for env in ws.environments:
                view = api.graph_view(ws, env, ref=ref, base=base, findings=findings)
                mode = focus_mode or default_focus(view)
                st.console.print(tree_renderable(focus(view, mode, context)))
        return
    _emit(text, None, document=fmt != "tree")  # (a document: UTF-8 whatever the locale)


def output_format(fmt: Optional[str], output: Optional[Path]) -> str:
    """The format to draw: ``--format``, else the one ``-o FILE``'s extension names, else tree.

    A ``--format`` that contradicts the extension is refused: writing the text
    tree into graph.png (or JSON into graph.svg) makes a file its name lies about.
    """
    from revgraph.errors import UsageError

    suffix = output.suffix.lower() if output is not None else ""
    implied = EXTENSION_FORMATS.get(suffix)
    if fmt is None:
        return implied or "tree"
    fmt = {"text": "tree"}.get(fmt, fmt)  # every other command calls its terminal output text
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"unknown graph format {fmt!r}; choose one of: {', '.join(GRAPH_FORMATS)}")
    if implied is not None and implied != fmt and suffix not in TEXT_EXTENSIONS:
        raise UsageError(
            f"--format {fmt} contradicts -o {output}: a {suffix} file is {implied}; "
            f"drop --format, or name the file for {fmt}"
        )
    return fmt
