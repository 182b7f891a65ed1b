"""`revgraph fix` refusals end to end, once ``api.fix`` hands the planner base's snapshot
and the ``--onto`` ref's name: the CLI names what is really wrong, and its hint works."""

from __future__ import annotations

from tests.integration.test_fix_messages import (
    FEATURE,
    LANDED,
    feature_not_merged,
    landed_repointed_on_feature,
    versions,
)


def test_fix_names_the_repointed_landed_revision_and_its_hint_mends_it(gitrepo):
    paths = landed_repointed_on_feature(gitrepo)
    assert gitrepo.run("heads", "--ref", "main", check=True).stdout.count("(head)") == 1
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--base", "main", check=1)

    assert "itself has several heads" not in proc.stderr, proc.stderr
    assert f"landed revision {LANDED} was re-pointed" in proc.stderr and "(RG201)" in proc.stderr
    restore = f"git restore --source=main --staged --worktree -- {paths[LANDED]}"
    assert f"hint: restore it from main: `{restore}`, then run `revgraph fix`" in proc.stderr
    assert versions(gitrepo) == before and gitrepo.status() == ""
    gitrepo.git(*restore.split()[1:])
    gitrepo.run("fix", "--base", "main", check=True)
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0


def test_fix_onto_a_ref_not_merged_yet_names_it_and_its_hint_works(gitrepo):
    paths = feature_not_merged(gitrepo)
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--onto", "main", "--base", "main", check=1)

    assert f"this branch does not have main's newer revisions yet ({LANDED})" in proc.stderr, proc.stderr
    assert "hint: run `git merge main` (or `git rebase main`), then `revgraph fix --onto main`" in proc.stderr
    assert versions(gitrepo) == before and gitrepo.status() == ""
    gitrepo.merge("main")
    gitrepo.run("fix", "--onto", "main", check=True)
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths[FEATURE])
