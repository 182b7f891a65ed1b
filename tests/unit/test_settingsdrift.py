"""The location options ``sources.settingsdrift`` compares between a ref and the working tree."""

from __future__ import annotations

from revgraph.sources.settingsdrift import location_options


def test_ini_options_are_read_raw_from_the_environment_s_section_only():
    data = b"[alembic]\nscript_location = %(here)s/m\nsqlalchemy.url = x\n[other]\nsourceless = true\n"
    assert location_options(data, False, "alembic") == {"script_location": "%(here)s/m"}
    assert location_options(data, False, "other") == {"sourceless": "true"}
    assert location_options(data, False, "missing") == {}


def test_toml_options_come_from_tool_alembic():
    data = b'[tool.alembic]\nversion_locations = ["a", "b"]\nrecursive_version_locations = true\n[tool.other]\nx = 1\n'
    assert location_options(data, True, "alembic") == {
        "version_locations": "['a', 'b']", "recursive_version_locations": "True",
    }
    assert location_options(b"[project]\nname = 'x'\n", True, "alembic") == {}


def test_what_cannot_be_read_is_not_compared():
    assert location_options(b"\xff\xfe", False, "alembic") is None
    assert location_options(b"[alembic\n", False, "alembic") is None
    assert location_options(b"tool = [", True, "alembic") is None
