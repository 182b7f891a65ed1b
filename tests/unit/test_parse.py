"""parse.py: revision files read statically, byte-exact spans, problems instead of crashes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from revgraph.model import ParseProblem, Revision
from revgraph.parse import (
    PARSER_VERSION,
    _parse_ast,
    _parse_fast,
    _read_template,
    fingerprint,
    parse_revision,
    scan_touches,
    upgrade_touches,
)
from tests.support.revfiles import render_revision, render_with_template

PATH = "migrations/versions/ff00ee_add_users.py"

HEADER = '''"""add users

Revision ID: ff00ee
Revises: abc123
Create Date: 2024-05-06 07:08:09.123456

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'ff00ee'
'''

TAIL = """

def upgrade():
    pass


def downgrade():
    pass
"""


# ------------------------------------------------------------------ helpers
def read(data: bytes | str, path: str = PATH) -> Revision:
    """Parse, insisting on a Revision, and check the two readers agree on it."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    result = parse_revision(data, path)
    assert isinstance(result, Revision), result
    assert_readers_agree(data, path)
    return result


def problem(data: bytes | str, path: str = PATH) -> ParseProblem:
    if isinstance(data, str):
        data = data.encode("utf-8")
    result = parse_revision(data, path)
    assert isinstance(result, ParseProblem), result
    assert result.path == path
    return result


def assert_readers_agree(data: bytes, path: str = PATH) -> None:
    slow = _parse_ast(data, path)
    for fast in (_parse_fast(data, path), _read_template(data, path, None)):
        if fast is None:
            continue
        assert fast == slow
        if isinstance(fast, Revision):
            assert isinstance(slow, Revision)
            assert dict(fast.spans) == dict(slow.spans)
            assert fast.touches == slow.touches == ()


def text_at(data: bytes | str, rev: Revision, key: str) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    span = rev.spans[key]
    return data[span.start : span.end]


def with_down(value: str, annotation: str = "") -> str:
    return HEADER + f"down_revision{annotation} = {value}\n" + TAIL


# ------------------------------------------------------------ header styles
def test_typed_template_header_is_read_with_exact_spans():
    text = render_revision("ff00ee", "abc123", message="add users", style="typed")
    rev = read(text)
    assert (rev.id, rev.down_revisions, rev.branch_labels, rev.depends_on) == ("ff00ee", ("abc123",), (), ())
    assert rev.message == "add users"
    assert rev.create_date == "2024-01-01 00:00:00.000000"
    assert (rev.doc_revision_id, rev.doc_revises) == ("ff00ee", "abc123")
    assert text_at(text, rev, "revision") == b"'ff00ee'"
    assert text_at(text, rev, "down_revision") == b"'abc123'"
    assert text_at(text, rev, "branch_labels") == b"None"
    assert text_at(text, rev, "depends_on") == b"None"
    assert text_at(text, rev, "revises_line") == b"abc123"
    assert text_at(text, rev, "revision_id_line") == b"ff00ee"
    docstring = text_at(text, rev, "docstring")
    assert docstring.startswith(b'"""add users\n') and docstring.endswith(b'\n"""')
    assert rev.spans["down_revision"].line == 16 and rev.spans["revises_line"].line == 4


def test_generic_untyped_template_header_is_read_with_exact_spans():
    text = render_revision("ff00ee", ("abc123", "def456"), message="merge", style="generic")
    rev = read(text)
    assert rev.down_revisions == ("abc123", "def456")
    assert rev.is_merge
    assert text_at(text, rev, "down_revision") == b"('abc123', 'def456')"
    assert text_at(text, rev, "revises_line") == b"abc123, def456"
    assert rev.doc_revises == "abc123, def456"


def test_hand_formatted_header_with_wrapped_tuple_lists_and_comments_is_read():
    text = render_revision(
        "ff00ee", ("a1", "b2"), message="merge", style="custom", branch_labels=("x",), depends_on=("y", "z")
    )
    rev = read(text)
    assert rev.down_revisions == ("a1", "b2")
    assert rev.branch_labels == ("x",) and rev.depends_on == ("y", "z")
    assert text_at(text, rev, "down_revision") == b'(\n    "a1",\n    "b2",\n)'
    assert text_at(text, rev, "branch_labels") == b'["x"]'
    assert text_at(text, rev, "depends_on") == b'["y", "z"]'


def _alembic_templates() -> list[Path]:
    import alembic

    root = Path(alembic.__file__).parent / "templates"
    return sorted(p for p in root.glob("*/script.py.mako") if p.parent.name != "multidb")


@pytest.mark.parametrize("template", _alembic_templates(), ids=lambda p: p.parent.name)
@pytest.mark.parametrize("down", [None, "abc123", ("abc123", "def456")], ids=["base", "one", "merge"])
def test_every_alembic_template_is_read_on_the_fast_path_identically_to_ast(template, down):
    text = render_with_template(
        template.read_text(), "ff00ee", down, message="add users", branch_labels=("lbl",), depends_on="dep1"
    )
    data = text.encode()
    fast = _parse_fast(data, PATH)
    assert isinstance(fast, Revision), "real alembic files must not need the slow path"
    assert fast == _parse_ast(data, PATH)
    assert dict(fast.spans) == dict(_parse_ast(data, PATH).spans)
    assert fast.down_revisions == (() if down is None else (down,) if isinstance(down, str) else down)
    assert fast.branch_labels == ("lbl",) and fast.depends_on == ("dep1",)


def test_multidb_template_touches_come_from_each_upgrade_function():
    import alembic
    from mako.template import Template

    class Config:
        def get_main_option(self, name):
            return "engine1, engine2"

    template = Path(alembic.__file__).parent / "templates" / "multidb" / "script.py.mako"
    text = Template(template.read_text()).render_unicode(
        up_revision="ff00ee",
        down_revision="abc123",
        branch_labels=None,
        depends_on=None,
        create_date="2024-01-01",
        comma=lambda v: v or "",
        message="two engines",
        config=Config(),
        engine1_upgrades="op.create_table('users')",
        engine2_upgrades="op.drop_table('logs')",
        engine1_downgrades="op.drop_table('should_not_count')",
    )
    rev = read(text)
    assert rev.down_revisions == ("abc123",)
    assert upgrade_touches(text.encode()) == ("table:logs", "table:users")


# --------------------------------------------------------------- value forms
@pytest.mark.parametrize(
    ("source", "expected", "literal"),
    [
        ("'abc123'", ("abc123",), "'abc123'"),
        ('"abc123"', ("abc123",), '"abc123"'),
        ("r'abc123'", ("abc123",), "r'abc123'"),
        ("u'abc123'", ("abc123",), "u'abc123'"),
        ("'''abc123'''", ("abc123",), "'''abc123'''"),
        ("('abc123')", ("abc123",), "'abc123'"),  # a parenthesised string, not a tuple
        ("( 'abc123' )  # why not", ("abc123",), "'abc123'"),
        ("('abc123',)", ("abc123",), "('abc123',)"),
        ("('a1', 'b2')", ("a1", "b2"), "('a1', 'b2')"),
        ("['a1', \"b2\"]", ("a1", "b2"), "['a1', \"b2\"]"),
        ("()", (), "()"),
        ("[]", (), "[]"),
        ("None", (), "None"),
        ("None  # a base", (), "None"),
        ("(\n    'a1',\n    'b2',\n)", ("a1", "b2"), "(\n    'a1',\n    'b2',\n)"),
        ("(\n    'a1',  # left\n    'b2',\n)", ("a1", "b2"), "(\n    'a1',  # left\n    'b2',\n)"),
        ("'a1', 'b2'", ("a1", "b2"), "'a1', 'b2'"),
        ("'ab' 'c'", ("abc",), "'ab' 'c'"),
        ("\\\n    'abc123'", ("abc123",), "'abc123'"),
    ],
)
def test_down_revision_value_forms_and_their_spans(source, expected, literal):
    text = with_down(source)
    rev = read(text)
    assert rev.down_revisions == expected
    assert text_at(text, rev, "down_revision") == literal.encode()


@pytest.mark.parametrize(
    "annotation",
    [
        ": str",
        ": Union[str, Sequence[str], None]",
        ": Union[str, None]",
        ": str | None",
        ": str | tuple[str, ...] | None",
        ": Optional[str]",
        ': "str | None"',
        ": typing.Optional[str]",
    ],
)
def test_annotated_assignments_are_read_like_plain_ones(annotation):
    text = with_down("'abc123'", annotation)
    rev = read(text)
    assert rev.down_revisions == ("abc123",)
    assert text_at(text, rev, "down_revision") == b"'abc123'"


def test_annotation_without_value_does_not_assign():
    text = HEADER + "down_revision: str\ndown_revision = 'abc123'\nbranch_labels: str\n" + TAIL
    rev = read(text)
    assert rev.down_revisions == ("abc123",)
    assert "branch_labels" not in rev.spans


def test_string_branch_labels_and_depends_on_become_tuples():
    text = with_down("'abc123'") + "branch_labels = 'feature'\ndepends_on = ['x1', 'y2']\n"
    rev = read(text)
    assert rev.branch_labels == ("feature",)
    assert rev.depends_on == ("x1", "y2")
    assert text_at(text, rev, "branch_labels") == b"'feature'"


def test_last_assignment_wins_as_in_python():
    text = with_down("'first'") + "down_revision = 'second'\nrevision = 'ff11'\n"
    rev = read(text)
    assert rev.id == "ff11"
    assert rev.down_revisions == ("second",)
    assert text_at(text, rev, "down_revision") == b"'second'"
    assert text_at(text, rev, "revision") == b"'ff11'"


def test_an_earlier_computed_value_overridden_by_a_literal_is_fine():
    text = HEADER + "down_revision = compute()\ndown_revision = 'abc123'\n" + TAIL
    assert read(text).down_revisions == ("abc123",)


def test_names_in_comments_strings_and_functions_do_not_count():
    text = with_down("'abc123'") + (
        "\n# down_revision = 'not me'\n"
        "def helper():\n"
        "    down_revision = 'local'\n"
        "    return 'revision = \"nope\"'\n"
    )
    rev = read(text)
    assert rev.down_revisions == ("abc123",)


def test_column_zero_text_inside_brackets_or_strings_is_not_an_assignment():
    text = (
        HEADER.replace("revision = 'ff00ee'\n", "")
        + "x = dict(\nrevision='inside a call')\n"
        + "SQL = '''\nrevision = 'inside a string'\n'''\n"
        + "revision = 'ff00ee'\ndown_revision = 'abc123'\n"
    )
    rev = read(text)
    assert rev.id == "ff00ee"
    assert text_at(text, rev, "revision") == b"'ff00ee'"


# ------------------------------------------------------------ newlines, BOM
def test_crlf_file_spans_are_exact_and_exclude_the_newline():
    text = render_revision("ff00ee", "abc123", message="add users", style="typed", newline="\r\n")
    data = text.encode()
    rev = read(data)
    assert text_at(data, rev, "down_revision") == b"'abc123'"
    assert text_at(data, rev, "revises_line") == b"abc123"
    assert text_at(data, rev, "revision_id_line") == b"ff00ee"
    assert rev.message == "add users"
    assert rev.spans["down_revision"].line == 16


def test_mixed_newlines_keep_lines_and_spans_exact():
    data = (
        b'"""mixed\r\n\r\nRevision ID: ff00ee\nRevises: abc123\r\n"""\n'
        b"revision = 'ff00ee'\r\n"
        b"down_revision = 'abc123'\n"
    )
    rev = read(data)
    assert text_at(data, rev, "revises_line") == b"abc123"
    assert rev.spans["revises_line"].line == 4
    assert rev.spans["down_revision"].line == 7


def test_old_mac_carriage_return_newlines_count_as_lines():
    data = (
        b'"""m\r\rRevision ID: ff00ee\rRevises: abc123\r"""\rrevision = "ff00ee"\rdown_revision = "abc123"\r'
    )
    rev = read(data)
    assert rev.spans["down_revision"].line == 7
    assert rev.spans["revises_line"].line == 4
    assert text_at(data, rev, "revises_line") == b"abc123"
    assert text_at(data, rev, "down_revision") == b'"abc123"'


def test_utf8_bom_is_part_of_the_byte_offsets():
    text = render_revision("ff00ee", "abc123", message="add users", style="typed")
    data = b"\xef\xbb\xbf" + text.encode()
    rev = read(data)
    assert rev.spans["docstring"].start == 3
    assert text_at(data, rev, "down_revision") == b"'abc123'"
    assert text_at(data, rev, "revises_line") == b"abc123"
    assert rev.message == "add users"


def test_non_ascii_text_before_a_value_keeps_byte_offsets_exact():
    text = (
        '"""Ajoute la colonne « prénom » 🎉\n\nRevision ID: ff00ee\nRevises: abc123\n"""\n'
        "revision = 'ff00ee'  # café\n"
        "down_revision = ('abc123', 'é1')  # ünïcode\n"
    )
    rev = read(text)
    assert rev.message == "Ajoute la colonne « prénom » 🎉"
    assert rev.down_revisions == ("abc123", "é1")
    assert text_at(text, rev, "down_revision") == "('abc123', 'é1')".encode()


def test_non_ascii_bytes_before_an_ast_read_value_map_to_exact_offsets():
    text = "# é\nrevision = 'ff00ee'\nx = 'ü'; down_revision = (\n  'abc123', 'é1')\n"
    rev = read(text)
    assert text_at(text, rev, "down_revision") == "(\n  'abc123', 'é1')".encode()


def test_latin1_coding_cookie_is_honoured():
    text = (
        "# -*- coding: latin-1 -*-\n"
        '"""Café\n\nRevision ID: ff00ee\nRevises: abc123\n"""\n'
        "revision = 'ff00ee'  # é\n"
        "down_revision = 'abc123'\n"
        "branch_labels = ('é',\n    'ü')\n"
    )
    data = text.encode("latin-1")
    rev = read(data)
    assert rev.message == "Café"
    assert rev.branch_labels == ("é", "ü")
    assert text_at(data, rev, "down_revision") == b"'abc123'"
    assert text_at(data, rev, "branch_labels") == "('é',\n    'ü')".encode("latin-1")


def test_multibyte_legacy_coding_cookie_maps_offsets_through_the_codec():
    text = "# coding: cp1251\n\"\"\"Привет\"\"\"\nrevision = 'ff00ee'\nx = 'ж'; down_revision = 'деф'\n"
    data = text.encode("cp1251")
    rev = read(data)
    assert rev.down_revisions == ("деф",)
    assert text_at(data, rev, "down_revision") == "'деф'".encode("cp1251")


# ---------------------------------------------------------------- problems
def test_invalid_utf8_is_a_problem_naming_the_byte_and_line():
    data = HEADER.encode() + b"# caf\xe9\n" + b"down_revision = None\n"
    found = problem(data)
    assert found.line == 13
    assert found.reason.startswith("not valid UTF-8 (byte 0xe9 at line 13); Python reads a file without")


def test_nul_bytes_make_a_binary_file_problem():
    assert problem(b"\x89PNG\r\n\x1a\n\x00\x00").reason.startswith("binary file")


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_files_are_a_problem(data):
    assert problem(data).reason == "empty file"


def test_unresolved_conflict_markers_are_a_problem_naming_the_line():
    text = HEADER + "<<<<<<< HEAD\ndown_revision = 'a1'\n=======\ndown_revision = 'b2'\n>>>>>>> feature\n"
    found = problem(text)
    assert found.line == 13
    assert "unresolved merge conflict markers" in found.reason


def test_unknown_coding_cookie_is_a_problem():
    assert "unknown encoding" in problem(b"# coding: klingon\nrevision = 'a'\n").reason


def test_bom_with_a_conflicting_coding_cookie_is_a_problem():
    assert "BOM" in problem(b"\xef\xbb\xbf# coding: latin-1\nrevision = 'a'\n").reason


def test_syntax_error_in_the_header_reports_its_line():
    text = HEADER + "down_revision = 'abc123\n" + TAIL
    found = problem(text)
    assert found.line == 13
    assert found.reason.startswith("syntax error")


def test_ast_reader_reports_syntax_errors_anywhere_with_their_line():
    text = with_down("'abc123'") + "\ndef broken(:\n    pass\n"
    found = _parse_ast(text.encode(), PATH)
    assert isinstance(found, ParseProblem)
    assert found.line == text.count("\n") - 1
    assert found.reason.startswith("syntax error")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_syntax_error_line_counts_carriage_returns_like_python(newline):
    data = (HEADER + "down_revision = 'abc123\n" + TAIL).replace("\n", newline).encode()
    found = problem(data)
    assert found.line == 13
    assert found.reason.startswith("syntax error")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("get_parent()", "Call"),
        ("PARENT", "Name"),
        ("f'abc{1}'", "JoinedStr"),
        ("'abc' + '123'", "BinOp"),
        ("settings.parent", "Attribute"),
        ("PARENTS[0]", "Subscript"),
        ("('abc', OTHER)", "Name inside"),
    ],
)
def test_non_literal_values_are_problems_on_the_assignment_line(value, kind):
    found = problem(with_down(value))
    assert found.line == 13
    assert found.reason == (
        f"down_revision is not a literal ({kind}); revgraph reads revision files statically and never runs them"
    )


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        (
            "down_revision = 5\n",
            "down_revision must be a string, a tuple or list of strings, or None (got int)",
        ),
        ("down_revision = ('a', None)\n", "(got a tuple containing NoneType)"),
        ("down_revision = b'abc'\n", "(got bytes)"),
        ("down_revision = (None, None)\n", "(got a tuple containing NoneType)"),
        ("branch_labels = (None,)\ndown_revision = 'a'\n", "branch_labels must be"),
        ("down_revision = 'a'\ndown_revision += 'b'\n", "not a literal (AugAssign)"),
        ("from elsewhere import down_revision\n", "down_revision is imported"),
        ("if True:\n    down_revision = 'a'\n", "assigned inside a block (`if` at line 13)"),
        ("down_revision, x = 'a', 'b'\n", "down_revision is assigned by unpacking"),
        ("def down_revision():\n    pass\n", "not a literal (FunctionDef)"),
        ("for down_revision in ('a',):\n    pass\n", "assigned inside a block (`for` at line 13)"),
        ("with open('x') as down_revision:\n    pass\n", "assigned inside a block (`with` at line 13)"),
        ("try:\n    import down_revision\nexcept ImportError:\n    pass\n", "assigned inside a block (`try`"),
    ],
)
def test_values_alembic_would_not_accept_are_problems(snippet, needle):
    assert needle in problem(HEADER + snippet).reason


@pytest.mark.parametrize(
    ("snippet", "needle", "line"),
    [
        ("(down_revision := 'x')\n", "down_revision is assigned with `:=`", 14),
        ("print([down_revision := c for c in 'ab'])\n", "down_revision is assigned with `:=`", 14),
        ("def f(a=(depends_on := 'x')):\n    pass\n", "depends_on is assigned with `:=`", 14),
        ("def f():\n    global down_revision\nf()\n", "down_revision is declared `global` in a function", 15),
        ("class A:\n    global revision\n", "revision is declared `global` in a class body", 15),
        ("exec(CODE)\n", "`exec()` runs when alembic imports the file", 14),
        ("X = eval('1')\n", "`eval()` runs when alembic imports the file", 14),
        ("class A:\n    exec(CODE)\n", "`exec()` runs when alembic imports", 15),
        ("globals()['down_revision'] = 'x'\n", "down_revision is assigned through `globals()[...]`", 14),
        ("del globals()['revision']\n", "revision is deleted through `globals()[...]`", 14),
        ("globals()[NAME] = 'x'\n", "`globals()` is used in a way that may bind", 14),
        ("globals().update(PARENTS)\n", "`globals().update` may bind", 14),
        ("def f():\n    globals().update(PARENTS)\n", "`globals().update` may bind", 15),
        ("g = globals()\n", "`globals()` is used in a way that may bind", 14),
        ("vars()['depends_on'] = 'x'\n", "depends_on is assigned through `vars()[...]`", 14),
        ("del down_revision\n", "down_revision is deleted (`del`)", 14),
        ("if X:\n    del down_revision\n", "deleted (`del`) inside a block (`if` at line 14)", 15),
        (
            "try:\n    pass\nexcept Exception as down_revision:\n    pass\n",
            "down_revision is bound by `except ... as` (`try` at line 14)",
            16,
        ),
        ("match X:\n    case down_revision:\n        pass\n", "bound by a `case` pattern (`match`", 15),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    down_revision = 'x'\n", "assigned inside a block (`if`", 17),
        ("locals()['down_revision'] = 'x'\n", "down_revision is assigned through `locals()[...]`", 14),
        ("locals().update(PARENTS)\n", "`locals().update` may bind", 14),
    ],
)
def test_what_rebinds_the_names_beyond_a_literal_assignment_is_a_problem(snippet, needle, line):
    # Each makes alembic see another value than the literal (or may): RG107, never the literal.
    found = problem(HEADER + "down_revision = 'abc123'\n" + snippet)
    assert needle in found.reason and found.reason.endswith("never runs them")
    assert found.line == line


@pytest.mark.parametrize(
    ("snippet", "needle", "line"),
    [
        # the module object itself: alembic's loader does not register it in sys.modules,
        # so these fail at import there; either way the literal is not what alembic reads
        ("setattr(sys.modules[__name__], 'down_revision', 'x')\n", "down_revision is assigned by `setattr()", 1),
        ("setattr(sys.modules[__name__], NAME, 'x')\n", "`setattr()` with a computed name may bind", 1),
        ("delattr(sys.modules.get(__name__), 'revision')\n", "revision is deleted by `delattr()`", 1),
        ("sys.modules[__name__].down_revision = 'x'\n", "assigned through `sys.modules[__name__].down_", 1),
        ("sys.modules[__name__].__dict__.update(PARENTS)\n", "`sys.modules[__name__].__dict__.update` may", 1),
        ("vars(sys.modules[__name__])[NAME] = 'x'\n", "`vars(sys.modules[__name__])` is used in a way", 1),
        ("module = sys.modules[__name__]\n", "`sys.modules[__name__]` is used in a way that may bind", 1),
        # exec / eval reached through the builtins module
        ("builtins.exec(CODE)\n", "`exec()` runs when alembic imports the file", 1),
        ("X = builtins.eval(CODE)\n", "`eval()` runs when alembic imports the file", 1),
        ("b.exec(CODE)\n", "`exec()` runs when alembic imports the file", 1),
        ("run(CODE)\n", "`exec()` runs when alembic imports the file", 1),
        ("__builtins__['exec'](CODE)\n", "`exec()` runs when alembic imports the file", 1),
        ("e = exec\ne(CODE)\n", "`exec` is handed on at import, where a call may bind", 1),
        ("g = builtins.globals\ng().update(PARENTS)\n", "`globals` is handed on at import", 1),
        # whitespace between the name and its parenthesis
        ("exec (CODE)\n", "`exec()` runs when alembic imports the file", 1),
        ("exec\t(CODE)\n", "`exec()` runs when alembic imports the file", 1),
        # in a function that may run at import: called, decorating, passed on, a dunder
        ("def f():\n    exec(CODE)\nf()\n", "`exec()` runs when alembic imports the file", 2),
        ("def f(c):\n    return eval(c)\nX = list(map(f, CODES))\n", "`eval()` runs when alembic imports", 2),
        ("def f(g):\n    exec(CODE)\n@f\ndef h():\n    pass\n", "`exec()` runs when alembic imports", 2),
        ("class A:\n    def __init__(self):\n        exec(CODE)\nA()\n", "`exec()` runs when alembic", 3),
        ("X = (lambda: exec(CODE))()\n", "`exec()` runs when alembic imports the file", 1),
        (
            "def f():\n    global down_revision\n    down_revision = 'x'\n\nf()\n",
            "down_revision is declared `global` in a function that may run at import",
            2,
        ),
        # ... through another function run at import, a method, a name in a string, a default
        ("def f():\n    exec(CODE)\ndef g():\n    f()\nX = [g()]\n", "`exec()` runs when alembic", 2),
        ("class A:\n    def m(self):\n        exec(CODE)\nA().m()\n", "`exec()` runs when alembic", 3),
        ("def f():\n    exec(CODE)\ngetattr(sys, 'x', 'f')\n", "`exec()` runs when alembic", 2),
        ("def f():\n    exec(CODE)\ndef g(a=f()):\n    pass\n", "`exec()` runs when alembic", 2),
        # a call at import whose target has no name: any function may be it
        ("def f():\n    exec(CODE)\nHANDLERS = [print]\nHANDLERS[0]()\n", "`exec()` runs when alembic", 2),
        # sys.modules under another name, or walked: the module is among its values
        ("mods = sys.modules\nmods[__name__].down_revision = 'x'\n", "`sys.modules` is handed on at import", 1),
        ("for m in list(sys.modules.values()):\n    pass\n", "`sys.modules` is handed on at import", 1),
        ("from sys import modules as m\nM = m\n", "`sys.modules` is handed on at import", 2),
        # exec & co. taken from the builtins' namespace by name
        ("getattr(builtins, 'exec')(CODE)\n", "`getattr()` takes `exec` from the builtins at import", 1),
        ("getattr(__builtins__, 'ex' + 'ec')(CODE)\n", "`getattr()` takes a builtin by a computed name", 1),
        ("vars(builtins)['exec'](CODE)\n", "`vars()` of the builtins at import", 1),
        ("b.__dict__['exec'](CODE)\n", "the builtins' `__dict__` at import", 1),
        # a namespace reached through a frame or a function
        ("sys._getframe().f_globals['down_revision'] = 'x'\n", "`.f_globals` reaches a namespace at import", 1),
        ("sys._getframe().f_locals.update(PARENTS)\n", "`.f_locals` reaches a namespace at import", 1),
        ("def f():\n    pass\nf.__globals__['down_revision'] = 'x'\n", "`.__globals__` reaches a namespace", 3),
        # Fuzzing against alembic (stop 37): what each of these binds, alembic sees.
        # methods Python calls by protocol, and what they and decorated functions call
        ("class C:\n    def __init__(self):\n        self.setup()\n    def setup(self):\n"
         "        global down_revision\n        down_revision = 'x'\nC()\n", "declared `global` in a function", 5),
        ("class C:\n    def keys(self):\n        global down_revision\n        down_revision = 'x'\n"
         "        return []\nX = dict(**C())\n", "declared `global` in a function", 3),
        ("class W:\n    def write(self, s):\n        global down_revision\n        down_revision = 'x'\n"
         "print('x', file=W())\n", "declared `global` in a function", 3),
        ("def helper():\n    global down_revision\n    down_revision = 'x'\ndef run(fn):\n    fn()\n"
         "    return fn\n@run\ndef g():\n    helper()\n", "declared `global` in a function", 2),
        # exec reached through anything but a name the reader knows
        ("__import__('builtins').exec(CODE)\n", "`.exec()` runs when alembic imports the file", 1),
        ("print.__self__.exec(CODE)\n", "`.exec()` runs when alembic imports the file", 1),
        ("__builtins__.get('exec')(CODE)\n", "a call of a computed function runs when alembic imports", 1),
        ("import importlib\nimportlib.import_module('builtins').eval(CODE)\n", "`.eval()` runs when alembic", 2),
        ("def f():\n    pass\ngetattr(f, '__glo' + 'bals__')['down_revision'] = 'x'\n", "`getattr()` with a computed name", 3),
    ],
)
def test_rebinding_through_the_module_builtins_or_a_function_run_at_import_is_a_problem(snippet, needle, line):
    imports = "import sys\nimport builtins\nimport builtins as b\nfrom builtins import exec as run\n"
    found = problem(HEADER + imports + "down_revision = 'abc123'\n" + snippet)
    assert needle in found.reason and found.reason.endswith("never runs them")
    assert found.line == 17 + line  # `line` counts from the snippet's first line


@pytest.mark.parametrize(
    "tail",
    [
        # never called at import: alembic reads the literal, as it would without them
        "def f():\n    global down_revision\n    down_revision = 'x'\n",
        "def f(n):\n    global down_revision\n    down_revision = 'x'\n    return f(n - 1)\n",
        "def f():\n    exec(CODE)\n    def g():\n        global revision\n        revision = 'y'\n    g()\n",
        "def upgrade():\n    builtins.exec(CODE)\n    setattr(row, NAME, 1)\n",
        # a helper only upgrade() calls: alembic runs it at upgrade time, not at import
        "def _convert(v):\n    return eval(v)\n\ndef upgrade():\n    _convert(CODE)\n",
        "class Row:\n    def load(self):\n        exec(CODE)\n\ndef upgrade():\n    Row().load()\n",
        "X = getattr(sys.modules[__name__], 'helper', None)\nsys.modules[__name__].helper = 1\n",
        "setattr(sys.modules[__name__], 'helper', 1)\n",
        # another module looked up by name, and what only upgrade() does
        "X = 'sqlalchemy' in sys.modules\nY = sys.modules.get('sqlalchemy')\nZ = sys.modules['sqlalchemy']\n",
        "def upgrade():\n    mods = sys.modules\n    upgrade.__globals__['x'] = sys._getframe().f_locals\n",
        "X = getattr(builtins, 'print')\n",
        "modules = ['a']\nfor m in modules:\n    pass\n",
    ],
)
def test_rebinding_in_functions_never_called_at_import_is_read_as_the_literal(tail):
    text = HEADER + "import sys\nimport builtins\ndown_revision = 'abc123'\n" + tail
    assert read(text).down_revisions == ("abc123",)


@pytest.mark.parametrize(
    "guard, binding",
    [
        ("TYPE_CHECKING", "TYPE_CHECKING = True\n"),
        ("TYPE_CHECKING", "from settings import TYPE_CHECKING\n"),
        ("cfg.TYPE_CHECKING", "import settings as cfg\n"),
        ("typing.TYPE_CHECKING", "import typing\ntyping.TYPE_CHECKING = 1\n"),
        ("__name__ == '__main__'", "__name__ = '__main__'\n"),
    ],
)
def test_a_skipped_block_whose_guard_the_file_binds_itself_is_a_problem(guard, binding):
    # Fuzzing: `if TYPE_CHECKING:` was skipped whatever TYPE_CHECKING was bound to.
    text = HEADER + "down_revision = 'abc123'\n" + binding + f"if {guard}:\n    down_revision = 'x'\n"
    found = problem(text)
    assert f"`if {guard}:` may run when alembic imports the file" in found.reason, found.reason


@pytest.mark.parametrize(
    "source",
    [
        # Fuzzing, second round: the guard's name bound without being written as a target.
        'revision = "a"\ndown_revision = None\nglobals()["__name__"] = "__main__"\nif __name__ == "__main__":\n'
        '    revision = "b"\n',
        'from typing import TYPE_CHECKING\nrevision = "a"\ndown_revision = None\nglobals()["TYPE_CHECKING"] = True\n'
        'if TYPE_CHECKING:\n    revision = "b"\n',
        'import typing\nsetattr(typing, "TYPE_CHECKING", True)\nrevision = "a"\ndown_revision = None\n'
        'if typing.TYPE_CHECKING:\n    revision = "b"\n',
        'import typing\ntyping.__dict__["TYPE_CHECKING"] = True\nfrom typing import TYPE_CHECKING\nrevision = "a"\n'
        'down_revision = None\nif TYPE_CHECKING:\n    revision = "b"\n',
        'from myconsts import *\nrevision = "a"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n'
        'if TYPE_CHECKING:\n    revision = "b"\n',
        'import sys, types\nsys.modules["typing"] = types.SimpleNamespace(TYPE_CHECKING=True)\n'
        'from typing import TYPE_CHECKING\nrevision = "a"\ndown_revision = None\nif TYPE_CHECKING:\n    revision = "b"\n',
        'import builtins\nbuiltins.TYPE_CHECKING = True\nrevision = "a"\ndown_revision = None\nif TYPE_CHECKING:\n'
        '    revision = "b"\n',
    ],
)
def test_a_guard_whose_name_the_file_may_bind_unseen_skips_nothing(source):
    found = problem(source)
    assert "may run when alembic imports the file" in found.reason, found.reason


def test_a_method_a_base_class_calls_while_the_class_is_made_may_run_at_import():
    # Fuzzing, second round: Enum calls _generate_next_value_ for enum.auto(), unnamed.
    source = (
        'import enum\nrevision = "a"\ndown_revision = None\n\nclass Kind(enum.Enum):\n'
        "    def _generate_next_value_(name, start, count, last_values):\n        global revision\n"
        '        revision = "b"\n        return name\n    A = enum.auto()\n'
    )
    assert "declared `global` in a function that may run at import" in problem(source).reason


@pytest.mark.parametrize(
    "imports, guard",
    [
        ("from typing import TYPE_CHECKING\n", "TYPE_CHECKING"),
        ("import typing\n", "typing.TYPE_CHECKING"),
        ("import typing_extensions as te\n", "te.TYPE_CHECKING"),
        ("", "__name__ == '__main__'"),
    ],
)
def test_a_guard_python_sets_still_skips_its_block(imports, guard):
    text = HEADER + imports + "down_revision = 'abc123'\n" + f"if {guard}:\n    down_revision = 'x'\n"
    assert read(text).down_revisions == ("abc123",)


def test_a_coding_cookie_past_byte_400_of_a_long_first_line_is_honoured():
    # Fuzzing: only the first 400 bytes were searched; Python reads lines 1 and 2 whole.
    data = b"#" + b" " * 420 + b"-*- coding: latin-1 -*-\nrevision = '\xc3\xa9'\ndown_revision = None\n"
    assert parse_revision(data, "v/x.py").id == data.split(b"'")[1].decode("latin-1")


def test_a_long_union_annotation_is_read_in_linear_time():
    # Fuzzing: `list[str] | list[str] | ...` took seconds at 22 terms (each `]` and `|`
    # could end either of two patterns); at 40 the old pattern would run for hours.
    code = (
        "from revgraph.parse import parse_revision\n"
        "ann = b' | '.join([b'list[str]'] * 40)\n"
        "print(parse_revision(b'revision: ' + ann + b' = \"abc\" + \"\"\\ndown_revision = None\\n', 'x.py'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ParseProblem" in done.stdout, done.stderr


@pytest.mark.parametrize(
    "tail",
    [
        "setattr(sys.modules[__name__], NAME, 'x')\n",
        "sys.modules[__name__].__dict__.update(PARENTS)\n",
        "locals().update(PARENTS)\n",
        "g = globals\ng().update(PARENTS)\n",
        "exec (CODE)\n",
        "def f():\n    exec(CODE)\nf()\n",
        "from helpers import *\n",
        "from helpers import \\\n    *\n",
        "import sys\nsys._getframe().f_globals.update(PARENTS)\n",
        "def f():\n    pass\nf.__globals__.update(PARENTS)\n",
        "getattr(__builtins__, 'ex' + 'ec')(CODE)\n",
    ],
)
def test_module_writes_below_a_template_header_leave_the_fast_readers(tail):
    data = (render_revision("ff00ee", "abc123", message="add users", style="typed") + tail).encode()
    assert _read_template(data, PATH, None) is None
    assert _parse_fast(data, PATH) is None
    assert isinstance(parse_revision(data, PATH), ParseProblem)


def test_names_python_normalises_to_the_keys_or_to_exec_are_read_as_python_reads_them():
    # Python reads identifiers NFKC-normalised: fullwidth letters spell the same names.
    text = render_revision("ff00ee", "abc123", message="add users，中文 é m²", style="typed")
    assert _read_template(text.encode(), PATH, None) is not None  # other non-ASCII text stays fast
    assert _parse_fast(text.encode(), PATH) is not None
    assert read(text + "down_revis\uff49on = 'x'\n").down_revisions == ("x",)
    assert "`exec()` runs when alembic imports" in problem(text + "\uff45\uff58\uff45\uff43(CODE)\n").reason
    called = "def f():\n    global down_revision\n    down_revision = 'x'\n\uff46()\n"  # fullwidth f()
    assert "declared `global` in a function that may run at import" in problem(text + called).reason


def test_an_exec_imported_from_builtins_above_the_header_leaves_the_template_reader():
    text = render_revision("ff00ee", "abc123", message="add users", style="typed")
    assert "import sqlalchemy as sa\n" in text
    data = text.replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom builtins import exec as run\n")
    data = (data + "run(CODE)\n").encode()
    assert _read_template(data, PATH, None) is None
    assert "`exec()` runs when alembic imports" in problem(data).reason


@pytest.mark.parametrize(
    "tail",
    ["exec(CODE)\n", "globals().update(PARENTS)\n", "X = vars()[KEY] = 1\n", "if X:\n    exec(CODE)\n"],
)
def test_exec_and_globals_below_a_template_header_leave_the_fast_readers(tail):
    # They name none of the four, so the template and fast readers must not answer.
    data = (render_revision("ff00ee", "abc123", message="add users", style="typed") + tail).encode()
    assert _read_template(data, PATH, None) is None
    assert _parse_fast(data, PATH) is None
    assert isinstance(parse_revision(data, PATH), ParseProblem)


def test_op_execute_and_harmless_namespace_reads_stay_revisions():
    body = "op.execute('UPDATE t SET x = 1')\nbind.exec_driver_sql('SELECT 1')"
    data = render_revision("ff00ee", "abc123", message="evaluate", style="typed", body=(body, "pass"))
    assert _read_template(data.encode(), PATH, None) is not None  # stays on the cheap path
    extra = (
        "globals()['helper'] = 1\nX = globals().get('y')\nY = 'a' in globals()\n"
        "def f():\n    v = vars()\n    return (n := 1)\n"
        "global down_revision\n"  # at module level: changes nothing
    )
    assert read(data + extra).down_revisions == ("abc123",)


@pytest.mark.parametrize(
    "block",
    [
        "if __name__ == '__main__':\n    down_revision = 'x'\n    exec(CODE)\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    down_revision: str = 'x'\n",
        "import typing\nif typing.TYPE_CHECKING:\n    from x import down_revision\nelse:\n    pass\n",
    ],
)
def test_blocks_that_never_run_when_alembic_imports_the_file_are_ignored(block):
    assert read(with_down("'abc123'") + block).down_revisions == ("abc123",)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("(None,)", ()),  # alembic's tuple_rev_as_scalar: (None,) is None, a base
        ("[None]", ()),
        ("{'b2', 'a1'}", ("a1", "b2")),  # alembic takes a set's items
    ],
)
def test_value_forms_alembic_normalises_are_read_as_it_reads_them(source, expected):
    text = with_down(source) + f"depends_on = {source}\n"
    rev = read(text)
    assert rev.down_revisions == expected and rev.depends_on == expected


@pytest.mark.parametrize("reserved", ["base", "head", "heads"])
def test_revision_ids_alembic_reserves_are_problems(reserved):
    text = render_revision(reserved, "abc123", message="add users", style="typed")
    found = problem(text, path=f"versions/{reserved}_add_users.py")
    assert f"revision id {reserved!r} is a name alembic reserves" in found.reason
    assert _parse_ast(text.encode(), found.path) == found  # the template reader leaves it to the others


@pytest.mark.parametrize("plain", ["Head", "current", "based"])
def test_only_the_exact_reserved_names_are_refused(plain):
    assert read(render_revision(plain, "abc123", message="m", style="typed")).id == plain


def test_subscript_and_attribute_targets_do_not_bind_the_names():
    text = with_down("'abc123'") + "PARENTS = {}\nPARENTS[down_revision] = 1\nop.revision = 2\n"
    assert read(text).down_revisions == ("abc123",)


def test_revision_must_be_a_string():
    found = problem(HEADER.replace("revision = 'ff00ee'", "revision = 123") + "down_revision = None\n")
    assert found.reason == "revision must be a string (got int)"
    assert found.line == 12


@pytest.mark.parametrize("bad", ["ab-c", "ab@c", "ab+c", "ab:c"])
def test_revision_ids_with_characters_alembic_forbids_are_problems(bad):
    found = problem(HEADER.replace("'ff00ee'", repr(bad)) + "down_revision = None\n")
    assert bad[2] in found.reason and "alembic does not allow" in found.reason


def test_empty_revision_id_is_a_problem():
    assert (
        problem(HEADER.replace("'ff00ee'", "''") + "down_revision = None\n").reason == "revision id is empty"
    )


def test_missing_revision_is_a_problem():
    text = HEADER.replace("revision = 'ff00ee'\n", "") + "down_revision = None\n"
    found = problem(text)
    assert found.reason == "no `revision = '...'` assignment"


def test_legacy_hex_file_name_supplies_a_missing_revision_id():
    text = HEADER.replace("revision = 'ff00ee'\n", "") + "down_revision = 'abc123'\n"
    rev = read(text, path="versions/ae1027a6acf.py")
    assert rev.id == "ae1027a6acf"
    assert rev.down_revisions == ("abc123",)
    assert "revision" not in rev.spans


def test_only_an_all_hex_file_name_is_a_legacy_revision_id():
    text = HEADER.replace("revision = 'ff00ee'\n", "") + "down_revision = 'abc123'\n"
    assert isinstance(parse_revision(text.encode(), "versions/ae1027a6acf_add_users.py"), ParseProblem)


def test_missing_down_revision_is_a_problem_as_alembic_needs_one():
    found = problem(HEADER + TAIL)
    assert found.reason.startswith("no `down_revision = ...` assignment")
    assert found.line == 12


def test_blob_id_is_carried_on_revisions_and_problems():
    rev = parse_revision(with_down("None").encode(), PATH, "b" * 40)
    bad = parse_revision(b"\x00", PATH, "c" * 40)
    assert rev.blob_id == "b" * 40 and bad.blob_id == "c" * 40


@pytest.mark.parametrize(
    "data",
    [
        # whitespace runs inside an unclosed value once made the value regex quadratic
        HEADER.encode() + b"down_revision = ('abc123'" + b" " * 100_000 + b"x\n",
        HEADER.encode() + b"down_revision = ['abc123', " + b"\n" * 100_000 + b"x\n",
        # many key names in one comment line once made the comment check quadratic
        with_down("'abc123'").encode() + b"# " + b"down_revision " * 40_000 + b"\n",
        # the template reader's pattern on long runs of what it repeats
        b'"""' + b'"a' * 200_000 + b"\n",
        b'"""a"""\n' + b"import x\n" * 20_000 + b"x = 1\n",  # (ast reads it: keep it short)
        b'"""' + b"m\n\nRevision ID: x\nRevises: y\nCreate Date: z\n" * 50_000 + b"revision = 'a'\n",
        b'"""a"""\nrevision = \'a\'\ndown_revision = (' + b"'a', " * 100_000 + b"\n",
    ],
    ids=[
        "spaces-in-tuple",
        "newlines-in-list",
        "names-in-a-comment",
        "quotes-in-a-docstring",
        "import-lines",
        "docstring-layouts",
        "unclosed-template-tuple",
    ],
)
def test_pathological_input_is_read_in_linear_time(data):
    import time

    started = time.process_time()
    result = parse_revision(data, PATH)
    assert isinstance(result, (Revision, ParseProblem))
    assert time.process_time() - started < 3.0


def test_the_file_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').close()\n"
    for text in (code + with_down("'abc123'"), code + with_down("compute()"), with_down(code.strip())):
        parse_revision(text.encode(), PATH)
    assert not marker.exists()


# --------------------------------------------------------------- docstrings
def test_base_revision_has_an_empty_revises_value_at_the_line_end():
    text = render_revision("ff00ee", None, message="first", style="typed")
    rev = read(text)
    assert rev.down_revisions == () and rev.doc_revises == ""
    span = rev.spans["revises_line"]
    data = text.encode()
    assert span.start == span.end and data[span.start - 9 : span.start] == b"Revises: "
    assert data[span.end : span.end + 1] == b"\n"


def test_no_docstring_means_no_message_and_no_docstring_spans():
    rev = read("revision = 'ff00ee'\ndown_revision = None\n")
    assert rev.message is None and rev.doc_revises is None and rev.create_date is None
    assert set(rev.spans) == {"revision", "down_revision"}


def test_single_quoted_docstring_is_still_the_docstring():
    rev = read("'Add users'\nrevision = 'ff00ee'\ndown_revision = None\n")
    assert rev.message == "Add users"


def test_docstring_fields_with_extra_spaces_are_stripped():
    text = '"""msg\n\n  Revision ID:   ff00ee  \nRevises:\tabc123\n"""\nrevision = "ff00ee"\ndown_revision = "abc123"\n'
    rev = read(text)
    assert rev.doc_revision_id == "ff00ee"
    assert rev.doc_revises == "abc123"
    assert text_at(text, rev, "revises_line") == b"abc123"
    assert text_at(text, rev, "revision_id_line") == b"ff00ee  "  # to the line end, as documented


# ------------------------------------------------------------------ ignores
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("# revgraph: ignore[RG301]", {"RG301"}),
        ("# revgraph: ignore[RG301, RG203]", {"RG301", "RG203"}),
        ("#revgraph:ignore[rg402]", {"RG402"}),
        ("# revgraph: ignore", {"*"}),
        ("# nothing to see", set()),
    ],
)
def test_ignore_comments_anywhere_in_the_file(comment, expected):
    rev = read(with_down("'abc123'") + f"\n\ndef later():\n    pass  {comment}\n")
    assert rev.ignores == frozenset(expected)


# ------------------------------------------------------------------ touches
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("op.create_table('users', sa.Column('id', sa.Integer()))", {"table:users"}),
        ('op.drop_table("users")', {"table:users"}),
        ("op.rename_table('old', 'new')", {"table:old", "table:new"}),
        (
            "op.add_column('users', sa.Column('email', sa.String()))",
            {"table:users", "column:users.email"},
        ),
        ("op.drop_column('users', 'email')", {"table:users", "column:users.email"}),
        (
            "op.alter_column('users', 'name', new_column_name='title')",
            {"table:users", "column:users.name", "column:users.title"},
        ),
        (
            "op.create_index(op.f('ix_users_email'), 'users', ['email'], unique=True)",
            {"index:ix_users_email", "table:users"},
        ),
        (
            "op.drop_index(op.f('ix_users_email'), table_name='users')",
            {"index:ix_users_email", "table:users"},
        ),
        (
            "op.create_foreign_key('fk_a_u', 'accounts', 'users', ['uid'], ['id'])",
            {"constraint:fk_a_u", "table:accounts", "table:users"},
        ),
        (
            "op.create_foreign_key(None, 'accounts', 'users', ['uid'], ['id'])",
            {"table:accounts", "table:users"},
        ),
        (
            "op.create_unique_constraint('uq_email', 'users', ['email'])",
            {"constraint:uq_email", "table:users"},
        ),
        ("op.create_check_constraint('ck_pos', 'orders', 'n > 0')", {"constraint:ck_pos", "table:orders"}),
        ("op.create_primary_key('pk_t', 'things', ['id'])", {"constraint:pk_t", "table:things"}),
        (
            "op.drop_constraint('fk_old', 'invoices', type_='foreignkey')",
            {"constraint:fk_old", "table:invoices"},
        ),
        (
            (
                "with op.batch_alter_table('orders', schema=None) as batch_op:\n"
                "    batch_op.add_column(sa.Column('note', sa.Text()))\n"
                "    batch_op.drop_column('old_note')\n"
                "    batch_op.create_index(batch_op.f('ix_orders_note'), ['note'])"
            ),
            {"table:orders", "column:orders.note", "column:orders.old_note", "index:ix_orders_note"},
        ),
        ('op.execute("INSERT INTO audit_log (x) VALUES (1)")', {"table:audit_log"}),
        ("op.execute(sa.text('UPDATE public.users SET x = 1'))", {"table:users"}),
        ("op.execute('DELETE FROM sessions WHERE expired')", {"table:sessions"}),
        ("op.execute('ALTER TABLE \"Carts\" ADD COLUMN y int')", {"table:Carts"}),
        ("op.execute('CREATE TABLE IF NOT EXISTS tmp_x (id int)')", {"table:tmp_x"}),
        ("op.execute('DROP TABLE IF EXISTS tmp_y')", {"table:tmp_y"}),
        ("op.execute('TRUNCATE TABLE queue')", {"table:queue"}),
        (
            'op.execute("""\n    INSERT INTO t2 (a) VALUES (1)\n    ON CONFLICT (a) DO UPDATE SET a = 2\n""")',
            {"table:t2"},
        ),
        ("ledger = sa.table('ledger', sa.column('id'))\nop.bulk_insert(ledger, [])", {"table:ledger"}),
        ("op.add_column(TABLE, sa.Column('x'))\nop.execute(f'UPDATE {name} SET x = 1')", set()),
    ],
)
def test_touches_of_each_op_kind(body, expected):
    indented = "\n".join("    " + line for line in body.splitlines())
    text = (
        with_down("'abc123'")
        + f"\n\ndef upgrade():\n{indented}\n\n\ndef downgrade():\n    op.drop_table('x')\n"
    )
    assert read(text).touches == ()  # read on demand, for the few revisions RG301 compares
    assert upgrade_touches(text.encode()) == tuple(sorted(expected))
    assert scan_touches(body) == tuple(sorted(expected))


def test_scan_touches_is_sorted_and_deduplicated():
    text = "op.drop_table('b')\nop.create_table('a')\nop.drop_table('b')\n"
    assert scan_touches(text) == ("table:a", "table:b")


def test_only_upgrade_is_scanned_for_touches():
    text = with_down("'abc123'") + "\n\ndef downgrade():\n    op.drop_table('users')\n"
    assert upgrade_touches(text.encode()) == ()
    assert scan_touches(text) == ("table:users",)


def test_upgrade_touches_decodes_like_the_reader():
    body = "\n\ndef upgrade():\n    op.create_table('caf\u00e9')\n"
    latin1 = ("# coding: latin-1\n" + with_down("'abc123'") + body).encode("latin-1")
    assert upgrade_touches(latin1) == ("table:caf\u00e9",)
    assert upgrade_touches(b"\xef\xbb\xbf" + (with_down("'abc123'") + body).encode()) == ("table:caf\u00e9",)
    assert upgrade_touches(b"\xff\xfe" + body.encode()) == ("table:caf\u00e9",)  # undecodable: still read
    assert upgrade_touches(b"") == ()


def test_parse_revision_leaves_touches_empty():
    text = with_down("'abc123'") + "\n\ndef upgrade():\n    op.drop_table('users')\n"
    assert parse_revision(text.encode(), PATH).touches == ()
    assert _parse_ast(text.encode(), PATH).touches == ()


# -------------------------------------------------------------- fingerprint
def test_fingerprint_ignores_comments_whitespace_newlines_and_wrapping():
    original = render_revision(
        "ff00ee", "abc123", message="add", style="typed", body="op.add_column('users', sa.Column('email'))"
    )
    variants = [
        original.replace("\n", "\r\n"),
        original.replace("op.add_column('users', ", "op.add_column(\n        'users',\n        ")
        + "\n\n# trailing comment\n",
        original.replace("    ", "  "),  # a consistent re-indent
        original.replace("import sqlalchemy as sa", "import  sqlalchemy  as  sa   # why"),
    ]
    for variant in variants:
        assert variant != original
        assert fingerprint(variant.encode()) == fingerprint(original.encode())


def test_fingerprint_ignores_what_a_formatter_or_a_docstring_edit_changes():
    # QA: `black`/`ruff format` across the repository made every landed revision
    # RG203 (a --strict CI failure); so did a docstring or annotation edit.
    original = render_revision(
        "ff00ee", ("ab0001", "cd0002"), message="add", style="typed",
        body="op.add_column('users', sa.Column('email'))",
    )
    variants = [
        original.replace("'", '"'),  # a formatter's quote style
        original.replace('"""add', '"""add the email column'),  # the docstring's message
        original.replace("Revises: ab0001, cd0002", "Revises: cd0002, ab0001"),
        original.replace("down_revision: Union[str, Sequence[str], None] =", "down_revision ="),
        original.replace("('ab0001', 'cd0002')", "('cd0002', 'ab0001')"),  # a merge's parents: a set
        original.replace("depends_on: Union[str, Sequence[str], None] = None", "depends_on = ()"),
        original.replace('"""Upgrade schema."""', '"""Add the email column."""'),
    ]
    for variant in variants:
        assert variant != original
        assert fingerprint(variant.encode()) == fingerprint(original.encode()), variant


def test_fingerprint_changes_when_code_or_strings_change():
    original = render_revision(
        "ff00ee", "abc123", message="add", style="typed", body="op.drop_table('users')"
    )
    for edited in (
        original.replace("'users'", "'accounts'"),
        original.replace("op.drop_table", "op.drop_index"),
        original.replace("def downgrade", "if True:\n    pass\n\n\ndef downgrade"),
        original.replace("    op.drop_table('users')", "    pass\nop.drop_table('users')"),
        original.replace("branch_labels: Union[str, Sequence[str], None] = None", "branch_labels = ('app',)"),
        original.replace("depends_on: Union[str, Sequence[str], None] = None", "depends_on = 'abc999'"),
        original.replace("op.drop_table('users')", "op.drop_table('users')\n    'a string statement after it'"),
    ):
        assert fingerprint(edited.encode()) != fingerprint(original.encode())


@pytest.mark.parametrize("data", [b"\xff\xfe bad", b"\x00\x01", b'"""never closed', b"", b"# coding: nope\n"])
def test_fingerprint_never_raises_and_falls_back_to_raw_bytes(data):
    value = fingerprint(data)
    assert len(value) == 64 and int(value, 16) >= 0
    if data in (b"\xff\xfe bad", b"\x00\x01", b"# coding: nope\n"):
        assert value == hashlib.sha256(data).hexdigest()


def test_parser_version_is_a_positive_int():
    assert isinstance(PARSER_VERSION, int) and PARSER_VERSION >= 2  # 2: touches no longer parsed


def test_real_bundled_migrations_parse_without_problems():
    root = Path(__file__).resolve().parents[2] / "migrations"
    files = sorted(root.rglob("*.py")) if root.is_dir() else []
    for path in files:
        if path.name in ("env.py", "__init__.py") or "versions" not in path.parts:
            continue
        result = parse_revision(path.read_bytes(), os.path.relpath(path, root).replace(os.sep, "/"))
        assert isinstance(result, Revision), result


@pytest.mark.parametrize("reader", [parse_revision, _parse_ast], ids=["template", "ast"])
def test_each_ignore_code_keeps_the_line_of_the_first_comment_naming_it(reader):
    # RG404 points at the comment itself: annotations land on that line.
    base = render_revision("ff00ee", "abc123", message="add", style="typed", body="op.drop_table('users')")
    text = base + "# revgraph: ignore[RG31, rg301]\nx = 1  # revgraph: ignore[RG301, RG9]\n# revgraph: ignore\n"
    first = len(base.splitlines()) + 1
    rev = reader(text.encode(), PATH)
    assert rev.ignores == frozenset({"RG31", "RG301", "RG9", "*"})
    assert rev.ignore_lines == (("*", first + 2), ("RG301", first), ("RG31", first), ("RG9", first + 1))


@pytest.mark.parametrize("reader", [parse_revision, _parse_ast], ids=["template", "ast"])
@pytest.mark.parametrize("brackets", ["[]", "[ ]", "[ , ]"])
def test_empty_ignore_brackets_are_kept_as_a_selector_that_names_nothing(reader, brackets):
    # `ignore[]` silences nothing; kept as "" so that RG404 can say so.
    from revgraph.checks.registry import suppresses

    base = render_revision("ff00ee", "abc123", message="add", style="typed", body="op.drop_table('users')")
    rev = reader((base + f"# revgraph: ignore{brackets}\n").encode(), PATH)
    assert rev.ignores == frozenset({""})
    assert rev.ignore_lines == (("", len(base.splitlines()) + 1),)
    assert not suppresses(rev, "RG301")


def test_a_file_the_tokenizer_refuses_still_has_its_ignore_lines():
    from revgraph.parse import _ignores

    assert _ignores("def broken(:\n    x = 1  # revgraph: ignore[RG107]\n") == (
        frozenset({"RG107"}), (("RG107", 2),))  # fmt: skip


def test_an_ignore_comment_counts_only_as_a_comment_not_inside_a_string():
    # QA: NOTE = "# revgraph: ignore[RG402]" silenced RG402.
    base = render_revision("ff00ee", "abc123", message="add", style="typed", body="op.drop_table('users')")
    in_string = base + 'NOTE = "# revgraph: ignore[RG402]"\n'
    in_comment = base + "# revgraph: ignore[RG402]\n"
    assert parse_revision(in_string.encode(), PATH).ignores == frozenset()
    assert parse_revision(in_comment.encode(), PATH).ignores == frozenset({"RG402"})
    assert _parse_ast(in_string.encode(), PATH).ignores == frozenset()


# Ways a module gets a `__getattr__` at import other than `def`, each with the
# line (counted from its first) that binds it.
GETATTR_BINDINGS = [
    ("for __getattr__ in [lambda name: None]:\n    pass\n", 0),
    ("with open(__file__) as f, helper() as __getattr__:\n    pass\n", 0),
    ("if True:\n    for __getattr__ in [str]:\n        pass\n", 1),
    ("(__getattr__ := lambda name: None)\n", 0),
    ("x = [(__getattr__ := f) for f in [str]]\n", 0),
    ("match 1:\n    case __getattr__:\n        pass\n", 1),
    ("def install():\n    global __getattr__\n    __getattr__ = str\n\ninstall()\n", 1),
    ("globals()['__getattr__'] = str\n", 0),
    ("import sys\nsetattr(sys.modules[__name__], '__getattr__', str)\n", 1),
    ("globals().update(__getattr__=str)\n", 0),
    ("import sys\nsys.modules[__name__].__getattr__ = str\n", 1),
    ("from helpers import lookup as __getattr__\n", 0),
    ("@decorate(__getattr__ := str)\ndef f():\n    pass\n", 0),
    # the name never spelled out in the text: an escape, literals joined
    ("globals()['\\x5f_getattr__'] = str\n", 0),
    ("import sys\nsetattr(sys.modules[__name__], '__get' 'attr__', str)\n", 1),
]


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        # below an assignment, a star import may bind the name again
        (
            HEADER + "down_revision = 'abc123'\nbranch_labels = None\ndepends_on = None\nfrom helpers import *\n",
            "revision may be bound again by `from helpers import *` below it", 16,
        ),
        (
            HEADER + "down_revision = 'abc123'\nbranch_labels = None\ndepends_on = None\n"
            "try:\n    from .shared import *\nexcept ImportError:\n    pass\n",
            "revision may be bound again by `from .shared import *` below it", 17,
        ),
        # above the header, it binds what the file never assigns
        (
            HEADER.replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom helpers import *\n")
            + "down_revision = 'abc123'\n",
            "branch_labels is not assigned, and `from helpers import *` may bind it", 10,
        ),
        # a module __getattr__ (PEP 562) answers for a name never assigned
        (
            HEADER + "down_revision = 'abc123'\n\ndef __getattr__(name):\n    return 'x'\n",
            "branch_labels is not assigned, and the module's `__getattr__` may supply it", 15,
        ),
        *[
            (HEADER + "down_revision = 'abc123'\nbranch_labels = None\n\n" + code,
             "depends_on is not assigned, and the module's `__getattr__` may supply it", 16 + offset)
            for code, offset in GETATTR_BINDINGS
        ],
    ],
)
def test_names_a_star_import_or_a_module_getattr_may_supply_are_a_problem(text, needle, line):
    # alembic reads module.branch_labels: whatever the star import or __getattr__ gives.
    found = problem(text)
    assert needle in found.reason and found.reason.endswith("never runs them")
    assert found.line == line


@pytest.mark.parametrize(
    "text",
    [
        # every name assigned after the star import: the literals are what alembic reads
        HEADER.replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom helpers import *\n")
        + "down_revision = 'abc123'\nbranch_labels = None\ndepends_on = None\n",
        # sqlalchemy and alembic bind none of the four names
        HEADER + "down_revision = 'abc123'\nfrom sqlalchemy import *\nfrom alembic.op import *\n",
        # never runs when alembic imports the file
        HEADER + "down_revision = 'abc123'\nif TYPE_CHECKING:\n    from helpers import *\n",
        # every name assigned: alembic never asks __getattr__ for them
        HEADER + "down_revision = 'abc123'\nbranch_labels = None\ndepends_on = None\n"
        "def __getattr__(name):\n    return 'x'\n",
        # a name missing, but nothing gives the module a __getattr__: a method, a
        # function's local, a block that never runs, a read
        HEADER + "down_revision = 'abc123'\nclass Proxy:\n    def __getattr__(self, name):\n        return 'x'\n",
        HEADER + "down_revision = 'abc123'\ndef f():\n    __getattr__ = str\n    return __getattr__\n",
        HEADER + "down_revision = 'abc123'\nif TYPE_CHECKING:\n    def __getattr__(name): ...\n",
        HEADER + "down_revision = 'abc123'\nlookup = object.__getattr__\n",
    ],
)
def test_star_imports_and_getattr_that_cannot_bind_a_name_are_read_as_the_literals(text):
    assert read(text).down_revisions == ("abc123",)


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize(
    "cookie", ["utf-8-foo", "utf8", "UTF-8", "utf_8", "latin-1-x", "iso-latin-1", "Latin-1", "iso-8859-1-foo",
               "latin_1", "cp1252", "ascii", "bogus"],
)  # fmt: skip
def test_a_coding_cookie_is_read_as_python_reads_it(cookie, bom):
    # Fuzzing: `utf-8-foo`, `latin-1-x`, `iso-latin-1` (which the tokenizer spells
    # anew) were refused, and a BOM with `utf8` (which it refuses) was read.
    data = (b"\xef\xbb\xbf" if bom else b"") + f"# -*- coding: {cookie} -*-\n".encode()
    data += b"revision = '\xc3\xa9'\ndown_revision = None\n"
    try:
        namespace: dict = {}
        exec(compile(data, "m.py", "exec"), namespace)  # bytes: decoded by the cookie, as an import does
        expected = namespace["revision"]
    except (SyntaxError, UnicodeDecodeError):
        expected = None
    found = parse_revision(data, "m.py")
    assert (found.id if isinstance(found, Revision) else None) == expected, found
