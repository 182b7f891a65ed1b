"""The benchmark's repository generator writes what alembic itself would read and write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo

from tests.support.revfiles import render_revision
from tests.support.gitrepo import run_module


def _heads(revisions) -> set[str]:
    """Heads by alembic's rule: ids no revision names as a down_revision."""
    ids = {r.id for r in revisions}
    parents = {p for r in revisions for p in r.down}
    return ids - parents


# ------------------------------------------------------------------ pure plan
def test_plan_has_exactly_n_revisions_on_main_with_unique_ids():
    plan = genrepo.plan_history(300, seed=3, commits=10)
    revisions = [r for c in plan.main for r in c.revisions]
    assert len(revisions) == 300
    assert len({r.id for r in revisions}) == 300


def test_plan_parents_always_come_before_their_children():
    plan = genrepo.plan_history(400, seed=5, commits=12)
    seen: set[str] = set()
    for rev in (r for c in plan.main for r in c.revisions):
        assert set(rev.down) <= seen, rev
        assert set(rev.depends_on) <= seen, rev
        seen.add(rev.id)


def test_every_main_commit_leaves_one_head_per_line():
    plan = genrepo.plan_history(500, seed=7, commits=20)
    so_far = []
    for commit in plan.main:
        so_far.extend(commit.revisions)
        assert _heads(so_far) == set(commit.heads.values())
        assert len(commit.heads) <= 2


def test_plan_has_forks_closed_by_merge_revisions_and_a_labelled_line():
    plan = genrepo.plan_history(1000, seed=0)
    revisions = [r for c in plan.main for r in c.revisions]
    merges = [r for r in revisions if len(r.down) == 2]
    assert plan.merges == len(merges) >= 10
    labelled = [r for r in revisions if r.branch_labels]
    assert [r.branch_labels for r in labelled] == [(genrepo.LABEL,)]
    assert any(r.depends_on for r in revisions)


def test_feature_branch_forks_from_an_old_head_of_main():
    plan = genrepo.plan_history(600, seed=1, commits=30)
    fork = plan.main[plan.feature_from].heads["head"]
    assert plan.feature_from < len(plan.main) - 1  # main moved on since
    first, second = (c.revisions[0] for c in plan.feature)
    assert first.down == (fork,)
    assert second.down == (first.id,)


def test_plan_is_deterministic_for_a_seed_and_differs_across_seeds():
    ids = lambda plan: [r.id for c in plan.main for r in c.revisions]
    assert ids(genrepo.plan_history(120, seed=9)) == ids(genrepo.plan_history(120, seed=9))
    assert ids(genrepo.plan_history(120, seed=9)) != ids(genrepo.plan_history(120, seed=10))


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_revision_files_are_byte_identical_to_alembics_typed_template(index):
    plan = genrepo.plan_history(200, seed=2)
    revisions = [r for c in plan.main for r in c.revisions]
    # a plain one, a merge, the labelled base, one with depends_on
    picks = [
        revisions[3],
        next(r for r in revisions if len(r.down) == 2),
        next(r for r in revisions if r.branch_labels),
        next(r for r in revisions if r.depends_on and not r.branch_labels),
    ]
    rev = picks[index]
    expected = render_revision(
        rev.id, rev.down or None, message=rev.message, branch_labels=rev.branch_labels or None,
        depends_on=rev.depends_on or None, style="typed", create_date=rev.create_date,
        body=(rev.upgrade.replace("\n    ", "\n"), rev.downgrade.replace("\n    ", "\n")),
    )  # fmt: skip
    assert genrepo.render_revision(rev) == expected


def test_revision_bodies_are_realistically_sized():
    plan = genrepo.plan_history(300, seed=4)
    sizes = [len(r.render()) for c in plan.main for r in c.revisions if len(r.down) < 2]
    assert 1000 <= sum(sizes) / len(sizes) <= 2500


def test_slug_matches_alembic_truncation():
    assert genrepo.slug("add account_00001 table") == "add_account_00001_table"
    long = "add external_ref_123 to warehouse_00042 and more words"
    assert genrepo.slug(long) == "add_external_ref_123_to_warehouse_00042_"


# --------------------------------------------------------------- on disk
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from tests.support.gitrepo import isolated_environ

    base = tmp_path_factory.mktemp("gen")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in isolated_environ(base / "home").items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        return genrepo.generate(base / "repo", 150, seed=11, commits=8)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_generated_repository_has_main_and_feature_checked_out(generated, git_env):
    repo = generated.path
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "feature"
    assert _git(repo, "status", "--porcelain") == ""
    on_main = _git(repo, "ls-tree", "-r", "--name-only", "main", "--", genrepo.VERSIONS).split()
    assert len(on_main) == generated.revisions == 150
    assert 8 <= int(_git(repo, "rev-list", "--count", "main")) <= 10  # batches, not one per revision


def test_alembic_agrees_with_the_generator_on_both_branches(generated, git_env, tmp_path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(generated.path / "alembic.ini"))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    assert heads == set(generated.feature_heads)
    assert set(generated.feature_revisions) <= {r.revision for r in ScriptDirectory.from_config(config).walk_revisions()}
    main_copy = tmp_path / "main"
    subprocess.run(["git", "worktree", "add", "-q", str(main_copy), "main"], cwd=generated.path, check=True)
    try:
        main_config = Config(str(main_copy / "alembic.ini"))
        assert set(ScriptDirectory.from_config(main_config).get_heads()) == set(generated.main_heads)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(main_copy)], cwd=generated.path, check=True)


def test_generated_lock_file_is_current_and_check_finds_the_fork(generated, git_env):
    run = lambda *a: run_module("revgraph", "-C", generated.path, "--no-cache", *a)
    assert run("lock", "--check").returncode == 0
    done = run("check", "--base", "main", "--format", "json")
    assert done.returncode == 1
    import json

    codes = {f["code"] for f in json.loads(done.stdout)["findings"]}
    assert codes == {"RG102", "RG301"}  # the fork it was built to have, and nothing else


def test_generate_refuses_an_existing_repository(generated, git_env):
    with pytest.raises(FileExistsError):
        genrepo.generate(generated.path, 10)
