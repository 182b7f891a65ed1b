"""`revgraph collisions`: the merge-queue view, on real repositories through the real CLI.

The queue built once for the module (``queue``):

    main:  A <- B                  (unlabelled line, head B)
           R                       (base of the landed 'reporting' line, head R)
    feature/a:   FA on B   Create Date 2024-02-01  } both grow from main's head:
    feature/b:   FB on B   Create Date 2024-01-01  } they collide; b is older
    feature/c:   FC on R   (the 'reporting' line: collides with nothing)
    stack/a2:    feature/a + FA2 on FA (stacked on feature/a: no collision with it)
    old/x:       FO on A   (already forks against main alone: RG102)
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.api import Options, Workspace, heads
from revgraph.checks.context import CheckContext
from revgraph.checks.graph import head_lanes
from revgraph.collisions import find_collisions
from revgraph.model import Revision, RevisionGraph, Snapshot
from tests.support.dagspec import dags
from tests.support.gitrepo import GitRepo, apply_environ, isolated_environ

A = "0a0a0a0a0a01"
B = "0b0b0b0b0b02"
R = "0c0c0c0c0c03"
FA = "1a1a1a1a1a01"
FB = "1b1b1b1b1b02"
FC = "1c1c1c1c1c03"
FA2 = "1a1a1a1a1a04"
FO = "1d1d1d1d1d05"

JANUARY = datetime.datetime(2024, 1, 1, 10, 0, 0)
FEBRUARY = datetime.datetime(2024, 2, 1, 10, 0, 0)


def on_branch(repo: GitRepo, name: str, start: str, *revisions) -> None:
    """Commit ``revisions`` ((id, down, kwargs) triples) on a new branch from ``start``."""
    repo.git("checkout", "-q", "-b", name, start)
    for rev_id, down, extra in revisions:
        repo.add_revision(rev_id, down, message=f"add {rev_id}", **extra)
    repo.commit(f"{name}: migrations")
    repo.checkout("main")


def build_queue(repo: GitRepo) -> GitRepo:
    repo.init_env()
    repo.add_revision(A, None, message="create users")
    repo.add_revision(B, A, message="create tasks")
    repo.add_revision(R, None, message="reporting schema", branch_labels="reporting")
    repo.commit("landed migrations")
    on_branch(repo, "feature/a", "main", (FA, B, {"create_date": FEBRUARY}))
    on_branch(repo, "feature/b", "main", (FB, B, {"create_date": JANUARY}))
    on_branch(repo, "feature/c", "main", (FC, R, {}))
    on_branch(repo, "stack/a2", "feature/a", (FA2, FA, {}))
    on_branch(repo, "old/x", "main", (FO, A, {}))
    return repo


@pytest.fixture(scope="module")
def queue(tmp_path_factory) -> GitRepo:
    root = tmp_path_factory.mktemp("collisions")
    env = apply_environ(isolated_environ(root / "home"), os.environ)
    return build_queue(GitRepo.init(root / "repo", env))


def collisions_json(repo: GitRepo, *args: str, code: int) -> dict:
    done = repo.run("collisions", "--format", "json", *args, check=code)
    return json.loads(done.stdout)


def pairs(report: dict) -> list[tuple[str, str]]:
    return [tuple(sorted((c["a"], c["b"]))) for c in report["collisions"]]


@pytest.fixture(scope="module")
def globbed(queue) -> dict:
    """The queue's feature branches by glob, plus the base itself, as JSON (one CLI run)."""
    return collisions_json(queue, "feature/*", "main", "--base", "main", code=1)


# ------------------------------------------------------------------- the queue
def test_a_glob_expands_to_every_matching_branch(globbed):
    assert [b["ref"] for b in globbed["branches"]] == ["feature/a", "feature/b", "feature/c", "main"]


def test_two_branches_on_the_same_head_are_the_only_colliding_pair(globbed):
    assert pairs(globbed) == [("feature/a", "feature/b")]
    (collision,) = globbed["collisions"]
    assert collision["environment"] == "default"
    assert collision["shared_parent"] == B
    new_of = {collision["a"]: collision["a_new"], collision["b"]: collision["b_new"]}
    assert new_of == {"feature/a": [FA], "feature/b": [FB]}
    assert globbed["forks"] == []


def test_landing_order_puts_the_independent_branch_first_then_the_older_chain(globbed):
    # feature/b's revision is older (Create Date) although feature/a sorts first.
    assert globbed["order"] == ["feature/c", "feature/b", "feature/a"]
    steps = {s["ref"]: s for s in globbed["steps"]}
    assert not steps["feature/c"]["rebase"] and not steps["feature/b"]["rebase"]
    assert steps["feature/a"]["rebase"] and steps["feature/a"]["after"] == ["feature/b"]


def test_json_contract(globbed):
    assert globbed["version"] == 1
    assert globbed["base"] == "main"
    assert {"version", "base", "branches", "collisions", "order"} <= set(globbed)
    branches = {b["ref"]: b for b in globbed["branches"]}
    assert branches["feature/a"]["new"] == [FA]
    assert branches["feature/a"]["hangs_off"] == [B]
    assert branches["feature/c"]["hangs_off"] == [R]
    for collision in globbed["collisions"]:
        assert set(collision) >= {"a", "b", "environment", "shared_parent", "a_new", "b_new"}
    # The base itself adds nothing: listed, but not in the landing order.
    assert branches["main"]["new"] == []
    assert globbed["nothing_to_land"] == ["main"]
    assert "main" not in globbed["order"]


def test_text_output_numbers_the_steps_with_the_exact_rebase_commands(queue):
    out = queue.run("collisions", "feature/a", "feature/b", "feature/c", "--base", "main", check=1).stdout

    assert f"feature/a x feature/b [default]: both grow from {B}" in out
    assert "1. land feature/c  (collides with nothing)" in out
    assert "2. land feature/b  (collides with feature/a" in out
    assert "3. after feature/b has landed, rebase feature/a, then land it:" in out
    step3 = out.split("3. after", 1)[1]
    assert "git switch feature/a" in step3
    assert step3.index("git rebase main") < step3.index("revgraph fix --base main")


def test_markdown_lists_the_pair_and_the_order(queue):
    done = queue.run("collisions", "feature/*", "--base", "main", "--format", "markdown", check=1)

    assert f"| `feature/a` | `feature/b` | default | `{B}` | `{FA}` | `{FB}` |" in done.stdout
    assert "3. rebase `feature/a` after `feature/b` landed, then land it:" in done.stdout


def test_markdown_keeps_a_hostile_branch_name_inside_its_cell(queue, tmp_path):
    # QA: a `|` or a backtick in a branch name broke the table and the code span,
    # letting raw HTML into the comment.
    hostile = "feature/x|y`<b>z"
    clone = GitRepo(tmp_path / "clone", queue.env)
    queue.git("clone", "-q", str(queue.path), str(clone.path))
    clone.git("branch", "-q", hostile, "origin/feature/a")
    clone.git("branch", "-q", "feature/b", "origin/feature/b")

    done = clone.run("collisions", hostile, "feature/b", "--base", "origin/main", "--format", "markdown", check=1)

    [row] = [line for line in done.stdout.splitlines() if line.startswith("| ``")]
    assert row.startswith("| ``feature/x\\|y`<b>z`` | `feature/b` |"), row
    assert len(re.findall(r"(?<!\\)\|", row)) == 7, row  # six cells


def test_branches_that_collide_with_nothing_exit_0(queue):
    done = queue.run("collisions", "feature/a", "feature/c", "--base", "main", check=0)

    assert "collisions: none" in done.stdout
    assert "1. land feature/a  (collides with nothing)" in done.stdout


def test_a_branch_stacked_on_another_does_not_collide_with_it(queue):
    report = collisions_json(queue, "feature/a", "stack/a2", "feature/b", "--base", "main", code=1)

    assert sorted(pairs(report)) == [("feature/a", "feature/b"), ("feature/b", "stack/a2")]


def test_a_branch_that_already_forks_against_base_is_reported_alone(queue):
    report = collisions_json(queue, "old/x", "feature/c", "--base", "main", code=1)

    assert report["collisions"] == []
    (fork,) = report["forks"]
    assert fork["ref"] == "old/x"
    assert fork["new"] == [FO] and fork["hangs_off"] == [A]
    assert sorted(fork["heads"]) == sorted([B, FO])
    step = next(s for s in report["steps"] if s["ref"] == "old/x")
    assert step["rebase"] and step["forks_alone"]
    assert next(b for b in report["branches"] if b["ref"] == "old/x")["forks_alone"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (("feature/nope", "--base", "main"), "unknown ref 'feature/nope'"),
        (("nothing/*", "--base", "main"), "no ref matches 'nothing/*'"),
        (("feature/a", "--base", "no-such-base"), "unknown ref 'no-such-base'"),
    ],
)
def test_unknown_refs_and_a_missing_base_exit_2(queue, args, message):
    done = queue.run("collisions", *args, check=2)

    assert message in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------- why one of a colliding pair lands first
def undated_branch(repo: GitRepo, name: str, rev_id: str, authored: str) -> None:
    """A branch adding ``rev_id`` on main's head in a file with no ``Create Date``, committed at ``authored``."""
    repo.git("checkout", "-q", "-b", name, "main")
    repo.write(
        f"migrations/versions/{rev_id}_{name.replace('/', '_')}.py",
        f'"""{name}\n\nRevision ID: {rev_id}\nRevises: {B}\n"""\n'
        f"revision = {rev_id!r}\ndown_revision = {B!r}\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade(): pass\ndef downgrade(): pass\n",
    )
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", f"{name}: migration", "--date", authored)
    repo.checkout("main")


@pytest.fixture(scope="module")
def undated(tmp_path_factory) -> GitRepo:
    """The queue plus branches whose revisions carry no Create Date: nodate/old was
    committed in March, nodate/new in April; tie/1 and tie/2 in the same second."""
    root = tmp_path_factory.mktemp("undated")
    repo = build_queue(GitRepo.init(root / "repo", apply_environ(isolated_environ(root / "home"), os.environ)))
    undated_branch(repo, "nodate/new", "2e2e2e2e2e07", "2024-04-01T10:00:00+00:00")
    undated_branch(repo, "nodate/old", "2f2f2f2f2f08", "2024-03-01T10:00:00+00:00")
    undated_branch(repo, "tie/1", "3a3a3a3a3a09", "2024-05-01T10:00:00+00:00")
    undated_branch(repo, "tie/2", "3b3b3b3b3b10", "2024-05-01T10:00:00+00:00")
    return repo


@pytest.mark.parametrize("refs", [("nodate/new", "nodate/old"), ("nodate/old", "nodate/new")])
def test_without_create_dates_the_older_first_commit_lands_first_whatever_the_argument_order(undated, refs):
    # QA (keystone): neither side had a Create Date, yet the one named first "lands
    # first" because "its chain is older". git knows which branch's work is older.
    out = undated.run("collisions", *refs, "--base", "main", check=1).stdout
    assert "1. land nodate/old  (collides with nodate/new; no Create Date on either side; its first commit is older, so it lands first)" in out
    assert "2. after nodate/old has landed, rebase nodate/new" in out
    assert "its chain is older" not in out

    report = collisions_json(undated, *refs, "--base", "main", code=1)
    assert report["order"] == ["nodate/old", "nodate/new"]
    branches = {b["ref"]: b for b in report["branches"]}
    assert branches["nodate/old"]["oldest"] is None and branches["nodate/new"]["oldest"] is None
    assert branches["nodate/old"]["first_commit"] == "2024-03-01T10:00:00+00:00"
    assert branches["nodate/new"]["first_commit"] == "2024-04-01T10:00:00+00:00"
    first, second = report["steps"]
    assert first["decided_by"] == {"nodate/new": "first_commit"}
    assert first["reason"] == "no Create Date on either side; its first commit is older"
    assert second["decided_by"] == {} and second["reason"] is None


@pytest.mark.parametrize("refs", [("tie/1", "tie/2"), ("tie/2", "tie/1")])
def test_a_true_tie_lands_in_the_order_given_and_says_so(undated, refs):
    out = undated.run("collisions", *refs, "--base", "main", check=1).stdout
    assert (
        f"1. land {refs[0]}  (collides with {refs[1]}; no Create Date on either side and first commits "
        "equally old; it is named first, so it lands first)"
    ) in out
    report = collisions_json(undated, *refs, "--base", "main", code=1)
    assert report["order"] == list(refs)
    assert report["steps"][0]["decided_by"] == {refs[1]: "order_given"}


def test_a_create_date_decides_before_git_and_the_reason_says_so(undated):
    # dated/late's first commit is older than feature/b's, but feature/b's Create Date wins.
    undated.git("checkout", "-q", "-b", "dated/late", "main")
    undated.add_revision("4a4a4a4a4a11", B, message="dated late", create_date=FEBRUARY)
    undated.git("add", "-A")
    undated.git("commit", "-q", "-m", "dated/late", "--date", "2023-01-01T10:00:00+00:00")
    undated.checkout("main")
    report = collisions_json(undated, "dated/late", "feature/b", "--base", "main", code=1)
    assert report["order"] == ["feature/b", "dated/late"]
    assert report["steps"][0]["decided_by"] == {"dated/late": "create_date"}
    assert report["steps"][0]["reason"] == "its chain is older (Create Date)"
    mixed = collisions_json(undated, "nodate/old", "feature/b", "--base", "main", code=1)
    assert mixed["order"] == ["feature/b", "nodate/old"]
    assert mixed["steps"][0]["reason"] == "only its chain has a Create Date"


# --------------------------------------------------- the printed steps work
def test_following_the_printed_steps_in_a_clone_lands_both_branches_with_one_head(make_gitrepo, tmp_path):
    origin = build_queue(make_gitrepo("origin"))
    clone = origin.clone(tmp_path / "clone")
    out = clone.run("collisions", "origin/feature/a", "origin/feature/b", check=1).stdout
    assert "base: origin/main" in out  # origin/HEAD, named by the branch it points to
    commands = [line.strip() for line in out.split("2. after origin/feature/b has landed", 1)[1].splitlines()[1:]]
    analysed = clone.rev_parse("origin/feature/a")
    assert commands[0] == "git fetch origin"
    assert commands[1].startswith(f"git switch -C revgraph-rebase/feature/a {analysed}")
    assert commands[-1].endswith(
        f" && git push --force-with-lease=feature/a:{analysed} origin revgraph-rebase/feature/a:feature/a"
    )
    assert not any("#" in command for command in commands)  # an interactive zsh reads # as a word

    origin.git("merge", "-q", "--no-ff", "--no-edit", "feature/b")  # step 1: feature/b lands
    for command in commands:
        if command.startswith("revgraph "):
            command = f"{shlex.quote(sys.executable)} -m {command}"
        subprocess.run(["bash", "-c", command], cwd=clone.path, check=True, capture_output=True, env=clone.env)
    origin.git("merge", "-q", "--no-ff", "--no-edit", "feature/a")  # step 2: feature/a lands

    with Workspace(Options(cwd=origin.path)) as ws:
        (main,) = heads(ws, "main")
    assert main.graph.heads == tuple(sorted([FA, R]))
    assert main.graph[FA].down_revisions == (FB,)


def test_the_printed_steps_run_clean_when_fix_has_nothing_to_move(make_gitrepo, tmp_path):
    # QA: a branch stacked on one that just landed needs no re-point; the step's
    # `git commit -am` then failed with "nothing to commit". Run here before
    # anything lands: the rebase and fix change nothing, and every step passes.
    origin = build_queue(make_gitrepo("origin"))
    clone = origin.clone(tmp_path / "clone")
    out = clone.run("collisions", "origin/feature/a", "origin/feature/b", check=1).stdout
    commands = [line.strip() for line in out.split("2. after origin/feature/b has landed", 1)[1].splitlines()[1:]]
    for command in commands:
        if command.startswith("revgraph "):
            command = f"{shlex.quote(sys.executable)} -m {command}"
        done = subprocess.run(["bash", "-c", command], cwd=clone.path, capture_output=True, text=True, env=clone.env)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


FY = "1e1e1e1e1e06"


def follow_the_printed_steps(origin: GitRepo, clone: GitRepo, out: str) -> list[str]:
    """Do what each numbered step of ``collisions``' text says; origin lands each branch.

    Returns the refs in the order they landed.
    """
    landed = []
    for step in re.split(r"(?m)^  \d+\. ", out.split("landing order\n", 1)[1])[1:]:
        title, *commands = [line.strip() for line in step.splitlines()]
        ref = re.search(r"(?:land|rebase) (origin/[^\s,]+)", title).group(1)
        for command in commands:
            if command.startswith("revgraph "):
                command = f"{shlex.quote(sys.executable)} -m {command}"
            done = subprocess.run(["bash", "-c", command], cwd=clone.path, capture_output=True, text=True, env=clone.env)
            assert done.returncode == 0, (title, command, done.stdout, done.stderr)
        origin.git("merge", "-q", "--no-ff", "--no-edit", ref.removeprefix("origin/"))
        clone.git("fetch", "-q", "origin")
        landed.append(ref)
    return landed


def test_a_branch_that_forks_alone_lands_last_so_no_other_branch_needs_a_rebase(make_gitrepo, tmp_path):
    # QA: old/y forks against main alone and its chain is the oldest. It was told to
    # rebase and land first; feature/b, told to land as it is next, then forked
    # against the rebased old/y on main. Rebased last, it costs no one a rebase.
    origin = build_queue(make_gitrepo("origin"))
    on_branch(origin, "old/y", "main", (FY, A, {"create_date": datetime.datetime(2023, 6, 1, 10, 0, 0)}))
    clone = origin.clone(tmp_path / "clone")
    refs = ("origin/feature/a", "origin/feature/b", "origin/old/y")
    out = clone.run("collisions", *refs, check=1).stdout
    assert "3. after origin/feature/b, origin/feature/a have landed, rebase origin/old/y (it already forks" in out

    assert follow_the_printed_steps(origin, clone, out) == ["origin/feature/b", "origin/feature/a", "origin/old/y"]
    with Workspace(Options(cwd=origin.path)) as ws:
        (main,) = heads(ws, "main")
    assert main.graph.heads == tuple(sorted([FY, R]))
    assert main.graph[FY].down_revisions == (FA,)


def test_two_branches_adding_one_numbered_id_collide_and_the_later_gets_a_new_id_from_fix(make_gitrepo, tmp_path):
    # QA: both add revision 0004 on main's head, from files of their own. Counted by
    # id, the two made one head: "collisions: none", yet landed together alembic
    # keeps one file and never runs the other.
    origin = build_queue(make_gitrepo("origin"))
    for branch, message, date in (("num/1", "add orders", JANUARY), ("num/2", "add invoices", FEBRUARY)):
        origin.git("checkout", "-q", "-b", branch, "main")
        origin.add_revision("0004", B, message=message, create_date=date)  # 0004_add_orders.py, 0004_add_invoices.py
        origin.commit(f"{branch}: migrations")
        origin.checkout("main")
    report = collisions_json(origin, "num/1", "num/2", "--base", "main", code=1)
    [collision] = report["collisions"]
    assert (collision["a"], collision["b"], collision["same_ids"]) == ("num/1", "num/2", ["0004"])
    # The same revision on two branches (stacked) is no such collision.
    assert collisions_json(origin, "feature/a", "stack/a2", "--base", "main", code=0)["collisions"] == []

    clone = origin.clone(tmp_path / "clone")
    out = clone.run("collisions", "origin/num/1", "origin/num/2", check=1).stdout
    assert "both add 0004 in files of their own (one id, two files)" in out
    assert "2. after origin/num/1 has landed, rebase origin/num/2 (both add 0004: fix gives origin/num/2's a new id)" in out

    assert follow_the_printed_steps(origin, clone, out) == ["origin/num/1", "origin/num/2"]
    with Workspace(Options(cwd=origin.path)) as ws:
        (main,) = heads(ws, "main")
    assert main.graph.heads == tuple(sorted(["0005", R]))
    assert main.graph["0005"].down_revisions == ("0004",) and not main.graph.duplicates


# --------------------------------------------- same count as RG101/RG102
def _revisions(spec) -> list[Revision]:
    return [Revision(r.id, r.down, r.branch_labels, r.depends_on) for r in spec]


def _excess(base: list[Revision], revisions: list[Revision]) -> int:
    ctx = CheckContext("default", Snapshot("default", "x", tuple(revisions)), base=Snapshot("default", "base", tuple(base)), landed=frozenset(r.id for r in base))
    return head_lanes(ctx, RevisionGraph(revisions)).excess


@st.composite
def queues(draw):
    """A random DAG split into a landed prefix and two branches' parent-closed additions."""
    spec = draw(dags(min_size=2, max_size=10))
    cut = draw(st.integers(1, len(spec) - 1))
    base, rest = spec[:cut], spec[cut:]

    def additions() -> list:
        picked: list = []
        for rev in rest:
            needs = set(rev.down) | set(rev.depends_on)
            if needs <= {r.id for r in base + picked} | {r.branch_labels[0] for r in base + picked if r.branch_labels} and draw(st.booleans()):
                picked.append(rev)
        return picked

    return base, additions(), additions()


@settings(max_examples=60, deadline=None)
@given(queues())
def test_collision_and_fork_verdicts_match_the_head_lanes_of_rg101(case):
    base_spec, a_spec, b_spec = case
    base, a_new, b_new = _revisions(base_spec), _revisions(a_spec), _revisions(b_spec)
    report = find_collisions(
        "main",
        {"default": Snapshot("default", "main", tuple(base))},
        {
            "a": {"default": Snapshot("default", "a", tuple(base + a_new))},
            "b": {"default": Snapshot("default", "b", tuple(base + b_new))},
        },
    )
    joint = base + a_new + [r for r in b_new if r not in a_new]
    excess_a, excess_b = _excess(base, base + a_new), _excess(base, base + b_new)
    base_excess = _excess(base, base)

    forks = {f.ref for f in report.forks}
    assert forks == {ref for ref, new, ex in (("a", a_new, excess_a), ("b", b_new, excess_b)) if new and ex > base_excess}
    # A pair collides when landing both leaves more extra heads than the two add alone
    # (a branch that joins base's heads takes one away: see test_a_branch_joining_...).
    added_alone = (excess_a - base_excess) + (excess_b - base_excess)
    expect_pair = bool(a_new and b_new) and _excess(base, joint) - base_excess > added_alone
    assert bool(report.collisions) == expect_pair


def test_a_down_revision_cycle_on_a_branch_is_a_problem_found_without_hanging():
    landed = (Revision(A),)
    cycle = (Revision(FA, (FB,)), Revision(FB, (FA,)), Revision(FC, (A,)))
    report = find_collisions(
        "main",
        {"default": Snapshot("default", "main", landed)},
        {"loop": {"default": Snapshot("default", "loop", landed + cycle)}},
    )

    (branch,) = report.branches
    assert sorted(branch.new) == sorted([FA, FB, FC])
    # alembic cannot load a cycle: the branch is mended before it lands (RG105).
    assert [(p.ref, p.code) for p in report.problems] == [("loop", "RG105")]
    assert not report.ok and report.order == () and report.blocked == ("loop",)


def test_a_merge_of_two_labelled_lines_collides_with_a_branch_growing_one_of_them():
    # base: a (label app) and r (label rep), two landed lines. Branch one joins them
    # in a merge revision; branch two adds r2 on r. Together, `rep@head` names both
    # m and r2: the lanes of RG101 overlap on rep, and so must collisions'.
    a = Revision("aaaa00000001", (), ("app",))
    r = Revision("cccc00000003", (), ("rep",))
    m = Revision("dddd00000004", (a.id, r.id))
    r2 = Revision("eeee00000005", (r.id,))
    base = [a, r]
    report = find_collisions(
        "main",
        {"default": Snapshot("default", "main", tuple(base))},
        {
            "one": {"default": Snapshot("default", "one", (*base, m))},
            "two": {"default": Snapshot("default", "two", (*base, r2))},
        },
    )
    assert _excess(base, [*base, m, r2]) == 1  # what RG101 says of both landed
    assert not report.forks
    assert [(c.a, c.b) for c in report.collisions] == [("one", "two")]


# ------------------------------- judged by the merge landing would really make
def landed_heads(repo: GitRepo, tmp_path, *refs: str) -> subprocess.CompletedProcess[str]:
    """Ground truth: ``git merge`` each of ``refs`` into main in a clone, then ``alembic heads``."""
    clone = repo.clone(tmp_path / f"landed-{'-'.join(r.replace('/', '_') for r in refs)}")
    for ref in refs:
        clone.merge(f"origin/{ref}")
    return clone.alembic("heads", check=None)


def chain_on_main(repo: GitRepo, *ids: str) -> None:
    """``ids`` as one line on main (the first a base), one commit each."""
    repo.init_env()
    parent = None
    for rid in ids:
        repo.add_revision(rid, parent, message=f"add {rid}")
        repo.commit(f"add {rid}")
        parent = rid


def test_a_revision_base_reverted_is_not_new_on_a_branch_forked_before_the_revert(gitrepo, tmp_path):
    # QA: "stale" (forked while c existed, adds nothing) was told it adds c and forks;
    # "fx" (d on c) was told to rebase, but c no longer exists on main: alembic fails.
    chain_on_main(gitrepo, "a", "b", "c")
    gitrepo.branch("stale")
    on_branch(gitrepo, "fx", "main", ("d", "c", {}))
    gitrepo.git("rm", "-q", "migrations/versions/c_add_c.py")
    gitrepo.add_revision("e", "b", message="add e")
    gitrepo.commit("revert c, add e")

    report = collisions_json(gitrepo, "stale", "fx", "--base", "main", code=1)

    branches = {b["ref"]: b for b in report["branches"]}
    assert branches["stale"]["new"] == [] and report["nothing_to_land"] == ["stale"]
    assert {f["ref"] for f in report["forks"]} <= {"fx"}
    assert [(p["ref"], p["code"]) for p in report["problems"]] == [("fx", "RG104")]
    assert "'c', which does not exist once it lands on main" in report["problems"][0]["message"]
    assert report["order"] == [] and report["blocked"] == ["fx"]
    assert landed_heads(gitrepo, tmp_path, "stale").stdout.split() == ["e", "(head)"]
    assert "KeyError" in landed_heads(gitrepo, tmp_path, "fx").stderr


def test_a_branch_that_repoints_or_deletes_a_landed_revision_has_a_problem(gitrepo, tmp_path):
    chain_on_main(gitrepo, "a", "b", "c")
    gitrepo.git("checkout", "-q", "-b", "repoint", "main")
    gitrepo.add_revision("c", "a", message="add c")  # the same file, c now on a
    gitrepo.commit("repoint c")
    gitrepo.git("checkout", "-q", "-b", "delb", "main")
    gitrepo.git("rm", "-q", "migrations/versions/b_add_b.py")
    gitrepo.commit("delete b")
    gitrepo.checkout("main")

    done = gitrepo.run("collisions", "repoint", "delb", "--base", "main", check=1)

    assert "nothing to land" not in done.stdout
    assert "repoint [default]: RG201 re-points landed c from b to a" in done.stdout
    assert "delb [default]: RG202 deletes landed b (migrations/versions/b_add_b.py)" in done.stdout
    assert "not in the landing order until mended: repoint, delb" in done.stdout
    assert len(landed_heads(gitrepo, tmp_path, "repoint").stdout.splitlines()) == 2  # b and c
    assert "KeyError" in landed_heads(gitrepo, tmp_path, "delb").stderr


def test_a_branch_naming_what_only_another_branch_adds_lands_after_it(gitrepo, tmp_path):
    # QA: X's x depends on y, which only Y adds; X was told to land first, and alembic
    # then fails (KeyError: 'y').
    gitrepo.init_env()
    gitrepo.add_revision("a1", None, message="alpha", branch_labels="alpha")
    gitrepo.add_revision("b1", None, message="beta", branch_labels="beta")
    gitrepo.commit("two lines")
    on_branch(gitrepo, "X", "main", ("x", "a1", {"depends_on": "y"}))
    on_branch(gitrepo, "Y", "main", ("y", "b1", {}))

    for refs in (("X", "Y"), ("Y", "X")):
        report = collisions_json(gitrepo, *refs, "--base", "main", code=1)
        assert report["order"] == ["Y", "X"], refs
        assert report["collisions"] == [] and report["problems"] == []
        assert report["needs"] == [{"ref": "X", "environment": "default", "revision": "x", "target": "y", "providers": ["Y"]}]
        assert report["steps"][1]["waits_for"] == {"Y": "x names y, which Y adds"}
    out = gitrepo.run("collisions", "X", "Y", "--base", "main", check=1).stdout
    assert "2. land X  (collides with nothing; not before Y: x names y, which Y adds)" in out
    markdown = gitrepo.run("collisions", "X", "Y", "--base", "main", "--format", "markdown", check=1).stdout
    assert "the order below matters" in markdown and "any order" not in markdown
    assert "2. land `X` (not before Y: x names y, which Y adds)" in markdown
    assert "KeyError" in landed_heads(gitrepo, tmp_path, "X").stderr
    assert landed_heads(gitrepo, tmp_path, "Y", "X").returncode == 0
    # Alone, X names what nothing adds: a problem of its own.
    alone = collisions_json(gitrepo, "X", "--base", "main", code=1)
    assert [(p["ref"], p["code"]) for p in alone["problems"]] == [("X", "RG104")]


def test_an_unreadable_revision_file_is_a_problem_not_nothing_to_land(gitrepo):
    chain_on_main(gitrepo, "a", "b")
    gitrepo.git("checkout", "-q", "-b", "A", "main")
    path = gitrepo.add_revision("x", "b", message="add x")
    text = gitrepo.read(path).decode()
    gitrepo.write(path, text.replace("= 'b'\n", "= 'b' if True else None\n", 1))
    gitrepo.commit("x, not a literal")
    on_branch(gitrepo, "B", "main", ("y", "b", {}))
    assert "if True" in gitrepo.show("A", path).decode()

    done = gitrepo.run("collisions", "A", "B", "--base", "main", check=1)
    assert "nothing to land" not in done.stdout
    assert f"A [default]: RG107 {path}:" in done.stdout
    assert "1. land B  (collides with nothing)" in done.stdout
    assert "not in the landing order until mended: A" in done.stdout
    markdown = gitrepo.run("collisions", "A", "B", "--base", "main", "--format", "markdown", check=1).stdout
    assert "can land in any order" not in markdown and "RG107" in markdown


def test_a_branch_joining_bases_heads_collides_with_one_growing_one_of_them(gitrepo, tmp_path):
    # QA: main has heads b and c; M merges them, X grows b. Each alone leaves no more
    # heads than main has, and both "collided with nothing"; together they leave m and x.
    gitrepo.init_env()
    gitrepo.add_revision("a", None, message="add a")
    gitrepo.add_revision("b", "a", message="add b")
    gitrepo.add_revision("c", "a", message="add c")
    gitrepo.commit("two heads")
    on_branch(gitrepo, "M", "main", ("m", ("b", "c"), {}))
    on_branch(gitrepo, "X", "main", ("x", "b", {}))

    report = collisions_json(gitrepo, "M", "X", "--base", "main", code=1)

    assert pairs(report) == [("M", "X")]
    assert sorted(report["collisions"][0]["heads"]) == ["m", "x"]
    assert report["steps"][1]["rebase"] and report["steps"][1]["after"] == [report["order"][0]]
    assert len(landed_heads(gitrepo, tmp_path, "M", "X").stdout.splitlines()) == 2


def test_a_parent_that_does_not_exist_is_called_missing_not_a_new_base(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("a1", None, message="alpha", branch_labels="alpha")
    gitrepo.add_revision("a2", "a1", message="more alpha")
    gitrepo.commit("alpha line")
    on_branch(gitrepo, "X", "main", ("x", "alpha", {}))  # a branch label, not a revision
    on_branch(gitrepo, "Y", "main", ("y", "a2_typo", {}))

    out = gitrepo.run("collisions", "X", "Y", "--base", "main", check=1).stdout

    assert "(new base)" not in out
    assert "X  adds x on alpha (missing)" in out and "Y  adds y on a2_typo (missing)" in out
    assert "X [default]: RG104 x: down_revision names 'alpha', a branch label" in out
    assert "Y [default]: RG104 y: down_revision names 'a2_typo', which does not exist once it lands on main" in out
    report = collisions_json(gitrepo, "X", "Y", "--base", "main", code=1)
    assert {b["ref"]: b["missing_parents"] for b in report["branches"]} == {"X": ["alpha"], "Y": ["a2_typo"]}


def run_step(repo: GitRepo, command: str) -> subprocess.CompletedProcess[str]:
    if command.startswith("revgraph "):
        command = f"{shlex.quote(sys.executable)} -m {command}"
    return subprocess.run(["bash", "-c", command], cwd=repo.path, capture_output=True, text=True, env=repo.env)


def second_step_commands(out: str, title: str) -> list[str]:
    return [line.strip() for line in out.split(title, 1)[1].split("\n  3. ", 1)[0].splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("pushed", ["before the analysis", "after the analysis"])
def test_the_steps_for_a_remote_branch_rebase_what_was_analysed_and_never_drop_a_push(make_gitrepo, tmp_path, pushed):
    # QA: the steps said `git switch feature/a` (the local branch, behind origin's)
    # and `git push --force-with-lease origin feature/a`, which compares with what the
    # fetch just brought: a teammate's pushed commit was overwritten. Now the steps
    # rebase the commit analysed and lease on it: what was pushed before the analysis
    # is rebased with the rest, what was pushed after it makes the push refuse.
    origin = build_queue(make_gitrepo("origin"))
    origin.git("config", "receive.denyCurrentBranch", "ignore")
    clone = origin.clone(tmp_path / "clone")
    clone.git("branch", "-q", "feature/a", "origin/feature/a")  # a local copy, soon behind
    local = clone.rev_parse("refs/heads/feature/a")

    def teammate_pushes() -> None:
        origin.checkout("feature/a")
        origin.write("teammate.txt", f"{pushed}\n")
        origin.commit(f"teammate: pushed {pushed}")
        origin.checkout("main")

    if pushed == "before the analysis":
        teammate_pushes()
        clone.git("fetch", "-q", "origin")
    out = clone.run("collisions", "origin/feature/a", "origin/feature/b", check=1).stdout
    commands = second_step_commands(out, "2. after origin/feature/b has landed")
    if pushed == "after the analysis":
        teammate_pushes()
    origin.git("merge", "-q", "--no-ff", "--no-edit", "feature/b")  # step 1 lands

    results = [run_step(clone, command) for command in commands]
    assert [r.returncode for r in results[:-1]] == [0] * (len(results) - 1), results
    if pushed == "before the analysis":
        assert results[-1].returncode == 0, results[-1].stderr
        with Workspace(Options(cwd=origin.path)) as ws:
            (feature,) = heads(ws, "feature/a")
        assert feature.graph[FA].down_revisions == (FB,)  # rebased and pushed
    else:
        assert results[-1].returncode != 0 and "stale info" in results[-1].stderr
    assert origin.show("feature/a", "teammate.txt") == f"{pushed}\n".encode()
    assert clone.rev_parse("refs/heads/feature/a") == local  # the local branch is left as it was


@pytest.mark.parametrize("kind", ["sha", "tag", "relative"])
def test_the_steps_for_a_ref_that_is_no_branch_run(make_gitrepo, kind):
    # QA: `git switch <sha>` / `git switch v1` / `git switch HEAD~0`: git refuses each.
    repo = build_queue(make_gitrepo("origin"))
    sha = repo.rev_parse("feature/a")
    ref = {"sha": sha[:9], "tag": "v1", "relative": "feature/a~0"}[kind]
    repo.git("tag", "v1", "feature/a")

    out = repo.run("collisions", "feature/b", ref, "--base", "main", check=1).stdout
    commands = second_step_commands(out, "2. after feature/b has landed")
    assert commands[0] == f"git switch --detach {sha}"
    assert commands[-1].startswith(f"echo '{ref} is no branch: once the rebase is done, push HEAD to the branch")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/b")  # step 1 lands
    for command in commands:
        done = run_step(repo, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert repo.git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "HEAD"  # detached, rebased
    with Workspace(Options(cwd=repo.path)) as ws:
        (here,) = heads(ws, None)
    assert here.graph[FA].down_revisions == (FB,)


def _two_lanes_and_a_shared_landed_file(repo: GitRepo) -> str:
    """main: A <- B on the 'core' line, R on 'reporting'; returns A's path."""
    repo.init_env()
    a_path = repo.add_revision(A, None, message="create users", branch_labels="core")
    repo.add_revision(B, A, message="create tasks")
    repo.add_revision(R, None, message="reporting", branch_labels="reporting")
    repo.commit("two labelled lines")
    return a_path


def _fx_changes_a_and_fy_edits_its_downgrade(gitrepo, change_a) -> None:
    """fx: ``change_a(path of A)`` and FA on B; fy: a line added to A and FC on R; back on main."""
    a_path = _two_lanes_and_a_shared_landed_file(gitrepo)
    gitrepo.git("checkout", "-q", "-b", "fx")
    change_a(a_path)
    gitrepo.add_revision(FA, B, message="add fa")
    gitrepo.commit("fx")
    gitrepo.git("checkout", "-q", "-b", "fy", "main")
    gitrepo.write(a_path, gitrepo.read(a_path) + b"\n# kept for the downgrade\n")
    gitrepo.add_revision(FC, R, message="add fc")
    gitrepo.commit("fy")
    gitrepo.checkout("main")


def test_two_branches_editing_different_parts_of_one_landed_file_do_not_collide(gitrepo):
    # A reviewer: one branch fixes A's docstring, the other edits A's downgrade(); git
    # merges the two cleanly into one file. collisions kept both versions: "both add
    # 0a0a0a0a0a01 in files of their own", and told the second to renumber a landed id.
    def fix_the_docstring(a_path):
        gitrepo.write(a_path, gitrepo.read(a_path).replace(b'"""create users', b'"""Create users'))

    _fx_changes_a_and_fy_edits_its_downgrade(gitrepo, fix_the_docstring)

    report = collisions_json(gitrepo, "fx", "fy", "--base", "main", code=0)

    assert report["collisions"] == [] and report["problems"] == []
    gitrepo.merge("fx")
    gitrepo.merge("fy")  # the truth: a clean merge, one file of A, one head per line
    assert sorted(gitrepo.alembic("heads").stdout.split()[::3]) == sorted([FA, FC])


def test_a_branch_renaming_a_landed_file_and_one_editing_it_do_not_collide(gitrepo):
    def rename(a_path):
        gitrepo.git("mv", a_path, a_path.replace(".py", "_renamed.py"))

    _fx_changes_a_and_fy_edits_its_downgrade(gitrepo, rename)

    report = collisions_json(gitrepo, "fx", "fy", "--base", "main", code=0)

    assert report["collisions"] == [] and report["problems"] == []
    gitrepo.merge("fx")
    gitrepo.merge("fy")
    assert len(list((gitrepo.path / "migrations" / "versions").glob("*.py"))) == 5


def test_two_branches_re_pointing_one_landed_revision_two_ways_still_collide(gitrepo):
    a_path = _two_lanes_and_a_shared_landed_file(gitrepo)
    b_path = next((gitrepo.path / "migrations" / "versions").glob(f"{B}_*.py")).relative_to(gitrepo.path)
    for name, parent in (("fx", R), ("fy", None)):
        gitrepo.git("checkout", "-q", "-b", name, "main")
        text = gitrepo.read(b_path).replace(f"= '{A}'".encode(), f"= {parent!r}".encode())
        gitrepo.write(b_path, text)
        gitrepo.commit(name)
    gitrepo.checkout("main")

    report = collisions_json(gitrepo, "fx", "fy", "--base", "main", code=1)

    assert {p["code"] for p in report["problems"]} == {"RG201"}  # each re-points landed B alone
    assert a_path


def test_steps_followed_line_by_line_through_a_lock_conflict_never_push_base_over_the_branch(make_gitrepo, tmp_path):
    # A reviewer: with the heads lock installed, `git rebase origin/main` stops on the
    # lock file; fix stages the re-point and says `git rebase --continue`; the printed
    # push, run next, pushed HEAD (base's commits, mid-rebase) over feature/a: its
    # revisions were gone from origin. The push now names the branch the rebase
    # moves only once it is done: mid-rebase it pushes nothing new.
    origin = make_gitrepo("origin")
    origin.commit_installed_base(A, message="create users")
    origin.git("config", "receive.denyCurrentBranch", "ignore")
    for name, rid in (("feature/a", FA), ("feature/b", FB)):
        origin.git("checkout", "-q", "-b", name, "main")
        origin.commit_locked_revision(rid, A, message=f"add {rid}")
    origin.checkout("main")
    clone = origin.clone(tmp_path / "clone")
    clone.run("install", "--merge-driver", check=True)  # git config is not cloned
    out = clone.run("collisions", "origin/feature/a", "origin/feature/b", check=1).stdout
    later = "origin/feature/a" if "after origin/feature/b has landed" in out else "origin/feature/b"
    first = "feature/b" if later == "origin/feature/a" else "feature/a"
    commands = second_step_commands(out, f"2. after origin/{first} has landed")
    origin.git("merge", "-q", "--no-ff", "--no-edit", first)  # step 1 lands
    branch = later.removeprefix("origin/")
    before = origin.rev_parse(branch)

    results = [run_step(clone, command) for command in commands]

    stopped = next(r for c, r in zip(commands, results) if c.startswith("git rebase "))
    assert stopped.returncode != 0  # the lock file stopped the rebase, as the reviewer saw
    assert origin.rev_parse(branch) == before, results  # nothing pushed mid-rebase, nothing lost
    clone.git("rebase", "--continue", input="")  # what fix said to do
    pushed = run_step(clone, commands[-1])
    assert pushed.returncode == 0, (pushed.stdout, pushed.stderr, results)
    with Workspace(Options(cwd=origin.path)) as ws:
        (rebased,) = heads(ws, branch)
    assert rebased.graph[FA if branch == "feature/a" else FB].down_revisions == ((FB if branch == "feature/a" else FA),)


def test_steps_stopped_by_a_conflict_elsewhere_commit_no_markers_and_finish_when_run_again(make_gitrepo, tmp_path):
    # A reviewer: the rebase stopped on models.py before the revision's commit was
    # replayed; `git diff --quiet || git commit -am ...` committed the conflict
    # markers, and the push sent them, with a second alembic head, to origin.
    origin = make_gitrepo("origin")
    origin.init_env()
    origin.add_revision(A, None, message="create users")
    origin.write("models.py", "users = 1\n")
    origin.commit("root")
    origin.git("config", "receive.denyCurrentBranch", "ignore")
    origin.git("checkout", "-q", "-b", "feature/a")
    origin.write("models.py", "users = 2\n")
    origin.add_revision(FA, A, message="add fa")
    origin.commit("feature/a")
    origin.git("checkout", "-q", "-b", "feature/b", "main")
    origin.write("models.py", "users = 3\n")
    origin.commit("feature/b: models first")
    origin.add_revision(FB, A, message="add fb")
    origin.commit("feature/b: then its revision")
    origin.checkout("main")
    clone = origin.clone(tmp_path / "clone")
    out = clone.run("collisions", "origin/feature/a", "origin/feature/b", check=1).stdout
    commands = second_step_commands(out, "2. after origin/feature/a has landed")
    origin.git("merge", "-q", "--no-ff", "--no-edit", "feature/a")  # step 1 lands
    before = origin.rev_parse("feature/b")

    results = [run_step(clone, command) for command in commands]

    assert "the rebase stopped" in results[-2].stdout and results[-1].returncode != 0
    assert origin.rev_parse("feature/b") == before
    assert "<<<<<<<" not in clone.git("log", "-p", "revgraph-rebase/feature/b").stdout
    clone.write("models.py", "users = 23\n")
    clone.git("add", "models.py")
    clone.git("-c", "core.editor=true", "rebase", "--continue")
    for command in commands[3:]:  # fix, commit, push: what the steps say to run again
        done = run_step(clone, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    with Workspace(Options(cwd=origin.path)) as ws:
        (landed,) = heads(ws, "feature/b")
    assert landed.graph[FB].down_revisions == (FA,)
    assert "<<<<<<<" not in origin.show("feature/b", "models.py").decode()


def test_a_landed_revision_renamed_two_ways_is_nobody_s_to_renumber(gitrepo):
    # A reviewer: each branch renamed landed A's file its own way (git stops at that
    # rename/rename); collisions said "both add A in files of their own" and told
    # the second branch to give landed A a new id.
    a_path = _two_lanes_and_a_shared_landed_file(gitrepo)
    for name, rid in (("fx", FA), ("fy", FC)):
        gitrepo.git("checkout", "-q", "-b", name, "main")
        gitrepo.git("mv", a_path, a_path.replace(".py", f"_{name}.py"))
        gitrepo.add_revision(rid, B, message=f"add {rid}")
        gitrepo.commit(name)
    gitrepo.checkout("main")

    report = collisions_json(gitrepo, "fx", "fy", "--base", "main", code=1)
    text = gitrepo.run("collisions", "fx", "fy", "--base", "main", check=1).stdout

    assert [c["same_ids"] for c in report["collisions"]] == [[]]
    assert "a new id" not in text and A not in text.split("landing order")[1]
