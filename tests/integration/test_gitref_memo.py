"""GitRepo remembers only answers that cannot change: an object id's peel, two commits' merge base, a blob.

A check resolves the same commits many times (each one a git process); a
branch name or HEAD must still be asked every time, since they move.
"""

from __future__ import annotations

import pytest

from revgraph.sources.gitref import GitRepo


def _counting(git: GitRepo) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    real = git.git

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    git.git = counted  # type: ignore[method-assign]
    return calls


def test_an_object_ids_peel_is_asked_once_and_a_branch_every_time(gitrepo):
    gitrepo.write("a.txt", "one\n")
    first = gitrepo.commit("one")
    with GitRepo(gitrepo.path) as git:
        calls = _counting(git)
        assert git.resolve(first) == first and git.resolve(first) == first
        tree = git.resolve_tree(first)
        assert git.resolve_tree(first) == tree
        assert len(calls) == 2
        assert git.resolve("main") == first
        gitrepo.write("a.txt", "two\n")
        second = gitrepo.commit("two")
        assert git.resolve("main") == second  # a moved branch is seen at once
        assert git.head_sha() == second
        assert git.resolve(first) == first


def test_a_missing_object_is_not_remembered_as_missing(gitrepo):
    import subprocess

    gitrepo.write("a.txt", "one\n")
    gitrepo.commit("one")
    blob = gitrepo.git("hash-object", "-w", "a.txt").stdout.strip()
    tree_bytes = b"100644 b.txt\0" + bytes.fromhex(blob)  # a tree no commit holds yet

    def hash_tree(*write: str) -> str:
        argv = ["git", "hash-object", "-t", "tree", *write, "--stdin"]
        done = subprocess.run(argv, cwd=gitrepo.path, input=tree_bytes, capture_output=True, check=True)
        return done.stdout.decode().strip()

    with GitRepo(gitrepo.path) as git:
        tree = hash_tree()
        assert git._rev_parse(f"{tree}^{{tree}}") is None
        assert hash_tree("-w") == tree
        assert git._rev_parse(f"{tree}^{{tree}}") == tree


def test_merge_base_of_two_commits_is_asked_once(gitrepo):
    gitrepo.write("a.txt", "one\n")
    base = gitrepo.commit("one")
    gitrepo.branch("side")
    gitrepo.write("a.txt", "two\n")
    ours = gitrepo.commit("two")
    gitrepo.checkout("side")
    gitrepo.write("b.txt", "three\n")
    theirs = gitrepo.commit("three")
    with GitRepo(gitrepo.path) as git:
        calls = _counting(git)
        assert git.merge_base(ours, theirs) == base
        assert git.merge_base(ours, theirs) == base
        assert [c[0] for c in calls].count("merge-base") == 1
        assert git.merge_base("main", "side") == base  # names resolve each time, same pair
        assert [c[0] for c in calls].count("merge-base") == 1


def _blob(gitrepo, name: str, text: str) -> str:
    gitrepo.write(name, text)
    return gitrepo.git("hash-object", "-w", name).stdout.strip()


def _answers(blobs) -> list[tuple]:
    return [(b.request, b.oid, b.size, b.data, b.status) for b in blobs]


def test_a_blob_read_by_id_is_answered_again_without_git(gitrepo, monkeypatch):
    a, b, c = (_blob(gitrepo, f"{n}.txt", n * 3 + "\n") for n in "abc")
    with GitRepo(gitrepo.path) as git:
        first = _answers(git.blobs([a, b]))
        assert [x[3] for x in first] == [b"aaa\n", b"bbb\n"]
        with monkeypatch.context() as patched:
            patched.setattr(GitRepo, "_catfile", lambda self: pytest.fail("cat-file was asked again"))
            assert _answers(git.blobs([b, a, b])) == [first[1], first[0], first[1]]
        # A request the memo lacks goes to git; the answers stay in request order.
        mixed = _answers(git.blobs([a, c, "0" * 40, b]))
    with GitRepo(gitrepo.path) as fresh:
        assert mixed == _answers(fresh.blobs([a, c, "0" * 40, b]))
    assert mixed[1][3] == b"ccc\n" and mixed[2][4] == "missing"


def test_the_blob_memo_keeps_only_plain_answers_within_its_room(gitrepo):
    a, b = _blob(gitrepo, "a.txt", "a" * 100), _blob(gitrepo, "b.txt", "b" * 100)
    gitrepo.commit("two files")
    with GitRepo(gitrepo.path) as git:
        git._memo_room = 150  # room for one of them
        list(git.blobs([a, b, "HEAD:a.txt", "0" * 40]))
        assert set(git._memo) == {a}  # no second blob past the room, no path request, no missing id
        list(git.blobs([b], limit=10))  # too large for this read: not an answer for a full one
        assert set(git._memo) == {a}
        assert [x.data for x in git.blobs([b])] == [b"b" * 100]


def test_a_pinned_name_means_one_commit_until_the_pin_ends(gitrepo):
    gitrepo.write("a.txt", "one\n")
    first = gitrepo.commit("one")
    with GitRepo(gitrepo.path) as git:
        calls = _counting(git)
        with git.pinned():
            assert git.head_sha() == first and git.resolve("HEAD") == first
            assert not git.ref_exists("side")
            gitrepo.write("a.txt", "two\n")
            second = gitrepo.commit("two")
            gitrepo.branch("side")
            with git.pinned():  # nested: the outer pin's answers
                assert git.head_sha() == first
            assert git.resolve("HEAD") == first and not git.ref_exists("side")
        assert len(calls) == 2  # HEAD once, side once
        assert git.head_sha() == second and git.ref_exists("side")  # unpinned: asked afresh


def test_a_branch_named_like_an_object_id_is_still_asked_every_time(gitrepo):
    gitrepo.write("a.txt", "one\n")
    first = gitrepo.commit("one")
    name = "a" * 40 + "-side"  # starts like an object id, but moves
    gitrepo.git("branch", name)
    with GitRepo(gitrepo.path) as git:
        assert git.resolve(name) == first
        gitrepo.write("a.txt", "two\n")
        second = gitrepo.commit("two")
        gitrepo.git("branch", "-f", name, second)
        assert git.resolve(name) == second
