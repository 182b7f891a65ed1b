"""The use cases as a plain Python API, the way alembic's command.py serves its CLI.

The CLI, the merge driver, the GitHub Action and test helpers all call this.
Everything here returns data (snapshots, reports, plans); printing is the
caller's business. I/O happens through ``sources`` (reading) and
``fixes.apply`` / ``gitops`` (writing).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from revgraph.errors import BadRefError, ConfigError, GitError, RevgraphError, UnknownRefError, UsageError
from revgraph.sources import INDEX_REF
from revgraph.findings import Report

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment, Project
    from revgraph.findings import Finding
    from revgraph.fixes.plan import EditPlan
    from revgraph.fixes.renumber import Renumbered
    from revgraph.gitops.mergestate import Operation
    from revgraph.model import ParseProblem, Revision, RevisionGraph, Snapshot
    from revgraph.sources.gitref import GitRepo

# CI variables that name a pull request's target branch, in the order we trust them.
# revgraph.express.ENV_NAMES lists them too (a ticket is for one environment).
CI_BASE_VARIABLES = (
    "GITHUB_BASE_REF",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",  # GitLab
    "BITBUCKET_PR_DESTINATION_BRANCH",
    "SYSTEM_PULLREQUEST_TARGETBRANCH",  # Azure Pipelines
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH",
    "CHANGE_TARGET",  # Jenkins multibranch
)


def _graph(revisions) -> RevisionGraph:
    """A RevisionGraph; model is imported on first use (a warm cache hit never needs it)."""
    from revgraph.model import RevisionGraph

    return RevisionGraph(revisions)


@dataclass
class Options:
    """Global options shared by every command (PRODUCT §2)."""

    cwd: Path = field(default_factory=Path.cwd)
    config_file: Path | None = None
    section: str | None = None
    versions: Path | None = None
    env: str | None = None
    no_cache: bool = False
    quiet: bool = False  # -q: no warning about how a ref was read


@dataclass(frozen=True)
class BaseRef:
    ref: str  # as the user (or the defaults) named it; origin/HEAD by its branch (origin_head_branch)
    sha: str
    how: str  # "--base", "[tool.revgraph] base", "GITHUB_BASE_REF", "origin/HEAD", "default"


class Workspace:
    """One invocation's view of the project: config, repository, cache.

    Opened lazily: a command that never needs git never starts git.
    """

    def __init__(self, options: Options | None = None) -> None:
        from revgraph.config import load_project

        self.options = options or Options()
        cwd = self.options.cwd
        if not cwd.is_dir():
            raise UsageError(f"-C {cwd}: not a directory")
        self.project: Project = load_project(
            cwd,
            config_file=self.options.config_file,
            section=self.options.section,
            versions=self.options.versions,
            env=self.options.env,
        )
        self._repo: GitRepo | None = None
        self._repo_checked = False
        self._cache = None
        self._snapshots: dict[tuple[str, str], Snapshot] = {}

    # ------------------------------------------------------------ resources
    @property
    def environments(self) -> tuple[Environment, ...]:
        return self.project.environment(self.options.env)

    def maybe_repo(self) -> GitRepo | None:
        """The git repository holding the project, or None outside git."""
        if not self._repo_checked:
            self._repo_checked = True
            from revgraph.sources.gitref import GitRepo

            try:
                self._repo = GitRepo(self.project.root, pin=True)  # one state of the repository per command
                self._repo.quiet = self.options.quiet
                from revgraph.sources.refsettings import RefSettings

                RefSettings.attach(self._repo, self.options.cwd)
            except GitError:
                self._repo = None
        return self._repo

    def repo(self, why: str = "this command") -> GitRepo:
        repo = self.maybe_repo()
        if repo is None:
            raise GitError(f"{why} needs a git repository, and {self.project.root} is not in one")
        return repo

    @property
    def cache(self):
        """The parse cache: on disk, or in memory only with ``--no-cache``.

        Even in memory it is shared by every snapshot of the run, so a content
        present in HEAD, base and the merge base is parsed once.
        """
        if self._cache is None:
            from revgraph.sources.cache import ParseCache, cache_dir_for

            directory = None
            if not self.options.no_cache:
                repo = self.maybe_repo()
                try:
                    directory = cache_dir_for(repo if repo is not None else self.project.root)
                except OSError:
                    directory = None
            self._cache = ParseCache(directory)
        return self._cache

    @property
    def root(self) -> Path:
        """Where revision paths are relative to: the repo's worktree, else the project root."""
        repo = self.maybe_repo()
        if repo is not None and repo.root is not None:
            return Path(repo.root)
        return self.project.root

    @property
    def start_dir(self) -> str:
        """Where revgraph started (after -C), real and POSIX: its fix commands are run there."""
        return Path(os.path.realpath(self.options.cwd)).as_posix()

    @property
    def root_dir(self) -> str:
        """``root``, real and POSIX, as ``findings.command_path`` takes it with ``start_dir``."""
        return Path(os.path.realpath(self.root)).as_posix()

    @property
    def revgraph_command(self) -> str:
        """``revgraph`` with the global options that chose this project's environments,
        as a command offered to run where revgraph ran (after ``-C``) must say it:
        run from the top of a monorepo, ``revgraph fix`` without ``--config
        backend/alembic.ini`` finds no environment there. Long spellings: ``-n``
        is also fix's ``--dry-run``."""
        from revgraph.shellwords import shell_word

        options = self.options
        words = ["revgraph"]

        def from_start(path: Path) -> str:
            return shell_word(Path(os.path.relpath(path, options.cwd)).as_posix())

        if options.config_file is not None:
            words += ["--config", from_start(options.config_file)]
        if options.section:
            words += ["--name", shell_word(options.section)]
        if options.versions is not None:
            words += ["--versions", from_start(options.versions)]
        if options.env:
            words += ["--env", shell_word(options.env)]
        return " ".join(words)

    def command_path(self, path: str) -> str:
        """``path`` (relative to ``root``) as a command run in ``start_dir`` names it."""
        from revgraph.findings import command_path

        return command_path(path, self.root_dir, self.start_dir)

    def close(self) -> None:
        if self._cache is not None:
            try:
                self._cache.save()
            except Exception:  # a cache that cannot be saved is only slower next time
                pass
        if self._repo is not None:
            self._repo.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ snapshots
    def snapshot(self, env: Environment, ref: str | None = None) -> Snapshot:
        """``ref`` None: the working tree (or HEAD in a bare repository)."""
        key = (env.name, ref or ":worktree:")
        if key not in self._snapshots:
            self._snapshots[key] = self._read(env, ref)
        return self._snapshots[key]

    def _read(self, env: Environment, ref: str | None) -> Snapshot:
        if ref is None:
            repo = self.maybe_repo()
            if repo is not None and repo.root is None:  # bare: HEAD is all there is
                return repo.read_ref(env, "HEAD", cache=self.cache)
            from revgraph.sources.worktree import read_worktree

            snap = read_worktree(env, self.root, cache=self.cache)
            if repo is not None and (Path(repo.git_dir) / "info" / "sparse-checkout").is_file():
                snap = self._with_sparse_entries(env, repo, snap)
            return snap
        repo = self.repo(f"reading {ref!r}")
        if ref == INDEX_REF:
            if repo.root is None:
                raise UsageError("a bare repository has no index: name a ref instead of ':'")
            return repo.read_index(env, cache=self.cache, root=self.root, own_settings=True)
        try:
            return repo.read_ref(env, ref, cache=self.cache)
        except UnknownRefError:
            pass
        try:  # a tree, e.g. the one `git merge-tree --write-tree` printed (PRODUCT: a snapshot too)
            snap = repo.read_tree(env, ref, ref, cache=self.cache)
        except UnknownRefError:
            if repo.head_sha() is None:  # "did you fetch it?" would send the user astray
                raise GitError(
                    f"unknown ref {ref!r}: this repository has no commits yet",
                    hint="commit first, or leave out the ref to read the working tree",
                ) from None
            raise
        if not snap.revisions and not snap.problems:
            _refuse_a_tree_without_the_folders(repo, env, ref, repo.folders(env, self.root))
        return snap

    def _with_sparse_entries(self, env: Environment, repo: GitRepo, snap: Snapshot) -> Snapshot:
        """Add revisions a sparse checkout leaves off disk, as the index has them.

        Files outside the sparse cone carry git's skip-worktree bit: absent on
        disk yet not deleted (git status is clean). Reading only the disk would
        report every one of them as a deleted landed revision (RG202).
        """
        from dataclasses import replace

        folders = repo.folders(env, self.root)
        done = repo.git("ls-files", "-t", "-z", "--", *(f or "." for f in folders), ok=range(256))
        skipped = {
            item[2:].decode("utf-8", "surrogateescape")
            for item in done.stdout.split(b"\0")
            if item.startswith(b"S ")
        }
        if done.returncode != 0 or not skipped:
            return snap
        have = {r.path for r in snap.revisions} | {p.path for p in snap.problems}
        index = repo.read_index(env, cache=self.cache, root=self.root)
        extra_revs = tuple(r for r in index.revisions if r.path in skipped and r.path not in have)
        extra_problems = tuple(p for p in index.problems if p.path in skipped and p.path not in have)
        if not extra_revs and not extra_problems:
            return snap
        return replace(snap, revisions=snap.revisions + extra_revs, problems=snap.problems + extra_problems)

    # ----------------------------------------------------------------- base
    def base_candidates(self, base: str | None = None) -> tuple[list[tuple[str, str]], bool]:
        """The ``(ref, how chosen)`` pairs ``resolve_base`` tries, in order, and whether
        they were asked for (``--base``, settings, a CI variable) rather than defaults.

        Shared with the express lane (``resultcache``), which records their commits.
        """
        candidates: list[tuple[str, str]] = []
        if base is not None and not base.strip():
            # `--base "$BASE"` with BASE unset: not a request for the default base.
            raise UsageError("--base is empty: it names no ref")
        if base:
            candidates.append((base, "--base"))
        elif self.project.settings.base:
            candidates.append((self.project.settings.base, "[tool.revgraph] base"))
        else:
            for var in CI_BASE_VARIABLES:
                value = os.environ.get(var)
                if value:
                    candidates.append((f"origin/{value}", var))
                    break
        if candidates:
            return candidates, True
        # origin/HEAD by the branch it names (origin/main): that is the name every
        # message and fix command shows (`git merge origin/main`), the name read,
        # and part of the result cache's key (`git remote set-head` re-points it).
        origin_head = origin_head_branch(self.maybe_repo())
        # origin/main and origin/master last: a CI clone with every branch fetched
        # (GitHub's checkout with fetch-depth 0) has them but no origin/HEAD nor main.
        defaults = [(ref, "default") for ref in ("main", "master", "origin/main", "origin/master") if ref != origin_head]
        return [(origin_head, "origin/HEAD"), *defaults], False

    def resolve_base(self, base: str | None = None, *, required: bool = True) -> BaseRef | None:
        """The ref a branch will be merged into (PRODUCT §1, in that order)."""
        repo = self.maybe_repo() if not required else self.repo("comparing with a base branch")
        if repo is None:
            return None
        candidates, explicit = self.base_candidates(base)
        for ref, how in candidates:
            sha = _try_resolve(repo, ref)
            if sha:
                return _fresher_default(repo, BaseRef(ref, sha, how))
        if explicit:
            ref, how = candidates[0]
            why = repo.unknown_ref_error(ref, commit_required=True)
            if isinstance(why, BadRefError) or why.hint is None or _OBJECT_ID_TEXT.fullmatch(ref):
                raise why  # a range, a blob, an expression, an object id: no branch fetch brings it
            namesakes = _remote_namesakes(repo, ref)
            if namesakes:
                # A clone with every branch fetched (CI's) has origin/main, not main:
                # a fetch would only copy what is already here.
                shown = " or ".join(f"--base {name}" for name in namesakes)
                hint = f"the base ({how}) is not a branch here, but {', '.join(namesakes)} is: pass {shown}"
            elif not repo.has_remote("origin"):
                hint = f"the base ({how}) is not a branch here: {repo.branches_hint()}"
                raise UnknownRefError(ref, hint=hint, fetchable=False)
            else:
                hint = f"the base ({how}) is not in this clone; run: {_fetch_command(repo, ref)}"
            raise UnknownRefError(ref, hint=hint)
        if not required:
            return None
        tried = ", ".join(ref if how != "origin/HEAD" or ref == ORIGIN_HEAD_NAME else f"{ORIGIN_HEAD_NAME} ({ref})"
                          for ref, how in candidates)  # fmt: skip
        if repo.has_remote("origin"):
            # A plain `git fetch origin` brings nothing new to a single-branch clone
            # (`git clone --branch feature --depth 1`, CI's): the fetch names the branch.
            hint = (f"pass --base REF, set [tool.revgraph] base, or fetch the base branch: "
                    f"{_fetch_command(repo, 'origin/main')} (or master)")  # fmt: skip
        else:
            hint = f"pass --base REF or set [tool.revgraph] base ({repo.branches_hint()})"
        raise GitError(f"no base branch found (tried {tried})", hint=hint)


def _fresher_default(repo: GitRepo, found: BaseRef) -> BaseRef:
    """A default local base (``main``, no origin/HEAD to name the remote one) that
    is behind its remote copy gives way to the copy.

    The branch will be merged into ``origin/main``, not into a local ``main``
    that has not pulled it: predicting the merge with the stale copy missed a
    revision landed since (All good here, RG102 in CI). Only when the copy holds
    all of the local branch: a local ``main`` with commits of its own is what
    the user works with, and stays (its copy's revisions count as landed
    anyway, ``_remote_landed``). Shared with the result cache's key
    (``resultcache._git_state``), whose facts hold both commits.
    """
    if found.how != "default":
        return found
    remote = _shared_copy(repo, found.ref)  # None unless a local branch
    remote_sha = _try_resolve(repo, remote) if remote else None
    if remote is None or remote_sha is None or remote_sha == found.sha:
        return found
    if repo.merge_base(found.sha, remote_sha) != found.sha:
        return found  # diverged, or unrelated: the local branch has work of its own
    return BaseRef(remote, remote_sha, f"default ({found.ref} is behind {remote})")


# ------------------------------------------------------- repository helpers
_OBJECT_ID_TEXT = re.compile(r"[0-9a-fA-F]{7,64}")
ORIGIN_HEAD_NAME = "origin/HEAD"
ORIGIN_HEAD_REF = "refs/remotes/origin/HEAD"  # (resultcache: an express ticket watches its file)


def origin_head_branch(repo: GitRepo | None) -> str:
    """The remote branch ``origin/HEAD`` points to (``origin/main``), by the name users
    know it by; ``origin/HEAD`` itself when it is no symbolic ref to a remote branch.

    One file read (``GitRepo.symbolic_target``), no process.
    """
    target = repo.symbolic_target(ORIGIN_HEAD_REF) if repo is not None else None
    prefix = "refs/remotes/"
    if target is None or not target.startswith(prefix) or target == ORIGIN_HEAD_REF or len(target) == len(prefix):
        return ORIGIN_HEAD_NAME
    return target[len(prefix) :]


def _fetch_command(repo: GitRepo, ref: str) -> str:
    """The fetch that makes ``ref`` resolvable (a plain ``git fetch origin X``
    only sets FETCH_HEAD in a single-branch clone such as CI's)."""
    if ref.endswith("HEAD"):  # origin/HEAD -> origin/main: fetching "HEAD:..." would clobber it
        target = _git_output(repo, "rev-parse", "--abbrev-ref", ref)
        ref = target.strip() if target and target.strip() not in ("", "HEAD") else ref
    branch = ref.removeprefix("origin/")
    dest = f"refs/remotes/origin/{branch}" if ref.startswith("origin/") else f"refs/heads/{branch}"
    unshallow = "--unshallow " if repo.is_shallow() else ""
    return f"git fetch {unshallow}origin {branch}:{dest}"


def _remote_namesakes(repo: GitRepo, ref: str) -> list[str]:
    """Remote-tracking branches named like the branch ``ref`` (``main`` -> ``origin/main``)."""
    if ref.startswith(("refs/", "-")) or any(c in ref for c in ":^~@{}*?[\\ "):
        return []  # not a plain branch name (nor a glob list_refs would expand)
    try:
        # ``ref`` itself did not resolve: what matches it is a remote copy of that branch.
        return [name for name in repo.list_refs(ref, remote_copies=True) if name != ref]
    except RevgraphError:
        return []


def _refuse_a_tree_without_the_folders(repo: GitRepo, env: Environment, ref: str, folders) -> None:
    """A tree holding none of ``env``'s versions folders is most likely a folder's own
    tree (``git rev-parse HEAD:migrations``): say so rather than print "no revisions"."""
    tree = repo.resolve_tree(ref)
    for folder in folders:
        if not folder or repo.git("cat-file", "-e", f"{tree}:{folder}", ok=range(256)).returncode == 0:
            return
    shown = ", ".join(folders)
    raise BadRefError(
        ref,
        f"tree {ref!r} holds no {shown} (environment {env.name}): a folder's tree, not a whole project's?",
        hint="name a commit, or the root tree of one (git rev-parse COMMIT^{tree})",
    )


def _try_resolve(repo: GitRepo, ref: str) -> str | None:
    try:
        return repo.resolve(ref)
    except UnknownRefError:
        return None


def _read_blob(repo: GitRepo, oid: str) -> bytes | None:
    for blob in repo.blobs([oid]):
        return blob.data
    return None


def _git_output(repo: GitRepo, *args: str, check: bool = False) -> str | None:
    done = repo.git(*args, ok=(0,) if check else range(256))
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


# ------------------------------------------------------------------ heads
@dataclass(frozen=True)
class EnvHeads:
    environment: str
    snapshot: Snapshot
    graph: RevisionGraph

    def to_json(self) -> dict:
        graph = self.graph
        return {
            "name": self.environment,
            "heads": list(graph.heads),
            "bases": list(graph.bases),
            "revisions": len(graph),
            # What `heads -v` prints, for scripts: each head's line labels (inherited
            # ones too, as alembic shows them), file and message.
            "head_details": [
                {
                    "revision": head,
                    "branch_labels": list(graph.labels_of(head)),
                    "path": graph[head].path,
                    "message": graph[head].message,
                }
                for head in graph.heads
            ],
        }


def heads(ws: Workspace, ref: str | None = None) -> list[EnvHeads]:
    result = []
    for env in ws.environments:
        snap = ws.snapshot(env, ref)
        result.append(EnvHeads(env.name, snap, _graph(snap.revisions)))
    return result


# ------------------------------------------------------------------ check
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
    from revgraph.sources.worktree import blob_id

    return blob_id(data) == rev.blob_id


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
    if lock is None or os.path.lexists(lock):
        return None
    from revgraph.config import lock_file_setting

    setting = lock_file_setting(ws.project, env)
    if setting is not None:
        return f"{setting[0]} names it"
    rel = _under_root(ws.root, lock)
    if rel is None:
        return None
    from revgraph.lockfile import attribute_files, driven_by_attributes

    texts = {}
    for name in attribute_files(rel):
        try:
            texts[name] = (ws.root / name).read_bytes().decode("utf-8", "replace")
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
    for candidate in (path.parent.resolve() / path.name, path.resolve()):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def _read_database(ws: Workspace, db_url: str) -> tuple[str, ...]:
    """The revisions ``--db`` has applied. One database's ``alembic_version`` belongs to
    one environment: with several, each would take the others' rows for revisions
    it lacks (RG501) or treat them as landed, so the user names it with ``--env``."""
    if len(ws.environments) > 1:
        known = ", ".join(env.name for env in ws.environments)
        raise UsageError(f"--db reads one environment's database: name it with --env NAME (known: {known})")
    from revgraph.sources.database import read_stamped

    return read_stamped(db_url, cwd=ws.options.cwd)


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
    from revgraph.checks.registry import run_checks

    settings = ws.project.settings
    select = tuple(select) or tuple(settings.select)
    ignore = tuple(ignore) + tuple(settings.ignore)
    db_revisions: tuple[str, ...] | None = None
    if db_url:
        db_revisions = _read_database(ws, db_url)
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
            file_template=env.file_template,
            allow_heads=env.allow_heads,
            db_revisions=db_revisions,
            db_url=_mask_url(db_url) if db_url else None,
            moved_out=_moved_out(ws, env, head, ctx.base, ctx.merge_base),
            root_dir=ws.root_dir,
            start_dir=ws.start_dir,
            in_git=ws.maybe_repo() is not None,
            strategy=ws.project.settings.strategy,
            **_merge_template(ws, env),
        ))
    # Every file is read: a cold run's parse cache is written by a forked copy
    # while the rules run here (the workspace's close waits for it), and git
    # checks meanwhile that nothing changed since the lookup (``Probe.store``).
    ws.cache.save_aside()
    if probe is not None:
        probe.everything_read()
    findings = []
    for check_ctx in check_contexts:
        findings.extend(run_checks(check_ctx, select=select, ignore=ignore))
    findings = _with_global_options(findings, ws.revgraph_command)
    extras: dict = {"contexts": contexts}
    base_ref = next((ctx.base_ref for ctx in contexts.values() if ctx.base_ref is not None), None)
    unused = ref_settings_problem(ws, base_ref.ref, base_ref.sha) if base_ref is not None else None
    if unused is not None:
        # Said on every run (the commands print ``warnings``), so never answered from the cache.
        extras["warnings"] = (unused,)
        extras["uncacheable"] = "base's alembic settings cannot be used"
    if any(check_ctx.moved_out for check_ctx in check_contexts):
        # Where a moved file went rests on files alembic does not read, which the
        # result cache's key leaves out: this report is not stored.
        extras["uncacheable"] = "a landed file moved out of alembic's view"
    report = Report(
        findings=tuple(findings),
        base=base_name,
        environments=tuple(e.name for e in ws.environments),
        extras=extras,
    )
    if probe is not None:
        probe.store(report)
    return report


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
    unknown = []
    for rev in revisions:
        known = cache.touches(rev.blob_id) if rev.blob_id else None
        if known is None:
            unknown.append(rev)
        else:
            found[id(rev)] = known
    repo = ws.maybe_repo()
    if snap.source == "worktree" or repo is None:
        datas = [(rev, _revision_bytes(ws, snap, rev)) for rev in unknown]
    else:
        with_blob = [rev for rev in unknown if rev.blob_id]
        datas = [(rev, blob.data) for rev, blob in zip(with_blob, repo.blobs([r.blob_id for r in with_blob]))]
    for rev, data in datas:
        if data is not None and _may_touch(data, naming):
            from revgraph.parse import upgrade_touches  # only now: see _with_syntax_problems

            found[id(rev)] = touches = upgrade_touches(data)
            if _holds_parsed_content(snap, rev, data):
                cache.put_touches(rev.blob_id, touches)
    return found


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


# ------------------------------------------------------------------- diff
@dataclass(frozen=True)
class UnreadableFile:
    """A file of either snapshot that could not be read statically (RG107).

    ``sides``: ``"base"``, ``"head"`` or both, where the file holds this problem.
    ``revision``: the id the *other* snapshot reads from the same path, when
    this one has no revision of that id: the file was edited into something
    unreadable (or mended), so the id is neither added nor removed as far as
    anyone can tell, and the diff does not list it as either.
    """

    problem: "ParseProblem"
    sides: tuple[str, ...]
    revision: str | None = None

    def to_json(self) -> dict:
        p = self.problem
        return {"path": p.path, "line": p.line, "reason": p.reason, "in": list(self.sides), "revision": self.revision}


@dataclass(frozen=True)
class RevisionDiff:
    environment: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    edited: tuple[str, ...]
    repointed: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    # Ids the newer snapshot declares in more files than the older (RG103), with their paths.
    duplicated: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Files either snapshot could not read: without them the lists above would
    # read as the whole answer when a revision may hide in any of them.
    unreadable: tuple[UnreadableFile, ...] = ()

    @property
    def empty(self) -> bool:
        # An unreadable file is not "no revision changes": what it holds is unknown.
        return not (
            self.added or self.removed or self.edited or self.repointed or self.duplicated or self.unreadable
        )

    def to_json(self) -> dict:
        return {
            "environment": self.environment,
            "added": list(self.added),
            "removed": list(self.removed),
            "edited": list(self.edited),
            "repointed": [
                {"revision": r, "old": list(old), "new": list(new)} for r, old, new in self.repointed
            ],
            "duplicated": [{"revision": r, "paths": list(paths)} for r, paths in self.duplicated],
            "unreadable": [u.to_json() for u in self.unreadable],
        }


def diff_snapshots(old: Snapshot, new: Snapshot) -> RevisionDiff:
    """Revision-level diff: pure.

    An id the newer snapshot declares in more files than the older one is
    ``duplicated`` (both files listed), not "edited": which copy to compare
    with the old one would be a guess. An id whose file the other snapshot
    holds but cannot read is neither added nor removed: it goes with that
    file in ``unreadable``.
    """
    a = {r.id: r for r in old.revisions}
    b = {r.id: r for r in new.revisions}
    unreadable = _unreadable_files(old, new, a, b)
    unknown = {u.revision for u in unreadable}
    added = tuple(sorted(set(b) - set(a) - unknown))
    removed = tuple(sorted(set(a) - set(b) - unknown))
    old_paths, new_paths = _paths_by_id(old), _paths_by_id(new)
    duplicated = tuple(
        (rid, tuple(sorted(paths))) for rid, paths in sorted(new_paths.items())
        if len(paths) > 1 and len(paths) > len(old_paths.get(rid, ()))
    )  # fmt: skip
    twice = {rid for rid, _ in duplicated}
    repointed = []
    edited = []
    for rid in sorted(set(a) & set(b) - twice):
        if set(a[rid].down_revisions) != set(b[rid].down_revisions):  # a merge's parents are a set
            repointed.append((rid, a[rid].down_revisions, b[rid].down_revisions))
        elif a[rid].blob_id != b[rid].blob_id:
            edited.append(rid)
    return RevisionDiff(new.environment, added, removed, tuple(edited), tuple(repointed), duplicated, unreadable)


def _unreadable_files(
    old: Snapshot, new: Snapshot, a: Mapping[str, "Revision"], b: Mapping[str, "Revision"]
) -> tuple[UnreadableFile, ...]:
    """Each snapshot's unreadable files, one entry per problem (the same one on both sides once)."""
    sides: dict[tuple[str, int, str], tuple["ParseProblem", list[str]]] = {}
    for side, snap in (("base", old), ("head", new)):
        for problem in snap.problems:
            sides.setdefault((problem.path, problem.line, problem.reason), (problem, []))[1].append(side)
    # The id the other snapshot reads from that very path, when this one lacks it.
    by_path = {"base": {r.path: r.id for r in new.revisions if r.id not in a},
               "head": {r.path: r.id for r in old.revisions if r.id not in b}}  # fmt: skip
    out = []
    for (path, _, _), (problem, where) in sorted(sides.items()):
        revision = by_path[where[0]].get(path) if len(where) == 1 else None
        out.append(UnreadableFile(problem, tuple(where), revision))
    return tuple(out)


def _paths_by_id(snap: Snapshot) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    for rev in snap.revisions:
        paths.setdefault(rev.id, []).append(rev.path)
    return paths


def diff(ws: Workspace, old_ref: str, new_ref: str | None = None) -> list[RevisionDiff]:
    out = []
    for env in ws.environments:
        old = ws.snapshot(env, old_ref)
        new = ws.snapshot(env, new_ref)
        out.append(diff_snapshots(old, new))
    return out


def matching_refs(ws: Workspace, patterns: Sequence[str]) -> list[str]:
    """Expand ref globs (``origin/feature/*``) against the repository's refs."""
    repo = ws.repo("collisions")
    refs: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found = repo.list_refs(pattern)
            if not found:
                raise UsageError(f"no ref matches {pattern!r}")
            refs.extend(found)
        else:
            if not _try_resolve(repo, pattern):
                raise repo.unknown_ref_error(pattern, commit_required=True)
            refs.append(pattern)
    return list(dict.fromkeys(refs))


__all__ = [
    "Options",
    "Workspace",
    "BaseRef",
    "heads",
    "check",
    "diff",
    "diff_snapshots",
    "build_context",
    "matching_refs",
    "fix",
    "lock",
]


# -------------------------------------------------------------------- fix
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


def _current_branch(repo: GitRepo) -> str | None:
    out = _git_output(repo, "symbolic-ref", "--short", "-q", "HEAD")
    return out.strip() or None if out is not None else None


def _names_branch(repo: GitRepo, ref: str, branch: str) -> bool:
    """``ref`` is ``branch`` or its remote copy; ``origin/HEAD`` counts as what it points to."""
    names = {ref}
    target = _git_output(repo, "rev-parse", "--abbrev-ref", ref)
    if target and target.strip():
        names.add(target.strip())  # origin/HEAD -> origin/main
    return any(name == branch or name.endswith("/" + branch) for name in names)


def _shared_copy(repo: GitRepo, ref: str) -> str | None:
    """The remote copy of a local branch ``ref`` (its upstream, else ``origin/<branch>``), or None.

    Any spelling of the branch (``main``, ``heads/main``, ``refs/heads/main``) is
    the same branch: git says which ref the name resolves to.
    """
    if not ref or ref.startswith("-"):
        return None
    return repo.while_pinned(f"shared copy of {ref}", lambda: _find_shared_copy(repo, ref))


def _find_shared_copy(repo: GitRepo, ref: str) -> str | None:
    full = (_git_output(repo, "rev-parse", "--symbolic-full-name", ref) or "").strip()
    if not full.startswith("refs/heads/"):
        return None  # not a local branch (a remote one, a tag, a sha): nothing to add
    branch = full[len("refs/heads/") :]
    upstream = branch_upstream(repo, branch)
    for candidate in ((upstream[1] if upstream else ""), f"origin/{branch}"):
        if candidate and candidate not in (ref, branch, full) and _try_resolve(repo, candidate):
            return candidate
    return None


def branch_upstream(repo: GitRepo, branch: str) -> tuple[str, str] | None:
    """Local ``branch``'s configured upstream, fetched or not: ``(full ref, short name)``.

    None without one; ``("", "")`` when git could not say. Asked once per
    command: the remote copy's pick and the express ticket's watch both need it.
    """
    return repo.while_pinned(f"upstream of {branch}", lambda: _read_upstream(repo, branch))


def _read_upstream(repo: GitRepo, branch: str) -> tuple[str, str] | None:
    ref = f"refs/heads/{branch}"
    done = repo.git("for-each-ref", "--format=%(refname)%00%(upstream)%00%(upstream:short)", ref, ok=range(256))
    if done.returncode != 0:
        return ("", "")
    for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
        name, full, short = (line.split("\0") + ["", ""])[:3]
        if name == ref and full:  # the pattern also matches refs below it (never the branch too)
            return full, short
    return None


def local_branch_name(ref: str) -> str:
    """``main`` for ``refs/heads/main`` and ``heads/main`` (the text alone; no process)."""
    for prefix in ("refs/heads/", "heads/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


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
            if rebase is not None and rebase.branch and _names_branch(repo, base_ref.ref, rebase.branch):
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
            elif rebase is not None and rebase.branch and _names_branch(repo, base_ref.ref, rebase.branch):
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
    from revgraph.fixes.apply import apply_plan
    from revgraph.errors import FixRefused
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
    if db_url:
        db_revisions = _read_database(ws, db_url)

    edits: list = []
    moves: list = []
    renumbered: list[Renumbered] = []
    notes: list[str] = []
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
    if operation is not None and repo is not None and not dry_run:
        unresolved = tuple(repo.conflicted_paths())
    elif written and repo is not None and not dry_run:
        unmerged = set(repo.conflicted_paths())
        unresolved = tuple(path for path in written if path in unmerged)
    return FixOutcome(
        plan, written, staged, operation, dry_run, " + ".join(dict.fromkeys(landed_sources)), remaining,
        tuple(env.name for env in ws.environments), unresolved, renamed, ws.command_path,
        tuple(created_folders), staged_yours=yours if staged else (), locks_held=tuple(held),
    )


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
            from revgraph.parse import parse_revision
            from revgraph.model import Revision

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


# ------------------------------------------------------------------- lock
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


def lock(ws: Workspace, *, check_only: bool = False) -> list[LockStatus]:
    """Write (or with ``check_only`` verify) each environment's heads lock file."""
    from revgraph.checks.consistency import lock_disagreement
    from revgraph.fixes.apply import apply_plan, existing_folder_above
    from revgraph.fixes.plan import EditPlan, FileEdit
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
        if not current and check_only:
            # "run `revgraph lock`" would send the user to a refusal: say why first.
            _require_versions_folders(ws, [env], f"{rel} cannot be brought up to date")
        competing: tuple[str, ...] = ()
        joining: str | None = None
        if len(graph.heads) > 1:
            from revgraph.checks.graph import merge_groups

            ctx = _heads_context(env, graph, landed=frozenset(), base=None, label="working tree",
                                 strategy=ws.project.settings.strategy, **_merge_template(ws, env))  # fmt: skip
            competing = tuple(h for group in merge_groups(ctx, graph).groups for h in group)
            if competing and operation is not None:
                command = ctx.fix_command()
                if ctx.has_template and _separate_histories(graph, competing):
                    from revgraph.checks.graph import MERGE_FIX

                    command = MERGE_FIX  # no rebase re-points a base: a merge revision joins them
                joining = spell_commands(command, ws.revgraph_command)
        if not current and not check_only:
            if joining is not None:
                # Mid-operation, a lock recording competing heads "resolves" its conflict:
                # `git add` and `--continue` then commit the fork (check's RG401 says fix).
                from revgraph.errors import FixRefused

                raise FixRefused(
                    f"{rel} not written: heads {', '.join(competing)} compete on one line, and during "
                    f"the {operation.kind} a lock file recording them would let it commit the fork",
                    hint=f"run `{joining}`: it joins them and rewrites {rel}, then {operation.continue_command}",
                )
            # A lock file in a folder not made yet gets it: the setting named where it goes.
            below = existing_folder_above(ws.root, rel) if old is None else None
            edits.append(FileEdit(rel, old, expected.encode(), folders_below=below))
            allowed.append(ws.root / below if below is not None else lock_path.parent)
        out.append(LockStatus(
            env.name, rel, current, not current and not check_only, expected, old is not None,
            conflicted=found is not None and found.conflicted, competing=competing,
            operation=operation.kind if joining is not None else None, joining=joining,
        ))  # fmt: skip
    if edits:
        apply_plan(EditPlan("lock", tuple(edits), (), ()), ws.root, allowed_dirs=allowed)
    return out


def _separate_histories(graph: RevisionGraph, heads: Sequence[str]) -> bool:
    """Whether some of ``heads`` share no first revision (``down_revision = None``): two
    histories side by side, such as two branches' first migrations."""
    roots = [{rid for rid in (graph.ancestors(head) | {head}) if not graph[rid].down_revisions} for head in heads]
    return any(a.isdisjoint(b) for i, a in enumerate(roots) for b in roots[i + 1 :])


def _require_versions_folders(ws: Workspace, environments: Sequence[Environment], outcome: str) -> None:
    """``config.require_versions_folders``, its message ending with what it means for ``lock``."""
    from revgraph.config import require_versions_folders

    try:
        require_versions_folders(environments, ws.project.root)
    except ConfigError as exc:
        raise ConfigError(f"{exc.message}; {outcome}", hint=exc.hint) from None


def _operation_in_progress(ws: Workspace):
    """The git operation stopped in the working tree (``gitops.mergestate.Operation``), or None."""
    repo = ws.maybe_repo()
    if repo is None or repo.root is None:
        return None
    from revgraph.gitops.mergestate import detect_operation

    return detect_operation(Path(repo.git_dir), repo.head_sha())


# ------------------------------------------------------------------ graph
def _commit_of(ws: Workspace, ref: str | None) -> str | None:
    """The commit ``ref`` (HEAD when None) names, or None."""
    repo = ws.maybe_repo()
    if repo is None:
        return None
    return repo.head_sha() if ref is None else _try_resolve(repo, ref)


def graph_view(
    ws: Workspace,
    env: Environment,
    *,
    ref: str | None = None,
    base: str | None = None,
    findings: Sequence = (),
    ctx: EnvContext | None = None,
):
    """A GraphView with every mark of PRODUCT §2 `graph`.

    With a base, the picture is the *predicted merge*: what the branch adds
    (new), what has landed, the heads the merge would leave (conflict), and
    the rebase that would fix it as proposed edges.
    """
    from revgraph.render.graphview import build_view

    if ctx is None:
        repo = ws.maybe_repo()
        # --ref alone draws that ref; the merge into base is drawn when asked
        # (--base), or by default for the working tree (PRODUCT §2 graph).
        has_base = repo is not None and repo.head_sha() is not None and (
            base is not None or (ref is None and ws.resolve_base(None, required=False) is not None)
        )
        if has_base:
            ctx = build_context(ws, env, base=base, head_ref=ref)
        else:
            snap = ws.snapshot(env, ref)
            return build_view(_graph(snap.revisions), title=f"{env.name} @ {snap.source}")
    shown = ctx.merged if ctx.merged is not None else ctx.head
    graph = _graph(shown.revisions)
    base_ids = {r.id for r in ctx.base.revisions} if ctx.base is not None else set()
    new = {rid for rid in graph.revisions if rid not in base_ids and rid not in ctx.landed}
    landed = set(graph.revisions) - new
    codes = {f.code: set() for f in findings}
    conflict: set[str] = set()
    for f in findings:
        if f.environment != env.name:
            continue
        codes.setdefault(f.code, set()).update(f.revisions)
        if f.severity.value == "error":
            conflict.update(f.revisions)
    proposed = _proposed_edges(ws, ctx, graph, landed) if len(graph.heads) > 1 else ()
    title = f"{env.name}: {shown.source}"
    if ctx.base_ref is not None:
        title = f"{env.name}: {ref or 'HEAD'} merged into {ctx.base_ref.ref}"
        if _commit_of(ws, ref) == ctx.base_ref.sha:  # on main itself: nothing is merged
            title = f"{env.name}: {ref or 'HEAD'} at {ctx.base_ref.ref}"
    return build_view(
        graph,
        new=new,
        landed=landed,
        conflict=conflict,
        edited=codes.get("RG203", set()),
        repointed=codes.get("RG201", set()),
        proposed=proposed,
        title=title,
        landed_files={(r.id, r.path) for r in ctx.base.revisions} if ctx.base is not None else None,
    )


def _proposed_edges(ws: Workspace, ctx: EnvContext, graph: RevisionGraph, landed: set[str]):
    """The edges the default rebase would create, or none when it would refuse."""
    from revgraph.errors import RevgraphError
    from revgraph.fixes.rebase import plan_rebase

    sources = {}
    by_id = {r.id: r for r in (ctx.merged.revisions if ctx.merged else ctx.head.revisions)}
    for rid in graph.revisions:
        if rid in landed:
            continue
        data = _revision_bytes(ws, ctx.head, by_id[rid]) if any(r.id == rid for r in ctx.head.revisions) else None
        if data is None and by_id[rid].blob_id and ws.maybe_repo() is not None:
            data = _read_blob(ws.maybe_repo(), by_id[rid].blob_id)
        if data is not None:
            sources[by_id[rid].path] = data
    try:
        plan = plan_rebase(graph, landed=frozenset(landed), sources=sources)
    except RevgraphError:
        return ()
    return tuple((parent, move.revision) for move in plan.moves for parent in move.new_down)
