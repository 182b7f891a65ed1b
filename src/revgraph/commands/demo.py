"""``revgraph demo``: the main job on the bundled example (see ``revgraph.demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    keep: bool = typer.Option(False, "--keep", help="Keep the demo repository and print its path."),
    directory: Optional[Path] = typer.Option(
        None, "--dir", metavar="DIR", help="Build the demo in DIR (empty or new) instead of a temporary folder."
    ),
    example: Optional[Path] = typer.Option(
        None, "--example", metavar="DIR", hidden=True,
        help="A folder with alembic.ini and migrations/ to use instead of the bundled example.",
    ),
) -> None:
    """Show the main job on a throwaway repository: check -> graph -> fix -> check.

    Builds a git repository from the bundled example, makes two branches that
    both add a revision on the same head, lands one, and walks the other
    through the fix. Needs no network and no database. Exit 0 when every step
    came out as expected, 1 otherwise.
    """
    from revgraph.cli import state
    from revgraph.demo import check_example, run_demo

    st = state()
    if directory is not None:
        directory = st.options.cwd / directory
    if example is not None:
        example = check_example(st.options.cwd / example)
    result = run_demo(
        st.console,
        color=st.use_color,
        keep=keep,
        directory=directory,
        verbose=st.verbose,
        no_cache=st.options.no_cache,
        example=example,
    )
    raise typer.Exit(0 if result.ok else 1)
