"""Revision DAG specs: random ones (hypothesis), compact hand-written ones, on disk.

A spec is a list of ``RevSpec`` in parents-first order. ``depends_on``
entries name their target by id, by branch label, or (``prefix_depends``)
by a unique id prefix of 4+ characters.

alembic itself cannot load a ``depends_on`` given as an id prefix: its
``RevisionMap._add_depends_on`` looks names up in a dict of ids and branch
labels and raises ``KeyError``. So ``dags()`` defaults to
``prefix_depends=False``, the setting for any test that loads the files with
alembic; revgraph-only tests may turn prefixes on.

The ``spec_*`` / ``resolve_depends`` functions are a deliberately trivial,
independent reference (heads and bases follow ``down_revision`` only, as in
alembic).
"""

from __future__ import annotations

import datetime
import itertools
import re
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

from hypothesis import strategies as st

from tests.support.revfiles import STYLES, render_revision, revision_filename


class RevSpec(NamedTuple):
    id: str
    down: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str | None = None


# Words with letters outside [0-9a-f], so a label can never equal or prefix a hex id.
LABEL_WORDS = ("reporting", "billing", "analytics", "auth", "search", "audit", "tenants", "jobs")
MIN_PREFIX = 4

_hex_ids = st.integers(min_value=0, max_value=16**12 - 1).map(lambda n: f"{n:012x}")


# ---------------------------------------------------------------- reference
def spec_heads(spec: Sequence[RevSpec]) -> set[str]:
    """Revisions no other revision names in ``down_revision``."""
    parents = {p for rev in spec for p in rev.down}
    return {rev.id for rev in spec if rev.id not in parents}


def spec_bases(spec: Sequence[RevSpec]) -> set[str]:
    return {rev.id for rev in spec if not rev.down}


def spec_labels(spec: Sequence[RevSpec]) -> dict[str, str]:
    """Branch label -> the id of the revision declaring it."""
    return {label: rev.id for rev in spec for label in rev.branch_labels}


def resolve_name(spec: Sequence[RevSpec], name: str) -> str:
    """An id for an id, a branch label or a unique prefix of 4+ characters."""
    ids = [rev.id for rev in spec]
    if name in ids:
        return name
    labels = spec_labels(spec)
    if name in labels:
        return labels[name]
    matches = [rid for rid in ids if rid.startswith(name)] if len(name) >= MIN_PREFIX else []
    if len(matches) != 1:
        raise KeyError(name)
    return matches[0]


def resolve_depends(spec: Sequence[RevSpec]) -> dict[str, tuple[str, ...]]:
    """Each revision's ``depends_on`` as revision ids."""
    return {rev.id: tuple(resolve_name(spec, dep) for dep in rev.depends_on) for rev in spec}


# ------------------------------------------------------------ random specs
def _shortest_unique_prefix(rid: str, ids: Iterable[str]) -> int:
    others = [other for other in ids if other != rid]
    for length in range(MIN_PREFIX, len(rid)):
        if not any(other.startswith(rid[:length]) for other in others):
            return length
    return len(rid)


@st.composite
def dags(
    draw,
    *,
    min_size: int = 1,
    max_size: int = 12,
    max_bases: int = 3,
    merges: bool = True,
    labels: bool = True,
    depends: bool = True,
    prefix_depends: bool = False,
) -> list[RevSpec]:
    """A random, acyclic revision DAG spec, parents before children.

    Several bases (up to ``max_bases``), merge revisions with 2-3 parents,
    branch labels (each declared once), ``depends_on`` by id or label, and by
    unique prefix when ``prefix_depends`` (alembic cannot load those). Every
    edge points at an earlier revision, so no cycle can arise.
    """
    size = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(_hex_ids, min_size=size, max_size=size, unique=True))
    spec: list[RevSpec] = []
    unused_labels = list(LABEL_WORDS)
    bases = 0
    for index, rid in enumerate(ids):
        down = _draw_down(draw, spec, index, bases < max_bases, merges)
        bases += not down
        branch_labels = _draw_labels(draw, unused_labels) if labels else ()
        depends_on = (
            _draw_depends(draw, spec, down, ids, prefix_depends) if depends and spec else ()
        )
        spec.append(RevSpec(rid, down, branch_labels, depends_on, f"revision {index}"))
    return spec


def _pick(draw, pool: Sequence, count: int = 1) -> list:
    """``count`` distinct members of ``pool`` (positions drawn, shrinking to the first ones).

    ``st.sampled_from(pool)`` and ``st.lists`` of it would build new strategies
    at every draw (a list is not hashable, so hypothesis cannot cache them) and
    work out their properties again each time (a quarter of the CPU of the
    tests drawing these DAGs). ``st.integers`` with plain bounds is cached.
    """
    remaining = list(pool)
    return [remaining.pop(draw(st.integers(0, len(remaining) - 1))) for _ in range(min(count, len(remaining)))]


_PARENT_COUNTS = (1, 1, 1, 2, 3)


def _draw_down(draw, spec: list[RevSpec], index: int, may_base: bool, merges: bool):
    if index == 0 or (may_base and draw(st.integers(0, 7)) == 0):
        return ()
    # Mostly build on current heads (realistic long lines), sometimes fork
    # from anywhere (branch points).
    heads = sorted(spec_heads(spec))
    pool = heads if draw(st.integers(0, 3)) else [rev.id for rev in spec]
    most = min(3, len(pool)) if merges else 1
    count = _pick(draw, _PARENT_COUNTS)[0] if most > 1 else 1
    return tuple(_pick(draw, pool, min(count, most)))


def _draw_labels(draw, unused: list[str]) -> tuple[str, ...]:
    if not unused or draw(st.integers(0, 5)):
        return ()
    [label] = _pick(draw, unused)
    unused.remove(label)
    return (label,)


def _draw_depends(draw, spec, down, ids, prefix_depends) -> tuple[str, ...]:
    if draw(st.integers(0, 3)):
        return ()
    candidates = [rev for rev in spec if rev.id not in down]  # ids are unique: so are these
    if not candidates:
        return ()
    targets = _pick(draw, candidates, draw(st.integers(1, 2)))
    return tuple(_draw_reference(draw, target, ids, prefix_depends) for target in targets)


def _draw_reference(draw, target: RevSpec, ids, prefix_depends: bool) -> str:
    forms = ["id"]
    if target.branch_labels:
        forms.append("label")
    shortest = _shortest_unique_prefix(target.id, ids)
    if prefix_depends and shortest < len(target.id):
        forms.append("prefix")
    [form] = _pick(draw, forms)
    if form == "label":
        return _pick(draw, target.branch_labels)[0]
    if form == "prefix":
        return target.id[: draw(st.integers(shortest, len(target.id) - 1))]
    return target.id


# --------------------------------------------------------- compact specs
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def graph_spec(
    *chains: str,
    labels: Mapping[str, str | Sequence[str]] | None = None,
    depends: Mapping[str, str | Sequence[str]] | None = None,
    messages: Mapping[str, str] | None = None,
) -> list[RevSpec]:
    """A spec from chains like ``graph_spec("a<-b<-c", "a<-d", "c<-m", "d<-m")``.

    ``x<-y`` makes ``x`` a parent of ``y``; a revision named as the child in
    several chains gets all those parents (``m`` above is a merge). A lone
    name is a revision with no parent (a base, unless another chain gives it
    one). ``labels={"d": "reporting"}``, ``depends={"d": ["b"]}``. Revisions
    come out parents first, otherwise in order of first mention.
    """
    order: dict[str, list[str]] = {}
    for chain in itertools.chain.from_iterable(c.split() for c in chains):
        names = [name.strip() for name in chain.split("<-")]
        for name in names:
            if not _NAME.match(name):
                raise ValueError(f"bad revision name {name!r} in {chain!r}")
            order.setdefault(name, [])
        for parent, child in zip(names, names[1:], strict=False):
            if parent not in order[child]:
                order[child].append(parent)
    for extra in (labels or {}, depends or {}, messages or {}):
        unknown = set(extra) - set(order)
        if unknown:
            raise ValueError(f"unknown revisions {sorted(unknown)}")
    spec = [
        RevSpec(
            name,
            tuple(parents),
            _as_tuple((labels or {}).get(name)),
            _as_tuple((depends or {}).get(name)),
            (messages or {}).get(name, f"revision {name}"),
        )
        for name, parents in order.items()
    ]
    return _parents_first(spec)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _parents_first(spec: list[RevSpec]) -> list[RevSpec]:
    """Stable topological order over down_revision edges; ValueError on a cycle."""
    placed: set[str] = set()
    pending = list(spec)
    result: list[RevSpec] = []
    while pending:
        ready = [rev for rev in pending if all(p in placed for p in rev.down)]
        if not ready:
            raise ValueError(f"cycle among {[rev.id for rev in pending]}")
        first = ready[0]
        result.append(first)
        placed.add(first.id)
        pending.remove(first)
    return result


# --------------------------------------------------------------- on disk
def write_spec(
    folder: str | Path,
    spec: Sequence[RevSpec],
    style: str | Sequence[str] = "typed",
    *,
    start: datetime.datetime = datetime.datetime(2024, 1, 1, 8, 0, 0, 250000),
    newline: str = "\n",
) -> list[Path]:
    """Write each revision to ``folder`` as alembic names and renders it.

    ``style``: one of ``STYLES``, ``"mixed"`` (cycles through them), or a
    sequence of styles cycled over the revisions. Create Dates increase in
    spec order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    styles = _style_cycle(style)
    paths = []
    for index, rev in enumerate(spec):
        when = start + datetime.timedelta(minutes=11 * index)
        message = rev.message if rev.message is not None else f"revision {index}"
        text = render_revision(
            rev.id,
            rev.down,
            message=message,
            branch_labels=rev.branch_labels or None,
            depends_on=rev.depends_on or None,
            style=next(styles),
            create_date=when,
            newline=newline,
        )
        path = folder / revision_filename(rev.id, message, create_date=when)
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def _style_cycle(style: str | Sequence[str]):
    if style == "mixed":
        return itertools.cycle(STYLES)
    if isinstance(style, str):
        return itertools.repeat(style)
    return itertools.cycle(style)
