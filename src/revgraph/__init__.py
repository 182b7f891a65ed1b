"""revgraph: a git-aware manager for Alembic revision graphs."""

__version__ = "0.1.0"
