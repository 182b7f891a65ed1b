"""The one-match template reader against the ast reference, on generated revision files.

``parse_revision`` answers template-shaped files with one regex match
(``_read_template``) and everything else with the general fast path or ast.
Whichever reader answers, the result must be exactly ``_parse_ast``'s: ids,
tuples, message, create date, docstring fields, ignores, and every span to
the byte and line (the fix feature rewrites exactly those bytes).
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revgraph import parse
from revgraph.model import PackedSpans, ParseProblem, Revision
from revgraph.parse import _parse_ast, _read_template, parse_revision

PATH = "migrations/versions/ab12_file.py"
# Cheap examples (~10 ms, mostly drawing them): dig deeper than the profile's default.
SETTINGS = settings(
    max_examples=settings.default.max_examples * 5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ids = st.text(alphabet="0123456789abcdef", min_size=1, max_size=12)
odd_ids = st.sampled_from(["", "a-b", "x@y", "a+b", "c:d", "é1", "ü_2", "a b", "#x", "a\u3000"])
messages = st.one_of(
    st.sampled_from(
        ["add users", "", "  padded  ", "merge heads", "Revision ID: in the message", "Revises: x"]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\\r\n"),
        max_size=25,
    ),
)


# ------------------------------------------------------------ the pieces
@st.composite
def string_literals(draw, value: str, safe: bool = True) -> str:
    prefix = draw(st.sampled_from(["", "", "", "r", "u", "R", "U"]))
    quote = draw(st.sampled_from(["'", '"'] if safe else ["'", '"', "'''"]))
    return f"{prefix}{quote}{value}{quote}"


@st.composite
def values(draw, safe: bool) -> str:
    """A value for down_revision / branch_labels / depends_on; unless safe, maybe one alembic refuses."""
    kinds = ["none", "str", "str", "tuple", "list", "paren", "empty", "multiline"]
    kind = draw(st.sampled_from(kinds if safe else [*kinds, "odd"]))
    if kind == "none":
        return "None"
    if kind == "str":
        return draw(string_literals(draw(ids), safe))
    if kind == "paren":
        inner = draw(string_literals(draw(ids), safe))
        return draw(st.sampled_from([f"({inner})", f"( {inner} )", f"(\n    {inner}\n)", f"({inner},)"]))
    if kind == "empty":
        return draw(st.sampled_from(["()", "[]", "( )", "[\n]"]))
    items = [draw(string_literals(v, safe)) for v in draw(st.lists(ids, min_size=1, max_size=3))]
    if kind == "multiline":
        opener, closer = draw(st.sampled_from([("(", ")"), ("[", "]")]))
        comment = draw(st.sampled_from(["", "  # a parent"]))
        return opener + "".join(f"\n    {item},{comment}" for item in items) + f"\n{closer}"
    if kind == "odd":
        return draw(
            st.sampled_from(["5", "('a', None)", "b'x'", "{'a'}", "'a' 'b'", "f'x'", "X", "'a', 'b'"])
        )
    opener, closer = ("(", ")") if kind == "tuple" else ("[", "]")
    trailing = "," if kind == "tuple" and len(items) == 1 else draw(st.sampled_from(["", ","]))
    return opener + draw(st.sampled_from([", ", ","])).join(items) + trailing + closer


ANNOTATIONS = [
    "",
    "",
    ": str",
    ": Union[str, Sequence[str], None]",
    ": Union[str, None]",
    ": str | None",
    ": str | Sequence[str] | None",
    ": Optional[str]",
    ': "str"',
    " : str",
    ":str",
]
SAFE_HEAD_LINES = [
    "from typing import Sequence, Union",
    "",
    "from alembic import op",
    "import sqlalchemy as sa",
    "import sqlalchemy as sa  # the usual",
    "from sqlalchemy.dialects import postgresql",
    "# a comment naming revision and depends_on",
    "    # an indented comment",
    "\f",
]
HEAD_LINES = [
    *SAFE_HEAD_LINES,
    "import revision",  # binds a name: must not be taken for a plain import
    "from somewhere import branch_labels",
    "from somewhere import x as depends_on",
    "from somewhere import (\n    a,\n    b,\n)",
    "x = 1",
    "SQL = '''\nrevision = 'inside a string'\n'''",
    "from x import y  # revision",
]
SAFE_TAILS = [
    "",
    "x = 1  # revgraph: ignore[RG301, rg203]",
    "# revgraph: ignore",
    "# caf\u00e9 \u2014 non-ASCII below the header",
    "t = '\\n'  # a backslash below the header",
]
TAILS = [
    *SAFE_TAILS,
    "revision = 'zz99'",
    "down_revision = None",
    "branch_labels = ('late',)",
    "depends_on: str = 'later'",
    "if True:\n    revision = 'in a block'",
    "def helper():\n    depends_on = 'local'\n    return depends_on",
    "class C:\n    branch_labels = 'attr'",
    "s = \"down_revision = 'in a string'\"",
    "# down_revision = 'in a comment'",
    "print(revision)",
    "revision += 'x'",
    "SQL = '''\n<<<<<<< not a marker here\n'''",
    "x = b'\\x00'",
]
UPGRADES = [
    "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
    'def upgrade() -> None:\n    """Upgrade schema."""\n    op.add_column("t", sa.Column("c", sa.String()))\n',
    "def upgrade():\n    op.execute('DELETE FROM t')\n",
]
ODD_BODIES = [
    lambda body: body + 'a "quoted" word\n',
    lambda body: body + '""',
    lambda body: '"' + body,
    lambda body: body.replace("Revises", "Revises \\"),
    lambda body: body + '"""  + "',
    lambda body: body + '""" """',
    lambda body: body.replace("\n", "\n    ", 1),
]


@st.composite
def docstrings(draw, rev_id: str, safe: bool) -> str:
    kinds = ["alembic", "alembic", "alembic", "spaced", "bare"]
    kind = draw(st.sampled_from(kinds if safe else [*kinds, "none", "single", "odd"]))
    message = draw(messages)
    if kind == "none":
        return ""
    if kind == "single":
        return draw(st.sampled_from(["'Add users'\n", '"Add users"  # a docstring\n']))
    if kind == "bare":
        quotes = draw(st.sampled_from(['"""', "'''"]))
        return f"{quotes}{message}{quotes}\n"
    revises = draw(st.sampled_from([rev_id, "abc123", "abc123, def456", "", "<base>"]))
    fields = [f"Revision ID: {rev_id}", f"Revises: {revises}", "Create Date: 2024-05-06 07:08:09.123456"]
    if kind == "spaced":
        fields = [draw(st.sampled_from(["", "  ", "\t"])) + f for f in fields]
        fields[1] = fields[1].replace(": ", draw(st.sampled_from([":", ":   ", ":\t"])), 1)
        if draw(st.booleans()):
            fields.insert(1, "Revision ID: a second one")
        if draw(st.booleans()):
            fields.pop(draw(st.integers(0, len(fields) - 1)))
    blank = draw(st.sampled_from(["\n", "\n", "\n\n", "\n  \n"]))
    body = message + "\n" + blank + "\n".join(fields) + draw(st.sampled_from(["\n\n", "\n", "", "  \n\n"]))
    if kind == "odd":
        body = draw(st.sampled_from(ODD_BODIES))(body)
    prefix = draw(st.sampled_from(["", "", "r", "u"]))
    quotes = draw(st.sampled_from(['"""', '"""', "'''"]))
    after = draw(st.sampled_from(["", "", "  # docstring"] if safe else ["", "; x = 1", ".strip()"]))
    return f"{prefix}{quotes}{body}{quotes}{after}\n"


@st.composite
def revision_sources(draw) -> bytes:
    """A revision file in one of many shapes: alembic's templates, as written or bent.

    Half the files take only shapes that the template reader should answer
    (what alembic writes, with any newlines, BOM, cookie, quoting, annotations
    and value forms); the others also take shapes it must leave to the other
    readers: names bound or assigned again elsewhere, odd values and ids,
    escapes, lone CRs, reordered or separated assignments.
    """
    safe = draw(st.booleans())
    rev_id = draw(ids if safe else st.one_of(ids, odd_ids))
    rev_value = draw(
        string_literals(rev_id)
        if safe
        else st.one_of(string_literals(rev_id, safe=False), st.sampled_from(["None", "('x')"]))
    )
    assignments = [
        ("revision", rev_value),
        ("down_revision", draw(values(safe))),
        ("branch_labels", draw(values(safe))),
        ("depends_on", draw(values(safe))),
    ]
    if draw(st.booleans()):
        assignments = assignments[: draw(st.integers(2 if safe else 1, 4))]
    if not safe and draw(st.booleans()):
        assignments = draw(st.permutations(assignments))
    lines = []
    for name, value in assignments:
        comment = draw(st.sampled_from(["", "", "  # note", "  # revision note", "\t#"]))
        lines.append(f"{name}{draw(st.sampled_from(ANNOTATIONS))} = {value}{comment}")
        if not safe and draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# a gap", "x = 1"])))
    head = draw(st.lists(st.sampled_from(SAFE_HEAD_LINES if safe else HEAD_LINES), max_size=5))
    if draw(st.booleans()):
        head = [*SAFE_HEAD_LINES[:4], "", "# revision identifiers, used by Alembic."]
    preamble = draw(
        st.sampled_from(
            ["", "", "#!/usr/bin/env python\n", "# -*- coding: utf-8 -*-\n", "\n", "# coding=latin-1\n"]
        )
    )
    tail = draw(st.lists(st.sampled_from(SAFE_TAILS if safe else TAILS), max_size=2))
    text = (
        preamble
        + draw(docstrings(rev_id, safe))
        + "".join(line + "\n" for line in head)
        + "\n".join(lines)
        + "\n\n\n"
        + draw(st.sampled_from(UPGRADES))
        + "".join(line + "\n" for line in tail)
    )
    if not draw(st.integers(0, 5)):
        text = text.rstrip("\n")  # no newline at the end
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "mixed"] if safe else ["\n", "\r\n", "\r"]))
    if newline == "mixed":
        text = re.sub("\n", lambda m: draw(st.sampled_from(["\n", "\r\n"])), text)
    else:
        text = text.replace("\n", newline)
    encoding = "latin-1" if preamble == "# coding=latin-1\n" else "utf-8"
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")  # read as latin-1 all the same: mojibake on both paths
        encoding = "utf-8 under a latin-1 cookie"
    if encoding == "utf-8" and draw(st.integers(0, 5)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def assert_same_result(data: bytes) -> None:
    reference = _parse_ast(data, PATH, "b" * 40)
    for result in (parse_revision(data, PATH, "b" * 40), _read_template(data, PATH, "b" * 40)):
        if result is None:
            continue  # the template reader declined
        if isinstance(reference, ParseProblem):
            assert result == reference, (result, reference)
            continue
        assert isinstance(result, Revision), (result, reference)
        assert result == reference  # every field but spans and touches
        assert (result.message, result.create_date, result.doc_revision_id, result.doc_revises) == (
            reference.message,
            reference.create_date,
            reference.doc_revision_id,
            reference.doc_revises,
        )
        assert result.ignores == reference.ignores
        assert list(result.spans.items()) == list(reference.spans.items())  # same spans, same order
        assert result.touches == () and type(result.spans) in (dict, PackedSpans)
        assert vars(result) == vars(reference) | {"spans": result.spans}


# ---------------------------------------------------------------- properties
@SETTINGS
@given(revision_sources())
def test_parse_revision_equals_the_ast_reader_on_generated_files(data):
    assert_same_result(data)


@SETTINGS
@given(st.data())
def test_plain_template_files_are_answered_by_one_match(data):
    """The template shapes alembic writes never fall back (that would make the fast path moot)."""
    rev_id = data.draw(ids)
    down = data.draw(st.sampled_from(["None", f"'{rev_id}0'", "('a1', 'b2')", "('a1',)"]))
    typed = data.draw(st.booleans())
    # A message holding a conflict marker's seven <s or >s is left to _prepare on purpose
    # (it decides whether they are a real conflict): that is no template shape alembic writes.
    message = data.draw(messages.filter(lambda m: '"' not in m and "<<<<<<<" not in m and ">>>>>>>" not in m))
    ann = (": str", ": Union[str, Sequence[str], None]") if typed else ("", "")
    text = (
        f'"""{message}\n\nRevision ID: {rev_id}\nRevises: x\nCreate Date: 2024-01-01\n\n"""\n'
        + ("from typing import Sequence, Union\n\n" if typed else "")
        + "from alembic import op\nimport sqlalchemy as sa\n"
        + data.draw(st.sampled_from(["", "import sqlmodel\n", "from app import models  # noqa\n"]))
        + "\n\n# revision identifiers, used by Alembic.\n"
        + f"revision{ann[0]} = '{rev_id}'\n"
        + f"down_revision{ann[1]} = {down}\n"
        + f"branch_labels{ann[1]} = None\n"
        + f"depends_on{ann[1]} = None\n\n\n"
        + data.draw(st.sampled_from(UPGRADES))
    )
    raw = text.replace("\n", data.draw(st.sampled_from(["\n", "\r\n"]))).encode()
    if data.draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    assert _read_template(raw, PATH, None) is not None
    assert_same_result(raw)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="possessive repeats need Python 3.11's re to compare with")
@SETTINGS
@given(revision_sources())
def test_the_python_310_pattern_matches_exactly_like_the_possessive_one(data):
    """Python 3.10 has no possessive repeats: the same pattern without them must match the same."""
    plain = re.compile(parse._TEMPLATE_PATTERN.replace(b"*+", b"*").replace(b"?+", b"?"))
    possessive = re.compile(parse._TEMPLATE_PATTERN)
    for start in (0, 3):
        ours, theirs = possessive.match(data, start), plain.match(data, start)
        assert (ours and ours.regs) == (theirs and theirs.regs)


BROKEN_TAILS = ("", "", "def later(:\n    pass\n", "x = (\n", "  indented = 1\n", "return 1\n", "print 'py2'\n")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(revision_sources(), st.sampled_from(BROKEN_TAILS))
def test_the_syntax_gate_finds_what_the_strict_reader_finds(data, tail):
    """``check``'s syntax gate (``syntax_problem``) equals ``parse_strict`` on every file read as a revision."""
    data += tail.encode()
    if not isinstance(parse_revision(data, PATH, "b" * 40), Revision):
        return  # check asks only about revisions its snapshot holds
    strict = parse.parse_strict(data, PATH, "b" * 40)
    assert parse.syntax_problem(data, PATH, "b" * 40) == (strict if isinstance(strict, ParseProblem) else None)
