"""`revgraph fix --onto REF` where REF has several heads on the line refuses and writes nothing.

Found by exploratory QA: branch f1 has two heads, b1 and d (both off a1);
branch f2 adds b2 on b1 and has merged f1. `fix --onto f1` kept one of f1's
heads (d) as the target, re-pointed b2 off b1 -- a landed revision, the one b2
was written against -- onto d, wrote the file, and then exited 1 because b1
was still a head. `fix --base f1` on the same tree refuses ("f1 itself has
several heads"); `--onto f1` now refuses the same way, naming the ref.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import GitRepo

A1 = "aaaa00000001"
B1 = "bbbb00000001"
B2 = "bbbb00000002"
D = "dddd00000001"


def every_file(repo: GitRepo) -> dict[str, bytes]:
    """Every file of the working tree outside .git, with its bytes."""
    return {
        str(p.relative_to(repo.path)): p.read_bytes()
        for p in sorted(repo.path.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo.path).parts
    }


def f1_with_two_heads_merged_into_f2(repo: GitRepo) -> None:
    repo.init_env(commit=False)
    repo.add_revision(A1, None, message="a")
    repo.commit("a")
    repo.branch("f1")
    repo.checkout("f1")
    repo.add_revision(B1, A1, message="b1")
    repo.commit("b1")
    repo.branch("f2")
    repo.checkout("f2")
    repo.add_revision(B2, B1, message="b2")
    repo.commit("b2")
    repo.checkout("f1")
    repo.add_revision(D, A1, message="d")  # f1 now has two heads: b1 and d
    repo.commit("d")
    repo.checkout("f2")
    repo.merge("f1")


def test_fix_onto_a_ref_with_two_heads_refuses_and_writes_nothing(gitrepo: GitRepo):
    f1_with_two_heads_merged_into_f2(gitrepo)
    before = every_file(gitrepo)

    for args in (("fix", "--onto", "f1", "--dry-run"), ("fix", "--onto", "f1")):
        proc = gitrepo.run(*args, check=1)

        assert "Traceback" not in proc.stderr, proc.stderr
        assert f"f1 (--onto) itself has several heads: {B1}, {D}" in proc.stderr, proc.stderr
        assert "join them with a merge revision on f1" in proc.stderr, proc.stderr
        assert "--onto a ref with one head" in proc.stderr, proc.stderr
        assert "moved" not in proc.stdout and "wrote" not in proc.stdout, proc.stdout
        assert every_file(gitrepo) == before
        assert gitrepo.status() == ""
    assert f"down_revision: Union[str, Sequence[str], None] = '{B1}'" in gitrepo.read(
        next(p for p in before if Path(p).name.startswith(B2))
    ).decode()


def test_fix_base_on_the_same_tree_refuses_alike(gitrepo: GitRepo):
    f1_with_two_heads_merged_into_f2(gitrepo)
    before = every_file(gitrepo)

    proc = gitrepo.run("fix", "--base", "f1", check=1)

    assert f"f1 itself has several heads: {B1}, {D}" in proc.stderr, proc.stderr
    assert every_file(gitrepo) == before and gitrepo.status() == ""


def test_fix_onto_a_ref_without_the_landed_head_a_revision_stands_on_refuses_and_writes_nothing(gitrepo: GitRepo):
    # main: a1 <- x (landed). staging: a1 <- h, without x. The feature adds f on
    # x and merges staging. --onto staging has one head, h; moving f off x onto
    # h would run f without x and leave x a head: before, that was written and
    # fix then failed on the heads that remained.
    x, h, f = "c0c0c0c0c0c0", "e0e0e0e0e0e0", "f0f0f0f0f0f0"
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(A1, None, message="a")
    gitrepo.commit("a")
    gitrepo.branch("staging")
    gitrepo.add_revision(x, A1, message="x")
    gitrepo.commit("x")
    gitrepo.branch("feature")
    gitrepo.checkout("staging")
    gitrepo.add_revision(h, A1, message="h")
    gitrepo.commit("h")
    gitrepo.checkout("feature")
    gitrepo.add_revision(f, x, message="f")
    gitrepo.commit("f")
    gitrepo.merge("staging")
    before = every_file(gitrepo)

    proc = gitrepo.run("fix", "--onto", "staging", check=1)

    assert f"new revision {f} would move off landed revision {x} onto {h}" in proc.stderr, proc.stderr
    assert f"pass --onto a ref that contains {x}" in proc.stderr, proc.stderr
    assert "moved" not in proc.stdout and "wrote" not in proc.stdout, proc.stdout
    assert every_file(gitrepo) == before and gitrepo.status() == ""
