"""A stdout that refuses the output, a reader that goes away, Ctrl-C, --debug: exit codes, no traceback.

``revgraph check >/dev/full`` (a full disk) and ``revgraph check >&-`` (stdout
closed) are I/O errors: one line on stderr, exit 2, on every door (the fast
``check`` and ``heads``, warm or cold, and the typer CLI), and nothing from the
interpreter's last flush ("Exception ignored ..."). A pipe whose reader left
(``| head``) ends quietly with 1. Ctrl-C while typer loads exits 130; --debug
adds a traceback but keeps the exit code.

Each run is a fresh interpreter: the zygote of tests/support cannot hand a
child these streams.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import GitRepo, run_module

FULL = "revgraph: error: cannot write the output: No space left on device\n"
CLOSED = "revgraph: error: cannot write the output: standard output is closed\n"

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


def revgraph(*args: str, stdout, cwd: Path | None = None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "revgraph", *args], stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, cwd=cwd, env=env, text=True, timeout=120)  # fmt: skip


def to_dev_full(*args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return revgraph(*args, stdout=full)


def stdout_closed(*args: str) -> subprocess.CompletedProcess:
    """``revgraph ARGS >&-``."""
    return subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "revgraph", *args],
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=120)  # fmt: skip


def to_a_pipe_nobody_reads(*args: str) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return revgraph(*args, stdout=write_end)
    finally:
        os.close(write_end)


@pytest.fixture
def project(gitrepo: GitRepo) -> GitRepo:
    gitrepo.init_env()
    gitrepo.add_revision("root01", None, message="create users")
    gitrepo.commit("root")
    return gitrepo


@needs_dev_full
def test_a_check_whose_stdout_is_full_or_closed_says_so_and_exits_2(project):
    here = ["-C", str(project.path)]
    full = to_dev_full(*here, "check")  # a fast path's answer, as a warm one writes it
    assert (full.returncode, full.stderr) == (2, FULL)
    closed = stdout_closed(*here, "check")
    assert (closed.returncode, closed.stderr) == (2, CLOSED)


@needs_dev_full
def test_every_other_command_says_the_same_of_stdout(project):
    full = to_dev_full("-C", str(project.path), "heads")  # the fast heads
    assert (full.returncode, full.stderr) == (2, FULL)
    closed = stdout_closed("rules")  # typer's, printing with rich
    assert (closed.returncode, closed.stderr) == (2, CLOSED)


def test_a_reader_that_went_away_ends_it_quietly_with_1_as_rich_does(project):
    # Never 0 (as a fast check said): a check whose report nobody read must not pass for a clean one.
    done = to_a_pipe_nobody_reads("-C", str(project.path), "check")
    assert (done.returncode, done.stderr) == (1, "")


def test_ctrl_c_while_typer_loads_exits_130_without_a_traceback(tmp_path, git_env):
    # A "typer" found first on the path that interrupts its own import: the
    # real SIGINT, where the full CLI imports typer.
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "typer.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(fake), os.environ.get("PYTHONPATH")])))
    done = revgraph("rules", stdout=subprocess.PIPE, env=env, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (130, "interrupted\n")


def test_debug_adds_a_traceback_and_keeps_the_exit_code(tmp_path, git_env):
    for args in (["check", "--format", "bogus"], ["check", "--bogus"]):  # revgraph's usage error, click's
        plain = run_module("revgraph", *args, cwd=tmp_path)
        debug = run_module("revgraph", "--debug", *args, cwd=tmp_path)
        assert plain.returncode == debug.returncode == 2, (args, debug.stderr)
        assert "Traceback" in debug.stderr and "Traceback" not in plain.stderr
        assert debug.stderr.endswith(plain.stderr), args  # the same message, after the traceback
