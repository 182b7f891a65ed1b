"""Shared test helpers: real temporary git repositories, revision files written
the way alembic writes them, and random revision DAGs.

Import as ``from tests.support import GitRepo, render_revision, graph_spec``.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_INI = REPO_ROOT / "alembic.ini"
EXAMPLE_MIGRATIONS = REPO_ROOT / "migrations"
EXAMPLE_VERSIONS = EXAMPLE_MIGRATIONS / "versions"

from tests.support.dagspec import (  # noqa: E402
    RevSpec,
    dags,
    graph_spec,
    resolve_depends,
    spec_bases,
    spec_heads,
    spec_labels,
    write_spec,
)
from tests.support.gitrepo import (  # noqa: E402
    GitCommandFailed,
    GitRepo,
    isolated_environ,
    run_alembic,
    sqlite_tables,
)
from tests.support.revfiles import (  # noqa: E402
    STYLES,
    render_revision,
    revision_filename,
    slug,
)

__all__ = [
    "EXAMPLE_INI",
    "EXAMPLE_MIGRATIONS",
    "EXAMPLE_VERSIONS",
    "REPO_ROOT",
    "STYLES",
    "GitCommandFailed",
    "GitRepo",
    "RevSpec",
    "dags",
    "graph_spec",
    "isolated_environ",
    "render_revision",
    "resolve_depends",
    "revision_filename",
    "run_alembic",
    "slug",
    "spec_bases",
    "spec_heads",
    "spec_labels",
    "sqlite_tables",
    "write_spec",
]
