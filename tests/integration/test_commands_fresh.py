"""Every command says the same in a fresh interpreter as in a fork of the test zygote.

The suite runs the CLI as forks of an interpreter that has imported revgraph
and its libraries already (``tests/support/zygote.py``). That would hide a
command that works only because another module imported what it uses (``import
rich`` then ``rich.console.Console``): here each command line runs both ways,
on a branch with something to report, and the two runs must agree byte for
byte (exit code, stdout, stderr).
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.integration.test_check_cli import classic_fork
from tests.support import zygote
from tests.support.gitrepo import GitRepo, _run, apply_environ, isolated_environ

COMMAND_LINES = [
    ("heads",),
    ("--no-cache", "check", "--base", "main"),
    ("--no-cache", "check", "--base", "main", "-f", "sarif"),
    ("--no-cache", "check", "--base", "main", "-f", "junit"),
    ("--no-cache", "check", "--base", "main", "-f", "markdown"),
    ("doctor", "--base", "main"),
    ("fix", "--dry-run", "--base", "main"),
    ("graph", "--base", "main"),
    ("graph", "--base", "main", "-f", "mermaid"),
    ("graph", "--base", "main", "-f", "dot"),
    ("graph", "--base", "main", "-f", "html"),
    ("graph", "--base", "main", "-f", "json"),
    ("rules", "RG102"),
    ("diff", "main", "feature"),
    ("lock", "--check"),
    ("install", "--dry-run"),
    ("collisions",),
    ("audit", "--ref", "main"),
    ("nosuchcommand",),
]


@pytest.fixture(scope="module")
def forked_repo(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    repo = GitRepo.init(tmp_path_factory.mktemp("fresh") / "repo", apply_environ(isolated_environ(home), os.environ))
    classic_fork(repo)
    return repo


@pytest.mark.parametrize("args", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_a_command_says_the_same_fresh_as_forked(forked_repo, monkeypatch, args):
    cmd = [sys.executable, "-m", "revgraph", "-C", str(forked_repo.path), *args]
    assert zygote.usable(cmd, forked_repo.env)
    forked = _run(cmd, cwd=forked_repo.path.parent, env=forked_repo.env, expect=None)
    monkeypatch.setenv("REVGRAPH_TEST_FRESH_PROCESSES", "1")
    fresh = _run(cmd, cwd=forked_repo.path.parent, env=forked_repo.env, expect=None)

    assert "Traceback" not in fresh.stderr, fresh.stderr
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (forked.returncode, forked.stdout, forked.stderr)
    assert fresh.stdout or fresh.stderr
