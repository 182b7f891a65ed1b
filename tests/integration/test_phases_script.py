"""``scripts/phases.py``: the timeline of one check, kept in step with the code it times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo
import phases


@pytest.fixture
def repo(tmp_path, git_env):
    return genrepo.generate(tmp_path / "repo", 40, seed=7, commits=5).path


def _timeline(repo: Path, *args: str) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "phases.py"), str(repo), "--runs", "1", "--format", "json", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {row["phase"]: row for row in json.loads(done.stdout)}


def test_every_phase_it_times_still_exists_in_revgraph():
    from importlib import import_module

    for module, qualname in phases.PHASES:
        owner = import_module(module)
        for part in qualname.split("."):
            owner = getattr(owner, part)  # renamed or moved: update phases.PHASES
        assert callable(owner), (module, qualname)


def test_a_cold_check_shows_its_phases_in_order_within_the_whole_run(repo):
    rows = _timeline(repo, "--state", "cold")
    whole = rows.pop("(whole run)")["end_ms"]
    for phase in ("probe", "build_context", "read_worktree", "run_checks", "Probe.store", "render_report"):
        assert phase in rows, phase
        assert 0 <= rows[phase]["start_ms"] <= rows[phase]["end_ms"] <= whole
    assert rows["build_context"]["end_ms"] <= rows["run_checks"]["start_ms"] <= rows["Probe.store"]["start_ms"]
    assert any(name.startswith("git status") for name in rows)


def test_a_warm_check_is_answered_before_any_phase_is_reached(repo):
    rows = _timeline(repo, "--state", "warm", "--", "check", "--base", "main")
    assert "run_checks" not in rows and "build_context" not in rows  # the cached answer
    assert rows["(whole run)"]["end_ms"] > 0
