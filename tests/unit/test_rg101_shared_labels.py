"""RG101/RG102: two heads that share a landed branch label compete (PRODUCT §3).

alembic's ``rep@head`` names every head on ``rep``'s line: a merge revision
that joined ``app`` and ``rep`` carries both labels, so a second head on
``rep`` makes ``rep@head`` fail ("Multiple head revisions are present for
given argument 'rep@head'") even though the two heads' label sets differ.
"""

from __future__ import annotations

from revgraph.checks.graph import head_lanes
from tests.unit.test_checks import codes, context, findings, snap

LABELS = {"a": {"branch_labels": ("app",)}, "r": {"branch_labels": ("rep",)}}


def test_a_merge_of_two_labelled_lines_and_a_head_on_one_of_them_compete():
    base = snap("a", "r", source="origin/main", **LABELS)
    head = snap("a+r<-m", "r<-r2", **LABELS)  # m carries {app, rep}, r2 carries {rep}

    [finding] = findings(context(head, base=base), "RG101")

    assert finding.revisions == ("m", "r2")
    assert finding.message == (
        "2 heads, competing for `upgrade head`: m (versions/m_step.py:10), r2 (versions/r2_step.py:10)"
    )
    assert finding.fix == "revgraph fix --base origin/main"


def test_heads_linked_through_shared_labels_all_compete():
    labels = dict(LABELS, b={"branch_labels": ("bill",)}, o={"branch_labels": ("ops",)})
    base = snap("a", "r", "b", "o", source="origin/main", **labels)
    # x {app, rep}, y {rep, bill}, z {bill, ops}: x and z share no label, yet
    # one of rep@head or bill@head is ambiguous whichever two of them remain.
    head = snap("a+r<-x", "r+b<-y", "b+o<-z", **labels)
    ctx = context(head, base=base)

    lanes = head_lanes(ctx, ctx.head_graph)

    assert lanes.competing == ("x", "y", "z")
    assert lanes.excess == 2
    [finding] = findings(ctx, "RG101")
    assert finding.revisions == ("x", "y", "z")


def test_the_predicted_merge_is_rg102_when_base_grows_a_line_head_merged():
    base = snap("a", "r<-r2", source="origin/main", **LABELS)
    head = snap("a+r<-m", **LABELS)  # HEAD alone: one head, fine

    ctx = context(head, base=base)

    assert "RG101" not in codes(ctx)
    [finding] = findings(ctx, "RG102")
    assert set(finding.revisions) == {"m", "r2"}


def test_competing_heads_is_rg101_on_plain_data():
    from revgraph.checks.graph import competing_heads  # what the merge driver calls

    lineage = {"m": frozenset({"app", "rep"}), "r2": frozenset({"rep"})}.__getitem__

    assert competing_heads(["m", "r2"], lineage, {"app", "rep"}, lambda: False, None) == ("m", "r2")
    assert competing_heads(["m", "r2"], lineage, {"app", "rep"}, lambda: False, 2) == ()  # allow_heads


def test_the_count_says_how_many_of_the_heads_compete_when_some_have_a_line_of_their_own():
    base = snap("a", "r", source="origin/main", **LABELS)
    head = snap("a<-a2", "a<-a3", "r", **LABELS)  # two heads on app, r alone on rep

    [finding] = findings(context(head, base=base), "RG101")

    assert finding.revisions == ("a2", "a3")
    assert finding.message.startswith("3 heads, 2 of them competing for `upgrade head`: a2 ")


def test_rg102_names_the_competing_heads_when_base_already_has_as_many_heads():
    # base has a head per line (app: a2, rep: r); HEAD grows app from a: the merge
    # still has 3 heads, not more than base's 2 + 1, so "3 heads where base has 2"
    base = snap("a<-a2", "r<-r2", source="origin/main", **LABELS)
    head = snap("a<-a3", "r<-r2", **LABELS)

    [finding] = findings(context(head, base=base), "RG102")

    assert "would leave 3 heads where origin/main has 2" in finding.message
    # With no more heads than base ("2 heads where origin/main has 2" read as no
    # problem at all), the message counts the heads that compete instead.
    base = snap("a", "r<-r2", source="origin/main", **LABELS)
    head = snap("a+r<-m", **LABELS)

    [finding] = findings(context(head, base=base), "RG102")

    assert "would leave 2 heads competing on one line:" in finding.message
    assert "where origin/main has" not in finding.message


def test_a_new_labelled_base_gets_no_fix_command_that_would_be_refused():
    # main: a (app). HEAD adds n, a new base with a new label: each head is alone on
    # its line, so neither the rebase nor the merge strategy joins them.
    base = snap("a", source="origin/main", **LABELS)
    head = snap("a", "n", a=LABELS["a"], n={"branch_labels": ("newl",)})

    [finding] = findings(context(head, base=base), "RG101")

    assert finding.fix is None
    assert "allow_heads" in finding.message
