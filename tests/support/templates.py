"""Repositories built once and handed to each test as a copy of its own.

Several test modules start every test from the same repository, built through
the real CLI (``revgraph install``, ``revgraph lock``): the same processes,
test after test. ``RepoTemplates.copy(key, dest, build)`` runs ``build`` once
for ``key`` and copies the result to ``dest`` for every test that asks, so a
test still gets a repository nobody else touches, byte for byte the one its
own ``build`` would have made (commit ids and cache files aside: they are the
build's).

The copy is ``shutil.copytree`` with symlinks kept and modification times
kept (git's racy-entry logic sees the index and the files as the build left
them); inode numbers and ctimes are new, as in any fresh checkout: the
revgraph caches keyed on file identity miss once and are rebuilt, exactly as
after a ``git clone``. A copy is made just before the test uses it, so its
files are as fresh (ctime) as those of a repository the test built itself.

Under pytest-xdist the workers of one run share the store: the first worker
to ask builds (holding a lock), the others wait and copy. ``build`` must keep
everything inside its repository (no clone beside it, no absolute path of its
own written into a file; a file written beside it, ``repo.path.parent / name``,
is copied when asked for) and returns a JSON-serialisable value (a commit id,
a path), given back with each copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from tests.support.gitrepo import GitRepo, apply_environ, isolated_environ

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: each worker builds its own
    fcntl = None  # type: ignore[assignment]

_DONE = "template.json"


class RepoTemplates:
    """Store of built repositories under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._env: dict[str, str] | None = None

    def _build_env(self) -> dict[str, str]:
        """Builds run in an environment isolated as the tests' own (``isolated_environ``)."""
        if self._env is None:
            self._env = apply_environ(isolated_environ(self.root / f"home-{os.getpid()}"), os.environ)
        return self._env

    @contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        with open(folder.with_name(folder.name + ".lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def built(self, key: str, build: Callable[[GitRepo], Any]) -> tuple[Path, dict]:
        """The template's repository folder and its record, building it on first use."""
        folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", key)
        done = folder / _DONE
        if not done.is_file():
            with self._locked(folder):
                if not done.is_file():
                    if folder.exists():  # a build that failed half-way: start again
                        shutil.rmtree(folder)
                    repo = GitRepo.init(folder / "repo", self._build_env())
                    result = build(repo)
                    record = {"result": result, "dates_issued": repo._dates_issued}
                    tmp = done.with_suffix(".tmp")
                    tmp.write_text(json.dumps(record), encoding="utf-8")
                    tmp.replace(done)
        return folder / "repo", json.loads(done.read_text(encoding="utf-8"))

    def copy(
        self,
        key: str,
        dest: str | os.PathLike[str],
        build: Callable[[GitRepo], Any],
        env: Mapping[str, str] | None = None,
    ) -> tuple[GitRepo, Any]:
        """A copy at ``dest`` (which must not exist) of the repository ``build`` makes.

        Returns the copy, a ``GitRepo`` with ``env`` (None: ``os.environ``, as
        the fixtures isolate it) whose next ``add_revision`` dates follow the
        build's, and what ``build`` returned.
        """
        source, record = self.built(key, build)
        dest = Path(dest)
        shutil.copytree(source, dest, symlinks=True)
        repo = GitRepo(dest, env)
        repo._dates_issued = record["dates_issued"]
        return repo, record["result"]

    def replace(self, repo: GitRepo, key: str, build: Callable[[GitRepo], Any], beside: Sequence[str] = ()) -> Any:
        """Put the built repository in place of ``repo``'s (same path, same env); returns build's value.

        ``beside``: files the build wrote beside its repository, copied beside ``repo``.
        """
        shutil.rmtree(repo.path)
        copied, result = self.copy(key, repo.path, build, repo.env)
        repo._dates_issued = copied._dates_issued
        source = self.built(key, build)[0].parent
        for name in beside:
            shutil.copy2(source / name, repo.path.parent / name)
        return result


def store_root(basetemp: Path, worker: str | None, run: str | None = None) -> Path:
    """Where the store lives: shared by the xdist workers of one run, else in this run's basetemp.

    The workers' folders are siblings in the run's basetemp; ``run`` (xdist's
    test run id) keeps a store of one run from ever serving another where that
    folder outlives it (a fixed ``--basetemp``).
    """
    if not worker:
        return basetemp / "repo-templates"
    return basetemp.parent / f"repo-templates-{run or 'run'}"
