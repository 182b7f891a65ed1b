"""Finding environments and revgraph settings. Returns plain dataclasses.

CONTRACT (other modules rely on these names):

* ``Environment`` -- one alembic migration environment.
* ``ProjectConfig`` -- ``[tool.revgraph]`` settings, with defaults.
* ``load_project(start, *, config_file=None, section=None, versions=None,
  env=None) -> Project`` -- finds the project root (dir holding alembic.ini /
  pyproject.toml, searched upward from ``start``), every environment, and the
  revgraph settings. Raises ``ConfigError`` (exit 2, one line) when nothing is
  found or the config is broken.

Alembic options are read the way alembic 1.20's ``Config`` and
``ScriptDirectory.from_config`` read them (ini section first, then
``[tool.alembic]``; ``%(here)s``; ``path_separator`` / legacy splitting;
``true`` booleans; ``truncate_slug_length or 40``). The deliberate differences
are written where they happen: relative paths, empty list items, and package
resources found without importing the application.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from revgraph.errors import ConfigError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from configparser import ConfigParser

DEFAULT_SECTION = "alembic"
DEFAULT_ENV_NAME = "default"
LOCK_FILE_NAME = "revgraph.lock"
STRATEGIES = ("rebase", "merge")

_NOT_FOUND_MESSAGE = (
    "no Alembic environment found in {start} or its parents; pass -c alembic.ini or --versions DIR"
)

# alembic/config.py ``_get_file_separator_char``.
_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
# How far below the start folder the "not found" error looks for configs to name.
_BELOW_DEPTH = 3
_BELOW_MAX_FOLDERS = 400
_BELOW_SKIP = frozenset({"node_modules", "site-packages", "venv", "env", "__pycache__", "build", "dist"})


def _configs_below(start: Path) -> list[str]:
    """alembic.ini files and pyproject.toml files with ``[tool.alembic]`` a few folders
    below ``start`` (a monorepo's root), POSIX paths relative to it; a bounded walk."""
    found: list[str] = []
    queue = [(start, 0)]
    seen = 0
    while queue and seen < _BELOW_MAX_FOLDERS and len(found) < 5:
        folder, depth = queue.pop(0)
        seen += 1
        try:
            # Only folders and the names below can matter: a versions folder's 20k
            # revision files are not sorted (the merge driver walks from the top).
            with os.scandir(folder) as listing:
                entries = [
                    e for e in listing
                    if not e.name.endswith(".py") and (e.name.endswith((".ini", ".toml")) or e.is_dir(follow_symlinks=False))
                ]  # fmt: skip
        except OSError:
            continue
        entries.sort(key=lambda e: e.name)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < _BELOW_DEPTH and not entry.name.startswith(".") and entry.name not in _BELOW_SKIP:
                        queue.append((Path(entry.path), depth + 1))
                elif depth and entry.name == "alembic.ini":
                    found.append(Path(entry.path).relative_to(start).as_posix())
                elif entry.name.endswith(".ini") and entry.name != "alembic.ini" and _has_alembic_section(entry.path):
                    found.append(Path(entry.path).relative_to(start).as_posix())  # Pyramid's development.ini
                elif depth and entry.name == "pyproject.toml" and "alembic" in _read_tool_tables(Path(entry.path)):
                    found.append(Path(entry.path).relative_to(start).as_posix())
            except (OSError, ConfigError):
                continue
    return found


_ALEMBIC_SECTION = re.compile(rb"^[ \t]*\[alembic\][ \t]*\r?$", re.MULTILINE)


def _has_alembic_section(path: str) -> bool:
    """An ini file of another name holding alembic's options (``alembic -c development.ini``)."""
    try:
        with open(path, "rb") as handle:
            return _ALEMBIC_SECTION.search(handle.read(1 << 18)) is not None
    except OSError:
        return False


def _configs_below_hint(start: Path) -> str | None:
    found = _configs_below(start)
    if not found:
        return None
    first_ini = Path(found[0])
    if len(first_ini.parts) == 1:  # right here, under another name: alembic needs -c for it too
        return (
            f"found {', '.join(found)} with an [alembic] section: pass -c {found[0]}, or name it in "
            f'a pyproject.toml here, under [tool.revgraph.environments]: default = {{ config = "{found[0]}" }}'
        )
    first = first_ini.parent
    if first.name == FLASK_MIGRATE_FOLDER and _flask_migrate_folder(start / first_ini):
        first = first.parent  # where `flask db` runs, and revgraph finds it too
    elif first_ini.name != "alembic.ini":
        # Found there only by its [alembic] section: -C alone would not find it (a tester).
        return (
            f"found {', '.join(found)} with an [alembic] section: pass -c {found[0]}, or list them "
            "under [tool.revgraph.environments] in a pyproject.toml here"
        )
    first = first.as_posix()
    return (
        f"found {', '.join(found)}: run revgraph there (revgraph -C {first} ...), pass -c "
        f"{found[0]}, or list them under [tool.revgraph.environments] in a pyproject.toml here"
    )


# alembic/config.py legacy splitting, used when no separator key is present.
_LEGACY_VERSIONS_SPLIT = re.compile(r", *|(?: +)")
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|\:")

# Options revgraph interprets itself; everything else goes to Environment.options.
_ALEMBIC_KEYS = frozenset(
    {
        "script_location",
        "version_locations",
        "path_separator",
        "version_path_separator",
        "recursive_version_locations",
        "sourceless",
        "file_template",
        "truncate_slug_length",
        "timezone",
        "here",
    }
)
_SETTINGS_KEYS = frozenset(
    {"base", "protected", "strategy", "lock_file", "select", "ignore", "allow_heads", "environments"}
)
# Keys of one [tool.revgraph.environments] entry. An entry given by
# script_location may also carry the [tool.alembic] keys.
_ENV_SOURCE_KEYS = ("config", "versions", "script_location")
_ENV_TABLE_KEYS = frozenset(
    {
        "config",
        "section",
        "versions",
        "lock_file",
        "script_location",
        "version_locations",
        "recursive_version_locations",
        "sourceless",
        "file_template",
        "truncate_slug_length",
        "timezone",
        "prepend_sys_path",
        "output_encoding",
    }
)


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
    # Described by its [tool.revgraph.environments] entry itself (script_location
    # there), not by an alembic config file: ``config_file`` is that pyproject.toml.
    inline: bool = False
    # Extra alembic options (e.g. output_encoding) for rendering merge files.
    options: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # ``template_path`` was a file when the configuration was loaded: alembic (and
    # ``fix --strategy merge``) renders a new revision from it, so without it no
    # command offers a merge revision. Noted among ``project_inputs`` and part of
    # the environment's definition, so adding or removing the template changes
    # the result cache's key and voids the express lane's tickets.
    has_template: bool = False

    @property
    def template_path(self) -> Path | None:
        if self.script_location is None:
            return None
        return self.script_location / "script.py.mako"

    def versions_relative_to(self, root: Path) -> tuple[str, ...]:
        """``version_locations`` as POSIX paths relative to ``root`` (e.g. a git top level).

        Used to read the same folders from a git ref. ``root`` itself is ``""``.
        A location outside ``root`` raises ``ConfigError``: git cannot hold it;
        unless it does not exist beside others, which alembic skips too: then it
        is left out. (Alone, it is the environment: a ref's settings naming such a
        folder cannot be used, ``sources.refsettings``.)
        """
        return tuple(_posix_relative(location, root, self.name) for location in locations_to_read(self, root))


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
    # ``allow_heads = 2`` (an int) applies to every environment; a table
    # ``allow_heads = {main = 2}`` fills ``allow_heads`` per environment name.
    allow_heads_all: int | None = None
    # The raw [tool.revgraph.environments] table (already turned into
    # Project.environments); kept for messages and tooling.
    environments: Mapping[str, Mapping[str, Any]] = field(
        default_factory=dict, compare=False, hash=False
    )

    def heads_allowed(self, env_name: str) -> int | None:
        """How many heads environment ``env_name`` may have (None: the default rule)."""
        return self.allow_heads.get(env_name, self.allow_heads_all)


@dataclass(frozen=True)
class Project:
    root: Path  # absolute; where the config was found (or -C / cwd)
    environments: tuple[Environment, ...]
    settings: ProjectConfig = ProjectConfig()
    # Problems that did not stop loading (unknown keys, alembic deprecations), one line each.
    warnings: tuple[str, ...] = ()
    settings_file: Path | None = None  # the pyproject.toml [tool.revgraph] came from
    # A project further up that names this one's alembic.ini as an environment
    # (``_outer_project``): (its pyproject.toml, the environment's name, the
    # settings it sets that decide what has landed: "protected", "base").
    outer: tuple[Path, str, tuple[str, ...]] | None = None

    def environment(self, name: str | None) -> tuple[Environment, ...]:
        """The environments a command covers: all, or the one named."""
        if name is None:
            return self.environments
        for env in self.environments:
            if env.name == name:
                return (env,)
        known = ", ".join(e.name for e in self.environments) or "none"
        raise UsageError(f"unknown environment {name!r} (known: {known})")


# --------------------------------------------------------------------- entry


def load_project(
    start: Path,
    *,
    config_file: Path | None = None,
    section: str | None = None,
    versions: Path | None = None,
    env: str | None = None,
) -> Project:
    """Find the project and its environments; see the module docstring.

    Every filesystem fact the answer rests on is noted on the way
    (``project_inputs``), so that the result cache's express lane can tell
    an unchanged configuration without importing this module.
    """
    outer = getattr(_local, "trace", None)
    _local.trace = trace = []
    try:
        project = _load_project(
            start, config_file=config_file, section=section, versions=versions, env=env
        )
    finally:
        _local.trace = outer
    if outer is not None:
        outer.extend(trace)  # a nested load: the outer answer rests on it too
    _inputs[id(project)] = (project, tuple(trace))
    if len(_inputs) > 8:  # a long-lived process loading many projects keeps the last few
        del _inputs[next(iter(_inputs))]
    return project


def project_inputs(project: Project) -> tuple | None:
    """What ``load_project`` read to build ``project``, in order; None when unknown.

    ``(kind, path, value)`` rows: ``"f"``/``"d"``/``"e"`` is_file/is_dir/exists
    and the answer, ``"r"`` a file's bytes. None when the answer also rests on
    something not replayable (a ``package:resource`` location is found through
    sys.path and installed packages).
    """
    found = _inputs.get(id(project))
    if found is None or found[0] is not project:
        return None
    trace = found[1]
    return None if any(kind == "?" for kind, _, _ in trace) else trace


# id(Project) -> (the Project, its inputs); the Project is kept so an id is never reused.
_inputs: dict[int, tuple[Project, tuple]] = {}
_local = threading.local()  # the trace of the load_project running in this thread


def _seen(kind: str, path: Path | str, value: Any) -> Any:
    trace = getattr(_local, "trace", None)
    if trace is not None:
        trace.append((kind, os.fspath(path), value))
    return value


def _is_file(path: Path) -> bool:
    return _seen("f", path, path.is_file())


def _is_dir(path: Path) -> bool:
    return _seen("d", path, path.is_dir())


def _exists(path: Path) -> bool:
    return _seen("e", path, path.exists())


def _seen_read(path: Path, data: bytes) -> bytes:
    return _seen("r", path, data)


def _seen_opaque() -> None:
    _seen("?", "", None)


def _load_project(
    start: Path,
    *,
    config_file: Path | None,
    section: str | None,
    versions: Path | None,
    env: str | None,
) -> Project:
    """``load_project`` without the bookkeeping of its inputs.

    Precedence: ``versions`` (``--versions DIR``, one environment "default"),
    then ``config_file`` (``-c FILE``, one environment named ``section`` or
    "default"), then the nearest directory upward from ``start`` holding
    ``alembic.ini`` or a pyproject.toml with ``[tool.alembic]`` /
    ``[tool.revgraph]``. There, ``-n NAME`` picks one alembic.ini section;
    otherwise ``[tool.revgraph.environments]`` when present, else alembic.ini
    ``[alembic]`` merged with ``[tool.alembic]`` as alembic merges them, and
    each other section of alembic.ini with a ``script_location`` of its own
    (``_SectionBuilder``).

    With ``env`` only that environment is built (a broken neighbour does not
    stop it) and ``Project.environments`` holds just it; an unknown name is a
    ``UsageError``.

    Lock file, per environment: the entry's ``lock_file`` in
    ``[tool.revgraph.environments]``, else ``[tool.revgraph] lock_file``
    (both relative to the project root), else
    ``<script_location>/revgraph.lock`` -- or ``<versions dir>/revgraph.lock``
    for an environment given by its versions folder (alembic lists only
    ``.py`` files there, so the lock file is harmless).
    """
    start = _start_dir(start)
    notes: list[str] = []
    service_envs: tuple[str, ...] = ()
    # -n NAME picks a section of the alembic.ini found: that file's own folder, never
    # a project above that names it.
    found = _find_project_dir(start, owned=section is None)
    if found is not None:
        root, tool = found.path, found.tool or {}
        if found.envs and config_file is None and versions is None and env is None:
            service_envs = found.envs  # the environments that name the service started in
    elif versions is None and config_file is None:
        raise ConfigError(_NOT_FOUND_MESSAGE.format(start=start), hint=_configs_below_hint(start))
    else:
        # Explicit -c / --versions outside any project: settings may still sit beside them.
        root = start if versions is not None else _abs(start, config_file or "").parent
        tool = _read_tool_tables(root / "pyproject.toml")

    pyproject = root / "pyproject.toml"
    settings = _parse_settings(tool.get("revgraph"), pyproject, notes) if tool else ProjectConfig()
    settings_file = pyproject if tool and "revgraph" in tool else None

    specs = _environment_specs(
        start, root, tool, settings, config_file=config_file, section=section, versions=versions
    )
    selected = [spec for spec in specs if spec[0] in service_envs] if service_envs else _select(specs, env)
    environments = _build_environments(selected, root, settings, notes)
    _check_lock_files_distinct(environments)
    _check_lock_settings(environments, root, settings, pyproject)
    # Against every environment the project has, --env or not.
    _warn_unknown_allow_heads(settings, [name for name, _ in specs], pyproject, notes)
    # Only -n kept the folder from the project above that names its alembic.ini
    # (``_find_project_dir`` looked for one already otherwise, and found none).
    outer = _outer_project(root) if section is not None and settings_file is None and found is not None else None
    if outer is not None:
        notes.append(outer_project_note(root, outer))
    return Project(
        root=root,
        environments=environments,
        settings=settings,
        warnings=tuple(notes),
        settings_file=settings_file,
        outer=outer,
    )


def _outer_project(root: Path) -> tuple[Path, str, tuple[str, ...]] | None:
    """The project further up that names ``root``'s alembic.ini in its
    ``[tool.revgraph.environments]`` (``Project.outer``), or None. Its settings
    (``protected`` above all: the refs whose revisions never move) apply when revgraph
    runs there; a run that took ``root``'s own config does not know them. The nearest
    ``[tool.revgraph]`` above decides."""
    owner = _owner_above(root)
    if owner is None:
        return None
    pyproject, names, tool = owner
    table = tool["revgraph"]
    return pyproject, names[0], tuple(key for key in ("protected", "base") if table.get(key))


def _owner_above(folder: Path) -> tuple[Path, tuple[str, ...], dict[str, Any]] | None:
    """The project above ``folder`` that names ``folder``'s alembic.ini in its
    ``[tool.revgraph.environments]``: (its pyproject.toml, the names of the environments
    that name it, its ``[tool]`` tables), or None. The nearest ``[tool.revgraph]``
    above decides; one that cannot be read is passed over (its own commands say what
    is wrong with it)."""
    ini = folder / "alembic.ini"
    if not _is_file(ini):
        return None
    for directory in folder.parents:
        pyproject = directory / "pyproject.toml"
        if not _is_file(pyproject):
            continue
        try:
            tool = _read_tool_tables(pyproject)
        except ConfigError:
            return None
        table = tool.get("revgraph")
        if not isinstance(table, dict):
            continue
        environments = table.get("environments")
        names = tuple(
            str(name)
            for name, entry in (environments.items() if isinstance(environments, dict) else ())
            if _names_ini(entry, directory, ini)
        )
        return (pyproject, names, tool) if names else None
    return None


def _names_ini(entry: Any, directory: Path, ini: Path) -> bool:
    """Whether an ``[tool.revgraph.environments]`` entry of the project in ``directory`` takes ``ini``."""
    config = entry.get("config") if isinstance(entry, dict) else None
    return isinstance(config, str) and bool(config.strip()) and _abs(directory, config.strip()) == ini


def outer_project_command(root: Path, outer: tuple[Path, str, tuple[str, ...]], command: str) -> str:
    """``revgraph -C .. --env NAME COMMAND``: ``command`` run with the outer project's settings."""
    from revgraph.shellwords import shell_word

    pyproject, name, _ = outer
    return f"revgraph -C {shell_word(os.path.relpath(pyproject.parent, root))} --env {shell_word(name)} {command}"


def outer_project_note(root: Path, outer: tuple[Path, str, tuple[str, ...]]) -> str:
    pyproject, name, landed = outer
    which = " (protected refs among them)" if "protected" in landed else ""
    return (
        f"{pyproject} names this alembic.ini as environment {name!r}; its [tool.revgraph] "
        f"settings{which} apply only when revgraph runs there: {outer_project_command(root, outer, '...')}"
    )


# ----------------------------------------------------------- finding the root


@dataclass(frozen=True)
class _Found:
    path: Path
    tool: Mapping[str, Any] | None  # pyproject.toml's [tool] table, None without pyproject
    # Found through a service folder that the project at ``path`` names as these
    # environments (``_owner_above``): a run started there covers them alone.
    envs: tuple[str, ...] = ()


def _start_dir(start: Path) -> Path:
    path = Path(os.path.normpath(Path(start).absolute()))
    return path.parent if _is_file(path) else path


def _abs(base: Path, path: Path | str) -> Path:
    """``path`` made absolute against ``base`` and normalised (symlinks kept, as git sees them)."""
    return Path(os.path.normpath(base / path))


def find_project_dir(start: Path) -> Path | None:
    """The folder revgraph started in ``start`` takes its project from (None: none)."""
    found = _find_project_dir(Path(os.path.abspath(start)))
    return found.path if found is not None else None


def project_dirs_below(start: Path) -> list[Path]:
    """The folders revgraph started at each alembic config a few folders below ``start``
    (``_configs_below``: a bounded walk, the first few found) takes its project from."""
    start = Path(os.path.abspath(start))
    found: list[Path] = []
    for relative in _configs_below(start):
        folder = find_project_dir((start / relative).parent)
        if folder is not None and folder not in found:
            found.append(folder)
    return found


def _find_project_dir(start: Path, *, owned: bool = True) -> _Found | None:
    """The nearest directory, from ``start`` up to the filesystem root, that holds a config
    (or Flask-Migrate's ``migrations/alembic.ini``, which ``flask db`` reads from there).

    With ``owned``, a monorepo's service folder (an alembic.ini, no ``[tool.revgraph]``
    of its own) that a project above names in its ``[tool.revgraph.environments]``
    belongs to that project: its settings (``protected`` above all, the refs whose
    revisions must never move) hold wherever revgraph starts, as they hold for the
    merge driver (``driver.lock_owner``)."""
    for directory in (start, *start.parents):
        pyproject = directory / "pyproject.toml"
        tool = _read_tool_tables(pyproject) if _is_file(pyproject) else None
        if _is_file(directory / "alembic.ini"):
            owner = _owner_above(directory) if owned and not (tool and "revgraph" in tool) else None
            if owner is not None:
                return _Found(owner[0].parent, owner[2], envs=owner[1])
            return _Found(directory, tool)
        if tool and ("alembic" in tool or "revgraph" in tool):
            return _Found(directory, tool)
        if _flask_migrate_ini(directory) is not None:
            return _Found(directory, tool)
    return None


# Flask-Migrate's default migration folder (``flask db init``; ``-d`` picks another).
FLASK_MIGRATE_FOLDER = "migrations"


def _flask_migrate_folder(ini: Path | None) -> bool:
    """Whether ``ini`` is Flask-Migrate's: an alembic.ini inside the migration folder
    itself (``env.py`` beside it). Its [alembic] has no script_location: Flask-Migrate
    sets it to this folder, and so does revgraph."""
    return ini is not None and ini.name == "alembic.ini" and _is_file(ini.parent / "env.py")


def _flask_migrate_ini(directory: Path) -> Path | None:
    """``directory``'s ``migrations/alembic.ini`` when it is Flask-Migrate's layout:
    ``flask db`` run in ``directory`` reads it, so revgraph run there does too."""
    ini = directory / FLASK_MIGRATE_FOLDER / "alembic.ini"
    return ini if _is_file(ini) and _flask_migrate_folder(ini) else None


def _read_tool_tables(pyproject: Path) -> dict[str, Any]:
    """pyproject.toml's ``[tool]`` table ({} when the file is missing)."""
    if not _is_file(pyproject):
        return {}
    return _tool_tables(pyproject, _read_toml(pyproject))


def _tool_tables(pyproject: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The ``[tool]`` table of a parsed pyproject.toml, with [tool.alembic] and [tool.revgraph] checked."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: [tool] must be a table")
    for name in ("alembic", "revgraph"):
        if name in tool and not isinstance(tool[name], dict):
            raise ConfigError(f"{pyproject}: [tool.{name}] must be a table")
    return tool


def _read_toml(path: Path) -> dict[str, Any]:
    return _parse_toml(path, _read_config(path))


def _read_config(path: Path) -> bytes:
    """A config file's bytes, read once and noted (the express lane replays them)."""
    try:
        with open(path, "rb") as handle:
            return _seen_read(path, handle.read())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    """``data`` (the bytes of ``path``, here or at a ref) as TOML; ConfigError when it is not."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        return tomllib.loads(data.decode())  # what tomllib.load(handle) does
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {_one_line(str(exc))}", hint=_conflict_hint(data)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({exc.reason})") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _toml_list(items: Sequence[str]) -> str:
    """``["a", "b"]``: JSON's string quoting is valid TOML for these."""
    import json

    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


# ------------------------------------------------------------ [tool.revgraph]


def _parse_settings(table: Mapping[str, Any] | None, pyproject: Path, notes: list[str]) -> ProjectConfig:
    if not table:
        return ProjectConfig()
    where = f"{pyproject}: [tool.revgraph]"
    for key in sorted(set(table) - _SETTINGS_KEYS):
        notes.append(f"{where}: unknown key {key!r} (ignored)")
    strategy = _optional_str(table, "strategy", where) or "rebase"
    if strategy not in STRATEGIES:
        raise ConfigError(f"{where} strategy must be 'rebase' or 'merge', not {strategy!r}")
    per_env, for_all = _parse_allow_heads(table.get("allow_heads"), where)
    environments = table.get("environments", {})
    if not isinstance(environments, dict):
        raise ConfigError(f"{where} environments must be a table of tables")
    return ProjectConfig(
        base=_optional_str(table, "base", where),
        protected=_str_list(table, "protected", where),
        strategy=strategy,
        lock_file=_optional_str(table, "lock_file", where),
        select=(select := _selectors(table, where)),
        ignore=_ignored(table, where, select),
        allow_heads=per_env,
        allow_heads_all=for_all,
        environments=environments,
    )


def _optional_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {key} must be a non-empty string, not {value!r}")
    return value.strip()


def _str_list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of strings; a single string is taken as a list of one."""
    value = table.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} {key} must be a list of strings, not {value!r}")
    return tuple(v.strip() for v in value)


def _codes(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """``select`` / ``ignore``: rule selectors as a list, or as one string separated by
    commas or spaces (``"RG1, RG203"``), as ``--select`` takes them; one selector each."""
    value = table.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{where} {key} must be a list of rule codes or a string of them "
            f"separated by commas or spaces, not {value!r}",
            hint=f'{key} = ["RG1", "RG203"] or {key} = "RG1, RG203"',
        )
    from revgraph.rules import split_codes  # what --select and --ignore are read with

    return split_codes(value)


def _selectors(table: dict, where: str) -> tuple[str, ...]:
    """``select``; an empty list is refused: it would switch every rule off, and
    check would then say "All good" whatever the history holds."""
    select = _codes(table, "select", where)
    if "select" in table and not select:
        raise ConfigError(
            f"{where} select = [] selects no rule; leave select out to run every rule",
            hint='`select = ["ALL"]` is every rule; `ignore` switches single rules off',
        )
    return select


def _ignored(table: dict, where: str, select: tuple[str, ...]) -> tuple[str, ...]:
    """``ignore``; refused when, with ``select``, it leaves no rule on (``ignore =
    ["ALL"]``): check would say "All good" whatever the history holds."""
    ignore = _codes(table, "ignore", where)
    if ignore:
        from revgraph.rules import selected_rules

        if not selected_rules(select, ignore):
            raise ConfigError(
                f"{where} ignore = {list(ignore)!r} leaves no rule to run",
                hint="ignore only the rules you mean to skip; `revgraph rules` lists them",
            )
    return ignore


def _parse_allow_heads(value: Any, where: str) -> tuple[dict[str, int], int | None]:
    if value is None:
        return {}, None
    if isinstance(value, dict):
        for name, count in value.items():
            _check_head_count(count, f"{where} allow_heads.{name}")
        return dict(value), None
    _check_head_count(value, f"{where} allow_heads", " (or a table of them per environment)")
    return {}, value


def _check_head_count(value: Any, what: str, alternative: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a whole number of at least 1{alternative}, not {value!r}")


def _warn_unknown_allow_heads(settings: ProjectConfig, names: Sequence[str], pyproject: Path, notes: list[str]) -> None:
    for name in sorted(set(settings.allow_heads) - set(names)):
        notes.append(f"{pyproject}: [tool.revgraph] allow_heads names unknown environment {name!r} (ignored)")


# --------------------------------------------------------------- environments

# A named environment and how to build it; built only when selected (--env).
_Builder = Callable[[list], Environment]


def _environment_specs(
    start: Path,
    root: Path,
    tool: Mapping[str, Any],
    settings: ProjectConfig,
    *,
    config_file: Path | None,
    section: str | None,
    versions: Path | None,
) -> list[tuple[str, _Builder]]:
    name = section or DEFAULT_ENV_NAME
    explicit = section is not None
    if versions is not None:
        folders = (_abs(start, versions),)
        return [(DEFAULT_ENV_NAME, partial(_versions_environment, DEFAULT_ENV_NAME, folders, "--versions"))]
    if config_file is not None:
        path = _abs(start, config_file)
        if section is None and path.name != "pyproject.toml" and _is_file(path):
            return _ini_specs(path, start)  # -c names the file; its sections as without -c
        ini = start / "alembic.ini"
        if path.name == "pyproject.toml" and _is_file(ini) and ini.parent.resolve() == path.parent.resolve():
            # `alembic -c pyproject.toml` still reads ./alembic.ini, whose [alembic]
            # wins over [tool.alembic]: the pair read without -c.
            return _ini_specs(ini, start, section)
        return [(name, partial(_config_environment, name, path, section, start, explicit=explicit, option=True))]
    if section is None and settings.environments:
        pyproject = root / "pyproject.toml"
        return [
            (env_name, _table_builder(env_name, entry, root, pyproject, start))
            for env_name, entry in settings.environments.items()
        ]
    ini = root / "alembic.ini"
    if _is_file(ini):
        return _ini_specs(ini, start, section)
    if "alembic" in tool:
        pyproject = root / "pyproject.toml"
        return [(name, partial(_config_environment, name, pyproject, section, start, explicit=False))]
    flask_ini = _flask_migrate_ini(root)
    if flask_ini is not None:
        return _ini_specs(flask_ini, start, section)
    raise ConfigError(
        f"{root / 'pyproject.toml'} has [tool.revgraph] but no environments, and there is no alembic.ini "
        "or [tool.alembic] beside it; add [tool.revgraph.environments], "
        "or pass -c alembic.ini or --versions DIR"
    )


def _ini_specs(ini: Path, start: Path, section: str | None = None) -> list[tuple[str, _Builder]]:
    """alembic.ini's environments: with ``-n`` (``section``), that section alone; without,
    [alembic] (with the [tool.alembic] beside it) as "default", then each other section
    with a ``script_location`` of its own."""
    if section is not None:
        return [(section, partial(_config_environment, section, ini, section, start, explicit=True))]
    default = (DEFAULT_ENV_NAME, partial(_config_environment, DEFAULT_ENV_NAME, ini, None, start, explicit=False))
    others, has_default = _environment_sections(ini)
    if not others:
        return [default]
    if not has_default and "alembic" not in _read_tool_tables(ini.parent / "pyproject.toml"):
        return [(other, _SectionBuilder(other, ini, start)) for other in others]  # named sections only
    # A section named [default] would take [alembic]'s environment name: -n reaches it.
    return [default, *((other, _SectionBuilder(other, ini, start)) for other in others if other != DEFAULT_ENV_NAME)]


def _environment_sections(ini: Path) -> tuple[list[str], bool]:
    """The sections of ``ini`` other than [alembic] that set their own ``script_location``,
    in file order (the multi-environment layout of alembic's documentation, each run
    with ``alembic -n NAME``), and whether it has an [alembic] section. [DEFAULT]'s keys,
    which every section inherits, do not count."""
    from configparser import ConfigParser, Error

    raw = ConfigParser(default_section="\0", interpolation=None)  # [DEFAULT] read as a section
    try:
        with open(ini, "rb") as handle:
            data = _seen_read(ini, handle.read())
        raw.read_file(io.TextIOWrapper(io.BytesIO(data), encoding="locale"), source=str(ini))
    except (OSError, UnicodeDecodeError, Error):
        return [], True  # the [alembic] environment, read in full, says what is wrong
    others = [
        name for name in raw.sections()
        if name not in (DEFAULT_SECTION, "DEFAULT") and raw.has_option(name, "script_location")
    ]  # fmt: skip
    return others, raw.has_section(DEFAULT_SECTION)


@dataclass(frozen=True)
class _SectionBuilder:
    """An environment found by looking (another section of alembic.ini), not named by the user.

    It keeps its own lock file (``[tool.revgraph] lock_file`` names the [alembic]
    environment's), a section that cannot be read is left out with a warning
    rather than stopping every command, and one whose versions folders an
    earlier environment has (a section per database URL) is that environment.
    """

    name: str
    ini: Path
    start: Path

    def __call__(self, notes: list) -> Environment:
        environment = _config_environment(self.name, self.ini, self.name, self.start, notes, explicit=True)
        return replace(environment, lock_file=_default_lock_file(environment))


def _build_environments(
    selected: list[tuple[str, _Builder]], root: Path, settings: ProjectConfig, notes: list
) -> tuple[Environment, ...]:
    built: list[Environment] = []
    left_out: list[str] = []
    for name, build in selected:
        if not isinstance(build, _SectionBuilder):
            built.append(_finish(build(notes), root, settings))
            continue
        try:
            environment = build(notes)
        except ConfigError as exc:
            if len(selected) == 1:  # the only one (or asked for by --env): its error is the answer
                raise
            left_out.append(f"{exc.message} (environment {name!r} left out)")
            continue
        if any(other.version_locations == environment.version_locations for other in built):
            continue
        environment = _finish(environment, root, settings)
        if any(other.lock_file == environment.lock_file for other in built):
            # Same script_location, other versions folders: its lock file goes beside them.
            environment = replace(environment, lock_file=environment.version_locations[0] / LOCK_FILE_NAME)
            if any(other.lock_file == environment.lock_file for other in built):
                left_out.append(f"{build.ini}: [{name}] would share the lock file {environment.lock_file} "
                                f"(environment {name!r} left out)")  # fmt: skip
                continue
        built.append(environment)
    if not built:
        raise ConfigError("no environment could be read: " + "; ".join(left_out))
    notes.extend(left_out)
    return tuple(built)


def _select(specs: list[tuple[str, _Builder]], env: str | None) -> list[tuple[str, _Builder]]:
    if env is None:
        return specs
    chosen = [spec for spec in specs if spec[0] == env]
    if not chosen:
        known = ", ".join(name for name, _ in specs) or "none"
        raise UsageError(f"unknown environment {env!r} (known: {known})")
    return chosen


def _finish(environment: Environment, root: Path, settings: ProjectConfig) -> Environment:
    """Fill what comes from [tool.revgraph] (lock file and allowed heads) and whether the
    environment has its script.py.mako."""
    lock = environment.lock_file
    if lock is None and settings.lock_file:
        lock = _abs(root, settings.lock_file)
    if lock is None:
        lock = _default_lock_file(environment)
    template = environment.template_path
    return replace(
        environment, lock_file=lock, allow_heads=settings.heads_allowed(environment.name),
        has_template=template is not None and _is_file(template),
    )  # fmt: skip


def require_versions_folders(environments: Sequence[Environment], root: Path) -> None:
    """Refuse (``ConfigError``, exit 2) while an environment's versions folder is missing.

    ``revgraph lock`` and ``revgraph install`` write the lock file and wire the
    merge driver from the graph in those folders: with one missing the graph is
    a guess (no revisions), and a lock file placed inside it would create the
    folder as a side effect, which only ``alembic init`` or the user should do.
    """
    for env in environments:
        for folder in env.version_locations:
            if folder.is_dir():
                continue
            others = [loc for loc in env.version_locations if loc != folder]
            if not os.path.lexists(folder) and not inside_root(folder, root) and any(map(os.path.isdir, others)):
                continue  # skipped, as alembic skips it: git holds nothing there (``versions_relative_to``)
            try:
                shown = folder.relative_to(root).as_posix()
            except ValueError:
                shown = str(folder)
            raise ConfigError(
                f"versions folder {shown} (environment {env.name}) is missing",
                hint=f"create it (mkdir -p {shown}) or fix script_location / version_locations; "
                "git keeps no empty folder, so a fresh clone of a project without revisions lacks it",
            )


def _default_lock_file(environment: Environment) -> Path:
    """``<script_location>/revgraph.lock`` (``<versions dir>/revgraph.lock`` without one)."""
    return (environment.script_location or environment.version_locations[0]) / LOCK_FILE_NAME


def _check_lock_files_distinct(environments: tuple[Environment, ...]) -> None:
    owners: dict[Path, str] = {}
    for environment in environments:
        assert environment.lock_file is not None
        other = owners.setdefault(environment.lock_file, environment.name)
        if other != environment.name:
            raise ConfigError(
                f"environments {other!r} and {environment.name!r} share the lock file "
                f"{environment.lock_file}; "
                "set lock_file for each in [tool.revgraph.environments]"
            )


def lock_file_setting(project: Project, env: Environment) -> str | None:
    """The setting that names ``env``'s lock file (``<pyproject>: [tool.revgraph] lock_file``
    or its [tool.revgraph.environments] entry's); None: it is the default one."""
    pyproject = project.settings_file or project.root / "pyproject.toml"
    return _lock_setting(env, project.root, project.settings, pyproject)[0]


def _lock_setting(
    env: Environment, root: Path, settings: ProjectConfig, pyproject: Path
) -> tuple[str | None, str | None]:
    """(where ``env``'s lock file is set, the value written there); (None, None): the default."""
    entry = settings.environments.get(env.name)
    value = entry.get("lock_file") if isinstance(entry, dict) else None
    if isinstance(value, str) and value.strip() and _abs(root, value.strip()) == env.lock_file:
        return f"{pyproject}: [tool.revgraph.environments.{env.name}] lock_file", value.strip()
    if settings.lock_file and _abs(root, settings.lock_file) == env.lock_file:
        return f"{pyproject}: [tool.revgraph] lock_file", settings.lock_file
    return None, None


_LOCK_HINT = "name a new file in the working tree, such as migrations/revgraph.lock (the default)"


def _check_lock_settings(
    environments: tuple[Environment, ...], root: Path, settings: ProjectConfig, pyproject: Path
) -> None:
    """A lock file a setting names must be one git merges and alembic never loads.

    Inside ``.git`` git neither commits nor merges it. A ``.py`` file (``.pyc`` /
    ``.pyo`` too with ``sourceless``) in a versions folder alembic loads as a
    revision: it fails on the lock's text, and so does every revgraph command
    after. Only the paths are looked at; an existing file that is not a lock
    is refused where the lock is written (``not_a_lock_error``).
    """
    for environment in environments:
        where, value = _lock_setting(environment, root, settings, pyproject)
        lock = environment.lock_file
        if where is None or lock is None:
            continue
        shown = f"{where} = {value!r}"
        if any(part.lower() == ".git" for part in Path(os.path.relpath(lock, root)).parts):
            raise ConfigError(
                f"{shown}: {lock} is inside .git, which git neither commits nor merges", hint=_LOCK_HINT
            )
        top = _work_tree_top(root)
        if top is not None and not _lexically_inside(lock, top):
            raise ConfigError(
                f"{shown}: {lock} is outside the repository ({top}), where git neither commits nor merges it",
                hint=_LOCK_HINT,
            )
        if lock.is_dir():
            raise ConfigError(f"{shown}: {lock} is a folder, not a file", hint=_LOCK_HINT)
        for other in environments:
            folder = _versions_folder_loading(other, lock)
            if folder is not None:
                raise ConfigError(
                    f"{shown}: alembic would load {lock.name} in the versions folder {folder} as a revision",
                    hint=_LOCK_HINT,
                )


def _work_tree_top(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or a
    linked worktree's file); None outside any repository. Only the paths: no git."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _lexically_inside(path: Path, folder: Path) -> bool:
    return not Path(os.path.relpath(os.path.abspath(path), os.path.abspath(folder))).parts[:1] == ("..",)


def _versions_folder_loading(environment: Environment, path: Path) -> Path | None:
    """The versions folder of ``environment`` from which alembic would load ``path`` (None: none).

    alembic lists each folder (its whole tree with ``recursive_version_locations``)
    and loads every ``*.py`` file, and with ``sourceless`` every ``*.pyc`` / ``*.pyo``,
    also those in ``__pycache__`` (``Script._list_py_dir``, ``_sourceless_rev_file``).
    """
    suffixes = (".py", ".pyc", ".pyo") if environment.sourceless else (".py",)
    if path.suffix.lower() not in suffixes:
        return None
    parent = path.parent
    if environment.sourceless and parent.name == "__pycache__":
        parent = parent.parent
    for folder in environment.version_locations:
        if parent == folder or (environment.recursive and folder in parent.parents):
            return folder
    return None


def refuse_foreign_lock(project: Project, env: Environment, path: Path, data: bytes | None, root: Path) -> None:
    """``not_a_lock_error`` when ``path``, ``env``'s lock file, holds ``data`` that is not a
    lock (``lock_file = "alembic.ini"``): revgraph never reads, overwrites or deletes the
    user's file as its lock (check, lock, fix, install and uninstall alike). ``root``:
    the repository's, which names the file; a symlink out of it is the writer's to refuse."""
    from revgraph.lockfile import is_lock_text

    if data is None or is_lock_text(data):
        return
    real_root = root.resolve()
    if not path.resolve().is_relative_to(real_root):
        return  # a symlink out of the repository: the writer refuses it, and says so
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = path.resolve().relative_to(real_root).as_posix()
    raise not_a_lock_error(project, env, shown)


def not_a_lock_error(project: Project, env: Environment, shown: str) -> ConfigError:
    """The refusal to read, overwrite or delete ``shown`` (``env``'s lock path) as a lock file:
    it holds something else (``lockfile.is_lock_text``). One message for every command."""
    setting = lock_file_setting(project, env)
    if setting:
        named = f"named by {setting}"
        hint = (
            "point lock_file at a new file, such as migrations/revgraph.lock (the default), or move that "
            "file away; revgraph takes over only an empty file or one `revgraph lock` wrote"
        )
    else:
        named = f"the default lock file of environment {env.name!r}"
        hint = (
            "move that file away, or set lock_file (in [tool.revgraph] or the ini section) to another "
            "path; revgraph takes over only an empty file or one `revgraph lock` wrote"
        )
    return ConfigError(
        f"{shown} ({named}) is not a revgraph lock file; revgraph will not take it over as one",
        hint=hint,
    )


def _versions_environment(
    name: str, folders: tuple[Path, ...], what: str, notes: list | None = None, *, recursive: bool = False
) -> Environment:
    """An environment given by its versions folders alone (no script_location, no template)."""
    for folder in folders:
        if not _is_dir(folder) and not _inside_git_dir(folder):
            raise ConfigError(f"{what} {folder}: not a directory")
    return Environment(
        name=name,
        script_location=None,
        version_locations=folders,
        recursive=recursive,
        config_file=None,
    )


def _inside_git_dir(folder: Path) -> bool:
    """Whether ``folder`` lies in a git directory (a bare repository has no working tree,
    so its versions folder exists only in its trees)."""
    for directory in folder.parents:
        if _is_file(directory / "HEAD") and _is_dir(directory / "objects") and _is_dir(directory / "refs"):
            return True
    return False


def _table_builder(name: str, entry: Any, root: Path, pyproject: Path, start: Path) -> _Builder:
    where = f"{pyproject}: [tool.revgraph.environments.{name}]"

    def build(notes: list) -> Environment:
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table")
        for key in sorted(set(entry) - _ENV_TABLE_KEYS):
            notes.append(f"{where}: unknown key {key!r} (ignored)")
        sources = [key for key in _ENV_SOURCE_KEYS if key in entry]
        if len(sources) != 1:
            raise ConfigError(f"{where} needs exactly one of config, versions or script_location")
        lock = _optional_str(entry, "lock_file", where)
        lock_file = _abs(root, lock) if lock else None
        environment = _build_table_entry(name, sources[0], entry, root, pyproject, start, where, notes)
        return replace(environment, lock_file=lock_file) if lock_file else environment

    return build


def _build_table_entry(
    name: str, source: str, entry: Mapping[str, Any], root: Path, pyproject: Path, start: Path,
    where: str, notes: list,
) -> Environment:
    if source == "config":
        path = _abs(root, _optional_str(entry, "config", where) or "")
        section = _optional_str(entry, "section", where)
        if path.name == "pyproject.toml" and _is_file(path.parent / "alembic.ini"):
            # alembic run there (`alembic -c pyproject.toml` too) also reads ./alembic.ini,
            # whose section wins over [tool.alembic]: the pair, as `-c pyproject.toml` reads it.
            path = path.parent / "alembic.ini"
        return _config_environment(name, path, section, start, notes, explicit=section is not None)
    if source == "versions":
        recursive = entry.get("recursive_version_locations", False)
        if not isinstance(recursive, bool):
            raise ConfigError(f"{where} recursive_version_locations must be true or false")
        folders = tuple(_abs(root, v) for v in _str_list(entry, "versions", where))
        return _versions_environment(name, folders, f"{where} versions", recursive=recursive)
    return replace(_environment_from_reader(name, _inline_reader(entry, pyproject, where), start, notes), inline=True)


def _inline_reader(entry: Mapping[str, Any], pyproject: Path, where: str) -> _AlembicReader:
    """An alembic environment described inline in its [tool.revgraph.environments] entry,
    with [tool.alembic]'s keys."""
    table = {k: v for k, v in entry.items() if k not in ("lock_file", "config", "section", "versions")}
    return _AlembicReader(None, None, DEFAULT_SECTION, table, pyproject, where)


def _config_environment(
    name: str, path: Path, section: str | None, start: Path, notes: list, *, explicit: bool, option: bool = False
) -> Environment:
    """An environment from an alembic.ini section (plus its neighbour [tool.alembic]) or a pyproject.toml.

    alembic's command line reads ``alembic.ini`` and ``pyproject.toml`` from
    the working directory together; revgraph pairs an ini with the
    pyproject.toml beside it, which is the same files in the usual layout.
    ``option``: ``path`` was named by ``-c`` (or ALEMBIC_CONFIG).
    """
    if not _is_file(path):
        what = "is a directory" if path.is_dir() else "is not a regular file" if path.exists() else "not found"
        hint = _missing_ini_hint(path, start) if option and what == "not found" else None
        raise ConfigError(f"config file {path} {what}", hint=hint)
    if path.name == "pyproject.toml":  # as alembic: by that name only (`-c settings.toml` is an ini)
        return _environment_from_reader(name, _toml_reader(path, _read_tool_tables(path)), start, notes)
    neighbour = _read_tool_tables(path.parent / "pyproject.toml").get("alembic")
    reader = _ini_reader(path, _read_ini(path), section or DEFAULT_SECTION, neighbour, explicit=explicit)
    return _environment_from_reader(name, reader, start, notes)


def _missing_ini_hint(path: Path, start: Path) -> str | None:
    """What alembic would read instead of the missing ini ``path`` that ``-c`` names.

    alembic reads a missing ini as an empty one (configparser skips it) and takes
    everything from the [tool.alembic] of ./pyproject.toml: ``alembic -c typo.ini
    heads`` answers for that environment without a word. revgraph stops (a mistyped
    -c must not check another environment) and says how to read that table.
    """
    if path.name == "pyproject.toml":
        return None
    for pyproject in dict.fromkeys((start / "pyproject.toml", path.parent / "pyproject.toml")):
        try:
            if not _is_file(pyproject) or "alembic" not in _read_tool_tables(pyproject):
                continue
        except ConfigError:
            continue  # a broken one is no way out; the error about the ini stands
        from revgraph.shellwords import shell_word

        shown = shell_word(os.path.relpath(pyproject, start))
        if pyproject.parent == start:  # the one alembic pairs with any ini: where it runs
            return f"alembic would read the [tool.alembic] of {shown} alone; to check it, pass -c {shown}"
        return f"{shown} has a [tool.alembic]; to check that environment, pass -c {shown}"
    return None


def _toml_reader(path: Path, tool: Mapping[str, Any]) -> _AlembicReader:
    """alembic's options from a pyproject.toml's [tool] table (``tool``)."""
    if "alembic" not in tool:
        raise ConfigError(f"{path} has no [tool.alembic] table")
    return _AlembicReader(None, None, DEFAULT_SECTION, tool["alembic"], path, f"{path}: [tool.alembic]")


def _ini_reader(
    path: Path, parser: ConfigParser, section: str, neighbour: Mapping[str, Any] | None, *, explicit: bool
) -> _AlembicReader:
    """alembic's options from ``section`` of an ini file, and the [tool.alembic] of the
    pyproject.toml beside it (``neighbour``); the section may be missing only when that
    table exists and the section was not asked for (``explicit``)."""
    if not parser.has_section(section) and (explicit or neighbour is None):
        if neighbour is not None:
            # alembic reads [tool.alembic] alone then; a mistyped -n must not check another environment.
            raise ConfigError(
                f"{path} has no [{section}] section",
                hint=f"alembic falls back to [tool.alembic] in {path.parent / 'pyproject.toml'} here; revgraph "
                "stops, so that a mistyped -n never checks another environment: name a section the ini has",
            )
        raise ConfigError(f"{path} has no [{section}] section")
    pyproject = path.parent / "pyproject.toml"
    return _AlembicReader(
        parser if parser.has_section(section) else None, path, section, neighbour or {}, pyproject,
        f"{pyproject}: [tool.alembic]",
    )


def _read_ini(path: Path) -> ConfigParser:
    """The ini file read as alembic reads it: ``here`` in DEFAULT, locale encoding."""
    return _parse_ini(path, _read_config(path))


def _parse_ini(path: Path, data: bytes) -> ConfigParser:
    """``data`` (the bytes of ``path``, here or at a ref) read as alembic reads an ini file."""
    from configparser import ConfigParser, Error

    parser = ConfigParser({"here": path.absolute().parent.as_posix()})
    try:
        # alembic reads with encoding="locale" (alembic/util/compat.py): decoded as open() would.
        parser.read_file(io.TextIOWrapper(io.BytesIO(data), encoding="locale"), source=str(path))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {path}: not valid text ({exc.reason})") from None
    except Error as exc:
        hint = _conflict_hint(data) or _bom_hint(data)
        raise ConfigError(f"{path}: cannot parse: {_one_line(str(exc))}", hint=hint) from None
    return parser


def _bom_hint(data: bytes) -> str | None:
    """A hint for an ini saved with a UTF-8 byte order mark (Windows editors add one):
    configparser, alembic's reader too, takes it for text before the first section."""
    if not data.startswith(b"\xef\xbb\xbf"):
        return None
    return "it starts with a UTF-8 byte order mark, which alembic cannot read either: save it as UTF-8 without BOM"


_CONFLICT_MARKER = re.compile(rb"^<{7}(?: |\r?$)", re.MULTILINE)


def _conflict_hint(data: bytes) -> str | None:
    """A hint when a config file that cannot be parsed holds git's conflict markers: a
    merge or rebase stopped on it (two branches changed alembic.ini), and the parser's
    complaint about line 3 does not say so."""
    if _CONFLICT_MARKER.search(data) is None:
        return None
    return "it holds merge conflict markers (<<<<<<<): resolve the conflict in it first (git status lists it)"


# ------------------------------------------------------ alembic option lookup


@dataclass
class _AlembicReader:
    """alembic's ``Config.get_alembic_option`` & co: the ini section first, then ``[tool.alembic]``."""

    ini: ConfigParser | None  # None: no ini, or the ini lacks the section
    ini_path: Path | None
    section: str
    toml: Mapping[str, Any]
    toml_path: Path | None
    toml_where: str

    @property
    def config_file(self) -> Path | None:
        return self.ini_path if self.ini is not None else self.toml_path

    def in_ini(self, name: str) -> bool:
        return self.ini is not None and self.ini.has_option(self.section, name)

    def ini_get(self, name: str) -> str | None:
        if not self.in_ini(name):
            return None
        from configparser import Error

        assert self.ini is not None
        try:
            return self.ini.get(self.section, name)
        except Error as exc:
            raise ConfigError(
                f"{self.ini_path}: [{self.section}] {name}: {_one_line(str(exc))} (write %% for a literal %)"
            ) from None

    def toml_get(self, name: str) -> Any:
        """``_get_toml_config_value``: strings %-formatted with ``here``."""
        value = self.toml.get(name)
        if isinstance(value, str):
            return self._format(name, value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [self._format(name, v) for v in value]
        return value

    def _format(self, name: str, value: str) -> str:
        assert self.toml_path is not None
        try:
            return value % {"here": self.toml_path.absolute().parent.as_posix()}
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{self.toml_where} {name}: bad %-substitution in {value!r} ({exc}); write %% for a literal %"
            ) from None

    def where(self, name: str) -> str:
        if self.in_ini(name):
            return f"{self.ini_path}: [{self.section}] {name}"
        return f"{self.toml_where} {name}"

    def base_dir(self, name: str) -> Path:
        """Where relative paths of option ``name`` start: its file's folder."""
        source = self.ini_path if self.in_ini(name) else self.toml_path
        assert source is not None
        return source.absolute().parent

    def get(self, name: str) -> Any:
        return self.ini_get(name) if self.in_ini(name) else self.toml_get(name)

    def get_str(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.where(name)} must be a string, not {value!r}")
        return value

    def get_bool(self, name: str) -> bool:
        # alembic: an ini value is true only when it is exactly "true".
        if self.in_ini(name):
            return self.ini_get(name) == "true"
        value = self.toml.get(name, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where(name)}: boolean value expected, not {value!r}")
        return value

    def separator(self, *names: str) -> tuple[str | None, str | None]:
        """The split character and the key it came from (``_get_file_separator_char``)."""
        for name in names:
            value = self.ini_get(name)
            if value is not None:
                break
        else:
            return None, None
        if value not in _SEPARATORS:
            raise ConfigError(
                f"{self.ini_path}: [{self.section}] {name} = {value!r} is not valid; "
                "expected 'space', 'newline', 'os', ':' or ';'"
            )
        return _SEPARATORS[value], name

    def path_list(self, name: str, legacy: re.Pattern[str], notes: list) -> list[str] | None:
        """``get_version_locations_list`` / ``get_prepend_sys_paths_list``."""
        text = self.ini_get(name)
        if text:
            # Only version_locations still honours the deprecated version_path_separator.
            legacy_key = ("version_path_separator",) if name == "version_locations" else ()
            split_char, key = self.separator("path_separator", *legacy_key)
            if split_char is None:
                notes.append(
                    f"{self.ini_path}: [{self.section}] has no path_separator; {name} is split on "
                    "spaces/commas (alembic's deprecated legacy behaviour); add path_separator = os"
                )
                items = legacy.split(text)
            else:
                if key == "version_path_separator":
                    notes.append(
                        f"{self.ini_path}: [{self.section}] version_path_separator is deprecated "
                        "in alembic; use path_separator"
                    )
                items = text.split(split_char)
            # alembic keeps empty items, which then mean the working directory
            # (Path("").absolute()); that is an accident of splitting, so drop them.
            return [item.strip() for item in items if item.strip()]
        value = self.toml_get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            # One string is the likeliest slip (the ini spelling): alembic would take
            # each of its characters for a folder.
            raw = self.toml.get(name)  # as written, %(here)s and all
            hint = f"write a TOML list: {name} = {_toml_list(raw.split())}" if isinstance(raw, str) else None
            raise ConfigError(f"{self.toml_where} {name} must be a list of strings, not {raw!r}", hint=hint)
        return [v for v in value if v.strip()]

    def options(self) -> dict[str, str]:
        """Every other scalar option, [tool.alembic] overridden by the ini section.

        A value that does not interpolate is left out: alembic reads such a
        key only when env.py asks for it, so it must not stop revgraph.
        """
        from configparser import Error

        result: dict[str, str] = {}
        for key, value in self.toml.items():
            if key in _ALEMBIC_KEYS or not isinstance(value, (str, int, float, bool)):
                continue
            try:
                result[key] = str(self.toml_get(key))
            except ConfigError:
                continue
        for key in self.ini.options(self.section) if self.ini is not None else ():
            if key in _ALEMBIC_KEYS:
                continue
            try:
                result[key] = self.ini.get(self.section, key)
            except Error:
                continue
        return result


def environment_at(env: Environment, config: bytes | None, neighbour: bytes | None, start: Path) -> Environment:
    """``env`` with the places another version of its config files gives revisions.

    ``config`` is that version of ``env.config_file`` (a ref's alembic.ini or
    pyproject.toml; None: it has none) and ``neighbour`` of the pyproject.toml
    beside an ini, whose [tool.alembic] alembic merges in. An environment
    described inline (``env.inline``) takes its own [tool.revgraph.environments]
    entry from that pyproject.toml (kept as it is when the entry is not there
    yet). An environment given by its versions folders alone is kept. Only where revisions
    live is taken from them (``script_location``, ``version_locations``,
    ``recursive_version_locations``, ``sourceless``); the rest (name, lock
    file, allowed heads) is this working tree's. Relative paths resolve as
    here, the folders need not exist here. ConfigError when that version
    cannot be read.
    """
    path = env.config_file
    if path is None:
        return env
    if config is None:
        raise ConfigError(f"there is no {path.name}")
    notes: list = []
    if env.inline:  # its own [tool.revgraph.environments] entry, in that version
        where = f"{path}: [tool.revgraph.environments.{env.name}]"
        entry = _tool_tables(path, _parse_toml(path, config)).get("revgraph", {}).get("environments", {})
        entry = entry.get(env.name) if isinstance(entry, dict) else None
        if entry is None:
            return env  # not there yet: nothing there says otherwise
        if not isinstance(entry, dict) or [key for key in _ENV_SOURCE_KEYS if key in entry] != ["script_location"]:
            raise ConfigError(f"{where} is not described by its script_location there")
        reader = _inline_reader(entry, path, where)
    elif path.name == "pyproject.toml":
        reader = _toml_reader(path, _tool_tables(path, _parse_toml(path, config)))
    else:
        pyproject = path.parent / "pyproject.toml"
        toml = _tool_tables(pyproject, _parse_toml(pyproject, neighbour)).get("alembic") if neighbour else None
        reader = _ini_reader(path, _parse_ini(path, config), env.section, toml, explicit=False)
    found = _environment_from_reader(env.name, reader, start, notes, on_disk=False)
    return replace(
        env, script_location=found.script_location, version_locations=found.version_locations,
        recursive=found.recursive, sourceless=found.sourceless,
    )  # fmt: skip


def _sparse_checkout_on(git_dir: Path) -> bool:
    """Whether git config turns sparse checkout on (``git sparse-checkout disable``
    leaves info/sparse-checkout behind and sets core.sparseCheckout false)."""
    common = git_dir
    try:
        common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except OSError:
        pass
    setting = None
    for config in (common / "config", git_dir / "config.worktree"):
        try:
            text = config.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for found in re.finditer(r"(?im)^\s*sparsecheckout\s*=\s*(\w+)", text):
            setting = found[1].lower() in ("true", "yes", "on", "1")
    return bool(setting)


def _sparse_checkout_hint(missing: Path) -> str | None:
    """A hint when ``missing`` sits in a sparse checkout that leaves it out: the folder
    is committed but not in the working tree, and the error alone reads as a broken
    alembic.ini. None when the work tree is whole (or none is found)."""
    for folder in missing.parents:
        dot_git = folder / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():  # a linked worktree or submodule: "gitdir: PATH"
            try:
                text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            git_dir = (folder / text[len("gitdir:"):].strip()).resolve()
        else:
            continue
        if not _sparse_checkout_on(git_dir):
            return None
        relative = missing.relative_to(folder).as_posix()
        from revgraph.shellwords import shell_word

        return (
            "this work tree is a sparse checkout that may leave the folder out: "
            f"`git sparse-checkout add {shell_word(relative)}` brings it in"
        )
    return None


def broken_link_note(folder: Path) -> str:
    """Why ``folder`` is missing when a link on the way to it is broken, else "".

    The note reads ": <name> is a symbolic link to <target>, which does not exist".

    A folder kept as a link (``migrations/versions -> ../shared/versions``)
    reads as missing once its target goes: a person should hear which link
    broke, not only that the folder is not there.
    """
    path = folder
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    if os.path.islink(path) and not path.exists():
        try:
            target = os.readlink(path)
        except OSError:
            return ""
        return f": {path.name} is a symbolic link to {target}, which does not exist"
    return ""


def _environment_from_reader(
    name: str, reader: _AlembicReader, start: Path, notes: list, *, on_disk: bool = True
) -> Environment:
    """``ScriptDirectory.from_config`` without importing anything (``on_disk``: the
    script folder must exist in the working tree)."""
    script_value = reader.get_str("script_location")
    if not script_value and _flask_migrate_folder(reader.ini_path if reader.ini is not None else None):
        # Flask-Migrate's alembic.ini sits in its migration folder and has no
        # script_location: ``flask db`` sets it to that folder before alembic reads it.
        script_value = reader.ini_path.parent.as_posix()  # type: ignore[union-attr]
    if not script_value:
        raise _no_script_location(reader, script_value)
    _check_separators(reader, notes)
    resolver = _PathResolver(reader, start, notes)
    script_location = resolver.resolve(script_value, "script_location")
    if on_disk and not _is_dir(script_location):
        raise ConfigError(
            f"{reader.where('script_location')}: {script_location} is not a directory{broken_link_note(script_location)}",
            hint=_sparse_checkout_hint(script_location),
        )

    version_values = reader.path_list("version_locations", _LEGACY_VERSIONS_SPLIT, notes)
    if version_values:
        version_locations = tuple(resolver.resolve(v, "version_locations") for v in version_values)
    else:
        version_locations = (script_location / "versions",)

    return Environment(
        name=name,
        script_location=script_location,
        version_locations=version_locations,
        recursive=reader.get_bool("recursive_version_locations"),
        sourceless=reader.get_bool("sourceless"),
        file_template=reader.get_str("file_template") or "%(rev)s_%(slug)s",
        truncate_slug_length=_slug_length(reader),
        timezone=reader.get_str("timezone") or None,
        config_file=reader.config_file,
        section=reader.section,
        options=reader.options(),
    )


def _no_script_location(reader: _AlembicReader, value: str | None) -> ConfigError:
    """The error for a missing (None) or empty script_location, naming each file that
    could have held it: an alembic.ini paired with a [tool.alembic] is read from both."""
    if value is not None:  # `script_location =`: alembic would take the working directory
        return ConfigError(f"{reader.where('script_location')} is empty; name the folder holding env.py")
    if reader.ini is None:
        return ConfigError(f"{reader.toml_where}: no 'script_location' key found")
    where = f"{reader.ini_path} [{reader.section}]"
    if reader.toml_path is not None and _is_file(reader.toml_path) and "alembic" in _read_tool_tables(reader.toml_path):
        # alembic >= 1.16 looks in both: say that both were looked in.
        return ConfigError(f"{where}: no 'script_location' key found, nor in {reader.toml_where}")
    return ConfigError(f"{where}: no 'script_location' key found")


def _check_separators(reader: _AlembicReader, notes: list) -> None:
    """The separator settings, checked where alembic reads them, before any command.

    alembic splits the ini's ``prepend_sys_path`` with ``path_separator`` on every
    command (a bad value stops it with a ValueError), and revgraph needs that list
    only for ``package:resource`` locations: without this, revgraph would pass a
    config alembic cannot run with. In [tool.alembic] the keys change nothing
    (lists need no separator; alembic reads them from the ini only), so a bad value
    there is only worth a warning.
    """
    if reader.ini_get("prepend_sys_path"):
        reader.separator("path_separator")  # raises ConfigError on a value alembic refuses
    for name in ("path_separator", "version_path_separator"):
        value = reader.toml.get(name)
        if name in reader.toml and not reader.in_ini(name) and value not in _SEPARATORS:
            notes.append(
                f"{reader.toml_where} {name} = {value!r} is not valid ('space', 'newline', 'os', ':' "
                "or ';'), and alembic reads it only from alembic.ini: TOML lists need no separator (ignored)"
            )


def _slug_length(reader: _AlembicReader) -> int:
    value = reader.get("truncate_slug_length")
    if value is None:
        return 40
    where = reader.where("truncate_slug_length")
    # TOML: a float alembic refuses ("unsupported TOML value type"); a boolean it would
    # take as 1 or 0 (``int(True)``), which is a typo, not a length.
    if isinstance(value, (bool, float)):
        raise ConfigError(f"{where} must be a whole number, not {value!r}")
    try:
        length = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a whole number, not {value!r}") from None
    return length or 40  # ScriptDirectory: ``truncate_slug_length or 40``


# ------------------------------------------------------------ path resolution


@dataclass
class _PathResolver:
    """Turns script_location / version_locations values into absolute folders.

    Relative paths: alembic resolves them against the *working directory*,
    so its answer depends on where it is run (its templates use ``%(here)s``
    to avoid that). revgraph resolves them against the folder of the file
    that holds the option -- the working directory of the usual ``alembic``
    run -- so that running from a subdirectory finds the same folders. When
    that folder does not exist but ``start`` + path does (an ini in a
    subfolder written for ``alembic -c sub/alembic.ini`` run from above),
    revgraph follows alembic and notes it.
    """

    reader: _AlembicReader
    start: Path
    notes: list
    _sys_path: list[str] | None = None

    def resolve(self, value: str, option: str) -> Path:
        if not os.path.isabs(value) and ":" in value:
            return self._package_resource(value, option)
        path = Path(value)
        if path.is_absolute():
            return Path(os.path.normpath(path))
        beside = _abs(self.reader.base_dir(option), path)
        from_start = _abs(self.start, path)
        if not _exists(beside) and _exists(from_start) and from_start != beside:
            self.notes.append(
                f"{self.reader.where(option)}: {value!r} is relative to the working directory "
                f"({from_start}); write %(here)s/... to make it independent of where commands run"
            )
            return from_start
        return beside

    def _package_resource(self, value: str, option: str) -> Path:
        """``package:resource`` as alembic's ``coerce_resource_to_filename``, found without importing."""
        _seen_opaque()  # found through sys.path and installed packages: not replayable
        package, *parts = value.split(":")
        folders = self._package_folders(package, value, option)
        for folder in folders:
            candidate = Path(folder, *parts)
            if candidate.exists():
                return Path(os.path.normpath(candidate))
        return Path(os.path.normpath(Path(folders[0], *parts)))

    def _package_folders(self, package: str, value: str, option: str) -> list[str]:
        from importlib.machinery import PathFinder

        top, *subpackages = package.split(".")
        spec = PathFinder.find_spec(top, self._search_path())
        if spec is None:
            spec = _find_installed_spec(top)
        folders = list(spec.submodule_search_locations or ()) if spec else []
        for name in subpackages:
            folders = [str(Path(f, name)) for f in folders if Path(f, name).is_dir()]
        if not folders:
            raise ConfigError(
                f"{self.reader.where(option)}: package {package!r} of {value!r} not found "
                "(not installed, not a package folder, and not under prepend_sys_path)"
            )
        return folders

    def _search_path(self) -> list[str]:
        """prepend_sys_path (alembic puts it on sys.path before resolving) then sys.path."""
        if self._sys_path is None:
            values = self.reader.path_list("prepend_sys_path", _LEGACY_SYS_PATH_SPLIT, []) or []
            base = self.reader.base_dir("prepend_sys_path")
            # A relative entry: where revgraph started first, which is where alembic takes
            # it from (``alembic -c conf/alembic.ini``), then beside the file (as ``resolve``).
            found = [str(_abs(self.start, v)) for v in values] + [str(_abs(base, v)) for v in values]
            self._sys_path = [*dict.fromkeys(found)] + [p or os.getcwd() for p in sys.path]
        return self._sys_path


def _find_installed_spec(top: str) -> Any:
    """Installed packages that only a meta-path finder knows (editable installs).

    ``find_spec`` of a top-level name locates it without importing it.
    """
    import importlib.util

    if top in sys.modules:
        return getattr(sys.modules[top], "__spec__", None)
    try:
        return importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None


def locations_to_read(env: Environment, root: Path | str) -> tuple[Path, ...]:
    """``env``'s version locations but one that does not exist outside ``root``, which alembic
    skips and git cannot hold; all of them when that leaves none (alone, a missing one is
    the environment, and reading it says what is wrong)."""
    kept = tuple(loc for loc in env.version_locations if os.path.lexists(loc) or inside_root(loc, root))
    return kept or env.version_locations


def inside_root(location: Path | str, root: Path | str) -> bool:
    """Whether ``location`` lies in ``root``, as written or with symlinks followed."""
    for spell in (lambda p: os.path.normpath(os.path.abspath(p)), os.path.realpath):
        top = spell(root)
        try:
            if os.path.commonpath([top, spell(location)]) == top:
                return True
        except ValueError:  # another drive (Windows): not inside
            continue
    return False


def _posix_relative(location: Path, root: Path, env_name: str) -> str:
    root = Path(os.path.normpath(Path(root).absolute()))
    for here, top in ((location, root), (location.resolve(), root.resolve())):
        try:
            relative = here.relative_to(top).as_posix()
        except ValueError:
            continue
        return "" if relative == "." else relative
    raise ConfigError(
        f"environment {env_name!r}: versions folder {location} is outside {root}; "
        "git cannot read it from a ref"
    )
