"""`revgraph fix` never moves what landed upstream, whatever the local branches say.

A clone without ``origin/HEAD`` resolves the base as the local ``main``, which
may be behind ``origin/main``: a colleague's pushed (maybe deployed)
revision is then only on the remote copy. And in a rebase the commit being
built on stays while the replayed ones move (PRODUCT §5) -- also when the
branch being rebased is the base itself (``git pull --rebase`` on main,
whose local ref still holds the unpushed commits until the rebase ends).
Found by exploratory QA: each of these moved the pushed revision.
"""

from __future__ import annotations

import pytest

from tests.support import GitRepo

PUSHED = "a1a1a1a1a1a1"  # a colleague's revision, on origin/main
LOCAL = "f1f1f1f1f1f1"  # this clone's revision, not pushed
ROOT = "a0a0a0a0a0a0"
# Ours is the older one: stacking new revisions by Create Date alone would
# put the pushed revision on top of ours, moving it.
OLDER, NEWER = "2024-01-01 09:00:00.000000", "2024-06-01 09:00:00.000000"


def _down_of(repo: GitRepo, path: str) -> bytes:
    return next(line for line in repo.read(path).splitlines() if line.startswith(b"down_revision"))


@pytest.fixture
def clones(make_gitrepo, tmp_path):
    """origin (main: ROOT), a colleague's clone and ours; ours has no origin/HEAD."""
    origin = make_gitrepo("origin")
    origin.init_env()
    origin.add_revision(ROOT, None, message="root")
    origin.write("notes.txt", "shared line\n")
    origin.commit("root")
    origin.git("config", "receive.denyCurrentBranch", "ignore")
    colleague = origin.clone(tmp_path / "colleague")
    ours = origin.clone(tmp_path / "ours")
    ours.git("remote", "set-head", "origin", "--delete")
    pushed = colleague.add_revision(PUSHED, ROOT, message="pushed by a colleague", create_date=NEWER)
    colleague.write("notes.txt", "colleague's line\n")  # makes the rebase or merge stop
    colleague.commit("colleague")
    colleague.git("push", "-q", "origin", "main")
    local = ours.add_revision(LOCAL, ROOT, message="ours, not pushed", create_date=OLDER)
    ours.write("notes.txt", "our line\n")
    return ours, pushed, local


def _resolve_notes_and_fix(repo: GitRepo) -> str:
    repo.write("notes.txt", "both lines\n")
    repo.git("add", "notes.txt")
    return repo.run("fix", check=True).stdout


@pytest.mark.parametrize("origin_head", [False, True], ids=["base-main", "base-origin-main"])
def test_pull_rebase_on_main_moves_the_unpushed_revision_not_the_pushed_one(clones, origin_head):
    # With origin/HEAD, base is origin/main itself, which has no remote copy of its
    # own. QA: fix took that for "main has none" and counted main's tip before the
    # rebase (the unpushed revision) as landed, then refused: "the revisions that
    # must not move ... have several heads".
    ours, pushed, local = clones
    if origin_head:
        ours.git("remote", "set-head", "origin", "main")
    ours.commit("ours")
    ours.git("pull", "-q", "--rebase", "origin", "main", check=None)  # stops on notes.txt
    out = _resolve_notes_and_fix(ours)
    assert f"moved {LOCAL}" in out and f"moved {PUSHED}" not in out, out
    assert _down_of(ours, pushed).endswith(f"'{ROOT}'".encode())
    assert _down_of(ours, local).endswith(f"'{PUSHED}'".encode())


@pytest.mark.parametrize("how", ["rebase", "merge"])
def test_bringing_in_origin_main_on_a_feature_keeps_the_pushed_revision(clones, how):
    ours, pushed, local = clones
    ours.git("checkout", "-q", "-b", "feature")
    ours.commit("feature")
    ours.git("fetch", "-q", "origin")
    ours.git(how, "origin/main", check=None)  # stops on notes.txt; local main is behind
    out = _resolve_notes_and_fix(ours)
    assert f"moved {LOCAL}" in out and f"moved {PUSHED}" not in out, out
    assert _down_of(ours, pushed).endswith(f"'{ROOT}'".encode())


def test_rebasing_onto_another_shared_branch_moves_the_replayed_revision(make_gitrepo):
    repo = make_gitrepo("repo")
    repo.init_env()
    repo.add_revision(ROOT, None, message="root")
    repo.write("notes.txt", "shared line\n")
    repo.commit("root")
    repo.branch("develop")
    repo.branch("feature")
    repo.checkout("feature")
    repo.add_revision(LOCAL, ROOT, message="feature, the older date", create_date=OLDER)
    repo.write("notes.txt", "feature line\n")
    repo.commit("feature")
    repo.checkout("develop")
    upstream = repo.add_revision(PUSHED, ROOT, message="develop, the newer date", create_date=NEWER)
    repo.write("notes.txt", "develop line\n")
    repo.commit("develop")
    repo.checkout("feature")
    repo.git("rebase", "develop", check=None)  # stops on notes.txt
    out = _resolve_notes_and_fix(repo)
    assert f"moved {LOCAL}" in out and f"moved {PUSHED}" not in out, out
    assert _down_of(repo, upstream).endswith(f"'{ROOT}'".encode())


def test_pull_merge_on_main_refuses_with_a_hint_that_leads_somewhere(clones):
    # QA: `git pull` (a merge) on main over an unpushed revision: fix refused
    # with "a landed revision differs from origin/main: restore it", which is
    # false (nothing differs; ours is simply not pushed). The hint now names
    # the merge revision and the rebase, and the merge revision it names works.
    ours, pushed, local = clones
    ours.commit("ours")
    ours.git("pull", "-q", "--no-rebase", "origin", "main", check=None)  # stops on notes.txt
    ours.write("notes.txt", "both lines\n")
    ours.git("add", "notes.txt")

    refused = ours.run("fix", "--base", "origin/main", check=1)

    assert "differs" not in refused.stderr and "restore" not in refused.stderr, refused.stderr
    assert f"{LOCAL} counts as landed here but is not on origin/main" in refused.stderr
    assert "`revgraph fix --strategy merge`" in refused.stderr and "git pull --rebase" in refused.stderr
    ours.run("fix", "--base", "origin/main", "--strategy", "merge", check=True)
    assert ours.run("check", "--base", "origin/main").returncode == 0


FEATURE = "fe0000000001"


def _main_ahead_and_a_feature(make_gitrepo, tmp_path):
    """origin: main at ROOT, feature adding FEATURE (the older Create Date: by it alone,
    main's own would go on top); ours: a clone whose main adds LOCAL, not pushed.
    Returns (origin, ours, LOCAL's path, FEATURE's path)."""
    origin = make_gitrepo("origin")
    origin.init_env()
    origin.add_revision(ROOT, None, message="root")
    origin.commit("root")
    origin.git("config", "receive.denyCurrentBranch", "ignore")
    origin.git("checkout", "-q", "-b", "feature")
    feature = origin.add_revision(FEATURE, ROOT, message="the feature's", create_date=OLDER)
    origin.commit("feature")
    origin.checkout("main")
    ours = origin.clone(tmp_path / "ours")
    own = ours.add_revision(LOCAL, ROOT, message="main's own, not pushed", create_date=NEWER)
    ours.commit("main's own")
    return origin, ours, own, feature


SHAPES = ["merge in progress", "merge committed", "then a commit", "octopus with origin/main", "then a pull merge",
          "then a merge without revisions"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_feature_merged_into_main_moves_not_mains_own_unpushed_revision(make_gitrepo, tmp_path, shape):
    # A tester: on main (origin/HEAD -> origin/main), an unpushed revision of main's
    # own, then `git merge origin/feature`: during the merge fix moved the feature's
    # revision; once the merge was committed, the same tree moved main's own, by
    # Create Date alone. A reviewer: also with a commit after the merge, an octopus
    # merge naming origin/main, and a `git pull` merge after it.
    origin, ours, own, feature = _main_ahead_and_a_feature(make_gitrepo, tmp_path)
    if shape in ("octopus with origin/main", "then a pull merge"):
        origin.write("docs.txt", "a colleague's doc\n")
        origin.commit("docs on origin")
        ours.git("fetch", "-q", "origin")
    if shape == "octopus with origin/main":
        ours.git("merge", "-q", "--no-edit", "origin/main", "origin/feature")
    else:
        ours.git("merge", "-q", "--no-ff", *(["--no-commit"] if shape == "merge in progress" else []),
                 "--no-edit", "origin/feature")  # fmt: skip
    if shape == "then a commit":
        ours.write("notes.txt", "after the merge\n")
        ours.commit("one more")
    elif shape == "then a pull merge":
        ours.git("pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    elif shape == "then a merge without revisions":  # (a reviewer: its first parent holds both)
        ours.git("checkout", "-q", "-b", "docs", "HEAD~1")
        ours.write("docs.txt", "docs\n")
        ours.commit("docs")
        ours.checkout("main")
        ours.git("merge", "-q", "--no-ff", "--no-edit", "docs")

    out = ours.run("fix", check=True).stdout

    assert f"moved {FEATURE}" in out and f"moved {LOCAL}" not in out, out
    assert _down_of(ours, own).endswith(f"'{ROOT}'".encode())
    assert _down_of(ours, feature).endswith(f"'{LOCAL}'".encode())


def test_a_committed_pull_merge_on_main_still_moves_the_unpushed_revision(clones):
    # ``git pull`` merging origin/main into main: its second side has landed; the
    # unpushed revision is the one to move, merge committed or not.
    ours, pushed, local = clones
    ours.commit("ours")
    ours.git("pull", "-q", "--no-rebase", "origin", "main", check=None)  # stops on notes.txt
    ours.write("notes.txt", "both lines\n")
    ours.commit("merge origin/main")

    out = ours.run("fix", "--base", "origin/main", check=True).stdout

    assert f"moved {LOCAL}" in out and f"moved {PUSHED}" not in out, out
    assert _down_of(ours, local).endswith(f"'{PUSHED}'".encode())


def test_a_pull_bringing_a_pushed_revision_after_a_feature_merge_moves_the_unpushed_ones(make_gitrepo, tmp_path):
    # A reviewer: main's own unpushed revision kept as landed beside a revision the pull
    # brought from origin: "several heads must not move", a refusal. What has landed on
    # origin wins; main's own, not pushed, moves.
    origin, ours, _, _ = _main_ahead_and_a_feature(make_gitrepo, tmp_path)
    ours.git("merge", "-q", "--no-ff", "--no-edit", "origin/feature")
    pushed = origin.add_revision(PUSHED, ROOT, message="pushed by a colleague")
    origin.commit("pushed")
    ours.git("pull", "-q", "--no-rebase", "--no-edit", "origin", "main")

    out = ours.run("fix", check=True).stdout

    assert f"moved {PUSHED}" not in out and f"moved {LOCAL}" in out, out
    assert _down_of(ours, pushed).endswith(f"'{ROOT}'".encode())
    assert ours.run("check").returncode == 0
