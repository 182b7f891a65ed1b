"""A versions folder reached through a symlink that git holds (mode 120000).

git keeps a folder symlink as a blob whose content is the link's target, and
``git ls-tree`` of a path through it lists nothing: a ref must be read where
the link leads, inside that ref's own tree, exactly as the working tree is read
(the OS follows the link). Layouts: the versions folder itself is the link
(``migrations/versions -> ../shared/versions``), or a folder on the way is
(``migrations -> shared/migrations``); the plain layout is the yardstick.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.support.gitrepo import GitRepo

LAYOUTS = ("plain", "versions-link", "parent-link")
A, B, C = "aaaa00000001", "bbbb00000002", "cccc00000003"
LOCK = "migrations/revgraph.lock"  # the lock file's default place: the environment it belongs to


def _build(layout: str):
    def build(repo: GitRepo) -> None:
        repo.init_env(commit=False)
        if layout == "versions-link":
            os.rmdir(repo.path / "migrations" / "versions")
            (repo.path / "shared" / "versions").mkdir(parents=True)
            os.symlink("../shared/versions", repo.path / "migrations" / "versions")
        elif layout == "parent-link":
            (repo.path / "shared").mkdir()
            os.rename(repo.path / "migrations", repo.path / "shared" / "migrations")
            os.symlink("shared/migrations", repo.path / "migrations")
        repo.add_revision(A, None, message="a")
        repo.commit("environment and a")
        repo.branch("feature")
        repo.add_revision(B, A, message="b on main")
        repo.commit("b")
        repo.checkout("feature")
        repo.add_revision(C, A, message="c on feature")
        repo.commit("c")

    return build


def _repo(make_gitrepo, layout: str) -> GitRepo:
    repo = make_gitrepo(layout)
    repo.build_once(f"symlinked-versions-{layout}", _build(layout))
    return repo


def _codes(done) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr
    return sorted(f["code"] for f in json.loads(done.stdout)["findings"])


def _heads(done) -> list[str]:
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    [env] = json.loads(done.stdout)["environments"]
    return env["heads"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_check_reads_base_through_a_symlinked_folder_as_through_a_plain_one(make_gitrepo, layout):
    repo = _repo(make_gitrepo, layout)
    if layout == "versions-link":
        assert _heads(repo.run("heads", "--ref", "main", "--json")) == [B]
    # main's b and feature's c both hang off a: the predicted merge has two heads.
    done = repo.run("check", "--base", "main", "--format", "json", check=1)
    assert _codes(done) == ["RG102"]


def test_audit_and_fix_follow_a_linked_parent_folder(make_gitrepo):
    repo = _repo(make_gitrepo, "parent-link")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "main")  # b and c merge cleanly: two heads
    [env] = json.loads(repo.run("audit", "--ref", "HEAD", "--format", "json", check=0).stdout)["environments"]
    assert [w["opened"]["heads"] for w in env["windows"]] == [[B, C]]
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "main")
    assert _codes(repo.run("check", "--base", "main", "--format", "json", check=1)) == ["RG101"]
    # The merge revision is planned in migrations/versions, which git cannot add
    # ("beyond a symbolic link"): it is staged where it really is.
    done = repo.run("fix", "--strategy", "merge", "--base", "main", check=0)
    assert "Traceback" not in done.stderr, done.stderr
    staged = repo.git("diff", "--cached", "--name-only", "--diff-filter=A").stdout.split()
    assert [p for p in staged if p.startswith("shared/migrations/versions/")] != [], staged
    unstaged = [line for line in repo.status().splitlines() if line[1] != " "]
    assert unstaged == [], unstaged


def test_no_cached_result_stands_for_a_linked_folder(make_gitrepo):
    from revgraph import api, resultcache

    repo = _repo(make_gitrepo, "versions-link")

    def probe():
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            return resultcache.probe(ws, base="main", select=(), ignore=())

    # git status of migrations/versions, a link, says nothing of the files where it
    # leads, and its tree at a ref is the link's blob, whatever the folder holds:
    # no key would move with them.
    assert probe() is None
    # The working tree plain again, base still linked.
    os.unlink(repo.path / "migrations" / "versions")
    shutil.copytree(repo.path / "shared" / "versions", repo.path / "migrations" / "versions")
    assert probe() is None


@pytest.mark.parametrize("layout", ("versions-link", "parent-link"))
def test_merge_driver_hands_a_linked_folder_to_the_full_reader(make_gitrepo, layout):
    from revgraph.gitops import driver
    from revgraph.gitops.union import UNDECIDED

    repo = _repo(make_gitrepo, layout)
    main = repo.rev_parse("main")
    # The fast path reads tree objects: a link's blob is no folder of revisions.
    assert driver.fast_decision(LOCK, main, cwd=repo.path).outcome == UNDECIDED
    assert driver._union_entries(LOCK, main, cwd=repo.path) is None  # b and c: two heads, a conflict


def test_a_link_leaving_the_repository_or_looping_is_a_clear_error(make_gitrepo):
    repo = _repo(make_gitrepo, "versions-link")
    for branch, target in (("escape", "../../outside"), ("loop", "../loop")):
        repo.git("checkout", "-q", "-b", branch, "feature")
        os.unlink(repo.path / "migrations" / "versions")
        os.symlink(target, repo.path / "migrations" / "versions")
        if branch == "loop":
            os.symlink("migrations/versions", repo.path / "loop")  # and back again
        repo.commit(f"a link that does not lead to a folder: {branch}")
    # Left on branch loop: the working tree's own looping link does not stop a read of a ref.
    for args, why in (
        (("heads", "--ref", "escape"), "reading escape: the versions folder migrations/versions goes through "
                                       "symlink migrations/versions -> ../../outside, which leads outside the repository"),
        (("heads", "--ref", "loop"), "reading loop: the versions folder migrations/versions goes through "
                                     "symlink migrations/versions -> ../loop, and the symlinks loop"),
    ):
        done = repo.run(*args, check=2)
        assert "Traceback" not in done.stderr and why in done.stderr, done.stderr


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_index_is_read_through_a_staged_folder_link_as_a_ref_is(make_gitrepo, layout):
    """`--ref :` (the index) follows the link the index holds, as `--ref HEAD` follows HEAD's:
    the staged revision counts, the unstaged one does not."""
    repo = _repo(make_gitrepo, layout)
    assert _heads(repo.run("heads", "--ref", ":", "--json")) == [C]
    repo.add_revision("dddd00000004", C, message="d staged")
    repo.git("add", "-A")  # git stages it where the link leads
    repo.add_revision("eeee00000005", "dddd00000004", message="e only on disk")
    assert _heads(repo.run("heads", "--ref", ":", "--json")) == ["dddd00000004"]
    assert _heads(repo.run("heads", "--json")) == ["eeee00000005"]
    # A link staged to lead out of the repository is named, as a ref's is.
    if layout == "versions-link":
        os.unlink(repo.path / "migrations" / "versions")
        os.symlink("../../outside", repo.path / "migrations" / "versions")
        repo.git("add", "--", "migrations/versions")
        done = repo.run("heads", "--ref", ":", check=2)
        assert "reading the index: the versions folder migrations/versions goes through symlink" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("layout", "code", "said"),
    (
        ("versions-link", 0, "versions folder migrations/versions does not exist: versions is a symbolic link "
                             "to ../shared/versions, which does not exist"),
        # The script folder itself is the link: alembic.ini's script_location is refused.
        ("parent-link", 2, "migrations is not a directory: migrations is a symbolic link to shared/migrations, "
                           "which does not exist"),
    ),
)  # fmt: skip
def test_a_folder_link_whose_target_went_missing_is_named(make_gitrepo, layout, code, said):
    """A link on the way to the versions folder whose target is gone (a folder moved
    aside, a checkout that lacks it): the message names the broken link and where it
    leads, not only "does not exist"."""
    repo = _repo(make_gitrepo, layout)
    os.rename(repo.path / "shared", repo.path / "aside")
    done = repo.run("heads", check=code)
    assert "Traceback" not in done.stderr and said in done.stderr, done.stderr
