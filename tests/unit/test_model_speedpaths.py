"""RevisionGraph's cheap construction: what it computes at once, what waits, and its edge cases.

The property tests (tests/property/test_graph_fast_paths.py) hold every
answer against a plain reference; these name the behaviours one by one.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from revgraph.checks.graph import label_lineage
from revgraph.model import Dangling, Revision, RevisionGraph


def chain(*ids: str) -> list[Revision]:
    revs = [Revision(ids[0])]
    revs += [Revision(rid, (parent,)) for parent, rid in zip(ids, ids[1:])]
    return revs


def test_a_graph_asked_for_ids_and_heads_builds_nothing_else():
    graph = RevisionGraph(chain("a", "b", "c"))
    assert graph.heads == ("c",) and list(graph.revisions) == ["a", "b", "c"]
    for lazy in ("_children_down", "_peeled", "cycles", "_label_masks_down", "resolved_depends_on"):
        assert lazy not in graph.__dict__


def test_derived_answers_are_computed_once_and_kept():
    graph = RevisionGraph(chain("a", "b", "c"))
    assert graph.cycles == () and graph.topological_order() == ("a", "b", "c")
    assert graph.__dict__["_peeled"] is graph._peeled
    assert graph.topological_order() == graph.topological_order()


def test_a_regular_revision_shares_its_down_revisions_tuple_as_its_parents():
    revs = chain("a", "b")
    graph = RevisionGraph(revs)
    assert graph.parents("b") is revs[1].down_revisions
    assert graph.parent_map["b"] is revs[1].down_revisions
    assert graph.irregular == {"a"}  # the base


def test_a_down_revisions_list_still_gives_tuple_parents():
    graph = RevisionGraph([Revision("a"), Revision("b", ["a"])])  # type: ignore[arg-type]
    assert graph.parents("b") == ("a",) and isinstance(graph.parents("b"), tuple)
    assert "b" in graph.irregular and graph.heads == ("b",)


def test_a_dangling_single_parent_is_found_without_a_base_or_merge_nearby():
    graph = RevisionGraph([Revision("a"), Revision("b", ("a",)), Revision("c", ("zzzz",))])
    assert graph.dangling == (Dangling("c", "zzzz", "down"),)
    assert graph.parents("c") == () and graph.heads == ("b", "c")


def test_duplicate_ids_keep_the_first_place_and_the_last_file():
    first, other, last = Revision("a"), Revision("b", ("a",)), Revision("a", ("b",), path="x")
    graph = RevisionGraph([first, other, last])
    assert list(graph.revisions) == ["a", "b"] and graph["a"] is last
    assert graph.duplicates == {"a": (first, last)}
    assert graph.cycles == (("a", "b"),) and graph.topological_order() is None


def test_many_unresolvable_depends_on_prefixes_resolve_like_a_scan():
    ids = [f"{n:04x}beef" for n in range(64)]
    revs = [Revision(rid) for rid in ids]
    names = [rid[:5] for rid in ids] + ["0001b", "ffffffff", "0000beef0"]
    revs.append(Revision("dddd0000", depends_on=tuple(names)))
    graph = RevisionGraph(revs)
    scanned = (RevisionGraph._resolve_in(name, graph.revisions, {}) for name in names)
    assert graph.resolved_depends_on["dddd0000"] == tuple(dict.fromkeys(r for r in scanned if r))
    assert [d.target for d in graph.dangling] == ["ffffffff", "0000beef0"]


def test_lineage_labels_follow_down_revision_only():
    revs = [
        Revision("a", branch_labels=("core",)),
        Revision("b", ("a",)),
        Revision("x", branch_labels=("side",)),
        Revision("c", ("b",), depends_on=("x",)),
    ]
    graph = RevisionGraph(revs)
    assert label_lineage(graph, "c") == {"core"}
    assert graph.labels_of("x") == ("side",) and graph.labels_of("b") == ("core",)


def test_lineage_on_a_cycle_walks_instead_of_sweeping():
    revs = [
        Revision("a", ("c",), branch_labels=("loop",)),
        Revision("b", ("a",)),
        Revision("c", ("b",)),
        Revision("d", ("c",)),
    ]
    graph = RevisionGraph(revs)
    assert graph.topological_order() is None
    assert graph.lineage_labels("d") == {"loop"} and graph.labels_of("b") == ("loop",)


def test_packed_spans_read_like_the_dict_they_stand_for():
    from revgraph.model import PackedSpans, Span

    raw = (("revision", 10, 14, 7), ("down_revision", 30, 36, 8), ("docstring", 0, 9, 1))
    packed = PackedSpans(raw)
    plain = {key: Span(start, end, line) for key, start, end, line in raw}
    assert "down_revision" in packed and "branch_labels" not in packed
    assert packed._spans is None  # membership built nothing
    assert len(packed) == 3 and list(packed) == list(plain)
    assert packed == plain and plain == packed and dict(packed) == plain
    assert packed.get("revision") == Span(10, 14, 7) and packed.get("depends_on") is None
    assert "down_revision" in packed and "x" not in packed  # also once built
    import pickle

    assert pickle.loads(pickle.dumps(packed)) == plain


SPAN_ROWS = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=12),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
    ),
    max_size=8,
    unique_by=lambda row: row[0],
)


@given(SPAN_ROWS)
def test_the_compact_form_of_packed_spans_reads_like_the_tuples(rows):
    from revgraph.model import PackedSpans

    tuples = PackedSpans(tuple(rows))
    compact = PackedSpans(tuples.compact)
    assert compact.compact is compact.raw  # already compact: no second packing
    assert len(compact) == len(tuples) and list(compact) == list(tuples)
    for key, *_ in rows:
        assert key in compact
    assert "not a key \0" not in compact
    assert compact == tuples and dict(compact) == dict(tuples)


def test_the_parse_cache_stores_spans_compactly_and_gives_back_equal_revisions(tmp_path):
    from revgraph.model import PackedSpans
    from revgraph.parse import parse_revision
    from revgraph.sources import cache as cache_module
    from tests.support.revfiles import render_revision

    data = render_revision("abcd1234", "0000ffff", message="compact", style="typed").encode()
    parsed = parse_revision(data, "v/a.py", "1" * 40)
    encoded = cache_module._encode(parsed)
    spans = encoded[1][cache_module._SPANS]
    assert len(spans) == 2 and isinstance(spans[1], bytes)
    decoded = cache_module._with_place(cache_module._decode(encoded), "v/a.py", "1" * 40)
    assert decoded == parsed and isinstance(decoded.spans, PackedSpans)
    assert decoded.spans["revision"] == parsed.spans["revision"]


def test_a_parse_cache_from_before_compact_spans_is_not_read(tmp_path):
    """The schema names the spans encoding: files of either side of that change look empty
    to the other (an older revgraph would misread compact spans, not fail)."""
    import marshal
    import zlib

    from revgraph.parse import parse_revision
    from revgraph.sources import cache as cache_module
    from tests.support.revfiles import render_revision

    data = render_revision("abcd1234", None, message="old", style="typed").encode()
    cache = cache_module.ParseCache(tmp_path)
    cache.parse(data, "v/a.py", "2" * 40)
    cache.save()
    assert "2" * 40 in cache_module.ParseCache(tmp_path)
    fields = (cache_module._REVISION_FIELDS, cache_module._PROBLEM_FIELDS)
    old_schema = zlib.crc32(repr(fields).encode())
    assert old_schema != cache_module._SCHEMA
    entries = cache_module.ParseCache(tmp_path)._stored()
    entries["__schema__"] = (old_schema,)
    payload = marshal.dumps(entries)
    cache.path.write_bytes(cache_module._pack(payload, cache.parser_version))
    assert "2" * 40 not in cache_module.ParseCache(tmp_path)
    assert parse_revision(data, "v/a.py", "2" * 40).id == "abcd1234"


def test_a_helper_s_export_parses_each_content_once_and_records_nothing_to_save(tmp_path):
    """``export_parse`` (the forked reader's): what ``export(parse(...))`` gives, None for a
    content it has seen at any path, a file-name-bound result parsed again per path, and
    nothing left for ``save()`` (the parent's ``adopt`` records it)."""
    from revgraph.parse import parse_revision
    from revgraph.sources import cache as cache_module
    from tests.support.revfiles import render_revision

    data = render_revision("abcd1234", "0000ffff", message="helper", style="generic").encode()
    cache = cache_module.ParseCache(tmp_path)
    exported = cache.export_parse(data, "v/a.py", "3" * 40)
    assert exported == cache.export(parse_revision(data, "v/a.py", "3" * 40))
    assert cache.export_parse(data, "v/copy.py", "3" * 40) is None
    assert cache.get("3" * 40, "v/copy.py").path == "v/copy.py"
    legacy = b'"""legacy"""\ndown_revision = None\n'  # the id comes from the file name
    first = cache.export_parse(legacy, "v/abcdef123456.py", "4" * 40)
    second = cache.export_parse(legacy, "v/fedcba654321.py", "4" * 40)
    assert first is not None and second is not None and first != second
    assert not cache.dirty and not cache.save()
    assert "3" * 40 not in cache_module.ParseCache(tmp_path)


def test_a_save_keeps_the_names_none_entries_of_the_last_few_namings_only(tmp_path):
    """Each naming (what ours touch) adds a "names-none" entry per file of theirs; a save
    keeps those of the NAMES_NONE_KEPT namings written last, whatever else it holds."""
    from revgraph.sources import cache as cache_module

    kept = cache_module.NAMES_NONE_KEPT
    namings = [f"n{i}" for i in range(kept + 3)]
    blobs = [f"{i:040x}" for i in range(5)]

    def save(*names: str, using: str | None = None) -> cache_module.ParseCache:
        cache = cache_module.ParseCache(tmp_path)
        if using is not None:  # a lookup that finds every file of one naming
            assert all(cache.names_none(blob, using) for blob in blobs)
        for name in names:
            for blob in blobs:
                cache.put_names_none(blob, name)
        cache.put_touches("f" * 40, ("orders",))
        assert cache.save()
        return cache_module.ParseCache(tmp_path)

    def present(cache: cache_module.ParseCache) -> set[str]:
        found = {name for name in namings if all(cache.names_none(blob, name) for blob in blobs)}
        assert not any(cache.names_none(blob, name) for name in set(namings) - found for blob in blobs)
        return found

    for name in namings[:kept]:
        save(name)
    assert present(cache_module.ParseCache(tmp_path)) == set(namings[:kept])
    # n0 answered a lookup while n4 was written: n1, the oldest, goes.
    assert present(save(namings[kept], using=namings[0])) == {namings[0], *namings[2 : kept + 1]}
    latest = save(*namings[kept + 1 :])
    assert present(latest) == {namings[0], namings[kept], *namings[kept + 1 :]}
    assert latest.touches("f" * 40) == ("orders",)  # other entries are untouched
