"""PRODUCT §3 rules on graphs built in code: each rule fires, and its healthy twin does not."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.checks.context import CheckContext
from revgraph.checks.registry import RULE_FUNCTIONS, run_checks
from revgraph.errors import UsageError
from revgraph.findings import Severity
from revgraph.model import ParseProblem, Revision, Snapshot, Span
from revgraph.rules import RULES

# Line numbers every built revision file reports, so messages can be asserted.
LINES = {
    "revision_id_line": 3,
    "revises_line": 4,
    "revision": 10,
    "down_revision": 11,
    "branch_labels": 12,
    "depends_on": 13,
}


# ------------------------------------------------------------------ helpers
def rev(rid: str, *down: str, **fields) -> Revision:
    """One revision file as parse.py would produce it, at ``versions/<id>_step.py``."""
    spans = {key: Span(0, 0, line) for key, line in LINES.items()}
    fields.setdefault("path", f"versions/{rid}_step.py")
    fields.setdefault("blob_id", f"blob-{rid}-{'-'.join(down)}")
    return Revision(rid, tuple(down), spans=spans, **fields)


def revisions(*chains: str, **extra: dict) -> list[Revision]:
    """Revisions from chains like ``"a<-b<-c"`` (c revises b, b revises a).

    ``"b+c<-m"`` makes ``m`` a merge of ``b`` and ``c``. An id that only
    starts chains is a base. ``extra={"c": {"touches": (...)}}`` adds fields.
    """
    parents: dict[str, tuple[str, ...]] = {}
    mentioned: list[str] = []
    for chain in chains:
        steps = [step.strip() for step in chain.split("<-")]
        for step in steps:
            for rid in step.split("+"):
                if rid not in mentioned:
                    mentioned.append(rid)
        for previous, step in zip(steps, steps[1:]):
            parents[step] = tuple(previous.split("+"))
    return [rev(rid, *parents.get(rid, ()), **extra.get(rid, {})) for rid in mentioned]


def snap(*chains: str, source: str = "worktree", problems=(), also=(), **extra) -> Snapshot:
    return Snapshot(
        "default", source, tuple(revisions(*chains, **extra)) + tuple(also), tuple(problems)
    )


def context(head: Snapshot, **kwargs) -> CheckContext:
    if kwargs.get("base") is not None:
        kwargs.setdefault("base_ref", "origin/main")
        base_ids = {r.id for r in kwargs["base"].revisions}
        kwargs.setdefault("landed", frozenset(base_ids))
    return CheckContext(environment="default", head=head, **kwargs)


def findings(ctx: CheckContext, code: str | None = None, **options):
    found = run_checks(ctx, **options)
    return [f for f in found if code is None or f.code == code]


def codes(ctx: CheckContext, **options) -> set[str]:
    return {f.code for f in run_checks(ctx, **options)}


def fork(feature_first: bool = True) -> CheckContext:
    """The classic fork: base a<-b; the feature adds c on b; main adds d on b."""
    main = snap("a<-b<-d", source="origin/main")
    feature = snap("a<-b<-c")
    merge_base = snap("a<-b", source="merge-base")
    if feature_first:
        return context(feature, base=main, merge_base=merge_base)
    return context(main, base=feature, merge_base=merge_base, base_ref="feature")


# -------------------------------------------------------------------- RG101
def test_two_heads_are_reported_with_their_files_and_lines():
    [finding] = findings(context(snap("a<-b", "a<-c")), "RG101")
    assert finding.severity is Severity.ERROR
    assert finding.revisions == ("b", "c")
    assert "versions/b_step.py:10" in finding.message
    assert "versions/c_step.py:10" in finding.message
    assert finding.explanation == RULES["RG101"].explanation
    assert finding.fix is not None and finding.fix.startswith("revgraph fix")


def test_a_linear_history_has_no_multiple_heads_finding():
    assert "RG101" not in codes(context(snap("a<-b<-c")))


def test_allow_heads_permits_that_many_heads_and_no_more():
    two = snap("a<-b", "a<-c")
    three = snap("a<-b", "a<-c", "a<-d")
    assert "RG101" not in codes(context(two, allow_heads=2))
    assert "RG101" in codes(context(three, allow_heads=2))


def labelled_branches(*extra_chains: str, source: str = "worktree") -> Snapshot:
    return snap(
        "s1<-s2",
        "p1<-p2",
        *extra_chains,
        source=source,
        s1={"branch_labels": ("shop",)},
        p1={"branch_labels": ("payments",)},
    )


def test_heads_on_distinct_landed_branch_labels_are_allowed():
    base = labelled_branches(source="origin/main")
    head = labelled_branches("s2<-s3")
    assert "RG101" not in codes(context(head, base=base))


def test_heads_on_labels_that_have_not_landed_are_reported():
    base = snap("s1<-s2", source="origin/main", s1={"branch_labels": ("shop",)})
    head = labelled_branches()
    [finding] = findings(context(head, base=base), "RG101")
    assert set(finding.revisions) == {"p2", "s2"}
    # No command joins two labelled lines: the message says how to let a meant one
    # through, naming the new line's head file (only allow_heads was offered).
    assert finding.fix is None
    assert "add `# revgraph: ignore[RG101]` to versions/p2_step.py (once its label lands" in finding.message
    assert "`allow_heads`" in finding.message
    commented = snap("s1<-s2", "p1<-p2", s1={"branch_labels": ("shop",)},
                     p1={"branch_labels": ("payments",)}, p2={"ignores": ("RG101",)})  # fmt: skip
    assert "RG101" not in codes(context(commented, base=base))


def test_two_heads_on_the_same_landed_label_are_reported():
    base = labelled_branches(source="origin/main")
    head = labelled_branches("s2<-s3", "s2<-s4")
    [finding] = findings(context(head, base=base), "RG101")
    assert finding.revisions == ("s3", "s4")


def test_without_a_base_branch_labels_count_as_landed():
    assert "RG101" not in codes(context(labelled_branches()))


def test_rg101_points_first_at_a_head_this_branch_adds():
    # QA: the first location (GitHub's annotation, the report line) was the
    # lowest id, here a landed file outside the pull request.
    base = snap("a<-b", source="origin/main")
    [finding] = findings(context(snap("a<-b", "a<-c"), base=base), "RG101")
    # revisions[i] is at locations[i] (fix names each head with its file).
    assert finding.revisions == ("c", "b")
    assert [loc.path for loc in finding.locations] == ["versions/c_step.py", "versions/b_step.py"]


def test_rg101_offers_no_fix_while_an_id_fix_cannot_renumber_is_declared_twice():
    # Review: base declares b in two files and the branch adds a second head; RG101
    # offered `revgraph fix`, which refuses any id declared twice it cannot renumber.
    twice = rev("b", "a", path="versions/b_copy.py", blob_id="blob-b-copy")
    base = snap("a<-b", source="origin/main", also=[twice])
    [finding] = findings(context(snap("a<-b", "a<-c", also=[twice]), base=base), "RG101")
    assert finding.fix is None and "b is declared by several files (RG103)" in finding.message
    # The branch's copy of an id base has landed once is renumbered by fix: offered.
    base = snap("a<-b", source="origin/main")
    [finding] = findings(context(snap("a<-b", "a<-c", also=[twice]), base=base), "RG101")
    assert finding.fix is not None and "RG103" not in finding.message


def test_a_head_made_by_a_missing_parent_offers_no_fix_that_would_refuse():
    # QA: a typo in down_revision makes the revision a head of its own; RG101
    # offered `revgraph fix`, which refuses ("fix RG104 first").
    base = snap("a<-b", source="origin/main")
    head = snap("a<-b", also=[rev("n", "zzz")])
    [finding] = findings(context(head, base=base), "RG101")
    assert finding.fix is None
    assert "n hangs off a missing parent (RG104)" in finding.message
    assert "RG104" in codes(context(head, base=base))


def test_rg101_offers_no_merge_the_environment_has_no_template_to_render():
    # mlflow's wheel ships no script.py.mako: `fix --strategy merge` exits 2 there
    # (alembic merge fails too), so RG101 says what is missing instead of offering it.
    no_template = {"has_template": False, "template_path": "migrations/script.py.mako"}
    [finding] = findings(context(snap("a<-b", "a<-c"), **no_template), "RG101")
    assert finding.fix is None
    assert "no migrations/script.py.mako to render a merge revision from" in finding.message
    assert "then `revgraph fix --strategy merge` joins the heads" in finding.message
    # Given by its versions folder alone (--versions): no script directory to put one in.
    [finding] = findings(context(snap("a<-b", "a<-c"), has_template=False), "RG101")
    assert finding.fix is None and "point revgraph at its alembic.ini (-c)" in finding.message
    # The lock file's conflict offers what RG101 offers.
    conflicted = context(snap("a<-b", "a<-c"), lock_heads=("b", "c"), lock_conflicted=True, **no_template)
    [lock] = findings(conflicted, "RG401")
    assert lock.fix is None
    # The rebase needs no template: offered as before, with nothing said of it.
    base = snap("a<-b", source="origin/main")
    [finding] = findings(context(snap("a<-b", "a<-c"), base=base, **no_template), "RG101")
    assert finding.fix == "revgraph fix --base origin/main" and "script.py.mako" not in finding.message


# -------------------------------------------------------------------- RG102
def test_classic_fork_is_caught_on_the_feature_branch_before_any_merge():
    ctx = fork(feature_first=True)
    assert "RG101" not in codes(ctx)  # each side alone is linear
    [finding] = findings(ctx, "RG102")
    assert finding.severity is Severity.ERROR
    assert "HEAD adds c (versions/c_step.py:11)" in finding.message
    assert "origin/main adds d (versions/d_step.py:11)" in finding.message
    assert "hang off b" in finding.message
    assert set(finding.revisions) == {"c", "d"}
    assert finding.fix == "git merge origin/main; revgraph fix"


def test_classic_fork_is_caught_from_the_main_side_too():
    [finding] = findings(fork(feature_first=False), "RG102")
    assert "HEAD adds d" in finding.message
    assert "feature adds c" in finding.message
    assert finding.fix == "git merge feature; revgraph fix"


def test_after_a_squash_merge_base_s_chain_leaves_out_what_head_already_has():
    # The branch's b was squash-merged into main (new commit: the merge base
    # stays at a); main then added d on b while the branch added c on b.
    main = snap("a<-b<-d", source="origin/main")
    feature = snap("a<-b<-c")
    ctx = context(feature, base=main, merge_base=snap("a", source="merge-base"))

    [finding] = findings(ctx, "RG102")

    assert "origin/main adds d (versions/d_step.py:11)" in finding.message, finding.message
    assert "b -> d" not in finding.message and "hang off b" in finding.message


def test_fork_uses_the_predicted_merge_snapshot_when_given():
    ctx = fork()
    predicted = snap("a<-b<-c", "b<-d", source="merge")
    assert "RG102" in codes(dataclasses.replace(ctx, merged=predicted))
    rebased = snap("a<-b<-d<-c", source="merge")
    assert "RG102" not in codes(dataclasses.replace(ctx, merged=rebased))


def test_a_branch_rebased_onto_base_head_does_not_fork():
    main = snap("a<-b<-d", source="origin/main")
    ctx = context(snap("a<-b<-d<-c"), base=main, merge_base=main)
    assert codes(ctx) == set()


def test_fork_names_a_whole_new_chain_oldest_first():
    main = snap("a<-b<-d", source="origin/main")
    ctx = context(snap("a<-b<-c1<-c2"), base=main, merge_base=snap("a<-b"))
    [finding] = findings(ctx, "RG102")
    assert "HEAD adds c1 -> c2 (versions/c1_step.py:11)" in finding.message


def test_two_new_lines_joined_by_a_merge_are_not_written_as_one_line():
    # QA: "HEAD adds c1 -> c2 -> m" read as a line; c1 and c2 both grow from b.
    main = snap("a<-b<-d", source="origin/main")
    ctx = context(snap("a<-b<-c1", "b<-c2", "c1+c2<-m<-n"), base=main, merge_base=snap("a<-b"))
    [finding] = findings(ctx, "RG102")
    assert "HEAD adds 4 revisions up to n: c1, c2, m, n (versions/c1_step.py:11)" in finding.message
    assert "->" not in finding.message


def test_chains_hanging_off_different_parents_name_each_parent():
    before = snap("a<-b<-x", source="merge-base")
    main = snap("a<-b<-x<-d", source="origin/main")
    ours = snap("a<-b<-x", "b<-c", "c+x<-m")  # a merge keeps HEAD itself at one head
    [finding] = findings(context(ours, base=main, merge_base=before), "RG102")
    assert "HEAD adds c -> m (versions/c_step.py:11) on b, x" in finding.message
    assert "origin/main adds d (versions/d_step.py:11) on x" in finding.message
    assert "hang off" not in finding.message


def test_heads_already_in_head_are_rg101_not_rg102():
    main = snap("a<-b<-d", source="origin/main")
    merged_without_fix = snap("a<-b<-c", "b<-d")
    ctx = context(merged_without_fix, base=main, merge_base=main)
    assert codes(ctx) == {"RG101"}


def test_new_revision_on_a_landed_label_does_not_fork():
    base = labelled_branches(source="origin/main")
    ctx = context(labelled_branches("s2<-s3"), base=base, merge_base=base)
    assert "RG102" not in codes(ctx)


def test_both_sides_growing_the_same_label_fork():
    base = labelled_branches("p2<-p3", source="origin/main")
    before = labelled_branches(source="merge-base")
    ctx = context(labelled_branches("p2<-p4"), base=base, merge_base=before)
    [finding] = findings(ctx, "RG102")
    assert set(finding.revisions) == {"p3", "p4"}


def test_allow_heads_also_allows_the_predicted_merge_that_many_heads():
    assert "RG102" not in codes(dataclasses.replace(fork(), allow_heads=2))


# -------------------------------------------------------------------- RG103
def test_two_files_declaring_one_id_are_reported_with_both_paths():
    copy = rev("b", "a", path="versions/b_copy.py")
    [finding] = findings(context(snap("a<-b", also=[copy])), "RG103")
    assert "versions/b_step.py:10" in finding.message
    assert "versions/b_copy.py:10" in finding.message
    assert len(finding.locations) == 2


def test_an_id_added_on_both_sides_with_different_content_is_a_duplicate():
    theirs = snap("a<-b<-x", source="origin/main", x={"blob_id": "theirs"})
    ours = snap("a<-b<-x", x={"blob_id": "ours"})
    ctx = context(ours, base=theirs, merge_base=snap("a<-b"))
    [finding] = findings(ctx, "RG103")
    assert "by HEAD in versions/x_step.py:10 and by origin/main" in finding.message


def test_the_same_file_added_on_both_sides_is_not_a_duplicate():
    theirs = snap("a<-b<-x", source="origin/main")
    ctx = context(snap("a<-b<-x"), base=theirs, merge_base=snap("a<-b"))
    assert "RG103" not in codes(ctx)


def test_an_id_both_sides_add_at_different_paths_is_a_duplicate_even_with_same_content():
    theirs = snap("a<-b<-x", source="origin/main", x={"path": "versions/other.py"})
    ctx = context(snap("a<-b<-x"), base=theirs, merge_base=snap("a<-b"))
    [finding] = findings(ctx, "RG103")
    assert "at different paths" in finding.message
    # Two revisions that took one id: base's has landed, so fix gives HEAD's a new one.
    assert "`revgraph fix` gives HEAD's a new id and re-points it once origin/main is merged" in finding.message
    assert finding.fix == "git merge origin/main; revgraph fix"


def test_one_id_in_two_files_of_head_one_at_base_s_path_is_fix_s_to_renumber():
    # Mid-rebase onto base (or after merging it): HEAD holds base's file and the branch's.
    mine = rev("x", "b", path="versions/x_mine.py", blob_id="blob-of-mine")
    main = snap("a<-b<-x", source="origin/main")
    ctx = context(snap("a<-b<-x", also=[mine]), base=main, merge_base=main)
    [finding] = findings(ctx, "RG103")
    assert "origin/main has landed versions/x_step.py: `revgraph fix` gives the other a new id" in finding.message
    assert finding.fix == "revgraph fix --base origin/main"
    # Neither copy at base's path (or no base): nothing says which one keeps the id.
    [finding] = findings(context(snap("a<-b<-x", also=[mine]), base=snap("a<-b", source="origin/main")), "RG103")
    assert finding.fix is None and "gives the other" not in finding.message
    # The lock file's conflict says the same command, not `revgraph lock`.
    with_lock = dataclasses.replace(ctx, lock_heads=("x",), lock_conflicted=True, lock_path="m/revgraph.lock")
    [lock] = findings(with_lock, "RG401")
    assert lock.fix == "revgraph fix --base origin/main"
    # A byte-for-byte copy is one migration twice: it is deleted, not renumbered.
    copy = rev("x", "b", path="versions/x_copy.py")
    [finding] = findings(context(snap("a<-b<-x", also=[copy]), base=main, merge_base=main), "RG103")
    assert finding.fix is None


def test_fix_commands_spell_out_the_rebase_where_the_configured_merge_cannot_do_the_job():
    # [tool.revgraph] strategy = "merge" makes a plain `revgraph fix` write a merge
    # revision: fine for joining heads while script.py.mako exists; never for giving
    # a copy of an id a new one (the merge refuses an id in two files).
    main = snap("a<-b<-d", source="origin/main")
    raced = context(snap("a<-b<-d", "b<-c"), base=main, merge_base=snap("a<-b", source="merge-base"))
    mine = rev("x", "b", path="versions/x_mine.py", blob_id="blob-of-mine")
    main_x = snap("a<-b<-x", source="origin/main")
    copied = context(snap("a<-b<-x", also=[mine]), base=main_x, merge_base=main_x)
    both_took_x = context(
        snap("a<-b<-x"), base=snap("a<-b<-x", source="origin/main", x={"path": "versions/other.py"}),
        merge_base=snap("a<-b"),
    )
    lock = dict(lock_heads=("x",), lock_conflicted=True, lock_path="m/revgraph.lock")

    def fixes(strategy: str, has_template: bool) -> list:
        def fix(ctx, code):
            ctx = dataclasses.replace(ctx, strategy=strategy, has_template=has_template)
            return [f.fix for f in findings(ctx, code)]
        return [
            *fix(raced, "RG101"), *fix(fork(), "RG102"), *fix(copied, "RG103"),
            *fix(both_took_x, "RG103"), *fix(dataclasses.replace(copied, **lock), "RG401"),
        ]

    plain = [
        "revgraph fix --base origin/main", "git merge origin/main; revgraph fix", "revgraph fix --base origin/main",
        "git merge origin/main; revgraph fix", "revgraph fix --base origin/main",
    ]  # fmt: skip
    assert fixes("rebase", True) == fixes("rebase", False) == plain
    rebase = "revgraph fix --strategy rebase"
    assert fixes("merge", True) == [
        *plain[:2], f"{rebase} --base origin/main", f"git merge origin/main; {rebase}", f"{rebase} --base origin/main",
    ]  # fmt: skip
    assert fixes("merge", False) == [
        f"{rebase} --base origin/main", f"git merge origin/main; {rebase}", f"{rebase} --base origin/main",
        f"git merge origin/main; {rebase}", f"{rebase} --base origin/main",
    ]  # fmt: skip


def test_a_duplicate_only_the_predicted_merge_has_is_reported():
    ours = snap("a<-b<-x")
    theirs = snap("a<-b<-y", source="origin/main")
    copy = rev("x", "b", path="versions/x2.py")
    merged = Snapshot("default", "merge", tuple(revisions("a<-b<-x", "b<-y")) + (copy,))
    ctx = context(ours, base=theirs, merge_base=snap("a<-b"), merged=merged)
    [finding] = findings(ctx, "RG103")
    assert "after merging HEAD into origin/main" in finding.message


# -------------------------------------------------------------------- RG104
def test_down_revision_naming_nothing_is_dangling():
    [finding] = findings(context(snap("a", also=[rev("b", "zz")])), "RG104")
    assert finding.message.startswith("b (versions/b_step.py:11): down_revision names 'zz'")


def test_down_revision_naming_a_branch_label_says_it_is_a_label_and_names_the_lines_head():
    # QA: "names 'core', which does not exist" beside a graph showing a0 (core).
    # alembic looks down_revision up by id only (KeyError: 'core').
    head = snap("a<-b", a={"branch_labels": ("core",)}, also=[rev("e", "core")])
    [finding] = findings(context(head), "RG104")
    assert finding.message == (
        "e (versions/e_step.py:11): down_revision names 'core', a branch label (declared by a); alembic "
        "looks down_revision up by revision id only, so it cannot load the revisions (KeyError: 'core'): "
        "write the id of the revision it continues (core's head is b)"
    )


def test_depends_on_naming_nothing_is_dangling_at_its_line():
    head = snap("a<-b", b={"depends_on": ("nope",)})
    [finding] = findings(context(head), "RG104")
    assert "depends_on names 'nope'" in finding.message
    assert finding.locations[0].line == LINES["depends_on"]


def test_depends_on_an_id_prefix_is_reported_since_alembic_cannot_load_it():
    # alembic's RevisionMap._add_depends_on looks names up by full id or label
    # (KeyError), see tests/differential/test_example_env.py.
    head = snap("abcd1234<-b<-c", c={"depends_on": ("abcd",)})
    [finding] = findings(context(head), "RG104")
    assert finding.message == (
        "c (versions/c_step.py:13): depends_on names 'abcd', a prefix of abcd1234: alembic looks "
        "depends_on up by full id or branch label, so it cannot load the revisions "
        "(KeyError: 'abcd'); write 'abcd1234'"
    )
    assert finding.locations[0].line == LINES["depends_on"] and finding.revisions == ("c",)
    # A prefix only the predicted merge resolves (base adds the revision) says so.
    base = snap("abcd1234<-b", "b<-abcd5678", source="origin/main")
    ctx = context(snap("abcd1234<-b<-c", c={"depends_on": ("abcd5",)}), base=base, merge_base=snap("abcd1234<-b"))
    messages = [f.message for f in findings(ctx, "RG104")]
    assert any("a prefix of abcd5678 after merging HEAD into origin/main" in m for m in messages), messages


def test_depends_on_a_label_or_revision_is_not_dangling():
    head = snap("a<-b<-c", a={"branch_labels": ("core",)}, c={"depends_on": ("core", "b")})
    assert "RG104" not in codes(context(head))


def test_parent_deleted_on_base_dangles_in_the_predicted_merge():
    before = snap("a<-b", source="merge-base")
    theirs = snap("a", source="origin/main")  # base deleted b
    ctx = context(snap("a<-b<-c"), base=theirs, merge_base=before)
    [finding] = findings(ctx, "RG104")
    assert "after merging HEAD into origin/main" in finding.message
    assert finding.revisions == ("c",)


# -------------------------------------------------------------------- RG105
def test_a_cycle_is_named_as_a_loop():
    [finding] = findings(context(snap("b<-a<-b", also=[rev("x")])), "RG105")
    assert "a -> b -> a" in finding.message
    assert finding.revisions == ("a", "b")


def test_a_depends_on_cycle_is_found():
    head = snap("a<-b<-c", a={"depends_on": ("c",)})
    [finding] = findings(context(head), "RG105")
    assert "a -> c -> b -> a" in finding.message


def test_an_acyclic_graph_has_no_cycle_finding():
    assert "RG105" not in codes(context(snap("a<-b<-c", "a<-d", "c+d<-m")))


# -------------------------------------------------------------------- RG106
def test_a_branch_label_declared_twice_is_reported():
    head = snap("a<-b", "a<-c", b={"branch_labels": ("x",)}, c={"branch_labels": ("x",)})
    [finding] = findings(context(head), "RG106")
    assert "'x' is declared twice" in finding.message
    assert "versions/c_step.py:12" in finding.message


def test_a_label_equal_to_a_revision_id_is_reported():
    head = snap("a<-b", b={"branch_labels": ("a",)})
    [finding] = findings(context(head), "RG106")
    assert "collides with revision id a: declared by b (versions/b_step.py:12)" in finding.message


def test_distinct_labels_are_fine():
    head = snap("a<-b", "a<-c", b={"branch_labels": ("x",)}, c={"branch_labels": ("y",)})
    assert "RG106" not in codes(context(head))


def test_both_sides_adding_the_same_label_clash_in_the_predicted_merge():
    before = snap("a", source="merge-base")
    theirs = snap("a<-t", source="origin/main", t={"branch_labels": ("reports",)})
    ours = snap("a<-o", o={"branch_labels": ("reports",)})
    [finding] = findings(context(ours, base=theirs, merge_base=before), "RG106")
    assert "after merging" in finding.message


# -------------------------------------------------------------------- RG107
def test_an_unreadable_file_is_reported_with_line_and_reason():
    problem = ParseProblem("versions/bad.py", 4, "down_revision is not a literal")
    [finding] = findings(context(snap("a", problems=[problem])), "RG107")
    assert finding.message == (
        "versions/bad.py:4: cannot be read statically: down_revision is not a literal"
    )
    assert finding.locations[0].line == 4


def test_readable_files_give_no_parse_finding():
    assert "RG107" not in codes(context(snap("a<-b")))


# -------------------------------------------------------------------- RG2xx
def test_repointing_a_landed_revision_is_reported():
    base = snap("a<-b<-c", source="origin/main")
    head = snap("a<-c", "a<-b")  # c moved off b
    [finding] = findings(context(head, base=base, merge_base=base), "RG201")
    assert "c (versions/c_step.py:11)" in finding.message
    assert "down_revision is a but b in origin/main" in finding.message
    assert finding.fix == "git restore --source=origin/main --staged --worktree -- versions/c_step.py"


def test_a_landed_revision_left_alone_is_not_repointed():
    base = snap("a<-b<-c", source="origin/main")
    assert "RG201" not in codes(context(snap("a<-b<-c<-d"), base=base, merge_base=base))


def test_a_revision_base_repointed_is_not_heads_fault():
    before = snap("a<-b<-c", source="merge-base")
    base = snap("a<-c", "a<-b", source="origin/main")
    assert "RG201" not in codes(context(before, base=base, merge_base=before))


def test_deleting_a_landed_revision_is_reported_with_the_restore_command():
    base = snap("a<-b", source="origin/main")
    [finding] = findings(context(snap("a"), base=base, merge_base=base), "RG202")
    assert finding.revisions == ("b",)
    assert finding.fix == "git restore --source=origin/main --staged --worktree -- versions/b_step.py"


def test_revisions_base_added_after_the_merge_base_are_not_deleted_by_head():
    base = snap("a<-b<-d", source="origin/main")
    ctx = context(snap("a<-b<-c"), base=base, merge_base=snap("a<-b"))
    assert "RG202" not in codes(ctx)


def test_an_edited_landed_body_is_a_warning():
    base = snap("a<-b", source="origin/main")
    ctx = context(snap("a<-b"), base=base, merge_base=base, body_changed=frozenset({"b"}))
    [finding] = findings(ctx, "RG203")
    assert finding.severity is Severity.WARNING
    assert "RG203" not in codes(dataclasses.replace(ctx, body_changed=frozenset()))


def test_a_new_file_reusing_a_landed_id_is_rg103_alone_and_the_landed_file_is_judged_at_its_path():
    base = snap("a<-b<-c", source="origin/main")
    reuse = rev("b", path="versions/zz_b_reuse.py")  # sorts last: the graph keeps it for b
    ctx = context(snap("a<-b<-c", also=(reuse,)), base=base, merge_base=base)
    assert "RG103" in codes(ctx) and "RG201" not in codes(ctx)
    # The landed file itself re-pointed and edited: blamed at its own path.
    moved = snap("a<-b", "a<-c", also=(reuse,))
    ctx = context(moved, base=base, merge_base=base, body_changed=frozenset({"c"}))
    hits = {f.code: f for f in run_checks(ctx)}
    assert hits["RG201"].locations[0].path == "versions/c_step.py"
    ctx = context(snap("a<-b<-c", also=(reuse,)), base=base, merge_base=base, body_changed=frozenset({"b"}))
    [edited] = findings(ctx, "RG203")
    assert edited.locations[0].path == "versions/b_step.py"


def test_a_new_root_beside_base_is_a_warning():
    base = snap("a<-b", source="origin/main")
    [finding] = findings(context(snap("a<-b", "z"), base=base, merge_base=base), "RG204")
    assert finding.revisions == ("z",)
    assert finding.severity is Severity.WARNING


def test_the_first_root_of_an_empty_base_is_not_a_new_base_warning():
    empty = Snapshot("default", "origin/main")
    assert "RG204" not in codes(context(snap("a<-b"), base=empty, merge_base=empty))
    assert "RG204" not in codes(context(snap("a<-b", "z")))  # no base: nothing to compare


# -------------------------------------------------------------------- RG301
def overlap_context(ours_touch: tuple[str, ...], theirs_touch: tuple[str, ...], **ignores):
    before = snap("a<-b", source="merge-base")
    theirs_fields = {"touches": theirs_touch, **ignores.get("d", {})}
    theirs = snap("a<-b<-d", source="origin/main", d=theirs_fields)
    ours = snap("a<-b<-c", c={"touches": ours_touch, **ignores.get("c", {})})
    return context(ours, base=theirs, merge_base=before)


def test_both_sides_touching_one_table_is_a_warning_naming_it():
    ctx = overlap_context(("table:users",), ("column:users.email",))
    [finding] = findings(ctx, "RG301")
    assert finding.revisions == ("c", "d")
    assert "both touch users" in finding.message
    assert finding.severity is Severity.WARNING


def test_both_sides_touching_different_tables_is_fine():
    ctx = overlap_context(("table:users", "column:users.email"), ("table:orders",))
    assert "RG301" not in codes(ctx)


def test_overlap_needs_a_merge_base():
    ctx = dataclasses.replace(overlap_context(("table:users",), ("table:users",)), merge_base=None)
    assert "RG301" not in codes(ctx)


# -------------------------------------------------------------------- RG302
def test_merge_naming_an_ancestor_of_its_other_parent_is_redundant():
    head = snap("a<-b<-c", "b+c<-m")
    [finding] = findings(context(head), "RG302")
    assert "b is already an ancestor of c" in finding.message


def test_merge_of_two_real_branches_is_not_redundant():
    assert "RG302" not in codes(context(snap("a<-b<-c", "a<-d", "c+d<-m")))


def test_redundant_parent_found_far_below_the_other_parent():
    head = snap("a<-b<-c<-d<-e<-f", "b+f<-m")
    [finding] = findings(context(head), "RG302")
    assert finding.revisions == ("m", "b")


# -------------------------------------------------------------------- RG4xx
def test_lock_file_recording_other_heads_is_an_error_fixed_by_lock():
    ctx = context(snap("a<-b<-c"), lock_heads=("b",), lock_path="migrations/revgraph.lock")
    [finding] = findings(ctx, "RG401")
    assert finding.fix == "revgraph lock"
    assert finding.locations[0].path == "migrations/revgraph.lock"
    assert "records heads b but the graph's heads are c" in finding.message


def test_an_empty_lock_file_records_no_head():
    # QA: an emptied lock file read "records heads none".
    [finding] = findings(context(snap("a<-b"), lock_heads=(), lock_path="l.lock"), "RG401")
    assert "l.lock records no head but the graph's heads are b" in finding.message


def test_lock_file_matching_heads_or_absent_is_fine():
    assert "RG401" not in codes(context(snap("a<-b", "a<-c"), lock_heads=("c", "b"), allow_heads=2))
    assert "RG401" not in codes(context(snap("a<-b<-c")))


def test_docstring_revises_disagreeing_with_down_revision_is_a_warning():
    head = snap("a<-b<-c", c={"doc_revision_id": "c", "doc_revises": "a"})
    [finding] = findings(context(head), "RG402")
    assert "Revises: a but down_revision = b" in finding.message
    assert finding.locations[0].line == LINES["revises_line"]
    assert finding.fix == "revgraph fix --docstrings"


@pytest.mark.parametrize(("down", "shown"), [("", "''"), ("None", "'None'"), ("a, b", "'a, b'")])
def test_rg402_quotes_a_down_revision_that_bare_would_read_as_another_value(down, shown):
    # QA: `down_revision = ''` was reported as "down_revision = None".
    head = Snapshot("default", "worktree", (rev("a"), rev("c", down, doc_revision_id="c", doc_revises="a")), ())
    [finding] = findings(context(head), "RG402")
    assert f"Revises: a but down_revision = {shown}" in finding.message


def test_docstring_revision_id_disagreeing_is_a_warning():
    head = snap("a<-b", b={"doc_revision_id": "old"})
    [finding] = findings(context(head), "RG402")
    assert "Revision ID: old but revision = b" in finding.message


def test_docstrings_written_by_alembic_agree():
    head = snap(
        "a<-b", "a<-c", "b+c<-m",
        a={"doc_revision_id": "a", "doc_revises": ""},
        b={"doc_revision_id": "b", "doc_revises": "a"},
        m={"doc_revision_id": "m", "doc_revises": "b, c"},
    )
    assert "RG402" not in codes(context(head))


def test_docstrings_written_by_a_template_without_the_comma_filter_agree():
    # `Revises: ${down_revision}` renders a merge as the tuple's repr (superset);
    # a list, the same way, was read as the ids "['b'" and "'c']".
    for revises in ("('b', 'c')", '("b", "c")', "['b', 'c']"):
        head = snap("a<-b", "a<-c", "b+c<-m", m={"doc_revision_id": "m", "doc_revises": revises})
        assert "RG402" not in codes(context(head)), revises
    head = snap("a<-b", "a<-c", "b+c<-m", m={"doc_revision_id": "m", "doc_revises": "['b', 'a']"})
    assert "RG402" in codes(context(head))


def test_file_name_without_the_id_is_info_when_the_template_has_rev():
    head = snap("a<-b", b={"path": "versions/0002_add_users.py"})
    [finding] = findings(context(head), "RG403")
    assert finding.severity is Severity.INFO
    assert "versions/0002_add_users.py" in finding.message
    ctx = context(head, file_template="%(year)d_%(slug)s")
    assert "RG403" not in codes(ctx)


def test_rg403_wants_the_id_as_a_word_and_offers_the_rename():
    # QA: a00001x_root.py passed for revision a00001; and the finding had no fix.
    head = snap("a<-b", b={"path": "versions/bx_root.py"})
    [finding] = findings(context(head), "RG403")
    assert finding.fix == "git mv -- versions/bx_root.py versions/b_bx_root.py"
    assert "RG403" not in codes(context(snap("a<-b", b={"path": "versions/b-root.py"})))
    assert findings(context(head, file_template="%(year)d_%(rev)s"), "RG403")[0].fix is None


def test_rg403_leaves_a_copy_whose_id_is_duplicated_to_rg103():
    # QA: a copied file (c_third.py) that still declares b got "git mv -- c_third.py
    # b_c_third.py", undoing the name chosen for the id the copy is about to get.
    copy = rev("b", "a", path="versions/c_third.py")
    ctx = context(snap("a<-b", also=[copy]))
    assert "RG103" in codes(ctx) and "RG403" not in codes(ctx)
    other = rev("d", "b", path="versions/e_fourth.py")  # still said for an id of its own
    assert [f.revisions for f in findings(context(snap("a<-b", also=[copy, other])), "RG403")] == [("d",)]


def test_rg403_replaces_another_revision_s_id_standing_where_the_id_goes():
    # After fix gave 0004_add_invoices.py the new id 0005, the rename inserted the
    # id in front of the old one (0005_0004_add_invoices.py).
    head = snap("0001<-0004<-0005", **{"0005": {"path": "versions/0004_add_invoices.py"}})
    [finding] = findings(context(head), "RG403")
    assert finding.fix == "git mv -- versions/0004_add_invoices.py versions/0005_add_invoices.py"
    # A word that is no revision's id is part of the slug: kept.
    head = snap("0001<-0005", **{"0005": {"path": "versions/0004_add_invoices.py"}})
    [finding] = findings(context(head), "RG403")
    assert finding.fix == "git mv -- versions/0004_add_invoices.py versions/0005_0004_add_invoices.py"


def test_rg403_replaces_a_mistyped_generated_id():
    # neutron's 31337ec0ffee_flavors.py holds revision 313373c0ffee: the rename
    # offered 313373c0ffee_31337ec0ffee_flavors.py.
    head = snap("52c5312f6baf<-313373c0ffee", **{"313373c0ffee": {"path": "versions/31337ec0ffee_flavors.py"}})
    [finding] = findings(context(head), "RG403")
    assert finding.fix == "git mv -- versions/31337ec0ffee_flavors.py versions/313373c0ffee_flavors.py"
    # A hex word of another length, or a word with other letters, is the slug's.
    for name in ("versions/31337ec0ffe_flavors.py", "versions/31337ec0ffez_flavors.py"):
        head = snap("52c5312f6baf<-313373c0ffee", **{"313373c0ffee": {"path": name}})
        [finding] = findings(context(head), "RG403")
        assert finding.fix == f"git mv -- {name} versions/313373c0ffee_{name.partition('/')[2]}"


def test_rg104_names_the_unreadable_file_that_declares_the_missing_parent():
    # neutron: branch_labels = (cli.EXPAND_BRANCH,) keeps 30018084ec99_initial.py out of
    # the graph; its child's RG104 said only "which does not exist".
    problem = ParseProblem("versions/contract/30018084ec99_initial.py", 27, "branch_labels is not a literal")
    head = snap("kilo", "30018084ec99<-2e5352a0ad4d", problems=[problem])
    head = dataclasses.replace(head, revisions=tuple(r for r in head.revisions if r.id != "30018084ec99"))
    [finding] = findings(context(head), "RG104")
    assert finding.message.endswith(
        "which does not exist; versions/contract/30018084ec99_initial.py, whose name carries that id, "
        "cannot be read statically (RG107, line 27): mend that file first"
    ), finding.message
    # A file whose name does not carry the id is not blamed.
    other = ParseProblem("versions/contract/initial.py", 27, "branch_labels is not a literal")
    [finding] = findings(context(dataclasses.replace(head, problems=(other,))), "RG104")
    assert finding.message.endswith("which does not exist"), finding.message


def test_rg403_word_rule_on_plain_names():
    from revgraph.checks.context import name_carries as _carries

    assert _carries("a00001_root.py", "a00001") and _carries("x-a00001.py", "a00001")
    assert not _carries("a00001x_root.py", "a00001") and not _carries("ba00001_root.py", "a00001")
    assert _carries("a00001x_a00001_root.py", "a00001")  # the second occurrence stands alone
    assert _carries("dup.py", "")  # an empty id (RG107's) is in every name, as before


# -------------------------------------------------------------------- RG5xx
def test_database_stamped_at_an_unknown_revision_is_an_error():
    ctx = context(snap("a<-b"), db_revisions=("zz",), db_url="postgresql://u:***@h/db")
    [finding] = findings(ctx, "RG501")
    assert "database postgresql://u:***@h/db is stamped at zz" in finding.message


def test_database_behind_lists_pending_revisions_in_order():
    ctx = context(snap("a<-b<-c<-d"), db_revisions=("b",))
    [finding] = findings(ctx, "RG502")
    assert finding.revisions == ("c", "d")
    assert finding.severity is Severity.INFO
    assert "RG501" not in codes(ctx)


def test_database_at_head_or_no_database_gives_nothing():
    assert not ({"RG501", "RG502"} & codes(context(snap("a<-b"), db_revisions=("b",))))
    assert not ({"RG501", "RG502"} & codes(context(snap("a<-b"))))


def test_empty_database_would_apply_everything():
    [finding] = findings(context(snap("a<-b"), db_revisions=()), "RG502")
    assert finding.revisions == ("a", "b")


# -------------------------------------------------------------- suppression
def test_ignore_comment_in_one_revision_silences_its_finding():
    head = snap("a<-b", b={"doc_revision_id": "old", "ignores": frozenset({"RG402"})})
    assert "RG402" not in codes(context(head))


def test_ignore_comment_for_another_code_does_not_silence():
    head = snap("a<-b", b={"doc_revision_id": "old", "ignores": frozenset({"RG301"})})
    assert "RG402" in codes(context(head))


def test_wildcard_ignore_comment_silences_any_code():
    head = snap("a<-b", b={"doc_revision_id": "old", "ignores": frozenset({"*"})})
    assert "RG402" not in codes(context(head))


@pytest.mark.parametrize("selector", ["RG4", "RG40", "RG", "ALL"])
def test_ignore_comment_takes_a_code_prefix_as_ignore_does(selector):
    head = snap("a<-b", b={"doc_revision_id": "old", "ignores": frozenset({selector})})
    assert "RG402" not in codes(context(head))


@pytest.mark.parametrize("selector", ["RG3", "RG41", "RG4020", "G4", "4"])
def test_ignore_comment_prefix_of_another_code_does_not_silence(selector):
    head = snap("a<-b", b={"doc_revision_id": "old", "ignores": frozenset({selector})})
    assert "RG402" in codes(context(head))


def test_overlap_is_silenced_by_either_sides_comment():
    ctx = overlap_context(("table:users",), ("table:users",), c={"ignores": frozenset({"RG301"})})
    assert "RG301" not in codes(ctx)


def test_fork_is_silenced_only_when_both_chains_say_so():
    main = snap("a<-b<-d", source="origin/main", d={"ignores": frozenset({"RG102"})})
    before = snap("a<-b", source="merge-base")
    one = snap("a<-b<-c")
    both = snap("a<-b<-c", c={"ignores": frozenset({"RG102"})})
    assert "RG102" in codes(context(one, base=main, merge_base=before))
    assert "RG102" not in codes(context(both, base=main, merge_base=before))


def test_duplicate_id_needs_the_comment_in_every_file():
    ignore = frozenset({"RG103"})
    silent_copy = rev("b", "a", path="versions/b_copy.py", ignores=ignore)
    assert "RG103" in codes(context(snap("a<-b", also=[silent_copy])))
    head = snap("a<-b", also=[silent_copy], b={"ignores": ignore})
    assert "RG103" not in codes(context(head))


# ----------------------------------------------------------- select/ignore
def broken() -> CheckContext:
    head = snap("a<-b", "a<-c", c={"doc_revision_id": "x"})
    return context(head, lock_heads=("b",))


def test_select_limits_rules_to_a_prefix():
    assert codes(broken()) == {"RG101", "RG401", "RG402"}
    assert codes(broken(), select=["RG1"]) == {"RG101"}


def test_ignore_drops_a_rule_and_more_specific_select_wins():
    assert codes(broken(), ignore=["RG4"]) == {"RG101"}
    assert codes(broken(), select=["RG402"], ignore=["RG4"]) == {"RG402"}


def test_unknown_selector_is_a_usage_error():
    with pytest.raises(UsageError):
        run_checks(broken(), select=["RG999"])


# ------------------------------------------------------------- determinism
def test_same_input_gives_equal_findings_in_severity_then_code_order():
    ctx = broken()
    first, second = run_checks(ctx), run_checks(broken())
    assert first == second
    assert [f.code for f in first] == ["RG101", "RG401", "RG402"]
    ranks = [f.severity.rank for f in first]
    assert ranks == sorted(ranks)


def test_file_order_in_the_snapshot_does_not_change_findings():
    ctx = fork()
    shuffled_head = dataclasses.replace(ctx.head, revisions=tuple(reversed(ctx.head.revisions)))
    shuffled_base = dataclasses.replace(ctx.base, revisions=tuple(reversed(ctx.base.revisions)))
    shuffled = dataclasses.replace(ctx, head=shuffled_head, base=shuffled_base)
    assert run_checks(ctx) == run_checks(shuffled)


def test_every_rule_has_a_catalogue_entry():
    assert set(RULE_FUNCTIONS) == set(RULES)


def test_findings_carry_the_environment_and_catalogue_severity():
    for finding in run_checks(dataclasses.replace(broken(), environment="reports")):
        assert finding.environment == "reports"
        assert finding.severity is RULES[finding.code].severity


@st.composite
def random_histories(draw):
    """Small histories with forks, merges, labels, dangling parents and the odd cycle."""
    size = draw(st.integers(min_value=1, max_value=9))
    ids = [f"r{i}" for i in range(size)]
    revs = []
    for i, rid in enumerate(ids):
        pool = ids[:i] + ["gone"] + (ids[i:] if draw(st.booleans()) and i else [])
        parents = draw(st.lists(st.sampled_from(pool), max_size=2, unique=True))
        # Unique labels: with a label declared twice the model keeps the first declarer.
        labels = (f"lane{i}",) if draw(st.integers(0, 3)) == 0 else ()
        revs.append(rev(rid, *parents, branch_labels=labels))
    return revs


@settings(max_examples=50, deadline=None)
@given(history=random_histories(), data=st.data())
def test_findings_do_not_depend_on_the_order_files_were_read(history, data):
    shuffled = data.draw(st.permutations(history))
    first = run_checks(context(Snapshot("default", "worktree", tuple(history))))
    second = run_checks(context(Snapshot("default", "worktree", tuple(shuffled))))
    assert first == second


def test_a_long_cycle_is_named_by_its_ends_in_a_message_people_can_read():
    ids = [f"c{i:04d}" for i in range(500)]
    loop = "<-".join([*ids, ids[0]])
    [finding] = findings(context(snap(loop)), "RG105")
    assert len(finding.message) < 1000, finding.message
    assert "c0000 -> c0499" in finding.message and "(491 more)" in finding.message
    assert "and 490 more" in finding.message  # places beyond the first ten are counted
    assert set(finding.revisions) == set(ids)  # the data keeps every member


def test_a_long_new_line_is_shortened_in_rg102_but_keeps_its_first_revision():
    base = snap("a<-m1")
    feature = "a<-" + "<-".join(f"f{i:03d}" for i in range(40))
    merged = snap("a<-m1", feature)
    [finding] = findings(context(snap(feature), base=base, merged=merged, merge_base=snap("a")), "RG102")
    assert "f000 -> f001" in finding.message and "(30 more)" in finding.message
    assert "f039" in finding.message and "f020" not in finding.message


# -------------------------------------------------------------------- diff
def test_diff_calls_an_id_in_a_second_file_declared_twice_not_edited():
    # QA: after merging a branch that took base's number, `diff` said "~ x edited".
    from revgraph.api import diff_snapshots

    old = snap("a<-b<-x", source="main")
    new = snap("a<-b<-x", source="feature", also=[rev("x", "b", path="versions/x_mine.py")])

    diff = diff_snapshots(old, new)

    assert diff.duplicated == (("x", ("versions/x_mine.py", "versions/x_step.py")),)
    assert diff.edited == diff.repointed == diff.added == () and not diff.empty
    assert diff.to_json()["duplicated"] == [{"revision": "x", "paths": ["versions/x_mine.py", "versions/x_step.py"]}]
    assert diff_snapshots(new, new).duplicated == ()  # already twice before: nothing new


def test_diff_keeps_an_id_whose_file_the_other_side_cannot_read_out_of_added_and_removed():
    # Found on a real project: `diff` left an unreadable file out, exit 0, and a file
    # edited into a syntax error read as a removed revision.
    from revgraph.api import diff_snapshots

    broken = ParseProblem("versions/b_step.py", 4, "syntax error: '(' was never closed")
    new_file = ParseProblem("versions/n_step.py", 2, "syntax error: invalid syntax")
    old = snap("a<-b", source="main")
    new = snap("a<-c", source="feature", problems=[broken, new_file])

    diff = diff_snapshots(old, new)

    assert diff.added == ("c",) and diff.removed == () and not diff.empty
    assert [(u.problem, u.sides, u.revision) for u in diff.unreadable] == [
        (broken, ("head",), "b"), (new_file, ("head",), None)
    ]
    back = diff_snapshots(new, old)  # mended: b is not "added" either
    assert back.added == () and back.removed == ("c",) and back.unreadable[0].revision == "b"
    both = diff_snapshots(new, new)
    assert {u.sides for u in both.unreadable} == {("base", "head")} and both.added == both.removed == ()


def test_diff_calls_a_merge_s_parents_in_another_order_an_edit_not_a_re_point():
    from revgraph.api import diff_snapshots

    old = snap("a<-b", "a<-c", "b+c<-m", source="main")
    reordered = snap("a<-b", "a<-c", "c+b<-m", source="feature")

    diff = diff_snapshots(old, reordered)

    assert diff.repointed == () and diff.added == diff.removed == ()


@pytest.mark.parametrize(
    ("root", "start", "path", "shown"),
    [
        ("/r", "/r", "backend/migrations/versions/a.py", "backend/migrations/versions/a.py"),
        (None, "/r", "backend/migrations/versions/a.py", "backend/migrations/versions/a.py"),
        ("/r", "/r/backend", "backend/migrations/versions/a.py", "migrations/versions/a.py"),
        ("/r", "/r/backend/migrations/versions", "backend/migrations/versions/a.py", "a.py"),
        ("/r", "/r/backend/docs", "backend/migrations/versions/a.py", "../migrations/versions/a.py"),
        ("/r", "/r/back", "backend/migrations/a.py", "../backend/migrations/a.py"),  # a prefix, not a folder
        ("/r/proj", "/r/proj/sub", "../shared/a.py", "../../shared/a.py"),  # a location outside the root
        ("/tmp/rv/plain", "/tmp", "migrations/a.py", "rv/plain/migrations/a.py"),  # started outside the root
    ],
)
def test_fix_commands_name_files_from_where_they_are_run(root, start, path, shown):
    assert context(snap("a"), root_dir=root, start_dir=start).here(path) == shown


# ------------------------------------------------- what alembic cannot load (heads)
def test_alembic_load_problems_reads_rg104_to_rg106s_data_of_one_graph():
    from revgraph.checks.graph import alembic_load_problems
    from revgraph.model import RevisionGraph

    healthy = RevisionGraph([rev("a"), rev("b", "a", depends_on=("a",), branch_labels=("x",))])
    assert alembic_load_problems(healthy) == []
    graph = RevisionGraph([
        rev("abcd01"), rev("b", "abcd01", depends_on=("abcd0",)),  # a prefix: alembic's KeyError
        rev("c", "d"), rev("d", "abcd01", depends_on=("c",)),  # a cycle through depends_on
        rev("e", "f0f0"),  # missing, and declared (unreadably) in f0f0_add.py
        rev("g", "h0h0"),  # missing
    ])  # fmt: skip
    assert alembic_load_problems(graph, ["versions/f0f0_add.py"]) == [
        ("RG104", "g's down_revision names 'h0h0', which does not exist"),
        ("RG104", "b's depends_on names 'abcd0', a prefix of abcd01: alembic takes full ids"),
        ("RG105", "cycle in down_revision and depends_on (c, d)"),
    ]
