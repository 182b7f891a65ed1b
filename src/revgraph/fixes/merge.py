"""Merge planning: a new merge revision naming every head, rendered by alembic.

The file must be byte-for-byte what ``alembic merge`` writes for the same id
and date, so this mirrors ``ScriptDirectory.generate_revision`` step by step
with alembic's own pieces: ``ScriptDirectory._rev_path`` names the file, the
environment's ``script.py.mako`` is rendered by mako with the very keyword
arguments alembic passes, and encoded with alembic's ``output_encoding``.
What alembic does and we must not -- importing every migration module to
build its revision map, running ``env.py`` -- is replaced by the graph.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from revgraph.errors import ConfigError, FixRefused, UsageError
from revgraph.fixes.plan import EditPlan, FileEdit
from revgraph.model import RevisionGraph

if TYPE_CHECKING:  # pragma: no cover
    from alembic.script import ScriptDirectory

    from revgraph.config import Environment

DEFAULT_MESSAGE = "merge heads"


def plan_merge(
    env: "Environment",
    graph: RevisionGraph,
    *,
    heads: Sequence[str] | None = None,
    message: str | None = None,
    rev_id: str | None = None,
    create_date: datetime | None = None,
    root: Path,
    in_load_order: bool = False,
) -> EditPlan:
    """Plan a merge revision whose ``down_revision`` names ``heads`` (default: all heads).

    ``root`` is the repository root the new file's path is relative to. A
    fresh alembic id is drawn when ``rev_id`` is None; the create date is
    alembic's (``timezone`` honoured) when ``create_date`` is None.

    Given ``heads`` keep their order, as in ``alembic merge B A``, unless
    ``in_load_order``: then they are listed as alembic lists its heads, as in
    ``alembic merge heads`` or ``alembic merge label@heads`` (the caller
    picked *which* heads, not their order). Without ``heads`` the order is
    always alembic's. The order decides the parents' order in the file and,
    with several version locations, the folder the file goes to.
    """
    from alembic import util
    from alembic.script import revision as alembic_revision

    message = DEFAULT_MESSAGE if message is None else message
    script = _script_directory(env)
    merged = _heads_to_merge(env, graph, heads, root, in_load_order=in_load_order)
    rev_id = _new_rev_id(graph, rev_id)
    version_path = _version_path(script, graph, merged, root)
    try:
        create_date = create_date or script._generate_create_date()
        path = script._rev_path(version_path, rev_id, message, create_date)
    except (util.CommandError, KeyError, ValueError, TypeError, OverflowError) as exc:
        # alembic merge fails the same way; the settings are the user's to mend.
        raise _naming_error(env, exc) from None
    written, path, folder = path, _normal(path), _normal(version_path)
    if folder not in path.parents:
        # A '..' (or an absolute file_template) leads out of the version location:
        # alembic merge writes it there all the same, and never reads it back.
        raise FixRefused(
            f"the merge revision would go to {_shown(path, root)}, outside {_shown(folder, root)}, where alembic "
            f"never reads revisions: file_template {env.file_template!r} leads out of the version location",
            hint="drop the '..' (or the leading '/') from file_template",
        )
    if ".." in Path(written).parts:
        # 'a/../%(rev)s': alembic makes the folder 'a/..', which exists once it made 'a': it fails.
        raise FixRefused(
            f"file_template {env.file_template!r} goes down a folder and back up ('..'): alembic merge "
            f"fails on it (it makes {_shown(Path(written).parent, root)} as a new folder)",
            hint="drop the '..' from file_template",
        )
    if not env.recursive and path.parent != folder:
        # alembic merge writes it there all the same, and then never reads it:
        # the heads stay as they are.
        rel = _relative(path, root)
        raise FixRefused(
            f"the merge revision would go to {rel}, in a sub-folder of {_relative(Path(version_path), root)} "
            f"that alembic does not read: file_template {env.file_template!r} makes folders and "
            "recursive_version_locations is off",
            hint="set recursive_version_locations = true beside file_template (alembic's own "
            "alembic.ini says so), or drop the '/' from file_template",
        )
    kwargs_config = _alembic_config(env)
    content = _render(
        script,
        env,
        up_revision=str(rev_id),
        down_revision=alembic_revision.tuple_rev_as_scalar(tuple(merged)),
        branch_labels=util.to_tuple(None),
        depends_on=alembic_revision.tuple_rev_as_scalar(None),
        create_date=create_date,
        comma=util.format_as_comma,
        message=message,
        # What ``alembic.command.merge`` adds to the template arguments.
        refresh=True,
        config=kwargs_config,
    )
    rel = _relative(path, root)
    notes = [f"new merge revision {rev_id} ({rel}) merges {', '.join(merged)}"]
    notes.extend(_unmirrored(env, kwargs_config))
    # alembic creates the folders a file_template's "/" asks for below the location.
    edit = FileEdit(rel, None, content, folders_below=_relative(version_path, root))
    return EditPlan("merge", edits=(edit,), notes=tuple(notes))


def _naming_error(env: "Environment", exc: Exception) -> ConfigError:
    """The config's ``timezone`` or ``file_template`` cannot date or name a revision."""
    from alembic.util import CommandError

    where = env.config_file or "the alembic configuration"
    if isinstance(exc, CommandError):  # "Can't locate timezone: Mars/Olympus"
        reason, hint = str(exc), "set timezone to a zoneinfo name (UTC, Europe/Paris), or remove it"
    else:
        reason = f"file_template {env.file_template!r} cannot be filled in ({type(exc).__name__}: {exc})"
        percent = "%" if os.path.basename(str(where)) == "pyproject.toml" else "%%"  # an ini file doubles it
        tokens = ", ".join(f"{percent}({name}" for name in ("rev)s", "slug)s", "epoch)s", "year)d", "month).2d",
                                                           "day).2d", "hour).2d", "minute).2d", "second).2d"))
        hint = f"write file_template with alembic's tokens only: {tokens}"
    return ConfigError(f"{where}: {reason}; alembic merge fails the same way, and nothing was written", hint=hint)


# ------------------------------------------------------------------ inputs
def _script_directory(env: "Environment") -> "ScriptDirectory":
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if env.script_location is None or env.template_path is None:
        raise FixRefused(
            f"environment {env.name!r} has no script_location: a merge revision is "
            "rendered from its script.py.mako",
            hint="point revgraph at alembic.ini (-c) instead of --versions",
        )
    if not env.template_path.is_file():  # (``Environment.has_template``, as loading found it)
        raise ConfigError(
            f"{env.template_path} not found: alembic renders new revisions from it",
            hint="add alembic's template there (`alembic init` writes one)",
        )
    try:
        return ScriptDirectory(
            str(env.script_location),
            file_template=env.file_template,
            truncate_slug_length=env.truncate_slug_length,
            version_locations=[str(p) for p in env.version_locations] or None,
            sourceless=env.sourceless,
            output_encoding=_output_encoding(env),
            timezone=env.timezone,
            recursive_version_locations=env.recursive,
        )
    except CommandError as exc:
        raise ConfigError(str(exc)) from exc


def _output_encoding(env: "Environment") -> str:
    return env.options.get("output_encoding", "utf-8")


def _alembic_config(env: "Environment") -> Any:
    """alembic's Config for templates that read it (alembic passes ``config=``)."""
    from alembic.config import Config

    source = env.config_file
    if source is None:
        return None
    if source.name == "pyproject.toml":
        return Config(toml_file=str(source), ini_section=env.section)
    config = Config(str(source), ini_section=env.section)
    if env.script_location is not None and not config.get_main_option("script_location"):
        # Flask-Migrate's alembic.ini: `flask db` sets it, as revgraph's config did.
        config.set_main_option("script_location", str(env.script_location).replace("%", "%%"))
    return config


def _heads_to_merge(
    env: "Environment",
    graph: RevisionGraph,
    heads: Sequence[str] | None,
    root: Path,
    *,
    in_load_order: bool,
) -> list[str]:
    if heads is None:
        chosen = _in_alembic_load_order(env, graph, graph.heads, root)
    else:
        chosen = [_resolve_head(graph, name) for name in heads]
        if len(set(chosen)) != len(chosen):
            raise UsageError("Duplicate head revisions specified")
        if in_load_order:
            chosen = _in_alembic_load_order(env, graph, chosen, root)
    if not chosen:
        raise FixRefused("there are no revisions, so no heads to merge")
    if len(chosen) < 2:
        raise FixRefused(
            f"there is only one head ({chosen[0]}): nothing to merge, and alembic would "
            "silently write an ordinary revision"
        )
    return chosen


def _resolve_head(graph: RevisionGraph, name: str) -> str:
    rid = graph.resolve(name)
    if rid is None:
        raise UsageError(f"no revision {name!r} to merge")
    if graph.children(rid):
        raise FixRefused(
            f"revision {rid} is not a head revision; a merge names heads "
            f"(heads: {', '.join(graph.heads)})"
        )
    return rid


def _in_alembic_load_order(
    env: "Environment", graph: RevisionGraph, ids: Sequence[str], root: Path
) -> list[str]:
    """``ids`` in the order alembic lists them: the order it loads their files.

    alembic's heads keep the order revisions were read in
    (``RevisionMap._revision_map`` collects them in an ordered set and only
    discards parents): ``ScriptDirectory._load_revisions`` reads the version
    locations in config order, each listed by ``_list_py_dir`` -- its own
    files sorted by name, and its sub-folders top-down only when recursive --
    and a file met again under a later location keeps its first place. The
    merge's ``down_revision`` tuple comes out in that order, and
    ``generate_revision`` puts the file in the first head's folder.

    Not recursive, a location nested in another (keystone lists ``versions``
    and then ``versions/<release>/expand``) is read at its own place in the
    config, not with its parent's sub-folders sorted by name: hence the
    readers' own listing, which mirrors that walk, rather than a sort by path.
    """
    from revgraph import listing

    locations = [_posix(p, root) for p in env.version_locations] or (
        [_posix(env.script_location / "versions", root)] if env.script_location else []
    )
    by_path = {graph[rid].path: rid for rid in ids}
    listed = listing.list_revision_files(
        locations, list(by_path), recursive=env.recursive, sourceless=env.sourceless
    )
    order = [by_path[item.path] for item in listed if item.path in by_path]
    # A head alembic would not list (not met by that walk) keeps its place at the end.
    return order + [rid for rid in ids if rid not in order]


def _posix(location: Path, root: Path) -> str:
    """``location`` as the worktree reader names it (``_existing_locations``): real, POSIX, from ``root``."""
    real_root = os.path.realpath(root)
    return os.path.relpath(os.path.realpath(os.path.join(real_root, location)), real_root).replace(os.sep, "/")


_SYMBOLIC_NAMES = ("head", "heads", "base")


def _new_rev_id(graph: RevisionGraph, rev_id: str | None) -> str:
    from alembic import util
    from alembic.script.revision import Revision, RevisionError

    if rev_id is not None and not rev_id:
        raise UsageError("--rev-id is empty: leave it out for a fresh alembic id")
    rev_id = rev_id or util.rev_id()
    try:
        Revision.verify_rev_id(rev_id)
    except RevisionError as exc:
        raise UsageError(exc.args[0]) from exc
    if rev_id in _SYMBOLIC_NAMES:
        # alembic reads these as symbols first: `alembic upgrade head` could never name it.
        raise UsageError(f"revision id {rev_id!r} is one of alembic's symbolic names ({', '.join(_SYMBOLIC_NAMES)})")
    if any(ch.isspace() or not ch.isprintable() or ch == "," for ch in rev_id):
        # alembic takes them, but a command line or a `Revises: a, b` line cannot carry such an id.
        raise UsageError(f"revision id {rev_id!r} must not contain spaces, commas or control characters")
    if any(sep in rev_id for sep in ("/", "\\")) or rev_id in (".", ".."):
        # It becomes part of the file name: alembic would write outside the folder.
        raise UsageError(f"revision id {rev_id!r} must not contain a path separator")
    if rev_id in graph or rev_id in graph.labels:
        raise UsageError(f"revision id {rev_id!r} is already taken")
    return rev_id


def _version_path(
    script: "ScriptDirectory", graph: RevisionGraph, merged: Sequence[str], root: Path
) -> Path:
    """Where alembic puts the file: the sole version location, or the first head's folder."""
    locations = script._version_locations
    if len(locations) == 1:
        return Path(locations[0])
    folder = Path(root, graph[merged[0]].path).parent.absolute()
    if not any(Path(loc).absolute() == folder for loc in locations):
        raise FixRefused(
            f"head {merged[0]} lives in {folder}, which is not itself a version location; "
            "alembic would refuse this merge too"
        )
    return folder


# ----------------------------------------------------------------- render
def _render(script: "ScriptDirectory", env: "Environment", **kwargs: Any) -> bytes:
    """``alembic.util.template_to_file`` without the file: same template, same bytes."""
    from mako.template import Template

    template_path = Path(script.dir, "script.py.mako")
    try:
        template = Template(filename=str(template_path))
        return template.render_unicode(**kwargs).encode(script.output_encoding)
    except Exception as exc:  # mako raises anything the template's code raises
        raise ConfigError(
            f"rendering {template_path} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _normal(path) -> Path:
    """``path`` absolute, with its '..' and '.' resolved as the file system would resolve them."""
    return Path(os.path.normpath(Path(path).absolute()))


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, as it is otherwise: for messages."""
    try:
        return path.relative_to(_normal(root)).as_posix()
    except ValueError:
        return str(path)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(Path(root).absolute()).as_posix()
    except ValueError:
        raise FixRefused(f"the new revision would go to {path}, outside the repository") from None


def _unmirrored(env: "Environment", config: Any) -> list[str]:
    """Notes on alembic steps revgraph does not run (they execute configured code)."""
    notes = []
    try:
        hooks = config.get_hooks_list() if config is not None else []
    except Exception:  # a broken hooks section is alembic's to report, not ours
        hooks = []
    # revgraph's own hook (`install --post-write-hook`) only refreshes the lock
    # file, which fix rewrites in the same step: naming it sent users to run a
    # command with nothing left to do.
    from revgraph.lockfile import POST_WRITE_ENTRYPOINT

    hooks = [hook for hook in hooks if not (
        str(hook.get("type", "")) == "console_scripts" and str(hook.get("entrypoint", "")) == POST_WRITE_ENTRYPOINT
    )]
    if hooks:
        names = ", ".join(str(hook.get("_hook_name", "?")) for hook in hooks)
        notes.append(f"post_write_hooks ({names}) were not run; run them on the new file")
    if str(env.options.get("revision_environment", "")).lower() in ("true", "1", "yes", "on"):
        notes.append("revision_environment is set: env.py was not run (revgraph never executes it)")
    return notes
