"""revgraph's heads and bases against alembic's ``ScriptDirectory`` on the same files.

PRODUCT §1: "On any tree revgraph reads, its heads and bases equal those of
alembic's ``ScriptDirectory`` on the same files." Random DAGs (several bases,
merges, branch labels, ``depends_on`` by id and by label, every header style)
are written to disk and read three ways:

* from the working tree (``sources.worktree`` through ``api.heads``);
* from a git ref, while the checked-out branch holds *different* files;
* through the real CLI (``heads --json --versions DIR`` / ``heads --ref``).

Each read is done with the parse cache cold, warm and switched off
(``--no-cache``): the answer must not depend on it. alembic is the oracle,
never a hard-coded answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revgraph import api
from tests.support.dagspec import dags, graph_spec, write_spec
from tests.support.revfiles import STYLES
from tests.support.gitrepo import run_module

# Generated specs never use id prefixes in depends_on: alembic cannot load those.
STYLE_CHOICES = st.sampled_from([*STYLES, "mixed"])
VERSIONS = "migrations/versions"
ALEMBIC_INI = "[alembic]\nscript_location = %(here)s/migrations\n"
# The git_env fixture is applied once per test; every example reuses that world.
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


# ----------------------------------------------------------------- oracles
def alembic_answer(script_location: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Heads, bases and revision count as alembic's ScriptDirectory reads them."""
    from alembic.script import ScriptDirectory

    # alembic imports each file; no __pycache__ may appear in a repo under test.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    script = ScriptDirectory(str(script_location))
    return {
        "heads": sorted(script.get_heads()),
        "bases": sorted(script.get_bases()),
        "revisions": sum(1 for _ in script.walk_revisions()),
    }


def revgraph_answer(cwd: Path, *, ref: str | None = None, versions: Path | None = None,
                    no_cache: bool = False) -> dict:
    """``api.heads`` for the only environment, in the shape of ``heads --json``."""
    options = api.Options(cwd=cwd, versions=versions, no_cache=no_cache)
    with api.Workspace(options) as ws:
        (env_heads,) = api.heads(ws, ref)
        assert env_heads.snapshot.problems == ()
        answer = env_heads.to_json()
    return {key: answer[key] for key in ("heads", "bases", "revisions")}


def answers_with_every_cache_mode(cwd: Path, **kw) -> list[dict]:
    """Cold cache, warm cache, no cache: three reads that must agree."""
    return [
        revgraph_answer(cwd, **kw),
        revgraph_answer(cwd, **kw),
        revgraph_answer(cwd, no_cache=True, **kw),
    ]


# -------------------------------------------------------------- git helpers
def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def replace_versions(repo: Path, spec, style) -> None:
    folder = repo / VERSIONS
    shutil.rmtree(folder, ignore_errors=True)
    write_spec(folder, spec, style)


def repo_with_spec_on_branch(repo: Path, spec, style, other_spec, other_style) -> None:
    """``spec`` committed on branch ``spec``; checked out: ``other`` with ``other_spec``."""
    git(repo, "init", "-q", "--template=", "-b", "spec")
    (repo / "alembic.ini").write_text(ALEMBIC_INI, encoding="utf-8")
    replace_versions(repo, spec, style)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "spec")
    git(repo, "checkout", "-q", "-b", "other")
    replace_versions(repo, other_spec, other_style)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "other")


# ------------------------------------------------------------ working tree
@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(spec=dags(), style=STYLE_CHOICES)
def test_worktree_heads_and_bases_equal_alembics_with_and_without_cache(
    spec, style, git_env, monkeypatch
):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_spec(root / "versions", spec, style)
        expected = alembic_answer(root, monkeypatch)
        answers = answers_with_every_cache_mode(root, versions=root / "versions")
    assert answers == [expected] * 3


# ----------------------------------------------------------------- git ref
@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE_OK)
@given(spec=dags(), style=STYLE_CHOICES, other=dags(max_size=6), other_style=STYLE_CHOICES)
def test_ref_heads_equal_alembics_while_another_branch_is_checked_out(
    spec, style, other, other_style, git_env, monkeypatch
):
    with tempfile.TemporaryDirectory() as tmp:
        oracle, repo = Path(tmp) / "oracle", Path(tmp) / "repo"
        write_spec(oracle / "versions", spec, style)
        expected = alembic_answer(oracle, monkeypatch)
        write_spec(oracle / "other" / "versions", other, other_style)
        expected_other = alembic_answer(oracle / "other", monkeypatch)
        repo.mkdir()
        repo_with_spec_on_branch(repo, spec, style, other, other_style)
        from_ref = answers_with_every_cache_mode(repo, ref="spec")
        from_worktree = answers_with_every_cache_mode(repo)
        status = git(repo, "status", "--porcelain")
    assert from_ref == [expected] * 3
    assert from_worktree == [expected_other] * 3
    assert status == ""


def test_hand_written_history_with_labels_depends_and_two_bases_matches_alembic(
    tmp_path, git_env, monkeypatch
):
    # One history that certainly holds every feature the random ones may miss.
    spec = graph_spec(
        "a1<-b2<-c3<-m9", "a1<-d4<-m9", "e5<-f6", "g7",
        labels={"e5": "billing", "g7": "reporting"},
        depends={"f6": ["b2"], "g7": ["billing"], "c3": ["reporting"]},
    )
    for style in STYLES:
        folder = tmp_path / style
        write_spec(folder / "versions", spec, style)
        expected = alembic_answer(folder, monkeypatch)
        assert expected["heads"] == ["f6", "g7", "m9"]  # the spec is what it claims to be
        assert answers_with_every_cache_mode(folder, versions=folder / "versions") == [expected] * 3


def test_heads_text_is_alembic_heads_text_effective_heads_included(tmp_path, monkeypatch):
    # QA: a head another revision depends_on is alembic's "(effective head)".
    from alembic.script import ScriptDirectory

    spec = graph_spec(
        "a1<-b2<-c3<-m9", "a1<-d4<-m9", "e5<-f6", "g7",
        labels={"e5": "billing", "g7": "reporting"},
        depends={"f6": ["b2"], "g7": ["billing"], "c3": ["reporting"]},
    )
    write_spec(tmp_path / "versions", spec, "typed")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    script = ScriptDirectory(str(tmp_path))
    expected = sorted(
        rev.cmd_format(verbose=False, include_branches=True, tree_indicators=False)
        for rev in script.get_revisions(script.get_heads())  # what `alembic heads` prints
    )
    assert any("(effective head)" in line for line in expected)  # the spec holds one

    done = run_module("revgraph", "-C", tmp_path, "--versions", "versions", "heads", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == expected


# ------------------------------------------------- one file, read both ways
# Lines added below a child revision's header (down_revision = 'aaa111').
# "read": revgraph reads the file, and must read what alembic reads.
# "refused": RG107; alembic reads something else than the literal, or fails.
CHILD_TAILS = [
    ("read", "down_revision = (None,)\n"),  # tuple_rev_as_scalar: a base
    ("read", "down_revision = ['aaa111']\ndepends_on = (None,)\n"),
    ("read", "down_revision = {'aaa111'}\nbranch_labels = {'lab'}\ndepends_on = {'aaa111'}\n"),
    ("read", "if __name__ == '__main__':\n    down_revision = 'zzz'\n"),
    ("read", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    down_revision = 'zzz'\n"),
    ("read", "globals()['helper'] = 1\nX = 'a' in globals()\n"),
    ("refused", "(down_revision := 'zzz')\n"),
    ("refused", "def f():\n    global down_revision\n    down_revision = 'zzz'\n\nf()\n"),
    ("read", "def f():\n    global down_revision\n    down_revision = 'zzz'\n"),  # never called
    ("refused", "def f():\n    exec(\"global down_revision; down_revision = 'zzz'\")\n\nf()\n"),
    ("refused", "import builtins as b\nb.exec(\"down_\" + \"revision = 'zzz'\")\n"),
    ("refused", "import sys\nsetattr(sys.modules[__name__], 'down_' + 'revision', 'zzz')\n"),
    ("refused", "exec(\"down_\" + \"revision = 'zzz'\")\n"),
    ("refused", "globals()['down_revision'] = 'zzz'\n"),
    ("refused", "globals().update({'down_' 'revision': 'zzz'})\n"),
    ("refused", "vars()['down_revision'] = 'zzz'\n"),
    ("refused", "del down_revision\n"),
    ("refused", "try:\n    1 / 0\nexcept ZeroDivisionError as down_revision:\n    pass\n"),
    ("refused", "for down_revision in ['zzz']:\n    pass\n"),
    ("refused", "from os import sep as down_revision\n"),
    ("refused", "down_revision += 'zzz'\n"),
]
CHILD = (
    '"""child\n\nRevision ID: bbb222\nRevises: aaa111\nCreate Date: 2024-01-02\n\n"""\n'
    "revision = 'bbb222'\ndown_revision = 'aaa111'\nbranch_labels = None\ndepends_on = None\n"
)
ROOT = "revision = 'aaa111'\ndown_revision = None\n"


def alembic_reading(folder: Path, monkeypatch: pytest.MonkeyPatch):
    """``{id: (down_revisions, labels, depends_on)}`` as alembic loads the folder, or the error."""
    from alembic.script import ScriptDirectory

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    try:
        script = ScriptDirectory(str(folder))
        return {
            rev.revision: (
                rev._versioned_down_revisions,
                tuple(rev._orig_branch_labels),
                tuple(rev._resolved_dependencies),
            )
            for rev in script.walk_revisions()
        }
    except Exception as exc:  # noqa: BLE001 - any failure is alembic's answer
        return type(exc).__name__


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("verdict", "tail"), CHILD_TAILS)
def test_a_header_name_bound_again_is_refused_or_read_as_alembic_reads_it(
    verdict, tail, tmp_path, monkeypatch
):
    from revgraph.model import Revision
    from revgraph.parse import parse_revision

    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "aaa111_root.py").write_text(ROOT)
    (tmp_path / "versions" / "bbb222_child.py").write_text(CHILD + tail)
    seen = alembic_reading(tmp_path, monkeypatch)
    ours = parse_revision((CHILD + tail).encode(), "versions/bbb222_child.py")
    if verdict == "read":
        assert isinstance(ours, Revision), ours
        assert seen["bbb222"] == (ours.down_revisions, ours.branch_labels, ours.depends_on)
    else:
        assert not isinstance(ours, Revision), ours
        assert seen != {"bbb222": (("aaa111",), (), ()), "aaa111": ((), (), ())}  # not the literal


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("reserved", ["base", "head", "heads"])
def test_ids_alembic_reserves_are_refused_as_alembic_misreads_them(reserved, tmp_path, monkeypatch):
    from revgraph.model import Revision
    from revgraph.parse import parse_revision

    child = f"revision = {reserved!r}\ndown_revision = 'aaa111'\n"
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "aaa111_root.py").write_text(ROOT)
    (tmp_path / "versions" / f"{reserved}_child.py").write_text(child)
    (tmp_path / "versions" / "ccc333_next.py").write_text(
        f"revision = 'ccc333'\ndown_revision = {reserved!r}\n"
    )
    from alembic.script import ScriptDirectory

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    script = ScriptDirectory(str(tmp_path))
    # A database stamped with this id is read as empty ("base": everything runs again)
    # or as being at head ("head", "heads": ccc333 never runs).
    expected = [] if reserved == "base" else ["ccc333"]
    assert [rev.revision for rev in script.get_revisions(reserved)] == expected
    assert not isinstance(parse_revision(child.encode(), f"versions/{reserved}_child.py"), Revision)


# ----------------------------------------------------------------- real CLI
def cli_json(cwd: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "revgraph", "-C", str(cwd), *args],
        cwd=cwd.parent, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (env,) = json.loads(done.stdout)["environments"]
    return {key: env[key] for key in ("heads", "bases", "revisions")}


@settings(max_examples=2, deadline=None, suppress_health_check=FIXTURE_OK)
@given(spec=dags(min_size=3), style=STYLE_CHOICES, other=dags(max_size=3))
def test_cli_heads_json_equals_alembic_from_disk_and_from_a_ref(
    spec, style, other, git_env, monkeypatch
):
    with tempfile.TemporaryDirectory() as tmp:
        oracle, repo = Path(tmp) / "oracle", Path(tmp) / "repo"
        write_spec(oracle / "versions", spec, style)
        expected = alembic_answer(oracle, monkeypatch)
        repo.mkdir()
        repo_with_spec_on_branch(repo, spec, style, other, "typed")
        from_disk = cli_json(oracle, "--versions", "versions", "heads", "--json")
        from_ref = cli_json(repo, "--no-cache", "heads", "--ref", "spec", "--json")
        status = git(repo, "status", "--porcelain")
    assert from_disk == expected
    assert from_ref == expected
    assert status == ""
