"""The merge driver merges the lock cleanly only when the merge leaves RG101 silent (PRODUCT §5).

Real repositories, the driver installed by `revgraph install`, real `git
merge` / `git rebase`. Each history below leaves no more heads than one side
already had, so counting heads would call it clean; but the merged graph has
two heads on one line (RG101), `alembic upgrade head` (or `rep@head`) fails,
and git must stop at the lock file with a text naming both sides' new
revisions and `revgraph fix`.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from revgraph.lockfile import parse_lock

LOCK = "migrations/revgraph.lock"
APP, REP = "a1a1a1a1a1a1", "b1b1b1b1b1b1"  # the two landed roots
MAIN_NEW, FEATURE_NEW = "c2c2c2c2c2c2", "d3d3d3d3d3d3"


def _installed(repo, templates, app_labels, pyproject: str | None = None, then=None):
    """main: two roots, the second on the landed label ``rep``; the driver and the lock committed.

    ``then(repo)``: what the test does next, when other tests do it too. The
    result is built once (``repo_templates``) and copied in place of ``repo``.
    """

    def build(built):
        _install(built, app_labels, pyproject)
        if then is not None:
            then(built)

    key = f"driver_heads_health {app_labels!r} {pyproject!r} {then.__name__ if then else ''}"
    templates.replace(repo, key, build)
    return repo


def _install(repo, app_labels, pyproject: str | None) -> None:
    repo.init_env(commit=False)
    if pyproject is not None:
        repo.write("pyproject.toml", pyproject)
    repo.add_revision(APP, None, message="create users", branch_labels=app_labels)
    repo.add_revision(REP, None, message="create report views", branch_labels=["rep"])
    repo.run("install", check=True)
    repo.commit("base with revgraph")
    repo.branch("feature")


def _on(repo, branch: str, rev_id: str, down, message: str) -> None:
    repo.checkout(branch)
    repo.add_revision(rev_id, down, message=message)
    repo.run("lock", check=True)
    repo.commit(f"{branch}: {message}")


def _driver_runs(repo, *git_args: str):
    """``git *git_args`` with trace2: (process, exit codes of the merge driver's runs)."""
    import json
    import uuid

    trace = repo.path.parent / f"trace-{uuid.uuid4().hex}.json"
    env = dict(os.environ if repo.env is None else repo.env, GIT_TRACE2_EVENT=str(trace))
    proc = subprocess.run(["git", *git_args], cwd=repo.path, env=env, capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()] if trace.exists() else []
    drivers = {e["child_id"] for e in events if e["event"] == "child_start" and "merge-driver" in " ".join(e["argv"])}
    return proc, [e["code"] for e in events if e["event"] == "child_exit" and e["child_id"] in drivers]


def _assert_stopped_at_lock(repo, proc, codes) -> None:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert codes == [1], codes
    conflicted = repo.git("diff", "--name-only", "--diff-filter=U").stdout.split()
    assert conflicted == [LOCK]
    text = repo.read(LOCK).decode()
    assert MAIN_NEW in text and FEATURE_NEW in text and "revgraph fix" in text


def _feature_on_app_and_main_joins_both(repo) -> None:
    _on(repo, "feature", FEATURE_NEW, APP, "add invoices")
    _on(repo, "main", MAIN_NEW, [APP, REP], "merge heads")


@pytest.mark.parametrize("how", ["merge main into feature", "merge feature into main", "rebase feature onto main"])
def test_a_merge_revision_on_main_and_a_revision_on_its_old_head_conflict(gitrepo, repo_templates, how):
    """QA repro 1b: main joins its two lines; the feature builds on the unlabelled one's old head."""
    repo = _installed(gitrepo, repo_templates, None, then=_feature_on_app_and_main_joins_both)
    assert parse_lock(repo.read(LOCK).decode()).heads == (MAIN_NEW,)  # main: one head, on rep

    if how == "merge main into feature":
        repo.checkout("feature")
        proc, codes = _driver_runs(repo, "merge", "--no-edit", "main")
    elif how == "merge feature into main":
        proc, codes = _driver_runs(repo, "merge", "--no-edit", "feature")
    else:
        repo.checkout("feature")
        proc, codes = _driver_runs(repo, "rebase", "main")

    _assert_stopped_at_lock(repo, proc, codes)


@pytest.mark.parametrize("app_labels", [None, ["app"]], ids=["unlabelled and rep", "app and rep"])
def test_a_merge_revision_over_rep_and_a_second_head_on_rep_conflict(gitrepo, repo_templates, app_labels):
    """QA repros 1 and 2: the feature's merge revision carries rep; main grows rep: two heads on rep."""
    repo = _installed(gitrepo, repo_templates, app_labels)
    _on(repo, "feature", FEATURE_NEW, [APP, REP], "merge heads")
    _on(repo, "main", MAIN_NEW, REP, "more report views")
    repo.checkout("feature")

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "main")

    _assert_stopped_at_lock(repo, proc, codes)


def test_allow_heads_lets_the_driver_merge_what_check_allows(gitrepo, repo_templates):
    repo = _installed(gitrepo, repo_templates, None, "[tool.revgraph]\nallow_heads = 3\n")
    _on(repo, "feature", FEATURE_NEW, APP, "add invoices")
    _on(repo, "main", MAIN_NEW, APP, "add orders")  # three heads: FEATURE_NEW, MAIN_NEW, REP

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0 and codes == [0], proc.stdout + proc.stderr + repr(codes)
    assert parse_lock(repo.read(LOCK).decode()).heads == tuple(sorted([FEATURE_NEW, MAIN_NEW, REP]))
    check = repo.run("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert repo.run("lock", "--check").returncode == 0


@pytest.mark.parametrize("table", ['ignore = ["RG101"]', 'select = ["RG2", "RG3"]', 'ignore = ["RG1"]'])
def test_rg101_turned_off_lets_the_driver_merge_what_check_passes(gitrepo, repo_templates, table):
    """The driver conflicts where check fails: with RG101 off (select/ignore), not on competing heads."""
    repo = _installed(gitrepo, repo_templates, None, f"[tool.revgraph]\n{table}\n")
    _on(repo, "feature", FEATURE_NEW, APP, "add invoices")
    _on(repo, "main", MAIN_NEW, APP, "add orders")

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0 and codes == [0], proc.stdout + proc.stderr + repr(codes)
    assert parse_lock(repo.read(LOCK).decode()).heads == tuple(sorted([FEATURE_NEW, MAIN_NEW, REP]))
    assert repo.run("check").returncode == 0


def test_other_rules_turned_off_leave_the_driver_as_strict_as_check(gitrepo, repo_templates):
    repo = _installed(gitrepo, repo_templates, None, '[tool.revgraph]\nignore = ["RG3", "RG4"]\n')
    _on(repo, "feature", FEATURE_NEW, APP, "add invoices")
    _on(repo, "main", MAIN_NEW, APP, "add orders")

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "feature")

    _assert_stopped_at_lock(repo, proc, codes)


# ---------------------------------------- RG103 and RG106 in the merged graph
def _assert_conflict_at_lock(repo, proc, codes) -> None:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert codes == [1], codes
    assert LOCK in repo.git("diff", "--name-only", "--diff-filter=U").stdout.split()
    assert "revgraph fix" in repo.read(LOCK).decode()


def _each_side_starts_newx(repo) -> None:
    for branch, rid, down in (("feature", FEATURE_NEW, APP), ("main", MAIN_NEW, REP)):
        repo.checkout(branch)
        repo.add_revision(rid, down, message=f"{branch} newx", branch_labels=["newx"])
        repo.run("lock", check=True)
        repo.commit(f"{branch}: newx")


@pytest.mark.parametrize("into", ["main into feature", "feature into main"])
def test_one_new_branch_label_declared_on_both_sides_conflicts(gitrepo, repo_templates, into):
    """QA5 repro 2: each side starts label ``newx`` on a different line: RG106, alembic refuses."""
    repo = _installed(gitrepo, repo_templates, ["app"], then=_each_side_starts_newx)
    if into == "main into feature":
        repo.checkout("feature")
    proc, codes = _driver_runs(repo, "merge", "--no-edit", "main" if into == "main into feature" else "feature")

    _assert_conflict_at_lock(repo, proc, codes)
    assert "RG106" in repo.run("check").stdout


def test_a_new_branch_label_equal_to_the_other_sides_new_id_conflicts(gitrepo, repo_templates):
    repo = _installed(gitrepo, repo_templates, ["app"])
    _on(repo, "main", MAIN_NEW, REP, "more report views")
    repo.checkout("feature")
    repo.add_revision(FEATURE_NEW, APP, message="label as id", branch_labels=[MAIN_NEW])
    repo.run("lock", check=True)
    repo.commit("feature: label")

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "main")

    _assert_conflict_at_lock(repo, proc, codes)


def _both_sides_add_dup(repo) -> None:
    _on(repo, "feature", "dddd0000dddd", APP, "feature dup")
    _on(repo, "main", "dddd0000dddd", REP, "main dup")


@pytest.mark.parametrize("into", ["main into feature", "feature into main"])
def test_one_revision_id_added_in_two_files_on_two_lines_conflicts(gitrepo, repo_templates, into):
    """QA5 repro 3: both sides add revision ``dup`` (different files, lines): RG103, a wrong lock."""
    repo = _installed(gitrepo, repo_templates, ["app"], then=_both_sides_add_dup)
    if into == "main into feature":
        repo.checkout("feature")
    proc, codes = _driver_runs(repo, "merge", "--no-edit", "main" if into == "main into feature" else "feature")

    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert codes == [1], codes
    assert "RG103" in repo.run("check").stdout


def test_a_renamed_revision_file_is_not_a_duplicate(gitrepo, repo_templates):
    """One side renames a landed revision's file while each adds on its own line: one file, a clean merge."""
    repo = _installed(gitrepo, repo_templates, ["app"])
    _on(repo, "feature", FEATURE_NEW, APP, "add invoices")
    repo.checkout("main")
    old = next(p for p in repo.git("ls-files", "migrations/versions").stdout.split() if APP in p)
    repo.git("mv", old, old.replace(".py", "_renamed.py"))
    repo.commit("main: rename")
    _on(repo, "main", MAIN_NEW, REP, "more report views")
    repo.checkout("feature")

    proc, codes = _driver_runs(repo, "merge", "--no-edit", "main")

    assert proc.returncode == 0 and codes == [0], proc.stdout + proc.stderr + repr(codes)
    assert parse_lock(repo.read(LOCK).decode()).heads == tuple(sorted([FEATURE_NEW, MAIN_NEW]))
    check = repo.run("check")
    assert check.returncode == 0, check.stdout + check.stderr
