"""``fix``: re-point a branch's new revisions onto base's head, or write merge revisions.

Plans are made by ``revgraph.fixes`` (pure); this module decides what has
landed (which side moves), refuses what cannot be fixed safely, and hands the
plan to ``fixes.apply`` and git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence

from revgraph.api import (
    Workspace,
    _current_branch,
    _git_output,
    _graph,
    _is_local_branch,
    _names_branch,
    _operation_in_progress,
    _shared_copy,
)
from revgraph.api.checking import (
    _heads_context,
    _merge_template,
    _protected_refs,
    _read_database,
    _refuse_foreign_lock,
    _rel,
    _revision_bytes,
    spell_commands,
)
from revgraph.errors import GitError, RevgraphError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.findings import Finding
    from revgraph.fixes.plan import EditPlan
    from revgraph.fixes.renumber import Renumbered
    from revgraph.gitops.mergestate import Operation
    from revgraph.model import RevisionGraph, Snapshot
    from revgraph.sources.gitref import GitRepo


@dataclass(frozen=True)
class RemainingHeads:
    """Heads of one environment that ``check`` would still call competing (RG101) after the fix.

    ``finding`` is RG101 itself, decided on the graph the plan leaves;
    ``reasons`` say why the plan left revisions where they are;
    ``merge_joins``: ``fix --strategy merge`` would find heads to join, and can
    write the merge revision; ``merge_unavailable``: it would find some, but
    cannot (no script.py.mako), said with what lets it.
    """

    environment: str
    finding: "Finding"
    heads: int  # every head after the fix, competing or not
    reasons: tuple[str, ...]
    merge_joins: bool
    merge_unavailable: str | None = None


@dataclass
class FixOutcome:
    plan: "EditPlan"
    written: list[str]
    staged: list[str]
    operation: "Operation | None"
    dry_run: bool
    landed_source: str  # what decided "landed", for the user: "main", "main + db"
    # Not empty: the fix (written or not) leaves competing heads, and fix exits 1.
    remaining: list[RemainingHeads] = field(default_factory=list)
    environments: tuple[str, ...] = ()  # those the fix covered, to name them when several
    # During a merge/rebase: paths git still holds in conflict once fix is done
    # (a README, an unreadable file): the operation cannot continue before them.
    # With no operation (a conflicted `git stash pop`): the files fix wrote that
    # git still lists as unmerged; staging them is the user's call.
    unresolved: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (old, new) paths of renumbered files fix ``git mv``-ed
    # A path as a command fix offers names it: from where revgraph runs.
    here: Callable[[str], str] = str
    # Folders made for a new file (a file_template with sub-folders), as alembic
    # makes them; with dry_run, those that would be. Repo-relative, parents first.
    created_folders: tuple[str, ...] = ()
    # ``Workspace.revgraph_command``: how a command fix offers starts (spell_commands).
    command: str = "revgraph"
    # Staged files that also held the user's unstaged changes, now staged with fix's edit.
    staged_yours: tuple[str, ...] = ()
    # Lock files fix left as they were: heads still compete in the middle of an operation.
    locks_held: tuple[str, ...] = ()
    # (path, command) for each of ``unresolved`` that is the lock file of another
    # project or environment (a monorepo's other service): the fix that resolves it,
    # as run where this one ran.
    other_locks: tuple[tuple[str, str], ...] = ()


def _landed_for_fix(
    ws: Workspace,
    env: Environment,
    repo: GitRepo | None,
    *,
    base: str | None,
    onto: str | None,
    operation,
    db_revisions: Sequence[str],
    graph: RevisionGraph,
) -> tuple[set[str], dict | None, list[str], set[tuple[str, str]]]:
    """The revisions that must not move, the explicit targets, where they came from, and
    ``(id, path)`` of each landed file read (which copy of an id landed, for renumbering)."""
    landed: set[str] = set()
    files: set[tuple[str, str]] = set()
    sources: list[str] = []
    targets = None
    base_read: str | None = None  # the commit of base, once its revisions are in ``landed``

    def take(revisions) -> None:
        for r in revisions:
            landed.add(r.id)
            files.add((r.id, r.path))

    if repo is not None and repo.head_sha() is not None:
        base_ref = ws.resolve_base(base, required=operation is None and onto is None)
        rebase = operation if operation is not None and operation.kind == "rebase" else None
        if base_ref is None and operation is not None and onto is None:
            _refuse_operation_without_base(ws, base, operation)
        if base_ref is not None:
            # Rebasing the base branch itself, named as the local branch (not its
            # remote copy, origin/HEAD's pick, which holds only what was pushed).
            rebasing_base = (
                rebase is not None and bool(rebase.branch) and _names_branch(repo, base_ref.ref, rebase.branch)
                and _is_local_branch(repo, base_ref.ref)
            )  # fmt: skip
            if rebasing_base:
                # `git pull --rebase` on the base branch: until the rebase ends,
                # the branch still holds its unpushed commits, which have not
                # landed anywhere; what has is upstream (below).
                pass
            else:
                take(ws.snapshot(env, base_ref.ref).revisions)
                sources.append(base_ref.ref)
                base_read = base_ref.sha
            shared = _shared_copy(repo, base_ref.ref)
            if shared is not None:  # a local base behind its remote has not seen all that landed
                take(repo.read_ref(env, shared, cache=ws.cache).revisions)
                sources.append(shared)
            elif rebasing_base:
                # Rebasing the base branch itself (`git rebase feat` on main) with no
                # remote copy: the local branch is the only copy of what has landed, so
                # its tip before the rebase (every commit still to replay) counts.
                # Skipping it would leave nothing protecting main's own revisions.
                take(repo.read_ref(env, rebase.orig_head or base_ref.sha, cache=ws.cache).revisions)
                sources.append(f"{rebase.branch} before the rebase (it has no remote copy)")
            # Merging (or picking) a feature *into* the base branch: HEAD is the
            # base, its revisions have landed even if not yet pushed to origin.
            branch = _current_branch(repo)
            if (
                operation is not None
                and operation.kind in ("merge", "squash", "cherry-pick", "am", "revert")
                and branch
                and _names_branch(repo, base_ref.ref, branch)
            ):
                take(repo.read_ref(env, "HEAD", cache=ws.cache).revisions)
            elif operation is None and branch and _names_branch(repo, base_ref.ref, branch):
                for first, merged_from in _unlanded_merges(repo, base_ref.sha):
                    # The same merge into the base branch, committed and not pushed: the
                    # branch as it was (the merge's first parent) keeps its revisions, as
                    # HEAD does while the merge is in progress (above). Without it the
                    # commit turned which side moves over to Create Date (a tester: main's
                    # own unpushed revision moved onto the feature's). Not when that side
                    # would compete with what has landed (a pull brought a pushed
                    # revision on top): the unpushed one moves then, as before.
                    kept = repo.read_ref(env, first, cache=ws.cache).revisions
                    with_kept = landed | {r.id for r in kept}
                    if len(_heads_among(graph, with_kept)) <= max(1, len(_heads_among(graph, landed))):
                        take(kept)
                        sources.append(f"{branch} before merging {merged_from[:10]}")
                        break
            elif (
                operation is not None and operation.kind in ("merge", "squash") and branch and operation.theirs
                and operation.theirs != base_read  # `git merge main` with base main: read above
            ):
                # Merging a branch *into* a work branch brings in what that branch is
                # built on: the PR's target (say develop, while base resolved to
                # main), or the PR a stacked one builds on. Its revisions stay and
                # the work branch's own move onto them, as in `git rebase <it>`;
                # Create Date never decides which side moves.
                take(repo.read_ref(env, operation.theirs, cache=ws.cache).revisions)
                sources.append("the branch being merged in")
        for ref in _protected_refs(ws, repo):
            take(repo.read_ref(env, ref, cache=ws.cache).revisions)
            sources.append(ref)
        if rebase is not None and rebase.onto and rebase.onto != base_read:  # `git rebase main`: read above
            # What a rebase builds on stays; the commits it replays move (PRODUCT §5:
            # in a rebase "ours" is the upstream).
            take(repo.read_ref(env, rebase.onto, cache=ws.cache).revisions)
            sources.append("the rebase's upstream")
        if onto is not None:
            onto_snap = ws.snapshot(env, onto)
            take(onto_snap.revisions)
            onto_graph = _graph(onto_snap.revisions)
            targets = _targets_by_lineage(onto_graph)
            sources.append(onto)
    elif onto is not None or base is not None:
        ws.repo("--onto/--base")
    if db_revisions:
        landed |= graph.closure(db_revisions) | set(db_revisions)
        sources.append("database")
    return landed & set(graph.revisions), targets, sources, files


def _unlanded_merges(repo: GitRepo, base_sha: str) -> Iterator[tuple[str, str]]:
    """``(first parent, a parent it merged in)`` of each merge commit on HEAD's
    first-parent line since the base (``base_sha``) that brought in work the base does
    not hold, newest first.

    The merge may be HEAD, or sit below commits made after it, or below ``git pull``'s
    own merge of the remote branch (whose other side has landed, and is passed over);
    an octopus merge counts when any parent it merged in is new (a reviewer)."""
    if repo.head_sha() == base_sha:
        return
    done = repo.git("rev-list", "--first-parent", "--merges", "--parents", "HEAD", f"^{base_sha}", "--",
                    ok=range(256))  # fmt: skip
    if done.returncode != 0:
        return
    for line in done.stdout.decode("ascii", "replace").splitlines():  # newest first
        shas = line.split()
        for merged in shas[2:]:
            inside = repo.git("merge-base", "--is-ancestor", merged, base_sha, ok=range(256))
            if inside.returncode != 0:
                yield shas[1], merged
                break


def _heads_among(graph: RevisionGraph, ids: set[str]) -> set[str]:
    """The revisions of ``ids`` (those ``graph`` has) that no other of them builds on."""
    present = ids & set(graph.revisions)
    return {rid for rid in present if not present.intersection(graph.children(rid))}


def _refuse_operation_without_base(ws: Workspace, base: str | None, operation) -> None:
    """Stop (exit 2, nothing written) a fix during a git operation when no base
    resolves: what has landed is told by the base (HEAD's side when HEAD is the
    base, the branch merged in otherwise; in a rebase, the branch being rebased
    when it is the base), so without one the base's own revisions could move.
    ``check`` stops the same way; the error is ``resolve_base``'s own."""
    try:
        ws.resolve_base(base, required=True)
    except GitError as exc:
        exc.message = (
            f"{exc.message}: during a {operation.kind}, fix needs the base branch to tell "
            "which revisions have landed; nothing was written"
        )
        exc.args = (exc.message,)
        raise
    raise AssertionError("resolve_base found no base, then found one")  # pragma: no cover


def _base_snapshot(ws: Workspace, env: Environment, repo: GitRepo | None, base: str | None) -> Snapshot | None:
    """Base's own revisions: a refusal tells a fork on base from landed history edited here."""
    if repo is None or repo.head_sha() is None:
        return None
    base_ref = ws.resolve_base(base, required=False)
    return ws.snapshot(env, base_ref.ref) if base_ref is not None else None


def _targets_by_lineage(graph: RevisionGraph) -> dict:
    """The --onto ref's heads per line (first branch label, or None): every one of
    them, so that a ref with several heads on a line is refused, not cut to one."""
    targets: dict = {}
    for head in graph.heads:
        labels = graph.labels_of(head)
        key = labels[0] if labels else None
        targets[key] = targets.get(key, ()) + (head,)
    return targets


def fix(ws: Workspace, **options) -> FixOutcome:
    """Repair the graph in the working tree: rebase (default) or merge (PRODUCT §4).

    Options as ``_fix`` takes them. A refusal's message and hint, and the outcome's
    ``command``, quote ``revgraph`` with the global options that chose the
    environments, as the findings do (``_with_global_options``)."""
    from dataclasses import replace

    command = ws.revgraph_command
    _refuse_without_the_outer_settings(ws)
    try:
        outcome = _fix(ws, **options)
    except RevgraphError as exc:
        exc.message, exc.hint = spell_commands(exc.message, command), spell_commands(exc.hint, command)
        exc.args = (exc.message,)
        raise
    return replace(outcome, command=command)


def _refuse_without_the_outer_settings(ws: Workspace) -> None:
    """Refuse to move anything from a service folder whose project further up sets what
    decides what has landed (``protected``, ``base``): this run does not know it, and a
    revision landed on a protected ref could move (``config.Project.outer``)."""
    outer = ws.project.outer
    if outer is None or not outer[2]:
        return
    from revgraph.config import outer_project_command
    from revgraph.errors import FixRefused

    pyproject, name, landed = outer
    raise FixRefused(
        f"{pyproject} names this alembic.ini as environment {name!r} and sets "
        f"{' and '.join(landed)} there, which decide what has landed; fix run here would not know them",
        hint=f"run `{outer_project_command(ws.project.root, outer, 'fix')}`",
    )


def _fix(
    ws: Workspace,
    *,
    strategy: str | None = None,
    base: str | None = None,
    onto: str | None = None,
    dry_run: bool = False,
    message: str | None = None,
    rev_id: str | None = None,
    db_url: str | None = None,
    stage: bool = True,
    docstrings: bool = False,
) -> FixOutcome:
    """``fix``, without spelling the global options into what it says."""
    from revgraph.errors import FixRefused
    from revgraph.fixes.apply import apply_plan
    from revgraph.fixes.plan import EditPlan

    asked_to_merge = strategy == "merge"  # on the command line, not [tool.revgraph] strategy
    strategy = strategy or ws.project.settings.strategy
    if strategy not in ("rebase", "merge"):
        raise UsageError(f"unknown strategy {strategy!r}; choose rebase or merge")
    repo = ws.maybe_repo()
    if repo is not None and repo.root is None:
        raise GitError("fix needs a working tree; this is a bare repository")
    operation = _operation_in_progress(ws)
    db_revisions: tuple[str, ...] = ()
    db_note = None
    if db_url:
        db_revisions, db_note = _read_database(ws, db_url)

    edits: list = []
    moves: list = []
    renumbered: list[Renumbered] = []
    notes: list[str] = [db_note] if db_note is not None else []
    left_alone: list[str] = []
    nothing_to_merge: list[FixRefused] = []  # environments the merge strategy has nothing to join in
    remaining: list[RemainingHeads] = []
    held: list[str] = []  # lock files left as they are while heads compete mid-operation
    allowed: list[Path] = []
    landed_sources: list[str] = []
    for env in ws.environments:
        head = ws.snapshot(env)
        _refuse_on_problems(head)
        graph = _graph(head.revisions)
        landed, targets, srcs, landed_files = _landed_for_fix(
            ws, env, repo, base=base, onto=onto, operation=operation,
            db_revisions=db_revisions, graph=graph,
        )
        landed_sources.extend(srcs)
        allowed.extend(env.version_locations)
        # Base's own revisions: the rebase words its refusals with them, and
        # RG101 tells landed branch labels from new ones by them.
        base_snap = None if docstrings else _base_snapshot(ws, env, repo, base)
        if docstrings:
            from revgraph.fixes.docstrings import plan_docstrings

            sources = {}
            for rev in graph:
                data = _revision_bytes(ws, head, rev)
                if data is not None:
                    sources[rev.path] = data
            plan = plan_docstrings(graph, landed=frozenset(landed), sources=sources)
        elif strategy == "rebase":
            from revgraph.checks.graph import merge_unavailable
            from revgraph.fixes.rebase import plan_rebase

            renumber = _plan_renumber(ws, env, head, graph, landed, landed_files, base_snap, operation,
                                      db_revisions=db_revisions)  # fmt: skip
            if renumber.files:
                graph = _graph(_reparsed(head.revisions, renumber.files))
            sources = {}
            for rev in graph:
                if rev.id not in landed or rev.path in renumber.files:
                    data = renumber.files.get(rev.path) or _revision_bytes(ws, head, rev)
                    if data is not None:
                        sources[rev.path] = data
            plan = plan_rebase(
                graph,
                landed=frozenset(landed),
                sources=sources,
                target_heads=targets,
                landed_from=" + ".join(dict.fromkeys(srcs)) or None,
                base=base_snap,
                onto_ref=onto,
                here=ws.command_path,
                merge_unavailable=merge_unavailable(**_merge_template(ws, env)),
            )
            if renumber.files:
                plan = _after_renumbering(renumber, plan)
        else:
            from revgraph.fixes.rebase import refuse_unsafe_for_merge

            refuse_unsafe_for_merge(graph, frozenset(landed), base_snap, here=ws.command_path)
            try:
                plan = _plan_merges(env, graph, message=message, rev_id=rev_id, root=ws.root,
                                    landed=frozenset(landed), base=base_snap)  # fmt: skip
            except FixRefused as refused:
                if not str(refused).startswith("nothing to merge"):
                    raise
                if asked_to_merge and len(ws.environments) == 1:
                    raise
                # Several environments: one with nothing to join is no reason to
                # refuse the others (refused below only if none has anything).
                # The project's default strategy (not --strategy merge) is never
                # refused for it: on a healthy graph a second `fix` changes
                # nothing and exits 0, as the rebase does.
                if asked_to_merge:
                    nothing_to_merge.append(refused)
                plan = EditPlan(strategy="merge", notes=(f"{env.name}: {refused}",) if asked_to_merge else ())
        if not docstrings and strategy == "rebase" and plan.is_empty and operation is None and onto is None:
            _refuse_when_base_is_not_merged(ws, env, graph, base)
        edits.extend(plan.edits)
        moves.extend(plan.moves)
        renumbered.extend(plan.renumbered)
        notes.extend(plan.notes)
        left_alone.extend(plan.left_alone)
        after = _graph_after(graph, plan)
        if not docstrings:  # --docstrings repairs RG402 only: heads are not its promise
            left = _heads_left(ws, env, after, landed=frozenset(landed), base=base_snap, plan=plan)
            if left is not None:
                remaining.append(left)
        lock_edit = _lock_edit(ws, env, after)
        if lock_edit is not None and left is not None and operation is not None:
            # Heads still compete mid-merge/rebase: a lock file recording them all
            # would settle git's conflict and let the operation commit the fork
            # (`revgraph lock` refuses the same). It stays as it is.
            held.append(lock_edit.path)
        elif lock_edit is not None:
            edits.append(lock_edit)
            allowed.append(env.lock_file.parent)
    plan = EditPlan(
        strategy="docstrings" if docstrings else strategy,
        edits=tuple(edits),
        moves=tuple(moves),
        notes=tuple(notes),
        left_alone=tuple(left_alone),
        renumbered=tuple(renumbered),
    )
    if nothing_to_merge and len(nothing_to_merge) == len(ws.environments):
        raise nothing_to_merge[0]
    # What the plan leaves unsolved does not stop it: what it can do is still
    # done (and written), and the outcome says what remains (fix exits 1).
    created_folders: list[str] = []
    staging = operation is not None and stage and not dry_run and repo is not None
    # Files fix will `git add` whose unstaged changes (the user's, not conflicts)
    # go into the index with its own edit: said, not done silently.
    yours = _with_unstaged_changes(repo, [e.path for e in plan.edits if not e.creates]) if staging else ()
    written = apply_plan(plan, ws.root, allowed_dirs=allowed, dry_run=dry_run, created_folders=created_folders)
    staged: list[str] = []
    renamed: tuple[tuple[str, str], ...] = ()
    if written and not dry_run and operation is not None and stage:
        # Where each file really is: git adds nothing beyond a symbolic link (a
        # versions folder or a lock file reached through a linked folder; a file link
        # is written through, so its target is what changed).
        from revgraph.sources.merged import on_disk

        staged = list(on_disk(repo, written))
        _git_output(repo, "add", "--", *staged, check=True)
        yours = tuple(path for path in yours if path in written)
        if operation.kind in ("merge", "squash"):
            # It stages anyway: a renumbered file also takes its new id's name. Not
            # in a rebase or cherry-pick, whose commits still to replay may edit
            # the file under its old name.
            renamed = _rename_renumbered(repo, ws.root, plan.renumbered)
            staged = [dict(renamed).get(path, path) for path in staged]
    unresolved: tuple[str, ...] = ()
    other_locks: tuple[tuple[str, str], ...] = ()
    if operation is not None and repo is not None and not dry_run:
        unresolved = tuple(repo.conflicted_paths())
        other_locks = _other_lock_fixes(ws, repo, [path for path in unresolved if path not in held])
    elif written and repo is not None and not dry_run:
        unmerged = set(repo.conflicted_paths())
        unresolved = tuple(path for path in written if path in unmerged)
    return FixOutcome(
        plan, written, staged, operation, dry_run, " + ".join(dict.fromkeys(landed_sources)), remaining,
        tuple(env.name for env in ws.environments), unresolved, renamed, ws.command_path,
        tuple(created_folders), staged_yours=yours if staged else (), locks_held=tuple(held),
        other_locks=other_locks,
    )


def _other_lock_fixes(ws: Workspace, repo: GitRepo, paths: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``(path, command)`` for each of ``paths`` (still in conflict, relative to the top
    of the work tree) that is the lock file of a project or environment this fix did
    not cover: the ``revgraph fix`` that resolves it, run where this one ran.

    In a monorepo a merge conflicts each service's lock file; ``fix`` run for one
    service leaves the others, and "resolve what git still holds" would send the
    user to edit a lock file by hand. The owner is the one the merge driver
    names (``lock_owner``); a path no readable project owns is left out.
    """
    from revgraph.gitops.driver import lock_owner
    from revgraph.shellwords import shell_word

    if not paths or repo.root is None:
        return ()
    top = Path(os.path.abspath(repo.root))
    here = os.path.realpath(ws.start_dir)
    covered = {env.name for env in ws.environments}
    found = []
    for path in paths:
        try:
            owner = lock_owner(path, top)
        except Exception:  # only advice: any doubt leaves the plain words
            continue
        if owner is None or owner.project is None or owner.env is None:
            continue
        same_project = os.path.realpath(owner.root) == os.path.realpath(ws.project.root)
        if same_project and owner.env.name in covered:
            continue  # its own: written, or held while heads compete
        if same_project:
            command = f"{ws.revgraph_command_for(owner.env.name)} fix"
        else:
            relative = Path(os.path.relpath(os.path.realpath(owner.root), here)).as_posix()
            command = "revgraph fix" if relative == "." else f"revgraph -C {shell_word(relative)} fix"
        found.append((path, command))
    return tuple(found)


def _with_unstaged_changes(repo: GitRepo, paths: list[str]) -> tuple[str, ...]:
    """Those of ``paths`` whose working-tree file differs from the index, conflicts aside
    (a conflicted file is fix's to resolve; git diff compares it with our side)."""
    if not paths:
        return ()
    out = _git_output(repo, "diff", "--name-only", "-z", "--diff-filter=MT", "--", *paths)
    conflicted = set(repo.conflicted_paths())
    return tuple(path for path in (out or "").split("\0") if path and path not in conflicted)


def _rename_renumbered(repo: GitRepo, root: Path, renumbered: Sequence[Renumbered]) -> tuple[tuple[str, str], ...]:
    """``git mv`` each renumbered file to the name its new id gives (RG403 would ask for
    it), when that name is free on disk and in the index; the pairs done, in order."""
    done = []
    for item in renumbered:
        target = item.renamed_path
        if target is None or os.path.lexists(root / target):
            continue
        moved = repo.git("mv", "-k", "--", item.path, target, ok=range(256))
        if moved.returncode == 0 and os.path.lexists(root / target):
            done.append((item.path, target))
    return tuple(done)


def _plan_renumber(
    ws: Workspace, env: Environment, head: Snapshot, graph: RevisionGraph, landed, landed_files,
    base_snap, operation, *, db_revisions: Sequence[str],
):  # fmt: skip
    """New ids for HEAD's files that took an id base has landed elsewhere (``fixes.renumber``).

    ``landed_files``: ``(id, path)`` of every landed file ``_landed_for_fix`` read;
    a copy found there has landed and keeps its id.
    """
    from revgraph.fixes.renumber import RenumberPlan, plan_renumber

    if not graph.duplicates:
        return RenumberPlan({}, ())

    def fresh_id() -> str:
        from alembic.util import rev_id

        return rev_id()

    # A rebase replays the branch a commit at a time: its later numbers are taken.
    in_use: set[str] = set()
    if operation is not None and operation.kind == "rebase" and operation.orig_head:
        in_use = {rev.id for rev in ws.snapshot(env, operation.orig_head).revisions}
    return plan_renumber(
        graph, head.revisions, base=base_snap, landed=frozenset(landed),
        read=lambda rev: _revision_bytes(ws, head, rev), fresh_id=fresh_id,
        in_use=in_use, landed_files=landed_files,
        applied=frozenset(graph.closure(db_revisions)) | frozenset(db_revisions) if db_revisions else frozenset(),
    )  # fmt: skip


def _reparsed(revisions, files: Mapping[str, bytes]) -> list:
    """``revisions`` with each file of ``files`` read again from its new bytes."""
    from revgraph.model import Revision
    from revgraph.parse import parse_revision

    out = []
    for rev in revisions:
        if rev.path in files:
            again = parse_revision(files[rev.path], rev.path)
            if not isinstance(again, Revision):  # our own edit made it unreadable: a bug
                raise RuntimeError(f"{rev.path}: unreadable after its new id: {again}")
            rev = again
        out.append(rev)
    return out


def _after_renumbering(renumber, plan: EditPlan) -> EditPlan:
    """The rebase's plan made from the renumbered bytes, as edits of the files on disk."""
    from dataclasses import replace

    from revgraph.fixes.plan import FileEdit

    planned = {edit.path: edit for edit in plan.edits}
    edits = []
    for path, data in renumber.files.items():  # from the bytes renumbering read, not read again
        edits.append(FileEdit(path, renumber.originals[path], planned.pop(path).new if path in planned else data))
    edits.extend(planned.values())
    return replace(plan, edits=tuple(edits), renumbered=tuple(renumber.renumbered))


def _heads_left(
    ws: Workspace,
    env: Environment,
    after: RevisionGraph,
    *,
    landed: frozenset[str],
    base: Snapshot | None,
    plan,
) -> RemainingHeads | None:
    """RG101 on the graph the plan leaves, decided as ``check`` decides it; None: one head per line.

    The rule itself runs (``run_checks``): branch lines, ``allow_heads``, the
    project's select/ignore and ``# revgraph: ignore[RG101]`` count here as
    they do in ``check``, so fix never passes where check fails, nor fails
    where check passes.
    """
    if len(after.heads) < 2:
        return None
    from revgraph.checks.registry import enabled_codes, run_checks

    settings = ws.project.settings
    if "RG101" not in enabled_codes(settings.select, settings.ignore):
        return None
    ctx = _heads_context(env, after, landed=landed, base=base, label="after fix",
                        strategy=ws.project.settings.strategy, **_merge_template(ws, env))
    findings = run_checks(ctx, select=("RG101",))
    if not findings:
        return None
    from revgraph.checks.graph import merge_groups, merge_unavailable

    joins = bool(merge_groups(ctx, after).groups)
    cannot = merge_unavailable(ctx.template_path, ctx.has_template) if joins else None
    return RemainingHeads(
        environment=env.name,
        finding=findings[0],
        heads=len(after.heads),
        reasons=tuple(plan.left_alone),
        merge_joins=joins and cannot is None,
        merge_unavailable=cannot,
    )


def _plan_merges(env: Environment, graph: RevisionGraph, *, message, rev_id, root, landed, base):
    """One merge revision per line whose heads compete (``checks.graph.merge_groups``).

    Heads on different branch labels are alembic's normal multi-line layout
    (RG101 allows them); joining them would change the layout, not fix it.
    """
    from revgraph.checks.graph import merge_groups
    from revgraph.errors import FixRefused, UsageError
    from revgraph.fixes.merge import plan_merge
    from revgraph.fixes.plan import EditPlan

    joins = merge_groups(_heads_context(env, graph, landed=landed, base=base, label="working tree"), graph)
    competing = [list(group) for group in joins.groups]
    if not competing and joins.unplaced:
        raise FixRefused(
            f"nothing tells which line {', '.join(joins.unplaced)} "
            f"{'continues' if len(joins.unplaced) == 1 else 'continue'}: no branch label, "
            f"beside several labelled lines ({', '.join(joins.lines)})",
            hint="point its down_revision at the head of the line it belongs to (`revgraph heads -v` lists them)",
        )
    if not competing:
        what = (
            f"only one head ({graph.heads[0]})" if len(graph.heads) == 1
            else "only one head per line (heads on distinct branch labels are alembic's normal layout)"
        )
        raise FixRefused(
            f"nothing to merge: {what}",
            hint="alembic would silently write an ordinary revision; `revgraph check` shows what is wrong",
        )
    if rev_id and len(competing) > 1:
        raise UsageError("--rev-id names one merge revision, but several lines need one; omit it")
    plans = [
        plan_merge(env, graph, heads=heads, message=message, rev_id=rev_id, root=root, in_load_order=True)
        for heads in competing
    ]
    for heads, plan in zip(competing, plans):
        _refuse_a_merge_that_joins_nothing(env, plan, heads, message=message)
    return EditPlan(
        strategy="merge",
        edits=tuple(e for p in plans for e in p.edits),
        moves=tuple(m for p in plans for m in p.moves),
        notes=tuple(n for p in plans for n in p.notes),
    )


def _refuse_a_merge_that_joins_nothing(env: Environment, plan, heads: list[str], *, message: str | None = None) -> None:
    """Refuse a rendered merge revision that does not name the heads it was made for.

    The environment's own script.py.mako renders it, as alembic does; a template
    that quotes the value (airflow's ``down_revision = "${down_revision}"``)
    turns a merge's tuple into one string, an id nobody has. alembic merge
    writes that file and then cannot load the graph; fix would leave one head
    more than before. Read back as check reads it, before anything is written.
    """
    from revgraph.errors import FixRefused
    from revgraph.model import ParseProblem
    from revgraph.parse import parse_revision

    [edit] = plan.edits
    rendered = parse_revision(edit.new, edit.path)
    template = env.template_path.name if env.template_path is not None else "script.py.mako"
    if isinstance(rendered, ParseProblem):
        _blame_the_message(message, rendered)
        raise FixRefused(
            f"the merge revision {template} renders cannot be read statically "
            f"(line {rendered.line}: {rendered.reason}); nothing was written",
            hint=f"compare {env.template_path or template} with alembic's own template",
        )
    if sorted(rendered.down_revisions) != sorted(heads):  # (alembic's load order decides the order)
        written = rendered.down_revisions
        shown = repr(written[0]) if len(written) == 1 else repr(tuple(written))
        raise FixRefused(
            f"{template} renders the merge revision's down_revision as {shown}, not the heads "
            f"it merges ({', '.join(heads)}): alembic merge writes the same file, and then "
            "cannot load the graph; nothing was written",
            hint=f"in {env.template_path or template}, write it as alembic's own templates do: "
            "`down_revision = ${repr(down_revision)}`",
        )


# What ends or breaks the docstring alembic's templates put the message in.
_DOCSTRING_BREAKERS = ('"""', "'''", "\\")


def _blame_the_message(message: str | None, problem) -> None:
    """The -m text, not the template, when it holds what breaks a docstring.

    alembic's templates quote the message in the new file's docstring: a
    message holding three double quotes (or a backslash escape Python refuses) makes
    ``alembic merge`` write a file nobody can load. A usage error, as the
    remedy is a different message.
    """
    from revgraph.errors import UsageError

    found = [s for s in _DOCSTRING_BREAKERS if message and s in message]
    if found:
        raise UsageError(
            f"the message {message!r} holds {found[0]}, which breaks the docstring the template "
            f"puts it in (line {problem.line}: {problem.reason}); nothing was written",
            hint="give -m a message without it",
        )


def _refuse_when_base_is_not_merged(ws: Workspace, env: Environment, graph: RevisionGraph, base: str | None) -> None:
    """Nothing to re-point here, yet merging base would fork: say what to run first.

    Re-pointing onto a revision this branch does not contain would leave the
    branch itself with a dangling down_revision (RG104), so the honest fix is
    to bring base's revisions in first; fix then runs during that merge.
    """
    from revgraph.errors import FixRefused

    repo = ws.maybe_repo()
    if repo is None or repo.head_sha() is None:
        return
    base_ref = ws.resolve_base(base, required=False)
    if base_ref is None:
        return
    base_revs = ws.snapshot(env, base_ref.ref).revisions
    missing = sorted({r.id for r in base_revs} - set(graph.revisions))
    if not missing:
        return
    union = {r.id: r for r in graph}
    for rev in base_revs:
        union.setdefault(rev.id, rev)
    if len(_graph(union.values()).heads) <= len(graph.heads):
        return
    quoted = base_ref.ref
    raise FixRefused(
        f"this branch does not have {base_ref.ref}'s newer revisions yet ({', '.join(missing[:5])}"
        f"{', …' if len(missing) > 5 else ''}); the fork appears only once they are merged",
        hint=f"run `git merge {quoted}` (or `git rebase {quoted}`), then `revgraph fix`",
    )


def _refuse_on_problems(snap: Snapshot) -> None:
    """Rewriting files we could not fully read would be guessing."""
    from revgraph.errors import FixRefused

    if snap.problems:
        first = snap.problems[0]
        raise FixRefused(
            f"{first.path}:{first.line}: {first.reason}",
            hint="fix (or remove) the unreadable revision file first; `revgraph check` lists every one",
        )


def _graph_after(graph: RevisionGraph, plan) -> RevisionGraph:
    from dataclasses import replace

    if not plan.moves and all(edit.old is not None for edit in plan.edits):
        return graph  # nothing re-pointed, nothing created: the graph as it is
    moved = {m.revision: m.new_down for m in plan.moves}
    revs = [replace(r, down_revisions=moved.get(r.id, r.down_revisions)) for r in graph]
    for edit in plan.edits:
        if edit.old is None and edit.path.endswith(".py"):
            from revgraph.model import Revision
            from revgraph.parse import parse_revision

            parsed = parse_revision(edit.new, edit.path)
            if isinstance(parsed, Revision):
                revs.append(parsed)
    return _graph(revs)


def _lock_edit(ws: Workspace, env: Environment, after: RevisionGraph):
    """Rewrite the lock file in the same step, when the environment uses one.

    ``after``: the graph once the plan is applied (``_graph_after``).
    """
    from revgraph.fixes.plan import FileEdit
    from revgraph.lockfile import detect_newline, entries_for, render_lock

    lock = env.lock_file
    if lock is None or not lock.is_file():
        return None
    old = lock.read_bytes()
    _refuse_foreign_lock(ws, env, lock, old)
    new = render_lock(entries_for(after), env.name, newline=detect_newline(old)).encode()
    if new == old:
        return None
    return FileEdit(_rel(ws, lock), old, new)
