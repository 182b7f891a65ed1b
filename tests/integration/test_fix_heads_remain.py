"""`revgraph fix` exits 1 while competing heads remain, as `check` would find them.

Found by exploratory QA: a second base (``down_revision = None``) added on a
feature is left alone by the rebase (rightly: there is nothing it may hang
it on), yet `fix` said "nothing to fix by rebasing" and exited 0 while
`check` failed with RG101, so ``revgraph fix && git commit`` committed a
graph that breaks ``alembic upgrade head``. Now fix decides "heads remain"
with RG101 itself on the graph its plan leaves: exit 1 with the heads, why
they were left, and the command that joins them; what it could fix is still
written; ``--dry-run`` exits as the real run would.

Also here: a rebase that moves a chain a feature had joined to an older
landed head with a merge revision drops that merge's now-redundant parent
(RG302), so fix leaves no warning behind.
"""

from __future__ import annotations

import json

import pytest

from tests.support import GitRepo

ROOT = "a0a0a0a0a0a0"  # main's first revision
LANDED = "a1a1a1a1a1a1"  # main's head, landed after the feature branched
FEATURE = "f1f1f1f1f1f1"  # the feature's chain, on ROOT: the rebase moves it
SECOND_BASE = "b0b0b0b0b0b0"  # the feature's new base: the rebase leaves it alone
MERGE = "d1d1d1d1d1d1"


def git_status(repo: GitRepo) -> str:
    return repo.git("status", "--porcelain").stdout


def down_line(repo: GitRepo, path: str) -> str:
    text = repo.read(path).decode()
    return next(line for line in text.splitlines() if line.startswith("down_revision"))


@pytest.fixture
def feature(gitrepo: GitRepo) -> GitRepo:
    """main: ROOT; branch feature, checked out, with nothing of its own yet."""
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="root")
    gitrepo.commit("root")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    return gitrepo


def test_a_second_base_left_alone_makes_fix_fail_naming_the_heads_and_the_merge(feature):
    feature.add_revision(FEATURE, ROOT, message="feature")
    second = feature.add_revision(SECOND_BASE, None, message="second base")
    feature.commit("feature")
    check = feature.run("check", "--format", "json")
    assert check.returncode == 1  # RG101: what fix must not hide
    [rg101] = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "RG101"]
    assert rg101["fix"] == "revgraph fix --strategy merge"  # the rebase has nothing to re-point

    for args in (("fix", "--dry-run"), ("fix",)):
        result = feature.run(*args)

        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        error = result.stderr
        assert "2 heads remain" in error and FEATURE in error and SECOND_BASE in error, error
        assert f"{second}:" in error  # path:line of each head, as check names them
        assert f"not moved: {SECOND_BASE}: a new base" in error, error
        assert "`revgraph fix --strategy merge`" in error, error
        assert "nothing to fix" not in result.stdout, result.stdout
        assert git_status(feature) == ""  # nothing to write, nothing written

    joined = feature.run("fix", "--strategy", "merge", "--rev-id", MERGE)
    assert joined.returncode == 0, joined
    assert feature.run("check").returncode == 0


def test_heads_left_where_no_template_renders_a_merge_get_why_not_the_merge_command(feature):
    # mlflow's wheel ships no script.py.mako: `fix --strategy merge` exits 2 there,
    # so neither fix's summary nor its hint may send anyone to it.
    feature.remove("migrations/script.py.mako")
    feature.add_revision(FEATURE, ROOT, message="feature")
    feature.add_revision(SECOND_BASE, None, message="second base")
    feature.commit("feature, and no template")

    result = feature.run("fix")

    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert "nothing for --strategy rebase to change" in result.stdout, result.stdout
    assert "--strategy merge` joins the heads that remain" not in result.stdout
    assert "2 heads remain" in result.stderr and f"not moved: {SECOND_BASE}: a new base" in result.stderr
    assert (
        "hint: no migrations/script.py.mako to render a merge revision from: add alembic's template "
        "there (`alembic init` writes one), then `revgraph fix --strategy merge` joins the heads"
    ) in result.stderr, result.stderr
    assert "joins them with a merge revision" not in result.stderr
    assert git_status(feature) == ""


def test_what_the_rebase_could_fix_is_written_and_fix_still_fails_on_what_remains(feature):
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    moved = feature.add_revision(FEATURE, ROOT, message="feature")
    feature.add_revision(SECOND_BASE, None, message="second base")
    feature.commit("feature")
    feature.git("merge", "-q", "--no-edit", "main")

    dry = feature.run("fix", "--dry-run")
    assert dry.returncode == 1, dry
    assert "would remain after this fix" in dry.stderr, dry.stderr
    assert git_status(feature) == ""

    real = feature.run("fix")

    assert real.returncode == 1, real
    assert f"moved {FEATURE}: {ROOT} -> {LANDED}" in real.stdout
    assert "remain after this fix (the files above are written)" in real.stderr, real.stderr
    assert SECOND_BASE in real.stderr and "--strategy merge" in real.stderr
    assert down_line(feature, moved).endswith(f"'{LANDED}'")  # the work is kept
    check = feature.run("check")
    assert check.returncode == 1 and "RG101" in check.stdout and "RG102" not in check.stdout


def test_a_new_branch_label_is_not_sent_to_a_merge_that_refuses_it(feature):
    feature.add_revision(FEATURE, ROOT, message="feature")
    feature.add_revision(SECOND_BASE, ROOT, message="reports line", branch_labels=("reports",))
    feature.commit("feature")
    assert feature.run("check").returncode == 1
    # The merge strategy keeps labelled lines apart: it would refuse.
    assert feature.run("fix", "--strategy", "merge", "--dry-run").returncode == 1

    result = feature.run("fix")

    assert result.returncode == 1, result
    assert f"not moved: {SECOND_BASE}: starts branch label(s) reports" in result.stderr
    assert "--strategy merge" not in result.stderr and "allow_heads" in result.stderr, result.stderr


def test_fix_passes_where_check_passes_allow_heads_included(feature):
    feature.write("pyproject.toml", "[tool.revgraph]\nallow_heads = 2\n")
    feature.add_revision(FEATURE, ROOT, message="feature")
    feature.add_revision(SECOND_BASE, None, message="second base")
    feature.commit("feature")
    assert feature.run("check").returncode == 0

    result = feature.run("fix")

    assert result.returncode == 0, result
    assert "nothing to fix" in result.stdout


# ------------------------------------------------------- redundant parents
def _feature_merged_main_with_a_merge_revision(feature: GitRepo) -> dict[str, str]:
    """main: ROOT <- LANDED; feature: ROOT <- FEATURE, and MERGE = (LANDED, FEATURE)."""
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    paths = {FEATURE: feature.add_revision(FEATURE, ROOT, message="feature")}
    feature.commit("feature")
    feature.git("merge", "-q", "--no-edit", "main")
    assert feature.run("fix", "--strategy", "merge", "--rev-id", MERGE).returncode == 0
    feature.git("add", "-A")
    feature.commit("merge heads")
    paths[MERGE] = next(p for p in feature.ls_files() if MERGE in p)
    return paths


def test_a_rebase_under_a_feature_merge_revision_drops_the_parent_it_made_redundant(feature):
    paths = _feature_merged_main_with_a_merge_revision(feature)
    newer = "a2a2a2a2a2a2"
    feature.checkout("main")
    feature.add_revision(newer, LANDED, message="landed later")
    feature.commit("landed later")
    feature.checkout("feature")
    feature.git("merge", "-q", "--no-edit", "main")
    assert "RG101" in feature.run("check").stdout

    result = feature.run("fix")

    assert result.returncode == 0, result
    assert f"drop parent {LANDED} of merge revision {MERGE}" in result.stdout, result.stdout
    assert down_line(feature, paths[FEATURE]).endswith(f"'{newer}'")
    assert down_line(feature, paths[MERGE]).endswith(f"('{FEATURE}',)")
    check = feature.run("check", "--strict")
    assert check.returncode == 0, check.stdout  # no RG302 left behind
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(feature.path / "alembic.ini")))
    assert script.get_heads() == [MERGE]
    assert {rev.revision for rev in script.iterate_revisions(MERGE, "base")} == {
        MERGE, FEATURE, newer, LANDED, ROOT,
    }


def test_the_merge_strategy_joins_one_environment_beside_another_with_nothing_to_join(gitrepo):
    gitrepo.init_env(commit=False)
    (gitrepo.path / "alembic.ini").unlink()
    for name in ("env.py", "script.py.mako"):
        gitrepo.write(f"two/{name}", gitrepo.read(f"migrations/{name}"))
    gitrepo.write(
        "pyproject.toml",
        '[tool.revgraph.environments.one]\nscript_location = "migrations"\n'
        '[tool.revgraph.environments.two]\nscript_location = "two"\n',
    )
    gitrepo.add_revision("aaaa00000001", None, message="one's root")
    gitrepo.add_revision("bbbb00000002", None, message="two's root", versions="two/versions")
    gitrepo.commit("two environments")
    refused = gitrepo.run("fix", "--strategy", "merge")  # nothing to join anywhere: refused
    assert refused.returncode == 1 and "nothing to merge" in refused.stderr, refused
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.add_revision("cccc00000003", "bbbb00000002", message="u1", versions="two/versions")
    gitrepo.add_revision("dddd00000004", "bbbb00000002", message="u2", versions="two/versions")
    gitrepo.commit("two heads in two")

    done = gitrepo.run("fix", "--strategy", "merge", "--base", "main")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "one: nothing to merge" in done.stdout + done.stderr
    assert len(list((gitrepo.path / "two" / "versions").glob("*.py"))) == 4  # the merge revision
    assert len(list((gitrepo.path / "migrations" / "versions").glob("*.py"))) == 1
    check = gitrepo.run("check", "--base", "main")
    assert check.returncode == 0, check.stdout


# ------------------------------------------- heads sharing a label, merged
def test_the_merge_strategy_joins_heads_that_share_a_label_as_rg101_groups_them(gitrepo):
    """A feature's merge revision of two labelled lines ({app, rep}) beside a
    head main added on one of them ({rep}): alembic's ``rep@head`` fails, so
    RG101 makes them compete; the merge strategy must join them (it grouped
    heads by their exact label sets and refused: "only one head per line")."""
    gitrepo.init_env()
    gitrepo.add_revision("a0a0a0a0a0a0", None, message="app", branch_labels=("app",))
    gitrepo.add_revision("e0e0e0e0e0e0", None, message="rep", branch_labels=("rep",))
    gitrepo.commit("two lines")
    gitrepo.branch("feature")
    gitrepo.add_revision("e1e1e1e1e1e1", "e0e0e0e0e0e0", message="rep step")
    gitrepo.commit("rep step")
    gitrepo.checkout("feature")
    gitrepo.add_revision("c1c1c1c1c1c1", ("a0a0a0a0a0a0", "e0e0e0e0e0e0"), message="join lines")
    gitrepo.commit("join the lines")
    gitrepo.git("merge", "-q", "--no-edit", "main")
    check = gitrepo.run("check", "--base", "main", "--format", "json")
    [rg101] = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "RG101"]
    assert set(rg101["revisions"]) == {"c1c1c1c1c1c1", "e1e1e1e1e1e1"}

    assert rg101["fix"] == "revgraph fix --strategy merge"  # the rebase refuses a merge of two lines
    result = gitrepo.run("fix", "--strategy", "merge", "--rev-id", MERGE, "--base", "main")

    assert result.returncode == 0, result
    merge_file = next(p for p in gitrepo.git("ls-files", "-o", "--exclude-standard").stdout.split() if MERGE in p)
    assert "('c1c1c1c1c1c1', 'e1e1e1e1e1e1')" in down_line(gitrepo, merge_file)
    assert gitrepo.run("check", "--base", "main").returncode == 0
    assert gitrepo.alembic("heads").stdout.split()[0] == MERGE


def test_an_unlabelled_new_base_beside_one_labelled_line_is_joined_by_the_merge_strategy(gitrepo):
    """RG101 has an unlabelled head compete with a labelled line when base has no
    unlabelled head; the merge strategy said "only one head per line" and refused."""
    gitrepo.init_env()
    gitrepo.add_revision("a0a0a0a0a0a0", None, message="app", branch_labels=("app",))
    gitrepo.commit("labelled base")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.add_revision("b0b0b0b0b0b0", None, message="another base")
    gitrepo.commit("new base")
    assert gitrepo.run("check", "--base", "main").returncode == 1

    result = gitrepo.run("fix", "--strategy", "merge", "--rev-id", MERGE, "--base", "main")

    assert result.returncode == 0, result
    assert gitrepo.run("check", "--base", "main").returncode == 0
    assert gitrepo.alembic("heads").stdout.split()[0] == MERGE


def test_an_unlabelled_head_beside_several_labelled_lines_is_refused_with_what_to_do(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("c0c0c0c0c0c0", None, message="root")
    gitrepo.add_revision("a0a0a0a0a0a0", "c0c0c0c0c0c0", message="app", branch_labels=("app",))
    gitrepo.add_revision("e0e0e0e0e0e0", "c0c0c0c0c0c0", message="rep", branch_labels=("rep",))
    gitrepo.commit("two lines on a root")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.add_revision("f0f0f0f0f0f0", "c0c0c0c0c0c0", message="on the root")
    gitrepo.commit("feature on the root")
    check = gitrepo.run("check", "--base", "main", "--format", "json")
    [rg101] = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "RG101"]
    assert rg101["fix"] is None and "continues no branch line" in rg101["message"], rg101

    for args in (("fix", "--base", "main", "--strategy", "merge"), ("fix", "--base", "main")):
        result = gitrepo.run(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result
        assert "head of the line it" in result.stderr, result.stderr
    assert git_status(gitrepo) == ""


# ------------------------------------------------- what neither strategy fixes
@pytest.mark.parametrize("strategy", ["rebase", "merge"])
def test_a_new_revision_whose_depends_on_names_nothing_is_refused(feature, strategy):
    """QA: the rebase re-pointed and exited 0 while check failed RG104 (alembic: KeyError)."""
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    feature.add_revision(FEATURE, ROOT, message="feature", depends_on="dddddddddddd")
    feature.commit("feature")
    feature.git("merge", "-q", "--no-edit", "main")

    result = feature.run("fix", "--strategy", strategy)

    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    assert "names depends_on 'dddddddddddd', which does not exist: fix RG104 first" in result.stderr
    assert git_status(feature) == ""


@pytest.mark.parametrize("strategy", ["rebase", "merge"])
def test_either_strategy_refuses_while_a_landed_revision_is_re_pointed(feature, strategy):
    """QA: the merge wrote a merge revision and exited 0 while check still failed
    RG201; the rebase re-pointed the new revision onto the edited history."""
    feature.checkout("main")
    landed = feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    feature.git("merge", "-q", "--no-edit", "main")
    feature.add_revision(FEATURE, ROOT, message="feature")
    feature.add_revision(SECOND_BASE, ROOT, message="parallel")
    feature.write(landed, feature.read(landed).decode().replace(f"= '{ROOT}'", f"= '{FEATURE}'"))
    feature.commit("re-point a landed revision")

    result = feature.run("fix", "--strategy", strategy)

    assert result.returncode == 1, result
    assert f"landed revision {LANDED} was re-pointed" in result.stderr, result.stderr
    cannot = "A merge revision" if strategy == "merge" else "A rebase never moves a landed revision, so it"
    assert f"{cannot} cannot undo this" in result.stderr
    assert f"git restore --source=main --staged --worktree -- {landed}" in result.stderr
    assert git_status(feature) == ""


def test_the_rebase_refuses_on_a_branch_that_deleted_a_landed_revision(feature):
    """QA: with one head left, fix said "nothing to fix" and exited 0, while alembic
    could not load the graph (its child names it) and check failed RG202."""
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    feature.git("merge", "-q", "--no-edit", "main")
    [root] = feature.git("ls-files", f"*{ROOT}*").stdout.split()
    feature.git("rm", "-q", root)
    feature.commit("delete main's first revision")  # LANDED is still the one head

    result = feature.run("fix")

    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    assert f"landed revision {ROOT} is missing here though {LANDED} names it" in result.stderr
    assert f"git restore --source=main --staged --worktree -- {root}" in result.stderr
    assert git_status(feature) == ""


def test_a_project_whose_strategy_is_merge_can_run_fix_twice(feature):
    """QA: with strategy = "merge" in [tool.revgraph], a second fix on the healthy
    graph exited 1 ("nothing to merge"): `revgraph fix && git commit` broke."""
    feature.write("pyproject.toml", '[tool.revgraph]\nstrategy = "merge"\n')
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    feature.commit("landed")
    feature.checkout("feature")
    feature.add_revision(FEATURE, ROOT, message="feature")
    feature.commit("feature")
    feature.git("merge", "-q", "--no-edit", "main")
    assert feature.run("fix").returncode == 0
    feature.git("add", "-A")
    feature.commit("merge revision")

    for args in (("fix", "--dry-run"), ("fix",)):
        again = feature.run(*args)
        assert again.returncode == 0 and "nothing to fix" in again.stdout, again
    assert git_status(feature) == ""
    # Asked for on the command line, a merge of one head is still refused.
    assert feature.run("fix", "--strategy", "merge").returncode == 1


def test_each_remaining_head_is_named_with_its_own_file(feature):
    # Found on airflow's real history: fix paired the heads with the files in
    # another order (RG101 puts a new head's file first, for annotations), so
    # a landed head was shown beside the new revision's path.
    [root] = [p for p in feature.git("ls-files").stdout.split() if ROOT in p]
    second = feature.add_revision(SECOND_BASE, None, message="second base")
    feature.commit("second base")

    for args in (("fix", "--dry-run"), ("fix",)):
        result = feature.run(*args)
        assert result.returncode == 1, result
        assert f"{ROOT} ({root}:" in result.stderr, result.stderr
        assert f"{SECOND_BASE} ({second}:" in result.stderr, result.stderr

    # check's JSON pairs them the same way: revisions[i] is at locations[i].
    [rg101] = [f for f in json.loads(feature.run("check", "--format", "json").stdout)["findings"]
               if f["code"] == "RG101"]
    paths = {ROOT: root, SECOND_BASE: second}
    assert [loc["path"] for loc in rg101["locations"]] == [paths[rid] for rid in rg101["revisions"]]
    assert rg101["locations"][0]["path"] == second  # the branch's own file first, as annotations point


# ------------------------------------------------------- in the middle of a merge
LOCK = "migrations/revgraph.lock"


def _write_lock(repo: GitRepo) -> None:
    done = repo.run("lock")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mid_merge_a_fix_that_leaves_heads_keeps_the_lock_files_conflict_until_they_are_joined(feature):
    # main lands a revision on ROOT; the feature adds a second base, which the rebase
    # cannot move. Writing (and staging) a lock file with both heads would settle
    # git's conflict, and `git merge --continue` would commit the fork.
    feature.checkout("main")
    _write_lock(feature)
    feature.commit("lock")
    feature.checkout("feature")
    feature.git("merge", "-q", "main")
    feature.add_revision(SECOND_BASE, None, message="second base")
    _write_lock(feature)
    feature.commit("feature: a second base")
    feature.checkout("main")
    feature.add_revision(LANDED, ROOT, message="landed")
    _write_lock(feature)
    feature.commit("main: landed")
    feature.checkout("feature")
    feature.merge("main", expect_conflict=True)
    assert feature.conflicted() == [LOCK]
    before = feature.read(LOCK)

    done = feature.run("fix")

    assert done.returncode == 1, done.stdout + done.stderr
    assert feature.conflicted() == [LOCK] and feature.read(LOCK) == before  # untouched, still in conflict
    assert f"{LOCK} is left as it is: recording competing heads would settle git's conflict" in done.stdout
    assert f"next: once one head per line is left (the fix that joins them rewrites {LOCK}), git merge --continue" in done.stdout
    assert "`revgraph fix --strategy merge` joins them" in done.stderr, done.stderr
    assert feature.git("merge", "--continue", check=None).returncode != 0  # git still stops

    joined = feature.run("fix", "--strategy", "merge")

    assert joined.returncode == 0, joined.stdout + joined.stderr
    assert feature.conflicted() == [] and LOCK in joined.stdout
    assert feature.git("merge", "--continue", check=None).returncode == 0
    assert feature.run("check").returncode == 0  # RG204 (the second base) is a warning
