"""The merge driver end to end (issue 5, "How it must be shown").

A real repository with the driver installed by `revgraph install`; two
branches add a revision on the same head; git merge / rebase / cherry-pick
stop with a conflict only in the lock file, whose text says `revgraph fix`;
`revgraph fix` and `--continue` finish the job and the feature's revision ends
up on main's head. Revision parents are read back with alembic's own
ScriptDirectory, not with revgraph. git's trace2 events show when the driver
ran, with what exit code and for how long.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import subprocess
import uuid

import pytest

from revgraph.gitops import driver, union
from revgraph.lockfile import parse_lock
from tests.support.revfiles import TEMPLATES
from tests.support.gitrepo import run_module

LOCK = "migrations/revgraph.lock"
BASE_ID = "a1a1a1a1a1a1"
MAIN_ID = "b2b2b2b2b2b2"
FEATURE_ID = "c3c3c3c3c3c3"


# ------------------------------------------------------------------ helpers
def _base(repo) -> None:
    """Base revision and the revgraph driver + lock installed through the CLI, committed on main."""
    repo.commit_installed_base(BASE_ID, message="create users")


@pytest.fixture
def repo(tmp_path, git_env, repo_templates):
    """``_base``'s repository: built once (``repo_templates``), a copy of its own for each test."""
    return repo_templates.copy("merge_driver_e2e base", tmp_path / "repo", _base)[0]


def _built_on_base(steps):
    """A template build: ``_base``, then ``steps``; returns what ``steps`` returns."""

    def build(repo):
        _base(repo)
        return steps(repo)

    return build


def _add_on_branch(repo, branch: str, rev_id: str, message: str) -> str:
    repo.checkout(branch)
    repo.add_revision(rev_id, BASE_ID, message=message)
    repo.run("lock", check=True)
    return repo.commit(f"{branch}: {message}")


def _both_add_steps(repo) -> str:
    repo.branch("feature")
    _add_on_branch(repo, "main", MAIN_ID, "add orders")
    feature_commit = _add_on_branch(repo, "feature", FEATURE_ID, "add invoices")
    repo.checkout("main")
    return feature_commit


def _both_add(repo, templates) -> str:
    """main and feature each add a revision on BASE_ID; returns feature's commit; ends on main.

    ``repo`` is ``_base``'s; the state is built once and copied in its place.
    """
    return templates.replace(repo, "merge_driver_e2e both add", _built_on_base(_both_add_steps))


def _traced(repo, *git_args: str):
    """Run git with trace2 on: (process, [(exit code, seconds)] of each merge-driver run)."""
    trace = repo.path.parent / f"trace-{uuid.uuid4().hex}.json"
    env = dict(os.environ if repo.env is None else repo.env, GIT_TRACE2_EVENT=str(trace))
    proc = subprocess.run(
        ["git", *git_args], cwd=repo.path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()] if trace.exists() else []
    drivers = {
        e["child_id"] for e in events
        if e["event"] == "child_start" and "merge-driver" in " ".join(e["argv"])
    }
    runs = [(e["code"], e["t_rel"]) for e in events if e["event"] == "child_exit" and e["child_id"] in drivers]
    return proc, runs


def _conflicted(repo) -> list[str]:
    out = repo.git("diff", "--name-only", "-z", "--diff-filter=U").stdout
    return sorted(p for p in out.split("\0") if p)


def _alembic_script(repo):
    """alembic's own view of the working tree's revisions."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(Config(str(repo.path / "alembic.ini")))


def _lock_heads(repo) -> tuple[str, ...]:
    return parse_lock(repo.read(LOCK).decode()).heads


def _assert_stopped_at_lock_only(proc, runs, repo) -> None:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert _conflicted(repo) == [LOCK]
    assert [code for code, _ in runs] == [1], runs
    text = repo.read(LOCK).decode()
    assert "revgraph fix" in text
    assert MAIN_ID in text and FEATURE_ID in text


def _fix_and_continue(repo, operation: str) -> None:
    fix = repo.run("fix")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert f"git {operation} --continue" in fix.stdout
    cont = repo.git(operation, "--continue", check=None)  # GIT_EDITOR=true in the isolated env
    assert cont.returncode == 0, cont.stdout + cont.stderr + repo.status()


def _assert_feature_on_main_head(repo) -> None:
    script = _alembic_script(repo)
    assert script.get_revision(FEATURE_ID).down_revision == MAIN_ID
    assert script.get_revision(MAIN_ID).down_revision == BASE_ID  # landed: never moved
    assert list(script.get_heads()) == [FEATURE_ID]
    assert _lock_heads(repo) == (FEATURE_ID,)
    check = repo.run("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert repo.status() == ""


# -------------------------------------------------------- both sides add
def test_merge_stops_only_at_lock_then_fix_and_continue_put_feature_on_main(repo, repo_templates):
    _both_add(repo, repo_templates)

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    _assert_stopped_at_lock_only(proc, runs, repo)
    _fix_and_continue(repo, "merge")
    _assert_feature_on_main_head(repo)


def test_rebase_of_feature_onto_main_stops_at_lock_and_fix_moves_the_feature(repo, repo_templates):
    _both_add(repo, repo_templates)
    repo.checkout("feature")

    proc, runs = _traced(repo, "rebase", "main")

    _assert_stopped_at_lock_only(proc, runs, repo)
    _fix_and_continue(repo, "rebase")
    assert repo.current_branch() == "feature"
    _assert_feature_on_main_head(repo)


def test_cherry_pick_onto_main_stops_at_lock_and_fix_moves_the_picked_revision(repo, repo_templates):
    feature_commit = _both_add(repo, repo_templates)

    proc, runs = _traced(repo, "cherry-pick", feature_commit)

    _assert_stopped_at_lock_only(proc, runs, repo)
    _fix_and_continue(repo, "cherry-pick")
    _assert_feature_on_main_head(repo)


# ------------------------------------------- a chain: its first revision is named
# The feature adds three revisions in one commit; fix re-points the first, not the head.
CHAIN = (("d1d1d1d1d1d1", "add invoices"), ("d2d2d2d2d2d2", "add invoice lines"), (FEATURE_ID, "index invoices"))
CHAIN_ROOT = CHAIN[0][0]


def _feature_adds_a_chain(repo, templates, *, head_file_extra: str = "") -> None:
    """main adds MAIN_ID on BASE_ID; feature adds CHAIN on BASE_ID in one commit. Ends on main.

    ``repo`` is ``_base``'s; the state is built once and copied in its place.
    """
    steps = functools.partial(_feature_adds_a_chain_steps, head_file_extra=head_file_extra)
    templates.replace(repo, f"merge_driver_e2e chain {head_file_extra!r}", _built_on_base(steps))


def _feature_adds_a_chain_steps(repo, head_file_extra: str) -> None:
    repo.branch("feature")
    _add_on_branch(repo, "main", MAIN_ID, "add orders")
    repo.checkout("feature")
    down = BASE_ID
    for rev_id, message in CHAIN:
        path = repo.add_revision(rev_id, down, message=message)
        down = rev_id
    if head_file_extra:
        repo.write(path, repo.read(path) + head_file_extra.encode())
    repo.run("lock", check=True)
    repo.commit("feature: invoices")
    repo.checkout("main")


def _assert_names_the_chain_root_fix_moves(repo, side: str) -> None:
    """The conflict names the chain's head and its first revision; fix moves exactly that one."""
    lines = repo.read(LOCK).decode().splitlines()
    chain_line = f"{side + ':':<8}{FEATURE_ID} (index invoices), chain from {CHAIN_ROOT} (add invoices)"
    main_line = f"{('theirs' if side == 'ours' else 'ours') + ':':<8}{MAIN_ID} (add orders)"
    assert f"#   {chain_line}" in lines, lines
    assert f"#   {main_line}" in lines, lines  # a single revision: as before
    assert any("re-points the first revision of the chain" in line for line in lines), lines
    assert parse_lock("\n".join(lines)).heads == tuple(sorted([MAIN_ID, FEATURE_ID]))
    fix = repo.run("fix", "--dry-run", check=True).stdout
    assert f"moved {CHAIN_ROOT}: {BASE_ID} -> {MAIN_ID}" in fix
    assert "moved d2d2d2d2d2d2" not in fix and f"moved {FEATURE_ID}" not in fix


@pytest.mark.parametrize(
    "on, git_args, side",
    [
        ("main", ("merge", "--no-edit", "feature"), "theirs"),
        ("feature", ("merge", "--no-edit", "main"), "ours"),
        ("feature", ("rebase", "main"), "theirs"),  # in a rebase git calls the upstream "ours"
    ],
    ids=["merge-feature-into-main", "merge-main-into-feature", "rebase-feature-onto-main"],
)
def test_the_conflict_names_the_first_revision_of_a_chain_which_fix_re_points(repo, repo_templates, on, git_args, side):
    _feature_adds_a_chain(repo, repo_templates)
    repo.checkout(on)

    proc, runs = _traced(repo, *git_args)

    _assert_stopped_at_lock_only(proc, runs, repo)
    _assert_names_the_chain_root_fix_moves(repo, side)
    _fix_and_continue(repo, git_args[0])
    script = _alembic_script(repo)
    assert script.get_revision(CHAIN_ROOT).down_revision == MAIN_ID
    assert list(script.get_heads()) == [FEATURE_ID]


def test_the_chain_root_is_named_when_the_reference_decides_the_conflict(repo, repo_templates):
    # A comment that may silence a rule leaves the decision to the reference
    # (the fast path's facts do not keep comments); its conflict names the root too.
    _feature_adds_a_chain(repo, repo_templates, head_file_extra="# revgraph: ignore[RG301]  (order checked by hand)\n")
    fast, full = _decisions(repo, "feature")
    assert fast.outcome == union.UNDECIDED and full is None

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    _assert_stopped_at_lock_only(proc, runs, repo)
    _assert_names_the_chain_root_fix_moves(repo, "theirs")


# ------------------------------------------------------ clean merges
def test_merge_where_only_the_feature_added_is_clean_and_takes_its_lock(repo):
    repo.branch("feature")
    _add_on_branch(repo, "feature", FEATURE_ID, "add invoices")
    feature_lock = repo.read(LOCK)
    repo.checkout("main")

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(code == 0 for code, _ in runs), runs
    assert repo.read(LOCK) == feature_lock
    assert _lock_heads(repo) == (FEATURE_ID,)
    assert repo.status() == ""


def test_driver_takes_the_side_that_changed_heads_when_the_other_only_reworded(repo):
    repo.branch("feature")
    _add_on_branch(repo, "feature", FEATURE_ID, "add invoices")
    feature_lock = repo.read(LOCK)
    repo.checkout("main")
    # main rewords the head's message: its lock text changes, its heads do not.
    path = next((repo.path / "migrations" / "versions").glob(f"{BASE_ID}_*.py"))
    path.write_text(path.read_text().replace('"""create users', '"""create the users table', 1))
    repo.remove(LOCK)  # `revgraph lock` keeps a lock whose heads are right; regenerate it
    repo.run("lock", check=True)
    repo.commit("main: reword")
    assert repo.read(LOCK) != repo.show("feature~1", LOCK)

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [code for code, _ in runs] == [0], runs  # the driver ran and merged cleanly
    assert repo.read(LOCK) == feature_lock
    assert repo.status() == ""


def test_same_revision_on_both_sides_merges_without_conflict(repo):
    repo.branch("feature")
    picked = _add_on_branch(repo, "feature", FEATURE_ID, "add invoices")
    repo.checkout("main")
    repo.cherry_pick(picked)
    # Each side goes on with unrelated work so that the merge is a real one.
    repo.write("README", "main\n")
    repo.commit("main: readme")
    repo.checkout("feature")
    repo.write("NOTES", "feature\n")
    repo.commit("feature: notes")
    repo.checkout("main")

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(code == 0 for code, _ in runs), runs
    assert _lock_heads(repo) == (FEATURE_ID,)
    assert list(_alembic_script(repo).get_heads()) == [FEATURE_ID]
    assert repo.status() == ""


def _both_number_0002_steps(repo) -> None:
    repo.branch("feature")
    _add_on_branch(repo, "main", "0002", "add orders")
    _add_on_branch(repo, "feature", "0002", "add invoices")


def _both_number_0002(repo, templates) -> None:
    """main and feature each add a revision 0002 on BASE_ID (lock included). Ends on feature.

    ``repo`` is ``_base``'s; the state is built once and copied in its place.
    """
    templates.replace(repo, "merge_driver_e2e both number 0002", _built_on_base(_both_number_0002_steps))


def test_two_branches_taking_the_same_numbered_id_stop_at_the_lock_file(repo, repo_templates):
    # QA: teams that number revisions (--rev-id 0002) collide on the next number.
    # Both lock files then record head 0002, so the driver took ours as merged,
    # and alembic kept one of the two files and silently skipped the other; and
    # fix, asked then, "fixed" the lock file alone.
    _both_number_0002(repo, repo_templates)
    repo.checkout("main")

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode != 0 and [code for code, _ in runs] == [1], (proc.stdout, proc.stderr, runs)
    assert _conflicted(repo) == [LOCK]
    text = repo.read(LOCK).decode()
    assert "both sides added revision 0002, each in a file of its own" in text
    assert "#   ours:   0002 (add orders)" in text and "#   theirs: 0002 (add invoices)" in text
    assert "both sides added revision 0002 (one id, two files); run `revgraph fix`" in proc.stderr

    # What the lock file says: fix gives the revision that has not landed (feature's) the
    # next number and re-points it; main's 0002 stays byte for byte.
    main_file = "migrations/versions/0002_add_orders.py"
    landed_bytes = repo.read(main_file)
    out = repo.run("fix", check=True).stdout
    assert "new id 0003 for migrations/versions/0002_add_invoices.py (0002 is " + main_file in out
    # Mid-merge fix stages what it writes, so it also gives the file its new name (RG403).
    assert "renamed to migrations/versions/0003_add_invoices.py (git mv)" in out
    assert "staged: migrations/versions/0003_add_invoices.py migrations/revgraph.lock" in out
    assert not (repo.path / "migrations/versions/0002_add_invoices.py").exists()
    assert sorted(repo.git("status", "--porcelain").stdout.strip().splitlines()) == [
        "A  migrations/versions/0003_add_invoices.py", "M  migrations/revgraph.lock",
    ]  # fmt: skip
    repo.git("commit", "-q", "--no-edit")
    script = _alembic_script(repo)
    assert list(script.get_heads()) == ["0003"]
    assert script.get_revision("0003").down_revision == "0002"
    assert script.get_revision("0003").doc == "add invoices"
    assert repo.read(main_file) == landed_bytes
    assert repo.run("check").returncode == 0


def test_two_unlanded_branches_taking_the_same_numbered_id_renumber_the_one_merged_into(repo):
    # Neither 0002 is on main: one feature branch merged into the other. The
    # branch being merged in counts as landed there, as it does for a re-point
    # (the work branch's own revisions move onto it, as in `git rebase <it>`), so
    # the lock file's "fix gives the revision that has not landed a new id" holds.
    # fix used to refuse ("fix RG103 first"): base has no file with the id. (Before
    # that, it rewrote the lock file with the one head 0002 and exited 0.)
    repo.branch("orders")
    repo.branch("invoices")
    _add_on_branch(repo, "orders", "0002", "add orders")
    _add_on_branch(repo, "invoices", "0002", "add invoices")
    repo.merge("orders", expect_conflict=True)
    assert _conflicted(repo) == [LOCK]
    orders_file = "migrations/versions/0002_add_orders.py"
    landed_bytes = repo.read(orders_file)

    done = repo.run("fix")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"new id 0003 for migrations/versions/0002_add_invoices.py (0002 is {orders_file}" in done.stdout
    assert "renamed to migrations/versions/0003_add_invoices.py (git mv)" in done.stdout
    # The renamed file is staged, and named, under its new name: nothing is left to `git add`.
    assert f"moved 0003: {BASE_ID} -> 0002  (migrations/versions/0003_add_invoices.py)" in done.stdout, done.stdout
    assert "next: git merge --continue" in done.stdout, done.stdout
    assert repo.git("diff", "--name-only").stdout == "" and _conflicted(repo) == []
    repo.git("commit", "-q", "--no-edit")
    script = _alembic_script(repo)
    assert list(script.get_heads()) == ["0003"]
    assert script.get_revision("0003").down_revision == "0002"
    assert repo.read(orders_file) == landed_bytes
    assert repo.run("check").returncode == 0


def test_two_branches_writing_a_project_s_first_migration_are_sent_to_the_merge_strategy(gitrepo):
    # No revision yet; each branch writes the first one (down_revision = None). No
    # rebase can re-point a base, so "run `revgraph fix`" led to "nothing for
    # --strategy rebase to change": the driver names the merge strategy itself.
    gitrepo.init_env(commit=False)
    gitrepo.run("install", check=True)
    gitrepo.commit("revgraph, no migration yet")
    for branch, rid in (("orders", "0a0a0a0a0a0a"), ("invoices", "0b0b0b0b0b0b")):
        gitrepo.git("checkout", "-q", "-b", branch, "main")
        gitrepo.add_revision(rid, None, message=f"first: {branch}")
        gitrepo.run("lock", check=True)
        gitrepo.commit(branch)

    proc, runs = _traced(gitrepo, "merge", "--no-edit", "orders")

    assert proc.returncode != 0 and [code for code, _ in runs] == [1], (proc.stdout, proc.stderr, runs)
    text = gitrepo.read(LOCK).decode()
    assert "# revgraph: both sides added a first migration (down_revision = None)" in text, text
    assert "# Resolve: run `revgraph fix --strategy merge` (it writes a merge revision joining them" in text
    assert "both sides added a first migration (down_revision = None); run `revgraph fix --strategy merge`" in proc.stderr
    # `lock` refuses to record the two heads mid-merge, and sends to the same command.
    for args in (("lock",), ("lock", "--check")):
        refused = gitrepo.run(*args)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "run `revgraph fix --strategy merge`" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    done = gitrepo.run("fix", "--strategy", "merge")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _conflicted(gitrepo) == []
    gitrepo.git("commit", "-q", "--no-edit")
    assert len(_alembic_script(gitrepo).get_heads()) == 1
    assert gitrepo.run("check").returncode == 0  # RG204: a second base is a warning


def test_the_graph_of_a_numbered_collision_draws_both_files(repo, repo_templates):
    # Reviewers look at the picture: it drew one 0002, with the feature's message
    # marked [landed], as if the feature's revision were main's.
    _both_number_0002(repo, repo_templates)

    out = repo.run("graph", "--format", "json", "--base", "main", check=True).stdout

    nodes = [n for n in json.loads(out)["nodes"] if n["label"] == "0002"]
    marks = {n["message"]: set(n["marks"]) for n in nodes}
    assert marks == {"add orders": {"head", "landed", "conflict"}, "add invoices": {"head", "new", "conflict"}}
    tree = repo.run("graph", "--base", "main", check=True).stdout
    assert "0002 add orders [head] [landed] [conflict]" in tree
    assert "0002 add invoices [head] [new] [conflict]" in tree


def _protected_and_both_number_0002_steps(repo) -> None:
    repo.write("pyproject.toml", '[tool.revgraph]\nprotected = ["release/*"]\n')
    repo.commit("protect release branches")
    _both_number_0002_steps(repo)


@pytest.mark.parametrize("released", ["main", "feature"])
def test_a_protected_ref_holding_the_branch_s_file_keeps_its_id(repo, repo_templates, released):
    # A release branch cut from main holds main's 0002: the feature's still gets a new
    # id. One cut from the feature holds the feature's: that one has landed too, and
    # fix refuses rather than renumber a file a release may have run.
    # (Built once for both cases: release/* protected, then both sides add 0002.)
    repo_templates.replace(
        repo, "merge_driver_e2e protected, both number 0002", _built_on_base(_protected_and_both_number_0002_steps)
    )
    repo.git("branch", "release/1", released)
    repo.checkout("main")
    repo.merge("feature", expect_conflict=True)

    done = repo.run("fix")

    if released == "main":
        assert done.returncode == 0, done.stderr
        assert "new id 0003 for migrations/versions/0002_add_invoices.py" in done.stdout
    else:
        assert done.returncode != 0 and "fix RG103 first" in done.stderr
        assert _conflicted(repo) == [LOCK]


def test_a_rebase_replaying_numbered_revisions_one_by_one_gives_new_ids_past_the_branch_s_own(repo):
    # QA: a rebase applies the branch a commit at a time. The first commit's 0002 got
    # the next number, 0003, which the branch's next commit also adds: that commit
    # then stopped on "0003 is declared by several files".
    repo.branch("feature")
    _add_on_branch(repo, "main", "0002", "add orders")
    repo.checkout("feature")
    for rev_id, down, message in (("0002", BASE_ID, "add invoices"), ("0003", "0002", "add invoice lines")):
        repo.add_revision(rev_id, down, message=message)
        repo.run("lock", check=True)
        repo.commit(f"feature: {message}")

    repo.rebase("main", expect_conflict=True)
    out = repo.run("fix", check=True).stdout
    assert "new id 0004 for migrations/versions/0002_add_invoices.py" in out
    # The commits still to replay may edit it under its old name: the rename is left to the user.
    assert "rename it: git mv -- migrations/versions/0002_add_invoices.py" in out and "renamed to" not in out
    proc = repo.git("-c", "core.editor=true", "rebase", "--continue", check=None)
    assert proc.returncode != 0 and _conflicted(repo) == [LOCK]  # the next commit: 0003 on the old 0002
    assert "moved 0003: 0002 -> 0004" in repo.run("fix", check=True).stdout
    repo.git("-c", "core.editor=true", "rebase", "--continue")

    script = _alembic_script(repo)
    assert list(script.get_heads()) == ["0003"]
    assert [script.get_revision(r).down_revision for r in ("0003", "0004")] == ["0004", "0002"]
    assert script.get_revision("0002").doc == "add orders"
    assert repo.run("check", "--base", "main").returncode == 0


# ------------------------------------------- both sides changed, decided fast
def _decisions(repo, branch: str):
    """The fast path's decision and the reference's, for merging ``branch`` into HEAD."""
    sha = repo.rev_parse(branch)
    return driver.fast_decision(LOCK, sha, cwd=repo.path), driver.full_union_entries(LOCK, sha, cwd=repo.path)


def _feature_went_further(repo) -> None:
    """main and feature carry the same revision (byte for byte); feature adds one on top. Ends on main."""
    same_day = "2024-06-03 10:00:00.000000"  # byte-identical files on both sides
    repo.branch("feature")
    repo.add_revision(MAIN_ID, BASE_ID, message="add orders", create_date=same_day)
    repo.run("lock", check=True)
    repo.commit("main: orders")
    repo.checkout("feature")
    repo.add_revision(MAIN_ID, BASE_ID, message="add orders", create_date=same_day)
    repo.add_revision(FEATURE_ID, MAIN_ID, message="add invoices")
    repo.run("lock", check=True)
    repo.commit("feature: orders and invoices")
    repo.checkout("main")


def test_both_sides_changed_the_lock_and_feature_went_further_merges_cleanly(repo):
    """main and feature carry the same revision; feature adds one on top: one head, no conflict."""
    _feature_went_further(repo)
    fast, full = _decisions(repo, "feature")
    assert fast.outcome == union.CLEAN and list(fast.entries) == full

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [code for code, _ in runs] == [0], runs  # the driver ran, and merged cleanly
    assert _lock_heads(repo) == (FEATURE_ID,)
    assert list(_alembic_script(repo).get_heads()) == [FEATURE_ID]
    check = repo.run("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert repo.status() == ""


def test_both_add_on_the_same_head_is_a_conflict_decided_without_the_reference(repo, repo_templates):
    _both_add(repo, repo_templates)
    fast, full = _decisions(repo, "feature")
    assert fast.outcome == union.CONFLICT and full is None

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    _assert_stopped_at_lock_only(proc, runs, repo)


def test_a_second_merge_reads_revisions_from_the_facts_index(repo, repo_templates):
    _both_add(repo, repo_templates)
    index = repo.path / ".git" / "revgraph" / "facts-v1.index"
    proc, runs = _traced(repo, "merge", "--no-edit", "feature")
    assert [code for code, _ in runs] == [1]
    assert index.is_file()  # written by the driver itself
    repo.git("merge", "--abort")
    before = index.stat().st_mtime_ns

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    _assert_stopped_at_lock_only(proc, runs, repo)
    assert index.stat().st_mtime_ns == before  # nothing new to learn: not rewritten


# ------------------------------------------------------------ a monorepo
def _at_top(repo, command: str) -> subprocess.CompletedProcess:
    """``command`` (a revgraph command line) run at the top of the work tree, as a user would."""
    return run_module("revgraph", *shlex.split(command)[1:], cwd=repo.path, env=repo.env)


def test_in_a_monorepo_the_conflict_names_the_fix_with_the_service_folder(gitrepo):
    # The project sits in services/api; git runs the driver (and the user reads
    # its message) at the top of the work tree, where a plain `revgraph fix`
    # finds no project. The command the conflict names must work from there.
    service = "services/api"
    versions = f"{service}/migrations/versions"
    gitrepo.write(f"{service}/alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    gitrepo.write(f"{service}/migrations/script.py.mako", TEMPLATES["typed"])
    gitrepo.add_revision(BASE_ID, None, message="create users", versions=versions)
    assert _at_top(gitrepo, f"revgraph -C {service} install").returncode == 0
    gitrepo.commit("base with revgraph")
    gitrepo.branch("feature")
    for branch, rev_id, message in (("main", MAIN_ID, "add orders"), ("feature", FEATURE_ID, "add invoices")):
        gitrepo.checkout(branch)
        gitrepo.add_revision(rev_id, BASE_ID, message=message, versions=versions)
        assert _at_top(gitrepo, f"revgraph -C {service} lock").returncode == 0
        gitrepo.commit(f"{branch}: {message}")
    gitrepo.checkout("main")
    merge = gitrepo.merge("feature", expect_conflict=True)
    lock = f"{service}/migrations/revgraph.lock"
    assert gitrepo.conflicted() == [lock]
    command = f"revgraph -C {service} fix"
    assert f"run `{command}`" in merge.stdout + merge.stderr
    assert f"# Resolve: run `{command}` at the top of the work tree" in gitrepo.read(lock).decode()
    assert f"run `{command}` at the top of the work tree" in merge.stderr  # -C names a folder from there
    assert _at_top(gitrepo, "revgraph fix").returncode == 2  # the plain command finds no project here
    fixed = _at_top(gitrepo, command)  # exactly what the message said
    assert fixed.returncode == 0, fixed.stderr
    gitrepo.git("-c", "core.editor=true", "merge", "--continue")
    assert _at_top(gitrepo, f"revgraph -C {service} check --base main").returncode == 0


def test_a_head_marked_ignore_rg101_merges_as_check_accepts_it(repo):
    """A deliberate second head, marked ``# revgraph: ignore[RG101]`` in its file, passes
    check; the driver merges the lock file to both heads instead of stopping."""
    repo.branch("feature")
    _add_on_branch(repo, "main", MAIN_ID, "add orders")
    repo.checkout("feature")
    path = repo.add_revision(FEATURE_ID, BASE_ID, message="reporting schema")
    repo.write(path, repo.read(path) + b"# revgraph: ignore[RG101]  (deployed with `upgrade heads`)\n")
    repo.run("lock", check=True)
    repo.commit("feature: a second head on purpose")
    repo.checkout("main")
    fast, _ = _decisions(repo, "feature")
    assert fast.outcome == union.UNDECIDED  # the fast path leaves a marked head to the reference

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [code for code, _ in runs] == [0]
    assert sorted(_lock_heads(repo)) == sorted([MAIN_ID, FEATURE_ID])
    repo.run("check", check=True)
    repo.run("lock", "--check", check=True)


# ------------------------------------ a pick is not a union of two whole trees
@pytest.mark.parametrize("todo", ["drop", "reorder"])
def test_an_interactive_rebase_that_drops_or_reorders_a_revision_commit_stops_at_the_lock(repo, todo):
    # QA: the driver told what the merge deletes against the merge base of HEAD and
    # the picked commit. A pick applies only the commit's change, against its parent:
    # with the commit before it dropped (or not applied yet), the union listed a
    # revision the result lacks, so the driver merged the lock cleanly with a head
    # whose parent was missing. Now it names that parent.
    repo.checkout("main")
    repo.branch("feature")
    repo.checkout("feature")
    first = "e1e1e1e1e1e1"
    repo.commit_locked_revision(first, BASE_ID, message="first")
    repo.commit_locked_revision(FEATURE_ID, first, message="second, on the first")
    script = "sed -i '1s/^pick/drop/'" if todo == "drop" else "sed -i '1{h;d};2{G}'"
    done = subprocess.run(["git", "rebase", "-i", "main"], cwd=repo.path, capture_output=True, text=True,
                          env={**(repo.env or os.environ), "GIT_SEQUENCE_EDITOR": script})  # fmt: skip

    assert done.returncode != 0, "the rebase went through with a lock naming a head whose parent is missing"
    assert "CONFLICT" in done.stdout + done.stderr and LOCK in done.stdout + done.stderr
    assert repo.git("diff", "--name-only", "--diff-filter=U").stdout.split() == [LOCK]
    assert f"{FEATURE_ID} names down_revision {first}" in done.stderr, done.stderr


# ------------------------------------------- a file that is no lock file
def test_a_file_the_pattern_also_catches_is_merged_as_text_not_by_keeping_ours(repo):
    # QA: with `*.lock merge=revgraph`, poetry.lock went through the driver, which read
    # no head on any side and called every merge clean, keeping ours: their change
    # was lost without a conflict.
    repo.write(".gitattributes", repo.read(".gitattributes") + b"*.lock merge=revgraph\n")
    repo.write("poetry.lock", "a\nb\nc\nd\ne\nf\n")
    repo.commit("a poetry.lock the pattern catches")
    repo.branch("one")
    repo.branch("two")
    for branch, old, new in (("one", b"a", b"A"), ("two", b"c", b"C-two"), ("main", b"f", b"F"), ("main", b"c", b"C-main")):
        repo.checkout(branch)
        repo.write("poetry.lock", repo.read("poetry.lock").replace(old + b"\n", new + b"\n"))
        repo.commit(f"{branch}: {new.decode()}")

    clean = repo.merge("one")  # both edits kept, as git's own merge keeps them
    assert repo.read("poetry.lock") == b"A\nb\nC-main\nd\ne\nF\n", clean.stdout + clean.stderr
    conflicted = repo.merge("two", expect_conflict=True)  # both changed line c: a conflict, not ours

    assert repo.conflicted() == ["poetry.lock"]
    text = repo.read("poetry.lock")
    assert b"C-main" in text and b"C-two" in text and b"<<<<<<<" in text
    assert "is not a heads lock file" in conflicted.stdout + conflicted.stderr


def test_both_sides_creating_the_lock_file_name_only_their_own_new_revisions(gitrepo):
    # A tester: with no lock file in the merge base (each branch ran `revgraph lock`
    # first), the conflict named the reporting line's old head as each side's new one.
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(BASE_ID, None, message="create users")
    gitrepo.add_revision("d4d4d4d4d4d4", None, message="reporting", branch_labels="reporting")
    gitrepo.run("install", "--merge-driver", check=True)
    (gitrepo.path / LOCK).unlink(missing_ok=True)
    gitrepo.commit("base, the driver, no lock file yet")
    gitrepo.branch("feature")
    _add_on_branch(gitrepo, "main", MAIN_ID, "add orders")
    _add_on_branch(gitrepo, "feature", FEATURE_ID, "add invoices")
    gitrepo.checkout("main")

    gitrepo.merge("feature", expect_conflict=True)

    text = gitrepo.read(LOCK).decode()
    assert f"#   ours:   {MAIN_ID} (add orders)\n" in text, text
    assert f"#   theirs: {FEATURE_ID} (add invoices)\n" in text, text
