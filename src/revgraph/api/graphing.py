"""``graph``: the revision graph of a ref, with the edges a fix would add."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from revgraph.api import Workspace, _graph, _read_blob, _try_resolve
from revgraph.api.checking import EnvContext, _revision_bytes, build_context

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.model import RevisionGraph


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
