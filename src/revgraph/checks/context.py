"""What a rule sees: one environment's snapshots and facts gathered at the edge.

Pure data. The lead's ``api`` reads git, files and databases and fills a
:class:`CheckContext`; the rules only look at it. Graphs are built once per
context on first use: the snapshots are frozen, so the memoised graphs can
never go stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import filterfalse
from operator import attrgetter
from typing import Iterable, Mapping, Sequence

from revgraph.findings import Location, command_path
from revgraph.model import Revision, RevisionGraph, Snapshot
from revgraph.shellwords import shell_word

_get_id = attrgetter("id")


@dataclass(frozen=True)
class CheckContext:
    environment: str  # env name
    head: Snapshot  # HEAD incl. uncommitted edits
    base: Snapshot | None = None  # the base ref's snapshot (None: no base, e.g. not git)
    merged: Snapshot | None = None  # predicted merge of HEAD into base
    merge_base: Snapshot | None = None  # snapshot at git merge-base
    base_ref: str | None = None  # e.g. "origin/main" (for messages/fix commands)
    landed: frozenset[str] = frozenset()  # ids in base, its remote copy, protected refs, or the DB
    # Landed on a protected ref but not on base: id -> (ref, that ref's revision).
    protected_only: Mapping[str, tuple[str, Revision]] = field(default_factory=dict)
    # Of those, the ones the merge base of HEAD and that ref has: HEAD inherited them.
    protected_inherited: Mapping[str, tuple[str, Revision]] = field(default_factory=dict)
    # Base's remote copy (e.g. "origin/main" for a local base behind it), the revisions
    # landed there but not on base, and those of them the merge base of HEAD and the
    # remote copy has (HEAD inherited them), each as that snapshot has it.
    remote_ref: str | None = None
    remote_only: Mapping[str, Revision] = field(default_factory=dict)
    remote_inherited: Mapping[str, Revision] = field(default_factory=dict)
    body_changed: frozenset[str] = frozenset()  # landed ids edited beyond whitespace/comments
    lock_heads: tuple[str, ...] | None = None  # heads in the lock file; None = no lock file
    lock_conflicted: bool = False  # the lock file holds git conflict markers
    lock_path: str | None = None
    # The project keeps a lock file (why: "base has it", ...) but the working tree lacks it.
    lock_missing: str | None = None
    # What stands where the missing lock file should be ("folder", "FIFO"), which
    # `revgraph lock` will not replace; None when nothing does.
    lock_in_the_way: str | None = None
    file_template: str = "%(rev)s_%(slug)s"
    allow_heads: int | None = None
    db_revisions: tuple[str, ...] | None = None  # alembic_version rows when --db given
    db_url: str | None = None  # for messages (password-masked by the edge)
    # A landed file HEAD no longer has where alembic looks -> where the index has it
    # instead (a subfolder alembic does not walk, another name): RG202 says so.
    moved_out: Mapping[str, str] = field(default_factory=dict)
    # The root revision paths are relative to, and the directory revgraph
    # started in (after -C), both absolute: fix commands name files from there
    # (``findings.command_path``). None: paths as they are.
    root_dir: str | None = None
    start_dir: str | None = None
    in_git: bool = True  # outside git, a file is renamed with `mv`, not `git mv`
    # The environment's script.py.mako (relative to the root, as revision paths
    # are; None for an environment given by its versions folders alone) and
    # whether it exists: ``fix --strategy merge`` renders the merge revision
    # from it, so without it no rule offers that command.
    template_path: str | None = None
    has_template: bool = True
    # ``[tool.revgraph] strategy``: what a plain `revgraph fix` runs (see ``fix_command``).
    strategy: str = "rebase"
    # The alembic config file (relative to the root, as revision paths are) and
    # section alembic's own commands need to find this environment: RG502's
    # `alembic upgrade head` names them unless they are alembic's defaults.
    config_file: str | None = None
    config_section: str = "alembic"

    def alembic(self, *args: str) -> str:
        """``alembic ARGS`` as run where revgraph started, with ``-c``/``-n`` when this
        environment is not alembic's default (``alembic.ini`` there, section [alembic])."""
        words = ["alembic"]
        if self.config_file is not None:
            path = self.here(self.config_file)
            if path != "alembic.ini":
                words += ["-c", shell_word(path)]
            if self.config_section != "alembic" and path.rsplit("/", 1)[-1] != "pyproject.toml":
                words += ["-n", shell_word(self.config_section)]  # (alembic: only .ini files have sections)
        return " ".join([*words, *args])

    def here(self, path: str) -> str:
        """``path`` (relative to the root) as a command run where revgraph started names it."""
        return command_path(path, self.root_dir, self.start_dir)

    # ------------------------------------------------------------- graphs
    @cached_property
    def head_graph(self) -> RevisionGraph:
        return self.head.graph()

    @cached_property
    def base_graph(self) -> RevisionGraph | None:
        return self.base.graph() if self.base is not None else None

    @cached_property
    def merge_base_graph(self) -> RevisionGraph | None:
        return self.merge_base.graph() if self.merge_base is not None else None

    @cached_property
    def merge_base_revisions(self) -> Mapping[str, Revision] | None:
        """The merge base by id: the rules only ask what it had, never its shape."""
        if self.merge_base is None:
            return None
        revisions = self.merge_base.revisions
        return dict(zip(map(_get_id, revisions), revisions))  # last one wins, as in the graph

    @cached_property
    def merged_graph(self) -> RevisionGraph | None:
        """The predicted merge; approximated from the revisions when the edge gave none."""
        if self.merged is not None:
            return self.merged.graph()
        if self.base is None:
            return None
        return RevisionGraph(self._union_of_sides())

    def _union_of_sides(self) -> list[Revision]:
        # What git would produce for files that did not conflict: HEAD's files,
        # plus base's additions, minus what HEAD deleted since the merge base.
        # Deleting a file one side left untouched deletes it, on either side.
        assert self.base is not None
        head_ids = {r.id for r in self.head.revisions}
        base_ids = {r.id for r in self.base.revisions}
        before = self.merge_base_revisions or {}
        ours = [
            r for r in self.head.revisions
            if not (r.id in before and r.id not in base_ids and before[r.id] == r)
        ]
        theirs = [
            r for r in self.base.revisions
            if r.id not in head_ids and not (r.id in before and before[r.id] == r)
        ]
        return ours + theirs

    def head_copy(self, rid: str, landed_path: str) -> Revision:
        """HEAD's revision ``rid`` as the landed rules judge it: of several files declaring
        the id, the one at ``landed_path`` (where the landed copy lives). A new file that
        reuses a landed id is RG103's, and must not pass for the landed one edited."""
        copies = self.head_graph.duplicates.get(rid)
        if copies:
            for rev in copies:
                if rev.path == landed_path:
                    return rev
        return self.head_graph[rid]

    # ------------------------------------------------------- derived facts
    @cached_property
    def base_label(self) -> str:
        """How messages call the base side."""
        return self.base_ref or "base"

    @property
    def remote_label(self) -> str:
        """How messages call base's remote copy."""
        return self.remote_ref or "base's remote copy"

    @cached_property
    def inherited(self) -> frozenset[str]:
        """Base's revisions that HEAD had a chance to inherit.

        Revisions base added after the merge base are not HEAD's to delete,
        re-point or edit; without a merge base every base revision counts.
        """
        if self.base_graph is None:
            return frozenset()
        ids = frozenset(self.base_graph.revisions)
        if self.merge_base_revisions is not None:
            ids = ids.intersection(self.merge_base_revisions)
        return ids

    @cached_property
    def head_new(self) -> frozenset[str]:
        """In HEAD but not in base (PRODUCT §1 "new revisions")."""
        if self.base_graph is None:
            return frozenset(self.head_graph.revisions)
        return frozenset(filterfalse(self.base_graph.revisions.__contains__, self.head_graph.revisions))

    @cached_property
    def base_new(self) -> frozenset[str]:
        """What base added since the merge base (without one: what HEAD lacks)."""
        if self.base_graph is None:
            return frozenset()
        since = self.merge_base_revisions
        if since is None:
            since = self.head_graph.revisions
        return frozenset(filterfalse(since.__contains__, self.base_graph.revisions))

    @cached_property
    def added_on_both_sides(self) -> frozenset[str]:
        """Ids HEAD and base each declare although the merge base did not have them."""
        if self.base_graph is None or self.merge_base_revisions is None:
            return frozenset()
        before, base = self.merge_base_revisions, self.base_graph.revisions
        added = filterfalse(before.__contains__, self.head_graph.revisions)
        return frozenset(filter(base.__contains__, added))

    def fix_command(self, *, renumbers: bool = False) -> str:
        """``revgraph fix`` as a rule offers it to re-point new revisions (``renumbers``:
        or to give one of two files declaring an id a new id).

        Plain where the project's default strategy does that job, and also where it
        is the merge and only heads are to be joined: that merge joins them as well.
        Otherwise ``--strategy rebase`` is spelled out: the merge strategy renumbers
        nothing (it refuses an id in two files), and without script.py.mako it
        cannot render its merge revision, so a plain `revgraph fix` would fail.
        """
        if self.strategy == "rebase" or (self.has_template and not renumbers):
            return "revgraph fix"
        return "revgraph fix --strategy rebase"

    def fix_with_base(self, command: str) -> str:
        """``command`` with ``--base REF`` when a base ref is known, and ``--db URL`` when
        the check read a database: a rebase without it may move a revision the database
        has applied (its password, masked, must be typed back in)."""
        if self.base_ref:
            command = f"{command} --base {shell_word(self.base_ref)}"
        return self.with_db(command)

    def with_db(self, command: str) -> str:
        """``command`` with ``--db URL`` when the check read a database (see ``fix_with_base``)."""
        return f"{command} --db {shell_word(self.db_url)}" if self.db_url else command


@dataclass(frozen=True)
class Hit:
    """A rule's raw finding, before the registry adds severity and explanation.

    ``subjects`` are the revision files whose ``# revgraph: ignore[...]``
    comments may silence it (see ``registry`` for any-vs-all).
    """

    code: str
    message: str
    revisions: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    fix: str | None = None
    subjects: tuple[Revision, ...] = field(default=(), compare=False)


def where(rev: Revision, key: str = "revision") -> Location:
    return Location(rev.path, rev.line_of(key))


def at(rev: Revision, key: str = "revision") -> str:
    """``path:line`` for messages."""
    loc = where(rev, key)
    return f"{loc.path}:{loc.line}"


def named(rev: Revision, key: str = "revision") -> str:
    """``id (path:line)`` for messages."""
    return f"{rev.id} ({at(rev, key)})"


def id_list(ids: Iterable[str], *, limit: int = 10) -> str:
    """Comma-separated ids, shortened past ``limit``."""
    items = list(ids)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... and {len(items) - limit} more"


def chain(ids: Sequence[str], keep: int = 5) -> str:
    """``a -> b -> c``; a long chain keeps both ends: a 20k-revision history can make
    one side's new line thousands of revisions long, and a message is read by people."""
    if len(ids) <= 2 * keep + 1:
        return " -> ".join(ids)
    hidden = len(ids) - 2 * keep
    return " -> ".join([*ids[:keep], f"... ({hidden:,} more)", *ids[-keep:]])


def name_carries(name: str, rid: str) -> bool:
    """Whether ``rid`` appears in ``name`` as a word of its own (not inside a longer one).

    An empty id (RG107's business) is carried by every name, as ``"" in name`` says.
    """
    if not rid:
        return True
    start = name.find(rid)
    while start >= 0:
        end = start + len(rid)
        if (start == 0 or not name[start - 1].isalnum()) and (end == len(name) or not name[end].isalnum()):
            return True
        start = name.find(rid, start + 1)
    return False
