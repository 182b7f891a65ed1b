"""A ``.gitattributes`` pattern install writes reads back as the path it was written for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.gitops.install import attribute_pattern, pattern_path

segment = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(segment, min_size=1, max_size=3))
def test_the_path_of_each_written_pattern_is_the_path_it_was_written_for(parts):
    path = "/".join(parts)
    assert pattern_path(attribute_pattern(path)) == path


def test_a_pattern_install_would_not_write_has_no_path():
    assert pattern_path("*.lock") is None
    assert pattern_path("migrations/*.lock") is None
    assert pattern_path("revgraph.lock") is None  # install anchors a bare name: /revgraph.lock
    assert pattern_path("/revgraph.lock") == "revgraph.lock"
