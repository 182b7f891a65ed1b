"""RG501, RG502: the database given with ``--db`` against HEAD's graph."""

from __future__ import annotations

from typing import Iterator

from revgraph.checks.context import CheckContext, Hit, id_list, where
from revgraph.checks.graph import topological


def _database(ctx: CheckContext) -> str:
    return f"database {ctx.db_url}" if ctx.db_url else "the database"


def check_unknown_stamp(ctx: CheckContext) -> Iterator[Hit]:
    """RG501: alembic_version holds an id no file in HEAD declares."""
    if ctx.db_revisions is None:
        return
    for rid in sorted(set(ctx.db_revisions) - set(ctx.head_graph.revisions)):
        yield Hit(
            "RG501",
            f"{_database(ctx)} is stamped at {rid}, which HEAD's graph does not have",
            revisions=(rid,),
        )


def pending_revisions(ctx: CheckContext) -> list[str]:
    """What ``alembic upgrade heads`` would apply, parents first."""
    graph = ctx.head_graph
    stamped = [rid for rid in ctx.db_revisions or () if rid in graph]
    pending = graph.closure(graph.heads) - graph.closure(stamped)
    return topological(graph, pending)


def check_database_behind(ctx: CheckContext) -> Iterator[Hit]:
    """RG502."""
    if ctx.db_revisions is None:
        return
    if set(ctx.db_revisions) - set(ctx.head_graph.revisions):
        # RG501: alembic cannot place the database ("Can't locate revision"),
        # so there is no upgrade plan to tell; what the stamp's ancestry would
        # have been is unknown here.
        return
    pending = pending_revisions(ctx)
    if not pending:
        return
    graph = ctx.head_graph
    revs = [graph[rid] for rid in pending]
    command = ctx.alembic("upgrade", "heads" if len(graph.heads) > 1 else "head")
    yield Hit(
        "RG502",
        f"{_database(ctx)} is {len(pending)} revision(s) behind: `{command}` would apply "
        f"{id_list(pending)}",
        revisions=tuple(pending),
        locations=tuple(where(rev) for rev in revs),
        fix=command,
        subjects=tuple(revs),
    )
