"""The one-match template reader: what it answers, what it leaves to the other readers.

Whatever it answers must equal the ast reader's result to the byte; the
generated-file comparison lives in tests/property/test_parse_template.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revgraph import parse
from revgraph.model import ParseProblem, Revision, Span
from revgraph.parse import _parse_ast, _parse_fast, _read_template, parse_revision
from tests.support.revfiles import render_revision, render_with_template

PATH = "migrations/versions/ff00ee_add_users.py"


def typed(**kw) -> str:
    return render_revision(
        "ff00ee", kw.pop("down", "abc123"), message=kw.pop("message", "add users"), style="typed", **kw
    )


def assert_template_answers(data: bytes) -> Revision:
    """The template reader answers, and exactly as ast does (spans in the same order too)."""
    ours = _read_template(data, PATH, "b" * 40)
    reference = _parse_ast(data, PATH, "b" * 40)
    assert isinstance(ours, Revision), "this file should not need the slower readers"
    assert ours == reference
    assert list(ours.spans.items()) == list(reference.spans.items())
    assert vars(ours) == vars(reference)
    assert parse_revision(data, PATH, "b" * 40) == reference
    return ours


def assert_left_to_the_others(data: bytes) -> Revision | ParseProblem:
    assert _read_template(data, PATH, None) is None
    result = parse_revision(data, PATH)
    reference = _parse_ast(data, PATH)
    assert result == reference
    if isinstance(result, Revision):
        assert dict(result.spans) == dict(reference.spans)
    return result


def at(data: bytes, rev: Revision, key: str) -> bytes:
    span = rev.spans[key]
    return data[span.start : span.end]


# ------------------------------------------------------------- what it takes
def _alembic_templates() -> list[Path]:
    import alembic

    root = Path(alembic.__file__).parent / "templates"
    return sorted(p for p in root.glob("*/script.py.mako") if p.parent.name != "multidb")


@pytest.mark.parametrize("template", _alembic_templates(), ids=lambda p: p.parent.name)
@pytest.mark.parametrize("down", [None, "abc123", ("abc123", "def456")], ids=["base", "one", "merge"])
def test_files_of_every_alembic_template_are_read_in_one_match(template, down):
    text = render_with_template(template.read_text(), "ff00ee", down, message="add users", depends_on="dep1")
    rev = assert_template_answers(text.encode())
    assert rev.depends_on == ("dep1",) and rev.message == "add users"


@pytest.mark.parametrize("style", ["typed", "generic"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_newlines_and_bom_keep_every_span_exact(style, newline, bom):
    text = render_revision("ff00ee", ("abc123", "def456"), message="merge", style=style, newline=newline)
    data = bom + text.encode()
    rev = assert_template_answers(data)
    assert at(data, rev, "down_revision") == b"('abc123', 'def456')"
    assert at(data, rev, "revises_line") == b"abc123, def456"  # no CR in the span
    assert at(data, rev, "revision_id_line") == b"ff00ee"
    assert rev.spans["revises_line"].line == 4 and rev.spans["docstring"].start == len(bom)


def test_mixed_newlines_in_the_docstring_and_header():
    data = (
        typed().replace("Revision ID: ff00ee\n", "Revision ID: ff00ee\r\n").replace("sa\n", "sa\r\n").encode()
    )
    rev = assert_template_answers(data)
    assert at(data, rev, "revision_id_line") == b"ff00ee"


def test_a_coding_cookie_and_non_ascii_text_are_decoded_like_python():
    text = "# -*- coding: latin-1 -*-\n" + typed(message="café über").replace("'abc123'", "'abé1'")
    data = text.encode("latin-1")
    rev = assert_template_answers(data)
    assert rev.message == "café über" and rev.down_revisions == ("abé1",)
    assert rev.spans["docstring"].line == 2
    utf8 = typed(message="Ajoute « prénom » 🎉").encode()
    assert assert_template_answers(utf8).message == "Ajoute « prénom » 🎉"


@pytest.mark.parametrize(
    ("value", "expected", "literal", "line_offset"),
    [
        ("None", (), "None", 0),
        ("'abc123'", ("abc123",), "'abc123'", 0),
        ('r"abc123"', ("abc123",), 'r"abc123"', 0),
        ("('abc123')", ("abc123",), "'abc123'", 0),
        ("(\n    'abc123'\n)", ("abc123",), "'abc123'", 1),  # ast spans the string, on its own line
        ("('abc123',)", ("abc123",), "('abc123',)", 0),
        ("['a1', \"b2\",]", ("a1", "b2"), "['a1', \"b2\",]", 0),
        ("(\n    'a1',\n    'b2',\n)", ("a1", "b2"), "(\n    'a1',\n    'b2',\n)", 0),
        ("()", (), "()", 0),
    ],
)
def test_value_forms_and_their_spans(value, expected, literal, line_offset):
    text = typed().replace("= 'abc123'", f"= {value}  # a note")
    data = text.encode()
    rev = assert_template_answers(data)
    assert rev.down_revisions == expected
    assert at(data, rev, "down_revision") == literal.encode()
    assert rev.spans["down_revision"].line == 16 + line_offset
    assert rev.spans["branch_labels"].line == 17 + value.count("\n")
    fast = _parse_fast(data, PATH, "b" * 40)
    assert fast == rev and dict(fast.spans) == dict(rev.spans)


def test_names_in_comments_of_the_header_do_not_matter():
    text = typed().replace(
        "from alembic import op", "from alembic import op\n  # sets revision\n# depends_on: none"
    )
    assert_template_answers(text.encode())


def test_ignore_comments_are_read():
    rev = assert_template_answers((typed() + "\nx = 1  # revgraph: ignore[rg301]\n").encode())
    assert rev.ignores == frozenset({"RG301"})


# ----------------------------------------------------- what it leaves to others
def test_a_later_top_level_assignment_wins_as_in_alembic():
    data = (typed() + "\nrevision = 'ee11'\ndown_revision = None\n").encode()
    rev = assert_left_to_the_others(data)
    assert (rev.id, rev.down_revisions) == ("ee11", ())
    assert at(data, rev, "revision") == b"'ee11'"


@pytest.mark.parametrize(
    "below",
    [
        "if True:\n    revision = 'in a block'\n",
        "def f():\n    down_revision = 'local'\n",
        "s = \"depends_on = 'in a string'\"\n",
        "# branch_labels = 'in a comment'\n",
    ],
)
def test_names_below_the_header_are_left_to_the_readers_that_understand_them(below):
    result = assert_left_to_the_others((typed() + below).encode())
    if isinstance(result, Revision):
        assert result.id == "ff00ee" and result.down_revisions == ("abc123",)


@pytest.mark.parametrize(
    "line",
    [
        "import revision",
        "from x import depends_on",
        "from x import y as branch_labels",
        "from x import y  # revision",
    ],
)
def test_an_import_naming_a_key_is_left_to_the_others(line):
    assert_left_to_the_others(typed().replace("import sqlalchemy as sa", line).encode())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("add users", "add \\users"),  # an escape in the docstring
        ('"""add users', '"""add users""" + """'),  # the layout lines run past the closing quotes
        ("'abc123'", "'abc' 'd'"),  # implicit concatenation
        ("'abc123'", "'''abc123'''"),
        ("depends_on", "\ndepends_on"),  # a gap between the assignments
        ("from alembic import op", "from alembic import (\n    op,\n)"),
        ("'ff00ee'", "'ff-0'"),  # an id alembic refuses: the problem comes from the others
        ("'ff00ee'", "''"),
        ("\n", "\r"),  # lone CR newlines
    ],
)
def test_shapes_outside_the_template_are_left_to_the_others(old, new):
    assert_left_to_the_others(typed().replace(old, new, 1 if new != "\r" else -1).encode())


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (b"\x00", "binary file"),
        (b"<<<<<<< HEAD\n", "unresolved merge conflict markers"),
        (b"# caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_problems_anywhere_in_the_file_still_come_from_prepare(tail, reason):
    result = assert_left_to_the_others(typed().encode() + tail)
    assert isinstance(result, ParseProblem) and result.reason.startswith(reason)


def test_a_false_conflict_marker_alarm_still_reads_the_file():
    data = (typed() + "SQL = '''\n<<<<<<<x not a marker\n'''\n").encode()
    assert assert_left_to_the_others(data).id == "ff00ee"


# ------------------------------------------------------------ its machinery
def test_records_are_built_like_the_dataclass_constructors_would():
    assert parse._FAST_OBJECTS, "Span or Revision changed shape: update parse._span / parse._revision"
    span = parse._span(1, 5, 2)
    assert span == Span(1, 5, 2) and hash(span) == hash(Span(1, 5, 2)) and vars(span) == vars(Span(1, 5, 2))
    args = (
        "a",
        ("b",),
        ("l",),
        ("d",),
        "p.py",
        "x" * 40,
        "m",
        "2024",
        "a",
        "b",
        {"revision": span},
        frozenset("*"),
        (("*", 3),),
    )
    built, reference = parse._revision(*args), Revision(*args)
    assert built == reference and hash(built) == hash(reference) and vars(built) == vars(reference)
    assert repr(built) == repr(reference)


def test_the_pattern_groups_are_the_ones_the_reader_unpacks():
    assert tuple(sorted(parse._TEMPLATE.groupindex, key=parse._TEMPLATE.groupindex.get)) == parse._T_GROUPS
