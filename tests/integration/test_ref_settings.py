"""Each ref is read with its own alembic settings, as alembic run at that ref would read it.

Found by hand: main turned on ``recursive_version_locations`` and moved its old
migrations into ``versions/2024/``. On a branch from before that, read with
the branch's settings, ``diff main`` said those revisions were added here,
``heads --ref main`` missed main's head, and ``fix`` refused with a landed
revision "hanging off a new one". Each ref now brings its own alembic.ini (and
the pyproject.toml beside it); the answers are held against ``alembic heads``
run with main checked out.
"""

from __future__ import annotations

import json

import pytest

OLD = "a1a1a1a1a1a1"
MID = "b2b2b2b2b2b2"
FEATURE = "c3c3c3c3c3c3"
MORE = "d4d4d4d4d4d4"


def alembic_heads(repo, *args: str) -> list[str]:
    return sorted(line.split()[0] for line in repo.alembic(*args, "heads").stdout.splitlines() if line.strip())


def heads_json(repo, *args: str) -> dict[str, list[str]]:
    done = repo.run("heads", "--json", *args, check=True)
    assert "warning" not in done.stderr
    return {env["name"]: sorted(env["heads"]) for env in json.loads(done.stdout)["environments"]}


def one_revision_and_a_feature_branch(gitrepo) -> None:
    """OLD committed on main, and a branch ``feature`` there; stays on main."""
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.commit("history")
    gitrepo.branch("feature")


def reorganise(repo, *, driver: bool = False, refunds: bool = False):
    """OLD <- MID on main, a branch ``feature`` there; then main moves them into
    versions/2024/ with recursion on (adding MORE on MID there with ``refunds``), and
    feature adds FEATURE on MID. With ``driver``, the merge driver and lock files too."""
    repo.init_env(commit=False)
    old = repo.add_revision(OLD, None, message="create users")
    mid = repo.add_revision(MID, OLD, message="add orders")
    if driver:
        repo.run("install", check=0)
    repo.commit("history")
    repo.branch("feature")
    ini = repo.read("alembic.ini").decode()
    repo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n", 1))
    (repo.path / "migrations/versions/2024").mkdir()
    for path in (old, mid):
        repo.git("mv", path, path.replace("versions/", "versions/2024/"))
    if refunds:
        repo.add_revision(MORE, MID, message="add refunds", versions="migrations/versions/2024")
    if driver:
        repo.run("lock", check=0)
    repo.commit("main: old migrations into a year folder")
    repo.checkout("feature")
    repo.add_revision(FEATURE, MID, message="add invoices")
    if driver:
        repo.run("lock", check=0)
    repo.commit("feature: invoices")
    return repo


@pytest.fixture
def reorganised(gitrepo):
    """main moved its old revisions into versions/2024/ with recursion on; ends on feature (from before)."""
    return reorganise(gitrepo)


def test_a_base_that_reorganised_its_versions_folder_is_read_with_its_settings(reorganised):
    repo = reorganised
    assert repo.run("diff", "main", check=True).stdout.strip() == f"+ {FEATURE} added"
    assert heads_json(repo, "--ref", "main") == {"default": [MID]}
    fix = repo.run("fix", "--dry-run", check=True)
    assert "nothing to fix" in fix.stdout and "warning" not in fix.stderr
    check = repo.run("check", "--base", "main", check=True)
    assert "warning" not in check.stderr
    graph = repo.run("graph", "--ref", "main", check=True).stdout
    assert OLD in graph and MID in graph

    repo.checkout("main")
    assert alembic_heads(repo) == [MID]  # what heads --ref main said from feature


def test_version_locations_in_the_pyproject_beside_the_ini_count_too(gitrepo):
    one_revision_and_a_feature_branch(gitrepo)
    gitrepo.write("pyproject.toml", '[tool.alembic]\nversion_locations = ["%(here)s/migrations/versions", "%(here)s/more"]\n')
    gitrepo.add_revision(MORE, OLD, message="reports", versions="more")
    gitrepo.commit("main: a second versions folder")
    gitrepo.checkout("feature")
    assert heads_json(gitrepo, "--ref", "main") == {"default": [MORE]}
    assert heads_json(gitrepo) == {"default": [OLD]}  # the working tree: its own settings
    diff = gitrepo.run("diff", "main", check=True).stdout
    assert MORE in diff and OLD not in diff

    gitrepo.checkout("main")
    assert alembic_heads(gitrepo) == [MORE]


def test_a_change_in_one_section_of_a_shared_ini_moves_that_environment_only(gitrepo):
    from tests.integration.test_ini_sections import S1, two_environments

    two_environments(gitrepo)
    gitrepo.branch("feature")
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace(
        "script_location = %(here)s/analytics\n",
        "script_location = %(here)s/analytics\nrecursive_version_locations = true\n", 1,
    ))  # fmt: skip
    gitrepo.add_revision(MORE, S1, message="events by day", versions="analytics/versions/2025")
    gitrepo.commit("main: analytics revisions in year folders")
    gitrepo.checkout("feature")
    at_main = heads_json(gitrepo, "--ref", "main")
    assert at_main["analytics"] == [MORE] and heads_json(gitrepo)["analytics"] == [S1]
    assert gitrepo.run("--env", "default", "diff", "main", check=True).stdout.strip() == "no revision changes"

    gitrepo.checkout("main")
    assert at_main == {"default": alembic_heads(gitrepo), "analytics": alembic_heads(gitrepo, "-n", "analytics")}


def test_a_ref_whose_settings_cannot_be_read_is_read_with_these_and_said_so(gitrepo):
    one_revision_and_a_feature_branch(gitrepo)
    gitrepo.write("alembic.ini", "[alembic\nscript_location = nowhere\n")
    gitrepo.commit("main: a broken ini")
    gitrepo.checkout("feature")
    done = gitrepo.run("heads", "--ref", "main", check=True)
    assert done.stdout.split()[0] == OLD
    assert "warning: main's alembic settings cannot be used" in done.stderr
    assert "alembic.ini: cannot parse" in done.stderr
    diff = gitrepo.run("diff", "main", check=True)
    assert diff.stdout.strip() == "no revision changes" and "cannot be used" in diff.stderr


def test_settings_that_do_not_move_revisions_change_nothing(gitrepo):
    one_revision_and_a_feature_branch(gitrepo)
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\n# the database\nsqlalchemy.url = sqlite://\n", 1))
    gitrepo.commit("main: a url and a comment")
    gitrepo.checkout("feature")
    done = gitrepo.run("diff", "main", check=True)
    assert done.stdout.strip() == "no revision changes" and "warning:" not in done.stderr


def test_the_cached_check_follows_a_change_of_base_settings_alone(reorganised):
    """main's first commit moves its files where its settings do not look; the second
    turns recursion on and changes no versions folder tree: the cached answer must move."""
    repo = reorganised
    repo.checkout("main")
    ini = repo.read("alembic.ini").decode()
    repo.write("alembic.ini", ini.replace("recursive_version_locations = true\n", "", 1))
    repo.commit("main: recursion off (its revisions out of sight)")
    repo.checkout("feature")
    before = repo.run("check", "--base", "main", "--format", "json")
    assert before.stdout == repo.run("--no-cache", "check", "--base", "main", "--format", "json").stdout
    assert before.returncode != 0  # main lost its revisions from view: not this branch's answer

    repo.checkout("main")
    repo.write("alembic.ini", ini)
    repo.commit("main: recursion back on")
    repo.checkout("feature")
    after = repo.run("check", "--base", "main", "--format", "json")
    fresh = repo.run("--no-cache", "check", "--base", "main", "--format", "json")
    assert (after.returncode, after.stdout) == (fresh.returncode, fresh.stdout)
    assert after.returncode == 0


def test_the_predicted_merge_is_read_with_the_merged_settings(reorganised):
    """main also added a revision on MID, in its year folder: the conflict a merge would
    make is predicted from the branch before the merge, and fixed after it."""
    repo = reorganised
    repo.checkout("main")
    repo.add_revision(MORE, MID, message="add refunds", versions="migrations/versions/2024")
    repo.commit("main: refunds")
    repo.checkout("feature")

    check = repo.run("check", "--base", "main", "--format", "json", check=1)
    codes = {finding["code"]: finding for finding in json.loads(check.stdout)["findings"]}
    assert set(codes) == {"RG102"} and set(codes["RG102"]["revisions"]) >= {FEATURE, MORE}

    repo.git("merge", "-q", "--no-edit", "main")
    fixed = repo.run("fix", check=True)
    assert f"moved {FEATURE}: {MID} -> {MORE}" in fixed.stdout
    assert alembic_heads(repo) == [FEATURE]


def test_the_merge_driver_reads_each_side_with_its_own_settings(gitrepo):
    """Both sides add a revision on MID while main moves its files into a year folder:
    git must stop on the lock file, not merge it as if main had no revisions."""
    repo = reorganise(gitrepo, driver=True, refunds=True)

    merge = repo.merge("main", expect_conflict=True)
    assert "revgraph fix" in merge.stderr + merge.stdout
    assert repo.conflicted() == ["migrations/revgraph.lock"]
    fixed = repo.run("fix", check=True)
    assert f"moved {FEATURE}: {MID} -> {MORE}" in fixed.stdout
    repo.git("commit", "-q", "--no-edit")
    assert alembic_heads(repo) == [FEATURE]


def test_audit_reads_each_commit_with_its_own_settings(reorganised):
    """From the branch made before the reorganisation, main's history lost nothing."""
    repo = reorganised
    audit = json.loads(repo.run("audit", "--ref", "main", "--format", "json", check=True).stdout)
    (env,) = audit["environments"]
    assert env["windows"] == [] and env["deleted"] == [] and env["edited"] == [] and env["repointed"] == []


def test_audit_sees_history_from_before_a_versions_folder_was_renamed(gitrepo):
    """main renamed migrations/ to db/: its two heads from before the rename (a window
    closed by a merge revision) are in the audit run on main today."""
    repo = gitrepo
    repo.init_env(commit=False)
    repo.add_revision(OLD, None, message="create users")
    repo.commit("history")
    repo.add_revision(MID, OLD, message="add orders")
    repo.add_revision(FEATURE, OLD, message="add invoices")
    repo.commit("two heads")
    repo.add_revision(MORE, (MID, FEATURE), message="merge heads")
    repo.commit("merged")
    repo.git("mv", "migrations", "db")
    ini = repo.read("alembic.ini").decode()
    repo.write("alembic.ini", ini.replace("%(here)s/migrations", "%(here)s/db"))
    repo.commit("migrations/ is db/ now")

    audit = json.loads(repo.run("audit", "--format", "json", "--ref", "main", check=True).stdout)
    (env,) = audit["environments"]
    (window,) = env["windows"]
    assert sorted(window["opened"]["heads"]) == sorted([MID, FEATURE]) and window["closed_by"] == MORE
    assert [merge["revision"] for merge in env["merges"]] == [MORE]
    assert env["deleted"] == [] and env["edited"] == [] and env["repointed"] == []


def test_a_ref_s_unusable_settings_are_named_as_that_ref_holds_them(gitrepo):
    """QA: `heads --ref broken` blamed the working tree's alembic.ini (by its absolute
    path, twice), which is fine; the broken file is the ref's copy, `broken:alembic.ini`."""
    one_revision_and_a_feature_branch(gitrepo)
    gitrepo.git("checkout", "-q", "-b", "broken")
    gitrepo.write("alembic.ini", "[alembic\nscript_location = nowhere\n")
    gitrepo.commit("broken: a broken ini")
    gitrepo.checkout("feature")

    for args in (("heads", "--ref", "broken"), ("check", "--base", "broken")):
        done = gitrepo.run(*args, check=True)
        assert "warning: broken's alembic settings cannot be used (broken:alembic.ini: cannot parse" in done.stderr, (
            done.stderr
        )
        assert "/alembic.ini" not in done.stderr, done.stderr  # no working-tree path, not even configparser's


def test_a_ref_whose_settings_point_outside_the_repository_is_read_with_these(gitrepo):
    one_revision_and_a_feature_branch(gitrepo)
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace("%(here)s/migrations", "/var/elsewhere/migrations"))
    gitrepo.commit("main: migrations outside")
    gitrepo.checkout("feature")
    done = gitrepo.run("heads", "--ref", "main", check=True)
    assert done.stdout.split()[0] == OLD and "outside" in done.stderr and "cannot be used" in done.stderr


def test_an_alembic_ini_kept_out_of_git_reads_every_ref_with_this_one_silently(gitrepo):
    """Teams that keep credentials in alembic.ini .gitignore it: no ref has one."""
    gitrepo.write(".gitignore", "alembic.ini\n")
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.commit("history")
    assert "alembic.ini" not in gitrepo.ls_files("main")
    gitrepo.branch("feature")
    gitrepo.add_revision(MID, OLD, message="add orders")
    gitrepo.commit("main: orders")
    gitrepo.checkout("feature")
    heads = gitrepo.run("heads", "--ref", "main", check=True)
    assert heads.stdout.split()[0] == MID and heads.stderr == ""
    diff = gitrepo.run("diff", "main", check=True)
    assert diff.stdout.strip() == f"- {MID} removed" and diff.stderr == ""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_warns_on_every_run_when_base_settings_cannot_be_used(gitrepo, fmt):
    one_revision_and_a_feature_branch(gitrepo)
    gitrepo.write("alembic.ini", "[alembic\nscript_location = nowhere\n")
    gitrepo.commit("main: a broken ini")
    gitrepo.checkout("feature")
    runs = [gitrepo.run("check", "--base", "main", "--format", fmt, check=True) for _ in range(3)]
    for run in runs:  # a cached answer would say nothing: the report is not stored
        assert run.stderr.count("warning: main's alembic settings cannot be used") == 1, run.stderr
    assert runs[0].stdout == runs[2].stdout
    doctor = gitrepo.run("doctor", "--base", "main", check=True)
    assert "main's alembic settings cannot be used" in doctor.stderr
    graph = gitrepo.run("graph", check=True)  # the picture of the merge into main
    assert graph.stderr.count("warning: main's alembic settings cannot be used") == 1, graph.stderr


def test_the_index_is_read_with_the_staged_settings(gitrepo):
    """`diff HEAD :` (what the next commit changes) after staging a move into a year folder
    with recursion on, while the working tree's alembic.ini has an unstaged edit undoing it."""
    one_revision_and_a_feature_branch(gitrepo)
    old = gitrepo.ls_files("main")[-1]
    ini = gitrepo.read("alembic.ini").decode()
    recursive = ini.replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n", 1)
    gitrepo.write("alembic.ini", recursive)
    (gitrepo.path / "migrations/versions/2024").mkdir()
    gitrepo.git("mv", old, old.replace("versions/", "versions/2024/"))
    gitrepo.git("add", "alembic.ini")
    gitrepo.write("alembic.ini", ini)  # unstaged: the working tree reads flat again
    assert heads_json(gitrepo, "--ref", ":") == {"default": [OLD]}
    assert gitrepo.run("diff", "HEAD", ":", check=True).stdout.strip() == "no revision changes"
    # The working tree: its own (flat) settings, which miss the year folder, and say so.
    done = gitrepo.run("heads", "--json", check=True)
    assert json.loads(done.stdout)["environments"][0]["heads"] == []
    assert "holds no revision file, but its subfolders 2024/ do" in done.stderr


def test_an_environment_described_in_tool_revgraph_is_read_with_that_ref_s_entry(gitrepo):
    """[tool.revgraph.environments.app] script_location = ...: main adds recursion there
    and moves its revisions into a year folder."""
    gitrepo.init_env(commit=False)
    gitrepo.remove("alembic.ini")
    entry = '[tool.revgraph.environments.app]\nscript_location = "migrations"\n'
    gitrepo.write("pyproject.toml", entry)
    old = gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.commit("history")
    gitrepo.branch("feature")
    gitrepo.write("pyproject.toml", entry + "recursive_version_locations = true\n")
    (gitrepo.path / "migrations/versions/2024").mkdir()
    gitrepo.git("mv", old, old.replace("versions/", "versions/2024/"))
    gitrepo.add_revision(MID, OLD, message="add orders", versions="migrations/versions/2024")
    gitrepo.commit("main: year folders")
    gitrepo.checkout("feature")
    assert heads_json(gitrepo, "--ref", "main") == {"app": [MID]}
    assert gitrepo.run("diff", "main", check=True).stdout.strip() == f"- {MID} removed"


@pytest.mark.parametrize("stage", [False, True], ids=["unstaged", "staged-moves"])
def test_the_predicted_merge_takes_the_working_tree_s_uncommitted_settings(gitrepo, stage):
    """Found probing: a branch turns recursion on and moves its files into versions/2024/,
    not committed yet. The predicted merge took the moved files but HEAD's alembic.ini
    (recursion off): `check` said main's revision and the new one hang off a revision
    "which does not exist after merging" (RG104), where alembic after the merge finds
    all of them. The merge is now of HEAD with every uncommitted edit, the config too."""
    repo = gitrepo
    repo.init_env(commit=False)
    old = repo.add_revision(OLD, None, message="create users")
    repo.commit("history")
    repo.branch("feature")
    repo.add_revision(MORE, OLD, message="add refunds")
    repo.commit("main: refunds")
    repo.checkout("feature")
    ini = repo.read("alembic.ini").decode()
    repo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n", 1))
    (repo.path / "migrations/versions/2024").mkdir()
    if stage:
        repo.git("mv", old, old.replace("versions/", "versions/2024/"))
    else:
        (repo.path / old).rename(repo.path / old.replace("versions/", "versions/2024/"))
    repo.add_revision(FEATURE, OLD, message="add invoices")

    for _ in range(2):  # the second may be answered from the result cache
        check = repo.run("check", "--base", "main", "--format", "json", check=1)
        codes = {finding["code"] for finding in json.loads(check.stdout)["findings"]}
        assert codes == {"RG102"}, check.stdout  # the two new heads, nothing missing

    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "feature: year folders and invoices")
    repo.git("merge", "-q", "--no-edit", "main")
    assert alembic_heads(repo) == sorted([FEATURE, MORE])  # what the prediction said
