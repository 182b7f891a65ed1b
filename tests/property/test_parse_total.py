"""parse.py on generated and mangled input: never raises, and its two readers never disagree."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from revgraph.model import ParseProblem, Revision
from revgraph.parse import _maybe_dynamic, _may_supply_names, _parse_ast, _parse_fast, fingerprint, parse_revision
from tests.support.revfiles import STYLES, render_revision

PATH = "migrations/versions/file.py"
# Example counts come from the profile in tests/conftest.py (REVGRAPH_TEST_PROFILE=thorough digs deeper).
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.text(alphabet="0123456789abcdef_xyz", min_size=1, max_size=12)
messages = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\"'\\"),
    max_size=30,
)


# ------------------------------------------------------------ a file builder
@st.composite
def literal_values(draw, allow_none: bool = True):
    """(source text, expected tuple) for a down_revision / branch_labels / depends_on value."""
    quote = draw(st.sampled_from(["'", '"']))
    prefix = draw(st.sampled_from(["", "", "r", "u"]))

    def lit(value: str) -> str:
        return f"{prefix}{quote}{value}{quote}"

    kind = draw(
        st.sampled_from(["none", "str", "paren_str", "seq", "empty"] if allow_none else ["str", "seq"])
    )
    if kind == "none":
        return "None", ()
    if kind == "empty":
        return draw(st.sampled_from(["()", "[]", "( )"])), ()
    if kind in ("str", "paren_str"):
        value = draw(ids)
        return (lit(value) if kind == "str" else f"({lit(value)})"), (value,)
    values = draw(st.lists(ids, min_size=1, max_size=3))
    opener, closer = draw(st.sampled_from([("(", ")"), ("[", "]")]))
    trailing = "," if opener == "(" and len(values) == 1 else draw(st.sampled_from(["", ","]))
    if draw(st.booleans()):
        inner = "".join(f"\n    {lit(v)}," for v in values)
        return f"{opener}{inner}\n{closer}", tuple(values)
    return f"{opener}{', '.join(lit(v) for v in values)}{trailing}{closer}", tuple(values)


ANNOTATIONS = ["", ": str", ": Union[str, Sequence[str], None]", ": str | None", ": Optional[str]"]


@st.composite
def revision_files(draw):
    """A valid revision file with a known header, in many shapes; returns (bytes, expected)."""
    rev_id = draw(ids)
    down, expected_down = draw(literal_values())
    labels, expected_labels = draw(literal_values())
    deps, expected_deps = draw(literal_values())
    comment = draw(st.sampled_from(["", "  # note", "  # revision note"]))
    lines = [
        f"revision{draw(st.sampled_from(ANNOTATIONS))} = {draw(st.sampled_from(['', 'r', 'u']))}'{rev_id}'{comment}",
        f"down_revision{draw(st.sampled_from(ANNOTATIONS))} = {down}",
    ]
    if draw(st.booleans()):
        lines.append(f"branch_labels{draw(st.sampled_from(ANNOTATIONS))} = {labels}")
    else:
        expected_labels = ()
    if draw(st.booleans()):
        lines.append(f"depends_on = {deps}")
    else:
        expected_deps = ()
    lines = draw(st.permutations(lines))
    message = draw(messages)
    docstring = ""
    if draw(st.booleans()):
        revises = ", ".join(expected_down)
        quotes = draw(st.sampled_from(['"""', "'''"]))
        docstring = (
            f"{quotes}{message}\n\nRevision ID: {rev_id}\nRevises: {revises}\nCreate Date: 2024\n\n{quotes}\n"
        )
    preamble = draw(st.sampled_from(["", "#!/usr/bin/env python\n", "# -*- coding: utf-8 -*-\n"]))
    imports = draw(
        st.sampled_from(["", "from alembic import op\nimport sqlalchemy as sa\n\n", "x = (1,\n  2)\n"])
    )
    body = draw(
        st.sampled_from(
            [
                "pass",
                "op.create_table('t1')",
                "op.add_column('t2', sa.Column('c'))",
                "op.execute('DELETE FROM t3')",
            ]
        )
    )
    text = (
        preamble
        + docstring
        + imports
        + "# revision identifiers, used by Alembic.\n"
        + "\n".join(lines)
        + f"\n\n\ndef upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
    )
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = text.replace("\n", newline).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    expected = {"id": rev_id, "down": expected_down, "labels": expected_labels, "deps": expected_deps}
    return data, expected


def assert_is_result(result, data: bytes) -> None:
    assert isinstance(result, (Revision, ParseProblem))
    if isinstance(result, ParseProblem):
        assert result.path == PATH and result.line >= 1 and result.reason
        assert "internal error" not in result.reason
        return
    for span in result.spans.values():
        assert 0 <= span.start <= span.end <= len(data) and span.line >= 1


# ---------------------------------------------------------------- properties
_SPELLS_EXEC = (
    b"# revision identifiers, used by Alembic.\nrevision = '0'\ndown_revision = 'exec'\n\n\n"
    b"def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
)


@SETTINGS
@given(revision_files())
@example((_SPELLS_EXEC, {"id": "0", "down": ("exec",), "labels": (), "deps": ()}))  # found by the thorough profile
def test_fast_and_ast_readers_agree_on_values_and_spans(case):
    data, expected = case
    slow = _parse_ast(data, PATH)
    assert isinstance(slow, Revision), slow
    assert (slow.id, slow.down_revisions, slow.branch_labels, slow.depends_on) == (
        expected["id"],
        expected["down"],
        expected["labels"],
        expected["deps"],
    )
    fast = _parse_fast(data, PATH)
    if fast is None:
        # Declined only for a trigger word the cheap scan cannot tell from code,
        # e.g. a value that spells one (`down_revision = 'exec'`): then ast decides.
        text = data.decode("utf-8-sig")
        assert _maybe_dynamic(text) or _may_supply_names(text), "a plain header must not need the ast reader"
        return
    assert fast == slow
    assert dict(fast.spans) == dict(slow.spans)
    assert parse_revision(data, PATH) == slow
    assert dict(parse_revision(data, PATH).spans) == dict(slow.spans)


@SETTINGS
@given(revision_files())
def test_value_spans_hold_exactly_the_literal_text(case):
    import ast

    data, expected = case
    rev = parse_revision(data, PATH)
    assert isinstance(rev, Revision)
    encoding = "utf-8"
    for key, wanted in (("revision", expected["id"]), ("down_revision", expected["down"])):
        span = rev.spans[key]
        value = ast.literal_eval(data[span.start : span.end].decode(encoding).replace("\r\n", "\n"))
        if isinstance(value, list):
            value = tuple(value)
        if key == "down_revision":
            value = () if value is None else (value,) if isinstance(value, str) else value
        assert value == wanted


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes_give_a_revision_or_a_problem(data):
    assert_is_result(parse_revision(data, PATH), data)
    assert len(fingerprint(data)) == 64


EDITS = [
    b"'",
    b'"',
    b'"""',
    b"'''",
    b"(",
    b")",
    b"[",
    b"]",
    b",",
    b"#",
    b"\\",
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"=",
    b":",
    b"None",
    b"revision",
    b"down_revision = ",
    b"branch_labels",
    b"f",
    b"b",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"\xef\xbb\xbf",
    b"<<<<<<< HEAD\n",
    b"if x:\n    ",
    b"+ x",
    b";",
    b"# coding: latin-1\n",
    b"# revgraph: ignore[",
    b"op.add_column('",
    b"def upgrade():\n",
]


@st.composite
def mangled_files(draw):
    text = render_revision(
        draw(ids),
        draw(st.one_of(st.none(), ids, st.tuples(ids, ids))),
        message=draw(messages),
        style=draw(st.sampled_from(STYLES)),
        body="op.add_column('users', sa.Column('email', sa.String()))",
    )
    data = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 6))
        data[at : at + cut] = draw(st.sampled_from(EDITS))
    return bytes(data)


@SETTINGS
@given(mangled_files())
def test_mangled_revision_files_give_a_result_and_the_readers_never_disagree(data):
    result = parse_revision(data, PATH)
    assert_is_result(result, data)
    assert len(fingerprint(data)) == 64
    fast = _parse_fast(data, PATH)
    if not isinstance(fast, Revision):
        return
    slow = _parse_ast(data, PATH)
    if isinstance(slow, ParseProblem):
        # The fast path reads the header only; ast may still find a syntax error elsewhere.
        assert slow.reason.startswith("syntax error"), (slow, fast)
        return
    assert fast == slow
    assert dict(fast.spans) == dict(slow.spans)


# Complete statements, each valid alone, that put the names where a line scan could be fooled.
TRICKY_STATEMENTS = [
    "branch_labels = 'l'",
    "depends_on = [\n    'p',\n    'q',\n]",
    "x = dict(\nrevision='kw')",
    "x = dict(\ndepends_on='a keyword argument'\n)",
    "s = '''\nrevision = 'in a string'\n'''",
    "s = '''\nbranch_labels = 'in a string'\n'''",
    "if True:\n    revision = 'nested'",
    "def f():\n    down_revision = 'local'",
    "class C:\n    depends_on = 'attr'",
    "# revision in a comment",
    "s = '#'; revision = 'after a hash in a string'",
    't = "it\'s"  # revision',
    "y = 'revision'",
    "w = 1; down_revision = 'semi'",
    "x = 1 + \\\n2; revision = 'continued'",
    "'''a docstring-like string'''",
    "from x import y as revision",
    "revision += 'x'",
    "for depends_on in ():\n    pass",
    "(revision := 'walrus')",
    "print(revision)",
    "x = f'{revision}'",
    "del revision",
    "async def upgrade():\n    op.drop_table('t')",
]
PLAIN_HEADERS = [
    ("revision = 'a1'", "down_revision = None"),
    ('revision: str = "b2"  # revision', "down_revision: Union[str, None] = ('x', 'y')"),
    ("revision = ('p')", "down_revision = [\n    'p',\n    'q',\n]"),
]


@SETTINGS
@given(
    st.sampled_from(PLAIN_HEADERS),
    st.lists(st.sampled_from(TRICKY_STATEMENTS), min_size=1, max_size=3),
    st.randoms(use_true_random=False),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_the_fast_reader_is_never_fooled_by_tricky_statements(header, tricky, rnd, newline, docstring):
    statements = list(tricky)
    for line in header:
        statements.insert(rnd.randint(0, len(statements)), line)
    text = ('"""msg\n\nRevision ID: q\nRevises: r\n"""\n' if docstring else "") + "\n".join(statements) + "\n"
    data = text.replace("\n", newline).encode()
    fast = _parse_fast(data, PATH)
    if fast is None:
        return
    slow = _parse_ast(data, PATH)
    assert fast == slow
    if isinstance(fast, Revision):
        assert dict(fast.spans) == dict(slow.spans)


@SETTINGS
@given(revision_files(), st.sampled_from(["\n", "\r\n"]))
def test_fingerprint_ignores_added_comments_and_blank_lines(case, newline):
    data, _ = case
    decorated = data.replace(
        b"\ndef upgrade", b"\n# a comment" + newline.encode() + newline.encode() + b"def upgrade"
    )
    assume(decorated != data)
    assert fingerprint(decorated) == fingerprint(data)
