"""Whether another ref keeps its revisions where the working tree's settings look.

Every snapshot is read with the working tree's environments (its alembic.ini
or ``[tool.alembic]``): a ref is read from git without checking it out, and
its configuration is not loaded. When that ref changed where revisions live
(it turned on ``recursive_version_locations`` and moved old files into
``versions/2024/``, or changed ``version_locations``), its revisions there
look deleted from it, and so added here: ``diff`` and ``fix`` then describe a
history that is not the ref's. This finds such a difference so that the
command can say so; reading each ref with its own settings is a later change.

Only the options that decide where alembic finds revision files are compared,
in the config file itself and, for an ini file, in the pyproject.toml beside
it (alembic merges its ``[tool.alembic]`` in).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.sources.gitref import GitRepo

LOCATION_KEYS = (
    "script_location",
    "version_locations",
    "recursive_version_locations",
    "sourceless",
    "path_separator",
    "version_path_separator",
)


def location_options(data: bytes, toml: bool, section: str) -> Mapping[str, str] | None:
    """The location options a config file's bytes set; None when they cannot be read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if toml:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on 3.10 only
            import tomli as tomllib
        try:
            table = tomllib.loads(text).get("tool", {}).get("alembic", {})
        except (tomllib.TOMLDecodeError, AttributeError):
            return None
        if not isinstance(table, dict):
            return None
        return {key: repr(table[key]) for key in LOCATION_KEYS if key in table}
    from configparser import ConfigParser, Error

    parser = ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except Error:
        return None
    if not parser.has_section(section):
        return {}
    return {key: parser.get(section, key) for key in LOCATION_KEYS if parser.has_option(section, key)}


def changed_options(repo: GitRepo, ref: str, environments: Sequence[Environment], root: Path) -> list[str]:
    """The location options some environment's config files set differently at ``ref``
    than in the working tree (sorted; empty when they agree or cannot be compared).

    Each file is read once, here and at ``ref``, however many environments
    (sections of one alembic.ini) it holds.
    """
    wanted: dict[Path, set[str]] = {}  # config file -> the sections read from it
    for env in environments:
        config = env.config_file
        if config is None:
            continue
        section = env.section or "alembic"
        wanted.setdefault(config, set()).add(section)
        if config.suffix != ".toml":  # alembic merges the [tool.alembic] beside an ini in
            wanted.setdefault(config.parent / "pyproject.toml", set()).add(section)
    changed: set[str] = set()
    for path, sections in wanted.items():
        sides = _both_sides(repo, ref, path, root)
        if sides is None:
            continue
        toml = path.suffix == ".toml"
        for section in sections:
            ours, theirs = (location_options(data, toml, section) if data is not None else {} for data in sides)
            if ours is not None and theirs is not None:
                changed.update(key for key in LOCATION_KEYS if ours.get(key) != theirs.get(key))
    return sorted(changed)


def _both_sides(repo: GitRepo, ref: str, path: Path, root: Path) -> tuple[bytes | None, bytes | None] | None:
    """``path``'s bytes in the working tree and at ``ref`` (None where it is missing);
    None when they are the same or the file lies outside the repository."""
    try:
        relative = Path(os.path.relpath(path, root)).as_posix()
        here = path.read_bytes() if path.is_file() else None
    except (OSError, ValueError):
        return None
    if relative.startswith("../"):
        return None
    done = repo.git("cat-file", "blob", f"{ref}:{relative}", ok=range(256))
    there = done.stdout if done.returncode == 0 else None
    return None if here == there else (here, there)
