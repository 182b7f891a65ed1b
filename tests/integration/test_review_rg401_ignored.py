"""RG401's fix for a stale lock file defers to RG101/RG201/RG202 only when those findings are
reported: a code the project ignores (``--ignore``, ``[tool.revgraph] ignore``, or an ignore
comment in the revision) is a decision to keep that graph, and ``revgraph lock`` records it."""

from __future__ import annotations

from tests.integration.test_check_rules import (  # noqa: F401 - the fixture
    FEAT4, FEAT5, MAIN2, MAIN3, ROOT, landed_line, locked_landed_line, repoint, revgraph,
)


def test_heads_kept_on_purpose_get_revgraph_lock(gitrepo, revgraph):  # noqa: F811
    locked_landed_line(gitrepo, revgraph)
    gitrepo.add_revision(FEAT4, MAIN3, message="add orders total")
    gitrepo.add_revision(FEAT5, MAIN3, message="add orders state")
    gitrepo.commit("two heads, on purpose")
    run = revgraph(gitrepo, "check", "--base", "main", "--ignore", "RG101,RG102", "--format", "json")
    assert run.findings("RG101") == []
    (lock,) = run.findings("RG401")
    assert lock["fix"] == "revgraph lock", lock
    assert "RG101" not in lock["message"], lock["message"]


def test_a_repoint_silenced_by_its_comment_gets_revgraph_lock(gitrepo, revgraph):  # noqa: F811
    paths = locked_landed_line(gitrepo, revgraph)
    repoint(gitrepo, paths[MAIN3], MAIN2, ROOT)
    text = gitrepo.read(paths[MAIN3]).decode()
    gitrepo.write(paths[MAIN3], text + "\n# revgraph: ignore[RG201, RG101]\n")
    gitrepo.commit("repoint a landed revision, on purpose")
    run = revgraph(gitrepo, "check", "--base", "main", "--ignore", "RG102", "--format", "json")
    assert run.findings("RG201") == [], run.out
    (lock,) = run.findings("RG401")
    assert "RG201" not in lock["message"], lock["message"]


def test_doctor_fix_keeps_heads_the_project_ignores_rg101_for(gitrepo, revgraph):  # noqa: F811
    # Through RG401's fix, `doctor --fix` ran RG101's rebase on the heads kept on purpose.
    paths = landed_line(gitrepo)
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nignore = ["RG101", "RG102"]\n')
    assert revgraph(gitrepo, "lock").code == 0
    gitrepo.commit("lock file, and two heads are fine here")
    four = gitrepo.add_revision(FEAT4, MAIN3, message="add orders total")
    five = gitrepo.add_revision(FEAT5, MAIN3, message="add orders state")
    gitrepo.commit("two heads, on purpose")
    before = {p: gitrepo.read(p) for p in (four, five, *paths.values())}
    revgraph(gitrepo, "doctor", "--base", "main", "--fix")
    assert {p: gitrepo.read(p) for p in before} == before  # no revision re-pointed
    after = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert after.findings("RG401") == [], after.out  # the lock file records both heads


def test_a_conflicted_lock_over_heads_kept_on_purpose_gets_revgraph_lock(gitrepo, revgraph):  # noqa: F811
    # The conflicted-lock branch took RG101's fix even with RG101 ignored.
    locked_landed_line(gitrepo, revgraph)
    gitrepo.add_revision(FEAT4, MAIN3, message="add orders total")
    gitrepo.add_revision(FEAT5, MAIN3, message="add orders state")
    lock = "migrations/revgraph.lock"
    text = gitrepo.read(lock).decode()
    gitrepo.write(lock, f"<<<<<<< ours\n{text}=======\n{text}>>>>>>> theirs\n")
    gitrepo.commit("two heads, on purpose, and a lock file left conflicted")
    run = revgraph(gitrepo, "check", "--base", "main", "--ignore", "RG101,RG102", "--format", "json")
    (found,) = run.findings("RG401")
    assert "conflict markers" in found["message"], found["message"]
    assert found["fix"] == "revgraph lock", found
    assert "revgraph fix" not in found["message"], found["message"]
