"""``lock``: write (or check) each environment's heads lock file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from revgraph.api import Workspace, _graph, _operation_in_progress
from revgraph.api.checking import (
    _heads_context,
    _merge_template,
    _read_lock,
    _refuse_foreign_lock,
    _rel,
    spell_commands,
)
from revgraph.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.model import RevisionGraph


@dataclass(frozen=True)
class LockStatus:
    environment: str
    path: str
    current: bool
    written: bool
    expected: str
    existed: bool = True  # False: there was no lock file (written now, or missing for --check)
    conflicted: bool = False  # it held git's conflict markers
    # Heads that share a line (what `fix` would join): the lock records them as
    # they are, which alembic's `upgrade head` refuses.
    competing: tuple[str, ...] = ()
    # With heads competing while a git operation is stopped: the operation ("merge",
    # "rebase", ...) and the command that joins them (`revgraph fix`, as check's RG401
    # offers it). A lock written then would let the operation commit the fork.
    operation: str | None = None
    joining: str | None = None
    # Instead of ``joining`` when no command joins them: a down_revision names a
    # revision the tree lacks (a revert or pick of a parent without its child), which
    # both strategies refuse; what to do, in words (``check`` names the files).
    missing_parent: str | None = None
    # --check only: why ``revgraph lock`` would refuse to write it (a folder, a file in
    # the path, a link out of the repository there), instead of advising it.
    unwritable: str | None = None


def lock(ws: Workspace, *, check_only: bool = False) -> list[LockStatus]:
    """Write (or with ``check_only`` verify) each environment's heads lock file."""
    from revgraph.checks.consistency import lock_disagreement
    from revgraph.fixes.apply import apply_plan
    from revgraph.fixes.plan import EditPlan
    from revgraph.lockfile import detect_newline, entries_for, render_lock

    if not check_only:  # nothing is written, no folder made, while one is missing
        _require_versions_folders(ws, [env for env in ws.environments if env.lock_file is not None],
                                  "revgraph lock wrote nothing")  # fmt: skip
    out = []
    edits = []
    allowed = []
    operation = _operation_in_progress(ws)
    for env in ws.environments:
        if env.lock_file is None:
            continue
        snap = ws.snapshot(env)
        if snap.problems:
            # The heads of a graph missing a file are a guess: a lock written (or
            # passed) from it would name a head alembic does not have.
            from revgraph.errors import FixRefused

            first = snap.problems[0]
            raise FixRefused(
                f"cannot tell the heads of environment {env.name}: {first.path}:{first.line}: {first.reason}",
                hint="fix (or remove) the unreadable revision file first; `revgraph check` lists every one",
            )
        graph = _graph(snap.revisions)
        lock_path = env.lock_file
        old = lock_path.read_bytes() if lock_path.is_file() else None
        _refuse_foreign_lock(ws, env, lock_path, old)
        newline = detect_newline(old) if old else "\n"
        expected = render_lock(entries_for(graph), env.name, newline=newline)
        found = _read_lock(old) if old is not None else None
        current = found is not None and (
            old == expected.encode()  # (never with markers: render_lock writes none)
            or lock_disagreement(found.heads, graph.heads, conflicted=found.conflicted) is None
        )
        rel = _rel(ws, lock_path)
        unwritable = None
        if not current and check_only:
            # "run `revgraph lock`" would send the user to a refusal: say why first.
            _require_versions_folders(ws, [env], f"{rel} cannot be brought up to date")
            unwritable = _why_unwritable(ws, rel, old, expected.encode(), lock_path)
        competing: tuple[str, ...] = ()
        joining: str | None = None
        missing_parent: str | None = None
        if len(graph.heads) > 1:
            from revgraph.checks.graph import merge_groups

            ctx = _heads_context(env, graph, landed=frozenset(), base=None, label="working tree",
                                 strategy=ws.project.settings.strategy, **_merge_template(ws, env))  # fmt: skip
            competing = tuple(h for group in merge_groups(ctx, graph).groups for h in group)
            dangling = sorted({(d.revision, d.target) for d in graph.dangling if d.kind == "down"})
            if competing and operation is not None and dangling:
                named = ", ".join(f"{rid} names {parent}" for rid, parent in dangling)
                missing_parent = (
                    f"a down_revision names a revision the tree lacks ({named}): restore it or drop what "
                    f"names it (`revgraph check` says which files), then `revgraph lock`"
                )
            elif competing and operation is not None:
                command = ctx.fix_command()
                if ctx.has_template and _separate_histories(graph, competing):
                    from revgraph.checks.graph import MERGE_FIX

                    command = MERGE_FIX  # no rebase re-points a base: a merge revision joins them
                joining = spell_commands(command, ws.revgraph_command)
        if not current and not check_only:
            if missing_parent is not None:
                from revgraph.errors import FixRefused

                raise FixRefused(
                    f"{rel} not written: heads {', '.join(competing)} compete on one line during the "
                    f"{operation.kind}, and no fix joins them",
                    hint=missing_parent,
                )
            if joining is not None:
                # Mid-operation, a lock recording competing heads "resolves" its conflict:
                # `git add` and `--continue` then commit the fork (check's RG401 says fix).
                from revgraph.errors import FixRefused

                raise FixRefused(
                    f"{rel} not written: heads {', '.join(competing)} compete on one line, and during "
                    f"the {operation.kind} a lock file recording them would let it commit the fork",
                    hint=f"run `{joining}`: it joins them and rewrites {rel}, then {operation.continue_command}",
                )
            edit, folder = _lock_edit(ws, rel, old, expected.encode(), lock_path)
            edits.append(edit)
            allowed.append(folder)
        out.append(LockStatus(
            env.name, rel, current, not current and not check_only, expected, old is not None,
            conflicted=found is not None and found.conflicted, competing=competing,
            operation=operation.kind if joining is not None or missing_parent is not None else None,
            joining=joining, missing_parent=missing_parent, unwritable=unwritable,
        ))  # fmt: skip
    if edits:
        apply_plan(EditPlan("lock", tuple(edits), (), ()), ws.root, allowed_dirs=allowed)
    return out


def _lock_edit(ws: Workspace, rel: str, old: bytes | None, new: bytes, lock_path) -> tuple:
    """The edit that writes the lock file, and the folder it may be written in. A lock
    file in a folder not made yet gets it: the setting named where it goes."""
    from revgraph.fixes.apply import existing_folder_above
    from revgraph.fixes.plan import FileEdit

    below = existing_folder_above(ws.root, rel) if old is None else None
    return FileEdit(rel, old, new, folders_below=below), (ws.root / below if below is not None else lock_path.parent)


def _why_unwritable(ws: Workspace, rel: str, old: bytes | None, new: bytes, lock_path) -> str | None:
    """Why ``lock`` would refuse to write the lock file where it goes (its own checks,
    nothing written), or None. A tester: ``lock --check`` advised `revgraph lock` where
    it could only refuse (a folder there, a file in the path, a link out of the
    repository)."""
    from revgraph.errors import RevgraphError
    from revgraph.fixes.apply import apply_plan
    from revgraph.fixes.plan import EditPlan

    try:
        edit, folder = _lock_edit(ws, rel, old, new, lock_path)
        apply_plan(EditPlan("lock", (edit,), (), ()), ws.root, allowed_dirs=[folder], dry_run=True)
    except RevgraphError as exc:
        return exc.message
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _separate_histories(graph: RevisionGraph, heads: Sequence[str]) -> bool:
    """Whether some of ``heads`` share no first revision (``down_revision = None``): two
    histories side by side, such as two branches' first migrations."""
    bases = set(graph.bases)
    roots = [bases & (graph.ancestors(head) | {head}) for head in heads]
    return any(a.isdisjoint(b) for i, a in enumerate(roots) for b in roots[i + 1 :])


def _require_versions_folders(ws: Workspace, environments: Sequence[Environment], outcome: str) -> None:
    """``config.require_versions_folders``, its message ending with what it means for ``lock``."""
    from revgraph.config import require_versions_folders

    try:
        require_versions_folders(environments, ws.project.root)
    except ConfigError as exc:
        raise ConfigError(f"{exc.message}; {outcome}", hint=exc.hint) from None
