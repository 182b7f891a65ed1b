"""The merge-queue view: which open branches collide once both land on base.

Pure: snapshots in, a :class:`CollisionReport` out. Each branch is judged by
the graph landing it would really produce: the predicted merge of base with
the branch (``git merge-tree``, as ``check`` predicts it), which the caller
passes in. Its *new* revisions are those that merge has and base lacks, so a
revision base reverted after the branch forked is not the branch's. Each pair
is judged by base with both landings merged in (a three-way merge by file of
the two predicted merges against base, their common ancestor), so no extra
git call is made per pair.

The rules are check's, applied to those graphs: heads are sorted into lanes
the way RG101/RG102 count them (``checks.graph.head_lanes``); a landing that
leaves more competing heads than base has forks alone (RG102); one that
leaves an unreadable file (RG107), a landed revision re-pointed (RG201) or
deleted (RG202), an id declared twice (RG103), a cycle (RG105) or a name
that exists nowhere (RG104) has a problem to mend before it lands, unless
another branch adds the missing name: then it lands after that one.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence, Set as AbstractSet
from dataclasses import dataclass, field, replace

from revgraph.checks.context import CheckContext
from revgraph.checks.graph import different_files, head_lanes, within_allowance
from revgraph.model import Dangling, ParseProblem, Revision, RevisionGraph, Snapshot
from revgraph.shellwords import shell_word


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class EnvChanges:
    """What one branch adds in one environment."""

    environment: str
    new: tuple[str, ...]  # parents first
    hangs_off: tuple[str, ...]  # landed revisions the new chains grow from
    roots: tuple[str, ...]  # new revisions whose parents have all landed
    missing: tuple[str, ...] = ()  # parents they name that do not exist once landed (RG104)


@dataclass(frozen=True)
class Branch:
    ref: str
    changes: tuple[EnvChanges, ...]  # environments where the branch adds something
    oldest: str | None  # Create Date of its oldest new chain root, as written
    # Author date (ISO 8601) of its oldest commit base lacks: the tie-break when
    # Create Dates are missing or equal. None when not asked for or unknown.
    first_commit: str | None = None

    @property
    def new(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rid for c in self.changes for rid in c.new))

    @property
    def hangs_off(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rid for c in self.changes for rid in c.hangs_off))

    @property
    def has_new(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Fork:
    """A branch that already leaves competing heads when landed alone (RG102)."""

    ref: str
    environment: str
    new: tuple[str, ...]
    hangs_off: tuple[str, ...]
    heads: tuple[str, ...]  # the heads that would compete
    missing: tuple[str, ...] = ()  # parents named that do not exist once landed


@dataclass(frozen=True)
class Collision:
    a: str
    b: str
    environment: str
    shared_parent: str | None  # the landed revision both sides grow from (nearest shared)
    a_new: tuple[str, ...]
    b_new: tuple[str, ...]
    heads: tuple[str, ...]  # the heads that would compete once both land
    # Ids both add from different files (numbered ids taking the same next number):
    # landed together, alembic keeps one file per id and never runs the other (RG103).
    same_ids: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "environment": self.environment,
            "shared_parent": self.shared_parent,
            "a_new": list(self.a_new),
            "b_new": list(self.b_new),
            "heads": list(self.heads),
            "same_ids": list(self.same_ids),
        }


@dataclass(frozen=True)
class Problem:
    """What landing a branch alone breaks, named as ``check``'s rule ``code`` names it:
    the branch must be mended before it lands, so it is left out of the landing order."""

    ref: str
    environment: str
    code: str
    message: str
    revisions: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "environment": self.environment,
            "code": self.code,
            "message": self.message,
            "revisions": list(self.revisions),
        }


@dataclass(frozen=True)
class Need:
    """A revision of ``ref`` names ``target``, which only the branches ``providers`` add:
    landed first, ``ref`` fails (RG104, alembic's KeyError); landed after one of them, it works."""

    ref: str
    environment: str
    revision: str
    target: str
    providers: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "environment": self.environment,
            "revision": self.revision,
            "target": self.target,
            "providers": list(self.providers),
        }


@dataclass(frozen=True)
class Step:
    """One entry of the landing order."""

    ref: str
    rebase: bool  # must `git rebase <base>` + `revgraph fix` before landing
    # Branches that must have landed first: those it collides with; for a branch
    # that forks alone, every earlier one in its environments (it rebases onto them).
    after: tuple[str, ...]
    forks_alone: bool
    # For a branch landing before branches it collides with: each of those, with
    # what put this one first ("create_date", "first_commit", "order_given", or
    # "forks_alone": that one already forks against base, so it lands last).
    decided_by: tuple[tuple[str, str], ...] = ()
    # Branches it waits for because it names what they add (``Need``), with why.
    waits_for: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CollisionReport:
    base: str
    environments: tuple[str, ...]
    branches: tuple[Branch, ...]
    collisions: tuple[Collision, ...]
    forks: tuple[Fork, ...]
    steps: tuple[Step, ...]
    problems: tuple[Problem, ...] = ()
    needs: tuple[Need, ...] = ()

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(step.ref for step in self.steps)

    @property
    def nothing_to_land(self) -> tuple[str, ...]:
        return tuple(b.ref for b in self.branches if not b.has_new and b.ref not in self.blocked)

    @property
    def blocked(self) -> tuple[str, ...]:
        """Branches with a problem to mend before they land (not in the landing order)."""
        return tuple(dict.fromkeys(p.ref for p in self.problems))

    @property
    def ok(self) -> bool:
        # A branch that needs another's revision cannot land in any order either.
        return not self.collisions and not self.forks and not self.problems and not self.needs

    def to_json(self) -> dict:
        forking = {f.ref for f in self.forks}
        return {
            "version": 1,
            "ok": self.ok,
            "base": self.base,
            "environments": list(self.environments),
            "branches": [
                {
                    "ref": b.ref,
                    "new": list(b.new),
                    "hangs_off": list(b.hangs_off),
                    "oldest": b.oldest,
                    "first_commit": b.first_commit,
                    "forks_alone": b.ref in forking,
                    "missing_parents": sorted({rid for c in b.changes for rid in c.missing}),
                    "blocked": b.ref in self.blocked,
                }
                for b in self.branches
            ],
            "collisions": [c.to_json() for c in self.collisions],
            "forks": [
                {
                    "ref": f.ref,
                    "environment": f.environment,
                    "new": list(f.new),
                    "hangs_off": list(f.hangs_off),
                    "heads": list(f.heads),
                }
                for f in self.forks
            ],
            "problems": [p.to_json() for p in self.problems],
            "needs": [n.to_json() for n in self.needs],
            "blocked": list(self.blocked),
            "nothing_to_land": list(self.nothing_to_land),
            "order": list(self.order),
            "steps": [
                {
                    "ref": s.ref,
                    "rebase": s.rebase,
                    "after": list(s.after),
                    "forks_alone": s.forks_alone,
                    "decided_by": dict(s.decided_by),
                    "reason": order_reason(self, s),
                    "waits_for": dict(s.waits_for),
                }
                for s in self.steps
            ],
        }


# ---------------------------------------- lanes of heads, counted incrementally
# Landing two branches that only add revision files (the usual merge queue) is
# counted from base's heads and the branches' few new revisions: building the
# joint graph for each of n² pairs costs O(revisions) each. The count is the
# one ``head_lanes`` gives on the whole graph (a property test holds them equal).
@dataclass
class _BaseIndex:
    """Base's facts one environment needs for every branch and pair, computed once."""

    graph: RevisionGraph
    allow_heads: int | None
    label_members: dict[str, set[str]] = field(default_factory=dict)  # label -> its owner and descendants
    _lineage: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, graph: RevisionGraph, allow_heads: int | None) -> _BaseIndex:
        index = cls(graph, allow_heads)
        for label, owner in graph.labels.items():
            index.label_members[label] = {owner} | graph.descendants(owner)
        return index

    @property
    def allowed(self) -> frozenset[str]:
        # Every label base has is landed; labels new revisions declare are not.
        return frozenset(self.label_members)

    def lineage(self, rid: str) -> frozenset[str]:
        """Labels declared by ``rid`` or its ancestors (``checks.graph.label_lineage``)."""
        if rid not in self._lineage:
            self._lineage[rid] = frozenset(
                label for label, members in self.label_members.items() if rid in members
            )
        return self._lineage[rid]

    def has_unlabelled_head(self) -> bool:
        return any(not self.lineage(head) for head in self.graph.heads)

    def excess(self) -> int:
        return _lanes(self, {})[0]


def _new_lineage(index: _BaseIndex, new: Mapping[str, Revision]) -> dict[str, frozenset[str]]:
    """Landed-label lineage of each new revision: what its parents carry."""
    out: dict[str, frozenset[str]] = {}
    for rid in _parents_first(new):
        labels: set[str] = set()
        for parent in new[rid].down_revisions:
            if parent in out:
                labels |= out[parent]
            elif parent in index.graph:
                labels |= index.lineage(parent)
        out[rid] = frozenset(labels)
    return out


def _lanes(index: _BaseIndex, new: Mapping[str, Revision]) -> tuple[int, tuple[str, ...]]:
    """(excess heads, competing heads) of base plus ``new``, as ``head_lanes`` counts them."""
    heads = _heads_after(index.graph, new)
    if len(heads) < 2 or (index.allow_heads is not None and len(heads) <= index.allow_heads):
        return 0, ()
    from revgraph.checks.graph import sort_into_lanes  # the one lane rule RG101/RG102 use

    lineage = _new_lineage(index, new)
    lanes = sort_into_lanes(
        heads, lambda h: lineage[h] if h in lineage else index.lineage(h), index.allowed, index.has_unlabelled_head
    )
    return lanes.excess, tuple(lanes.competing)


def _heads_after(graph: RevisionGraph, new: Mapping[str, Revision]) -> tuple[str, ...]:
    """Heads of base's revisions plus ``new`` (down_revision only, as alembic)."""
    covered = {p for rev in new.values() for p in rev.down_revisions}
    kept = [h for h in graph.heads if h not in covered]
    grown = [rid for rid in new if rid not in covered]
    return tuple(sorted(set(kept) | set(grown)))


def _parents_first(new: Mapping[str, Revision]) -> list[str]:
    """``new``'s ids, each after its new parents; ties (and cycles) by id."""
    order: list[str] = []
    done: set[str] = set()
    entered: set[str] = set()  # a revision met again while its parents are pending closes a cycle
    for start in sorted(new):
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            rid, expanded = stack.pop()
            if rid in done:
                continue
            if expanded:
                done.add(rid)
                order.append(rid)
                continue
            if rid in entered:
                continue
            entered.add(rid)
            stack.append((rid, True))
            for parent in sorted(new[rid].down_revisions, reverse=True):
                if parent in new and parent not in done:
                    stack.append((parent, False))
    return order


# ------------------------------------------------------- what landing leaves
# A snapshot's files by key: the revision a file declares, or the problem that
# kept it unread. Git merges by path; snapshots built without paths (the pure
# API, tests) are keyed by revision id instead.
_Files = dict[str, tuple]


def _file_key(item: Revision | ParseProblem) -> str:
    if item.path:
        return item.path
    return f"id:{item.id}" if isinstance(item, Revision) else f"unreadable:{item.reason}"


def _files(snap: Snapshot) -> _Files:
    out: _Files = {}
    for item in (*snap.revisions, *snap.problems):
        key = _file_key(item)
        out[key] = out.get(key, ()) + (item,)
    return out


def _delta(base: _Files, landed: _Files) -> dict[str, tuple | None]:
    """What landing changes, file by file: the new content, or None for a file it deletes."""
    delta: dict[str, tuple | None] = {key: items for key, items in landed.items() if base.get(key) != items}
    delta.update((key, None) for key in base.keys() - landed.keys())
    return delta


def _land_both(env: str, base: _Files, a: Mapping[str, tuple | None], b: Mapping[str, tuple | None]) -> Snapshot:
    """Base with both landings' changes: a three-way merge by file against base, the
    common ancestor of both predicted merges.

    A file both change is merged by what the graph reads of it (``_merge_revision``):
    a docstring fixed on one side and ``downgrade()`` edited on the other is one
    revision, as git's text merge makes it (a tester: "both add a in files of their
    own"). A file one side renames is followed there (``_follow_renames``). Only
    changes to the same field keep both versions, as git's conflict stages do
    (``sources.merged``).
    """
    a, b = dict(a), dict(b)
    ancestors = dict(base)
    _follow_renames(base, a, b, ancestors)
    _follow_renames(base, b, a, ancestors)
    files = dict(base)
    for key in a.keys() | b.keys():
        versions = [d[key] for d in (a, b) if key in d]
        if len(versions) == 2 and versions[0] != versions[1]:
            kept: tuple | None = _merge_revision(ancestors.get(key), *versions)
        else:
            kept = versions[0]
        if kept:
            files[key] = kept
        else:
            files.pop(key, None)
    items = [item for group in files.values() for item in group]
    return Snapshot(
        env, "both landed",
        tuple(item for item in items if isinstance(item, Revision)),
        tuple(item for item in items if isinstance(item, ParseProblem)),
    )  # fmt: skip


def _follow_renames(
    base: _Files, mover: dict[str, tuple | None], other: dict[str, tuple | None], ancestors: dict[str, tuple]
) -> None:
    """Where ``mover`` renames a file of base (deletes it, adds a file of the same id) and
    ``other`` edits it, move ``other``'s edit to the new path, as git's rename detection
    does: one file of that id, not the edited old one beside the renamed one."""
    for old_key, version in list(mover.items()):
        was = base.get(old_key)
        if version is not None or not was or len(was) != 1 or not isinstance(was[0], Revision):
            continue
        if other.get(old_key) is None:
            continue  # the other side keeps it as it was, or deletes it too
        new_key = next(
            (key for key, moved in mover.items() if key not in base and moved and len(moved) == 1
             and isinstance(moved[0], Revision) and moved[0].id == was[0].id),
            None,
        )  # fmt: skip
        if new_key is None:
            continue
        edited = other.pop(old_key)
        other[old_key] = None
        other[new_key] = tuple(replace(item, path=_moved_path(item, new_key)) for item in edited)
        ancestors[new_key] = was


def _moved_path(item: Revision | ParseProblem, key: str) -> str:
    return key if not key.startswith(("id:", "unreadable:")) else item.path


# What the graph reads of a revision file: merged field by field.
_GRAPH_FIELDS = ("down_revisions", "branch_labels", "depends_on")


def _merge_revision(ancestor: tuple | None, ours: tuple | None, theirs: tuple | None) -> tuple:
    """One file changed on both sides: the revision a clean text merge leaves, when each
    field the graph reads changed on one side at most; else both versions (a conflict)."""
    both = tuple(item for version in (ours, theirs) if version for item in version)
    singles = [v[0] if v and len(v) == 1 and isinstance(v[0], Revision) else None for v in (ancestor, ours, theirs)]
    old, left, right = singles
    if old is None or left is None or right is None or not old.id == left.id == right.id:
        return both
    merged = {}
    for name in _GRAPH_FIELDS:
        was, one, two = (sorted(getattr(r, name)) for r in (old, left, right))
        if one != was and two != was and one != two:
            return both  # the same field changed two ways: git stops, nobody knows the result
        merged[name] = getattr(left if one != was else right, name)
    return (replace(left, **merged),)


@dataclass
class _Env:
    """Base's facts in one environment, computed once for every branch and pair."""

    name: str
    base: Snapshot
    graph: RevisionGraph
    files: _Files
    # RG101/RG102's own view of heads: lanes of landed labels, allow_heads.
    rules: CheckContext
    index: _BaseIndex
    excess: int = 0

    @classmethod
    def build(cls, name: str, base: Snapshot, allow_heads: int | None) -> _Env:
        graph = base.graph()
        rules = CheckContext(
            name, base, base=base, landed=frozenset(graph.revisions), allow_heads=allow_heads
        )
        env = cls(name, base, graph, _files(base), rules, _BaseIndex.build(graph, allow_heads))
        env.excess = env.lanes(graph)[0]
        return env

    def lanes(self, graph: RevisionGraph) -> tuple[int, tuple[str, ...]]:
        """(excess heads, competing heads) of ``graph``, counted as RG101/RG102 count them."""
        if within_allowance(self.rules, graph):
            return 0, ()
        lanes = head_lanes(self.rules, graph)
        return lanes.excess, tuple(lanes.competing)


@dataclass
class _Landing:
    """One branch landed alone on base in one environment (its predicted merge)."""

    ref: str
    snap: Snapshot
    graph: RevisionGraph
    delta: dict[str, tuple | None]
    new: dict[str, Revision]  # revisions base lacks, by id
    excess: int
    competing: tuple[str, ...]
    dangling: tuple[Dangling, ...]  # parents and dependencies named in vain, base's own aside
    adds_only: bool = False  # it only adds files of readable revisions with ids of their own

    @classmethod
    def of(cls, env: _Env, ref: str, snap: Snapshot) -> _Landing:
        graph = snap.graph()
        excess, competing = env.lanes(graph)
        landed = env.graph.revisions
        new = {rid: rev for rid, rev in graph.revisions.items() if rid not in landed}
        base_dangling = set(env.graph.dangling)
        dangling = tuple(d for d in graph.dangling if d not in base_dangling)
        delta = _delta(env.files, _files(snap))
        adds_only = (
            not (delta.keys() & env.files.keys())
            and len(graph.duplicates) == len(env.graph.duplicates)
            and len(snap.problems) == len(env.base.problems)
        )
        return cls(ref, snap, graph, delta, new, excess, competing, dangling, adds_only)


def _landing_problems(env: _Env, land: _Landing, base_ref: str) -> list[Problem]:
    """What landing the branch alone breaks that base has not broken already, as check's
    rules name it: unreadable files (RG107), landed revisions re-pointed (RG201) or
    deleted (RG202), ids declared twice (RG103), cycles (RG105). Missing parents
    (RG104) are judged with the other branches (``_needs``)."""
    out = []
    known = {(p.path, p.blob_id) for p in env.base.problems}
    for problem in land.snap.problems:
        if (problem.path, problem.blob_id) not in known:
            out.append(Problem(land.ref, env.name, "RG107", problem.describe()))
    landed, now = env.graph.revisions, land.graph.revisions
    for rid in sorted(landed.keys() - now.keys()):
        out.append(Problem(land.ref, env.name, "RG202", f"deletes landed {rid} ({landed[rid].path or rid})", (rid,)))
    for rid, rev in landed.items():
        mine = now.get(rid)
        if mine is not None and mine is not rev and set(mine.down_revisions) != set(rev.down_revisions):
            was, to = _parents_text(rev.down_revisions), _parents_text(mine.down_revisions)
            out.append(Problem(land.ref, env.name, "RG201", f"re-points landed {rid} from {was} to {to}", (rid,)))
    for rid, copies in sorted(land.graph.duplicates.items()):
        if rid not in env.graph.duplicates:
            where = ", ".join(rev.path or rid for rev in copies)
            out.append(Problem(land.ref, env.name, "RG103", f"{rid} is declared by {len(copies)} files once landed: {where}", (rid,)))  # fmt: skip
    if land.new or any(p.code == "RG201" for p in out):  # a new cycle runs through a new or re-pointed revision
        old = set(env.graph.cycles)
        for cycle in land.graph.cycles:
            if cycle not in old:
                out.append(Problem(land.ref, env.name, "RG105", f"a cycle once landed: {' -> '.join(cycle)}", cycle))
    return out


def _parents_text(parents: Sequence[str]) -> str:
    return ", ".join(parents) if parents else "None"


def _needs(env: _Env, landings: Sequence[_Landing], base_ref: str) -> tuple[list[Need], list[Problem]]:
    """Each name a landing leaves dangling (RG104): another branch that adds it must land
    first (a ``Need``); when none does, it is a problem of the branch."""
    needs: list[Need] = []
    problems: list[Problem] = []
    deleted = {land.ref: env.graph.revisions.keys() - land.graph.revisions.keys() for land in landings}
    for land in landings:
        for d in land.dangling:
            if d.target in deleted[land.ref]:
                continue  # RG202 names the deletion
            providers = tuple(
                other.ref for other in landings
                if other is not land and _provides(other, d)
            )  # fmt: skip
            if providers:
                needs.append(Need(land.ref, env.name, d.revision, d.target, providers))
            else:
                problems.append(Problem(land.ref, env.name, "RG104", _dangling_message(land.graph, d, base_ref), (d.revision,)))  # fmt: skip
    return needs, problems


def _provides(other: _Landing, d: Dangling) -> bool:
    """Whether ``other``'s landing adds what ``d`` names: a revision (either key), or a
    branch label (``depends_on`` only: alembic looks ``down_revision`` up by id)."""
    if d.target in other.new:
        return True
    owner = other.graph.labels.get(d.target)
    return d.kind == "depends" and owner is not None and owner in other.new


def _dangling_message(graph: RevisionGraph, d: Dangling, base_ref: str) -> str:
    """RG104's words for one name that does not exist once the branch lands."""
    key = "down_revision" if d.kind == "down" else "depends_on"
    if d.kind == "down" and d.target in graph.labels:
        return (
            f"{d.revision}: down_revision names {d.target!r}, a branch label; alembic looks "
            f"down_revision up by revision id only (KeyError: {d.target!r})"
        )
    return f"{d.revision}: {key} names {d.target!r}, which does not exist once it lands on {base_ref}"


# ------------------------------------------------------------------ analysis
def find_collisions(
    base_ref: str,
    base: Mapping[str, Snapshot],
    branches: Mapping[str, Mapping[str, Snapshot]],
    *,
    allow_heads: Mapping[str, int | None] | None = None,
    first_commit: Callable[[str], str | None] | None = None,
) -> CollisionReport:
    """The merge-queue view of ``branches`` against ``base``.

    ``base`` maps each environment name to base's snapshot; ``branches`` maps
    each ref to, per environment, the snapshot *landing it on base* leaves: the
    predicted merge of base with the branch (``sources.merged.predict_merge``),
    not the branch's own snapshot, so what base changed since the branch forked
    (a revision reverted there, say) is not taken for the branch's work. A
    snapshot that holds all of base's revisions plus the branch's new ones is
    its own merge. Colliding branches land oldest first: by the ``Create
    Date`` of their new chains, then by ``first_commit(ref)`` (the ISO date of
    the branch's oldest commit base lacks; asked only of branches that add
    something), then in the order given.
    """
    allow_heads = allow_heads or {}
    changes: dict[str, list[EnvChanges]] = {ref: [] for ref in branches}
    roots: dict[str, list[Revision]] = {ref: [] for ref in branches}
    collisions: list[Collision] = []
    forks: list[Fork] = []
    problems: list[Problem] = []
    needs: list[Need] = []
    for env_name, base_snap in base.items():
        env = _Env.build(env_name, base_snap, allow_heads.get(env_name))
        landings = [
            _Landing.of(env, ref, snaps[env_name]) for ref, snaps in branches.items() if env_name in snaps
        ]
        env_needs, missing = _needs(env, landings, base_ref)
        needs += env_needs
        problems += missing
        for land in landings:
            problems += _landing_problems(env, land, base_ref)
            if not land.new:
                continue
            env_changes = _describe(env_name, env.graph, land)
            changes[land.ref].append(env_changes)
            roots[land.ref].extend(land.new[rid] for rid in env_changes.roots)
            if land.excess > env.excess:
                forks.append(Fork(
                    land.ref, env_name, env_changes.new, env_changes.hangs_off, land.competing, env_changes.missing
                ))  # fmt: skip
        collisions.extend(_pair_collisions(env, [land for land in landings if land.new]))
    problems.sort(key=lambda p: list(branches).index(p.ref))  # each branch's together, in the order given
    result_branches = tuple(
        Branch(
            ref,
            tuple(changes[ref]),
            _oldest_date(roots[ref]),
            first_commit(ref) if first_commit is not None and changes[ref] else None,
        )
        for ref in branches
    )
    blocked = {p.ref for p in problems}
    steps = _landing_order(result_branches, collisions, forks, blocked, needs)
    return CollisionReport(
        base=base_ref,
        environments=tuple(base),
        branches=result_branches,
        collisions=tuple(collisions),
        forks=tuple(forks),
        steps=steps,
        problems=tuple(problems),
        needs=tuple(needs),
    )


def _describe(env_name: str, base: RevisionGraph, land: _Landing) -> EnvChanges:
    new = land.new
    order = _parents_first(new)
    hangs_off = sorted({p for rev in new.values() for p in rev.down_revisions if p in base})
    missing = sorted({p for rev in new.values() for p in rev.down_revisions if p not in base and p not in new})
    roots = [rid for rid in order if not any(p in new for p in new[rid].down_revisions)]
    return EnvChanges(env_name, tuple(order), tuple(hangs_off), tuple(roots), tuple(missing))


def _pair_collisions(env: _Env, landings: Sequence[_Landing]) -> list[Collision]:
    """Each pair whose joint landing breaks what neither breaks alone: more competing
    heads than the two landings add up to (a branch that joins base's heads counts
    as taking one away), or one id from two different files (RG103's test: not the
    same revision stacked or cherry-picked unchanged)."""
    out: list[Collision] = []
    for i, a in enumerate(landings):
        for b in landings[i + 1 :]:
            excess, competing, same_ids = _joint_landing(env, a, b)
            alone = (a.excess - env.excess) + (b.excess - env.excess)
            if excess - env.excess <= alone and not same_ids:
                continue  # stacked branches, distinct lines, or forks each has alone
            a_changes, b_changes = _describe(env.name, env.graph, a), _describe(env.name, env.graph, b)
            out.append(
                Collision(
                    a.ref,
                    b.ref,
                    env.name,
                    _shared_parent(env.graph, a_changes.hangs_off, b_changes.hangs_off),
                    a_changes.new,
                    b_changes.new,
                    competing,
                    same_ids,
                )
            )
    return out


def _joint_landing(env: _Env, a: _Landing, b: _Landing) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """(excess heads, competing heads, ids declared from two different files) once both land."""
    if a.adds_only and b.adds_only:
        excess, competing = _lanes(env.index, {**a.new, **b.new})
        both = sorted(a.new.keys() & b.new.keys())
        return excess, competing, tuple(rid for rid in both if different_files(a.new[rid], b.new[rid]))
    joint = _land_both(env.name, env.files, a.delta, b.delta).graph()
    excess, competing = env.lanes(joint)
    doubled = sorted(joint.duplicates.keys() - a.graph.duplicates.keys() - b.graph.duplicates.keys())
    # A landed id is nobody's to renumber: two copies of it are a text conflict git
    # stops at (a rename on each side, depends_on changed two ways), not "both add"
    # (a reviewer: the step told the second branch to give a landed revision a new id).
    return excess, competing, tuple(rid for rid in doubled
                                    if rid not in env.graph.revisions and different_files(*joint.duplicates[rid][:2]))


def _shared_parent(graph: RevisionGraph, a: Sequence[str], b: Sequence[str]) -> str | None:
    """The landed revision both sides grow from; else their nearest common landed ancestor."""
    common = sorted(set(a) & set(b))
    if common:
        return common[0]
    a_side = set(a) | {anc for rid in a for anc in graph.ancestors(rid)}
    b_side = set(b) | {anc for rid in b for anc in graph.ancestors(rid)}
    shared = a_side & b_side
    if not shared:
        return None
    # Nearest: a shared revision none of whose descendants is shared too.
    nearest = [rid for rid in shared if not (graph.descendants(rid) & shared)]
    return min(nearest)


# ------------------------------------------------------------- landing order
def _date_key(text: str | None) -> tuple[int, object]:
    """Sortable Create Date: parsed when alembic-shaped, else the raw text; missing last."""
    if not text:
        return (2, "")
    try:
        when = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return (1, text)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return (0, when)


def _oldest_date(roots: Sequence[Revision]) -> str | None:
    dated = [rev.create_date for rev in roots if rev.create_date]
    if not dated:
        return None
    return min(dated, key=_date_key)


def _landing_order(
    branches: Sequence[Branch],
    collisions: Sequence[Collision],
    forks: Sequence[Fork],
    blocked: AbstractSet[str] = frozenset(),
    needs: Sequence[Need] = (),
) -> tuple[Step, ...]:
    """Branches that collide with nothing first; then each group of colliding branches,
    oldest new chain first, each later one rebasing once those it collides with have landed;
    then the branches that fork against base alone.

    A forking branch is rebased whatever its place, and once rebased it grows from
    base's heads as of then: landed early, it would collide with every later branch
    that grows from those heads, which could otherwise land as they are. Last, each
    rebases onto everything landed before it (in its environments) and costs no one
    else a rebase.

    ``blocked`` branches (a problem to mend first) are left out; a branch that
    names what another adds (``needs``) then waits for it (``_wait_for_needs``).
    """
    position = {b.ref: i for i, b in enumerate(branches)}
    landing = [b for b in branches if b.has_new and b.ref not in blocked]
    partners: dict[str, set[str]] = {b.ref: set() for b in landing}
    for c in collisions:
        if c.a in partners and c.b in partners:
            partners[c.a].add(c.b)
            partners[c.b].add(c.a)
    forking = {f.ref for f in forks}

    def age(branch: Branch) -> tuple:
        return (_date_key(branch.oldest), _date_key(branch.first_commit), position[branch.ref])

    settled = {ref: refs - forking for ref, refs in partners.items()}  # partners that land before the forks
    by_ref = {b.ref: b for b in landing}

    def forks_later(ref: str) -> tuple[tuple[str, str], ...]:
        return tuple((r, "forks_alone") for r in sorted(partners[ref] & forking, key=lambda r: age(by_ref[r])))

    clean = sorted((b for b in landing if not settled[b.ref] and b.ref not in forking), key=age)
    steps = [Step(b.ref, rebase=False, after=(), forks_alone=False, decided_by=forks_later(b.ref)) for b in clean]
    groups = _groups([b.ref for b in landing if settled[b.ref] and b.ref not in forking], settled)
    groups.sort(key=lambda refs: min(age(by_ref[r]) for r in refs))
    for group in groups:
        landed: list[str] = []
        for ref in sorted(group, key=lambda r: age(by_ref[r])):
            after = tuple(r for r in landed if r in settled[ref])
            later = sorted((r for r in settled[ref] if r not in landed), key=lambda r: age(by_ref[r]))
            decided = tuple((r, _decided_by(by_ref[ref], by_ref[r])) for r in later) + forks_later(ref)
            steps.append(Step(ref, rebase=bool(after), after=after, forks_alone=False, decided_by=decided))
            landed.append(ref)
    for branch in sorted((b for b in landing if b.ref in forking), key=age):
        envs = {c.environment for c in branch.changes}
        after = tuple(s.ref for s in steps if envs & {c.environment for c in by_ref[s.ref].changes})
        steps.append(Step(branch.ref, rebase=True, after=after, forks_alone=True))
    if not needs:
        return tuple(steps)
    return _wait_for_needs(steps, needs, settled, by_ref)


def _wait_for_needs(
    steps: Sequence[Step], needs: Sequence[Need], settled: Mapping[str, set[str]], by_ref: Mapping[str, Branch]
) -> tuple[Step, ...]:
    """``steps`` with each branch after the branches that add what it names.

    A stable reordering: a step moves down only as far as what it waits for.
    Moving changes who lands before whom, so each step's rebase is worked out
    again from what now lands before it: a branch that collides with one landed
    earlier rebases; a forking one rebases onto every earlier one in its
    environments. A cycle of needs keeps the order as it was.
    """
    listed = {s.ref for s in steps}
    waits: dict[str, dict[str, str]] = {}
    for need in needs:
        for provider in need.providers:
            if need.ref in listed and provider in listed:
                why = f"{need.revision} names {need.target}, which {provider} adds"
                waits.setdefault(need.ref, {}).setdefault(provider, why)
    pending, ordered, done = list(steps), [], set()
    while pending:
        ready = next((i for i, s in enumerate(pending) if waits.get(s.ref, {}).keys() <= done), 0)
        step = pending.pop(ready)
        ordered.append(step)
        done.add(step.ref)
    out: list[Step] = []
    for n, step in enumerate(ordered):
        earlier = [s.ref for s in ordered[:n]]
        later = {s.ref for s in ordered[n + 1 :]}
        if step.forks_alone:
            envs = {c.environment for c in by_ref[step.ref].changes}
            after = tuple(r for r in earlier if envs & {c.environment for c in by_ref[r].changes})
        else:
            after = tuple(r for r in earlier if r in settled[step.ref])
        kept = tuple((r, why) for r, why in step.decided_by if r in later)
        moved = tuple((r, "needs") for r in sorted(settled[step.ref] & later) if r not in dict(kept))
        out.append(replace(
            step, rebase=step.forks_alone or bool(after), after=after, decided_by=kept + moved,
            waits_for=tuple(waits.get(step.ref, {}).items()),
        ))  # fmt: skip
    return tuple(out)


def _decided_by(first: Branch, then: Branch) -> str:
    """What put ``first`` before ``then`` in ``_landing_order``'s ``age``."""
    if _date_key(first.oldest) != _date_key(then.oldest):
        return "create_date"
    if _date_key(first.first_commit) != _date_key(then.first_commit):
        return "first_commit"
    return "order_given"


def order_reason(report: CollisionReport, step: Step) -> str | None:
    """Why ``step``'s branch lands before the branches it collides with, truthfully:
    what decided it, as the text output prints it."""
    if not step.decided_by:
        return None
    by_ref = {b.ref: b for b in report.branches}
    me = by_ref[step.ref]
    texts: dict[str, list[str]] = {}
    for ref, decided in step.decided_by:
        texts.setdefault(_reason_text(report.base, me, by_ref[ref], decided), []).append(ref)
    if len(texts) == 1:
        return next(iter(texts))
    return "; ".join(f"before {', '.join(refs)}: {text}" for text, refs in texts.items())


def _reason_text(base: str, me: Branch, other: Branch, decided: str) -> str:
    if decided == "needs":
        return f"{other.ref} waits for a branch that adds what it names"
    if decided == "forks_alone":
        return f"{other.ref} already forks against {base} and lands last"
    if decided == "create_date":
        if other.oldest is None:
            return "only its chain has a Create Date"
        if _date_key(me.oldest)[0] == 0 and _date_key(other.oldest)[0] == 0:
            return "its chain is older (Create Date)"
        return "its Create Date sorts first"  # one side's is not a date alembic writes
    dates = "no Create Date on either side" if me.oldest is None else "equal Create Dates"
    if decided == "first_commit":
        if other.first_commit is None:
            return f"{dates}; only its first commit's date is known"
        return f"{dates}; its first commit is older"
    return f"{dates} and first commits equally old; it is named first"


def _groups(refs: Sequence[str], partners: Mapping[str, set[str]]) -> list[list[str]]:
    """Connected groups of the collision graph (a forking branch alone is a group too)."""
    seen: set[str] = set()
    groups: list[list[str]] = []
    for start in refs:
        if start in seen:
            continue
        group: list[str] = []
        stack = [start]
        while stack:
            ref = stack.pop()
            if ref in seen:
                continue
            seen.add(ref)
            group.append(ref)
            stack.extend(partners[ref] - seen)
        groups.append(group)
    return groups


# -------------------------------------------------------------- instructions
@dataclass(frozen=True)
class Checkout:
    """How a person gets a ref to rebase: ``origin/feature/a`` is ``feature/a`` of ``origin``.

    ``sha``: the commit the analysis read. ``branch`` is the ref's name as given
    when ``detached`` (a sha, a tag, ``HEAD~2``: no branch to switch to).
    """

    branch: str
    remote: str | None = None  # set for a remote-tracking ref: fetch it, push it back
    sha: str | None = None
    detached: bool = False


def rebase_commands(base: str, checkout: Checkout, *, base_remote: str | None = None) -> list[str]:
    """The exact commands that move a branch's new revisions onto ``base``'s head.

    ``base_remote``: the remote ``base`` tracks, fetched first so that the
    rebase sees what has just landed.

    A remote branch is rebased from the very commit that was analysed, on a
    branch of its own (``rebase_branch``), and pushed back from it leasing on
    that commit: a local branch of the same name may be behind (switching to it
    would rebase an older history), and a plain ``--force-with-lease`` compares
    with what the fetch just brought, so a teammate's newer push would be
    overwritten. Leasing on the analysed commit, the push is refused if the
    branch moved since; the local branch is left alone. The push names that
    branch, not HEAD: a rebase stopped on the lock file has HEAD on base's
    commits, and pushing it replaced the branch with base (a reviewer); the
    branch moves only once the rebase is done. A ref that is no branch is
    rebased on a detached HEAD, and the last line says where the result has to go.
    """
    q = shell_word
    commands = []
    for remote in dict.fromkeys(r for r in (base_remote, checkout.remote) if r):
        commands.append(f"git fetch {q(remote)}")
    commands.append(_switch_command(checkout))
    # While the rebase is stopped (a conflict, in the lock file or any other), the
    # lines below do nothing but say so: `commit -a` would commit the conflict
    # markers, and fix may not yet see the revision it should move (a reviewer);
    # `git rebase --continue`, then these lines again. (Its folders tell, not
    # REBASE_HEAD, which git leaves behind once the rebase is done. No braces: `a || b
    # && c || d` groups left to right in sh, bash, zsh and fish alike. No `#` comment
    # on a line either: an interactive zsh reads it as words, by default (a reviewer).)
    stopped = '[ -d "$(git rev-parse --git-path rebase-merge)" ] || [ -d "$(git rev-parse --git-path rebase-apply)" ]'
    done = '[ ! -d "$(git rev-parse --git-path rebase-merge)" ] && [ ! -d "$(git rev-parse --git-path rebase-apply)" ]'
    commands += [
        f"git rebase {q(base)}",
        f"revgraph fix --base {q(base)}",
        (
            # Only when fix changed something: a branch whose base already holds the
            # landed head (stacked on a PR that just landed) has nothing to commit.
            f"{stopped} && echo 'the rebase stopped: resolve, git add, git rebase --continue, then run these "
            "steps again from revgraph fix' || git diff --quiet || git commit -am 'Re-point migrations onto the "
            "landed head'"
        ),
    ]
    if checkout.remote and checkout.sha:
        # Exits 1 while the rebase is stopped (the line above said why); git refuses the
        # lease if the branch moved since this analysis: run collisions again then.
        lease = f"--force-with-lease={checkout.branch}:{checkout.sha}"
        commands.append(
            f"{done} && git push {q(lease)} {q(checkout.remote)} {q(f'{rebase_branch(checkout)}:{checkout.branch}')}"
        )
    elif checkout.remote:
        commands.append(f"git push --force-with-lease {q(checkout.remote)} {q(checkout.branch)}")
    elif checkout.detached:
        sha = checkout.sha or checkout.branch
        said = (f"{checkout.branch} is no branch: once the rebase is done, push HEAD to the branch it stands "
                f"for, leasing on the commit read here: git push --force-with-lease=BRANCH:{sha} REMOTE HEAD:BRANCH")
        commands.append(f"echo {q(said)}")
    return commands


def rebase_branch(checkout: Checkout) -> str:
    """The local branch a remote branch is rebased on: the analysed commit, apart from
    the user's own branch of that name."""
    return f"revgraph-rebase/{checkout.branch}"


def _switch_command(checkout: Checkout) -> str:
    q = shell_word
    if checkout.sha and checkout.remote:
        # The analysed commit, on a branch of its own: the local one of that name stays.
        return f"git switch -C {q(rebase_branch(checkout))} {q(checkout.sha)}"
    if checkout.detached:
        target = checkout.sha or checkout.branch
        return f"git switch --detach {q(target)}"
    return f"git switch {q(checkout.branch)}"


# ------------------------------------------------------------------ renderers
def render_text(
    report: CollisionReport,
    *,
    checkouts: Mapping[str, Checkout] | None = None,
    base_remote: str | None = None,
) -> str:
    """Plain text for a terminal."""
    lines = [f"base: {report.base}"]
    lines += _text_branches(report)
    lines.append("")
    if report.collisions:
        what = "competing heads, or one id twice," if any(c.same_ids for c in report.collisions) else "competing heads"
        lines.append(f"collisions ({len(report.collisions)}): these pairs leave {what} once both land")
        lines += [f"  {_collision_line(c)}" for c in report.collisions]
    else:
        lines.append("collisions: none")
    if report.forks:
        lines.append("")
        lines.append(f"already forking against {report.base} alone (RG102)")
        lines += [f"  {_fork_line(f, report.base)}" for f in report.forks]
    if report.problems:
        lines.append("")
        check = f"revgraph check --base {shell_word(report.base)}"
        lines.append(f"problems to mend before landing (`{check}` on the branch explains each)")
        lines += [f"  {p.ref} [{p.environment}]: {p.code} {p.message}" for p in report.problems]
    if report.steps:
        lines.append("")
        lines.append("landing order")
        lines += _text_steps(report, checkouts or {}, base_remote)
    if report.blocked:
        lines.append("")
        lines.append(f"not in the landing order until mended: {', '.join(report.blocked)}")
    from revgraph.render.inert import one_line

    # Each entry is one line: a line break in it came from data (an id, a path, an
    # environment name) and is shown, so it cannot start a line that reads as ours.
    return "\n".join(one_line(line) for line in lines) + "\n"


def _text_branches(report: CollisionReport) -> list[str]:
    lines = []
    width = max((len(b.ref) for b in report.branches), default=0)
    many = len(report.environments) > 1
    for branch in report.branches:
        for env in branch.changes:
            where = f" [{env.environment}]" if many else ""
            lines.append(
                f"  {branch.ref.ljust(width)}{where}  adds {', '.join(env.new)} on "
                f"{_grows_from(env.hangs_off, env.missing)}"
            )
    if lines:
        lines.insert(0, "branches")
    if report.nothing_to_land:
        lines.append(f"nothing to land: {', '.join(report.nothing_to_land)}")
    return lines


def _collision_line(c: Collision) -> str:
    parent = f"both grow from {c.shared_parent}" if c.shared_parent else "no shared parent"
    same = f"; both add {', '.join(c.same_ids)} in files of their own (one id, two files)" if c.same_ids else ""
    return (
        f"{c.a} x {c.b} [{c.environment}]: {parent}; "
        f"{c.a} adds {', '.join(c.a_new)}; {c.b} adds {', '.join(c.b_new)}{same}"
    )


def _fork_line(f: Fork, base: str) -> str:
    return (
        f"{f.ref} [{f.environment}]: adds {', '.join(f.new)} on {_grows_from(f.hangs_off, f.missing)}; "
        f"heads {', '.join(f.heads)} would compete on {base}; rebase it before it lands"
    )


def _grows_from(hangs_off: Sequence[str], missing: Sequence[str]) -> str:
    """What new revisions hang off: landed parents, and parents that do not exist (RG104)."""
    parents = [*hangs_off, *(f"{rid} (missing)" for rid in missing)]
    return ", ".join(parents) or "(new base)"


def _waits_note(step: Step) -> str:
    """Why ``step`` must not land before the branches it waits for (``Need``)."""
    if not step.waits_for:
        return ""
    return f"not before {', '.join(ref for ref, _ in step.waits_for)}: {'; '.join(why for _, why in step.waits_for)}"


def _step_title(report: CollisionReport, step: Step) -> str:
    waits = _waits_note(step)
    if not step.rebase:
        partners = _partners(report, step.ref)
        if not partners:
            return f"land {step.ref}  (collides with nothing{'; ' + waits if waits else ''})"
        reason = f"{order_reason(report, step)}, so it lands first{'; ' + waits if waits else ''}"
        return f"land {step.ref}  (collides with {', '.join(partners)}; {reason})"
    if waits:
        waits = f" ({waits})"
    why = f" (it already forks against {report.base})" if step.forks_alone else ""
    renumber = renumber_first(report, step)
    rebase = f"rebase {step.ref}"
    if renumber:
        rebase += f" (both add {', '.join(renumber)}: fix gives {step.ref}'s a new id)"
    if step.after:
        verb = "has" if len(step.after) == 1 else "have"
        return f"after {', '.join(step.after)} {verb} landed, {rebase}{why}, then land it{waits}:"
    return f"{rebase} now{why}, then land it{waits}:"


def renumber_first(report: CollisionReport, step: Step) -> list[str]:
    """Ids ``step``'s branch adds that a branch landing before it adds from another file:
    after the rebase, `revgraph fix` gives the branch's a new id (``fixes.renumber``)."""
    ids: set[str] = set()
    for c in report.collisions:
        partner = c.b if c.a == step.ref else c.a if c.b == step.ref else None
        if partner in step.after:
            ids.update(c.same_ids)
    return sorted(ids)


def _text_steps(report: CollisionReport, checkouts: Mapping[str, Checkout], base_remote: str | None) -> list[str]:
    lines = []
    for n, step in enumerate(report.steps, 1):
        lines.append(f"  {n}. {_step_title(report, step)}")
        if step.rebase:
            checkout = checkouts.get(step.ref, Checkout(step.ref))
            lines += [f"       {cmd}" for cmd in rebase_commands(report.base, checkout, base_remote=base_remote)]
    return lines


def _partners(report: CollisionReport, ref: str) -> list[str]:
    """The branches ``ref`` collides with, in landing order."""
    found = {c.b if c.a == ref else c.a for c in report.collisions if ref in (c.a, c.b)}
    return [r for r in report.order if r in found]


def render_markdown(
    report: CollisionReport,
    *,
    checkouts: Mapping[str, Checkout] | None = None,
    base_remote: str | None = None,
) -> str:
    """A comment for a merge-queue dashboard or a PR: tables and the numbered order."""
    from revgraph.render.markdown import cell, code_span, longest_backtick_run

    out = [f"### Migration collisions against {code_span(report.base)}", ""]
    if report.ok:
        out.append("No collisions: the branches can land in any order.")
    elif not report.collisions:
        # Still exit 1: a problem to mend, a fork, or an order that matters.
        order = "; the order below matters: a branch names what another adds" if report.needs else ""
        out.append(f"No collisions between the branches{order}.")
    if report.collisions:
        out += ["| branch | branch | environment | shared parent | new on first | new on second |",
                "| --- | --- | --- | --- | --- | --- |"]
        for c in report.collisions:
            out.append(
                f"| {code_span(c.a)} | {code_span(c.b)} | {cell(c.environment)} | {_code(c.shared_parent)} | "
                f"{_codes(c.a_new)} | {_codes(c.b_new)} |"
            )
    if report.forks:
        out += ["", f"Already forking against {code_span(report.base)} alone (RG102):", ""]
        out += [f"- {code_span(f.ref)} ({cell(f.environment)}): adds {_codes(f.new)} on {_codes(f.hangs_off)}"
                for f in report.forks]  # fmt: skip
    if report.problems:
        check = code_span(f"revgraph check --base {shell_word(report.base)}")
        out += ["", f"Problems to mend before landing ({check} on the branch explains each):", ""]
        out += [f"- {code_span(p.ref)} ({cell(p.environment)}): {p.code} {cell(p.message)}" for p in report.problems]
    if report.nothing_to_land:
        out += ["", "Nothing to land: " + ", ".join(code_span(r) for r in report.nothing_to_land)]
    if report.steps:
        out += ["", "**Landing order**", ""]
        for n, step in enumerate(report.steps, 1):
            waits = f" ({cell(_waits_note(step))})" if step.waits_for else ""
            if not step.rebase:
                out.append(f"{n}. land {code_span(step.ref)}{waits}")
                continue
            after = f" after {', '.join(code_span(r) for r in step.after)} landed" if step.after else ""
            checkout = (checkouts or {}).get(step.ref, Checkout(step.ref))
            cmds = rebase_commands(report.base, checkout, base_remote=base_remote)
            renumber = renumber_first(report, step)
            both = f" (both add {_codes(renumber)}: fix gives {code_span(step.ref)}'s a new id)" if renumber else ""
            out.append(f"{n}. rebase {code_span(step.ref)}{after}{both}, then land it{waits}:")
            # Each command is shell-quoted (shell_word); a fence longer than any backtick run in them.
            fence = "`" * max(3, *(longest_backtick_run(cmd) + 1 for cmd in cmds))
            out += [f"   {fence}sh", *(f"   {cmd}" for cmd in cmds), f"   {fence}"]
    if report.blocked:
        out += ["", "Not in the landing order until mended: " + ", ".join(code_span(r) for r in report.blocked)]
    return "\n".join(out) + "\n"


def _code(rid: str | None) -> str:
    from revgraph.render.markdown import code_span

    return code_span(rid) if rid else "—"


def _codes(ids: Sequence[str]) -> str:
    from revgraph.render.markdown import code_span

    return ", ".join(code_span(rid) for rid in ids) or "—"
