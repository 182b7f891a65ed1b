"""Rebase planning: re-point new chains onto the landed head of their line.

Who moves is decided by what has landed, never by git's ours/theirs: landed
revisions never move; new revisions are grouped into *units* (connected groups
of new revisions, usually one chain) and a unit moves by its roots only.

Per lineage (the branch labels a line carries; no label = the unlabelled
line) the landed head is the target. A unit that already hangs off it stays;
every other unit of that lineage is stacked, in ``Create Date`` order (ties:
id), onto the tip of the one before, so the line ends with one head.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Mapping, Sequence

from revgraph.checks.landed import edited_landed_history, parents_text
from revgraph.errors import FixRefused
from revgraph.fixes.plan import EditPlan, FileEdit, Move
from revgraph.fixes.textedit import rewrite_down_revision
from revgraph.model import RevisionGraph, Snapshot
from revgraph.shellwords import git_restore, shell_word

Lineage = frozenset  # of branch label names; empty = the unlabelled line

_MERGE_HINT = "run `revgraph fix --strategy merge` instead"
_POINT_AT_ITS_LINE = (
    "point its down_revision at the head of the line it continues (`revgraph heads -v` lists them)"
)


@dataclass(frozen=True)
class _Unit:
    """A connected group of new revisions (edges: down_revision)."""

    members: frozenset[str]
    roots: tuple[str, ...]  # members none of whose parents are new
    tips: tuple[str, ...]  # members no new revision hangs off
    order: tuple  # (Create Date, id) of its earliest root

    @property
    def name(self) -> str:
        return ", ".join(self.roots)


def plan_rebase(
    graph: RevisionGraph,
    *,
    landed: frozenset[str],
    sources: Mapping[str, bytes],
    target_heads: Mapping[str | None, str | Sequence[str]] | None = None,
    landed_from: str | None = None,
    base: Snapshot | None = None,
    onto_ref: str | None = None,
    here: Callable[[str], str] = str,
    merge_unavailable: str | None = None,
) -> EditPlan:
    """Plan re-pointing the new revisions of ``graph`` onto the landed heads.

    ``landed``: ids that must never move. ``sources``: current bytes of each
    non-landed revision file by path. ``target_heads``: per lineage (branch
    label, or None for the unlabelled line) the head(s) to rebase onto instead
    of the landed one (``--onto``, the ref named ``onto_ref``); several heads
    on one line are refused as base's are, unless a new merge revision already
    joins them. ``base``: the
    base ref's own snapshot; with it a refusal tells a fork base really has
    from landed history edited in ``graph``. Raises ``FixRefused`` with the
    reason when a rebase cannot give one head per lineage without moving a
    landed revision. ``here``: a path as the command a refusal offers names it
    (from where revgraph runs, ``findings.command_path``). ``merge_unavailable``:
    why ``fix --strategy merge`` cannot run in this environment (no script.py.mako,
    ``checks.graph.merge_unavailable``); a refusal then says so instead of offering it.
    """
    try:
        return _plan(graph, landed, sources, target_heads, landed_from, base, onto_ref, here)
    except FixRefused as refusal:
        if merge_unavailable and refusal.hint_if_no_merge is not None:
            # The hint offered `fix --strategy merge`, which would exit 2 here.
            refusal.hint = refusal.hint_if_no_merge + merge_unavailable
        raise


def _plan(
    graph: RevisionGraph,
    landed: frozenset[str],
    sources: Mapping[str, bytes],
    target_heads: Mapping[str | None, str | Sequence[str]] | None,
    landed_from: str | None,
    base: Snapshot | None,
    onto_ref: str | None,
    here: Callable[[str], str],
) -> EditPlan:
    landed_ids = frozenset(rid for rid in landed if rid in graph)
    new_ids = tuple(rid for rid in graph.revisions if rid not in landed_ids)
    base_graph = base.graph() if base is not None else None
    if base is not None:
        # Landed history edited here (RG201/RG202), first, as the merge strategy
        # refuses it: whatever the rebase moved would build on the edit, and
        # its message says how to restore it.
        _refuse_edited_landed_history(graph, landed_ids, base_graph, base.source, here=here)
    _refuse_broken_history(graph, landed_ids, new_ids)

    view = _LandedView(graph, landed_ids)
    notes: list[str] = []
    overridden: set[Lineage] = set()
    targets = view.targets(target_heads, notes, onto_ref, overridden)
    units = _units(graph, new_ids)
    left_alone: list[str] = []
    placed = _place_units(graph, view, units, left_alone)
    notes.extend(left_alone)
    _refuse_several_landed_heads(
        graph, targets, placed, landed_from, base, base_graph, here, overridden=overridden, onto_ref=onto_ref
    )
    # Each move is said by the caller ("moved ..."), not noted here.
    moves = _stack(graph, targets, placed)
    # Each revision's ancestors once the moves are made: both steps below ask.
    ancestors_after = _ancestry_after(graph, moves)
    _refuse_moves_off_landed_parents(moves, landed_ids, onto_ref, ancestors_after)
    drops = _drop_redundant_parents(graph, moves, landed_ids, ancestors_after)
    notes.extend(_describe_drop(drop) for drop in drops)
    moves += drops
    edits = _edits(graph, moves, landed_ids, sources)
    return EditPlan("rebase", edits=edits, moves=moves, notes=tuple(notes), left_alone=tuple(left_alone))


# ---------------------------------------------------------------- refusals
def _refuse_broken_history(graph: RevisionGraph, landed: frozenset[str], new_ids: tuple[str, ...]) -> None:
    new = set(new_ids)
    # Any id in two files, landed ones too: alembic keeps one file per id in its
    # map but still lists the other copy among its heads, so after either fix
    # `alembic upgrade head` would still find several heads, and `alembic merge
    # heads` refuses outright ("... is not a head revision" or "Duplicate head
    # revisions specified"); a parent naming that id could not say which file
    # it means. Two branches that took one id are renumbered before this (see
    # fixes/renumber.py); what is left here is not ours to guess at.
    _refuse_duplicates(graph)
    for cycle in graph.cycles:
        if new.intersection(cycle):
            raise FixRefused(f"the revisions {' -> '.join(cycle)} form a cycle: fix RG105 first")
    for dangling in graph.dangling:
        if dangling.revision in new:
            field = "down_revision" if dangling.kind == "down" else "depends_on"
            raise FixRefused(
                f"revision {dangling.revision} names {field} {dangling.target!r}, "
                "which does not exist: fix RG104 first"
            )
    for by_prefix in graph.depends_by_prefix:
        if by_prefix.revision in new:
            raise FixRefused(
                f"revision {by_prefix.revision} names depends_on {by_prefix.target!r}, a prefix of "
                f"{graph.resolve(by_prefix.target)}, which alembic cannot load: fix RG104 first"
            )
    for rid in new_ids:
        for child in graph.children(rid):
            if child in landed:
                raise FixRefused(
                    f"landed revision {child} hangs off new revision {rid}: "
                    "a rebase would move a landed revision (see RG201)"
                )


def _refuse_several_landed_heads(
    graph: RevisionGraph,
    targets: Mapping[Lineage, tuple[str, ...]],
    placed: Mapping[Lineage, list[_Unit]],
    landed_from: str | None = None,
    base: Snapshot | None = None,
    base_graph: RevisionGraph | None = None,
    here: Callable[[str], str] = str,
    *,
    overridden: Iterable[Lineage] = (),
    onto_ref: str | None = None,
) -> None:
    """Refuse a line whose target has several landed heads that no new merge joins.

    ``base_graph``: ``base.graph()``, given with ``base`` (built once by ``_plan``).
    ``overridden``: the lines whose heads the --onto ref (``onto_ref``) gave.
    """
    lines_of = _lineages_per_unit(placed)
    base_view = None
    for lineage, heads in sorted(targets.items(), key=lambda kv: _lineage_name(kv[0])):
        if len(heads) < 2:
            continue
        units = placed.get(lineage, ())
        if any(_is_fine(graph, unit, _wanted(unit, lines_of, targets)) for unit in units):
            continue  # a new merge revision already joins base's heads
        if base is not None and base_view is None:
            base_view = _LandedView(base_graph, frozenset(rev.id for rev in base.revisions))
        if lineage in overridden:
            # --onto REF stands for REF's head: with several, re-pointing onto
            # one of them moves revisions off the others (which have landed and
            # stay heads), so no rebase onto REF can leave one head.
            ref = onto_ref or "the --onto ref"
            raise FixRefused(
                f"{ref} (--onto) itself has several heads{_on_line(lineage)}: {', '.join(heads)}",
                hint=f"landed heads never move: join them with a merge revision on {ref} "
                "(`revgraph fix --strategy merge` there), or pass --onto a ref with one head",
                hint_if_no_merge=f"landed heads never move: join them with a merge revision on {ref}, "
                "or pass --onto a ref with one head; ",
            )
        if landed_from and ("+" in landed_from or "database" in landed_from):
            # The landed set comes from several places (protected refs, a
            # database): no single "base" to blame, and nothing may move.
            raise FixRefused(
                f"the revisions that must not move ({landed_from}) have several heads"
                f"{_on_line(lineage)}: {', '.join(heads)}",
                hint="join them with a merge revision: `revgraph fix --strategy merge`",
                hint_if_no_merge="",
            )
        if base is not None and len(base_view.heads_by_lineage.get(lineage, ())) < 2:
            elsewhere = [head for head in heads if head not in base_view.graph.revisions]
            if elsewhere:
                # Not an edit of base's history: revisions base lacks count as landed
                # (HEAD in a merge into the base branch: `git pull` over unpushed commits).
                rebase_them = (f"for commits of yours not pushed yet, undo this merge and rebase them onto "
                               f"{base.source} (`git pull --rebase`): fix then moves their revisions")  # fmt: skip
                raise FixRefused(
                    f"the landed revisions have several heads here{_on_line(lineage)}: {', '.join(heads)}; "
                    f"{', '.join(elsewhere)} counts as landed here but is not on {base.source}",
                    hint=f"join them with a merge revision: `revgraph fix --strategy merge`; or, {rebase_them}",
                    hint_if_no_merge=f"{rebase_them}; ",
                )
            raise FixRefused(
                f"the landed revisions have several heads here{_on_line(lineage)}: "
                f"{', '.join(heads)}, but {base.source} has one",
                hint=f"a landed revision differs from {base.source} (`revgraph diff "
                f"{shell_word(base.source)}` shows which): restore it from there",
            )
        where = base.source if base is not None else "base"
        raise FixRefused(
            f"{where} itself has several heads{_on_line(lineage)}: {', '.join(heads)}",
            hint=f"landed heads never move: join them with a merge revision on {where} "
            "(`revgraph fix --strategy merge` there)",
            hint_if_no_merge=f"landed heads never move: join them with a merge revision on {where}; ",
        )


def _refuse_duplicates(graph: RevisionGraph) -> None:
    """Refuse naming every id several files declare (RG103) and each of its files."""
    if not graph.duplicates:
        return
    what = "; ".join(
        f"revision {rid} is declared by several files ({', '.join(rev.path for rev in graph.duplicates[rid])})"
        for rid in sorted(graph.duplicates)
    )
    raise FixRefused(
        f"{what}: fix RG103 first (delete a copy of the same migration, or give the one that "
        "has not landed a new id: its `revision =`, docstring and file name)",
        hint="`revgraph check` lists each file with its line (RG103)",
    )


def refuse_unsafe_for_merge(
    graph: RevisionGraph, landed: frozenset[str], base: Snapshot | None, here: Callable[[str], str] = str
) -> None:
    """The merge strategy's refusals: an id two files declare, landed or not (RG103), new
    revisions with broken history (RG104, RG105), and landed history edited here
    (RG201/RG202), which a merge revision would build on."""
    landed_ids = frozenset(rid for rid in landed if rid in graph)
    if base is not None:
        _refuse_edited_landed_history(
            graph, landed_ids, base.graph(), base.source, cannot="A merge revision cannot undo this", here=here
        )
    _refuse_broken_history(graph, landed_ids, tuple(rid for rid in graph.revisions if rid not in landed_ids))


def _refuse_edited_landed_history(
    graph: RevisionGraph,
    landed: frozenset[str],
    base: RevisionGraph,
    base_name: str,
    *,
    cannot: str = "A rebase never moves a landed revision, so it cannot undo this",
    here: Callable[[str], str] = str,
) -> None:
    """Refuse naming the landed revisions re-pointed (RG201) or deleted (RG202) in ``graph``."""
    repointed, named_by = edited_landed_history(graph, landed, base)
    deleted = sorted(named_by)
    if not repointed and not deleted:
        return
    what = [
        f"landed revision {rid} was re-pointed: down_revision is "
        f"{parents_text(graph[rid].down_revisions)} here but "
        f"{parents_text(base[rid].down_revisions)} in {base_name} (RG201)"
        for rid in repointed
    ] + [
        f"landed revision {rid} is missing here though {named_by[rid]} names it as its parent "
        f"(deleted here: RG202; or {named_by[rid]} came without it, say by a cherry-pick: RG104)"
        for rid in deleted
    ]
    paths = [here(graph[rid].path) for rid in repointed] + [here(base[rid].path) for rid in deleted]
    raise FixRefused(
        "; ".join(what) + f". {cannot}",
        hint=f"restore {'it' if len(paths) == 1 else 'them'} from {base_name}: "
        f"`{git_restore(base_name, paths)}`, "
        "then run `revgraph fix`",
    )


# ------------------------------------------------------------ landed side
class _LandedView:
    """The landed part of the graph: its heads and the lineage of each revision."""

    def __init__(self, graph: RevisionGraph, landed: frozenset[str]) -> None:
        self.whole = graph
        self.graph = RevisionGraph(graph[rid] for rid in graph.revisions if rid in landed)
        self._below_owner: dict[str, set[str]] = {}
        self._ancestors: dict[str, set[str]] = {}
        self.heads_by_lineage: dict[Lineage, tuple[str, ...]] = {}
        for head in self.graph.heads:
            lineage = self.lineage_of(head)
            self.heads_by_lineage[lineage] = self.heads_by_lineage.get(lineage, ()) + (head,)

    def lineage_of(self, rid: str) -> Lineage:
        """Labels declared on ``rid`` or below it: the line(s) it belongs to."""
        found = set()
        for label, owner in self.graph.labels.items():
            if owner not in self._below_owner:
                self._below_owner[owner] = self.graph.descendants(owner) | {owner}
            if rid in self._below_owner[owner]:
                found.add(label)
        return frozenset(found)

    def heads_above(self, rid: str) -> tuple[str, ...]:
        found = []
        for head in self.graph.heads:
            if head not in self._ancestors:
                self._ancestors[head] = self.graph.ancestors(head)
            if head == rid or rid in self._ancestors[head]:
                found.append(head)
        return tuple(found)

    def lineage_of_parent(self, parent: str) -> Lineage | None:
        """The lineage a new revision hanging off ``parent`` continues; None: ambiguous."""
        lineages = {self.lineage_of(head) for head in self.heads_above(parent)}
        if len(lineages) == 1:
            return next(iter(lineages))
        own = self.lineage_of(parent)
        return own if own in lineages else None

    def targets(
        self,
        overrides: Mapping[str | None, str | Sequence[str]] | None,
        notes: list[str],
        onto_ref: str | None = None,
        overridden: set[Lineage] | None = None,
    ) -> dict[Lineage, tuple[str, ...]]:
        """Per lineage, the landed head(s) new revisions go onto; ``overridden`` gets
        the lineages whose heads ``overrides`` gave."""
        targets = dict(self.heads_by_lineage)
        used: set[str | None] = set()
        for lineage in targets:
            key = _override_key(lineage, overrides or {})
            if key is _MISSING:
                continue
            used.add(key)
            value = overrides[key]
            values = (value,) if isinstance(value, str) else tuple(value)
            targets[lineage] = tuple(dict.fromkeys(self._resolve_override(v, onto_ref) for v in values))
            if overridden is not None:
                overridden.add(lineage)
        for key in set(overrides or {}) - used:
            notes.append(f"--onto: no landed line {'unlabelled' if key is None else repr(key)}; ignored")
        return targets

    def _resolve_override(self, value: str, onto_ref: str | None) -> str:
        rid = self.graph.resolve(value)
        if rid is not None:
            return rid
        if self.whole.resolve(value) is None:
            # Not in the working tree at all: the --onto ref has revisions
            # this branch has not merged; re-pointing onto one would leave
            # a dangling down_revision (RG104).
            ref = shell_word(onto_ref) if onto_ref else "REF"
            raise FixRefused(
                f"this branch does not have {onto_ref or 'the --onto ref'}'s newer revisions yet "
                f"({value}); there is nothing to re-point onto until they are merged",
                hint=f"run `git merge {ref}` (or `git rebase {ref}`), then `revgraph fix --onto {ref}`",
            )
        raise FixRefused(
            f"rebase target {value!r} is not a landed revision",
            hint="include the --onto ref among the landed refs",
        )


_MISSING = object()


def _override_key(lineage: Lineage, overrides: Mapping[str | None, str]) -> object:
    """The ``overrides`` key naming this lineage, or ``_MISSING``."""
    if not lineage:
        return None if None in overrides else _MISSING
    for label in sorted(lineage):
        if label in overrides:
            return label
    return _MISSING


# --------------------------------------------------------------- new side
def _units(graph: RevisionGraph, new_ids: tuple[str, ...]) -> list[_Unit]:
    new = set(new_ids)
    seen: set[str] = set()
    units = []
    for start in new_ids:
        if start in seen:
            continue
        members = _component(graph, start, new)
        seen |= members
        units.append(_make_unit(graph, members, new))
    return units


def _component(graph: RevisionGraph, start: str, new: set[str]) -> set[str]:
    found: set[str] = set()
    stack = [start]
    while stack:
        rid = stack.pop()
        if rid in found:
            continue
        found.add(rid)
        stack.extend(r for r in graph.parents(rid) + graph.children(rid) if r in new)
    return found


def _make_unit(graph: RevisionGraph, members: set[str], new: set[str]) -> _Unit:
    roots = tuple(sorted(m for m in members if not any(p in new for p in graph.parents(m))))
    tips = tuple(sorted(m for m in members if not any(c in new for c in graph.children(m))))
    order = min((_date_key(graph[r].create_date), r) for r in roots)
    return _Unit(frozenset(members), roots, tips, order)


def _date_key(create_date: str | None) -> datetime:
    """A sortable Create Date; unreadable dates sort last."""
    if not create_date:
        return datetime.max
    try:
        parsed = datetime.fromisoformat(create_date.strip())
    except ValueError:
        return datetime.max
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _place_units(
    graph: RevisionGraph, view: _LandedView, units: list[_Unit], notes: list[str]
) -> dict[Lineage, list[_Unit]]:
    """Each unit under the lineage(s) it continues; new bases and new labels stay put."""
    placed: dict[Lineage, list[_Unit]] = {}
    for unit in units:
        if _left_alone(graph, unit, notes):
            continue
        for lineage in _unit_lineages(graph, view, unit):
            placed.setdefault(lineage, []).append(unit)
    return placed


def _left_alone(graph: RevisionGraph, unit: _Unit, notes: list[str]) -> bool:
    new_bases = [r for r in unit.roots if not graph[r].down_revisions]
    if new_bases:
        notes.append(f"{', '.join(new_bases)}: a new base (down_revision = None); left as it is")
        return True
    labelled = sorted(m for m in unit.members if graph[m].branch_labels)
    if labelled:
        labels = sorted({label for m in labelled for label in graph[m].branch_labels})
        notes.append(
            f"{', '.join(labelled)}: starts branch label(s) {', '.join(labels)}; left as it is"
        )
        return True
    return False


def _unit_lineages(graph: RevisionGraph, view: _LandedView, unit: _Unit) -> set[Lineage]:
    lineages: set[Lineage] = set()
    for root in unit.roots:
        for parent in graph.parents(root):
            lineage = view.lineage_of_parent(parent)
            if lineage is None:
                raise FixRefused(
                    f"new revision {root} hangs off {parent}, which lies below several "
                    "branch lines: revgraph cannot tell which line it continues",
                    hint=f"{_POINT_AT_ITS_LINE}, or {_MERGE_HINT}",
                    hint_if_no_merge=f"{_POINT_AT_ITS_LINE}; ",
                )
            lineages.add(lineage)
    return lineages


# --------------------------------------------------------------- stacking
def _stack(
    graph: RevisionGraph,
    targets: Mapping[Lineage, tuple[str, ...]],
    placed: Mapping[Lineage, list[_Unit]],
) -> tuple[Move, ...]:
    moves: list[Move] = []
    lines_of = _lineages_per_unit(placed)
    for lineage in sorted(placed, key=_lineage_name):
        units = placed[lineage]
        _refuse_branching(units)
        fine = [u for u in units if _is_fine(graph, u, _wanted(u, lines_of, targets))]
        # A unit that joins several lines cannot move: it anchors them all.
        fine.sort(key=lambda u: (len(lines_of[u]) == 1, u.order))
        anchor = fine[0] if fine else None
        onto = anchor.tips[0] if anchor else targets[lineage][0]
        for unit in sorted((u for u in units if u is not anchor), key=lambda u: u.order):
            if len(lines_of[unit]) > 1:
                names = sorted(_lineage_name(lin) or "unlabelled" for lin in lines_of[unit])
                raise FixRefused(
                    f"new revisions {unit.name} hang off several branch lines ({', '.join(names)})",
                    hint=_MERGE_HINT,
                    hint_if_no_merge="",
                )
            moves.extend(_move_unit(graph, unit, onto))
            onto = unit.tips[0]
    return tuple(moves)


def _refuse_branching(units: Iterable[_Unit]) -> None:
    for unit in units:
        if len(unit.tips) > 1:
            raise FixRefused(
                f"the new revisions {', '.join(unit.tips)} branch off each other "
                f"(from {unit.name}): a rebase moves chains by their roots only",
                hint=_MERGE_HINT,
                hint_if_no_merge="",
            )


def _is_fine(graph: RevisionGraph, unit: _Unit, heads: Iterable[str]) -> bool:
    """True when the unit already stands on every given landed head: its members hang off
    each of them (its roots may hang off older landed revisions too, joined to the heads
    by a merge revision of the unit, as ``fix --strategy merge`` leaves it: healthy,
    nothing to re-point)."""
    hangs_off = {p for member in unit.members for p in graph.parents(member)} - unit.members
    return set(heads) <= hangs_off


def _wanted(
    unit: _Unit,
    lines_of: Mapping[_Unit, set[Lineage]],
    targets: Mapping[Lineage, tuple[str, ...]],
) -> set[str]:
    return {head for lineage in lines_of[unit] for head in targets[lineage]}


def _lineages_per_unit(placed: Mapping[Lineage, list[_Unit]]) -> dict[_Unit, set[Lineage]]:
    per_unit: dict[_Unit, set[Lineage]] = {}
    for lineage, units in placed.items():
        for unit in units:
            per_unit.setdefault(unit, set()).add(lineage)
    return per_unit


def _move_unit(graph: RevisionGraph, unit: _Unit, onto: str) -> list[Move]:
    moves = []
    for root in unit.roots:
        rev = graph[root]
        if rev.is_merge:
            raise FixRefused(
                f"new revision {root} is a merge revision of landed revisions "
                f"{', '.join(rev.down_revisions)} and would have to move onto {onto}",
                hint=f"delete {rev.path} and {_MERGE_HINT}",
                hint_if_no_merge=f"delete {rev.path}; ",
            )
        if tuple(rev.down_revisions) != (onto,):
            moves.append(Move(root, tuple(rev.down_revisions), (onto,), rev.path))
    return moves


def _refuse_moves_off_landed_parents(
    moves: tuple[Move, ...],
    landed: frozenset[str],
    onto_ref: str | None,
    ancestors_after: Callable[[str], set[str]],
) -> None:
    """Refuse a move that takes a new revision off a landed parent its new place is not above.

    Every move of a rebase keeps what ran before the revision: its old landed
    parent stays an ancestor of the new one (base's head is above every landed
    revision of its line). When it would not -- an --onto target the revision's
    landed parent is not below, say a landed head besides the ref's -- the move
    would run the revision without the migration it was written against and
    leave that parent a head; fix writes what it can before failing on heads
    that remain, so this must be refused here, before anything is written.
    ``ancestors_after``: ``_ancestry_after(graph, moves)``.
    """
    for move in moves:
        for parent in move.old_down:
            if parent not in landed or parent in move.new_down:
                continue
            if any(parent == new or parent in ancestors_after(new) for new in move.new_down):
                continue
            onto = ", ".join(move.new_down)
            other = f"pass --onto a ref that contains {parent}" if onto_ref else f"point it at the head above {parent}"
            raise FixRefused(
                f"new revision {move.revision} would move off landed revision {parent} onto {onto}, "
                f"which {parent} is not below: {move.revision} would no longer run after {parent}, "
                f"and {parent} would stay a head",
                hint=f"landed revisions never move: `revgraph fix --strategy merge` joins {parent} and {onto} "
                f"with a merge revision, or {other}",
                hint_if_no_merge=f"landed revisions never move: {other}; ",
            )


# ------------------------------------------------------------------ edits
def _edits(
    graph: RevisionGraph,
    moves: tuple[Move, ...],
    landed: frozenset[str],
    sources: Mapping[str, bytes],
) -> tuple[FileEdit, ...]:
    landed_paths = {graph[rid].path for rid in landed}
    edits = []
    for move in moves:
        # The promise of PRODUCT §4: checked here, whatever the planning above did.
        if move.revision in landed or move.path in landed_paths:
            raise FixRefused(
                f"refusing to edit landed revision {move.revision} ({move.path}): "
                "landed revisions may already be applied to databases"
            )
        if move.path not in sources:
            raise FixRefused(f"no content for {move.path}; cannot re-point {move.revision}")
        old = sources[move.path]
        rev = graph[move.revision]
        new = rewrite_down_revision(old, rev.spans, move.old_down, move.new_down, path=move.path)
        edits.append(FileEdit(move.path, old, new))
    if len({edit.path for edit in edits}) != len(edits):
        raise FixRefused("two re-pointed revisions share one file; nothing planned")
    return tuple(edits)


# ------------------------------------------------- merges the moves outdate
def _drop_redundant_parents(
    graph: RevisionGraph,
    moves: tuple[Move, ...],
    landed: frozenset[str],
    ancestors_after: Callable[[str], set[str]],
) -> tuple[Move, ...]:
    """Drop the merge parents the moves made redundant (RG302), in new merge revisions only.

    A new chain that a feature had joined to a landed head with a merge
    revision (``m = (x, landed)``) moves onto the newer landed head; that
    landed revision is then an ancestor of ``x`` too, and ``m`` names it
    twice over. Dropping a parent that is an ancestor of another parent leaves
    the merge's ancestors -- what ``upgrade`` applies before it -- exactly as
    they are, so it changes nothing but the warning. Landed merge revisions
    never change, and redundancy the moves did not create is the author's.
    """
    if not moves:
        return ()
    new_parents = {move.revision: move.new_down for move in moves}

    # Only a descendant of a moved root can have a parent whose ancestry changed.
    touched = set().union(*(graph.descendants(move.revision) for move in moves))
    drops = []
    for rid in sorted(touched):
        rev = graph[rid]
        parents = tuple(rev.down_revisions)
        if rid in landed or rid in new_parents or len(set(parents)) < 2:
            continue
        redundant_after = {p for p in parents for q in parents if p != q and p in ancestors_after(q)}
        redundant_before = {p for p in parents for q in parents if p != q and p in graph.ancestors(q)}
        dropped = redundant_after - redundant_before
        if dropped:
            kept = tuple(p for p in parents if p not in dropped)
            drops.append(Move(rid, parents, kept, rev.path))
    return tuple(drops)


def _ancestry_after(graph: RevisionGraph, moves: Iterable[Move]) -> Callable[[str], set[str]]:
    """The ancestors of a revision once ``moves`` are made (memoised)."""
    new_parents = {move.revision: move.new_down for move in moves}

    def parents_after(rid: str) -> tuple[str, ...]:
        return new_parents.get(rid, graph.parents(rid))

    below_after: dict[str, set[str]] = {}

    def ancestors_after(rid: str) -> set[str]:
        if rid not in below_after:
            found: set[str] = set()
            stack = list(parents_after(rid))
            while stack:
                parent = stack.pop()
                if parent not in found and parent in graph:
                    found.add(parent)
                    stack.extend(parents_after(parent))
            below_after[rid] = found
        return below_after[rid]

    return ancestors_after


def _describe_drop(move: Move) -> str:
    dropped = [p for p in move.old_down if p not in move.new_down]
    text = (
        f"drop parent {', '.join(dropped)} of merge revision {move.revision} ({move.path}): "
        f"after the move {'it is' if len(dropped) == 1 else 'they are'} already below "
        f"{', '.join(move.new_down)}"
    )
    if len(move.new_down) == 1:
        # Kept, not deleted: a database stamped at it must still find it.
        text += "; it joins nothing now and stays as an ordinary revision"
    return text


def _lineage_name(lineage: Lineage) -> str:
    return ", ".join(sorted(lineage)) if lineage else ""


def _on_line(lineage: Lineage) -> str:
    return f" on branch {_lineage_name(lineage)}" if lineage else ""
