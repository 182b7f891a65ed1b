"""Hooks other tools call: alembic's ``post_write_hooks`` entry (PRODUCT §5).

``revgraph install --post-write-hook`` registers, in alembic.ini::

    [post_write_hooks]
    hooks = revgraph_lock
    revgraph_lock.type = console_scripts
    revgraph_lock.entrypoint = revgraph-post-write

alembic (``alembic/script/write_hooks.py``) then runs, after writing a
revision, ``python -c "import revgraph.commands.post_write;
revgraph.commands.post_write.post_write_hook()"`` with ``sys.argv[1]`` the new
file's path (plus any ``revgraph_lock.options``), in alembic's working
directory, ignoring the exit code. The console script ``revgraph-post-write
PATH`` does the same by hand.

The hook refreshes the lock file of the environment whose versions folder
holds the new file. It is an entry point, like the CLI: it lives with the
commands and calls the API (``api.lock``). A revgraph problem must never spoil ``alembic revision``:
it is printed as a warning and the hook exits 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from revgraph.errors import ConfigError, RevgraphError


def _owning_environment(project, path: Path):
    """The environment whose versions folder holds ``path`` (recursively where configured)."""
    target = path.resolve()
    for env in project.environments:
        for folder in env.version_locations:
            folder = folder.resolve()
            if target.parent == folder or (env.recursive and target.is_relative_to(folder)):
                return env
    return None


def refresh_locks_for(revision_file: str | Path, *, cwd: Path | None = None) -> list:
    """Rewrite the lock file of the environment owning ``revision_file``; returns ``api.LockStatus``es.

    Raises ``ConfigError`` when no environment of the project found from the
    file's folder upward holds that file.
    """
    from revgraph import api
    from revgraph.config import load_project

    path = Path(revision_file)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    project = load_project(path.parent)
    env = _owning_environment(project, path)
    if env is None:
        raise ConfigError(
            f"{path} is not in a versions folder of the project at {project.root}; lock not refreshed"
        )
    options = api.Options(cwd=project.root, env=env.name)
    with api.Workspace(options) as ws:
        return api.lock(ws)


def post_write_hook(argv: Sequence[str] | None = None) -> int:
    """Entry point ``revgraph-post-write REVISION_FILE [...]``; always exits 0."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stderr.write(
            "usage: revgraph-post-write REVISION_FILE\n"
            "  alembic post_write_hooks entry: refreshes the revgraph heads lock file.\n"
        )
        return 0
    try:
        statuses = refresh_locks_for(args[0])
    except RevgraphError as exc:
        _warn(exc.message + (f" ({exc.hint})" if exc.hint else ""))
        return 0
    except Exception as exc:  # noqa: BLE001 - never fail `alembic revision` because of us
        _warn(f"internal error: {type(exc).__name__}: {exc}")
        return 0
    for status in statuses:
        if status.written:
            heads = _heads_of(status.expected)
            sys.stdout.write(f"revgraph: {status.path} updated (heads: {', '.join(heads) or 'none'})\n")
    return 0


def _heads_of(lock_text: str) -> list[str]:
    from revgraph.lockfile import parse_lock

    return list(parse_lock(lock_text).heads)


def _warn(message: str) -> None:
    sys.stderr.write(f"revgraph-post-write: warning: {message}; run `revgraph lock` by hand\n")


__all__ = ["post_write_hook", "refresh_locks_for"]
