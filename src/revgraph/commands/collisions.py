"""`revgraph collisions`: the merge-queue view of several open branches."""

from __future__ import annotations

from typing import List, Optional

import typer

COLLISIONS_FORMATS = ("text", "json", "markdown")


def register(app: typer.Typer) -> None:
    app.command("collisions")(collisions)


def collisions(
    refs: List[str] = typer.Argument(..., metavar="REF", help="Branches to land; globs allowed (quote them): 'origin/feature/*'."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="The branch they land on (default: CI variables, origin/HEAD, main, master)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help="text, json or markdown."),
) -> None:
    """Which open branches collide once both land on base, and the order to land them.

    Each branch is judged by the merge landing it would make, each pair by
    base with both merged in. Two branches collide when landing both leaves
    more competing heads than landing each alone. Exits 1 when any pair
    collides, a branch already forks against base, or landing a branch alone
    breaks the graph (an unreadable file, a landed revision re-pointed or
    deleted, a missing parent); 0 when they can land in any order; 2 for an
    unknown ref or a missing base.
    """
    from revgraph import api
    from revgraph.cli import state
    from revgraph.collisions import find_collisions, render_markdown, render_text
    from revgraph.errors import UsageError

    if fmt not in COLLISIONS_FORMATS:
        raise UsageError(f"collisions --format takes {', '.join(COLLISIONS_FORMATS)}, not {fmt!r}")
    st = state()
    with st.workspace() as ws:
        base_ref = ws.resolve_base(base)
        assert base_ref is not None  # required=True raises instead
        repo = ws.repo("collisions")
        base_name = _branch_behind(repo, base_ref.ref)
        matched = api.matching_refs(ws, refs)
        base_snaps = {env.name: ws.snapshot(env, base_name) for env in ws.environments}
        # Each branch as landing it would leave base: the predicted merge, judged as check judges it.
        branch_snaps = {
            ref: {
                env.name: api.landing_snapshot(ws, env, base_ref.sha, ref, label=f"{ref} landed on {base_name}")
                for env in ws.environments
            }
            for ref in matched
        }
        _warn_unreadable(base_snaps, branch_snaps)
        report = find_collisions(
            base_name,
            base_snaps,
            branch_snaps,
            allow_heads={env.name: env.allow_heads for env in ws.environments},
            first_commit=lambda ref: _first_commit(repo, base_name, ref),
        )
        remotes = _remotes(repo)
        checkouts = _checkouts(repo, report.order, remotes)
    base_remote = _remote_of(base_name, remotes)
    if fmt == "json":
        import json

        text = json.dumps(report.to_json(), indent=2) + "\n"
    elif fmt == "markdown":
        text = render_markdown(report, checkouts=checkouts, base_remote=base_remote)
    else:
        text = render_text(report, checkouts=checkouts, base_remote=base_remote)
    if fmt != "json":  # (JSON escapes control characters itself)
        from revgraph.render.inert import inert

        text = inert(text)  # branch names, ids and paths are shown, not obeyed
    from revgraph.cli import _emit

    _emit(text, None, document=fmt != "text")  # (a document: UTF-8 whatever the locale)
    raise typer.Exit(0 if report.ok else 1)


def _warn_unreadable(base_snaps, branch_snaps) -> None:
    """A branch file we cannot read is a revision we cannot place: say so (stderr)."""
    from revgraph.cli import state

    known = {(p.path, p.blob_id) for snap in base_snaps.values() for p in snap.problems}
    for ref, snaps in branch_snaps.items():
        for snap in snaps.values():
            for problem in snap.problems:
                if (problem.path, problem.blob_id) in known:
                    continue
                state().err.print(f"warning: {ref}: {problem.path}:{problem.line}: {problem.reason}", markup=False)


def _first_commit(repo, base: str, ref: str) -> str | None:
    """Author date (ISO 8601) of ``ref``'s oldest commit that ``base`` lacks: when the
    branch's work began, kept by a rebase (the committer date is not)."""
    done = repo.git("log", "--format=%at %aI", "--end-of-options", f"{base}..{ref}", ok=range(256))
    if done.returncode != 0:
        return None
    dates = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        stamp, _, iso = line.partition(" ")
        if stamp.lstrip("-").isdigit() and iso:
            dates.append((int(stamp), iso))
    return min(dates)[1] if dates else None


def _remotes(repo) -> tuple[str, ...]:
    done = repo.git("remote", ok=range(256))
    return tuple(line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip())


def _remote_of(ref: str, remotes) -> str | None:
    # Longest first: a remote named "a/b" wins over "a".
    for remote in sorted(remotes, key=len, reverse=True):
        if ref.startswith(remote + "/"):
            return remote
    return None


def _branch_behind(repo, ref: str) -> str:
    """``origin/HEAD`` names the branch it points to: the steps say `git rebase origin/main`."""
    if not ref.endswith("HEAD"):
        return ref
    done = repo.git("rev-parse", "--abbrev-ref", ref, ok=range(256))
    target = done.stdout.decode("utf-8", "replace").strip()
    return target if done.returncode == 0 and target and target != "HEAD" else ref


def _checkouts(repo, refs, remotes) -> dict:
    """How each ref is rebased: ``origin/feature/a`` from the commit analysed, pushed back to
    ``feature/a`` of origin; a local branch by switching to it; anything else (a sha, a tag,
    ``HEAD~2``) on a detached HEAD at the commit it names."""
    from revgraph.collisions import Checkout

    done = repo.git(
        "for-each-ref", "--format=%(refname:short)%00%(refname)", "refs/heads", "refs/remotes", ok=range(256)
    )
    full_names = {}
    for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
        short, _, full = line.partition("\0")
        full_names.setdefault(short, full)
    out = {}
    for ref in refs:
        full = full_names.get(ref, "")
        rest = full.removeprefix("refs/remotes/")
        remote = _remote_of(rest, remotes) if full.startswith("refs/remotes/") else None
        sha = repo.resolve(ref)  # the commit analysed: what the steps rebase and lease on
        if remote is not None:
            out[ref] = Checkout(rest.removeprefix(remote + "/"), remote, sha=sha)
        elif full.startswith("refs/heads/"):
            out[ref] = Checkout(full.removeprefix("refs/heads/"), sha=sha)
        else:
            out[ref] = Checkout(ref, sha=sha, detached=True)
    return out
