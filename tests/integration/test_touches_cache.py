"""RG301's ``touches`` are remembered by blob id, and an edit is never hidden by them.

A check that misses the whole-result cache (any edit) used to read and scan
every new revision of both sides again; the parse cache now keeps what each
content's upgrade() touches. These run the real CLI twice on real
repositories, with ``--no-cache`` as the reference.
"""

from __future__ import annotations

import pytest

from revgraph import parse
from tests.integration.test_check_rules import edit, revgraph, rg301_both_sides_touch_one_table  # noqa: F401

__all__ = ["revgraph"]


@pytest.fixture
def scans(monkeypatch) -> list[bytes]:
    """Every file ``upgrade_touches`` reads, in this process."""
    seen: list[bytes] = []
    real = parse.upgrade_touches

    def counted(data: bytes):
        seen.append(bytes(data))
        return real(data)

    monkeypatch.setattr(parse, "upgrade_touches", counted)
    return seen


def _codes(run) -> list[str]:
    return sorted(f["code"] for f in run.json()["findings"])


def test_a_second_check_takes_touches_from_the_cache(gitrepo, revgraph, scans):  # noqa: F811
    rg301_both_sides_touch_one_table(gitrepo, True)
    first = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert _codes(first) == ["RG301"] and len(scans) == 2
    gitrepo.write("unrelated.txt", "a change outside the folders\n")  # no result-cache hit needed
    second = revgraph(gitrepo, "check", "--base", "main", "--format", "json", "--select", "RG301")
    assert _codes(second) == ["RG301"]
    assert len(scans) == 2  # neither side's file was scanned again


def test_an_edited_revision_is_scanned_again(gitrepo, revgraph, scans):  # noqa: F811
    rg301_both_sides_touch_one_table(gitrepo, True)
    assert _codes(revgraph(gitrepo, "check", "--base", "main", "--format", "json")) == ["RG301"]
    path = next(p for p in (gitrepo.path / "migrations" / "versions").glob("*bill02*.py"))
    relpath = str(path.relative_to(gitrepo.path))
    edit(gitrepo, relpath, 'op.add_column("users"', 'op.add_column("invoices"')
    after = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    reference = revgraph(gitrepo, "--no-cache", "check", "--base", "main", "--format", "json")
    assert _codes(after) == _codes(reference) == []


# RG301 compares each side's new revisions with ours by name: a file of theirs
# that does not contain any name ours touch is not scanned at all.
def _one_table_each(repo, theirs_body: str, ours_body: str) -> None:
    repo.init_env()
    repo.add_revision("shop01", None, message="shop", branch_labels="shop")
    repo.add_revision("bill01", None, message="billing", branch_labels="billing")
    repo.commit("two lines")
    repo.branch("feature")
    repo.add_revision("shop02", "shop01", message="theirs", body=theirs_body)
    repo.add_revision("shop03", "shop02", message="theirs again",
                      body='op.create_index("ix_orders_total", "orders", ["total"])')  # fmt: skip
    repo.commit("main adds two")
    repo.checkout("feature")
    repo.add_revision("bill02", "bill01", message="ours", body=ours_body)
    repo.commit("feature adds one")


def _unfiltered(monkeypatch, revgraph, repo, *args):  # noqa: F811
    """The check with every file of theirs scanned: the reference for the filter."""
    from revgraph.api import checking

    with monkeypatch.context() as patched:
        patched.setattr(checking, "_may_touch", lambda data, naming: True)
        return revgraph(repo, "--no-cache", *args)


def test_a_file_naming_nothing_of_ours_is_not_scanned(gitrepo, revgraph, scans, monkeypatch):  # noqa: F811
    _one_table_each(gitrepo, 'op.add_column("users", sa.Column("email", sa.String()))',
                    'op.add_column("invoices", sa.Column("note", sa.String()))')  # fmt: skip
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert _codes(run) == []
    assert len(scans) == 1 and b'"invoices"' in scans[0]  # ours only
    reference = _unfiltered(monkeypatch, revgraph, gitrepo, "check", "--base", "main", "--format", "json")
    assert len(scans) == 4  # the reference scanned all three
    assert run.json()["findings"] == reference.json()["findings"]


@pytest.mark.parametrize(
    "theirs",
    [
        'op.add_column("users", sa.Column("email", sa.String()))',
        'op.execute("UPDATE us" "ers SET email = NULL")',  # the name is in no one literal
        "op.execute(sa.text(r'''UPDATE u''' 'sers SET email = NULL'))",  # ... nor here
        'op.create_index("ix_email", "accounts", ["email"])',  # an index of ours, on another table
    ],
)
def test_every_file_that_may_share_an_item_is_still_compared(gitrepo, revgraph, scans, monkeypatch, theirs):  # noqa: F811
    ours = 'op.create_index("ix_email", "users", ["email"])'
    _one_table_each(gitrepo, theirs, ours)
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert _codes(run) == ["RG301"]
    reference = _unfiltered(monkeypatch, revgraph, gitrepo, "check", "--base", "main", "--format", "json")
    assert run.json()["findings"] == reference.json()["findings"]
    if "execute" in theirs:
        assert not any(b"users" in data for data in scans if b"UPDATE" in data)  # only the join lets it in


def test_a_file_with_sql_naming_nothing_of_ours_is_not_scanned(gitrepo, revgraph, scans):  # noqa: F811
    _one_table_each(gitrepo, 'op.execute("UPDATE invoices" " SET total = 0")',
                    'op.add_column("users", sa.Column("email", sa.String()))')  # fmt: skip
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert _codes(run) == []
    assert [b'"users"' in data for data in scans] == [True]  # ours only


@pytest.fixture
def prefilter_reads(monkeypatch) -> list[bytes]:
    """Every file RG301's pre-filter looks at (``_may_touch``), in this process."""
    from revgraph.api import checking

    seen: list[bytes] = []
    real = checking._may_touch

    def counted(data: bytes, naming):
        seen.append(bytes(data))
        return real(data, naming)

    monkeypatch.setattr(checking, "_may_touch", counted)
    return seen


def test_a_file_known_to_name_nothing_of_ours_is_not_read_again_until_ours_change(
    gitrepo, revgraph, prefilter_reads, scans
):  # noqa: F811
    _one_table_each(gitrepo, 'op.add_column("invoices", sa.Column("note", sa.String()))',
                    'op.add_column("users", sa.Column("email", sa.String()))')  # fmt: skip
    assert _codes(revgraph(gitrepo, "check", "--base", "main", "--format", "json")) == []
    theirs_read = [data for data in prefilter_reads if b'"invoices"' in data or b"ix_orders" in data]
    assert len(theirs_read) == 2  # both of theirs, found to name nothing of ours
    prefilter_reads.clear()
    # Another --select: the result cache misses, the parse cache answers.
    assert _codes(revgraph(gitrepo, "check", "--base", "main", "--format", "json", "--select", "RG301")) == []
    assert prefilter_reads == [], "the parse cache knew they name nothing of ours"
    # Ours now touch a table of theirs: every file of theirs is looked at again.
    path = next(p for p in (gitrepo.path / "migrations" / "versions").glob("*bill02*.py"))
    edit(gitrepo, str(path.relative_to(gitrepo.path)), 'op.add_column("users"', 'op.add_column("invoices"')
    after = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert _codes(after) == ["RG301"]
    assert any(b'"invoices"' in data for data in prefilter_reads)
    reference = revgraph(gitrepo, "--no-cache", "check", "--base", "main", "--format", "json")
    assert after.json()["findings"] == reference.json()["findings"]
