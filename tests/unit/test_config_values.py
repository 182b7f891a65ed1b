"""Values of alembic's options that alembic itself misreads or stops on, checked before any command.

Each case was tried on alembic 1.20 first (``Config`` + ``ScriptDirectory.from_config``):
``version_locations = "a b"`` in [tool.alembic] makes a folder of each character,
``truncate_slug_length = 1.5`` stops alembic ("unsupported TOML value type"), a bad
``path_separator`` in alembic.ini stops every alembic command once
``prepend_sys_path`` is set (the template's default), while in [tool.alembic] alembic
never reads it. revgraph says so, naming the file and the key: exit 2 for what alembic
cannot use, a warning for what it ignores.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from revgraph.config import load_project
from revgraph.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def config_error(start: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(start)
    assert info.value.exit_code == 2 and "\n" not in info.value.message
    return info.value


def test_a_string_for_version_locations_says_how_to_write_the_list(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\nversion_locations = "%(here)s/a b"\n')
    error = config_error(tmp_path)
    assert f"{tmp_path / 'pyproject.toml'}: [tool.alembic] version_locations" in error.message
    assert "'%(here)s/a b'" in error.message  # as written, not interpolated
    assert error.hint == 'write a TOML list: version_locations = ["%(here)s/a", "b"]'


@pytest.mark.parametrize("value", ["1.5", "true"])
def test_a_slug_length_that_is_no_whole_number_is_refused(tmp_path: Path, value: str) -> None:
    # 1.5: alembic stops ("unsupported TOML value type"); true: alembic cuts slugs to one letter.
    (tmp_path / "m").mkdir()
    write(tmp_path / "pyproject.toml", f'[tool.alembic]\nscript_location = "m"\ntruncate_slug_length = {value}\n')
    error = config_error(tmp_path)
    assert "[tool.alembic] truncate_slug_length must be a whole number" in error.message
    assert str(tmp_path / "pyproject.toml") in error.message


def test_a_slug_length_written_as_a_string_of_digits_is_taken_as_alembic_takes_it(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\ntruncate_slug_length = "12"\n')
    (env,) = load_project(tmp_path).environments
    assert env.truncate_slug_length == 12


def test_a_bad_path_separator_in_the_ini_stops_revgraph_where_it_stops_alembic(tmp_path: Path) -> None:
    # No version_locations: alembic still splits prepend_sys_path on every command, and fails.
    (tmp_path / "m").mkdir()
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\nprepend_sys_path = .\npath_separator = bogus\n")
    error = config_error(tmp_path)
    assert f"{tmp_path / 'alembic.ini'}: [alembic] path_separator = 'bogus' is not valid" in error.message


def test_a_bad_path_separator_alembic_never_reads_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\npath_separator = bogus\n")
    (env,) = load_project(tmp_path).environments  # nothing to split: alembic runs with it too
    assert env.script_location == tmp_path / "m"


@pytest.mark.parametrize("key", ["path_separator", "version_path_separator"])
def test_a_bad_path_separator_in_tool_alembic_is_a_warning_as_alembic_ignores_it(tmp_path: Path, key: str) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "pyproject.toml", f'[tool.alembic]\nscript_location = "m"\n{key} = "bogus"\n')
    project = load_project(tmp_path)
    (warning,) = project.warnings
    assert warning.startswith(f"{tmp_path / 'pyproject.toml'}: [tool.alembic] {key} = 'bogus' is not valid")
    assert "alembic reads it only from alembic.ini" in warning


def test_a_valid_path_separator_in_tool_alembic_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\npath_separator = "os"\n')
    assert load_project(tmp_path).warnings == ()


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": '[tool.alembic]\nscript_location = ""\n'},
        {"alembic.ini": "[alembic]\nscript_location =\n"},
    ],
    ids=["toml", "ini"],
)
def test_an_empty_script_location_is_called_empty_not_missing(tmp_path: Path, files: dict) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    error = config_error(tmp_path)
    assert "script_location is empty" in error.message and "no 'script_location' key" not in error.message


def test_a_script_location_in_neither_file_names_both(tmp_path: Path) -> None:
    # alembic >= 1.16 looks in the ini section, then in [tool.alembic] beside it.
    write(tmp_path / "alembic.ini", "[alembic]\nsqlalchemy.url = sqlite://\n")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nfile_template = "%%(rev)s"\n')
    error = config_error(tmp_path)
    assert error.message == (
        f"{tmp_path / 'alembic.ini'} [alembic]: no 'script_location' key found, "
        f"nor in {tmp_path / 'pyproject.toml'}: [tool.alembic]"
    )


# -------------------------------------------------- files that cannot be parsed


def test_an_ini_saved_with_a_byte_order_mark_says_so(tmp_path: Path) -> None:
    # Windows editors save one; configparser (alembic's reader too) takes it for text before [alembic].
    (tmp_path / "m").mkdir()
    (tmp_path / "alembic.ini").write_bytes(b"\xef\xbb\xbf[alembic]\nscript_location = m\n")
    error = config_error(tmp_path)
    assert "cannot parse" in error.message
    assert error.hint is not None and "UTF-8 byte order mark" in error.hint


@pytest.mark.parametrize(
    "name, text",
    [
        ("alembic.ini", "[alembic]\n<<<<<<< HEAD\nscript_location = a\n=======\nscript_location = b\n>>>>>>> main\n"),
        ("pyproject.toml", '[tool.alembic]\n<<<<<<< HEAD\nscript_location = "a"\n=======\n>>>>>>> main\n'),
    ],
)
def test_a_config_left_with_conflict_markers_says_so(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path / name, text)
    error = config_error(tmp_path)
    assert error.hint is not None and error.hint.startswith("it holds merge conflict markers (<<<<<<<)")


# ------------------------------------------------ alembic.ini beside pyproject.toml


def test_an_environment_naming_the_pyproject_toml_beside_alembic_ini_reads_both_as_alembic_does(tmp_path: Path) -> None:
    # alembic run there reads ./alembic.ini with pyproject.toml, its [alembic] first, as
    # `-c pyproject.toml` does; the [tool.revgraph.environments] entry read the table alone.
    (tmp_path / "m" / "versions").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\nfile_template = %%(rev)s_ini\n")
    write(
        tmp_path / "pyproject.toml",
        '[tool.alembic]\nscript_location = "other"\ntimezone = "UTC"\n\n'
        '[tool.revgraph.environments.app]\nconfig = "pyproject.toml"\n',
    )
    (env,) = load_project(tmp_path).environments
    (minus_c,) = load_project(tmp_path, config_file=Path("pyproject.toml")).environments
    assert env.name == "app"
    assert env.script_location == minus_c.script_location == tmp_path / "m"
    assert env.file_template == minus_c.file_template == "%(rev)s_ini"
    assert env.timezone == "UTC"  # what the ini lacks still comes from [tool.alembic]
    assert env.config_file == tmp_path / "alembic.ini"  # a ref's copies of both are read (refsettings)
