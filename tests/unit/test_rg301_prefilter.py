"""RG301's pre-filter (``api.checking._may_touch``) never drops a file that touches one of ours' names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.api.checking import _may_touch, _touched_names
from revgraph.checks.overlap import touched_names
from revgraph.parse import upgrade_touches

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
QUOTES = st.sampled_from(['"', "'", '"""', "'''"])
PREFIXES = st.sampled_from(["", "r", "u", "R", "U"])
SPACES = st.sampled_from(["", " ", "\n    ", "  \n", " \\\n    "])  # the last: a line continuation


@st.composite
def split_sql(draw, name: str) -> str:
    """``UPDATE <name> SET x = 1`` as adjacent literals split anywhere, as Python allows."""
    sql = draw(st.sampled_from(["UPDATE {} SET x = 1", "DELETE FROM {}", "INSERT INTO {} VALUES (1)",
                                "ALTER TABLE {} ADD c int", "TRUNCATE {}"])).format(name)  # fmt: skip
    cuts = sorted(draw(st.sets(st.integers(1, len(sql) - 1), max_size=4)))
    pieces = [sql[a:b] for a, b in zip([0, *cuts], [*cuts, len(sql)])]
    literals = []
    for piece in pieces:
        quote = draw(QUOTES)
        if quote[0] in piece:
            quote = '"""' if "'" in piece else "'''"
        literals.append(f"{draw(PREFIXES)}{quote}{piece}{quote}")
    joined = "".join(literal + draw(SPACES) for literal in literals).rstrip()
    wrap = draw(st.sampled_from(["{}", "sa.text({})", "({})"]))
    return f"def upgrade():\n    op.execute({wrap.format(joined)})\n"


@settings(max_examples=settings.default.max_examples * 5, deadline=None)
@given(data=st.data(), name=NAMES)
def test_sql_split_across_literals_is_never_filtered_out(data, name):
    source = data.draw(split_sql(name)).encode()
    touches = upgrade_touches(source)
    if name in touched_names(touches):  # the scan finds it: the filter must let the file in
        naming = _touched_names([(f"table:{name}",)])
        assert naming is not None and _may_touch(source, naming), source


@pytest.mark.parametrize("source", [
    b'def upgrade():\n    op.execute("U""PDATE _000""u"" SET x = 1")\n',  # found by the thorough profile
    b'def upgrade():\n    op.execute("UPDATE ""u""_x" r"y SET x = 1")\n',  # a one-letter literal beside a real prefix
    b'def upgrade():\n    op.execute("UPDATE u" \\\n        "_xy SET x = 1")\n',  # a line continuation
])  # fmt: skip
def test_a_one_letter_literal_is_not_taken_for_a_string_prefix(source):
    # The join read `"U""PDATE` as the prefix U before "PDATE", and lost the U.
    assert "u_xy" in touched_names(upgrade_touches(source)) or "_000u" in touched_names(upgrade_touches(source))
    assert _may_touch(source, frozenset({b"_000u", b"u_xy"}))


def test_names_that_are_not_plain_identifiers_turn_the_filter_off():
    assert _touched_names([("table:my table",)]) is None
    assert _touched_names([("table:caf\u00e9",)]) is None
    assert _touched_names([("table:users", "index:ix_users_email")]) == {b"users", b"ix_users_email"}
