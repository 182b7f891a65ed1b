"""``check``: every rule on HEAD and on the merge with base, and the context the rules read.

The other use cases build on it: ``fix`` and ``lock`` decide with the same
rules (RG101 on the graph they leave), ``graph`` draws the same contexts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from revgraph.api import CI_BASE_VARIABLES, BaseRef, Workspace, _fetch_command, _graph, _read_blob, _shared_copy, _try_resolve
from revgraph.errors import GitError, RevgraphError, UsageError
from revgraph.findings import Report
from revgraph.sources import INDEX_REF

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.model import Revision, RevisionGraph, Snapshot
    from revgraph.sources.gitref import GitRepo


@dataclass
class EnvContext:
    """Everything the checks and fixes need about one environment."""

    environment: Environment
    head: Snapshot
    base: Snapshot | None = None
    merged: Snapshot | None = None
    merge_base: Snapshot | None = None
    base_ref: BaseRef | None = None
    landed: frozenset[str] = frozenset()
    protected_refs: tuple[str, ...] = ()
    # Revisions landed on a protected ref but not on base, as that ref has them
    # (id -> (ref, revision)): RG201 compares HEAD's copies with these too.
    protected_only: Mapping[str, tuple[str, Revision]] = field(default_factory=dict)
    protected_inherited: Mapping[str, tuple[str, Revision]] = field(default_factory=dict)  # of those, HEAD's merge base with the ref has
    # Base's remote copy when base is a local branch (``_shared_copy``): a local
    # main may be behind origin/main, whose revisions have landed all the same.
    remote_ref: str | None = None
    # Revisions landed on the remote copy but not on base, as it has them, and
    # those of them the merge base of HEAD and the remote copy has, as it has
    # them (what HEAD inherited): the landed rules judge them as base's.
    remote_only: Mapping[str, Revision] = field(default_factory=dict)
    remote_inherited: Mapping[str, Revision] = field(default_factory=dict)


def _protected_refs(ws: Workspace, repo: GitRepo) -> list[str]:
    """The refs ``[tool.revgraph] protected`` names: each name that resolves, and the
    branches, tags and remote branches a pattern (a glob or a plain name) matches; a
    protected branch's remote copy (``origin/release/1.0``) is protected too.
    ``resultcache._git_state`` keys the result cache by the same list."""
    refs: list[str] = []
    for pattern in ws.project.settings.protected:
        if not any(ch in pattern for ch in "*?[") and _try_resolve(repo, pattern):
            refs.append(pattern)
        refs.extend(repo.list_refs(pattern, remote_copies=True))
    return sorted(set(refs))


def build_context(
    ws: Workspace,
    env: Environment,
    *,
    base: str | None = None,
    db_revisions: Iterable[str] = (),
    head_ref: str | None = None,
) -> EnvContext:
    """HEAD (with uncommitted edits), base, merge base, predicted merge, landed set.

    Each ref name is resolved once for the whole context (``GitRepo.pinned``).
    """
    repo = ws.maybe_repo()
    if repo is None:
        return _build_context(ws, env, base=base, db_revisions=db_revisions, head_ref=head_ref)
    with repo.pinned():
        return _build_context(ws, env, base=base, db_revisions=db_revisions, head_ref=head_ref)


def _build_context(
    ws: Workspace, env: Environment, *, base: str | None, db_revisions: Iterable[str], head_ref: str | None,
) -> EnvContext:  # fmt: skip
    prefetched = _prefetch_git_reads(ws, env, base) if head_ref is None else None
    head = ws.snapshot(env, head_ref)
    repo = ws.maybe_repo()
    if repo is None or (repo.root is not None and repo.head_sha() is None and base is None):
        if base is not None:
            ws.repo(f"--base {base}")
        if repo is None:
            _refuse_a_ci_base_outside_git(ws)
        return EnvContext(env, head, landed=frozenset(db_revisions))
    base_ref = prefetched or ws.resolve_base(base)  # resolved once when the prefetch could
    assert base_ref is not None
    head_sha = _try_resolve(repo, head_ref or "HEAD")
    if head_ref is None and head_sha and repo.root is not None:
        # A clean working tree is HEAD's tree: base, the merge base and the
        # predicted merge are then read as differences from it (each shares
        # nearly every file with HEAD) instead of base being listed in full.
        try:
            repo.adopt_reference(env, repo.folders(env), head_sha, head, ws.cache)
        except (RevgraphError, OSError):
            pass
    base_snap = ws.snapshot(env, base_ref.ref)
    merge_base = None
    merged = None
    if head_sha:
        mb_sha = repo.merge_base(base_ref.sha, head_sha)
        if mb_sha is None and repo.is_shallow():
            # A cut history hides the merge base: every revision base added
            # would look "deleted" (RG202). Say how to get the history instead.
            raise GitError(
                f"this shallow clone does not reach the merge base of HEAD and {base_ref.ref}",
                hint=f"run: {_fetch_command(repo, base_ref.ref)}",
            )
        if mb_sha:
            merge_base = repo.read_ref(env, mb_sha, cache=ws.cache)
        from revgraph.sources.merged import predict_merge

        # Merging base into HEAD yields the same tree as HEAD into base, and
        # lets the working tree's uncommitted edits count as part of HEAD.
        merged = predict_merge(
            repo,
            env,
            head_ref or "HEAD",
            base_ref.sha,
            label=f"{head_ref or 'HEAD'} merged into {base_ref.ref}",
            worktree=head_ref is None and repo.root is not None,
            cache=ws.cache,
        )
    landed = {rev.id for rev in base_snap.revisions}  # every id base has
    remote_ref, remote_only, remote_inherited = _remote_landed(ws, env, repo, base_ref, head_sha, landed)
    landed |= remote_only.keys()
    protected = _protected_refs(ws, repo)
    protected_only: dict[str, tuple[str, Revision]] = {}
    protected_inherited: dict[str, tuple[str, Revision]] = {}
    for ref in protected:
        if ref == remote_ref:
            continue  # read above, every revision it has is landed already
        revisions = repo.read_ref(env, ref, cache=ws.cache).revisions
        own = []
        for rev in revisions:
            if rev.id not in landed and rev.id not in protected_only:
                protected_only[rev.id] = (ref, rev)
                own.append(rev)
        landed |= {r.id for r in revisions}  # base's ids were in it from the start: never protected_only
        ref_base = repo.merge_base(ref, head_sha) if own and head_sha else None
        if ref_base:
            # What HEAD inherited from the protected ref (RG202 judges only those, as for base).
            had = {r.id for r in repo.read_ref(env, ref_base, cache=ws.cache).revisions}
            protected_inherited.update((rev.id, (ref, rev)) for rev in own if rev.id in had)
    if db_revisions:
        head_graph = _graph(head.revisions)
        landed |= head_graph.closure(db_revisions) | set(db_revisions)
    return EnvContext(
        env,
        head,
        base=base_snap,
        merged=merged,
        merge_base=merge_base,
        base_ref=base_ref,
        landed=frozenset(landed),
        protected_refs=tuple(protected),
        protected_only=protected_only,
        protected_inherited=protected_inherited,
        remote_ref=remote_ref,
        remote_only=remote_only,
        remote_inherited=remote_inherited,
    )


def _remote_landed(
    ws: Workspace, env: Environment, repo: GitRepo, base_ref: BaseRef, head_sha: str | None, landed: set[str],
) -> tuple[str | None, dict[str, Revision], dict[str, Revision]]:  # fmt: skip
    """Base's remote copy, its revisions base lacks, and those of them HEAD inherited.

    As ``fix`` counts them landed (``_shared_copy``). What HEAD inherited is
    what the merge base of HEAD and the remote copy has, as for base: a
    revision HEAD never had is not HEAD's to delete, and one the remote copy
    re-pointed after HEAD took it is not HEAD's re-point. Nothing is read
    when base is no local branch (``--base origin/main``) or is level with it.
    """
    remote = _shared_copy(repo, base_ref.ref)
    remote_sha = _try_resolve(repo, remote) if remote is not None else None
    if remote_sha is None or remote_sha == base_ref.sha:
        return None, {}, {}
    only: dict[str, Revision] = {}
    for rev in repo.read_ref(env, remote, cache=ws.cache).revisions:
        if rev.id not in landed:
            only.setdefault(rev.id, rev)  # an id declared twice: the first, as for protected refs
    mb_sha = repo.merge_base(remote_sha, head_sha) if only and head_sha else None
    if mb_sha is None:  # nothing new there, or no history shared with HEAD (a shallow clone)
        return remote, only, {}
    before = repo.read_ref(env, mb_sha, cache=ws.cache).revisions
    return remote, only, {rev.id: rev for rev in before if rev.id in only}


def _refuse_a_ci_base_outside_git(ws: Workspace) -> None:
    """A CI variable names the pull request's target branch, but there is no repository
    (an exported copy of the tree, a build context without ``.git``): checking the files
    alone would pass a pull request whose merge creates two heads."""
    candidates, explicit = ws.base_candidates(None)
    if not explicit:
        return
    ref, how = candidates[0]
    if how not in CI_BASE_VARIABLES:
        return  # [tool.revgraph] base: the project's choice for when there is a repository
    raise GitError(
        f"{how} names the base branch ({os.environ.get(how)}), but {ws.project.root} is not in a git "
        "repository: the merge with it cannot be predicted",
        hint="run revgraph in a git checkout of the repository (with the base branch fetched), "
        "not in an exported copy of its files",
    )


def _prefetch_git_reads(ws: Workspace, env: Environment, base: str | None) -> BaseRef | None:
    """Start the git reads ``build_context`` will make after reading the working tree;
    the base they were started for, which ``build_context`` then uses.

    Reading and parsing 20k working-tree files keeps one core busy for a
    second; meanwhile git lists base's and the merge base's trees and
    predicts the merge on the other. The arguments are exactly those the
    later calls use (``GitRepo.prefetch``); nothing is started when the
    working tree's revisions are already known, or when the base cannot be
    resolved (the normal path then reports why).
    """
    repo = ws.maybe_repo()
    if repo is None or repo.root is None or (env.name, ":worktree:") in ws._snapshots:
        return None
    try:
        head_sha = repo.head_sha()
        if head_sha is None:
            return None  # build_context decides whether a base is needed at all
        base_ref = ws.resolve_base(base)
        assert base_ref is not None
        folders = repo.folders(env)
        # Base and the merge base as differences from HEAD (a clean working
        # tree, build_context), and base in full with the merge base as a
        # difference from it (edits in the folders).
        repo.prefetch_tree_read(env, folders, base_ref.sha, head_sha, None)
        from revgraph.sources.merged import prefetch_merge

        prefetch_merge(repo, folders, head_sha, base_ref.sha)
        mb_sha = repo.merge_base(base_ref.sha, head_sha)
        if mb_sha:
            repo.prefetch_tree_read(env, folders, mb_sha, head_sha, base_ref.sha)
    except (RevgraphError, OSError):
        return None
    return base_ref


def _body_changed(ws: Workspace, ctx: EnvContext) -> frozenset[str]:
    """Landed revisions whose content differs from base (or, for those HEAD inherited
    from base's remote copy only, from that copy; for those only a protected ref has,
    from its copy) beyond layout, comments and docstrings."""
    if ctx.base is None:
        return frozenset()
    base_by_id = {r.id: r for r in ctx.base.revisions}
    changed = set()
    repo = ws.maybe_repo()
    held: set[tuple[str, str]] | None = None  # HEAD's (id, path) pairs, made when first asked
    for rev in ctx.head.revisions:
        old = base_by_id.get(rev.id)
        if old is None and rev.id in ctx.remote_inherited:
            old = ctx.remote_only[rev.id]
        if old is None and rev.id in ctx.protected_only:
            old = ctx.protected_only[rev.id][1]
        if old is None or rev.id not in ctx.landed or old.blob_id == rev.blob_id:
            continue
        if rev.path != old.path:
            # An id HEAD also declares at the landed path: that file is the landed
            # revision (``CheckContext.head_copy``), this one is new (RG103).
            if held is None:
                held = {(r.id, r.path) for r in ctx.head.revisions}
            if (rev.id, old.path) in held:
                continue
        from revgraph.parse import fingerprint  # only for a landed file that differs (see _with_syntax_problems)

        new_bytes = _revision_bytes(ws, ctx.head, rev)
        old_bytes = _read_blob(repo, old.blob_id) if repo is not None and old.blob_id else None
        if new_bytes is not None and old_bytes is not None and set(rev.down_revisions) != set(old.down_revisions):
            new_bytes = _with_parents_of(new_bytes, rev, old_bytes, old)  # the re-point is RG201's
        if new_bytes is None or old_bytes is None or fingerprint(new_bytes) != fingerprint(old_bytes):
            changed.add(rev.id)
    return frozenset(changed)


def _with_parents_of(data: bytes, rev, old_data: bytes, old) -> bytes:
    """``data`` with ``old``'s ``down_revision`` value and ``Revises:`` text put back.

    A landed revision whose only edit is its parents is RG201's finding; RG203
    is for what else changed in the file.
    """
    edits = []
    for key in ("down_revision", "revises_line"):
        if key in rev.spans and key in old.spans:
            ours, theirs = rev.spans[key], old.spans[key]
            edits.append((ours.start, ours.end, old_data[theirs.start : theirs.end]))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    return data


def _revision_bytes(ws: Workspace, snap: Snapshot, rev, root: Path | None = None) -> bytes | None:
    """The bytes ``rev`` was read from (``root``: ``ws.root``, when the caller has it at hand)."""
    if snap.source == "worktree":
        try:
            with open(os.path.join(root or ws.root, rev.path), "rb") as handle:  # no Path per file: 10k new files happen
                return handle.read()
        except OSError:
            return None
    repo = ws.maybe_repo()
    if repo is not None and rev.blob_id:
        return _read_blob(repo, rev.blob_id)
    return None


def _holds_parsed_content(snap: Snapshot, rev, data: bytes) -> bool:
    """Whether ``data``, read again for ``rev`` (``_revision_bytes``), is what ``rev`` was
    parsed from: what a cache entry keyed by ``rev.blob_id`` may then say of it. A
    working-tree file may have changed since; a blob cannot."""
    if not rev.blob_id:
        return False
    if snap.source != "worktree":
        return True
    from revgraph.blobid import blob_id, format_of_id

    return blob_id(data, format_of_id(rev.blob_id)) == rev.blob_id


def _read_lock(data: bytes):
    """A lock file's bytes parsed the one way ``check`` (RG401) and ``lock --check`` both read them."""
    from revgraph.lockfile import parse_lock

    return parse_lock(data.decode("utf-8", "replace"))


def _refuse_foreign_lock(ws: Workspace, env: Environment, path: Path, data: bytes | None) -> None:
    from revgraph.config import refuse_foreign_lock

    refuse_foreign_lock(ws.project, env, path, data, ws.root)


def _lock_heads(
    ws: Workspace, env: Environment, ref: str | None = None
) -> tuple[tuple[str, ...] | None, bool, str | None]:
    """The lock file's heads (None: no lock file), whether it holds conflict markers, its path.

    ``ref``: the lock file that commit-ish holds, which is the one its
    revisions were locked in (the working tree's belongs to another commit).
    """
    lock = env.lock_file
    if ref is not None:
        return _lock_heads_at(ws, lock, ref)
    if lock is None or not lock.is_file():
        return None, False, None
    try:
        data = lock.read_bytes()
    except OSError:
        return (), False, _rel(ws, lock)
    _refuse_foreign_lock(ws, env, lock, data)  # RG401 would offer `revgraph lock`, which refuses it
    parsed = _read_lock(data)
    return tuple(parsed.heads), parsed.conflicted, _rel(ws, lock)


def _in_the_way(path: Path | None) -> str | None:
    """What stands at ``path`` that is no regular file and that ``revgraph lock`` will not
    replace ("folder", "FIFO", ...); None when nothing does (a dangling link is
    written through, as any link)."""
    import errno
    import stat

    try:
        # Through a link, as the cache's key reads it: a link to a folder is a folder.
        mode = os.stat(path).st_mode if path is not None else None
    except OSError as exc:  # nothing or a dangling link (written through); a loop is in the way
        return "loop of symbolic links" if exc.errno == errno.ELOOP else None
    except ValueError:
        return None
    if mode is None or stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    return "FIFO" if stat.S_ISFIFO(mode) else "special file"


def lock_missing(ws: Workspace, env: Environment, base: BaseRef | None = None) -> str | None:
    """Why the project keeps a heads lock file that the working tree lacks; None when it has
    one, or never adopted one (RG401 then says nothing).

    Adopted means: a lock file setting names it; a ``.gitattributes`` line gives it
    ``merge=revgraph``; or base or HEAD holds it. Asked in that
    order, so a project with a setting or the driver line asks git nothing; the
    commits are read with the check's own ``cat-file`` process. The result cache keys
    the same facts (``resultcache._State``).
    """
    lock = env.lock_file
    if lock is None or lock.is_file():
        # Anything else there (a folder, a dangling link, a FIFO) is no lock file
        # either: `lock --check` calls it missing, and so does RG401.
        return None
    from revgraph.config import lock_file_setting

    setting = lock_file_setting(ws.project, env)
    if setting is not None:  # "<pyproject>: [tool.revgraph] lock_file", its path shown from the root
        pyproject = ws.project.settings_file or ws.project.root / "pyproject.toml"
        if setting.startswith(f"{pyproject}:"):
            setting = _rel(ws, Path(pyproject)) + setting[len(str(pyproject)):]
        return f"{setting} names it"
    rel = _under_root(ws.root, lock)
    if rel is None:
        return None
    from revgraph.lockfile import attribute_files, driven_by_attributes

    texts = {}
    for name in attribute_files(rel):
        path = ws.root / name
        if path.is_symlink():
            continue  # git reads no .gitattributes through a symbolic link (nor does the cache's key)
        try:
            texts[name] = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
    if texts and driven_by_attributes(texts, rel):
        return ".gitattributes gives it merge=revgraph"
    repo = ws.maybe_repo()
    if repo is None or repo.root is None:
        return None
    for label, sha in ((base.ref, base.sha) if base else (None, None), ("HEAD", repo.head_sha())):
        if sha and _lock_heads_at(ws, lock, sha)[2] is not None:
            return f"{label} has it"
    return None


def _lock_heads_at(ws: Workspace, lock: Path | None, ref: str) -> tuple[tuple[str, ...] | None, bool, str | None]:
    """``_lock_heads`` for the lock file as ``ref`` holds it (``:``: the index)."""
    repo = ws.maybe_repo()
    in_repo = _under_root(Path(repo.root), lock) if repo is not None and repo.root and lock is not None else None
    if in_repo is None:  # no repository, or a lock file git does not hold
        return None, False, None
    data = repo.show(ref, in_repo)
    if data is None:
        return None, False, None
    from revgraph.lockfile import is_lock_text

    if not is_lock_text(data):  # the path held another file then: that commit had no lock file
        return None, False, None
    parsed = _read_lock(data)
    return tuple(parsed.heads), parsed.conflicted, _rel(ws, lock)


def _rel(ws: Workspace, path: Path) -> str:
    return _under_root(ws.root, path) or path.as_posix()


def _under_root(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX, as git names it in a tree), None outside it.

    The name itself stays unresolved: a lock file that is a symlink leading out of the
    repository is still *this* path, which the writer then refuses for the right reason.
    """
    root = root.resolve()
    # realpath, not resolve(): a symlink loop on the way is a path here, not a RuntimeError.
    for candidate in (Path(os.path.realpath(path.parent)) / path.name, Path(os.path.realpath(path))):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def _read_database(ws: Workspace, db_url: str) -> tuple[tuple[str, ...], str | None]:
    """The revisions ``--db`` has applied, and a warning when they come from a table that
    is not ``alembic_version`` (``database.read_stamp``). One database's version table
    belongs to one environment: with several, each would take the others' rows for
    revisions it lacks (RG501) or treat them as landed, so the user names it with ``--env``."""
    if len(ws.environments) > 1:
        known = ", ".join(env.name for env in ws.environments)
        raise UsageError(f"--db reads one environment's database: name it with --env NAME (known: {known})")
    from revgraph.sources.database import DEFAULT_VERSION_TABLE, mask_url, read_stamp

    table, schema = _configured_version_table(ws.environments[0])
    stamp = read_stamp(db_url, version_table=table or DEFAULT_VERSION_TABLE, schema=schema, cwd=ws.options.cwd,
                       guess=table is None)  # fmt: skip
    if not stamp.guessed:
        return stamp.revisions, None
    return stamp.revisions, (
        f"{mask_url(db_url)} has no {table or DEFAULT_VERSION_TABLE} table: read the revisions stamped in "
        f"{stamp.table}, its one table shaped like it (env.py's version_table)"
    )


def _configured_version_table(env) -> tuple[str | None, str | None]:
    """The version table (and schema) the environment's env.py names as literals, if any."""
    from revgraph.sources.database import version_table_in

    if env.script_location is None:
        return None, None
    try:
        source = (env.script_location / "env.py").read_bytes()
    except OSError:
        return None, None
    return version_table_in(source)


def check(
    ws: Workspace,
    *,
    base: str | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    db_url: str | None = None,
    head_ref: str | None = None,
) -> Report:
    """Every rule on HEAD and on the predicted merge with base (PRODUCT §3).

    ``head_ref``: the rules on that commit-ish instead of the working tree, as
    they would run with it checked out (``graph --ref``): its revisions, its
    lock file, its merge with base.
    """
    from revgraph import resultcache

    # An unchanged tree answers from the whole-result cache (PRODUCT §8); its
    # key is the working tree's, so it cannot answer for another commit.
    cacheable = not db_url and head_ref is None
    probe = resultcache.probe(ws, base=base, select=select, ignore=ignore) if cacheable else None
    if probe is not None and probe.report is not None:
        return probe.report
    from revgraph.checks.context import CheckContext

    settings = ws.project.settings
    select = tuple(select) or tuple(settings.select)
    ignore = tuple(ignore) + tuple(settings.ignore)
    db_revisions: tuple[str, ...] | None = None
    db_note = None
    if db_url:
        db_revisions, db_note = _read_database(ws, db_url)
    contexts = {}
    check_contexts = []
    base_name = None
    for env in ws.environments:
        ctx = build_context(ws, env, base=base, db_revisions=db_revisions or (), head_ref=head_ref)
        contexts[env.name] = ctx
        if ctx.base_ref is not None:
            base_name = ctx.base_ref.ref
        lock_heads, lock_conflicted, lock_path = _lock_heads(ws, env, head_ref)
        missing = None
        if lock_heads is None and head_ref is None and env.lock_file is not None:
            missing = lock_missing(ws, env, ctx.base_ref)
            if missing is not None:
                lock_path = _rel(ws, env.lock_file)
        ctx = _with_touches(ws, ctx)
        head = _with_syntax_problems(ws, ctx)
        check_contexts.append(CheckContext(
            environment=env.name,
            head=head,
            base=ctx.base,
            merged=ctx.merged,
            merge_base=ctx.merge_base,
            base_ref=ctx.base_ref.ref if ctx.base_ref else None,
            landed=ctx.landed,
            protected_only=ctx.protected_only,
            protected_inherited=ctx.protected_inherited,
            remote_ref=ctx.remote_ref,
            remote_only=ctx.remote_only,
            remote_inherited=ctx.remote_inherited,
            body_changed=_body_changed(ws, ctx),
            lock_heads=lock_heads,
            lock_conflicted=lock_conflicted,
            lock_path=lock_path,
            lock_missing=missing,
            lock_in_the_way=_in_the_way(env.lock_file) if missing is not None else None,
            file_template=env.file_template,
            allow_heads=env.allow_heads,
            db_revisions=db_revisions,
            db_url=_mask_url(db_url) if db_url else None,
            moved_out=_moved_out(ws, env, head, ctx.base, ctx.merge_base),
            root_dir=ws.root_dir,
            start_dir=ws.start_dir,
            in_git=ws.maybe_repo() is not None,
            strategy=ws.project.settings.strategy,
            config_file=_rel(ws, env.config_file) if env.config_file is not None and not env.inline else None,
            config_section=env.section,
            **_merge_template(ws, env),
        ))
    # Every file is read: a cold run's parse cache is written by a forked copy
    # while the rules run here (the workspace's close waits for it), and git
    # checks meanwhile that nothing changed since the lookup (``Probe.store``).
    ws.cache.save_aside()
    if probe is None:
        report = _run_rules(ws, contexts, check_contexts, select, ignore, base_name)
        if db_note is not None:  # (a check with --db is never stored)
            report.extras["warnings"] = (*report.extras.get("warnings", ()), db_note)
        return report
    probe.everything_read(next((ctx.base_ref.sha for ctx in contexts.values()
                                if ctx.base_ref is not None and ctx.merged is not None), None))  # fmt: skip
    try:
        report = _run_rules(ws, contexts, check_contexts, select, ignore, base_name)
        probe.store(report)
    finally:
        probe.release()  # not stored, or an exception on the way: its git status answers no later lookup
    return report


def _run_rules(ws: Workspace, contexts: dict, check_contexts: list, select: tuple, ignore: tuple,
               base_name: str | None) -> Report:  # fmt: skip
    """``check``'s report: every rule on every environment's context, nothing read any more."""
    from revgraph.checks.registry import run_checks

    findings = []
    for check_ctx in check_contexts:
        findings.extend(run_checks(check_ctx, select=select, ignore=ignore))
    findings = _with_global_options(findings, ws.revgraph_command)
    extras: dict = {"contexts": contexts}
    base_ref = next((ctx.base_ref for ctx in contexts.values() if ctx.base_ref is not None), None)
    unused = ref_settings_problem(ws, base_ref.ref, base_ref.sha) if base_ref is not None else None
    warnings = [unused] if unused is not None else []
    same = _checked_out_target(ws, base_ref)
    if same is not None:
        warnings.append(same)
    other = _ci_names_another_target(base_ref)
    if other is not None:
        warnings.append(other)
    if warnings:
        # Said on every run (the commands print ``warnings``), so never answered from the cache.
        extras["warnings"] = tuple(warnings)
        extras["uncacheable"] = ("base's alembic settings cannot be used" if unused else
                                 "HEAD is the target branch" if same else "CI names another target")  # fmt: skip
    if any(check_ctx.moved_out for check_ctx in check_contexts):
        # Where a moved file went rests on files alembic does not read, which the
        # result cache's key leaves out: this report is not stored.
        extras["uncacheable"] = "a landed file moved out of alembic's view"
    return Report(
        findings=tuple(findings),
        base=base_name,
        environments=tuple(e.name for e in ws.environments),
        extras=extras,
    )


def _ci_names_another_target(base_ref: BaseRef | None) -> str | None:
    """A warning when ``[tool.revgraph] base`` chose the base and a CI variable names
    the pull request's target as another branch (PRODUCT §1 puts the setting first).

    A tester: with ``base = "origin/main"`` set as the docs suggest, a pull request
    into release/1.x was checked against main, "All good", while merging it into
    release/1.x left two heads; nothing in the log said which base was used.
    """
    if base_ref is None or base_ref.how != "[tool.revgraph] base":
        return None
    from revgraph.api import ci_target

    target = ci_target()
    if target is None:
        return None
    var, branch = target
    if base_ref.ref in (branch, f"origin/{branch}", f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"):
        return None
    return (
        f"checked against {base_ref.ref} ([tool.revgraph] base), but {var} says this pull request "
        f"targets {branch}: pass --base origin/{branch} to check the merge it will make"
    )


def _checked_out_target(ws: Workspace, base_ref: BaseRef | None) -> str | None:
    """A warning when a CI variable names the pull request's target and HEAD is that
    very commit: the checkout holds none of the pull request, so nothing of it was
    checked (GitHub's ``pull_request_target`` event checks out the base branch)."""
    if base_ref is None or base_ref.how not in CI_BASE_VARIABLES:
        return None
    repo = ws.maybe_repo()
    if repo is None or repo.head_sha() != base_ref.sha:
        return None
    return (
        f"HEAD is {base_ref.ref} itself, the pull request's target ({base_ref.how}): this checkout holds "
        "no commit of the pull request, so none of it was checked. (GitHub's pull_request_target event "
        "checks out the base branch: give actions/checkout `ref: ${{ github.event.pull_request.head.sha }}`.)"
    )


_REVGRAPH_COMMAND = re.compile(r"(?:^|(?<=; )|(?<=`))revgraph (?=[a-z])")


def _with_global_options(findings: list, command: str) -> list:
    """``findings`` whose commands (the fix line, and each `revgraph ...` a message
    quotes) start with ``command`` (``Workspace.revgraph_command``) instead of a bare
    ``revgraph``. The rules write bare commands: they know nothing of the command line."""
    if command == "revgraph":
        return findings
    from dataclasses import replace

    return [replace(f, message=spell_commands(f.message, command), fix=spell_commands(f.fix, command))
            for f in findings]  # fmt: skip


def spell_commands(text: str | None, command: str) -> str | None:
    """``text`` with each `revgraph ...` it quotes starting with ``command`` instead."""
    if not text or command == "revgraph":
        return text
    return _REVGRAPH_COMMAND.sub(lambda _: f"{command} ", text)


def _merge_template(ws: Workspace, env: Environment) -> dict:
    """What a CheckContext knows of the environment's script.py.mako, which ``fix --strategy
    merge`` renders from: where it belongs, named as revision paths are, and whether
    loading found it there (``Environment.has_template``, part of the result cache's key)."""
    template = env.template_path
    return {"template_path": _rel(ws, template) if template is not None else None, "has_template": env.has_template}


def ref_settings_problem(ws: Workspace, ref: str | None, sha: str | None = None) -> str | None:
    """A warning when ``ref`` (at commit ``sha``, resolved here when not given) is read with
    this working tree's alembic settings because its own cannot be used
    (``sources.refsettings``); None when it is read with its own."""
    repo = ws.maybe_repo()
    if ref is None or ref == INDEX_REF or repo is None or repo.settings_at is None:
        return None
    try:
        sha = sha or repo.resolve(ref)
    except RevgraphError:
        return None  # the command itself says what is wrong with the ref
    problems = dict.fromkeys(
        problem for env in ws.environments if (problem := repo.settings_at.problem(env, sha, ref)) is not None
    )  # fmt: skip
    if not problems:
        return None
    return (
        f"{ref}'s alembic settings cannot be used ({'; '.join(problems)}); revgraph reads {ref} with "
        f"this working tree's, so revisions {ref} keeps elsewhere may look added or removed here"
    )


def _moved_out(
    ws: Workspace, env: Environment, head: Snapshot, base: Snapshot | None, merge_base: Snapshot | None
) -> dict[str, str]:
    """Base's files missing from HEAD that the index still has inside the versions
    folders, out of alembic's view (a subfolder it does not walk, another name):
    landed path -> where it is now. RG202 then says "moved", not "deleted".

    Only the revisions RG202 looks at (``CheckContext.inherited``: the merge
    base has them too) are looked for; a branch merely behind base is missing
    base's newer ones, and the index is then not read at all. Only the index
    under the folders is looked at, matched by blob id, else by file name.
    The result cache's key covers only the files alembic reads, so a report
    that found a move is not stored (``check``).
    """
    if base is None or head.source != "worktree":
        return {}
    have = {rev.id for rev in head.revisions}
    missing = [rev for rev in base.revisions if rev.id not in have]
    if merge_base is not None and missing:
        had = {rev.id for rev in merge_base.revisions}
        missing = [rev for rev in missing if rev.id in had]
    if not missing:
        return {}
    repo = ws.maybe_repo()
    if repo is None or repo.root is None:
        return {}
    listed = {rev.path for rev in head.revisions} | {problem.path for problem in head.problems}
    try:
        entries = [entry for entry, stage in repo.index_entries(repo.folders(env, ws.root)) if stage == 0]
    except RevgraphError:
        return {}
    unread = [e for e in entries if e.path not in listed and os.path.lexists(os.path.join(ws.root, e.path))]
    by_blob = {e.oid: e.path for e in unread}
    by_name: dict[str, list[str]] = {}
    for e in unread:
        by_name.setdefault(e.path.rsplit("/", 1)[-1], []).append(e.path)
    moved: dict[str, str] = {}
    for rev in missing:
        found = by_blob.get(rev.blob_id or "")
        if found is None:
            named = by_name.get(rev.path.rsplit("/", 1)[-1], [])
            found = named[0] if len(named) == 1 else None
        if found is not None:
            moved[rev.path] = found
    return moved


def _with_touches(ws: Workspace, ctx: EnvContext) -> EnvContext:
    """HEAD and base with ``touches`` read for the revisions RG301 compares.

    The reader leaves ``touches`` empty: scanning every upgrade() of a 20k
    history would double the cold parse for the few files RG301 looks at, the
    new revisions of each side since the merge base.
    """
    if ctx.base is None or ctx.merge_base is None:
        return ctx
    from dataclasses import replace

    before = {r.id for r in ctx.merge_base.revisions}
    head_ids = {r.id for r in ctx.head.revisions}
    base_ids = {r.id for r in ctx.base.revisions}
    ours = [r for r in ctx.head.revisions if r.id not in before and r.id not in base_ids]
    theirs = [r for r in ctx.base.revisions if r.id not in before and r.id not in head_ids]
    if not ours or not theirs:
        return ctx  # RG301 needs a new revision on each side
    touches = _touches_of(ws, ctx.head, ours)
    # RG301 compares each side's items with ours only: a file of theirs that
    # names none of ours cannot share one, and is not scanned (1.6k files
    # at 20k revisions, ~80 us each) unless its touches are already known.
    needles = _touched_names(touches.values())
    touches.update(_touches_of(ws, ctx.base, theirs, naming=needles))

    def filled(snap: Snapshot) -> Snapshot:
        revisions = tuple(
            replace(r, touches=touches[id(r)]) if id(r) in touches else r for r in snap.revisions
        )
        return replace(snap, revisions=revisions)

    return replace(ctx, head=filled(ctx.head), base=filled(ctx.base))


def _touched_names(touches: Iterable[tuple[str, ...]]) -> frozenset[bytes] | None:
    """The names in the items of ``touches`` (``overlap.touched_items``), as ASCII bytes.

    Each is copied verbatim from a string literal of the file that touches it
    (or, for SQL in ``execute``, from literals joined across whitespace), so
    a file whose bytes contain none of them touches none of those items
    (``_may_touch``). None when a name has other characters than an
    identifier's: bytes could spell it otherwise, or joining could split it.
    """
    from revgraph.checks.overlap import touched_names

    names = set()
    for found in touches:
        for name in touched_names(found):
            if not _PLAIN_NAME.fullmatch(name):
                return None
            names.add(name.encode("ascii"))
    return frozenset(names)


def _may_touch(data: bytes, naming: frozenset[bytes] | None) -> bool:
    """Whether a file with ``data`` may touch an item named in ``naming`` (None: any)."""
    if naming is None or any(name in data for name in naming):
        return True
    start = data.find(b"execute")
    if start < 0:
        return False
    # RG301 reads execute("UPDATE us" "ers ...") as one SQL string: join
    # adjacent literals (drop closing quotes, whitespace, a prefix, opening
    # quotes) after the first execute, so that a name split across them is
    # found too.
    body = data[start:]
    joined, joins = _LITERAL_JOINS.subn(b"", body)
    if any(name in joined for name in naming):
        return True
    # That join reads a one-letter literal as a prefix ("U""PDATE": the U goes), so
    # it cannot vouch for such a file: let it through, RG301's reader joins exactly.
    return bool(joins) and _LETTER_LITERAL.search(body) is not None


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_$.\-]+")
# Between two literals Python joins: blanks, newlines (in brackets), a line continuation.
_LITERAL_JOINS = re.compile(rb"""["']+(?:\s|\\\r?\n)*[rRuU]?["']+""")
_LETTER_LITERAL = re.compile(rb"""["'][rRuU]["']""")  # what _LITERAL_JOINS may take for a prefix


def _touches_of(
    ws: Workspace, snap: Snapshot, revisions: list, naming: frozenset[bytes] | None = None
) -> dict[int, tuple[str, ...]]:
    """``id(revision)`` -> what its upgrade() touches, read from its bytes (one batch from git).

    With ``naming``, a file that ``_may_touch`` none of those names is left
    out (its touches are not needed: RG301 compares items by name).
    """
    found: dict[int, tuple[str, ...]] = {}
    cache = ws.cache
    names = _names_digest(naming)
    unknown = []
    for rev in revisions:
        known = cache.touches(rev.blob_id) if rev.blob_id else None
        if known is not None:
            found[id(rev)] = known
        elif names is None or not rev.blob_id or not cache.names_none(rev.blob_id, names):
            unknown.append(rev)  # (a file known to name none of them is not even read)
    repo = ws.maybe_repo()
    if snap.source == "worktree" or repo is None:
        datas = [(rev, _revision_bytes(ws, snap, rev)) for rev in unknown]
    else:
        with_blob = [rev for rev in unknown if rev.blob_id]
        datas = [(rev, blob.data) for rev, blob in zip(with_blob, repo.blobs([r.blob_id for r in with_blob]))]
    for rev, data in datas:
        if data is None:
            continue
        if _may_touch(data, naming):
            from revgraph.parse import upgrade_touches  # only now: see _with_syntax_problems

            found[id(rev)] = touches = upgrade_touches(data)
            if _holds_parsed_content(snap, rev, data):
                cache.put_touches(rev.blob_id, touches)
        elif names is not None and _holds_parsed_content(snap, rev, data):
            cache.put_names_none(rev.blob_id, names)
    return found


# Bump when ``_may_touch`` lets files through differently: the parse cache's
# "names-none" entries record its answers (``_names_digest`` is their key).
_MAY_TOUCH_VERSION = b"1"


def _names_digest(naming: frozenset[bytes] | None) -> str | None:
    """``naming`` (and ``_may_touch``'s version) as a short stable key; None: no names,
    every file may touch."""
    if naming is None:
        return None
    import hashlib

    return hashlib.sha1(b"\0".join([_MAY_TOUCH_VERSION, *sorted(naming)])).hexdigest()[:20]


def _with_syntax_problems(ws: Workspace, ctx: EnvContext) -> Snapshot:
    """HEAD, plus RG107 problems for syntax errors anywhere in a *new* revision.

    The cached fast reader only proves the header; alembic imports the whole
    file, so a broken upgrade() in a file this branch adds must be caught
    here, before it lands. Landed files were already imported somewhere.
    """
    from dataclasses import replace

    base_ids = {r.id for r in ctx.base.revisions} if ctx.base is not None else set()
    extra = []
    root = ws.root
    cache = ws.cache
    for rev in ctx.head.revisions:
        if rev.id in ctx.landed or rev.id in base_ids:
            continue
        if rev.blob_id and cache.syntax_fine(rev.blob_id):
            continue
        # Imported here: its patterns take ~30 ms to compile, and a check that finds
        # every file in the parse cache and nothing new (or known to compile) needs none of it.
        from revgraph.parse import syntax_problem

        data = _revision_bytes(ws, ctx.head, rev, root)
        problem = syntax_problem(data, rev.path, rev.blob_id) if data is not None else None
        if problem is not None:
            extra.append(problem)  # the revision stays in the graph: its children are not dangling
        elif data is not None and _holds_parsed_content(ctx.head, rev, data):
            cache.put_syntax_fine(rev.blob_id)
    if not extra:
        return ctx.head
    return replace(ctx.head, problems=ctx.head.problems + tuple(extra))


def _mask_url(url: str) -> str:
    """Hide a password in a database URL before it reaches any output."""
    from revgraph.sources.database import mask_url

    return mask_url(url)


def _heads_context(
    env: Environment, graph: RevisionGraph, *, landed, base: Snapshot | None, label: str, **facts
):  # fmt: skip
    """A CheckContext for RG101's lanes on ``graph`` (the labels base has landed, allow_heads);
    ``facts``: more of its fields (the merge template, for RG101's words)."""
    from revgraph.checks.context import CheckContext
    from revgraph.model import Snapshot

    return CheckContext(
        environment=env.name,
        head=Snapshot(env.name, label, tuple(graph)),
        base=base,
        base_ref=base.source if base is not None else None,
        landed=landed,
        allow_heads=env.allow_heads,
        **facts,
    )
