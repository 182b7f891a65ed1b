"""``lockfile.is_lock_text``: what revgraph takes for its own lock file, and so may overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from revgraph.gitops.driver import conflict_text
from revgraph.lockfile import LockEntry, is_lock_text, parse_lock, render_lock

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        render_lock([]),
        render_lock([LockEntry("head", "a1", "create users")], newline="\r\n"),
        "\ufeff" + render_lock([LockEntry("head", "a1")]),
        render_lock([LockEntry("head", "a1")]) + "a stray line someone typed\n",
        "head: 0001  init\n",  # written by hand
        "<<<<<<< HEAD\nhead: a1\n||||||| base\nhead: 00\n=======\nhead: b2\n>>>>>>> feature\n",
        "<<<<<<<<<< ours\nhead: a1\n==========\nhead: b2\n>>>>>>>>>> theirs\n",  # conflict-marker-size=10
    ],
)
def test_revgraph_lock_files_are_recognised(text: str) -> None:
    assert is_lock_text(text) and is_lock_text(text.encode())


def test_the_merge_drivers_conflict_text_is_a_lock_file() -> None:
    ancestor, ours, theirs = "head: 0001\n", "head: 0002  orders\n", "head: 0003  invoices\n"
    text = conflict_text(parse_lock(ancestor), parse_lock(ours), parse_lock(theirs), ours, theirs, newline="\n")
    assert is_lock_text(text)


@pytest.mark.parametrize(
    "path", ["alembic.ini", "migrations/env.py", "migrations/script.py.mako", "pyproject.toml", "README.md"]
)
def test_the_users_files_are_not(path: str) -> None:
    assert not is_lock_text((REPO_ROOT / path).read_bytes())


@pytest.mark.parametrize("text", ["# only a comment\n", "[alembic]\nscript_location = m\n", "\xff\xfe binary"])
def test_other_text_is_not(text: str) -> None:
    assert not is_lock_text(text)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_bom_before_the_header_is_not_read_as_an_entry(newline: str) -> None:
    # QA: an editor's BOM turned the header line into an entry, a head "one" (from
    # "...: one line per Alembic head"): RG401 said the lock recorded "a1, one".
    text = render_lock([LockEntry("head", "a1", "first")], "default", newline=newline)
    assert parse_lock("\ufeff" + text) == parse_lock(text)
    assert parse_lock("\ufeff" + text).heads == ("a1",)
