"""The use cases as a plain Python API, the way alembic's command.py serves its CLI.

The CLI, the merge driver, the GitHub Action and test helpers all call this.
Everything here returns data (snapshots, reports, plans); printing is the
caller's business. I/O happens through ``sources`` (reading) and
``fixes.apply`` / ``gitops`` (writing).

This module holds what every use case shares: the workspace (a project, its
repository, its caches and snapshots), how a base is chosen, repository
helpers, and ``heads``. Each other use case has a module of its own,
reached through here as ``revgraph.api.<name>``: ``checking`` (``check`` and
the contexts the rules read), ``diffing``, ``fixing``, ``locking``,
``graphing``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from revgraph.errors import BadRefError, ConfigError, GitError, RevgraphError, UnknownRefError, UsageError
from revgraph.sources import INDEX_REF

if TYPE_CHECKING:  # pragma: no cover
    # Re-exported (``X as X``): found at run time by ``__getattr__`` through _ELSEWHERE.
    from revgraph.api.checking import EnvContext as EnvContext
    from revgraph.api.checking import build_context as build_context
    from revgraph.api.checking import check as check
    from revgraph.api.checking import lock_missing as lock_missing
    from revgraph.api.checking import ref_settings_problem as ref_settings_problem
    from revgraph.api.checking import spell_commands as spell_commands
    from revgraph.api.diffing import RevisionDiff as RevisionDiff
    from revgraph.api.diffing import UnreadableFile as UnreadableFile
    from revgraph.api.diffing import diff as diff
    from revgraph.api.diffing import diff_snapshots as diff_snapshots
    from revgraph.api.diffing import landing_snapshot as landing_snapshot
    from revgraph.api.diffing import matching_refs as matching_refs
    from revgraph.api.fixing import FixOutcome as FixOutcome
    from revgraph.api.fixing import RemainingHeads as RemainingHeads
    from revgraph.api.fixing import fix as fix
    from revgraph.api.graphing import graph_view as graph_view
    from revgraph.api.locking import LockStatus as LockStatus
    from revgraph.api.locking import lock as lock
    from revgraph.config import Environment, Project
    from revgraph.model import RevisionGraph, Snapshot
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


# GitHub's merge queue checks out refs/heads/gh-readonly-queue/<base>/pr-<n>-<sha>, and
# sets no GITHUB_BASE_REF there (a merge_group event): the base is in the ref's name.
_MERGE_QUEUE_REF = re.compile(r"(?:refs/heads/)?gh-readonly-queue/(.+)/pr-\d+-[0-9a-f]{40,64}")


def merge_queue_base(ref: str) -> str | None:
    """The branch a GitHub merge queue ref (``GITHUB_REF`` of a merge_group run) lands on."""
    found = _MERGE_QUEUE_REF.fullmatch(ref)
    return found.group(1) if found else None


def ci_target() -> tuple[str, str] | None:
    """``(how it was named, branch)`` of the pull request's target a CI variable names:
    the first of ``CI_BASE_VARIABLES`` set, else a merge queue's ``GITHUB_REF``."""
    for var in CI_BASE_VARIABLES:
        value = os.environ.get(var)
        if value:
            # Azure Repos spells the branch as a ref (refs/heads/main).
            return var, value[len("refs/heads/"):] if value.startswith("refs/heads/") else value
    queued = merge_queue_base(os.environ.get("GITHUB_REF", ""))
    return ("GITHUB_REF (merge queue)", queued) if queued is not None else None


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
    config_from_env: bool = False  # config_file is $ALEMBIC_CONFIG's, not -c's (for error hints)


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
        try:
            self.project: Project = load_project(
                cwd,
                config_file=self.options.config_file,
                section=self.options.section,
                versions=self.options.versions,
                env=self.options.env,
            )
        except ConfigError as exc:
            from revgraph.api.confighints import explain

            raise explain(exc, self.options) from None
        self._repo: GitRepo | None = None
        self._repo_checked = False
        self._repo_error: GitError | None = None  # git could not read the repository the project is in
        self._cache = None
        self._snapshots: dict[tuple[str, str], Snapshot] = {}

    # ------------------------------------------------------------ resources
    @property
    def environments(self) -> tuple[Environment, ...]:
        return self.project.environment(self.options.env)

    def maybe_repo(self) -> GitRepo | None:
        """The git repository holding the project, or None outside git.

        Raises when the project is in a repository that git cannot read (a
        checkout owned by another user, git missing beside a ``.git``): going
        on as if outside git would skip every comparison with base, and a
        check would pass that should fail.
        """
        if not self._repo_checked:
            self._repo_checked = True
            from revgraph.errors import NotInRepository
            from revgraph.sources.gitref import GitRepo

            try:
                self._repo = GitRepo(self.project.root, pin=True)  # one state of the repository per command
                self._repo.quiet = self.options.quiet
                from revgraph.sources.refsettings import RefSettings

                RefSettings.attach(self._repo, self.options.cwd)
            except NotInRepository:
                self._repo = None
            except GitError as exc:
                self._repo = None
                from revgraph.express import guess_common_dir

                if guess_common_dir(str(self.project.root)) is not None:  # a .git above: git was wanted
                    self._repo_error = exc
        if self._repo_error is not None:
            raise self._repo_error
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
            repo = self.maybe_repo()
            if not self.options.no_cache:
                from revgraph.express import object_replacements

                try:
                    if repo is None or not object_replacements(str(repo.common_dir)):
                        # (a replace ref reads a blob id as other content: no parse is kept by it)
                        directory = cache_dir_for(repo if repo is not None else self.project.root)
                except OSError:
                    directory = None
            object_format = repo.object_format if repo is not None else "sha1"
            self._cache = ParseCache(directory, object_format=object_format)
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
        return self.revgraph_command_for(self.options.env)

    def revgraph_command_for(self, env: str | None) -> str:
        """``revgraph_command`` choosing environment ``env`` instead (another of the
        project's environments; None: the options' own choice of none).

        For another environment, ``--name`` and ``--versions`` go: each makes a
        project of one environment, which is not that one. ``--config`` stays: it
        names the file whose environments these are.
        """
        from revgraph.shellwords import shell_word

        options = self.options
        words = ["revgraph"]
        same = env == options.env

        def from_start(path: Path) -> str:
            return shell_word(Path(os.path.relpath(path, options.cwd)).as_posix())

        if options.config_file is not None:
            words += ["--config", from_start(options.config_file)]
        if options.section and same:
            words += ["--name", shell_word(options.section)]
        if options.versions is not None and same:
            words += ["--versions", from_start(options.versions)]
        if env:
            words += ["--env", shell_word(env)]
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
            target = ci_target()
            if target is not None:
                how, branch = target
                candidates.append((f"origin/{branch}", how))
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
            # Files alembic would load whose identifiers could not be read statically
            # (the warnings on stderr): with any, the heads above may be incomplete.
            "unreadable": [
                {"path": problem.path, "line": problem.line, "reason": problem.reason}
                for problem in self.snapshot.problems
            ],
        }


def heads(ws: Workspace, ref: str | None = None) -> list[EnvHeads]:
    result = []
    for env in ws.environments:
        snap = ws.snapshot(env, ref)
        result.append(EnvHeads(env.name, snap, _graph(snap.revisions)))
    return result


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


def _is_local_branch(repo: GitRepo, ref: str) -> bool:
    """Whether ``ref`` names a local branch (``main``, ``heads/main``), not a remote copy, tag or sha."""
    return bool(ref) and not ref.startswith("-") and _local_branch_name(repo, ref) is not None


def _local_branch_name(repo: GitRepo, ref: str) -> str | None:
    """The local branch ``ref`` names (any spelling: git says which ref it resolves to), or None."""
    full = (_git_output(repo, "rev-parse", "--symbolic-full-name", ref) or "").strip()
    return full[len("refs/heads/") :] if full.startswith("refs/heads/") else None


def _shared_copy(repo: GitRepo, ref: str) -> str | None:
    """The remote copy of a local branch ``ref`` (its upstream, else ``origin/<branch>``), or None.

    Any spelling of the branch (``main``, ``heads/main``, ``refs/heads/main``) is
    the same branch: git says which ref the name resolves to.
    """
    if not ref or ref.startswith("-"):
        return None
    return repo.while_pinned(f"shared copy of {ref}", lambda: _find_shared_copy(repo, ref))


def _find_shared_copy(repo: GitRepo, ref: str) -> str | None:
    branch = _local_branch_name(repo, ref)
    if branch is None:
        return None  # not a local branch (a remote one, a tag, a sha): nothing to add
    upstream = branch_upstream(repo, branch)
    for candidate in ((upstream[1] if upstream else ""), f"origin/{branch}"):
        if candidate and candidate not in (ref, branch, f"refs/heads/{branch}") and _try_resolve(repo, candidate):
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


def _operation_in_progress(ws: Workspace):
    """The git operation stopped in the working tree (``gitops.mergestate.Operation``), or None."""
    repo = ws.maybe_repo()
    if repo is None or repo.root is None:
        return None
    from revgraph.gitops.mergestate import detect_operation

    return detect_operation(Path(repo.git_dir), repo.head_sha())


# ------------------------------------------------------------ the use cases
# Each lives in a module of its own (checking, diffing, fixing, locking,
# graphing), imported on first use: ``revgraph.api.check`` costs a check no
# import of fix's 700 lines, and callers keep one import path.
_ELSEWHERE = {
    "EnvContext": "checking",
    "build_context": "checking",
    "check": "checking",
    "lock_missing": "checking",
    "ref_settings_problem": "checking",
    "spell_commands": "checking",
    "RevisionDiff": "diffing",
    "UnreadableFile": "diffing",
    "diff": "diffing",
    "diff_snapshots": "diffing",
    "matching_refs": "diffing",
    "landing_snapshot": "diffing",
    "FixOutcome": "fixing",
    "RemainingHeads": "fixing",
    "fix": "fixing",
    "LockStatus": "locking",
    "lock": "locking",
    "graph_view": "graphing",
}


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


def __getattr__(name: str):
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'revgraph.api' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"revgraph.api.{module}"), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ELSEWHERE})
