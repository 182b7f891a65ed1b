"""``revgraph install`` and ``revgraph uninstall`` (PRODUCT §5)."""

from __future__ import annotations

import sys

import typer


def _print_result(result, *, installing: bool, from_here=None) -> None:
    from revgraph.cli import state

    st = state()
    out = st.console
    if result.dry_run and result.diff:
        sys.stdout.write(result.diff if result.diff.endswith("\n") else result.diff + "\n")
        sys.stdout.flush()
    prefix = "(dry run) " if result.dry_run else ""
    for change in result.changes:
        out.print(f"{prefix}{change}", markup=False)
    for warning in result.warnings:
        st.err.print(f"warning: {warning}", markup=False)
    if not result.changes:
        if installing:  # after a warning, "already installed" would claim what was not done
            out.print("nothing changed" if result.warnings else "already installed: nothing changed", markup=False)
        else:
            out.print("nothing to uninstall", markup=False)
        return
    if result.dry_run:
        out.print("dry run: nothing was written", markup=False)
    elif installing and not st.quiet:
        out.print(_next_steps(result.changes, from_here), markup=False)


def _next_steps(changes, from_here=None) -> str:
    """What to do after an install: commit the files it wrote; other clones set their own git config.

    The files are named from where revgraph ran (``from_here``: a repo-relative
    path as a command there names it), as fix commands are: in a monorepo's
    ``backend/``, ``git add .gitattributes backend/migrations/revgraph.lock``
    names nothing, the change lines above stay relative to the top.
    """
    from revgraph.shellwords import shell_word

    name = (lambda rel: shell_word(from_here(rel))) if from_here is not None else (lambda rel: rel)
    files = list(dict.fromkeys(name(c.target) for c in changes if c.target != "git config"))
    steps = [f"commit {', '.join(files)}"] if files else []
    if any(c.target == "git config" for c in changes):
        steps.append("every other clone runs `revgraph install` once (git config is not versioned)")
    if any(c.target == ".pre-commit-config.yaml" and c.description.startswith(("added hooks", "created with hooks"))
           for c in changes):  # fmt: skip
        steps.append("run `pre-commit install` in each clone, or the hooks never run")
    return "next: " + "; ".join(steps)


def register(app: typer.Typer) -> None:
    @app.command()
    def install(
        merge_driver: bool = typer.Option(False, "--merge-driver", help="Set the git merge driver for the lock file (git config + .gitattributes). With no step named, --merge-driver and --lock both run."),
        lock: bool = typer.Option(False, "--lock", help="Create or refresh the heads lock file (on by default, see --merge-driver)."),
        pre_commit: bool = typer.Option(False, "--pre-commit", help="Add revgraph-lock and revgraph-check hooks to .pre-commit-config.yaml."),
        post_write_hook: bool = typer.Option(False, "--post-write-hook", help="Add an alembic post_write_hooks entry that refreshes the lock after `alembic revision`."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; write nothing."),
    ) -> None:
        """Wire revgraph into git: merge driver + lock file by default; idempotent.

        Writes only git config (of this clone), .gitattributes,
        .pre-commit-config.yaml, alembic's post_write_hooks and the lock files.
        """
        from revgraph.cli import state
        from revgraph.gitops.install import install as do_install

        if not (merge_driver or lock or pre_commit or post_write_hook):
            merge_driver = lock = True
        from revgraph import api

        with state().workspace() as ws:
            result = do_install(
                ws, merge_driver=merge_driver, lock=lock, pre_commit=pre_commit,
                post_write_hook=post_write_hook, dry_run=dry_run,
                refresh_locks=lambda check_only: api.lock(ws, check_only=check_only),
            )
            _print_result(result, installing=True, from_here=ws.command_path)

    @app.command()
    def uninstall(
        merge_driver: bool = typer.Option(False, "--merge-driver", help="Only the merge driver (git config + .gitattributes lines)."),
        pre_commit: bool = typer.Option(False, "--pre-commit", help="Only the pre-commit hooks."),
        post_write_hook: bool = typer.Option(False, "--post-write-hook", help="Only the alembic post_write_hooks entry."),
        remove_lock: bool = typer.Option(False, "--remove-lock", help="Also delete the lock files."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; write nothing."),
    ) -> None:
        """Undo `revgraph install`: removes exactly what it added. The lock file stays unless --remove-lock."""
        from revgraph.cli import state
        from revgraph.gitops.install import uninstall as do_uninstall

        if not (merge_driver or pre_commit or post_write_hook):
            merge_driver = pre_commit = post_write_hook = True
        with state().workspace() as ws:
            result = do_uninstall(
                ws, merge_driver=merge_driver, pre_commit=pre_commit,
                post_write_hook=post_write_hook, remove_lock=remove_lock, dry_run=dry_run,
            )
        _print_result(result, installing=False)
