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
