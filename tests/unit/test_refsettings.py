"""``config.environment_at``: an environment as another version of its config files places
revisions (a ref's alembic.ini and pyproject.toml, given as bytes), held against alembic's
own ``ScriptDirectory`` reading the same bytes from disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from revgraph.config import environment_at, load_project
from revgraph.errors import ConfigError

HERE_INI = "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n"


def _project(tmp_path: Path, ini: str = HERE_INI, pyproject: str | None = None):
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text(ini)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    (env,) = load_project(tmp_path).environments
    return env


def _alembic_reads(folder: Path, ini: str, pyproject: str | None) -> dict:
    """alembic's own answer for these files, written to ``folder`` (the ref's version of them)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    for script in ("migrations", "db/migrations"):  # as a checkout of the ref would have them
        (folder / script).mkdir(parents=True)
    (folder / "alembic.ini").write_text(ini)
    toml = None
    if pyproject is not None:
        toml = folder / "pyproject.toml"
        toml.write_text(pyproject)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        script = ScriptDirectory.from_config(Config(str(folder / "alembic.ini"), toml_file=toml and str(toml)))
        return {
            "script_location": Path(script.dir).relative_to(folder),
            "version_locations": [Path(p).relative_to(folder) for p in script._version_locations],
            "recursive": script.recursive_version_locations,
            "sourceless": script.sourceless,
        }
    finally:
        os.chdir(cwd)


REF_VERSIONS = [
    pytest.param(HERE_INI + "recursive_version_locations = true\n", None, id="recursive"),
    pytest.param(HERE_INI + "sourceless = true\n", None, id="sourceless"),
    pytest.param(
        HERE_INI + "version_locations = %(here)s/migrations/versions%(here)s/more\n".replace(
            "%(here)s/more", os.pathsep + "%(here)s/more"
        ),
        None,
        id="version_locations",
    ),
    pytest.param(HERE_INI.replace("migrations", "db/migrations"), None, id="script_location"),
    pytest.param(
        HERE_INI,
        '[tool.alembic]\nversion_locations = ["%(here)s/migrations/versions", "%(here)s/more"]\n',
        id="neighbour pyproject",
    ),
]


@pytest.mark.parametrize(("ini", "pyproject"), REF_VERSIONS)
def test_a_ref_s_settings_place_revisions_as_alembic_reads_them(tmp_path: Path, ini: str, pyproject) -> None:
    env = _project(tmp_path / "work")
    found = environment_at(env, ini.encode(), pyproject and pyproject.encode(), tmp_path / "work")

    alembic = _alembic_reads(tmp_path / "ref", ini, pyproject)
    root = tmp_path / "work"
    assert found.script_location.relative_to(root) == alembic["script_location"]
    assert [p.relative_to(root) for p in found.version_locations] == alembic["version_locations"]
    assert (found.recursive, found.sourceless) == (alembic["recursive"], alembic["sourceless"])
    # The rest stays the working tree's: the name, the lock file, the config file.
    assert (found.name, found.lock_file, found.config_file) == (env.name, env.lock_file, env.config_file)
    assert found != env


def test_the_same_settings_give_an_equal_environment(tmp_path: Path) -> None:
    env = _project(tmp_path)
    assert environment_at(env, (HERE_INI + "# a comment\nsqlalchemy.url = x\n").encode(), None, tmp_path) == env


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "there is no alembic.ini"),
        (b"[alembic\nscript_location = x\n", "alembic.ini: cannot parse"),
        (b"[other]\nscript_location = x\n", "has no [alembic] section"),
        (b"[alembic]\nsqlalchemy.url = x\n", "no 'script_location' key found"),
    ],
)
def test_a_version_that_cannot_be_read_says_why(tmp_path: Path, config, message: str) -> None:
    env = _project(tmp_path)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        environment_at(env, config, None, tmp_path)


def test_a_broken_neighbour_pyproject_says_why(tmp_path: Path) -> None:
    env = _project(tmp_path)
    with pytest.raises(ConfigError, match="invalid TOML"):
        environment_at(env, HERE_INI.encode(), b"tool = [", tmp_path)


def test_an_inline_environment_takes_its_own_entry_and_a_folders_only_one_is_kept(tmp_path: Path) -> None:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "script.py.mako").write_text("")
    entries = (
        '[tool.revgraph.environments.app]\nscript_location = "migrations"\n'
        '[tool.revgraph.environments.raw]\nversions = ["migrations/versions"]\n'
    )
    (tmp_path / "pyproject.toml").write_text(entries)
    app, raw = load_project(tmp_path).environments
    assert app.inline and app.config_file is not None and raw.config_file is None
    recursive = entries.replace('"migrations"\n', '"migrations"\nrecursive_version_locations = true\n', 1)

    assert environment_at(raw, recursive.encode(), None, tmp_path) is raw
    assert environment_at(app, recursive.encode(), None, tmp_path).recursive
    assert environment_at(app, b"[tool.alembic]\nsourceless = true\n", None, tmp_path) is app  # no entry yet
    with pytest.raises(ConfigError, match="not described by its script_location there"):
        environment_at(app, b'[tool.revgraph.environments.app]\nconfig = "alembic.ini"\n', None, tmp_path)
