"""`revgraph check` counts the base branch's remote copy as landed, as `fix` does.

A clone without ``origin/HEAD`` (or ``--base main``) compares with the local
``main``, which may be behind ``origin/main``: a colleague's pushed revision is
landed even if this clone's main has not pulled it yet. A feature branch that
brought ``origin/main`` in and then re-pointed, deleted or edited that
revision must fail the check, naming ``origin/main`` (where it landed) and
restoring from it. The remote copy is judged as a base would be: what HEAD
never had is not HEAD's deletion, and what the remote re-pointed is not HEAD's
re-point. Real repositories: a bare origin, a colleague's clone and ours.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.gitrepo import GitRepo

ROOT = "a0a0a0a0a0a0"
PUSHED = "a1a1a1a1a1a1"  # the colleague's revision, landed on origin/main only
OURS = "f1f1f1f1f1f1"  # the feature's own revision
OTHER = "b2b2b2b2b2b2"  # another revision that landed on origin/main meanwhile
CHECK = ("check", "--base", "main", "--format", "json")


@pytest.fixture
def clones(make_gitrepo, tmp_path):
    """A bare origin (main: ROOT), the colleague's clone and ours (no origin/HEAD)."""
    seed = make_gitrepo("seed")
    seed.init_env()
    seed.add_revision(ROOT, None, message="root")
    seed.commit("root")
    seed.git("clone", "-q", "--bare", str(seed.path), str(tmp_path / "origin.git"))
    origin = GitRepo(tmp_path / "origin.git", seed.env)
    colleague = origin.clone(tmp_path / "colleague")
    ours = origin.clone(tmp_path / "ours")
    ours.git("remote", "set-head", "origin", "--delete")
    return colleague, ours


def push_pushed(colleague: GitRepo, branch: str = "main") -> str:
    """The colleague's revision PUSHED on ROOT, pushed to ``branch``; its path."""
    path = colleague.add_revision(PUSHED, ROOT, message="pushed by a colleague")
    colleague.commit("colleague")
    colleague.git("push", "-q", "origin", f"HEAD:{branch}")
    return path


def feature_with_origin_main(ours: GitRepo) -> None:
    """A feature branch with its own revision, then ``origin/main`` merged in; main stays behind."""
    ours.git("fetch", "-q", "origin")
    ours.git("checkout", "-q", "-b", "feature")
    ours.add_revision(OURS, ROOT, message="feature work")
    ours.commit("feature")
    ours.merge("origin/main")
    assert ours.rev_parse("main") != ours.rev_parse("origin/main")  # local main is behind


def repoint(repo: GitRepo, relpath: str, old: str, new: str) -> None:
    text = repo.read(relpath).decode()
    assert text.count(f"= {old!r}") == 1
    repo.write(relpath, text.replace(f"= {old!r}", f"= {new!r}").replace(f"Revises: {old}", f"Revises: {new}"))


def check(repo: GitRepo, *args: str, base: str = "main") -> tuple[int, dict]:
    done = repo.run("check", "--base", base, "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(report: dict, code: str) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == code]


def landed_findings(report: dict) -> list[tuple[str, list[str]]]:
    return sorted((f["code"], f["revisions"]) for f in report["findings"] if f["code"].startswith("RG20"))


# ---------------------------------------------------------------- the bug
def stack_pushed_on_ours(colleague: GitRepo, ours: GitRepo) -> str:
    """The colleague's pushed revision, re-pointed onto ours on the feature (what a
    naive fix does) and committed; its path."""
    pushed = push_pushed(colleague)
    feature_with_origin_main(ours)
    repoint(ours, pushed, ROOT, OURS)
    ours.commit("stack the pushed revision on the feature")
    return pushed


def test_repointing_a_revision_only_origin_main_has_is_rg201_naming_origin_main(clones):
    colleague, ours = clones
    pushed = stack_pushed_on_ours(colleague, ours)
    code, report = check(ours)
    (hit,) = findings(report, "RG201")
    assert code == 1
    assert hit["revisions"] == [PUSHED] and f"but {ROOT} in origin/main" in hit["message"], hit
    assert hit["fix"] == f"git restore --source=origin/main --staged --worktree -- {pushed}"
    assert "(protected)" not in hit["message"]
    # The hint works, and then the check is clean again.
    ours.git("restore", "--source=origin/main", "--", pushed)
    assert not findings(check(ours)[1], "RG201")


def test_the_default_base_without_origin_head_is_origin_main_when_main_is_behind_it(clones):
    colleague, ours = clones
    stack_pushed_on_ours(colleague, ours)
    done = ours.run("check", "--format", "json")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["base"] == "origin/main"
    assert [f["revisions"] for f in findings(report, "RG201")] == [[PUSHED]]
    assert f"but {ROOT} in origin/main" in findings(report, "RG201")[0]["message"]


def test_a_feature_on_a_stale_main_is_checked_against_origin_main_by_default(clones):
    """No origin/HEAD, local main behind origin/main, a feature forked from main:
    the merge that will happen is with origin/main, where a colleague's revision
    landed on the same parent. The check predicts that merge (RG102), cached or
    not, and fix then moves only the feature's revision."""
    colleague, ours = clones
    push_pushed(colleague)
    ours.git("fetch", "-q", "origin")
    ours.git("checkout", "-q", "-b", "feature")
    ours.add_revision(OURS, ROOT, message="feature work")
    ours.commit("feature")
    assert ours.rev_parse("main") != ours.rev_parse("origin/main")

    for _ in range(2):  # the second answer comes from the result cache
        done = ours.run("check", "--format", "json")
        report = json.loads(done.stdout)
        assert done.returncode == 1 and report["base"] == "origin/main", done.stdout + done.stderr
        (hit,) = findings(report, "RG102")
        assert hit["revisions"] == [OURS, PUSHED] and "origin/main adds " + PUSHED in hit["message"], hit

    # Once main has pulled, the default base is main again, and the answer follows.
    ours.git("branch", "-f", "main", "origin/main")
    report = json.loads(ours.run("check", "--format", "json").stdout)
    assert report["base"] == "main" and findings(report, "RG102")

    ours.merge("origin/main")
    fixed = ours.run("fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"moved {OURS}: {ROOT} -> {PUSHED}" in fixed.stdout
    assert ours.run("check").returncode == 0


def test_a_local_main_with_commits_of_its_own_stays_the_default_base(clones):
    """main ahead of (diverged from) origin/main is the user's own work: it stays the
    base, origin/main's revisions still count as landed. --base main is kept as asked."""
    colleague, ours = clones
    push_pushed(colleague)
    ours.git("fetch", "-q", "origin")
    ours.add_revision(OTHER, ROOT, message="unpushed on main")
    ours.commit("unpushed")
    report = json.loads(ours.run("check", "--format", "json").stdout)
    assert report["base"] == "main"

    ours.git("reset", "-q", "--hard", "HEAD~1")  # main behind origin/main again
    ours.git("checkout", "-q", "-b", "feature")
    code, report = check(ours)  # --base main: as asked
    assert report["base"] == "main" and not findings(report, "RG102")


def test_deleting_a_revision_only_origin_main_has_is_rg202(clones):
    colleague, ours = clones
    pushed = push_pushed(colleague)
    feature_with_origin_main(ours)
    ours.remove(pushed)
    ours.commit("drop the pushed revision")
    code, report = check(ours)
    (hit,) = findings(report, "RG202")
    assert code == 1
    assert hit["revisions"] == [PUSHED] and f"({pushed} in origin/main)" in hit["message"], hit
    assert hit["fix"] == f"git restore --source=origin/main --staged --worktree -- {pushed}"


def test_editing_the_body_of_a_revision_only_origin_main_has_is_rg203(clones):
    colleague, ours = clones
    pushed = push_pushed(colleague)
    feature_with_origin_main(ours)
    text = ours.read(pushed).decode()
    ours.write(pushed, text.replace("def upgrade() -> None:\n", "def upgrade() -> None:\n    op.drop_table('x')\n"))
    ours.commit("edit the pushed revision")
    _, report = check(ours)
    (hit,) = findings(report, "RG203")
    assert hit["revisions"] == [PUSHED] and "differs from origin/main" in hit["message"], hit
    assert hit["fix"] == f"git restore --source=origin/main --staged --worktree -- {pushed}"


# ------------------------------------------- judged as a base would be
def test_a_revision_head_never_had_is_not_deleted(clones):
    """A feature branched from the stale main has not seen origin/main's revision: no RG202."""
    colleague, ours = clones
    push_pushed(colleague)
    ours.git("fetch", "-q", "origin")
    ours.git("checkout", "-q", "-b", "feature")
    ours.add_revision(OURS, ROOT, message="feature work")
    ours.commit("feature")
    code, report = check(ours)
    assert landed_findings(report) == [] and code == 0, report


def test_a_revision_the_remote_re_pointed_is_not_heads_repoint(clones):
    """HEAD merged the colleague's branch; landing it on main re-pointed PUSHED (a fix
    during that merge). HEAD's older copy is not a re-point of HEAD's: the merge takes
    main's. Exactly what ``--base origin/main`` says."""
    colleague, ours = clones
    pushed = push_pushed(colleague, branch="colleague")
    colleague.git("checkout", "-q", "-b", "other", "origin/main")
    colleague.add_revision(OTHER, ROOT, message="landed meanwhile")
    colleague.commit("other")
    colleague.git("push", "-q", "origin", "HEAD:main")
    colleague.git("checkout", "-q", "main")
    colleague.git("merge", "-q", "--no-edit", "other")
    repoint(colleague, pushed, ROOT, OTHER)
    colleague.commit("land the colleague's branch, re-pointed onto main's head")
    colleague.git("push", "-q", "origin", "HEAD:main")
    ours.git("fetch", "-q", "origin")
    ours.git("checkout", "-q", "-b", "feature", "origin/colleague")
    ours.add_revision(OURS, PUSHED, message="feature work")
    ours.commit("feature")
    assert ours.rev_parse("main") != ours.rev_parse("origin/main")
    _, by_main = check(ours)
    _, by_origin = check(ours, base="origin/main")
    assert landed_findings(by_main) == landed_findings(by_origin) == [], by_main


def test_base_that_is_the_remote_copy_is_unchanged(clones):
    colleague, ours = clones
    stack_pushed_on_ours(colleague, ours)
    code, report = check(ours, base="origin/main")
    (hit,) = findings(report, "RG201")
    assert code == 1 and f"but {ROOT} in origin/main" in hit["message"], hit


def test_the_context_reads_no_remote_copy_when_base_is_one(clones, monkeypatch):
    """``--base origin/main``: nothing to add, so nothing is read twice."""
    from revgraph import api
    from revgraph.sources.gitref import GitRepo as SourceRepo

    colleague, ours = clones
    push_pushed(colleague)
    feature_with_origin_main(ours)
    read: list[str] = []
    real = SourceRepo.read_ref
    monkeypatch.setattr(SourceRepo, "read_ref", lambda self, env, ref, **kw: read.append(ref) or real(self, env, ref, **kw))
    with api.Workspace(api.Options(cwd=ours.path, no_cache=True)) as ws:
        [env] = ws.environments
        ctx = api.build_context(ws, env, base="origin/main")
        assert ctx.remote_ref is None and not ctx.remote_only
        assert read.count("origin/main") <= 1, read
        ctx = api.build_context(ws, env, base="main")
        assert ctx.remote_ref == "origin/main" and PUSHED in ctx.remote_only and PUSHED in ctx.landed


# ------------------------------------------------- caches after a fetch
def feature_stacking_the_colleagues_branch(colleague: GitRepo, ours: GitRepo) -> None:
    """PUSHED is on origin/colleague only; our feature merged it and stacked it on ours.

    Nothing has landed but ROOT: the re-point is this branch's business, for now.
    """
    colleague.git("checkout", "-q", "-b", "colleague")
    pushed = push_pushed(colleague, branch="colleague")
    ours.git("fetch", "-q", "origin")
    ours.git("checkout", "-q", "-b", "feature")
    ours.add_revision(OURS, ROOT, message="feature work")
    ours.commit("feature")
    ours.merge("origin/colleague")
    repoint(ours, pushed, ROOT, OURS)
    ours.commit("stack the colleague's revision on ours")


def land_and_fetch(colleague: GitRepo, ours: GitRepo) -> None:
    """The colleague's branch lands on main as it is; our fetch moves origin/main, not main."""
    colleague.git("push", "-q", "origin", "colleague:main")
    before = ours.rev_parse("main")
    ours.git("fetch", "-q", "origin")
    assert ours.rev_parse("main") == before != ours.rev_parse("origin/main")


def repointed(report: dict) -> list[list[str]]:
    return [f["revisions"] for f in findings(report, "RG201")]


def cached_report(path: Path):
    """What the result cache holds for ``check --base main`` now (None: a miss)."""
    from revgraph import api, resultcache

    resultcache._code_fingerprint = None  # as the CLI processes see revgraph's sources
    with api.Workspace(api.Options(cwd=path)) as ws:
        found = resultcache.probe(ws, base="main", select=(), ignore=())
        return found.report if found is not None else None


LANE = """
    import json, sys
    from revgraph import __version__, express
    from revgraph.resultcache import parse_check_argv
    opts = parse_check_argv(["-C", sys.argv[1], *sys.argv[2:]])
    found = express.answer(opts, __version__)
    print(json.dumps(found is not None))
"""


def lane_answers(path: Path) -> bool:
    """Whether the express lane has a ticket answering ``CHECK`` now (it prints nothing)."""
    # From where GitRepo.run starts the CLI: a ticket is for one working directory.
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(LANE), str(path), *CHECK],
                          cwd=path.parent, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_fetch_that_lands_the_revision_is_not_answered_from_the_result_cache(clones):
    colleague, ours = clones
    feature_stacking_the_colleagues_branch(colleague, ours)
    code, before = check(ours)
    assert repointed(before) == [] and code == 0, before
    assert cached_report(ours.path) is not None  # stored: the next check could answer from it
    land_and_fetch(colleague, ours)
    code, after = check(ours)
    assert repointed(after) == [[PUSHED]] and code == 1, after
    assert after == json.loads(ours.run("--no-cache", *CHECK).stdout)


def test_a_fetch_that_lands_the_revision_is_not_answered_from_an_express_ticket(clones):
    colleague, ours = clones
    feature_stacking_the_colleagues_branch(colleague, ours)
    time.sleep(2.1)  # files and folders old enough to vouch for their content: tickets are written
    first = ours.run(*CHECK)
    assert first.returncode == 0, first.stdout + first.stderr
    assert ours.run(*CHECK).stdout == first.stdout
    assert lane_answers(ours.path)  # the lane would answer an unchanged state
    land_and_fetch(colleague, ours)
    assert not lane_answers(ours.path)
    for _ in range(2):  # the second one may be answered by a ticket the first wrote
        done = ours.run(*CHECK)
        assert done.returncode == 1 and repointed(json.loads(done.stdout)) == [[PUSHED]], done.stdout
    assert lane_answers(ours.path)  # ... and the lane answers the new state again


def test_the_remote_copy_is_base_s_upstream_and_a_changed_upstream_is_seen(clones, tmp_path):
    """Another remote at the same commits: only git's configuration tells which copy is meant."""
    colleague, ours = clones
    pushed = push_pushed(colleague)
    ours.git("remote", "add", "upstream", str(tmp_path / "origin.git"))
    ours.git("fetch", "-q", "upstream")
    feature_with_origin_main(ours)
    repoint(ours, pushed, ROOT, OURS)
    ours.commit("stack the pushed revision on the feature")
    time.sleep(2.1)  # old enough for tickets
    for _ in range(2):
        (hit,) = findings(check(ours)[1], "RG201")
        assert "in origin/main" in hit["message"], hit
    assert lane_answers(ours.path)
    ours.git("branch", "-q", "--set-upstream-to=upstream/main", "main")
    assert not lane_answers(ours.path)
    (hit,) = findings(check(ours)[1], "RG201")
    assert "in upstream/main" in hit["message"] and hit["fix"] == f"git restore --source=upstream/main --staged --worktree -- {pushed}"


@pytest.mark.parametrize("spelling", ["heads/main", "refs/heads/main"])
def test_every_spelling_of_the_local_base_branch_counts_its_remote_copy(clones, spelling):
    colleague, ours = clones
    pushed = push_pushed(colleague)
    feature_with_origin_main(ours)
    ours.remove(pushed)
    ours.commit("drop the pushed revision")

    for _ in range(2):  # and a cached answer says the same
        code, report = check(ours, base=spelling)
        (hit,) = findings(report, "RG202")
        assert code == 1 and f"({pushed} in origin/main)" in hit["message"], hit


@pytest.mark.parametrize("spelling", ["heads/main", "refs/heads/main"])
def test_a_fetch_is_seen_whatever_the_spelling_of_the_base(clones, spelling):
    colleague, ours = clones
    feature_stacking_the_colleagues_branch(colleague, ours)
    code, before = check(ours, base=spelling)
    assert repointed(before) == [] and code == 0, before
    land_and_fetch(colleague, ours)
    code, after = check(ours, base=spelling)
    assert repointed(after) == [[PUSHED]] and code == 1, after
