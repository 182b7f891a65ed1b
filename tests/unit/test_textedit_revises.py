"""The docstring's ``Revises:`` value as a fix rewrites it: in the form the line had."""

from __future__ import annotations

import pytest

from revgraph.fixes.textedit import render_revises, rewrite_down_revision
from revgraph.model import Span


@pytest.mark.parametrize(("ids", "like", "expected"), [
    (("a1", "b2"), None, b"a1, b2"),  # alembic's own template: `${down_revision | comma,n}`
    (("a1", "b2"), b"x9, y8", b"a1, b2"),
    (("a1", "b2", "c3"), b"('x9', 'y8')", b"('a1', 'b2', 'c3')"),  # `${down_revision}`: a tuple's repr
    (("a1", "b2"), b'["x9", "y8"]', b'["a1", "b2"]'),
    (("a1",), b"('x9', 'y8')", b"a1"),  # what such a template writes for one parent
    ((), b"('x9', 'y8')", b"None"),  # ...and for none
    ((), b"x9", b""),
    (("a1", "b2"), b"(see below)", b"a1, b2"),  # brackets that are no repr: alembic's form
])  # fmt: skip
def test_render_revises_keeps_the_form_of_the_value_it_replaces(ids, like, expected):
    assert render_revises(ids, like=like) == expected


def test_a_rebase_keeps_a_tuple_style_revises_line():
    source = b'"""merge\n\nRevises: (\'x9\', \'y8\')\n"""\nrevision = "m1"\ndown_revision = ("x9", "y8")\n'
    doc = source.index(b"('x9'")
    literal = source.index(b'("x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, source.rindex(b"\n"), 6)}  # fmt: skip
    new = rewrite_down_revision(source, spans, ("x9", "y8"), ("x9", "z7"))
    assert new == source.replace(b"('x9', 'y8')", b"('x9', 'z7')").replace(b'("x9", "y8")', b'("x9", "z7")')


def _rebased(line: bytes) -> bytes:
    """A revision whose docstring holds ``line``, re-pointed from x9 to z7."""
    source = b'"""add\n\n' + line + b'\n"""\nrevision = "a1"\ndown_revision = "x9"\n'
    doc = source.index(b"Revises: ") + len(b"Revises: ")
    literal = source.index(b'"x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, literal + 4, 6)}  # fmt: skip
    new = rewrite_down_revision(source, spans, ("x9",), ("z7",))
    assert new.endswith(b'down_revision = "z7"\n')
    return new.split(b"\n")[2]


@pytest.mark.parametrize(("line", "expected"), [
    (b"Revises: x9  # the first schema", b"Revises: z7  # the first schema"),
    (b"Revises: x9   ", b"Revises: z7   "),  # trailing spaces are the author's
    (b"Revises: x9 (users table)", b"Revises: z7 (users table)"),
    # A reviewer: the note lost, its comma counted as a second entry.
    (b"Revises: x9 (users, roles)", b"Revises: z7 (users, roles)"),
])  # fmt: skip
def test_a_rebase_swaps_the_id_on_the_revises_line_and_keeps_the_rest_of_it(line, expected):
    assert _rebased(line) == expected


@pytest.mark.parametrize("line", [
    b"Revises: x9 (x9)",  # the id twice: which one is the parent?
    # A tester: "Revises: b, a" over down_revision "b" became "Revises: m1, a", and
    # RG402 still fired after the fix.
    b"Revises: x9, y8",
])  # fmt: skip
def test_a_revises_line_that_does_not_say_the_parent_once_is_written_anew(line):
    assert _rebased(line) == b"Revises: z7"
