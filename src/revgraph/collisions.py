"""The merge-queue view: which open branches collide once both land on base.

Pure: snapshots in, a :class:`CollisionReport` out. For each environment,
a branch's *new* revisions are those its snapshot has and base lacks. Landing
a set of branches is predicted as the union of base's revisions and their new
ones (no ``git merge-tree`` per pair): two branches collide when that union has
more competing heads than landing either one alone would leave. A branch that
already forks against base by itself is reported on its own (RG102's case).

Heads are counted the way RG101/RG102 count them (``checks.graph.head_lanes``):
one head allowed per lane of landed branch labels, so heads on distinct,
landed labels do not compete. The lanes are computed incrementally here, from
base's heads and each branch's few new revisions, because building a whole
graph per pair would cost O(revisions) n² times.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from revgraph.model import Revision, RevisionGraph, Snapshot
from revgraph.shellwords import shell_word


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class EnvChanges:
    """What one branch adds in one environment."""

    environment: str
    new: tuple[str, ...]  # parents first
    hangs_off: tuple[str, ...]  # landed revisions the new chains grow from
    roots: tuple[str, ...]  # new revisions whose parents have all landed


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


@dataclass(frozen=True)
class CollisionReport:
    base: str
    environments: tuple[str, ...]
    branches: tuple[Branch, ...]
    collisions: tuple[Collision, ...]
    forks: tuple[Fork, ...]
    steps: tuple[Step, ...]

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(step.ref for step in self.steps)

    @property
    def nothing_to_land(self) -> tuple[str, ...]:
        return tuple(b.ref for b in self.branches if not b.has_new)

    @property
    def ok(self) -> bool:
        return not self.collisions and not self.forks

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
                }
                for s in self.steps
            ],
        }


# ------------------------------------------------------------- lanes of heads
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


# ------------------------------------------------------------------ analysis
@dataclass
class _EnvBranch:
    """A branch in one environment: its new revisions and what landing it alone does."""

    ref: str
    new: dict[str, Revision]
    changes: EnvChanges
    excess: int = 0


def find_collisions(
    base_ref: str,
    base: Mapping[str, Snapshot],
    branches: Mapping[str, Mapping[str, Snapshot]],
    *,
    allow_heads: Mapping[str, int | None] | None = None,
    first_commit: Callable[[str], str | None] | None = None,
) -> CollisionReport:
    """The merge-queue view of ``branches`` (ref -> environment -> snapshot) against ``base``.

    ``base`` maps each environment name to base's snapshot. Colliding branches
    land oldest first: by the ``Create Date`` of their new chains, then by
    ``first_commit(ref)`` (the ISO date of the branch's oldest commit base
    lacks; asked only of branches that add something), then in the order given.
    """
    allow_heads = allow_heads or {}
    changes: dict[str, list[EnvChanges]] = {ref: [] for ref in branches}
    roots: dict[str, list[Revision]] = {ref: [] for ref in branches}
    collisions: list[Collision] = []
    forks: list[Fork] = []
    for env_name, base_snap in base.items():
        index = _BaseIndex.build(base_snap.graph(), allow_heads.get(env_name))
        base_excess = index.excess()
        in_env: list[_EnvBranch] = []
        for ref, snaps in branches.items():
            snap = snaps.get(env_name)
            new = _new_revisions(index.graph, snap.revisions if snap is not None else ())
            if not new:
                continue
            env_changes = _describe(env_name, index.graph, new)
            entry = _EnvBranch(ref, new, env_changes)
            entry.excess, competing = _lanes(index, new)
            changes[ref].append(env_changes)
            roots[ref].extend(new[rid] for rid in env_changes.roots)
            if entry.excess > base_excess:
                forks.append(Fork(ref, env_name, env_changes.new, env_changes.hangs_off, competing))
            in_env.append(entry)
        collisions.extend(_pair_collisions(env_name, index, in_env))
    result_branches = tuple(
        Branch(
            ref,
            tuple(changes[ref]),
            _oldest_date(roots[ref]),
            first_commit(ref) if first_commit is not None and changes[ref] else None,
        )
        for ref in branches
    )
    steps = _landing_order(result_branches, collisions, forks)
    return CollisionReport(
        base=base_ref,
        environments=tuple(base),
        branches=result_branches,
        collisions=tuple(collisions),
        forks=tuple(forks),
        steps=steps,
    )


def _new_revisions(base: RevisionGraph, revisions: Iterable[Revision]) -> dict[str, Revision]:
    landed = base.revisions  # the plain mapping: this runs once per revision per branch
    return {rev.id: rev for rev in revisions if rev.id not in landed}


def _describe(env_name: str, base: RevisionGraph, new: Mapping[str, Revision]) -> EnvChanges:
    order = _parents_first(new)
    hangs_off = sorted({p for rev in new.values() for p in rev.down_revisions if p in base})
    roots = [rid for rid in order if not any(p in new for p in new[rid].down_revisions)]
    return EnvChanges(env_name, tuple(order), tuple(hangs_off), tuple(roots))


def _pair_collisions(env_name: str, index: _BaseIndex, entries: Sequence[_EnvBranch]) -> list[Collision]:
    """Each pair whose joint landing leaves more competing heads than either alone, or
    that adds one id from two different files (RG103's test: not the same revision
    stacked or cherry-picked unchanged)."""
    from revgraph.checks.graph import different_files

    out: list[Collision] = []
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            both = a.new.keys() & b.new.keys()
            same_ids = tuple(sorted(rid for rid in both if different_files(a.new[rid], b.new[rid])))
            joint = {**a.new, **b.new}
            excess, competing = _lanes(index, joint)
            if excess <= max(a.excess, b.excess) and not same_ids:
                continue  # stacked branches, distinct lines, or a fork one side has alone
            out.append(
                Collision(
                    a.ref,
                    b.ref,
                    env_name,
                    _shared_parent(index.graph, a.changes.hangs_off, b.changes.hangs_off),
                    a.changes.new,
                    b.changes.new,
                    competing,
                    same_ids,
                )
            )
    return out


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
    branches: Sequence[Branch], collisions: Sequence[Collision], forks: Sequence[Fork]
) -> tuple[Step, ...]:
    """Branches that collide with nothing first; then each group of colliding branches,
    oldest new chain first, each later one rebasing once those it collides with have landed;
    then the branches that fork against base alone.

    A forking branch is rebased whatever its place, and once rebased it grows from
    base's heads as of then: landed early, it would collide with every later branch
    that grows from those heads, which could otherwise land as they are. Last, each
    rebases onto everything landed before it (in its environments) and costs no one
    else a rebase.
    """
    position = {b.ref: i for i, b in enumerate(branches)}
    landing = [b for b in branches if b.has_new]
    partners: dict[str, set[str]] = {b.ref: set() for b in landing}
    for c in collisions:
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
    return tuple(steps)


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
    """How a person gets a ref as a branch: ``origin/feature/a`` is ``feature/a`` of ``origin``."""

    branch: str
    remote: str | None = None  # set for a remote-tracking ref: fetch it, push it back


def rebase_commands(base: str, checkout: Checkout, *, base_remote: str | None = None) -> list[str]:
    """The exact commands that move a branch's new revisions onto ``base``'s head.

    ``base_remote``: the remote ``base`` tracks, fetched first so that the
    rebase sees what has just landed.
    """
    q = shell_word
    commands = []
    for remote in dict.fromkeys(r for r in (base_remote, checkout.remote) if r):
        commands.append(f"git fetch {q(remote)}")
    commands += [
        f"git switch {q(checkout.branch)}",
        f"git rebase {q(base)}",
        f"revgraph fix --base {q(base)}",
        (
            # Only when fix changed something: a branch whose base already holds the
            # landed head (stacked on a PR that just landed) has nothing to commit.
            "git diff --quiet || git commit -am 'Re-point migrations onto the landed head'"
            "  # or `git rebase --continue` when the lock file stopped the rebase"
        ),
    ]
    if checkout.remote:
        commands.append(f"git push --force-with-lease {q(checkout.remote)} {q(checkout.branch)}")
    return commands


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
    if report.steps:
        lines.append("")
        lines.append("landing order")
        lines += _text_steps(report, checkouts or {}, base_remote)
    return "\n".join(lines) + "\n"


def _text_branches(report: CollisionReport) -> list[str]:
    lines = []
    width = max((len(b.ref) for b in report.branches), default=0)
    many = len(report.environments) > 1
    for branch in report.branches:
        for env in branch.changes:
            where = f" [{env.environment}]" if many else ""
            lines.append(
                f"  {branch.ref.ljust(width)}{where}  adds {', '.join(env.new)} on "
                f"{', '.join(env.hangs_off) or '(new base)'}"
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
        f"{f.ref} [{f.environment}]: adds {', '.join(f.new)} on {', '.join(f.hangs_off) or '(new base)'}; "
        f"heads {', '.join(f.heads)} would compete on {base}; rebase it before it lands"
    )


def _step_title(report: CollisionReport, step: Step) -> str:
    if not step.rebase:
        partners = _partners(report, step.ref)
        if not partners:
            return f"land {step.ref}  (collides with nothing)"
        return f"land {step.ref}  (collides with {', '.join(partners)}; {order_reason(report, step)}, so it lands first)"
    why = f" (it already forks against {report.base})" if step.forks_alone else ""
    renumber = renumber_first(report, step)
    rebase = f"rebase {step.ref}"
    if renumber:
        rebase += f" (both add {', '.join(renumber)}: fix gives {step.ref}'s a new id)"
    if step.after:
        verb = "has" if len(step.after) == 1 else "have"
        return f"after {', '.join(step.after)} {verb} landed, {rebase}{why}, then land it:"
    return f"{rebase} now{why}, then land it:"


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
    if report.nothing_to_land:
        out += ["", "Nothing to land: " + ", ".join(code_span(r) for r in report.nothing_to_land)]
    if report.steps:
        out += ["", "**Landing order**", ""]
        for n, step in enumerate(report.steps, 1):
            if not step.rebase:
                out.append(f"{n}. land {code_span(step.ref)}")
                continue
            after = f" after {', '.join(code_span(r) for r in step.after)} landed" if step.after else ""
            checkout = (checkouts or {}).get(step.ref, Checkout(step.ref))
            cmds = rebase_commands(report.base, checkout, base_remote=base_remote)
            renumber = renumber_first(report, step)
            both = f" (both add {_codes(renumber)}: fix gives {code_span(step.ref)}'s a new id)" if renumber else ""
            out.append(f"{n}. rebase {code_span(step.ref)}{after}{both}, then land it:")
            # Each command is shell-quoted (shell_word); a fence longer than any backtick run in them.
            fence = "`" * max(3, *(longest_backtick_run(cmd) + 1 for cmd in cmds))
            out += [f"   {fence}sh", *(f"   {cmd}" for cmd in cmds), f"   {fence}"]
    return "\n".join(out) + "\n"


def _code(rid: str | None) -> str:
    from revgraph.render.markdown import code_span

    return code_span(rid) if rid else "—"


def _codes(ids: Sequence[str]) -> str:
    from revgraph.render.markdown import code_span

    return ", ".join(code_span(rid) for rid in ids) or "—"
