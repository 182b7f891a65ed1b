"""The second cache level: a whole ``check`` result, keyed by what it was computed from.

An unchanged ``revgraph check`` should cost a few git calls, a stat of the
versions folders and one small file read, never a parse or a graph
(PRODUCT §8). ``probe`` computes a key from cheap facts and looks it up in
``sources.cache.ResultCache``; on a miss, ``Probe.store`` saves the report the
caller computed, after checking that it really depends on those facts only.

The key holds:

* revgraph's version and a fingerprint of its own source files (size and
  mtime of each module), so a changed parser or rule never serves an old
  answer, even in an editable install;
* the project root, the directory revgraph started in (fix commands name
  files from there), the settings and every environment's definition, the
  select/ignore codes and the ``--base`` argument as given;
* the working tree, in two keys that lead to one result. The *stat key*:
  HEAD's folder trees plus ``git status`` of the folders with each listed
  file's identity (or, without a work tree, for recursive or sourceless
  layouts, one ``lstat`` per file); no file is read. The *content key*: every
  file alembic could list with its git blob id (from the parse cache's stat
  cache, else hashed here), so ``touch``, a branch switch and back, or an
  edit undone all find their result again. A file modified in the last two
  seconds never vouches for its content by its stat alone;
* git: the resolved base (its name, for ``origin/HEAD`` the branch it points
  to, and how it was chosen), the tree id of each
  versions folder in base, in the merge base, in each protected ref and, when
  base is a local branch, in its remote copy and that copy's merge base with
  HEAD (``git cat-file --batch-check`` of ``<commit>:<folder>``), and whether
  HEAD has a commit; in a bare repository, HEAD's folder trees stand for the
  working tree;
* each environment's lock file content.

Folder tree ids are used, not commit ids, so that commits touching other
files keep the result. That is exact when the predicted merge of the versions
folders depends on the folders alone. ``store`` verifies it for the result at
hand: every revision file lies inside its environment's folders (no symlink
into the rest of the tree) and the predicted merge equals the three-way union
of the folders by path (no file that ``.gitignore`` keeps out of the merge,
no textual merge of one file); any other result is simply not stored. Renames
across the folder boundary depend on files outside the folders, which no
folder tree shows: a stored result answers only for the pairs of commits it
was proven for (``_still_proven``). ``--no-cache``, ``--db`` (a database
changes outside git) and sparse checkouts (revisions from the index) bypass
this cache.

``fast_check`` answers ``revgraph ... check ...`` from this cache before typer
parses anything (typer imports pydantic; ``revgraph.entry`` calls it first), and
caches the rendered report too, so a hit imports neither rich nor networkx,
GitPython, alembic or pydantic. The full CLI keeps its own rendering of a
result the cache holds (``remember_rendered``), so even the first hit after a
change prints stored text.

Storage, atomicity and self-healing are ``ResultCache``'s: one file per key,
written by rename, a corrupt or foreign file is a miss and is overwritten.
Two concurrent runs either compute the same value or read a complete file.
The race of an edit *during* a computation is closed by computing the key
again before storing: a key that moved means nothing is stored.
"""

from __future__ import annotations

import os
import stat as stat_module

# typing, collections.abc and weakref cost ~10 ms to import in a bare
# interpreter, a tenth of a warm check: annotations only here.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import weakref
    from collections.abc import Iterable, Sequence
    from typing import Any

from revgraph import __version__, express  # noqa: E402 - after TYPE_CHECKING, which must not import typing
from revgraph.errors import RevgraphError  # noqa: E402

# This module is imported by ``revgraph.entry`` for every ``check`` command
# line, and the express lane answers from it with the standard library only:
# hashlib, dataclasses, pathlib and revgraph's data modules are imported
# where they are used.
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from revgraph.api import EnvContext, Workspace
    from revgraph.config import Environment
    from revgraph.findings import Report
    from revgraph.model import Snapshot
    from revgraph.sources.cache import StatCache
    from revgraph.sources.gitref import GitRepo

FORMAT = 2  # bump when the stored value's shape changes
MAX_REVISION_BYTES = 5 * 1024 * 1024  # as sources.worktree: bigger is a problem, not content
_code_fingerprint: str | None = None


# ------------------------------------------------------------------- the probe
class Probe:
    """A looked-up state: ``report`` is the cached result, or None on a miss."""

    def __init__(
        self, ws: Workspace, request: tuple, state: _State | None, stat_key: str | None,
        content_key: str | None, report: Report | None = None, facts: tuple | None = None,
    ) -> None:  # fmt: skip
        self.ws = ws
        self.request = request
        self.state = state
        self.stat_key = stat_key
        self.content_key = content_key
        self.report = report
        self.facts = facts  # (plan, state) for an express ticket, when the key allows one
        self._verifying: tuple[str, ...] | None = None  # the git status everything_read started
        self._staged: tuple[str, ...] | None = None  # and the index's difference from HEAD

    def everything_read(self, base: str | None = None) -> None:
        """Called once the check has read every file: start the ``git status`` ``store`` verifies with,
        and (``base``: the base commit the merge was predicted with) the index's difference
        from HEAD outside the folders (``_index_clean_outside``).

        What ``store`` asks is whether anything changed between this lookup
        and the reads; after the reads nothing is read again, so git may
        answer now, on the other core while the rules run (~40 ms of a cold
        20k check), instead of after them.
        """
        state = self.state
        if state is None or not state.by_git or state.git is None:
            return
        repo = self.ws.maybe_repo()
        if repo is not None and repo.root is not None:
            self._verifying = tuple(express.status_args(state.git.folders))
            repo.prefetch(*self._verifying)
            head = repo.head_sha()
            merge_base = repo.merge_base(base, head) if base and head else None
            if merge_base is not None:
                self._staged = tuple(express.staged_args())
                repo.prefetch(*self._staged)

    def release(self) -> None:
        """Drop ``everything_read``'s ``git status`` if ``store`` did not take it; the
        caller's, after ``store`` or an exception on the way (``api.checking.check``).

        Left pending, it would answer the next lookup in this process with the
        files as they were then (``GitRepo.prefetch``): after a fix's edits, a
        stale key, and a stale result found by it.
        """
        started = [args for args in (self._verifying, self._staged) if args]
        self._verifying, self._staged = None, None
        repo = self.ws.maybe_repo() if started else None
        if repo is not None:
            for args in started:
                repo.discard_prefetched(*args)

    def store(self, report: Report) -> bool:
        """Save ``report`` for this state, when it provably depends on the key only."""
        contexts = report.extras.get("contexts")
        if self.state is None or not isinstance(contexts, dict) or report.extras.get("uncacheable"):
            return False
        if not _folder_local(self.ws, contexts.values()):
            return False
        try:
            again = _State.compute(self.ws, *self.request)
            stat_key = again.stat_key()
            same = again.by_git and stat_key is not None and stat_key == self.stat_key
            if same and self.content_key is not None:
                # Nothing in the folders changed since the lookup (git says so, and
                # the key covers every setting and commit): the content key it
                # computed still holds, no second pass over 20k identities.
                key: str | None = self.content_key
            else:
                if same:  # its listing and identities still hold, no second walk
                    again._scans = self.state._scans
                # The check filled the stat cache, except for files too fresh to record
                # (a checkout seconds ago): those are not read a second time.
                content = again.content(read_limit=STORE_READ_LIMIT)
                key = _digest(content) if content is not None else None
        except (RevgraphError, OSError):
            return False
        # Unchanged since the lookup? By content when it was known then, else by
        # identities old enough to be trusted.
        if self.content_key is not None:
            unchanged = key == self.content_key
        else:
            unchanged = self.stat_key is not None and stat_key == self.stat_key
        if not unchanged:
            return False
        # The result stands for this pair of commits (``_still_proven``), with the
        # index as HEAD has it outside the folders.
        pair = _merge_pair(self.ws, again)
        if pair is not None and not (again.by_git and _index_clean_outside(self.ws, again)):
            return False  # (a key from scans holds the revision files only, not every file git's merge reads)
        proven = (pair,) if pair is not None else ()
        value = (FORMAT, report.findings, report.base, report.environments, proven)
        results = _results(self.ws)
        stored = results.put(key, value) if key is not None else False
        if stat_key is not None and stat_key == self.stat_key:
            stored = results.put(stat_key, value) or stored
        if stored:
            _vouch(report)
            if stat_key is not None and stat_key == self.stat_key:
                _stored_facts[id(report)] = (report, again.express_facts())
        return stored


# Files the lookup may read to learn their blob ids (the stat cache knows the
# rest). A cold cache does not read the whole tree twice: the check reads it,
# and the content key is computed at store time from the stat cache it filled.
LOOKUP_READ_LIMIT = 64
STORE_READ_LIMIT = 512

# A miss in ``fast_check`` hands its probe to the check it then runs
# (``_check_here``), so the key is not computed twice (``Probe.store``
# re-verifies it).
_handoff: tuple[tuple, Probe] | None = None


def probe(
    ws: Workspace, *, base: str | None, select: Sequence[str], ignore: Sequence[str]
) -> Probe | None:
    """The cached ``check`` result for the current state, or a Probe to store one.

    Two keys lead to one result: the *stat key* (file identities, no file
    is read, no stat cache is loaded) is tried first, then the *content key*
    (each file's blob id), which survives ``touch`` and branch switches. None when this cache does not apply (``--no-cache``) or the key
    cannot be computed (the normal path then reports whatever error stands in
    the way).
    """
    global _handoff
    if ws.options.no_cache or ws.cache is None:
        return None
    request = (base, tuple(select), tuple(ignore))
    if _handoff is not None:
        ident, handed = _handoff
        _handoff = None
        if ident == (repr(ws.options), request):
            handed.ws = ws
            return handed
    try:
        return _probe(ws, request, base)
    finally:
        try:
            repo = ws.maybe_repo()
        except RevgraphError:
            repo = None
        if repo is not None:  # not asked (a miss): it would answer a later question with the index of now
            repo.discard_prefetched(*express.staged_args())


def _probe(ws: Workspace, request: tuple, base: str | None) -> Probe | None:
    try:
        state = _State.compute(ws, *request)
        results = _results(ws)
        stat_key = state.stat_key()
        found = _still_proven(ws, state, results.get(stat_key), results, stat_key) if stat_key else None
        report = _report(ws, base, found)
        if report is not None:
            return Probe(ws, request, None, stat_key, None, _vouch(report), state.express_facts())
        content = state.content(read_limit=LOOKUP_READ_LIMIT)
    except (RevgraphError, OSError):
        return None
    key = _digest(content) if content is not None else None
    try:
        found = _still_proven(ws, state, results.get(key), results, key) if key else None
    except (RevgraphError, OSError):
        found = None
    report = _report(ws, base, found)
    facts = None
    if report is not None:
        _vouch(report)
        if stat_key:
            results.put(stat_key, found)  # next time, no file needs reading
            facts = state.express_facts()
    return Probe(ws, request, state, stat_key, key, report, facts)


# Reports this process found in or stored into the cache, by id: only their
# renderings are worth keeping (``remember_rendered``). Made on first use:
# the express lane does not import weakref.
_vouched: weakref.WeakValueDictionary[int, Report] | None = None


def _vouch(report: Report) -> Report:
    global _vouched
    if _vouched is None:
        import weakref

        _vouched = weakref.WeakValueDictionary()
    _vouched[id(report)] = report
    return report


# Express facts of reports this process stored, by id (``remember_rendered``).
_stored_facts: dict[int, tuple] = {}


def _digest(state: tuple) -> str:
    import hashlib

    return hashlib.sha256(repr(state).encode("utf-8", "surrogateescape")).hexdigest()


def _report(ws: Workspace, base: str | None, found: Any) -> Report | None:
    if not (isinstance(found, tuple) and len(found) == 5 and found[0] == FORMAT):
        return None
    from revgraph.findings import Report
    from revgraph.lazycontexts import LazyContexts

    _, findings, base_name, environments, _ = found
    extras = {"contexts": LazyContexts(ws, base)}
    return Report(findings=findings, base=base_name, environments=environments, extras=extras)


def _results(ws: Workspace):
    from revgraph.sources.cache import ResultCache

    return ResultCache(ws.cache.directory if ws.cache is not None else None)


# ------------------------------------------------------------------- the key
class _State:
    """Everything a check result depends on (see the module notes)."""

    def __init__(self, ws: Workspace, common: tuple, envs: tuple, head_trees: tuple | None,
                 git: _GitFacts | None = None) -> None:  # fmt: skip
        self.ws = ws
        self.common = common
        self.envs: tuple[tuple[str, Environment, Any], ...] = envs  # (definition, env, lock file bytes)
        self.head_trees = head_trees  # HEAD's versions-folder trees, for the git stat key
        self.git = git
        self.entries: tuple | None = None  # what git status listed, when the stat key came from it
        self.by_git = False
        self.unmarked: Any = None  # the index's identity when no entry in the folders was marked
        self._scans: list[WorktreeScan] | None = None

    @classmethod
    def compute(cls, ws: Workspace, base: str | None, select: tuple, ignore: tuple) -> _State:
        project = ws.project
        environments = ws.environments
        root = ws.root
        envs = tuple((repr(env), env, _lock_bytes(env)) for env in environments)
        repo = ws.maybe_repo()
        folders = _sorted_folders(repo, environments) if repo is not None and repo.root is not None else ()
        if repo is not None and os.path.isfile(os.path.join(repo.git_dir, "info", "sparse-checkout")):
            # Revisions outside the cone come from the index, which no part of the key covers.
            raise OSError("sparse checkout: the result cache does not apply")
        if repo is not None and express.object_replacements(str(repo.common_dir)):
            # A replace ref or graft changes what a blob, tree or commit id reads as
            # (and merge bases) behind ids the key holds.
            raise OSError("replace refs or grafts: the result cache does not apply")
        if os.environ.get("GIT_ATTR_SOURCE"):
            # git >= 2.40 then reads attributes (merge=union, say) from that tree-ish, a
            # ref that may move while nothing the key holds does.
            raise OSError("GIT_ATTR_SOURCE: the result cache does not apply")
        if repo is not None and repo.root is not None and _in_submodule(str(repo.root), folders):
            # git status of the superproject does not look inside a submodule:
            # an edit there would change no part of the key.
            raise OSError("versions folder inside a submodule: the result cache does not apply")
        if repo is not None and repo.root is not None and _behind_symlink(str(repo.root), folders):
            # git status of a folder symlink says nothing of the files where it leads,
            # and its tree at a ref is the link's: no part of the key would move.
            raise OSError("versions folder behind a symlink: the result cache does not apply")
        facts = None
        # A lock file the working tree lacks: whether the project keeps one (RG401
        # "missing", ``api.lock_missing``) rests on .gitattributes and on whether
        # base and HEAD hold it, which no other part of the key covers.
        # (A folder, a dangling link or a FIFO there is no lock file either: RG401 asks the same.)
        absent = _absent_locks(root, [env for _, env, lock in envs if _no_lock_file(lock)])
        # Attributes git's merge reads from the working tree and the git directory decide
        # how a file both sides changed is merged and how HEAD's files are staged for it
        # (``merge=union``, ``working-tree-encoding``): the files on the way to each folder.
        paths = _attribute_paths(root, absent)
        if repo is not None and repo.root is not None:
            paths += _attribute_paths(str(repo.root), [f"{folder}/." for folder in folders])
            paths.append(os.path.join(str(repo.common_dir), "info", "attributes"))
            # git's default core.attributesFile, and the shallow boundary (which moves merge bases)
            config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
            paths.append(os.path.join(config_home, "git", "attributes"))
            paths.append(os.path.join(str(repo.common_dir), "shallow"))
            paths += _git_config_files(repo, config_home)
            paths += _configured_files(repo)
        # (git reads no .gitattributes of the work tree through a symbolic link, but it
        # follows one at info/attributes or at the attributes file of the user's config)
        attributes = tuple(
            ("a", path, express.attribute_fact(path)) if path.endswith(".gitattributes")
            else ("r", path, express.read_fact(path))
            for path in dict.fromkeys(paths)
        )
        if repo is not None:
            git, head_trees, facts = _git_state(ws, repo, environments, base, absent)
            facts.attributes = attributes
        else:
            # A CI variable naming a base makes a check outside git an error
            # (``checking._refuse_a_ci_base_outside_git``), not the files' result.
            from revgraph.api import CI_BASE_VARIABLES

            ci = tuple((name, os.environ[name]) for name in CI_BASE_VARIABLES if os.environ.get(name))
            git, head_trees = ("no git", base, ci), None
        common = (
            "revgraph check", FORMAT, __version__, code_fingerprint(), str(root),
            ws.start_dir,  # fix commands name files from there
            ws.revgraph_command,  # and start with the global options that chose the environments
            repr(project.settings), select, ignore, git, attributes,
            # configuration given in the environment (`git -c`, GIT_CONFIG_COUNT and its pairs)
            tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("GIT_CONFIG", "GIT_ATTR")))),
        )  # fmt: skip
        return cls(ws, common, envs, head_trees, facts)

    @property
    def scans(self) -> list[WorktreeScan]:
        if self._scans is None:
            self._scans = [WorktreeScan(env, self.ws.root) for _, env, _ in self.envs]
        return self._scans

    def _env_rows(self) -> tuple:
        return tuple((definition, _lock_digest(lock)) for definition, _, lock in self.envs)

    def stat_key(self) -> str | None:
        """The key by file identities, not contents; None when a file is too fresh to trust."""
        folders = self.git.folders if self.git is not None else None
        git = _git_worktree_identity(self.ws, [env for _, env, _ in self.envs], self.head_trees, folders)
        envs = self._env_rows()
        if git is not None:
            (self.entries, self.unmarked), self.by_git = git, True
            return _digest(("git stat", self.common, envs, self.head_trees, self.entries))
        digests = [scan.stat_digest() for scan in self.scans]
        if any(d is None for d in digests):
            return None
        return _digest(("stat", self.common, envs, tuple(digests)))

    def content(self, read_limit: int | None = None) -> tuple | None:
        """The state by file contents; None when more than ``read_limit`` files must be read."""
        stats = self.ws.cache.stats if self.ws.cache is not None else None
        if self.by_git and self.git is not None:
            found = self._git_content(stats, read_limit)
            if found is not _DECLINED:
                return None if found is None else ("git content", self.common, self._env_rows(), found)
        digests = []
        for scan in self.scans:
            digest = scan.content_digest(stats, read_limit)
            if digest is None:
                return None
            digests.append(digest)
        envs = tuple((definition, digest, _lock_digest(lock))
                     for (definition, _, lock), digest in zip(self.envs, digests))  # fmt: skip
        return ("content", self.common, envs)

    def _git_content(self, stats: StatCache | None, read_limit: int | None) -> Any:
        """A digest of the folders' contents from the index and ``git status``; ``_DECLINED``: use scans.

        A file ``git status`` did not list holds its index entry's content
        (what the git stat key rests on too), so the path -> blob id map of
        the folders is ``git ls-files -s``, with the listed files' ids from
        the stat cache (or read, at most ``read_limit`` of them: None past
        that) and deleted ones left out. Content-addressed like the scans'
        digest (a commit of the listed files keeps it), without an ``lstat``
        per file: 20k of them cost ~0.15 s. Declined for symlinks, submodules
        and unmerged entries, which the scans follow as alembic does.
        """
        assert self.git is not None and self.entries is not None
        repo = self.ws.maybe_repo()
        if repo is None or repo.root is None:
            return _DECLINED
        done = repo.git("ls-files", "-s", "-z", "--", *self.git.folders, ok=range(256))
        if done.returncode != 0:
            return _DECLINED
        contents: dict[bytes, str] = {}
        for record in done.stdout.split(b"\0"):
            if record:
                meta, _, path = record.partition(b"\t")
                mode, oid, stage = meta.split(b" ")
                if stage != b"0" or mode in (b"120000", b"160000"):
                    return _DECLINED
                contents[path] = oid.decode("ascii")
        root = str(repo.root)
        if express.special_files(root, self.git.folders):
            return _DECLINED  # git lists no FIFO; the scans report it as alembic would meet it
        reads = 0
        for state, path, *identity in self.entries:
            if state == "//":  # a folder's own identity (express.status_entries)
                continue
            raw = path.encode("utf-8", "surrogateescape")
            if len(identity) == 1:  # gone from disk
                if raw.endswith(b".gitattributes") and raw in contents:
                    # git add reads attributes from the index when the file is not on disk
                    contents[raw] += " index only"
                else:
                    contents.pop(raw, None)
                continue
            if stat_module.S_ISLNK(identity[0]):
                return _DECLINED
            absolute = os.path.join(root, path)
            try:
                info = os.stat(absolute)
            except OSError as exc:
                contents[raw] = f"unreadable {exc.errno}"
                continue
            if not stat_module.S_ISREG(info.st_mode):
                contents[raw] = "special"
            elif info.st_size > MAX_REVISION_BYTES:
                contents[raw] = f"too large {info.st_size}"
            else:
                known = stats.blob_id(absolute, info) if stats is not None else None
                if known is None:
                    reads += 1
                    if read_limit is not None and reads > read_limit:
                        return None
                    known = _blob_of(absolute, info, stats, repo.object_format)
                # An ignored file stays out of the predicted merge, an untracked one goes
                # in: the same bytes, another result (a .gitignore edit turns one into the other).
                contents[raw] = f"{known} ignored" if state == "!!" else known
        import hashlib

        h = hashlib.sha1()
        for path in sorted(contents):
            h.update(b"%s\0%s\n" % (path, contents[path].encode("utf-8", "surrogateescape")))
        return h.hexdigest()

    def express_facts(self) -> tuple | None:
        """``(plan, state)`` for an express ticket (``revgraph.express``), or None.

        Only for a git stat key: the key is then a function of exactly these
        facts (the configuration ``load_project`` read, the refs' commits, git
        status and identities, the lock files' bytes, the git directory's
        files that decide what the commits lead to).
        """
        g = self.git
        if g is None or not g.expressible or not self.by_git or self.entries is None:
            return None
        if any(entry[0] == "//" and entry[2] == "fresh" for entry in self.entries):
            # A folder changed in the last two seconds: its row can only match
            # until then, so a ticket would be stale before it was ever used
            # (and a lane that answers now but not in a second is no promise).
            return None
        from revgraph.config import project_inputs

        trace = project_inputs(self.ws.project)
        if trace is None:
            return None
        if g.config is not None:  # which remote copy a local base has is git configuration
            trace = (*trace, g.config)
        if g.origin_head is not None:  # which branch origin/HEAD names (a default base)
            trace = (*trace, g.origin_head)
        trace = (*trace, *g.attributes)  # whether a missing lock file is kept (see compute)
        environments = [env for _, env, _ in self.envs]
        plan = (
            str(self.ws.project.root), None, str(g.git_dir), str(g.root), g.folders,
            any(env.sourceless for env in environments), g.requests, trace, g.paths, g.reals,
            tuple(str(loc) for env in environments for loc in env.version_locations),
            tuple(str(env.lock_file) if env.lock_file is not None else None for env in environments),
            # flat: see express.observe. Not with an untracked file in the folders: a
            # .gitignore edit elsewhere can make it ignored (out of the predicted merge)
            # without touching the folder or the file, which only the full status sees.
            all(not env.recursive and not env.sourceless for env in environments)
            and not any(entry[0] == "??" for entry in self.entries)
            # nor with a sub-folder: a file created in it changes no folder's identity,
            # and git's merge stages it (a folder named like base's revision conflicts)
            and not _has_subfolders(str(g.root), g.folders),
        )  # fmt: skip  (None: the discovery output, filled in by _record)
        state = (g.answers, self.entries, g.gitdir, tuple(lock for _, _, lock in self.envs))
        return plan, state, (g.head, g.base_ref, g.protected, g.remote), self.unmarked


def _has_subfolders(root: str, folders: Sequence[str]) -> bool:
    """Whether a versions folder holds a folder (``__pycache__`` aside)."""
    for folder in folders:
        try:
            with os.scandir(os.path.join(root, folder)) as entries:
                if any(e.is_dir(follow_symlinks=False) and e.name != "__pycache__" for e in entries):
                    return True
        except OSError:
            return True
    return False


class _GitFacts:
    """What ``_git_state`` looked at, for an express ticket."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


def _git_worktree_identity(
    ws: Workspace, environments: Sequence[Environment], head_trees: tuple | None,
    folders: tuple[str, ...] | None = None,
) -> tuple | None:  # fmt: skip
    """The working tree's versions folders as git sees them: HEAD's trees plus ``git status``.

    ``(entries, index identity)``: the entries ``express.status_entries``
    makes, and the index's identity when no entry was marked in it.

    A file ``git status`` does not list has HEAD's content (git compared it),
    so HEAD's folder trees and the listed paths' identities describe the
    folders exactly, for one threaded ``lstat`` pass in C instead of one
    ``os.lstat`` per file here. None (use ``WorktreeScan``) outside a work
    tree, for recursive or whole-repository locations, for an untracked or
    ignored folder alembic would walk into, when a listed file is too
    fresh to trust its identity, and when an entry in the folders is marked
    assume-unchanged or skip-worktree (``express.hidden_paths``).
    """
    repo = ws.maybe_repo()
    if repo is None or repo.root is None or head_trees is None or any(env.recursive for env in environments):
        return None
    if folders is None:
        try:
            folders = _sorted_folders(repo, environments)
        except RevgraphError:
            return None
    if not folders or any(not f for f in folders):
        return None
    unmarked = express.index_identity(str(repo.git_dir))  # before the marks are looked for
    repo.prefetch_marked(folders)  # alongside status
    repo.prefetch(*express.staged_args())  # and what a hit asks of the index (``_index_clean_outside``)
    done = repo.git(*express.status_args(folders), ok=range(256))
    if done.returncode != 0 or repo.marked_paths(folders) != []:
        return None  # git status cannot vouch for a file git is told not to look at
    entries = express.status_entries(done.stdout, str(repo.root), any(env.sourceless for env in environments),
                                     folders=folders)  # fmt: skip
    return (entries, unmarked) if entries is not None else None


def _sorted_folders(repo: GitRepo, environments: Sequence[Environment]) -> tuple[str, ...]:
    return tuple(sorted({f for env in environments for f in repo.folders(env)}))


def _fresh_after() -> int:
    """Nanosecond time after which a file's identity may not yet reflect its content."""
    import time

    return time.time_ns() - int(WorktreeScan.RACY_SECONDS * 1e9)


def code_fingerprint() -> str:
    """Size and mtime of every revgraph module: a changed rule or parser is a new key."""
    global _code_fingerprint
    if _code_fingerprint is None:
        import hashlib

        express._code_stamp = None  # computed afresh whenever this is (tests reset it)
        h = hashlib.sha1()
        for rel, size, mtime in express.code_stamp():
            h.update(f"{rel}\0{size}\0{mtime}\n".encode())
        _code_fingerprint = h.hexdigest()
    return _code_fingerprint


def _no_lock_file(fact: bytes | str | None) -> bool:
    """Whether ``_lock_bytes`` found no regular file (``api.checking.lock_missing`` asks why)."""
    return isinstance(fact, str) and not fact.startswith("unreadable")


def _lock_bytes(env: Environment) -> bytes | str | None:
    """The lock file's bytes (or why there are none); None without a lock file."""
    return express.read_fact(str(env.lock_file)) if env.lock_file is not None else None


def _absent_locks(root: Path | str, environments: Sequence[Environment]) -> tuple[str, ...]:
    """The lock files of ``environments`` as paths relative to ``root`` (as ``api.checking._under_root``
    names them; those outside it are left out)."""
    top = os.path.realpath(root)
    found = []
    for env in environments:
        lock = env.lock_file
        if lock is None:
            continue
        path = os.path.join(os.path.realpath(os.path.dirname(lock)), os.path.basename(lock))
        rel = os.path.relpath(path, top)
        if rel != ".." and not rel.startswith(".." + os.sep) and not os.path.isabs(rel):
            found.append(rel.replace(os.sep, "/"))
    return tuple(sorted(set(found)))


def _git_config_files(repo: GitRepo, config_home: str) -> list[str]:
    """The configuration files git reads, as it finds them: they may name an attributes
    file, a merge driver or a filter (``core.attributesFile``, ``merge.<driver>``,
    ``filter.*``, ``core.autocrlf``) that changes how git stages and merges files.
    Files they include: ``_configured_files``. And the system attributes file."""
    env = os.environ
    top = str(repo.root or repo.git_dir)  # where revgraph runs git: a relative name is read from there
    files = []
    if not _git_bool(env.get("GIT_CONFIG_NOSYSTEM")):
        files.append(os.path.join(top, env.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"))
    if env.get("GIT_CONFIG_GLOBAL"):
        files.append(os.path.join(top, env["GIT_CONFIG_GLOBAL"]))
    else:
        files += [os.path.join(config_home, "git", "config"), os.path.join(os.path.expanduser("~"), ".gitconfig")]
    files += [os.path.join(str(repo.common_dir), "config"), os.path.join(str(repo.git_dir), "config.worktree")]
    if not _git_bool(env.get("GIT_ATTR_NOSYSTEM")):
        files.append("/etc/gitattributes")
    return files


def _git_bool(value: str | None) -> bool:
    """An environment variable as git reads a boolean one (unset, "", "0", "false": false)."""
    value = (value or "").strip().lower()
    return value in ("true", "yes", "on") or (value.lstrip("-").isdigit() and int(value) != 0)


def _configured_files(repo: GitRepo) -> list[str]:
    """Files git's configuration points to, as git finds them (included files too, and
    ``git -c``): the attributes file ``core.attributesFile`` names and the files
    ``include.path`` and ``includeIf.*.path`` name, active or not; with an
    ``includeIf``, the git directory's HEAD (``onbranch:`` follows the branch)."""
    # Not --type=path: git would expand an inactive includeIf's `~nobody/x` too, and fail.
    done = repo.git("config", "-z", "--show-origin", "--get-regexp",
                    r"^(core\.attributesfile|include\.path|includeif\..*\.path)$", ok=(0, 1))  # fmt: skip
    out = done.stdout if isinstance(done.stdout, bytes) else os.fsencode(done.stdout)
    top = str(repo.root or repo.git_dir)
    fields = out.split(b"\0")
    files, conditional = [], False
    for origin, entry in zip(fields[::2], fields[1::2]):
        key, _, value = entry.partition(b"\n")
        if not value:
            continue
        if key == b"core.attributesfile":
            base = top  # read from where git runs
        else:  # an include is read from beside the file that names it
            source = os.fsdecode(origin[len(b"file:"):]) if origin.startswith(b"file:") else ""
            base = os.path.dirname(os.path.join(top, source)) if source else top
            conditional = conditional or key.startswith(b"includeif.")
        # `~/x` as git expands it; an unknown `~user/x` stays as it is: a missing file, as to git
        files.append(os.path.join(base, os.path.expanduser(os.fsdecode(value))))  # (absolute stays)
    if conditional:
        files.append(os.path.join(str(repo.git_dir), "HEAD"))
    return files


def _attribute_paths(root: Path | str, locks: Sequence[str]) -> list[str]:
    """The ``.gitattributes`` files that may give ``locks`` (relative to ``root``) the merge driver."""
    names: dict[str, None] = {}
    for lock in locks:  # as lockfile.attribute_files (not imported here: it imports re)
        parts = [p for p in lock.split("/")[:-1] if p]
        names.update(dict.fromkeys("/".join([*parts[:depth], ".gitattributes"]) for depth in range(len(parts) + 1)))
    return [os.path.join(root, name) for name in names]


def _lock_digest(lock: bytes | str | None) -> str | None:
    if isinstance(lock, bytes):
        import hashlib

        return hashlib.sha1(lock).hexdigest()
    return None if lock in (None, "absent") else lock


def _git_state(
    ws: Workspace, repo: GitRepo, environments: Sequence[Environment], base: str | None,
    absent_locks: Sequence[str] = (),
) -> tuple[tuple, tuple | None, _GitFacts]:  # fmt: skip
    """What the check reads from git, HEAD's versions-folder trees, and the facts behind them.

    The refs (HEAD, the base candidates, the protected refs named plainly) are
    resolved in one ``git cat-file --batch-check``; everything else follows
    from their commit ids (trees by ``<commit>:<folder>``), so the key is a
    function of those ids, which an express ticket records.
    """
    from revgraph.api import ORIGIN_HEAD_REF, BaseRef, _fresher_default, local_branch_name
    from revgraph.sources.gitref import _plausible_ref

    bare = repo.root is None
    # The default base is origin/HEAD named by the branch it points to, which no
    # commit id shows (`git remote set-head` re-points it, maybe to the same
    # commit): a ticket watches the symbolic ref's file. Read before the
    # candidates, so a ticket holding these bytes is never older than the name.
    origin_head = os.fspath(repo.ref_file(ORIGIN_HEAD_REF))
    origin_head_fact = ("r", origin_head, express.read_fact(origin_head))
    candidates, explicit = ws.base_candidates(base)
    patterns = ws.project.settings.protected
    globs = [p for p in patterns if any(ch in p for ch in "*?[")]
    plain = [p for p in patterns if p not in globs]
    names = ["HEAD", *(ref for ref, _ in candidates), *plain]
    # A local branch (in any spelling): its remote copy counts.
    names += [f"refs/heads/{local_branch_name(ref)}" for ref, _ in candidates]
    # ... and origin/<branch>, its remote copy unless an upstream says otherwise (_remote_copy):
    # asked here with the others, not by a rev-parse of its own.
    names += [f"origin/{local_branch_name(ref)}" for ref, _ in candidates if not ref.startswith(("origin/", "refs/"))]
    requests = tuple(dict.fromkeys(f"{n}^{{commit}}" for n in names if _plausible_ref(n)))
    gitdir = express.gitdir_facts(str(repo.git_dir), str(repo.common_dir))
    paths = (str(repo.root), *(str(loc) for env in environments for loc in env.version_locations))
    reals = express.realpaths(paths)
    folders = _sorted_folders(repo, environments)
    try:
        done = repo.git("cat-file", "--batch-check", input=express.catfile_input(requests), env=_UNTRANSLATED)
        answers = express.commits(done.stdout, len(requests))
    except ValueError as exc:
        raise OSError(str(exc)) from None
    if b"is ambiguous" in done.stderr:
        # A branch and a tag of one name: the check warns which it read, a
        # cached answer would not (and git's pick is not in the key's facts).
        raise OSError("an ambiguous ref name: the result cache does not apply")
    resolved = dict(zip(requests, answers))
    repo.known_commits(answers)
    # The check that follows reads the same state: no rev-parse for these names.
    repo.pin_answers(resolved)

    def commit(ref: str) -> str | None:
        return resolved.get(f"{ref}^{{commit}}") if _plausible_ref(ref) else None

    head = commit("HEAD")
    facts = _GitFacts(
        git_dir=repo.git_dir, root=repo.root, folders=folders, requests=requests, answers=answers,
        gitdir=gitdir, paths=paths, reals=reals, head=head, base_ref=None, protected=(),
        remote=None, config=None, expressible=False, origin_head=None if explicit else origin_head_fact,
    )  # fmt: skip
    if head is None and not bare and base is None:
        return ("unborn",), None, facts  # build_context reads the working tree only
    found = next(((ref, commit(ref), how) for ref, how in candidates if commit(ref)), None)
    if found is None:  # the check itself reports why
        raise OSError(f"no base: tried {', '.join(ref for ref, _ in candidates)} ({explicit=})")
    base_ref, base_sha, how = found
    if how == "default" and commit(f"refs/heads/{local_branch_name(base_ref)}"):
        # A default local base behind its remote copy gives way to it, as in the
        # check (its own function): the key is then the copy's, and names it.
        fresher = _fresher_default(repo, BaseRef(base_ref, base_sha, how))
        base_ref, base_sha, how = fresher.ref, fresher.sha, fresher.how
    merge_base = repo.merge_base(base_sha, head) if head else None  # asked of git once per run
    protected_refs: set[str] = {ref for ref in plain if commit(ref)}
    for pattern in patterns:  # as api.checking._protected_refs: remote copies count
        protected_refs.update(repo.list_refs(pattern, remote_copies=True))
    protected = tuple(sorted(protected_refs))
    treeishes = [("base", base_sha), ("merge-base", merge_base)]
    # A glob's refs are listed, not resolved with the others: read by name.
    treeishes += [(f"protected {ref}", commit(ref) or ref) for ref in protected]
    if head and protected:
        # RG202 judges a protected ref's revisions by what HEAD inherited from it
        # (api.checking._build_context): each one's merge base with HEAD is part of the key.
        treeishes += [(f"protected-merge-base {ref}", repo.merge_base(commit(ref) or ref, head)) for ref in protected]
    if commit(f"refs/heads/{local_branch_name(base_ref)}"):
        # A local base: the check also reads its remote copy (api.checking._remote_landed),
        # which a fetch moves without touching anything else the key holds.
        # The configuration is read first: a ticket holding these bytes is never
        # older than the upstream setting the lookup saw.
        config_path = os.path.join(repo.common_dir, "config")
        facts.config = ("r", config_path, express.read_fact(config_path))
        remote, remote_sha, watched = _remote_copy(repo, base_ref)
        facts.remote = (remote, remote_sha)
        extra = [(request, answer) for request, answer in watched if request not in resolved]
        facts.requests += tuple(request for request, _ in extra)
        facts.answers += tuple(answer for _, answer in extra)
        if remote_sha is not None and remote_sha != base_sha:
            remote_base = repo.merge_base(remote_sha, head) if head else None
            treeishes += [(f"remote copy {remote}", remote_sha), ("remote copy merge-base", remote_base)]
    # HEAD's trees: part of the state in a bare repository (HEAD is all there is),
    # else only of the git stat key (the working tree stands for HEAD).
    wanted = treeishes + [("HEAD", head)] if head else treeishes
    by_env = [repo.folders(env) for env in environments]
    # Each tree is read with the settings its own config files give (sources.refsettings):
    # their blob ids at each commit are part of the state too.
    configs = _config_paths(repo, environments)
    # A lock file the working tree lacks: whether each commit holds it (``api.lock_missing``).
    locks = tuple(absent_locks) if repo.root is not None else ()
    trees = _folder_trees(repo, [sha for _, sha in wanted if sha], (*folders, *configs, *locks))
    if any(tree.endswith(" blob") for (_, folder), tree in trees.items() if folder in folders):
        # A folder symlink (or a file) in a folder's place: the check reads where the
        # link leads, and the link's blob id does not change with that folder.
        raise OSError("versions folder behind a symlink at a ref: the result cache does not apply")
    missing = {treeish for (treeish, folder), tree in trees.items() if tree == "missing" and folder in folders}
    if any(repo.hides_folders(treeish, folders) for treeish in missing):
        # cat-file answers "missing" for a folder under a gitlink or behind a symlink
        # too; the check reads it through the submodule or the link, whose moves the
        # folder trees miss.
        raise OSError("versions folder inside a submodule or behind a symlink at a ref: the result cache does not apply")
    described = {
        what: tuple((f, trees.get((sha, f))) for fs in (*by_env, configs, locks) for f in fs) if sha else None
        for what, sha in wanted
    }
    head_trees = described.pop("HEAD", None)
    state = tuple((what, described[what]) for what, _ in treeishes)
    if locks and head:  # the content key stands for HEAD by the working tree, which lacks them
        state += (("HEAD locks", tuple((lock, trees.get((head, lock))) for lock in locks)),)
    if bare:
        state += (("HEAD", head_trees),)
    # The commits lead to the same trees and merge base only if the git directory
    # did not change meanwhile (a fetch deepening a shallow clone, a replace ref).
    settled = gitdir is not None and express.gitdir_facts(str(repo.git_dir), str(repo.common_dir)) == gitdir
    facts.base_ref, facts.protected = (base_ref, base_sha, how), protected
    # Any protected pattern may match a remote branch a fetch creates, which no
    # fact of a ticket watches: level 2 answers then.
    facts.expressible = bool(settled and not patterns and not bare and express.realpaths(paths) == reals)
    return ("git", head is not None, bare, base_ref, how, protected, state), head_trees, facts


def _config_paths(repo: GitRepo, environments: Sequence[Environment]) -> tuple[str, ...]:
    """The environments' config files as paths in the repository (``refsettings.config_files``)."""
    from revgraph.sources.refsettings import config_paths

    return config_paths(environments, repo.root) if repo.root is not None else ()


def _remote_copy(repo: GitRepo, base_ref: str) -> tuple[str | None, str | None, tuple]:
    """Local base ``base_ref``'s remote copy as the check finds it (``api._shared_copy``),
    its commit, and ``(request, commit)`` for the refs an express ticket must watch:
    the copy and ``origin/<base>``, which a first fetch may create."""
    from revgraph.api import _shared_copy, _try_resolve
    from revgraph.sources.gitref import _plausible_ref

    with repo.pinned():  # each name resolved once here
        remote = _shared_copy(repo, base_ref)
        names = dict.fromkeys(name for name in (remote, f"origin/{base_ref}") if name and _plausible_ref(name))
        watched = tuple((f"{name}^{{commit}}", _try_resolve(repo, name)) for name in names)
    return remote, dict(watched).get(f"{remote}^{{commit}}"), watched


_UNTRANSLATED = {"LC_ALL": "C", "LANGUAGE": "C"}  # git's own words on stderr


def _in_submodule(root: str, folders: Sequence[str]) -> bool:
    """Whether a folder (relative to ``root``) is in a submodule's checkout: a ``.git``
    entry on the way down to it (``lstat`` only)."""
    for folder in folders:
        parts = [p for p in folder.split("/") if p]
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1] == "..":
                break  # outside the repository: not a submodule of it
            if os.path.lexists(os.path.join(root, *parts[:depth], ".git")):
                return True
    return False


def _behind_symlink(root: str, folders: Sequence[str]) -> bool:
    """Whether a folder (relative to ``root``) has a symlink on the way down to it, itself
    included (``lstat`` only)."""
    for folder in folders:
        parts = [p for p in folder.split("/") if p]
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1] == "..":
                break  # outside the repository: the working tree key covers it as it is
            if os.path.islink(os.path.join(root, *parts[:depth])):
                return True
    return False


def _folder_trees(repo: GitRepo, treeishes: Sequence[str], folders: Sequence[str]) -> dict[tuple[str, str], str]:
    """``(treeish, folder) -> "<oid> <type>"`` (or "missing"), in one ``cat-file`` process."""
    requests = [(t, f) for t in dict.fromkeys(treeishes) for f in folders]
    if any("\n" in f for _, f in requests):
        raise OSError("a versions folder name holds a newline")  # not worth a key
    # Asked before in this command (the lookup, then the store's second look): a
    # commit's trees do not change, and the git directory's facts in the key
    # cover what could make them (a replace ref, a graft).
    found = repo.path_answers(requests)
    requests = [request for request in requests if request not in found]
    if not requests:
        return found
    text = "".join(f"{t}:{f}\n" for t, f in requests)
    out = repo.git("cat-file", "--batch-check", input=text.encode("utf-8", "surrogateescape")).stdout
    answers = out.decode("utf-8", "surrogateescape").split("\n")
    if len(answers) < len(requests):
        raise OSError("git cat-file --batch-check answered too few requests")
    asked = {}
    for (treeish, folder), answer in zip(requests, answers):
        parts = answer.split(" ")
        asked[(treeish, folder)] = " ".join(parts[:2]) if len(parts) == 3 else "missing"
    repo.known_paths(asked)
    return {**found, **asked}


# ------------------------------------------------------------ working tree
class WorktreeScan:
    """The files alembic could list in ``env``'s folders on disk, stat'ed once.

    Walks as ``sources.worktree`` does (folder symlinks not entered;
    sub-folders only when recursive; ``__pycache__`` only when sourceless),
    keeping only names alembic could take (``*.py``, and ``*.pyc``/``*.pyo``
    when sourceless) and symlinks.
    """

    RACY_SECONDS = 2.0  # as StatCache: a file this fresh may change within its mtime tick

    def __init__(self, env: Environment, root: Path | str) -> None:
        self.root = os.path.realpath(root)
        self._prefix = self.root if self.root.endswith(os.sep) else self.root + os.sep
        self.sourceless = env.sourceless
        # (path, link target, os.stat_result) per file; (folder + "/", "", state) per location
        self.items: list[tuple[str, str, Any]] = []
        for location in env.version_locations:
            real = os.path.realpath(os.path.join(self.root, location))
            relative = os.path.relpath(real, self.root).replace(os.sep, "/")
            if not os.path.isdir(real):
                self.items.append((f"{relative}/", "", "absent"))
                continue
            self.items.append((f"{relative}/", "", "folder"))
            deep = env.recursive or os.path.basename(real).endswith("__pycache__")
            self._scan(real, "" if relative == "." else relative, deep, 0)

    def _scan(self, folder: str, relative: str, deep: bool, depth: int) -> None:
        # listdir + lstat relative to the folder's descriptor: the cheapest walk
        # Python has (one system call per file), as this runs on every warm check.
        try:
            names = sorted(os.listdir(folder))
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        prefix = f"{relative}/" if relative else ""
        try:
            infos = [_lstat_at(name, fd) for name in names]
        finally:
            os.close(fd)
        wanted, sourceless = _wanted, self.sourceless
        for name, info in zip(names, infos):
            if isinstance(info, str):
                self.items.append((prefix + name, "", info))
                continue
            mode = info.st_mode
            if stat_module.S_ISREG(mode):
                if wanted(name, sourceless):
                    self.items.append((prefix + name, "", info))
            elif stat_module.S_ISDIR(mode):
                if deep or (sourceless and depth == 0 and name == "__pycache__"):
                    self._scan(os.path.join(folder, name), prefix + name, deep, depth + 1)
            elif stat_module.S_ISLNK(mode):
                self._link(folder, prefix + name, name)
            elif wanted(name, sourceless):
                self.items.append((prefix + name, "", info))  # a fifo, a socket: a problem

    def _link(self, folder: str, rel: str, name: str) -> None:
        """A symlink: its target and what it points to (folder symlinks are not entered)."""
        path = os.path.join(folder, name)
        try:
            target = os.readlink(path)
            info: Any = os.stat(path)
        except OSError as exc:
            self.items.append((rel, "?", f"unreadable {exc.errno}"))
            return
        if not stat_module.S_ISDIR(info.st_mode):
            self.items.append((rel, target, info))

    def stat_digest(self) -> str | None:
        """A digest of the files' identities; None when one is too fresh to trust."""
        import hashlib
        import marshal

        fresh = _fresh_after()
        rows: list = []
        for rel, link, info in self.items:
            if isinstance(info, str):
                rows.append((rel, link, info))
                continue
            if info.st_mtime_ns > fresh or info.st_ctime_ns > fresh:
                return None
            rows.append((rel, link, info.st_mode, info.st_size, info.st_mtime_ns,
                         info.st_ctime_ns, info.st_ino))  # fmt: skip
        return hashlib.sha1(marshal.dumps(rows)).hexdigest()

    def content_digest(self, stats: StatCache | None, read_limit: int | None = None) -> str | None:
        """A digest of the files' contents (git blob ids).

        Blob ids come from ``stats`` when a file's identity is unchanged, else
        from reading the file; None when more than ``read_limit`` files would
        have to be read (known as soon as one too many is met: a cold stat
        cache gives up after ``read_limit + 1`` files, not after all of them).
        """
        import hashlib

        identities: list = []
        unknown: list[int] = []
        known = self._known
        for i, (rel, link, info) in enumerate(self.items):
            identity = info if isinstance(info, str) else known(rel, link, info, stats)
            if identity is None:
                unknown.append(i)
                if read_limit is not None and len(unknown) > read_limit:
                    return None
            identities.append(identity)
        for i in unknown:
            rel, link, info = self.items[i]
            identities[i] = self._read_blob(rel, link, info, stats)
        h = hashlib.sha1()
        for (rel, link, _), identity in zip(self.items, identities):
            h.update(f"{rel}\0{link}\0{identity}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def _known(self, rel: str, link: str, info: os.stat_result, stats: StatCache | None) -> str | None:
        """What identifies the file without reading it, or None."""
        if not stat_module.S_ISREG(info.st_mode):
            return "special"
        if info.st_size > MAX_REVISION_BYTES:
            return f"too large {info.st_size}"
        if stats is None or link:
            return None
        return stats.blob_id(self._prefix + rel, info)  # os.path.join, as one concatenation

    def _read_blob(self, rel: str, link: str, info: os.stat_result, stats: StatCache | None) -> str:
        object_format = stats.object_format if stats is not None else "sha1"
        return _blob_of(self._prefix + rel, info, None if link else stats, object_format)


_DECLINED = object()  # _State._git_content: the scans decide


def _blob_of(absolute: str, info: os.stat_result, stats: StatCache | None, object_format: str) -> str:
    """The blob id of the file at ``absolute`` (listed with ``info``), recorded in ``stats``."""
    try:
        with open(absolute, "rb") as handle:
            data = handle.read(MAX_REVISION_BYTES + 1)
            now = os.fstat(handle.fileno())
    except OSError as exc:
        return f"unreadable {exc.errno}"
    from revgraph.blobid import blob_id  # (hashlib: not on the warm lane, which reads no file)

    oid = blob_id(data, object_format)
    if stats is not None and _same_identity(now, info):
        # Only when the file is still the one listed (a scan reused by
        # ``store`` is older than this read): saved with the parse cache.
        stats.record(absolute, info, oid)
    return oid


def worktree_digest(env: Environment, root: Path | str, stats: StatCache | None = None) -> str:
    """A content digest of every file alembic could list in ``env``'s folders on disk."""
    return WorktreeScan(env, root).content_digest(stats)


def _same_identity(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino, a.st_dev) == (
        b.st_size, b.st_mtime_ns, b.st_ctime_ns, b.st_ino, b.st_dev)  # fmt: skip


def _lstat_at(name: str, fd: int) -> os.stat_result | str:
    try:
        return os.lstat(name, dir_fd=fd)
    except OSError as exc:
        return f"unreadable {exc.errno}"


def _wanted(name: str, sourceless: bool) -> bool:
    return name.endswith(".py") or (sourceless and name.endswith((".pyc", ".pyo")))


# ---------------------------------------------------------------- the guard
def _folder_local(ws: Workspace, contexts: Any) -> bool:
    """Whether each context's snapshots depend on the versions folders' contents only."""
    repo = ws.maybe_repo()
    for ctx in contexts:
        folders = _relative_folders(ws, repo, ctx.environment)
        if folders is None:
            return False
        if _placed_elsewhere(repo, ctx):
            return False
        contents = _snapshot_contents(ctx)
        if not all(_inside(paths, folders) for paths in contents):
            return False
        if ctx.merged is not None and not _merge_is_union(ctx, contents):
            return False
    return True


# ------------------------------------------------------- renames across the folders
# Through a rename across a versions folder's boundary, files outside the folders
# decide the predicted merge: an edit on the other side follows a file renamed
# in, a folder renamed in takes along what the other side adds to its old place
# (directory renames), and git's merge pairs a deleted file with an added one by
# its own choice (only sources the other side touched), not ``diff-tree -M``'s.
# No folder tree the key holds shows any of it. So a stored result answers for
# the (HEAD, base, merge bases) it was computed for, with the index as HEAD has
# it outside the folders: that merge is the one the check made. For another
# triple (a commit outside the folders since) it answers only where git's merge
# can see no rename at all: one merge base, and no file deleted (nor a
# .gitattributes changed) on either side since it, in the commits or in the
# working tree's folders. Each stored value lists the triples it answers for;
# the attribute files git reads from the work tree and the git directory are in
# the key itself (``_State.compute``).


def _merge_pair(ws: Workspace, state: _State) -> tuple[str, str, tuple[str, ...]] | None:
    """(HEAD, base, their merge bases) as the key resolved them; None when no merge is predicted.

    The merge bases are part of it: a fetch that deepens a shallow clone moves them for
    the same two commits, and the key holds only the first one's folder trees.
    """
    g = state.git
    repo = ws.maybe_repo()
    if g is None or g.head is None or not g.base_ref or repo is None:
        return None
    head, base = g.head, g.base_ref[1]
    return head, base, repo.merge_bases(base, head)  # (asked once per run: the key's own)


def _still_proven(ws: Workspace, state: _State, found: Any, results: Any, key: str) -> Any:
    """The stored value ``found`` if it answers for this state's pair of commits, else None.

    A pair it lists costs one ``git diff-index`` (the index, which no key holds);
    another pair, ``_new_pair_proven``, then the value is stored again with it.
    """
    if not (isinstance(found, tuple) and len(found) == 5 and found[0] == FORMAT):
        return found  # nothing to answer with: ``_report`` says so
    pair = _merge_pair(ws, state)
    if pair is None:
        return found
    if not state.by_git:
        return None  # a key from scans holds the revision files only, not every file git's merge reads
    if pair in found[4]:
        return found if _index_clean_outside(ws, state) else None
    if not _new_pair_proven(ws, state, pair):
        return None
    found = (*found[:4], (*found[4][-7:], pair))
    results.put(key, found)
    return found


def _new_pair_proven(ws: Workspace, state: _State, pair: tuple[str, str, tuple[str, ...]]) -> bool:
    """Whether git's merge of ``pair`` sees no rename and no new merge attributes: the folder
    trees of the key then decide it alone, as they did for the pair the result was computed
    for (whose merge ``store`` found to be the by-path union of the folders: ``_merge_is_union``).

    A ``.gitattributes`` either side changed since the merge base may merge a file
    both sides changed (``merge=union``) or store it otherwise (``working-tree-encoding``).
    """
    repo = ws.maybe_repo()
    if repo is None or repo.root is None or not _index_clean_outside(ws, state):
        return False
    if _deleted_on_disk(state):
        return False  # a file deleted from the folders on disk is a deletion of HEAD's side too
    if _attributes_only_the_index_holds(repo, state):
        return False
    head, base, bases = pair
    if not bases:
        return True  # no merge base: no merge is predicted
    if len(bases) != 1:
        return False  # git merges from a virtual base, built with renames of its own
    return all(_side_changes(repo, bases[0], side) == (False, False) for side in dict.fromkeys((head, base)))


def _attributes_only_the_index_holds(repo: GitRepo, state: _State) -> bool:
    """Whether a ``.gitattributes`` on the way to the folders is missing on disk (or a
    symbolic link, which git does not read) but in the index.

    git stages HEAD's files with the index's copy then (the key holds the work tree's
    bytes only, "absent" alike for a file never there).
    """
    root = str(repo.root)
    absent = [path for kind, path, value in (state.git.attributes if state.git else ())
              if kind == "a" and value in ("absent", "symlink") and path.startswith(root + os.sep)]  # fmt: skip
    if not absent:
        return False
    done = repo.git("ls-files", "-z", "--", *absent, ok=range(256))
    return done.returncode != 0 or bool(done.stdout.strip(b"\0"))


def _index_clean_outside(ws: Workspace, state: _State) -> bool:
    """Whether the index holds HEAD's files outside the folders (``express.staged_outside``),
    or only edits of them while neither side deleted a file since the merge base.

    An edit staged outside the folders (a pre-commit hook's commit of application
    code) changes what git's merge makes only through a rename: one HEAD's side
    pairs with a deleted file, or one base made of the edited file; a file the
    index adds or deletes can be a rename's end itself.
    """
    repo = ws.maybe_repo()
    if repo is None or repo.root is None or state.git is None:
        return False
    done = repo.git(*express.staged_args(), ok=range(256))
    if done.returncode != 0:
        return False
    statuses = express.staged_outside(done.stdout, state.git.folders)
    if not statuses:
        return True
    pair = _merge_pair(ws, state)
    if not statuses <= {b"M", b"T"} or pair is None or len(pair[2]) != 1:
        return False
    if _deleted_on_disk(state):
        return False  # a file deleted from the folders can pair with the edited one
    # (base's side too: a file base renamed into the folders takes the staged edit along)
    changes = [_side_changes(repo, pair[2][0], side) for side in dict.fromkeys(pair[:2])]
    return all(change is not None and not change[0] for change in changes)


def _deleted_on_disk(state: _State) -> bool:
    """Whether git status listed a file deleted from the folders (True when it listed nothing)."""
    if not state.by_git or state.entries is None:
        return True
    return any("D" in row[0] for row in state.entries if row[0] != "//")


def _side_changes(repo: GitRepo, merge_base: str, side: str) -> tuple[bool, bool] | None:
    """(deleted a file, changed a ``.gitattributes``) of ``side`` since ``merge_base``; None
    when git cannot say. Asked of git once per run and pair of commits."""
    from revgraph.sources.merged import changes_args

    def ask() -> tuple[bool, bool] | None:
        done = repo.git(*changes_args(merge_base, side), ok=range(256))
        if done.returncode != 0:
            return None
        fields = done.stdout.split(b"\0")
        pairs = list(zip(fields[::2], fields[1::2]))
        deleted = any(status == b"D" for status, _ in pairs)
        attributes = any(path.rsplit(b"/", 1)[-1] == b".gitattributes" for _, path in pairs)
        return deleted, attributes

    return repo.while_pinned(f"changes {merge_base} {side}", ask)


def _placed_elsewhere(repo: GitRepo | None, ctx: EnvContext) -> bool:
    """Whether base or the merge base places revisions as its own config files say, not as
    the environment does (``sources.refsettings``), and so the predicted merge too.

    The key holds the environment's folder trees and the config files' blob ids: a
    folder only base's config names is in neither. Its revisions count (base's read,
    and a merge whose config conflicts reads both sides' folders), and one added
    there later moved nothing the key holds: an old result was served.
    """
    settings_at = repo.settings_at if repo is not None else None
    if settings_at is None:
        return False
    env = ctx.environment
    for snap in (ctx.merge_base, ctx.base):
        if snap is not None and snap.commit and settings_at(env, snap.commit) is not env:
            return True
    return False


def _relative_folders(ws: Workspace, repo: GitRepo | None, env: Environment) -> tuple[str, ...] | None:
    try:
        if repo is not None:
            return repo.folders(env)
        return env.versions_relative_to(ws.root)
    except RevgraphError:
        return None


def _inside(paths: Iterable[str], folders: tuple[str, ...]) -> bool:
    if any(not f for f in folders):
        return True
    prefixes = tuple(f"{f}/" for f in folders)
    from itertools import repeat

    return all(map(str.startswith, paths, repeat(prefixes)))  # one C loop: 80k paths in a cold 20k check


def _snapshot_contents(ctx: EnvContext) -> tuple[dict[str, Any], ...]:
    """``_contents`` of the merge base, HEAD, base and the predicted merge, in that order."""
    return tuple(_contents(snap) for snap in (ctx.merge_base, ctx.head, ctx.base, ctx.merged))


def _contents(snap: Snapshot | None) -> dict[str, Any]:
    """Path -> the blob id found there, or the sorted tuple of them (a conflict, or no id).

    One blob id per path is the rule, kept as the bare id: no tuple and no
    sort per path. A tuple never equals an id, so comparing two such maps
    compares what a tuple per path would (property-tested against that).
    """
    if snap is None:
        return {}
    from operator import attrgetter

    items = (*snap.revisions, *snap.problems)
    found = dict(zip(map(attrgetter("path"), items), map(attrgetter("blob_id"), items)))
    if len(found) == len(items) and None not in found.values():
        return found
    grouped: dict[str, list] = {}
    for item in items:
        grouped.setdefault(item.path, []).append(item.blob_id)
    return {
        path: ids[0] if len(ids) == 1 and ids[0] is not None else tuple(sorted(ids, key=str))
        for path, ids in grouped.items()
    }


def _as_tuple(value: Any) -> tuple:
    return () if value is None else value if isinstance(value, tuple) else (value,)


def _merge_is_union(ctx: EnvContext, contents: tuple[dict[str, Any], ...] | None = None) -> bool:
    """The predicted merge equals the by-path three-way union of merge base, HEAD and base.

    ``contents``: ``_snapshot_contents(ctx)``, when the caller has it.
    """
    base, ours, theirs, merged = contents if contents is not None else _snapshot_contents(ctx)
    if merged == ours and ours == theirs:
        return True  # every path agrees (base aside, whose value then does not matter)
    # Only paths where the four do not all agree need the rule; the rest pass
    # it. Those are the paths of the items (path, value) that ours and theirs,
    # or ours and merged, do not share (values are ids or tuples: hashable).
    paths = {path for path, _ in ours.items() ^ theirs.items()}
    paths.update(path for path, _ in ours.items() ^ merged.items())
    for path in paths:
        o, t, b = ours.get(path), theirs.get(path), base.get(path)
        if o == t or t == b:
            expected = o
        elif o == b:
            expected = t
        else:
            union = tuple(sorted((*_as_tuple(o), *_as_tuple(t)), key=str))
            expected = None if not union else union[0] if len(union) == 1 and union[0] is not None else union
        if merged.get(path) != expected:
            return False
    return True


# ------------------------------------------------------------ command line
# ``revgraph [globals] check [options]`` answered from this cache without
# building the typer app: typer coerces every parameter through pydantic,
# which costs more than the whole cache hit. Only the options below are
# understood (``entry.parse_argv`` says how); anything else (``--help``,
# ``--db``, ``-o``, ``--no-cache``, github/markdown formats, a short-option
# cluster) returns None and the normal CLI runs.
_CHECK_VALUES = {"--base": "base", "--format": "format", "-f": "format",
                 "--select": "select", "--ignore": "ignore"}  # fmt: skip
_CHECK_FLAGS = {"--strict": ("strict", True)}
FAST_FORMATS = ("text", "json", "sarif", "junit")


def parse_check_argv(argv: Sequence[str]) -> dict | None:
    """The options of a plain ``check`` command line, or None when it is anything else."""
    from revgraph.entry import parse_argv

    return parse_argv(argv, "check", _CHECK_VALUES, _CHECK_FLAGS)


def fast_check(argv: Sequence[str]) -> int | None:
    """Answer ``revgraph ... check ...`` from the result cache; None to run the normal CLI."""
    opts = parse_check_argv(argv)
    if opts is None or opts.get("no_cache") or opts.get("format", "text") not in FAST_FORMATS:
        return None
    if opts.get("select") and not any(code.strip() for value in opts["select"] for code in value.split(",")):
        return None  # `--select ", "` names no rule: the full CLI refuses it
    found = None
    if not _use_color(opts):
        try:
            found = express.answer(opts, __version__)
        except Exception:  # noqa: BLE001 - a ticket that cannot be followed: the fast path decides
            found = None
    if found is None:
        try:
            found = _fast_render(opts)
        except Exception:  # whatever it is, the normal path will meet it and report it properly
            return None
    if found is None:
        return None
    # The project's warnings (-q hides them, as the full CLI's workspace does), then the
    # report's own (printed whatever -q says, as ``cli.warn_report`` does; never cached).
    text, failed, warnings, *rest = found
    said = (*(() if opts.get("quiet") else warnings), *(rest[0] if rest else ()))
    try:
        import sys

        if said:
            from revgraph.entry import State

            st = State()
            st.color = opts.get("color")
            for note in said:
                st.say(f"warning: {note}", err=True)
        if opts.get("format", "text") == "text":
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
            sys.stdout.flush()
        else:
            from revgraph.entry import write_document

            write_document(text)
    except BrokenPipeError:
        return 1  # quietly, as revgraph.entry.exit_code_for ends a broken pipe
    return 1 if failed else 0


def _use_color(opts: dict) -> bool:
    color = opts.get("color")
    if color is None:
        from revgraph.entry import color_by_default  # as the full CLI decides it

        color = color_by_default()
    return color


def _fast_render(opts: dict) -> tuple | None:
    from revgraph.api import Workspace
    from revgraph.entry import options_from, versions_folder_warnings

    options = options_from(
        directory=opts.get("directory"), config=opts.get("config"), name=opts.get("name"),
        versions=opts.get("versions"), env=opts.get("env"), quiet=opts.get("quiet", False),
    )  # fmt: skip
    select, ignore = _split_codes(opts["select"]), _split_codes(opts["ignore"])
    if ignore and not _selected_codes(select, ignore):
        return None  # `--ignore ALL`: no rule left to run, the full CLI refuses it
    fmt, strict, verbose = opts.get("format", "text"), opts.get("strict", False), opts.get("verbose", False)
    quiet = opts.get("quiet", False)
    color = _use_color(opts)
    with Workspace(options) as ws:
        if versions_folder_warnings(ws):
            return None  # the full CLI warns about a missing or empty versions folder
        found = probe(ws, base=opts.get("base"), select=select, ignore=ignore)
        if found is None:
            return None  # the cache does not apply: the full CLI decides
        if found.report is None:
            return _check_here(ws, opts, found, select, ignore)
        report = found.report
        # Only JUnit lists the rules that ran (the rule catalogue costs an import).
        selected = _selected_codes(select, ignore) if fmt == "junit" else None
        render_key = _render_key(report, fmt, color, verbose, strict, selected, quiet)
        results = _results(ws)
        text = None if color else results.get(render_key)
        if not isinstance(text, str):
            from revgraph.render import render_report

            text = render_report(
                fmt, report, color=color, verbose=verbose, strict=strict, mermaid=None,
                doctor=False, selected=selected, quiet=quiet,
            )  # fmt: skip
            if not color:  # a terminal's width and colours are not part of the key
                results.put(render_key, text)
        answer = (text, report.failed(strict), ws.project.warnings)
        if not color:
            _record(ws, opts, found.facts, answer)
        return answer


def _check_here(
    ws: Workspace, opts: dict, found: Probe, select: tuple, ignore: tuple
) -> tuple[str, bool, tuple[str, ...], tuple[str, ...]]:
    """A miss: run the check and render it as ``revgraph check`` does, without typer.

    The full CLI would only add its imports (typer, click, pydantic: ~0.2 s)
    to a command line this plain: same ``api.check``, same rendering, same
    stores (result, rendering, express ticket). An error raised here sends
    the command line to the full CLI, which reports it.
    """
    global _handoff
    from revgraph.api import check
    from revgraph.render import render_report

    fmt, strict, verbose = opts.get("format", "text"), opts.get("strict", False), opts.get("verbose", False)
    quiet = opts.get("quiet", False)
    color = _use_color(opts)
    _handoff = ((repr(ws.options), found.request), found)  # api.check's lookup takes this probe
    if not color:  # remember_rendered makes a ticket of what it stores
        _express_pending[:] = [(opts, repr(ws.options), fmt, verbose, strict, select, ignore)]
    try:
        report = check(ws, base=opts.get("base"), select=select, ignore=ignore)
        text = render_report(
            fmt, report, color=color, verbose=verbose, strict=strict, mermaid=None, doctor=False,
            selected=_selected_codes(select, ignore), quiet=quiet,
        )  # fmt: skip
        if not color:
            remember_rendered(ws, report, text, fmt=fmt, verbose=verbose, strict=strict,
                              select=select, ignore=ignore, quiet=quiet)  # fmt: skip
    finally:
        _handoff = None
        _express_pending.clear()
    return text, report.failed(strict), tuple(ws.project.warnings), tuple(report.extras.get("warnings", ()))


def _render_key(
    report: Report, fmt: str, color: bool, verbose: bool, strict: bool, selected, quiet: bool = False
) -> str:
    render_opts = (fmt, color, verbose, strict, tuple(sorted(selected or ())), os.environ.get("COLUMNS"), quiet)
    return _digest(("rendered", FORMAT, report.findings, report.base, report.environments, render_opts))


def remember_rendered(
    ws: Workspace, report: Report, text: str, *, fmt: str, verbose: bool, strict: bool,
    select: Sequence[str], ignore: Sequence[str], quiet: bool = False,
) -> None:
    """Keep the full CLI's rendering of ``report`` for the fast path's next hit.

    Called by ``revgraph check`` for a request ``fast_check`` would answer
    (its formats, no colour, stdout, no ``--db``): the first hit after a
    change then prints this text instead of importing the renderers.
    """
    if fmt not in FAST_FORMATS or ws.options.no_cache or ws.cache is None:
        return
    if _vouched is None or _vouched.get(id(report)) is not report:
        return  # a result the cache does not hold: its rendering would never be asked for
    selected = _selected_codes(select, ignore) if fmt == "junit" else None
    try:
        _results(ws).put(_render_key(report, fmt, False, verbose, strict, selected, quiet), text)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a rendering
    pending = _express_pending.pop() if _express_pending else None
    stored = _stored_facts.pop(id(report), None)
    if pending is None or stored is None or stored[0] is not report:
        return
    opts, options, *asked = pending
    if options == repr(ws.options) and asked == [fmt, verbose, strict, tuple(select), tuple(ignore)]:
        _record(ws, opts, stored[1], (text, report.failed(strict), ws.project.warnings))


# The command line ``fast_check`` is checking (``_check_here``), for ``remember_rendered``.
_express_pending: list[tuple] = []


def _record(ws: Workspace, opts: dict, facts: tuple | None, answer: tuple) -> None:
    """Write an express ticket for this answer, when its facts are all known and consistent."""
    if facts is None:
        return
    try:
        plan, state, resolved, unmarked = facts
        repo = ws.maybe_repo()
        common = express.guess_common_dir(express.start_dir(opts.get("directory")))
        if repo is None or common is None or os.path.realpath(repo.common_dir) != common:
            return  # the lane would not look where this repository keeps its caches
        if ws.cache is None or os.path.realpath(ws.cache.directory) != os.path.join(common, "revgraph"):
            return
        discovered = _discovery(repo, plan[0])
        if discovered is None or not _resolves_alike(ws, repo, opts.get("base"), resolved):
            return
        express.record(common, express.ident(opts, __version__), (plan[0], discovered, *plan[2:]), state, answer,
                       unmarked)  # fmt: skip
    except (RevgraphError, OSError, ValueError):
        pass  # no ticket: the fast path answers next time


def _discovery(repo: GitRepo, start: str) -> str | None:
    """``git rev-parse`` of the repository layout as the lane runs it, if it agrees with ``repo``."""
    import subprocess
    from pathlib import Path

    if repo.discovery[0] == start:  # the repository was found from there: what git said then
        returncode, raw = 0, repo.discovery[1]
    else:
        done = subprocess.run(express.DISCOVER, cwd=start, capture_output=True, check=False,
                              env=express.git_environ({"LC_ALL": "C", "LANGUAGE": "C"}))  # fmt: skip
        returncode, raw = done.returncode, done.stdout.decode("utf-8", "surrogateescape").rstrip("\n")
    git_dir, common, bare, shallow, inside, _object_format, cdup = (raw.split("\n") + [""] * 7)[:7]
    here = Path(start)
    alike = (
        returncode == 0 and inside == "true" and Path(git_dir) == Path(repo.git_dir)
        and (here / common).resolve() == Path(repo.common_dir) and (bare == "true") == repo.bare
        and (shallow == "true") == repo.is_shallow() and repo.root is not None
        and (here / cdup).resolve() == Path(repo.root)
    )  # fmt: skip
    return raw if alike else None


def _resolves_alike(ws: Workspace, repo: GitRepo, base: str | None, resolved: tuple) -> bool:
    """Whether HEAD, the base, the protected refs and base's remote copy resolve as
    ``_git_state`` found them, by the functions the check itself uses."""
    from revgraph.api import _shared_copy, _try_resolve
    from revgraph.api.checking import _protected_refs

    head, base_ref, protected, remote = resolved
    if repo.head_sha() != head:
        return False
    if base_ref is not None:
        found = ws.resolve_base(base)
        if found is None or (found.ref, found.sha, found.how) != base_ref:
            return False
    if remote is not None:
        name = _shared_copy(repo, base_ref[0])
        if (name, _try_resolve(repo, name) if name else None) != remote or _upstream_unfetched(repo, base_ref[0]):
            return False
    return tuple(_protected_refs(ws, repo)) == tuple(protected)


def _upstream_unfetched(repo: GitRepo, branch: str) -> bool:
    """Whether ``branch``'s configured upstream has no ref here yet.

    A ticket watches the remote copy ``_shared_copy`` picked; the fetch that
    creates this upstream would change the pick without touching any fact the
    ticket holds. Rare: no ticket then.
    """
    from revgraph.api import _try_resolve, branch_upstream, local_branch_name

    upstream = branch_upstream(repo, local_branch_name(branch))
    return upstream is not None and (not upstream[0] or _try_resolve(repo, upstream[0]) is None)


def _split_codes(values: Sequence[str]) -> tuple[str, ...]:
    from revgraph.rules import split_codes

    return split_codes(values)


def _selected_codes(select: Sequence[str], ignore: Sequence[str]) -> set[str]:
    from revgraph.rules import selected_rules

    return selected_rules(select, ignore)


__all__ = [
    "FORMAT",
    "Probe",
    "WorktreeScan",
    "code_fingerprint",
    "fast_check",
    "parse_check_argv",
    "probe",
    "remember_rendered",
    "worktree_digest",
]  # fmt: skip
