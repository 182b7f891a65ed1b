"""What a configuration error cannot say by itself: where the file came from.

``config.load_project`` knows files, not how the user chose them nor what git
holds. Two things a person needs to act on its error are added here, to the hint:

* the config file was named by ``ALEMBIC_CONFIG`` (set in a shell profile or a CI
  job and long forgotten), not by anything on the command line;
* the file at fault is the working tree's copy, edited since HEAD. Every command
  takes its environments from it, ``--ref`` and ``--base`` too (a ref lends only
  where its revisions live, ``sources.refsettings``): ``heads --ref main`` stops
  on a working tree's broken alembic.ini although main's is fine, and the
  message should say which copy it read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from revgraph.errors import ConfigError, RevgraphError

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.api import Options

CONFIG_NAMES = ("alembic.ini", "pyproject.toml")


def explain(exc: ConfigError, options: Options) -> ConfigError:
    """``exc`` with what the user needs to know about the file it names added to its hint."""
    # How the file was chosen first, then what the error itself offers, then which copy it is.
    parts = (_from_environment(exc, options), exc.hint, _working_copy(exc, options))
    hint = "; ".join(part for part in parts if part)
    return exc if hint == (exc.hint or "") else ConfigError(exc.message, hint=hint)


def _from_environment(exc: ConfigError, options: Options) -> str | None:
    """The note that ``ALEMBIC_CONFIG`` named the config at fault (None: it did not)."""
    path = options.config_file
    if not options.config_from_env or path is None or os.path.normpath(path) not in exc.message:
        return None
    return (
        f"ALEMBIC_CONFIG={os.environ.get('ALEMBIC_CONFIG', '')} names it (alembic's default for -c); "
        "unset it, or pass -c to read another config"
    )


def _named_config(exc: ConfigError, options: Options) -> Path | None:
    """The config file (``-c``'s, or an alembic.ini / pyproject.toml) ``exc`` names, if any."""
    candidates = [options.config_file] if options.config_file is not None else []
    start = Path(options.cwd)
    candidates += [folder / name for folder in (start, *start.parents) for name in CONFIG_NAMES]
    for path in candidates:
        path = Path(os.path.normpath(path))
        if f"{path}:" in exc.message or f"{path} " in exc.message:  # "<path>: cannot parse", "<path> [alembic]"
            return path
    return None


def _working_copy(exc: ConfigError, options: Options) -> str | None:
    """The note that the file at fault is the working tree's copy, edited since HEAD
    (None outside git, or when HEAD holds the same bytes)."""
    path = _named_config(exc, options)
    if path is None or not path.is_file():
        return None
    try:
        from revgraph.sources.gitref import GitRepo

        repo = GitRepo(path.parent)
    except (RevgraphError, OSError):
        return None  # not in git: there is no other copy to speak of
    try:
        if repo.root is None:
            return None
        relative = Path(os.path.relpath(path, repo.root)).as_posix()
        if relative.startswith("../"):
            return None
        [blob] = list(repo.blobs([f"HEAD:{relative}"]))
        here_bytes = path.read_bytes()
    except (RevgraphError, OSError, ValueError):
        return None
    finally:
        repo.close()
    from revgraph.sources.refsettings import same_config_text

    if blob.status != "ok" or same_config_text(here_bytes, blob.data):
        # Committed as it is (alembic at HEAD stops on it alike), or never committed:
        # no other copy to tell it from, and a note on every such error would be noise.
        return None
    from revgraph.shellwords import shell_word

    here = shell_word(Path(os.path.relpath(path, options.cwd)).as_posix())  # git diff's paths: from where it runs
    return (
        f"this is the working tree's {relative}, edited since HEAD (git diff HEAD -- {here}): "
        "revgraph takes the environments from it for every command, --ref and --base too"
    )
