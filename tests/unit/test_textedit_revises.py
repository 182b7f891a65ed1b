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


@pytest.mark.parametrize(("line", "expected"), [
    (b"Revises: x9  # the first schema", b"Revises: z7  # the first schema"),
    (b"Revises: x9   ", b"Revises: z7   "),  # trailing spaces are the author's
    (b"Revises: x9 (users table)", b"Revises: z7 (users table)"),
])  # fmt: skip
def test_a_rebase_swaps_the_id_on_the_revises_line_and_keeps_the_rest_of_it(line, expected):
    source = b'"""add\n\n' + line + b'\n"""\nrevision = "a1"\ndown_revision = "x9"\n'
    doc = source.index(b"Revises: ") + len(b"Revises: ")
    literal = source.index(b'"x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, literal + 4, 6)}  # fmt: skip
    new = rewrite_down_revision(source, spans, ("x9",), ("z7",))
    assert new == source.replace(line, expected).replace(b'"x9"', b'"z7"')


def test_a_revises_line_that_names_the_id_twice_is_written_anew():
    source = b'"""add\n\nRevises: x9 (x9)\n"""\nrevision = "a1"\ndown_revision = "x9"\n'
    doc = source.index(b"Revises: ") + len(b"Revises: ")
    literal = source.index(b'"x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, literal + 4, 6)}  # fmt: skip
    assert b"Revises: z7\n" in rewrite_down_revision(source, spans, ("x9",), ("z7",))


def test_a_revises_line_naming_more_parents_than_down_revision_is_written_anew():
    # A tester: "Revises: b, a" over down_revision "b" became "Revises: m1, a", and
    # RG402 still fired after the fix.
    source = b'"""add\n\nRevises: x9, y8\n"""\nrevision = "a1"\ndown_revision = "x9"\n'
    doc = source.index(b"Revises: ") + len(b"Revises: ")
    literal = source.index(b'"x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, literal + 4, 6)}  # fmt: skip
    assert b"Revises: z7\n" in rewrite_down_revision(source, spans, ("x9",), ("z7",))


def test_a_note_in_brackets_with_a_comma_is_kept_by_the_swap():
    # A reviewer: "Revises: x9 (users, roles)" lost its note: the comma counted as a second entry.
    source = b'"""add\n\nRevises: x9 (users, roles)\n"""\nrevision = "a1"\ndown_revision = "x9"\n'
    doc = source.index(b"Revises: ") + len(b"Revises: ")
    literal = source.index(b'"x9"')
    spans = {"revises_line": Span(doc, source.index(b"\n", doc), 3),
             "down_revision": Span(literal, literal + 4, 6)}  # fmt: skip
    assert b"Revises: z7 (users, roles)\n" in rewrite_down_revision(source, spans, ("x9",), ("z7",))
