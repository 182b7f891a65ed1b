"""Which files of a versions folder are revision files, in alembic's order (pure).

The same rules are held against alembic itself on real folders in
tests/integration/test_sources.py; here each rule is pinned on its own.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.listing import (
    COMPILED,
    SOURCE,
    UNRESOLVED,
    ListedFile,
    list_revision_files,
    normalize_location,
)

V = "migrations/versions"


def paths(listed: list[ListedFile]) -> list[str]:
    return [item.path for item in listed]


def test_only_py_files_are_revision_files():
    files = [f"{V}/a.py", f"{V}/README.md", f"{V}/b.pyc", f"{V}/c.py.bak", f"{V}/d.txt"]
    assert paths(list_revision_files([V], files)) == [f"{V}/a.py"]


def test_editor_lock_files_and_init_modules_are_skipped_but_underscore_names_are_not():
    files = [
        f"{V}/.#y.py",
        f"{V}/__init__.py",
        f"{V}/__init__x.py",
        f"{V}/_x.py",
        f"{V}/.hidden.py",
    ]
    assert paths(list_revision_files([V], files)) == [f"{V}/.hidden.py", f"{V}/_x.py"]


def test_files_are_sorted_by_name_like_alembic():
    files = [f"{V}/b.py", f"{V}/B.py", f"{V}/a.py", f"{V}/10.py", f"{V}/9.py"]
    assert paths(list_revision_files([V], files)) == [
        f"{V}/10.py", f"{V}/9.py", f"{V}/B.py", f"{V}/a.py", f"{V}/b.py",
    ]  # fmt: skip


def test_subfolders_are_read_only_when_recursive():
    files = [f"{V}/a.py", f"{V}/sub/dir/z.py", f"{V}/sub/y.py"]
    assert paths(list_revision_files([V], files)) == [f"{V}/a.py"]
    assert paths(list_revision_files([V], files, recursive=True)) == [
        f"{V}/a.py", f"{V}/sub/y.py", f"{V}/sub/dir/z.py",
    ]  # fmt: skip


def test_recursive_walk_lists_a_folders_files_before_its_sorted_subfolders():
    files = [f"{V}/z.py", f"{V}/b/x.py", f"{V}/a/y.py", f"{V}/a/c/w.py", f"{V}/a/b.py"]
    assert paths(list_revision_files([V], files, recursive=True)) == [
        f"{V}/z.py", f"{V}/a/b.py", f"{V}/a/y.py", f"{V}/a/c/w.py", f"{V}/b/x.py",
    ]  # fmt: skip


def test_pycache_folders_are_skipped_without_sourceless():
    files = [f"{V}/a.py", f"{V}/__pycache__/b.py", f"{V}/__pycache__/a.cpython-311.pyc"]
    assert paths(list_revision_files([V], files, recursive=True)) == [f"{V}/a.py"]


def test_sourceless_takes_a_pyc_only_when_its_source_is_missing():
    files = [f"{V}/a.py", f"{V}/a.pyc", f"{V}/b.pyc", f"{V}/c.pyo", f"{V}/d.pyc", f"{V}/d.pyo"]
    listed = list_revision_files([V], files, sourceless=True)
    assert [(item.path, item.kind) for item in listed] == [
        (f"{V}/a.py", SOURCE),
        (f"{V}/b.pyc", COMPILED),
        (f"{V}/c.pyo", COMPILED),
        (f"{V}/d.pyc", COMPILED),
    ]


def test_sourceless_adds_pycache_entries_whose_stem_has_no_file_beside_it():
    files = [
        f"{V}/a.py",
        f"{V}/__pycache__/a.cpython-311.pyc",
        f"{V}/__pycache__/b.cpython-311.pyc",
    ]
    listed = list_revision_files([V], files, sourceless=True)
    assert [(item.path, item.kind) for item in listed] == [
        (f"{V}/a.py", SOURCE),
        (f"{V}/__pycache__/b.cpython-311.pyc", COMPILED),
    ]


def test_a_file_in_overlapping_locations_is_listed_once_at_its_first_place():
    files = [f"{V}/a.py", f"{V}/sub/b.py"]
    listed = list_revision_files([V, f"{V}/sub", V], files, recursive=True)
    assert paths(listed) == [f"{V}/a.py", f"{V}/sub/b.py"]


def test_locations_are_read_in_config_order():
    files = ["one/b.py", "two/a.py"]
    assert paths(list_revision_files(["two", "one"], files)) == ["two/a.py", "one/b.py"]


def test_a_location_that_is_only_a_prefix_of_a_folder_name_does_not_match_it():
    files = [f"{V}2/a.py", f"{V}/b.py"]
    assert paths(list_revision_files([V], files)) == [f"{V}/b.py"]


def test_the_root_itself_can_be_a_location():
    assert paths(list_revision_files(["", "."], ["a.py", "x/b.py"])) == ["a.py"]


def test_a_symlink_is_judged_and_deduplicated_by_its_real_path():
    files = [f"{V}/a.py", f"{V}/b.py", f"{V}/c.py", f"{V}/notes.txt"]
    resolved = {f"{V}/b.py": f"{V}/a.py", f"{V}/c.py": f"{V}/notes.txt"}
    listed = list_revision_files([V], files, resolved=resolved)
    # b.py is a second name of a.py; c.py really is a .txt, as alembic sees after resolve().
    assert [(item.path, item.listed_as) for item in listed] == [(f"{V}/a.py", f"{V}/a.py")]


def test_a_symlink_to_a_file_elsewhere_keeps_the_real_path():
    listed = list_revision_files([V], [f"{V}/a.py"], resolved={f"{V}/a.py": "shared/a.py"})
    assert listed == [ListedFile("shared/a.py", f"{V}/a.py", SOURCE)]


def test_an_unfollowable_symlink_is_reported_only_when_its_name_looks_like_a_revision():
    files = [f"{V}/a.py", f"{V}/README"]
    listed = list_revision_files([V], files, resolved={f"{V}/a.py": None, f"{V}/README": None})
    assert listed == [ListedFile(f"{V}/a.py", f"{V}/a.py", UNRESOLVED)]


def test_locations_are_normalized():
    assert normalize_location("./migrations//versions/") == "migrations/versions"
    assert normalize_location(".") == ""
    assert normalize_location("") == ""


# ------------------------------------------------------------------ properties
_NAMES = st.sampled_from(
    ["a.py", "b.py", "_x.py", ".#y.py", "__init__.py", "c.pyc", "c.pyo", "d.txt", "z.PY", "é.py"]
)


@st.composite
def trees(draw):
    files = set()
    for _ in range(draw(st.integers(0, 12))):
        folder = draw(st.sampled_from(["", "sub", "sub/deep", "__pycache__", "other"]))
        name = draw(_NAMES)
        files.add(f"{V}/{folder}/{name}" if folder else f"{V}/{name}")
    return sorted(files)


@settings(max_examples=60, deadline=None)
@given(trees(), st.booleans(), st.booleans(), st.randoms(use_true_random=False))
def test_listing_does_not_depend_on_the_order_files_were_found(files, recursive, sourceless, rnd):
    shuffled = list(files)
    rnd.shuffle(shuffled)
    kwargs = {"recursive": recursive, "sourceless": sourceless}
    assert list_revision_files([V], shuffled, **kwargs) == list_revision_files([V], files, **kwargs)


@settings(max_examples=60, deadline=None)
@given(trees(), st.booleans(), st.booleans())
def test_every_listed_file_is_a_unique_py_file_of_a_location(files, recursive, sourceless):
    listed = list_revision_files([V], files, recursive=recursive, sourceless=sourceless)
    assert len({item.path for item in listed}) == len(listed)
    for item in listed:
        assert item.path in files
        name = item.path.rsplit("/", 1)[-1]
        assert not name.startswith((".#", "__init__"))
        if item.kind == SOURCE:
            assert name.endswith(".py")
        else:
            assert sourceless and item.kind == COMPILED and name.endswith((".pyc", ".pyo"))
        if not recursive:
            assert item.path.count("/") == V.count("/") + 1 or "/__pycache__/" in item.path


def test_recursive_listing_keeps_every_py_file_once_whatever_the_input_order():
    rnd = random.Random(7)
    files = [f"{V}/{rnd.choice(['', 's/', 's/t/'])}{i}.py" for i in range(50)]
    first = list_revision_files([V], files, recursive=True)
    assert first == list_revision_files([V], list(reversed(files)), recursive=True)
    assert len(first) == len(set(files))


_ODD_PATHS = st.sampled_from(
    [f"{V}/a.py", f"{V}/b.py", f"{V}//c.py", f"{V}/./d.py", f"{V}/sub/e.py", f"{V}/__pycache__/f.py",
     f"{V}/__init__.py", f"{V}/.#g.py", f"{V}/h.txt", f"{V}2/i.py", "top.py", "x/__pycache__/j.py",
     f"{V}/", f"{V}/sub/./k.py", "x/l.py", "x/y/m.py"]
)  # fmt: skip
_LOCATIONS = st.lists(
    st.sampled_from([V, f"{V}/", f"./{V}", "", ".", "x", "x/__pycache__", f"{V}/sub", "missing"]),
    min_size=1, max_size=3,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_ODD_PATHS, max_size=12), _LOCATIONS)
def test_the_flat_listing_equals_the_general_walk(files, locations):
    """The usual layout's shortcut answers exactly what alembic's walk does, odd paths included."""
    from revgraph.listing import _list_flat, _list_walk

    walked = _list_walk(locations, list(files), recursive=False, sourceless=False, resolved={}, exists=None)
    assert _list_flat(locations, list(files)) == walked
    assert list_revision_files(locations, files) == walked
