"""What `revgraph fix` and the RG101/RG102 hints say when a rebase cannot help.

The refusals themselves are right (a landed revision never moves); these tests
hold their words to the truth, on real repositories: the landed revision a
branch re-pointed is named instead of "base has several heads", an `--onto`
ref not merged yet gets "merge it first", RG101 offers the merge strategy
when the landed revisions themselves fork, and the docs show RG102's fix as
the tool prints it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support import GitRepo

ROOT = Path(__file__).resolve().parents[2]
A1 = "aaaa00000001"
A2 = "aaaa00000002"
LANDED = "bbbb00000001"  # main's head
FEATURE = "cccc00000001"
VERSIONS = "migrations/versions"


# ------------------------------------------------------------------ helpers
def add(repo: GitRepo, rev_id: str, down) -> str:
    return repo.add_revision(rev_id, down, message=f"step {rev_id}")


def versions(repo: GitRepo) -> dict[str, bytes]:
    folder = repo.path / VERSIONS
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.py"))}


def main_with_landed_head(repo: GitRepo) -> dict[str, str]:
    """main: A1 <- A2 <- LANDED, committed; returns the paths by id."""
    repo.init_env(commit=False)
    paths = {A1: add(repo, A1, None), A2: add(repo, A2, A1)}
    repo.commit("base")
    repo.branch("feature")
    paths[LANDED] = add(repo, LANDED, A2)
    repo.commit("main: landed head")
    return paths


def feature_not_merged(repo: GitRepo) -> dict[str, str]:
    """feature adds FEATURE on A2; main's LANDED is not merged in (RG102)."""
    paths = main_with_landed_head(repo)
    repo.checkout("feature")
    paths[FEATURE] = add(repo, FEATURE, A2)
    repo.commit("feature")
    return paths


def repoint(repo: GitRepo, path: str, old: str, new: str) -> None:
    data = repo.read(path)
    assert data.count(f"= {old!r}".encode()) == 1
    repo.write(path, data.replace(f"= {old!r}".encode(), f"= {new!r}".encode()))


def landed_repointed_on_feature(repo: GitRepo, *, commit: bool = True) -> dict[str, str]:
    """feature merged main, then re-pointed main's LANDED from A2 to A1 (RG201)."""
    paths = main_with_landed_head(repo)
    repo.checkout("feature")
    repo.merge("main")
    repoint(repo, paths[LANDED], A2, A1)
    if commit:
        repo.commit("feature: re-point a landed revision")
    return paths


def findings(repo: GitRepo, *args: str) -> dict[str, dict]:
    proc = repo.run("check", "--format", "json", *args, check=1)
    return {f["code"]: f for f in json.loads(proc.stdout)["findings"]}


def plan_in_process(repo: GitRepo, base: str, **kw):
    """The rebase planner on the real snapshots of the working tree and ``base``."""
    from revgraph import api
    from revgraph.fixes.rebase import plan_rebase

    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        env = ws.environments[0]
        head, landed = ws.snapshot(env), ws.snapshot(env, base)
        return plan_rebase(
            head.graph(),
            landed=frozenset(rev.id for rev in landed.revisions),
            sources={},
            base=landed,
            **kw,
        )


# ------------------------------------- 1. a landed revision re-pointed here
def test_refusal_names_the_repointed_landed_revision_not_a_fork_on_base(gitrepo):
    from revgraph.errors import FixRefused

    paths = main_with_landed_head(gitrepo)
    gitrepo.checkout("main")
    gitrepo.branch("edit")
    gitrepo.checkout("edit")
    repoint(gitrepo, paths[LANDED], A2, A1)
    gitrepo.commit("edit: re-point a landed revision")
    heads = gitrepo.run("heads", "--ref", "main", check=True).stdout
    assert heads.count("(head)") == 1, heads  # base itself does not fork

    with pytest.raises(FixRefused) as info:
        plan_in_process(gitrepo, "main")

    message, hint = str(info.value), info.value.hint or ""
    assert "itself has several heads" not in message
    assert f"landed revision {LANDED} was re-pointed" in message and "RG201" in message
    assert f"is {A1} here but {A2} in main" in message
    assert f"git restore --source=main --staged --worktree -- {paths[LANDED]}" in hint


def test_refusal_names_a_landed_revision_deleted_here(gitrepo):
    from revgraph.errors import FixRefused

    paths = main_with_landed_head(gitrepo)
    gitrepo.checkout("main")
    gitrepo.remove(paths[A2])  # LANDED still names it

    with pytest.raises(FixRefused) as info:
        plan_in_process(gitrepo, "main")

    assert "itself has several heads" not in str(info.value)
    assert f"landed revision {A2} is missing here though " in str(info.value)
    assert "(deleted here: RG202; or " in str(info.value)
    assert f"git restore --source=main --staged --worktree -- {paths[A2]}" in (info.value.hint or "")


def test_a_base_that_really_forks_is_still_named_as_such(gitrepo):
    from revgraph.errors import FixRefused

    main_with_landed_head(gitrepo)
    gitrepo.checkout("main")
    add(gitrepo, FEATURE, A2)
    gitrepo.commit("main: a second head")

    with pytest.raises(FixRefused, match=f"main itself has several heads: {LANDED}, {FEATURE}") as info:
        plan_in_process(gitrepo, "main")
    assert "--strategy merge" in (info.value.hint or "")


def test_fix_refusing_over_a_repointed_landed_revision_leaves_files_untouched(gitrepo):
    landed_repointed_on_feature(gitrepo)
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--base", "main", check=1)

    assert "Traceback" not in proc.stderr
    assert versions(gitrepo) == before and gitrepo.status() == ""


# -------------------------------------------- 2. --onto a ref not merged yet
def test_onto_a_ref_not_merged_yet_says_merge_it_first(gitrepo):
    feature_not_merged(gitrepo)
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--onto", "main", "--base", "main", check=1)

    assert "not a landed revision" not in proc.stderr and "landed refs" not in proc.stderr
    assert f"newer revisions yet ({LANDED})" in proc.stderr, proc.stderr
    assert "nothing to re-point onto until they are merged" in proc.stderr
    assert re.search(r"hint: run `git merge \S+` \(or `git rebase \S+`\), then `revgraph fix --onto", proc.stderr)
    assert versions(gitrepo) == before and gitrepo.status() == ""


def test_onto_hint_names_the_ref_to_merge(gitrepo):
    from revgraph.errors import FixRefused

    feature_not_merged(gitrepo)

    with pytest.raises(FixRefused) as info:
        plan_in_process(gitrepo, "main", target_heads={None: LANDED}, onto_ref="main")

    assert "this branch does not have main's newer revisions yet" in str(info.value)
    assert info.value.hint == "run `git merge main` (or `git rebase main`), then `revgraph fix --onto main`"


# ------------------------------------- 3. RG101 when the landed side forks
def test_rg101_offers_the_merge_strategy_when_base_itself_has_both_heads(gitrepo):
    feature_not_merged(gitrepo)
    gitrepo.checkout("main")
    gitrepo.merge("feature")  # both heads land on main

    rg101 = findings(gitrepo, "--base", "main")["RG101"]

    assert rg101["fix"] == "revgraph fix --strategy merge"
    gitrepo.run("fix", "--base", "main", check=1)  # the rebase the old hint offered refuses
    gitrepo.run("fix", "--strategy", "merge", check=True)
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0


def test_rg101_offers_the_merge_strategy_when_the_database_has_the_other_head(gitrepo):
    feature_not_merged(gitrepo)
    gitrepo.merge("main")
    db = gitrepo.path.parent / "app.db"
    with sqlite3.connect(db) as conn:  # deployed from this branch: FEATURE has landed there
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (FEATURE,))
    conn.close()
    url = f"sqlite:///{db}"

    proc = gitrepo.run("doctor", "--base", "main", "--db", url, check=1)

    assert "fix: revgraph fix --strategy merge" in proc.stdout, proc.stdout
    assert "fix: revgraph fix --base main" not in proc.stdout
    gitrepo.run("fix", "--base", "main", "--db", url, check=1)  # a rebase would move FEATURE


def test_rg101_keeps_the_rebase_hint_where_the_rebase_works(gitrepo):
    paths = feature_not_merged(gitrepo)
    gitrepo.merge("main")

    rg101 = findings(gitrepo, "--base", "main")["RG101"]

    assert rg101["fix"] == "revgraph fix --base main"
    gitrepo.run("fix", "--base", "main", check=True)
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths[FEATURE])


def test_rg101_after_repointing_a_landed_revision_does_not_offer_a_merge(gitrepo):
    # Joining an edited landed history with a merge revision would keep the
    # edit; the landed side, as base records it, has one head.
    paths = landed_repointed_on_feature(gitrepo, commit=False)

    found = findings(gitrepo, "--base", "main")

    assert found["RG101"]["fix"] != "revgraph fix --strategy merge"
    assert found["RG201"]["fix"] == f"git restore --source=main --staged --worktree -- {paths[LANDED]}"


# ------------------------- 3b. RG101 where no script.py.mako renders a merge
TEMPLATE = "migrations/script.py.mako"


def both_heads_landed_without_a_template(repo: GitRepo) -> bytes:
    """main holds LANDED and FEATURE (only a merge revision joins them) and its
    environment has no script.py.mako, as mlflow's wheel ships none; returns the
    template's bytes."""
    feature_not_merged(repo)
    repo.checkout("main")
    repo.merge("feature")
    template = repo.read(TEMPLATE)
    repo.remove(TEMPLATE)
    repo.commit("no script.py.mako")
    return template


def test_rg101_without_a_merge_template_says_what_is_missing_instead_of_offering_the_merge(gitrepo):
    both_heads_landed_without_a_template(gitrepo)

    rg101 = findings(gitrepo, "--base", "main")["RG101"]

    assert rg101["fix"] is None
    assert (
        f"; no {TEMPLATE} to render a merge revision from: add alembic's template there "
        "(`alembic init` writes one), then `revgraph fix --strategy merge` joins the heads"
    ) in rg101["message"], rg101["message"]
    doctor = gitrepo.run("doctor", "--base", "main", check=1)
    assert "fix: revgraph fix --strategy merge" not in doctor.stdout, doctor.stdout
    assert f"no {TEMPLATE} to render a merge revision from" in doctor.stdout
    # What check used to offer here cannot run, for the reason it now gives.
    merge = gitrepo.run("fix", "--strategy", "merge", check=2)
    assert "script.py.mako not found: alembic renders new revisions from it" in merge.stderr
    assert "hint: add alembic's template there (`alembic init` writes one)" in merge.stderr
    assert "Traceback" not in merge.stderr and gitrepo.status() == ""


def test_the_rebase_refusing_without_a_merge_template_does_not_send_anyone_to_the_merge(gitrepo):
    both_heads_landed_without_a_template(gitrepo)

    rebase = gitrepo.run("fix", "--base", "main", check=1)

    assert f"main itself has several heads: {LANDED}, {FEATURE}" in rebase.stderr, rebase.stderr
    assert "hint: landed heads never move: join them with a merge revision on main; no " in rebase.stderr
    assert f"no {TEMPLATE} to render a merge revision from: add alembic's template there" in rebase.stderr
    assert "(`revgraph fix --strategy merge` there)" not in rebase.stderr
    assert "Traceback" not in rebase.stderr and gitrepo.status() == ""


def test_without_a_merge_template_the_rebase_is_still_offered_and_runs(gitrepo):
    paths = feature_not_merged(gitrepo)
    gitrepo.merge("main")
    gitrepo.remove(TEMPLATE)  # the rebase edits down_revision only: it renders nothing

    rg101 = findings(gitrepo, "--base", "main")["RG101"]

    assert rg101["fix"] == "revgraph fix --base main" and "script.py.mako" not in rg101["message"]
    gitrepo.run("fix", "--base", "main", check=True)
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths[FEATURE])
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0


def test_a_project_that_merges_by_default_but_has_no_template_is_offered_the_rebase_by_name(gitrepo):
    # strategy = "merge" makes a plain `revgraph fix` render a merge revision,
    # which needs script.py.mako: the offer names the strategy that can run.
    paths = feature_not_merged(gitrepo)
    gitrepo.merge("main")
    template = gitrepo.read(TEMPLATE)
    gitrepo.remove(TEMPLATE)
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nstrategy = "merge"\n')
    before = versions(gitrepo)

    rg101 = findings(gitrepo, "--base", "main")["RG101"]

    assert rg101["fix"] == "revgraph fix --strategy rebase --base main", rg101
    plain = gitrepo.run("fix", "--base", "main", check=2)  # what it would have offered
    assert "script.py.mako not found" in plain.stderr and versions(gitrepo) == before
    doctor = gitrepo.run("doctor", "--fix", "--base", "main", check=0)  # runs what check offers
    assert f"moved {FEATURE}: {A2} -> {LANDED}" in doctor.stdout, doctor.stdout
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths[FEATURE])
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0
    # With the template back, the project's own merge joins the heads: offered plain.
    repoint(gitrepo, paths[FEATURE], LANDED, A2)
    gitrepo.write(TEMPLATE, template)
    rg101 = findings(gitrepo, "--base", "main")["RG101"]
    assert rg101["fix"] == "revgraph fix --base main", rg101


def test_adding_the_template_after_a_cached_check_brings_the_merge_offer_back(gitrepo):
    # The template lies outside the versions folders the caches watch: whether
    # it exists must be part of what a cached answer rests on, both for the
    # result cache's key and for the express lane's replay of the config.
    template = both_heads_landed_without_a_template(gitrepo)
    time.sleep(2.1)  # files old enough for their identities to stand for them: the caches answer
    first = findings(gitrepo, "--base", "main")["RG101"]
    assert first["fix"] is None
    assert findings(gitrepo, "--base", "main")["RG101"] == first
    assert list((gitrepo.path / ".git" / "revgraph" / "express").iterdir())  # a ticket answers next time

    gitrepo.write(TEMPLATE, template)
    assert findings(gitrepo, "--base", "main")["RG101"]["fix"] == "revgraph fix --strategy merge"
    time.sleep(2.1)
    assert findings(gitrepo, "--base", "main")["RG101"]["fix"] == "revgraph fix --strategy merge"
    gitrepo.remove(TEMPLATE)
    assert findings(gitrepo, "--base", "main")["RG101"] == first
    gitrepo.write(TEMPLATE, template)
    gitrepo.run("fix", "--strategy", "merge", check=True)
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0


# ---------------------------------------------- 4. docs show RG102's real fix
def rg102_fix(repo: GitRepo, base: str) -> str:
    return findings(repo, "--base", base)["RG102"]["fix"]


def test_rules_doc_gives_rg102_the_fix_the_tool_prints(gitrepo):
    from revgraph.rules import RULES

    feature_not_merged(gitrepo)
    gitrepo.git("update-ref", "refs/remotes/origin/main", "main")
    printed = rg102_fix(gitrepo, "origin/main")  # the docs' examples use origin/main

    section = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8").split("## RG102")[1].split("## RG103")[0]
    assert printed in RULES["RG102"].fix and f"`{printed}`" in section
    assert "fix --base" not in section
    # The printed fix works: after the merge, `revgraph fix` clears RG102.
    gitrepo.merge("main")
    gitrepo.run("fix", check=True)
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0


def test_usage_doc_rg102_examples_show_the_fix_the_tool_prints(gitrepo):
    feature_not_merged(gitrepo)
    printed = rg102_fix(gitrepo, "main")  # the usage examples use main

    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    text = re.findall(r": RG102 [^\n]*\n(?:    [^\n]*\n)*?    fix: ([^\n]*)", usage)
    github = re.findall(r"title=RG102::[^\n]*?%0Afix: ([^\n]*)", usage)
    assert text and github  # the doctor and the check --format github examples
    assert set(text + github) == {printed}


# ------------------- 3c. offered commands keep the options that chose the environment
def test_offered_commands_keep_the_global_options_that_found_the_environment(gitrepo):
    # QA: `revgraph -c backend/alembic.ini check` offered `revgraph fix`, which
    # finds no environment where it was run (exit 2).
    import shlex

    paths = feature_not_merged(gitrepo)
    plain = findings(gitrepo, "--base", "main")["RG102"]["fix"]
    assert plain == "git merge main; revgraph fix", plain
    for options, spelled in [
        (("--config", "alembic.ini"), "revgraph --config alembic.ini"),
        (("-c", "./alembic.ini", "-n", "alembic"), "revgraph --config alembic.ini --name alembic"),
        (("--versions", VERSIONS), f"revgraph --versions {VERSIONS}"),
    ]:
        for _ in range(2):  # the second answer comes from the result cache
            proc = gitrepo.run(*options, "check", "--format", "json", "--base", "main", check=1)
            rg102 = {f["code"]: f for f in json.loads(proc.stdout)["findings"]}["RG102"]
            assert rg102["fix"] == f"git merge main; {spelled} fix", (options, rg102["fix"])
    assert findings(gitrepo, "--base", "main")["RG102"]["fix"] == plain  # not served another's answer
    gitrepo.merge("main")
    rg101 = json.loads(gitrepo.run("--versions", VERSIONS, "check", "--format", "json", "--base", "main",
                                   check=1).stdout)["findings"][0]  # fmt: skip
    assert rg101["code"] == "RG101" and rg101["fix"] == f"revgraph --versions {VERSIONS} fix --base main"
    command = shlex.split(rg101["fix"])
    assert command[0] == "revgraph"
    gitrepo.run(*command[1:], check=True)  # what it offers runs as offered
    assert f"= {LANDED!r}".encode() in gitrepo.read(paths[FEATURE])


def test_rg102_offers_the_merge_strategy_when_both_sides_add_a_first_migration(gitrepo):
    # A fresh project: two branches each write its first migration (down_revision
    # None) and one lands. RG102 said `git merge main; revgraph fix`, and that fix
    # refused ("a new base ... left as it is", exit 1): no rebase re-points a base.
    # The lock conflict already said `--strategy merge`; the check says it too.
    gitrepo.init_env()
    gitrepo.branch("feature")
    add(gitrepo, A1, None)
    gitrepo.commit("main: the first migration")
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, None)
    gitrepo.commit("feature: its own first migration")

    rg102 = findings(gitrepo, "--base", "main")["RG102"]

    assert rg102["fix"] == "git merge main; revgraph fix --strategy merge"
    gitrepo.merge("main")
    gitrepo.run("fix", check=1)  # what the hint used to offer refuses
    gitrepo.run("fix", "--strategy", "merge", check=True)
    assert gitrepo.run("check", "--base", "main", check=None).returncode == 0
    assert gitrepo.alembic("heads").stdout.count("(head)") == 1
