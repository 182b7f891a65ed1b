"""Project-wide fixtures: isolated git world, temporary repositories, alembic CLI.

See tests/support/ for the helpers behind them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:
    # `from tests.support import ...` must work however pytest was started.
    sys.path.insert(0, str(_REPO_ROOT))

from hypothesis import HealthCheck, settings  # noqa: E402

from tests.support.gitrepo import GitRepo, isolated_environ, run_alembic  # noqa: E402
from tests.support.templates import RepoTemplates, store_root  # noqa: E402

# The whole suite must stay fast (CI allows 5 minutes on two cores, and it was
# nearing 4.5): 25 examples a property per run, new ones each run as the seed
# changes; REVGRAPH_TEST_PROFILE=thorough (500) digs deeper before a release.
settings.register_profile("fast", max_examples=25, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("REVGRAPH_TEST_PROFILE", "fast"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores.

    Many tests wait: on git and revgraph processes, and on the 2 s a file
    needs before its identity may vouch for its content. A third worker on
    two cores fills those waits (whole suite, measured twice: 233 -> 219 s
    and 247 -> 225 s).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores + 1


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile revgraph once, before any test starts a process that imports it.

    The tests' processes run with PYTHONDONTWRITEBYTECODE (nothing may land in
    the repositories they work on), so in a fresh clone every ``python -m
    revgraph`` of the suite compiled revgraph from source again: 0.05 to 0.2 s
    of each of some thousand runs. Byte-code that exists is still read.
    """
    if hasattr(session.config, "workerinput"):
        return  # the controller did it (xdist workers start after sessionstart)
    import compileall

    import revgraph

    compileall.compile_dir(str(Path(revgraph.__file__).parent), quiet=1)
    compileall.compile_dir(str(Path(__file__).parent / "support"), quiet=1)
    _rewrite_test_modules_once(session.config)


def _rewrite_test_modules_once(config: pytest.Config) -> None:
    """Write pytest's rewritten byte-code of the test modules, once, before the workers start.

    Under PYTHONDONTWRITEBYTECODE pytest never stores it, so each of the three
    workers rewrote and compiled all the test modules itself (~10 s of CPU
    each, a tenth of the suite on two cores); a worker reads byte-code that
    exists either way. pytest's own functions do the work, so the files are
    exactly what a worker would write; if they ever change shape, this step is
    skipped and the workers rewrite as before.
    """
    if not sys.dont_write_bytecode:
        return  # the workers write it and share it
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
    except Exception:  # noqa: BLE001 - an optimisation only: the workers rewrite as before
        return
    paths = [p for p in sorted(Path(__file__).parent.rglob("*.py")) if p.name.startswith("test_") or p.name == "conftest.py"]
    # Plugins installed with a pytest entry point are rewritten too: every
    # hypothesis module each worker imports was parsed, rewritten and compiled
    # again in each of them (~1.8 s of CPU a worker on this 2-core machine).
    # The ones this process loaded through the rewrite hook (importing this
    # conftest imported hypothesis) are written once here, like the tests.
    paths += sorted({
        Path(module.__file__)
        for module in list(sys.modules.values())
        if isinstance(getattr(module, "__loader__", None), rewrite.AssertionRewritingHook)
        and str(getattr(module, "__file__", "")).endswith(".py")
        and Path(module.__file__).parent != Path(__file__).parent
    })

    def rewrite_each(share: list[Path]) -> None:
        for path in share:
            pyc = rewrite.get_cache_dir(path) / (path.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(path, pyc) is None and rewrite.try_makedirs(pyc.parent):
                source_stat, code = rewrite._rewrite_test(path, config)
                rewrite._write_pyc(state, code, source_stat, pyc)  # atomic: temp file + rename

    # Half in a fork, on the other core (the workers are not started yet:
    # this process has one thread).
    import threading

    child = os.fork() if hasattr(os, "fork") and threading.active_count() == 1 else -1
    if child == 0:
        try:
            rewrite_each(paths[1::2])
        finally:
            os._exit(0)
    try:
        rewrite_each(paths[0::2] if child > 0 else paths)
    except Exception:  # noqa: BLE001 - see above
        pass
    if child > 0:
        os.waitpid(child, 0)


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolate ``os.environ`` (HOME, git config and identity, colour, CI vars).

    Applied through monkeypatch so subprocesses and in-process code alike see
    it; undone after the test. Returns the resulting environment.
    """
    for name, value in isolated_environ(tmp_path / "home").items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    # ... and in this process too, where tests ask alembic's ScriptDirectory.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return dict(os.environ)


@pytest.fixture
def make_gitrepo(tmp_path: Path, git_env: dict[str, str], repo_templates):
    """Factory: ``make_gitrepo("name")`` -> a fresh empty ``GitRepo`` on ``main``.

    Its ``build_once`` keeps what it builds in ``repo_templates``.
    """

    def make(name: str = "repo") -> GitRepo:
        repo = GitRepo.init(tmp_path / name)
        repo.templates = repo_templates
        return repo

    return make


@pytest.fixture
def gitrepo(make_gitrepo) -> GitRepo:
    """An empty git repository (``git init -b main``, no commit) in tmp_path/repo."""
    return make_gitrepo("repo")


@pytest.fixture
def alembic_cli(git_env: dict[str, str]):
    """``alembic_cli(repo_path, *args, check=True)``: the real alembic CLI, cwd=repo."""
    return run_alembic


@pytest.fixture(scope="session")
def repo_templates(tmp_path_factory: pytest.TempPathFactory) -> RepoTemplates:
    """Repositories built once per run and copied per test (``tests/support/templates.py``).

    ``repo_templates.copy(key, tmp_path / "repo", build)``: a fresh copy of what
    ``build(GitRepo)`` made of an empty repository, built by the first test that asks.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return RepoTemplates(store_root(tmp_path_factory.getbasetemp(), worker, run))


def pytest_unconfigure(config: pytest.Config) -> None:
    """One full garbage collection, then the heap is frozen (in the controller and each worker).

    pytest's unraisable-exception plugin collects five times over at the very
    end of each process, to flush finalisers that warn; over a worker's heap
    (hypothesis, alembic, SQLAlchemy, every test module) that took ~1.5 s of
    CPU a process after a full run (0.15 s a pass after tests/unit alone), on
    both cores at once when the run was otherwise done. One collection here
    finds the same garbage and its finalisers' warnings; the plugin's passes
    then walk only what is new since (what those finalisers left).
    """
    import gc

    gc.collect()
    gc.freeze()
