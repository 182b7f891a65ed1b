"""`doctor --fix` before base is merged: it names the step that comes first (RG102)."""

from __future__ import annotations

from tests.integration.test_fix_messages import LANDED, feature_not_merged, versions


def test_doctor_fix_before_merging_base_says_to_merge_first(gitrepo):
    paths = feature_not_merged(gitrepo)
    before = versions(gitrepo)

    proc = gitrepo.run("doctor", "--fix", "--base", "main", check=1)

    first = "nothing for --fix to do yet: run `git merge main` first, then `revgraph fix`"
    assert proc.stdout.startswith(first + "\n"), proc.stdout
    assert "fix: git merge main; revgraph fix" in proc.stdout  # RG102, as before
    assert versions(gitrepo) == before and gitrepo.status() == ""
    gitrepo.merge("main")
    gitrepo.run("doctor", "--fix", "--base", "main", check=True)
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths["cccc00000001"])


def test_doctor_fix_on_a_healthy_graph_still_says_nothing_to_do(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("aaaa00000001", None, message="base")
    gitrepo.commit("base")

    proc = gitrepo.run("doctor", "--fix", check=True)

    assert proc.stdout.startswith("nothing for --fix to do\n"), proc.stdout


def test_doctor_fix_repairs_a_docstring_while_rg102_waits_for_the_merge(gitrepo):
    from tests.integration.test_fix_messages import A1, A2, FEATURE

    paths = feature_not_merged(gitrepo)
    path = paths[FEATURE]
    original = gitrepo.read(path)
    assert original.count(f"Revises: {A2}".encode()) == 1
    gitrepo.write(path, original.replace(f"Revises: {A2}".encode(), f"Revises: {A1}".encode()))

    proc = gitrepo.run("doctor", "--fix", "--base", "main", check=1)  # RG102 is still there

    assert gitrepo.read(path) == original  # RG402 repaired
    assert "still to do: run `git merge main`, then `revgraph fix`" in proc.stdout
    assert "RG102" in proc.stdout and "RG402" not in proc.stdout
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
