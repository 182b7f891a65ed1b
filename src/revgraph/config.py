"""Finding environments and revgraph settings. Returns plain dataclasses.

CONTRACT (other modules rely on these names):

* ``Environment`` -- one alembic migration environment.
* ``ProjectConfig`` -- ``[tool.revgraph]`` settings, with defaults.
* ``load_project(start, *, config_file=None, section=None, versions=None,
  env=None) -> Project`` -- finds the project root (dir holding alembic.ini /
  pyproject.toml, searched upward from ``start``), every environment, and the
  revgraph settings. Raises ``ConfigError`` (exit 2, one line) when nothing is
  found or the config is broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Environment:
    name: str  # "default" unless named in [tool.revgraph.environments] or -n
    script_location: Path | None  # absolute; None with --versions
    version_locations: tuple[Path, ...]  # absolute folders, in config order
    recursive: bool = False  # recursive_version_locations
    sourceless: bool = False
    file_template: str = "%(rev)s_%(slug)s"
    truncate_slug_length: int = 40
    timezone: str | None = None
    config_file: Path | None = None  # alembic.ini or pyproject.toml it came from
    section: str = "alembic"
    lock_file: Path | None = None  # absolute; default <script_location>/revgraph.lock
    allow_heads: int | None = None  # [tool.revgraph] allow_heads for this env
    # Extra alembic options (e.g. output_encoding) for rendering merge files.
    options: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def template_path(self) -> Path | None:
        if self.script_location is None:
            return None
        return self.script_location / "script.py.mako"


@dataclass(frozen=True)
class ProjectConfig:
    """``[tool.revgraph]`` in pyproject.toml. Command-line options win."""

    base: str | None = None
    protected: tuple[str, ...] = ()  # ref globs; empty means "the base"
    strategy: str = "rebase"
    lock_file: str | None = None  # relative to project root
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_heads: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Project:
    root: Path  # absolute; where the config was found (or -C / cwd)
    environments: tuple[Environment, ...]
    settings: ProjectConfig = ProjectConfig()

    def environment(self, name: str | None) -> tuple[Environment, ...]:
        """The environments a command covers: all, or the one named."""
        from revgraph.errors import UsageError

        if name is None:
            return self.environments
        for env in self.environments:
            if env.name == name:
                return (env,)
        known = ", ".join(e.name for e in self.environments) or "none"
        raise UsageError(f"unknown environment {name!r} (known: {known})")


def load_project(
    start: Path,
    *,
    config_file: Path | None = None,
    section: str | None = None,
    versions: Path | None = None,
    env: str | None = None,
) -> Project:  # pragma: no cover - implemented by the config work
    raise NotImplementedError
