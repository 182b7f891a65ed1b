"""Each ref read with its own alembic settings for where revisions live.

A ref is read from git without checking it out, so its configuration is not
the working tree's: a base branch may have turned on
``recursive_version_locations`` and moved old migrations into
``versions/2024/``, or added a folder to ``version_locations``. Read with the
working tree's settings, its revisions there would look deleted from it (and
so added here): ``diff`` and ``fix`` would describe a history that is not the
ref's, and ``heads --ref`` would miss its head.

``RefSettings`` is the hook ``GitRepo`` asks before it reads a tree: it reads
the environment's config file (and, for an ini, the pyproject.toml beside it,
whose ``[tool.alembic]`` alembic merges in) from that tree, and when its
bytes differ from the working tree's, builds the places they give
(``config.environment_at``). Same places, the same ``Environment`` object: a
tree read for one ref still serves the others as a reference. A ref without
the config file (one kept out of git, a ref from before it) is read with the
working tree's settings; so is a ref whose config cannot be used (unreadable,
or placing revisions outside the repository), and then the reason is kept for
the commands to say (``problem``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from revgraph.errors import ConfigError, RevgraphError

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.sources.gitref import GitRepo


class RefSettings:
    """``(env, treeish) -> env`` as that tree's config files describe it."""

    @classmethod
    def attach(cls, repo: GitRepo, start: Path) -> None:
        """Make every tree ``repo`` reads be read with its own settings (``GitRepo.settings_at``);
        ``start``: where the command runs (relative paths, as ``config.load_project``)."""
        if repo.root is not None:
            repo.settings_at = cls(repo, Path(repo.root), start)

    def __init__(self, repo: GitRepo, root: Path, start: Path) -> None:
        self._repo = repo
        self._root = root
        self._start = start
        self._here: dict[Path, bytes | None] = {}  # config file -> its working-tree bytes
        self._made: dict[tuple, tuple[Environment, str | None]] = {}

    def __call__(self, env: Environment, treeish: str) -> Environment:
        return self.resolve(env, treeish)[0]

    def problem(self, env: Environment, treeish: str, name: str | None = None) -> str | None:
        """Why ``treeish`` is read with the working tree's settings (None: it is not, or they agree).

        The config files at fault are ``treeish``'s, not the working tree's: the
        message names each as git does a file in a commit, ``NAME:alembic.ini``
        (``name``: the ref as the user gave it; ``treeish`` itself by default).
        """
        problem = self.resolve(env, treeish)[1]
        if problem is None:
            return None
        for path, relative in config_files(env, self._root):
            problem = problem.replace(str(path), f"{name or treeish}:{relative}")
        return problem

    def resolve(self, env: Environment, treeish: str) -> tuple[Environment, str | None]:
        """``env`` as ``treeish``'s config files place revisions (``env`` itself when they
        place them alike), and why ``env`` is kept when they cannot be used."""
        files = config_files(env, self._root)
        if not files:
            return env, None
        ours = tuple(self._ours(path) for path, _ in files)
        theirs = tuple(self._theirs(treeish, relative) for _, relative in files)
        if theirs == ours or theirs[0] is None:
            # No config file at the ref: one kept out of git (an alembic.ini holding
            # credentials, .gitignored), or a ref from before it. Nothing there says
            # otherwise, so the working tree's settings it is, without a word.
            return env, None
        key = (env, theirs)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._build(env, theirs)
        return made

    def _build(self, env: Environment, theirs: tuple[bytes | None, ...]) -> tuple[Environment, str | None]:
        from revgraph.config import environment_at

        config, neighbour = (*theirs, None)[:2]
        try:
            found = environment_at(env, config, neighbour, self._start)
        except ConfigError as exc:
            return env, exc.message
        same = (found.script_location, found.version_locations, found.recursive, found.sourceless) == (
            env.script_location, env.version_locations, env.recursive, env.sourceless
        )  # fmt: skip
        if same:
            return env, None
        try:
            self._repo.folders(found)  # inside the repository, or no tree can hold them
        except RevgraphError as exc:
            return env, exc.message
        return found, None

    def _ours(self, path: Path) -> bytes | None:
        if path not in self._here:
            try:
                self._here[path] = path.read_bytes() if path.is_file() else None
            except OSError:
                self._here[path] = None
        return self._here[path]

    def _theirs(self, treeish: str, relative: str) -> bytes | None:
        [blob] = list(self._repo.blobs([f"{treeish}:{relative}"]))
        return blob.data if blob.status == "ok" else None


def config_files(env: Environment, root: Path) -> list[tuple[Path, str]]:
    """The config files ``env`` comes from (an ini's neighbour pyproject.toml too), with
    their POSIX paths relative to ``root``; none when it has none or they lie outside it."""
    config = env.config_file
    if config is None:
        return []
    paths = [config] if config.name == "pyproject.toml" else [config, config.parent / "pyproject.toml"]
    found = []
    for path in paths:
        try:
            relative = Path(os.path.relpath(path, root)).as_posix()
        except ValueError:  # another drive
            return []
        if relative.startswith("../"):
            return []  # outside the repository: no tree holds it
        found.append((path, relative))
    return found


def same_config_text(here: bytes | None, committed: bytes | None) -> bool:
    """Whether a config file's bytes on disk say what its committed blob says.

    Line endings aside: ``core.autocrlf`` (or ``eol=crlf``) checks a config out
    with CRLF where the blob has LF, git status calls it clean, and configparser
    and tomllib read both alike. Comparing bytes alone called every such file
    "edited since HEAD" (a wrong note in config errors, and a temporary index on
    every predicted merge).
    """
    if here is None or committed is None:
        return here is committed
    return here == committed or here.replace(b"\r\n", b"\n") == committed.replace(b"\r\n", b"\n")


def config_paths(environments: Iterable[Environment], root: Path) -> tuple[str, ...]:
    """Every config file of ``environments`` as a path in the repository, sorted."""
    return tuple(sorted({relative for env in environments for _, relative in config_files(env, root)}))
