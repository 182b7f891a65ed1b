"""``revgraph audit``: what happened to the revision graph along a branch's history.

The branch's first-parent history is the order revisions landed in. Walking
it, consecutive snapshots tell:

* **multi-head windows**: from the commit where a line of the graph got a
  second head to the commit that brought it back to one (by a merge revision,
  a re-point or a deletion), or still open;
* **merge revisions** added, and when;
* **landed revisions later changed**: edited (content beyond whitespace and
  comments, as RG203), re-pointed (``down_revision``, as RG201) or deleted
  (as RG202). A revision present in the previous first-parent commit has
  landed on that branch.

:class:`EnvAuditBuilder` is the pure part: it is fed revision graphs and
returns data. :func:`run_audit` reads git (a snapshot is read only for the
commits where the versions folders' tree ids changed; blobs are parsed once,
through the workspace's parse cache). The ``render_*`` functions turn a report
into text, markdown or JSON.

The history itself (first-parent commits, their dates and subjects, folder
tree ids, blobs for fingerprints) is read through GitPython, one ``git.Repo``
per run: the walk takes seconds on a real history and is not on a hot path,
so GitPython's import is paid here and only here (``git`` is imported inside
the functions). The snapshots are read by ``sources.gitref`` as everywhere
else (docs/architecture.md says why the hot paths do not use GitPython).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, Sequence

from revgraph.errors import GitError, UnknownRefError, UsageError
from revgraph.model import Revision, RevisionGraph

if TYPE_CHECKING:  # pragma: no cover
    import git

    from revgraph.api import Workspace
    from revgraph.sources.gitref import GitRepo

JSON_VERSION = 1

# How a window closed, when no merge revision closed it.
CLOSED_BY_MERGE = "merge revision"
CLOSED_BY_REPOINT = "re-point"
CLOSED_BY_DELETION = "deletion"
CLOSED_OTHERWISE = "other change"


# ----------------------------------------------------------------- the data
@dataclass(frozen=True)
class CommitInfo:
    sha: str
    date: str  # committer date, ISO 8601
    subject: str = ""

    @property
    def short(self) -> str:
        return self.sha[:10]

    def to_json(self) -> dict:
        return {"commit": self.sha, "date": self.date, "subject": self.subject}


@dataclass(frozen=True)
class Window:
    """A stretch of history during which one line of the graph had several heads."""

    opened: CommitInfo
    heads: tuple[str, ...]  # the competing heads when it opened
    closed: CommitInfo | None = None
    heads_after: tuple[str, ...] = ()  # the heads once closed
    closed_by: str | None = None  # the merge revision that closed it
    how: str | None = None  # CLOSED_BY_* when closed
    before_range: bool = False  # already open at the commit before --since
    heads_now: tuple[str, ...] = ()  # still open: the competing heads at the last commit

    def to_json(self) -> dict:
        opened = {**self.opened.to_json(), "heads": list(self.heads)}
        if self.before_range:
            opened["before_range"] = True
        closed = None
        if self.closed is not None:
            closed = {**self.closed.to_json(), "heads": list(self.heads_after)}
        data = {"opened": opened, "closed": closed, "closed_by": self.closed_by, "how": self.how}
        if self.closed is None:
            data["heads_now"] = list(self.heads_now)
        return data


@dataclass(frozen=True)
class RevisionEvent:
    """Something that happened to one revision in one commit."""

    kind: str  # "edited" | "repointed" | "deleted" | "merge"
    revision: str
    commit: CommitInfo
    path: str = ""
    old: tuple[str, ...] = ()  # down_revisions before (repointed)
    new: tuple[str, ...] = ()  # down_revisions after (repointed), parents (merge)

    def to_json(self) -> dict:
        data = {"revision": self.revision, **self.commit.to_json(), "path": self.path}
        if self.kind == "repointed":
            data["old"] = list(self.old)
            data["new"] = list(self.new)
        elif self.kind == "merge":
            data["parents"] = list(self.new)
        return data


@dataclass(frozen=True)
class EnvAudit:
    environment: str
    windows: tuple[Window, ...] = ()
    events: tuple[RevisionEvent, ...] = ()

    def of_kind(self, kind: str) -> tuple[RevisionEvent, ...]:
        return tuple(e for e in self.events if e.kind == kind)

    @property
    def open_windows(self) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if w.closed is None)

    @property
    def empty(self) -> bool:
        return not self.windows and not self.events

    def to_json(self) -> dict:
        return {
            "name": self.environment,
            "windows": [w.to_json() for w in self.windows],
            "edited": [e.to_json() for e in self.of_kind("edited")],
            "repointed": [e.to_json() for e in self.of_kind("repointed")],
            "deleted": [e.to_json() for e in self.of_kind("deleted")],
            "merges": [e.to_json() for e in self.of_kind("merge")],
        }


@dataclass(frozen=True)
class AuditReport:
    ref: str
    commit: str | None  # the sha ``ref`` named
    commits: int  # first-parent commits walked
    since: str | None = None
    environments: tuple[EnvAudit, ...] = ()
    shallow_boundary: str | None = None  # a shallow clone's history starts (is cut) here

    def to_json(self) -> dict:
        return {
            "version": JSON_VERSION,
            "ref": self.ref,
            "commit": self.commit,
            "since": self.since,
            "commits": self.commits,
            "shallow_boundary": self.shallow_boundary,
            "environments": [e.to_json() for e in self.environments],
        }


# ------------------------------------------------------------ the pure part
def competing_heads(graph: RevisionGraph, allow_heads: int | None = None) -> tuple[str, ...]:
    """Heads that share a line of the graph with another head (empty when healthy).

    RG101's verdict (``checks.graph.competing_heads``), with every label
    counted as landed, since history on the branch has landed: heads on
    distinct branch labels are separate lines, and heads whose lines share a
    label compete (``core`` and ``core, ext`` are one line for alembic's
    ``core@head``).
    """
    heads = graph.heads
    if len(heads) < 2:
        return ()
    if not graph.labels:
        return () if allow_heads is not None and len(heads) <= allow_heads else heads
    from functools import partial

    from revgraph.checks import graph as rules

    return rules.competing_heads(
        heads, partial(rules.label_lineage, graph), frozenset(graph.labels), lambda: True, allow_heads
    )


Fingerprint = Callable[[Revision], "str | None"]


class EnvAuditBuilder:
    """Fed the graph of each commit where the environment changed, in history order."""

    def __init__(self, environment: str, *, allow_heads: int | None = None) -> None:
        self.environment = environment
        self.allow_heads = allow_heads
        self._graph: RevisionGraph | None = None
        self._windows: list[Window] = []
        self._open: Window | None = None
        self._competing: tuple[str, ...] = ()  # at the last commit fed
        self._events: list[RevisionEvent] = []

    def start(self, commit: CommitInfo, graph: RevisionGraph) -> None:
        """The state before the walked range (the parent of its first commit)."""
        self._graph = graph
        competing = competing_heads(graph, self.allow_heads)
        self._competing = competing
        if competing:
            self._open = Window(commit, competing, before_range=True)

    def step(self, commit: CommitInfo, graph: RevisionGraph, fingerprint: Fingerprint) -> None:
        before = self._graph
        self._graph = graph
        changes = _changes(before, graph, commit, fingerprint) if before is not None else []
        added_merges = _added_merges(before, graph, commit)
        self._events.extend(changes)
        self._events.extend(added_merges)
        self._track_window(commit, graph, changes, added_merges)

    def _track_window(
        self,
        commit: CommitInfo,
        graph: RevisionGraph,
        changes: Sequence[RevisionEvent],
        merges: Sequence[RevisionEvent],
    ) -> None:
        competing = competing_heads(graph, self.allow_heads)
        self._competing = competing
        if competing and self._open is None:
            self._open = Window(commit, competing)
        elif not competing and self._open is not None:
            self._windows.append(self._close(self._open, commit, graph, changes, merges))
            self._open = None

    @staticmethod
    def _close(
        window: Window,
        commit: CommitInfo,
        graph: RevisionGraph,
        changes: Sequence[RevisionEvent],
        merges: Sequence[RevisionEvent],
    ) -> Window:
        joined = set(window.heads)
        closer = next(
            (m.revision for m in merges if joined & (graph.closure([m.revision]) - {m.revision})),
            None,
        )
        kinds = {c.kind for c in changes}
        if closer is not None:
            how = CLOSED_BY_MERGE
        elif "repointed" in kinds:
            how = CLOSED_BY_REPOINT
        elif "deleted" in kinds:
            how = CLOSED_BY_DELETION
        else:
            how = CLOSED_OTHERWISE
        return Window(
            window.opened, window.heads, commit, graph.heads, closer, how, window.before_range
        )

    def finish(self) -> EnvAudit:
        windows = list(self._windows)
        if self._open is not None:
            # Other heads may keep it open now (a merge revision joined the first
            # ones while another line forked): name them, not only the first.
            windows.append(dataclasses.replace(self._open, heads_now=self._competing))
        return EnvAudit(self.environment, tuple(windows), tuple(self._events))


def _changes(
    before: RevisionGraph, after: RevisionGraph, commit: CommitInfo, fingerprint: Fingerprint
) -> list[RevisionEvent]:
    """Landed revisions (in ``before``) re-pointed, edited or deleted in ``after``."""
    events = []
    for rid in sorted(before.revisions):
        old = before[rid]
        new = after.revisions.get(rid)
        if new is None:
            events.append(RevisionEvent("deleted", rid, commit, old.path))
        elif set(old.down_revisions) != set(new.down_revisions):  # their order is not the graph's
            events.append(
                RevisionEvent("repointed", rid, commit, new.path, old.down_revisions, new.down_revisions)
            )
        elif old.blob_id != new.blob_id and fingerprint(old) != fingerprint(new):
            events.append(RevisionEvent("edited", rid, commit, new.path))
    return events


def _added_merges(
    before: RevisionGraph | None, after: RevisionGraph, commit: CommitInfo
) -> list[RevisionEvent]:
    known = before.revisions if before is not None else {}
    return [
        RevisionEvent("merge", rid, commit, rev.path, new=tuple(rev.down_revisions))
        for rid, rev in sorted(after.revisions.items())
        if rid not in known and rev.is_merge
    ]


# ----------------------------------------------------------------- reading git
@dataclass
class _EnvWalk:
    environment: object  # config.Environment, as the working tree's settings describe it
    folders: tuple[str, ...]
    builder: EnvAuditBuilder
    last_key: tuple | None = None
    fingerprints: dict[str, str | None] = field(default_factory=dict)
    # commit -> (environment, folders) as that commit's own config files place
    # revisions (``sources.refsettings``), for the commits where they differ.
    placed: dict[str, tuple[object, tuple[str, ...]]] = field(default_factory=dict)

    def at(self, sha: str) -> tuple[object, tuple[str, ...]]:
        return self.placed.get(sha, (self.environment, self.folders))


Progress = Callable[[int, int], None]


def run_audit(
    ws: "Workspace",
    ref: str | None = None,
    *,
    since: str | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Walk ``ref``'s first-parent history (default: the base branch) and report."""
    repo = ws.repo("audit")
    if ref is None:
        try:
            base = ws.resolve_base(None)
        except GitError as exc:
            # The shared refusal names check's option; audit takes its ref as --ref.
            if exc.hint:
                exc.hint = exc.hint.replace("--base REF", "--ref REF").replace("--base ", "--ref ")
            raise
        assert base is not None
        ref = base.ref
    try:
        sha = repo.resolve(ref)
    except UnknownRefError:
        raise repo.unknown_ref_error(ref, commit_required=True) from None  # a tree, a blob: say so
    with _open_history(repo) as history:
        return _walk(ws, repo, history, ref, sha, since=since, progress=progress)


def _walk(
    ws: "Workspace",
    repo: "GitRepo",
    history: "git.Repo",
    ref: str,
    sha: str,
    *,
    since: str | None,
    progress: Progress | None,
) -> AuditReport:
    if since is not None:
        _check_date(history, since)
    commits = _first_parent_commits(history, sha, since)
    walks = [
        _EnvWalk(env, repo.folders(env), EnvAuditBuilder(env.name, allow_heads=env.allow_heads))
        for env in ws.environments
    ]
    cut = commits[0].sha if commits and commits[0].sha in _shallow_commits(repo) else None
    if cut is not None:
        # A shallow clone's boundary is not where history starts: what its tree
        # holds was added before it, when is unknown. It is the state the walk
        # starts from, as the parent of a --since range is.
        _start_from(ws, repo, history, walks, commits[0])
    elif commits:
        _start_from_parent(ws, repo, history, walks, commits[0])
    shas = [c.sha for c in commits]
    _place(repo, history, walks, shas)
    trees = _folder_trees(history, shas, {f for w in walks for sha in shas for f in w.at(sha)[1]})
    if repo.promisor_remotes():
        _fetch_history(ws, repo, walks, shas, trees)
    for index, commit in enumerate(commits):
        for walk in walks:
            env, folders = walk.at(commit.sha)
            found = tuple(trees.get((commit.sha, folder)) for folder in folders)
            key = (env, folders, found)  # the same trees read with other settings are another graph
            if key == walk.last_key:
                continue
            walk.last_key = key
            graph = _graph_at(ws, repo, env, folders, commit.sha, found)
            walk.builder.step(commit, graph, lambda rev, w=walk: _fingerprint(history, w, rev))
        if progress is not None:
            progress(index + 1, len(commits))
    return AuditReport(
        ref=ref,
        commit=sha,
        commits=len(commits),
        since=since,
        environments=tuple(w.builder.finish() for w in walks),
        shallow_boundary=cut,
    )


def _fetch_history(ws, repo: "GitRepo", walks: Sequence[_EnvWalk], shas: Sequence[str], trees: dict) -> None:
    """In a partial clone, fetch the revision files the walk will read, all in one fetch.

    Each commit's read would otherwise fetch its own new files (one round trip
    per commit that changed the folder). Files the parse cache already holds
    are left out (a CI cache restored into a fresh partial clone), and so are
    files already here (``prefetch_blobs`` asks git first).
    """
    wanted: dict[str, None] = {}
    seen: set[tuple] = set()
    for sha in shas:
        for walk in walks:
            env, folders = walk.at(sha)
            found = tuple(trees.get((sha, folder)) for folder in folders)
            if all(tree is None for tree in found) or _LINK_TROUBLE in found or (env, folders, found) in seen:
                continue
            seen.add((env, folders, found))
            listed, _ = repo.listing_at(sha, folders, label=f"commit {sha}")
            for entry in listed:
                if entry.mode != "160000" and (ws.cache is None or ws.cache.get(entry.oid, entry.path) is None):
                    wanted[entry.oid] = None
    repo.prefetch_blobs(list(wanted))


def _shallow_commits(repo: "GitRepo") -> frozenset[str]:
    """The commits a shallow clone has without their parents (``<git dir>/shallow``)."""
    try:
        text = (repo.common_dir / "shallow").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(text.split())


def _start_from_parent(
    ws, repo: "GitRepo", history: "git.Repo", walks: Sequence[_EnvWalk], first: CommitInfo
) -> None:
    """With ``--since``, the range starts mid-history: its first commit is compared
    with its parent, and a window already open there is reported as such."""
    parents = _rev_list(history, first.sha, max_count=1, skip=1)
    if parents:
        _start_from(ws, repo, history, walks, _commit_infos(history, parents[:1])[0])


def _start_from(ws, repo: "GitRepo", history: "git.Repo", walks: Sequence[_EnvWalk], info: CommitInfo) -> None:
    """Feed every walk ``info``'s graph as the state before the range (``EnvAuditBuilder.start``)."""
    parent_sha = info.sha
    _place(repo, history, walks, [parent_sha])
    trees = _folder_trees(history, [parent_sha], {f for w in walks for f in w.at(parent_sha)[1]})
    for walk in walks:
        env, folders = walk.at(parent_sha)
        found = tuple(trees.get((parent_sha, folder)) for folder in folders)
        walk.last_key = (env, folders, found)
        walk.builder.start(info, _graph_at(ws, repo, env, folders, parent_sha, found))


def _place(repo: "GitRepo", history: "git.Repo", walks: Sequence[_EnvWalk], shas: Sequence[str]) -> None:
    """Note, for each walk, the commits whose own config files place revisions elsewhere
    than the working tree's (a versions folder renamed, recursion turned on).

    The config files' blob ids at every commit come from one git process; each
    distinct version of them is then read once (``GitRepo.settings_at``).
    """
    settings_at = repo.settings_at
    if settings_at is None or repo.root is None or not shas:
        return
    from revgraph.sources.refsettings import config_paths

    paths = config_paths([w.environment for w in walks], repo.root)  # type: ignore[misc]
    if not paths:
        return
    blobs = _objects(history, shas, paths, kind="blob")
    for walk in walks:
        own = config_paths([walk.environment], repo.root)  # type: ignore[list-item]
        versions: dict[tuple, tuple[object, tuple[str, ...]]] = {}
        for sha in shas:
            version = tuple(blobs.get((sha, path)) for path in own)
            if version not in versions:
                env = settings_at(walk.environment, sha)  # type: ignore[arg-type]
                versions[version] = (env, walk.folders if env is walk.environment else repo.folders(env))
            if versions[version][0] is not walk.environment:
                walk.placed[sha] = versions[version]


def _graph_at(ws, repo: "GitRepo", env, folders: tuple[str, ...], sha: str, trees: tuple) -> RevisionGraph:
    """``env``'s graph at commit ``sha``, whose versions ``folders`` have tree ids ``trees``."""
    if all(tree is None for tree in trees):
        return RevisionGraph(())  # the versions folders do not exist yet
    if _LINK_TROUBLE in trees:
        repo.real_folders(sha, folders, label=f"commit {sha}")  # raises, naming the link
    # read_ref without its rev-parse: ``sha`` is already a commit id.
    from revgraph.sources.gitref import build_snapshot, group_entries

    # A folder behind a symlink is listed where the link leads (its tree id, which
    # ``trees`` holds, is that folder's: ``_folder_trees`` follows links too).
    listed, used = repo.listing_at(sha, folders, label=f"commit {sha}")
    snapshot = build_snapshot(
        repo, env, used, group_entries(listed), source=sha, commit=sha, cache=ws.cache, treeish=sha,
    )  # fmt: skip
    return RevisionGraph(snapshot.revisions)


def _fingerprint(history: "git.Repo", walk: _EnvWalk, rev: Revision) -> str | None:
    """The RG203 fingerprint of a revision's content, read once per blob."""
    if rev.blob_id is None:
        return None
    if rev.blob_id not in walk.fingerprints:
        from revgraph.parse import fingerprint

        data = _blob(history, rev.blob_id)
        walk.fingerprints[rev.blob_id] = fingerprint(data) if data else None
    return walk.fingerprints[rev.blob_id]


def _blob(history: "git.Repo", blob_id: str) -> bytes | None:
    """The blob's bytes from GitPython's object database (one ``cat-file --batch``
    for the whole run); None when git has no such blob, as ``cat-file blob`` would say.

    GitPython's batch reader takes 40-character ids only: a SHA-256 repository's
    blob is read by ``git cat-file blob`` alone (only edited landed revisions are).
    """
    if len(blob_id) != 40:
        try:
            return _git(history, "cat-file", "blob", blob_id)
        except GitError:
            return None
    try:
        stream = history.odb.stream(bytes.fromhex(blob_id))
        data = stream.read()  # read in full, whatever its type: the batch stays in step
    except ValueError:  # git answered "missing" (or the batch process is gone)
        history.git.clear_cache()  # a fresh batch process for the next blob
        return None
    return data if stream.type == b"blob" else None


# YYYY-MM-DD, optionally with a time after a space or T.
_ISO_SHAPED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_DATE_HINT = "use a date such as 2024-03-01, or '3 months ago'"


def _check_date(history: "git.Repo", since: str) -> None:
    """git reads any text as a date ("foo" means now): refuse what is not one."""
    import datetime
    import time

    try:
        datetime.datetime.fromisoformat(since)
        return
    except ValueError:
        pass
    shaped = _ISO_SHAPED.match(since.strip())
    if shaped is not None:
        # Shaped as a date but not one (2020-13-45): git would read some other day
        # into it (2020-11-13) and walk a range nobody asked for.
        try:
            datetime.datetime(*(int(part) for part in shaped.groups(default="0")))
            return
        except ValueError:
            raise UsageError(
                f"--since {since!r} is not a valid date",
                hint=_DATE_HINT,
            ) from None
    out = _git(history, "rev-parse", f"--since={since}").decode().strip()
    stamp = out.rpartition("=")[2]
    if stamp.isdigit() and abs(int(stamp) - time.time()) > 2:
        return
    # "now" (git's answer to nonsense) is right for these.
    if since.strip().lower() in ("now", "today") or any(ch.isdigit() for ch in since):
        return
    raise UsageError(
        f"--since {since!r} is not a date git understands",
        hint=_DATE_HINT,
    )


def _first_parent_commits(history: "git.Repo", sha: str, since: str | None) -> list[CommitInfo]:
    if since is None:
        return _commit_infos(history, _rev_list(history, sha, reverse=True))
    return _commit_infos(history, _since(history, sha, since))


def _since(history: "git.Repo", sha: str, since: str) -> list[str]:
    """The first-parent commits since ``since``, oldest first: an unbroken stretch up to the tip.

    ``git rev-list --since`` stops at the first older commit it meets: one
    commit with a skewed clock (a machine's wrong clock, a date kept by a
    rebase) cut the range there, and the window opened before it was
    reported as already open "before the range". ``--since-as-filter`` (git
    2.37) dates every commit; the range starts where it splits the history
    best (``_split``), so a stray date on either side moves nothing.
    """
    from revgraph.sources.gitref import git_version

    if git_version() < (2, 37):
        return _rev_list(history, sha, reverse=True, since=since)
    dated = set(_rev_list(history, sha, since_as_filter=since))
    every = _rev_list(history, sha, reverse=True)
    return every[_split([commit in dated for commit in every]):]


def _split(inside: Sequence[bool]) -> int:
    """Where a history (oldest first) is best cut into "before" and "since": the index
    whose cut leaves the fewest commits on the wrong side (the earliest such index)."""
    wrong = len(inside) - sum(inside)  # cut at 0: all "since"; those not dated so are wrong
    best, best_wrong = 0, wrong
    for index, is_inside in enumerate(inside, start=1):
        wrong += 1 if is_inside else -1  # the commit moves to "before"
        if wrong < best_wrong:
            best, best_wrong = index, wrong
    return best


def _rev_list(history: "git.Repo", sha: str, **options: object) -> list[str]:
    """The ids of ``sha``'s first-parent history (``git rev-list --first-parent``
    with ``options``, ``max_count=1`` for ``--max-count=1``); nothing is read but ids.

    Through GitPython's command interface, not ``iter_commits``: its parser takes
    40-character ids, and failed on a SHA-256 repository's (a reviewer).
    """
    flags = [
        f"--{name.replace('_', '-')}" if value is True else f"--{name.replace('_', '-')}={value}"
        for name, value in options.items()
        if value is not None and value is not False
    ]
    out = _git(history, "rev-list", "--first-parent", *flags, sha, "--")
    return out.decode("ascii", "replace").split()


def _commit_infos(history: "git.Repo", shas: Sequence[str]) -> list[CommitInfo]:
    """Dates and subjects of ``shas``, in that order, from one git process.

    git's own ``%cI`` and ``%s`` (the subject is the first paragraph, its lines
    joined), not GitPython's ``Commit`` (whose summary is the first line only,
    read one commit object at a time).
    """
    if not shas:
        return []
    out = _git(
        history, "log", "--no-walk=unsorted", "--format=%H%x00%cI%x00%s", "--stdin",
        input="\n".join(shas).encode() + b"\n",
    ).decode("utf-8", "replace")  # fmt: skip
    found: dict[str, CommitInfo] = {}
    for line in out.splitlines():
        commit_sha, date, subject = (line.split("\0") + ["", ""])[:3]
        found[commit_sha] = CommitInfo(commit_sha, date, subject)
    return [found.get(s, CommitInfo(s, "")) for s in shas]


def _folder_trees(
    history: "git.Repo", shas: Sequence[str], folders: Iterable[str]
) -> dict[tuple[str, str], str | None]:
    """(commit, folder) -> the folder's tree id (None when absent), from one git process.

    Symlinks on the way are followed inside the commit: a linked folder's id is that
    of the folder it leads to, so the graph is read again when that folder changes.
    A link that leaves the repository or loops is the ``_LINK_TROUBLE`` marker.
    """
    return _objects(history, shas, sorted(set(folders)), kind="tree", follow=True)


# ``_folder_trees``' answer for a folder behind a symlink git cannot follow inside the
# commit (out of the repository, a loop): reading it says why (``GitRepo.real_folders``).
_LINK_TROUBLE = "link"


def _objects(
    history: "git.Repo", shas: Sequence[str], paths: Sequence[str], *, kind: str, follow: bool = False
) -> dict[tuple[str, str], str | None]:
    """(commit, path) -> the id of the ``kind`` object there (None when absent or another
    kind; ``""`` is the commit's root tree), from one ``cat-file --batch-check``;
    ``follow``: symlinks followed (``--follow-symlinks``)."""
    requests = [(sha, path) for sha in shas for path in paths]
    if not requests:
        return {}
    lines = "".join((f"{sha}:{path}\n" if path else f"{sha}^{{tree}}\n") for sha, path in requests)
    options = ("--follow-symlinks",) if follow else ()
    out = _git(
        history, "cat-file", "--batch-check=%(objectname) %(objecttype)", *options, input=lines.encode()
    ).decode("utf-8", "surrogateescape")
    found: dict[tuple[str, str], str | None] = {}
    answers = iter(out.split("\n"))
    for request in requests:
        answer = next(answers, "")
        oid, _, what = answer.partition(" ")
        if follow and oid in ("symlink", "loop", "dangling", "notdir"):
            next(answers, "")  # these answers take a second line: the target, or the request
            found[request] = _LINK_TROUBLE if oid in ("symlink", "loop") else None
            continue
        found[request] = oid if what == kind else None
    return found


@contextmanager
def _open_history(repo: "GitRepo") -> Iterator["git.Repo"]:
    """GitPython's ``Repo`` for ``repo``, for one audit run, closed after it.

    Its git runs as this module's always did: on ``repo``'s git dir
    (``--git-dir``, whatever ``GIT_DIR`` says), without optional locks (read
    only: no index refresh), and in the user's own locale: GitPython sets
    ``LC_ALL=C`` and ``LANGUAGE=C``, which is for parsing git's messages; this
    module only shows them. (An empty value is what an unset one means.)
    """
    try:
        import git
    except ImportError as exc:  # GitPython missing, or its import found no git to run
        raise GitError(f"git is not available: {_first_line(str(exc)) or exc!r}") from None
    try:
        history = git.Repo(repo.root or repo.git_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"not a git repository: {repo.root or repo.git_dir}") from None
    try:
        history.git.set_persistent_git_options(git_dir=str(repo.git_dir))
        history.git.update_environment(
            GIT_OPTIONAL_LOCKS="0",
            LC_ALL=os.environ.get("LC_ALL", ""),
            LANGUAGE=os.environ.get("LANGUAGE", ""),
        )
        yield history
    except git.GitCommandNotFound as exc:  # git went away since ``repo`` found it
        raise GitError(f"git is not available: {exc.status}") from None
    except GitError as exc:
        stderr = getattr(exc, "stderr", None)  # ``_git``'s: all of git's words
        if stderr is not None and repo.lazy_fetch_failed(stderr):  # a partial clone's object git could not fetch
            raise repo.unfetched(stderr) from None
        raise
    finally:
        history.close()


def _git(history: "git.Repo", command: str, *args: str, input: bytes | None = None) -> bytes:
    """``git <command> <args>`` through GitPython's command interface; its stdout.

    Started as a process (``as_process``, with ``istream`` when ``input`` is fed)
    and waited for here, so that a failure is told by git's own first line of
    stderr, as one line: ``GitCommandError``'s text is several lines of GitPython's.
    """
    method = getattr(history.git, command.replace("-", "_"))
    proc = method(*args, as_process=True, istream=subprocess.PIPE if input is not None else None)
    out, err = proc.communicate(input)
    if proc.returncode != 0:
        error = GitError(f"git {command} failed: {_first_line(err) or proc.returncode}")
        error.stderr = err.decode("utf-8", "replace")  # all of it: ``_open_history`` tells a failed lazy fetch
        raise error
    return out


def _first_line(text: "bytes | str") -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


# ------------------------------------------------------------------ rendering
def _heads(ids: Iterable[str]) -> str:
    return ", ".join(_data(i) for i in ids) or "none"


def _data(text: str) -> str:
    """An id, path or name in a line of text: a line break in it is shown, never made."""
    from revgraph.render.inert import one_line

    return one_line(text)


def _when(commit: CommitInfo) -> str:
    return f"{commit.date[:10]} {commit.short}"


def _cut_off(boundary: str) -> str:
    return (
        f"history is cut off at {boundary[:10]} (a shallow clone): what happened before it is "
        "unknown; `git fetch --unshallow` fetches the rest"
    )


def _window_line(window: Window) -> str:
    start = "open before the range, at" if window.before_range else "opened"
    line = f"{start} {_when(window.opened)} with heads {_heads(window.heads)}"
    if window.closed is None:
        now = f" (heads now {_heads(window.heads_now)})" if window.heads_now != window.heads else ""
        return f"{line}; still open{now}"
    if window.closed_by:
        return f"{line}; closed {_when(window.closed)} by merge revision {window.closed_by}"
    how = "another change" if window.how == CLOSED_OTHERWISE else f"a {window.how}"
    return f"{line}; closed {_when(window.closed)} by {how}"


def _event_line(event: RevisionEvent) -> str:
    rid, path = _data(event.revision), _data(event.path)
    if event.kind == "merge":
        return f"{rid} (merges {_heads(event.new)}) added {_when(event.commit)}  {path}"
    if event.kind == "repointed":
        return f"{rid}: {_heads(event.old)} -> {_heads(event.new)} {_when(event.commit)}  {path}"
    return f"{rid} {event.kind} {_when(event.commit)}  {path}"


_SECTIONS = (
    ("merge", "merge revisions added"),
    ("edited", "landed revisions edited"),
    ("repointed", "landed revisions re-pointed"),
    ("deleted", "landed revisions deleted"),
)


def render_text(report: AuditReport) -> str:
    """Plain lines (the command adds colour when on a terminal)."""
    since = f" since {report.since}" if report.since else ""
    out = [f"{_data(report.ref)}: {report.commits} first-parent commit(s){since}"]
    if report.shallow_boundary:
        out.append(_cut_off(report.shallow_boundary))
    for env in report.environments:
        if len(report.environments) > 1:
            out.append(f"\n[{_data(env.environment)}]")
        if env.empty:
            out.append("no multi-head windows, no merge revisions, no landed revision changed")
            continue
        out.append(f"multi-head windows: {len(env.windows)}")
        out.extend(f"  {_window_line(w)}" for w in env.windows)
        for kind, title in _SECTIONS:
            events = env.of_kind(kind)
            if events:
                out.append(f"{title}: {len(events)}")
                out.extend(f"  {_event_line(e)}" for e in events)
    return "\n".join(out) + "\n"


def render_markdown(report: AuditReport) -> str:
    from revgraph.render.markdown import cell, code_span

    since = f" since {cell(report.since)}" if report.since else ""
    out = [f"## revgraph audit of {code_span(report.ref)}", "", f"{report.commits} first-parent commit(s){since}."]
    if report.shallow_boundary:
        out += ["", _cut_off(report.shallow_boundary)]
    for env in report.environments:
        out += ["", f"### {cell(env.environment)}", ""]
        if env.empty:
            out.append("No multi-head windows, no merge revisions, no landed revision changed.")
            continue
        if env.windows:
            out += ["| opened | heads | closed | by |", "| --- | --- | --- | --- |"]
            for w in env.windows:
                closed = f"{w.closed.date[:10]} {code_span(w.closed.short)}" if w.closed else "**still open**"
                if w.closed is None and w.heads_now != w.heads:
                    closed += f" (heads now {', '.join(code_span(h) for h in w.heads_now)})"
                by = code_span(w.closed_by) if w.closed_by else cell(w.how or "")
                out.append(
                    f"| {w.opened.date[:10]} {code_span(w.opened.short)} | "
                    f"{', '.join(code_span(h) for h in w.heads)} | {closed} | {by} |"
                )
            out.append("")
        events = [e for kind, _ in _SECTIONS for e in env.of_kind(kind)]
        if events:
            out += ["| event | revision | commit | detail |", "| --- | --- | --- | --- |"]
            for e in events:
                detail = {
                    "merge": f"merges {cell(_heads(e.new))}",
                    "repointed": f"{cell(_heads(e.old))} → {cell(_heads(e.new))}",
                }.get(e.kind) or (code_span(e.path) if e.path else "")
                out.append(f"| {e.kind} | {code_span(e.revision)} | {e.commit.date[:10]} {code_span(e.commit.short)} | {detail} |")
    return "\n".join(out) + "\n"


def render_json(report: AuditReport) -> str:
    import json

    return json.dumps(report.to_json(), indent=2) + "\n"


RENDERERS: Mapping[str, Callable[[AuditReport], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
