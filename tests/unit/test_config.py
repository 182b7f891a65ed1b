"""Environment discovery: alembic.ini / pyproject.toml / --versions, and [tool.revgraph].

Real files in ``tmp_path``. The differential part asks alembic itself
(``Config`` + ``ScriptDirectory.from_config``) about the same files, in a
child process started in the ini's folder -- where ``alembic`` is normally
run, and where its relative paths start -- so no ``os.chdir`` here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from revgraph.config import Environment, ProjectConfig, find_project_dir, load_project
from revgraph.errors import ConfigError, RevgraphError, UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_dirs(root: Path, *names: str) -> None:
    for name in names:
        (root / name).mkdir(parents=True, exist_ok=True)


def expect_error(exc_type: type[RevgraphError], *needles: str, **kwargs) -> RevgraphError:
    """Call load_project(**kwargs); the error must be one line, exit 2, naming every needle."""
    with pytest.raises(exc_type) as info:
        load_project(**kwargs)
    error = info.value
    assert error.exit_code == 2
    assert "\n" not in error.message
    for needle in needles:
        assert needle in error.message, (needle, error.message)
    return error


def norm(path: str | Path) -> str:
    return os.path.normpath(str(path))


# ---------------------------------------------------------------- differential

# Each case: files to write (path -> text), folders to create, alembic -n
# section, and whether alembic must be given pyproject.toml and/or alembic.ini.
CASES: dict[str, dict] = {
    "here_default_versions": {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
        "dirs": ["migrations/versions"],
    },
    "relative_script_location": {
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "dirs": ["migrations/versions"],
    },
    "path_separator_os": {
        "alembic.ini": f"[alembic]\nscript_location = migrations\npath_separator = os\n"
        f"version_locations = %(here)s/a{os.pathsep}%(here)s/b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "path_separator_semicolon": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = ;\n"
        "version_locations = %(here)s/a; b ;%(here)s/c d\n",
        "dirs": ["migrations", "a", "b", "c d"],
    },
    "path_separator_colon": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = :\n"
        "version_locations = a:%(here)s/b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "path_separator_space": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = space\n"
        "version_locations = a %(here)s/b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "path_separator_newline": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = newline\n"
        "version_locations =\n    %(here)s/a\n    b with space\n",
        "dirs": ["migrations", "a", "b with space"],
    },
    "deprecated_version_path_separator": {
        "alembic.ini": "[alembic]\nscript_location = migrations\nversion_path_separator = ;\n"
        "version_locations = a;b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "deprecated_version_path_separator_os": {
        "alembic.ini": "[alembic]\nscript_location = migrations\nversion_path_separator = os\n"
        f"version_locations = a{os.pathsep}b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "path_separator_wins_over_version_path_separator": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = ;\n"
        "version_path_separator = space\nversion_locations = a;b\n",
        "dirs": ["migrations", "a", "b"],
    },
    "legacy_split_on_spaces_and_commas": {
        "alembic.ini": "[alembic]\nscript_location = migrations\n"
        "version_locations = %(here)s/a, b  c,d\n",
        "dirs": ["migrations", "a", "b", "c", "d"],
    },
    "flags_template_and_slug": {
        "alembic.ini": "[alembic]\nscript_location = migrations\nrecursive_version_locations = true\n"
        "sourceless = true\ntruncate_slug_length = 12\ntimezone = UTC\n"
        "file_template = %%(year)d/%%(month).2d_%%(rev)s_%%(slug)s\n",
        "dirs": ["migrations/versions"],
    },
    "only_lowercase_true_is_true_and_zero_slug_means_40": {
        "alembic.ini": "[alembic]\nscript_location = migrations\nrecursive_version_locations = True\n"
        "sourceless = yes\ntruncate_slug_length = 0\n",
        "dirs": ["migrations/versions"],
    },
    "named_section": {
        "alembic.ini": "[alembic]\nscript_location = migrations\n\n"
        "[audit_db]\nscript_location = %(here)s/audit\nfile_template = %%(rev)s\n",
        "section": "audit_db",
        "dirs": ["migrations", "audit/versions"],
    },
    "default_interpolation_from_DEFAULT_section": {
        "alembic.ini": "[DEFAULT]\nbase = %(here)s/db\n\n[alembic]\nscript_location = %(base)s/migrations\n"
        "path_separator = os\nversion_locations = %(base)s/v1\n",
        "dirs": ["db/migrations", "db/v1"],
    },
    "pyproject_tool_alembic_only": {
        "pyproject.toml": '[tool.alembic]\nscript_location = "%(here)s/migrations"\n'
        'version_locations = ["%(here)s/v1", "v2"]\nrecursive_version_locations = true\n'
        'file_template = "%%(rev)s_%%(slug)s_x"\ntruncate_slug_length = 20\n',
        "dirs": ["migrations", "v1", "v2"],
    },
    "ini_plus_pyproject_as_alembic_1_16_template": {
        "alembic.ini": "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n",
        "pyproject.toml": '[tool.alembic]\nscript_location = "%(here)s/alembic"\nsourceless = true\n',
        "dirs": ["alembic/versions"],
    },
    "ini_option_wins_over_pyproject": {
        "alembic.ini": "[alembic]\nscript_location = migrations\npath_separator = os\nversion_locations = a\n"
        "file_template = %%(rev)s_ini\n",
        "pyproject.toml": '[tool.alembic]\nscript_location = "other"\nversion_locations = ["b"]\n'
        'file_template = "%%(rev)s_toml"\ntimezone = "UTC"\n',
        "dirs": ["migrations", "other", "a", "b"],
    },
    "package_resource": {
        "alembic.ini": "[alembic]\nscript_location = rgtestapp:migrations\nprepend_sys_path = .\n"
        "path_separator = os\nversion_locations = rgtestapp.db:versions\n",
        "files": {"rgtestapp/__init__.py": "", "rgtestapp/db/__init__.py": ""},
        "dirs": ["rgtestapp/migrations", "rgtestapp/db/versions"],
    },
}

# Runs in a child process, once, for every case: alembic's own reading.
ALEMBIC_PROBE = r"""
import json, os, sys, warnings
from alembic.config import Config
from alembic.script import ScriptDirectory

out = {}
for case in json.load(sys.stdin):
    os.chdir(case["dir"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = Config(
            file_=case["ini"], toml_file=case["toml"], ini_section=case["section"] or "alembic"
        )
        script = ScriptDirectory.from_config(cfg)
        locations = [str(p) for p in script._version_locations]
    out[case["name"]] = {
        "script_location": os.path.abspath(script.dir),
        "version_locations": locations,
        "recursive": script.recursive_version_locations,
        "sourceless": script.sourceless,
        "file_template": script.file_template,
        "truncate_slug_length": script.truncate_slug_length,
        "timezone": script.timezone,
        "separator_warning": any("separator" in str(w.message) for w in caught),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def alembic_says(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Build every case on disk and ask alembic about all of them in one child process."""
    base = tmp_path_factory.mktemp("differential")
    requests = []
    for name, case in CASES.items():
        folder = base / name
        make_dirs(folder, *case["dirs"])
        for relative, text in case.get("files", {}).items():
            write(folder / relative, text)
        for config in ("alembic.ini", "pyproject.toml"):
            if config in case:
                (folder / config).write_text(case[config], encoding="utf-8")
        requests.append(
            {
                "name": name,
                "dir": str(folder),
                "ini": str(folder / "alembic.ini") if "alembic.ini" in case else None,
                "toml": str(folder / "pyproject.toml") if "pyproject.toml" in case else None,
                "section": case.get("section"),
            }
        )
    child = subprocess.run(
        [sys.executable, "-c", ALEMBIC_PROBE],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        check=True,
        cwd=base,
    )
    answers = json.loads(child.stdout)
    return {name: (base / name, answers[name]) for name in CASES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_environment_matches_alembic_script_directory(alembic_says, case: str) -> None:
    folder, alembic = alembic_says[case]
    # Started from a subfolder: relative paths must still mean what they mean to alembic run beside the ini.
    start = folder / "somewhere" / "deeper"
    start.mkdir(parents=True)
    project = load_project(start, section=CASES[case].get("section"))

    assert project.root == folder
    (env,) = project.environments
    assert norm(env.script_location) == norm(alembic["script_location"])
    assert [norm(p) for p in env.version_locations] == [norm(p) for p in alembic["version_locations"]]
    assert env.recursive == alembic["recursive"]
    assert env.sourceless == alembic["sourceless"]
    assert env.file_template == alembic["file_template"]
    assert env.truncate_slug_length == alembic["truncate_slug_length"]
    assert env.timezone == alembic["timezone"]
    warned = any("separator" in w for w in project.warnings)
    assert warned == alembic["separator_warning"]


# ------------------------------------------------------------ alembic.ini


def test_here_is_the_folder_of_the_ini_file(tmp_path: Path) -> None:
    make_dirs(tmp_path, "db/migrations/versions")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = %(here)s/db/migrations\n")
    (env,) = load_project(tmp_path).environments
    assert env.script_location == tmp_path / "db" / "migrations"
    assert env.version_locations == (tmp_path / "db" / "migrations" / "versions",)
    assert env.template_path == tmp_path / "db" / "migrations" / "script.py.mako"
    assert env.config_file == tmp_path / "alembic.ini"
    assert env.name == "default" and env.section == "alembic"


def test_file_template_percent_escapes_are_undone(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\nfile_template = %%(rev)s_%%(slug)s_100%%\n")
    (env,) = load_project(tmp_path).environments
    assert env.file_template == "%(rev)s_%(slug)s_100%"


def test_unknown_alembic_keys_are_kept_as_options_and_other_sections_are_not_interpolated(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(
        tmp_path / "alembic.ini",
        """
        [alembic]
        script_location = m
        output_encoding = latin-1
        revision_environment = true

        [formatter_generic]
        format = %(levelname)-5.5s [%(name)s] %(message)s
        """,
    )
    (env,) = load_project(tmp_path).environments
    assert env.options["output_encoding"] == "latin-1"
    assert env.options["revision_environment"] == "true"
    assert "script_location" not in env.options and "here" not in env.options


def test_named_section_gives_the_environment_that_name(tmp_path: Path) -> None:
    make_dirs(tmp_path, "main", "audit")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = main\n[audit_db]\nscript_location = audit\n")
    (env,) = load_project(tmp_path, section="audit_db").environments
    assert env.name == "audit_db"
    assert env.section == "audit_db"
    assert env.script_location == tmp_path / "audit"


# ---------------------------------------- several environments in one alembic.ini
TWO_SECTIONS = "[alembic]\nscript_location = main\n\n[analytics]\nscript_location = %(here)s/stats\n"


def test_every_section_with_a_script_location_is_an_environment(tmp_path: Path) -> None:
    # alembic's documented multi-environment layout (`alembic -n analytics ...`):
    # the second environment went unchecked unless listed in [tool.revgraph.environments].
    make_dirs(tmp_path, "main", "stats")
    write(tmp_path / "alembic.ini", TWO_SECTIONS + "\n[loggers]\nkeys = root\n")
    project = load_project(tmp_path)
    default, analytics = project.environments
    assert (default.name, default.section, default.script_location) == ("default", "alembic", tmp_path / "main")
    assert default.lock_file == tmp_path / "main" / "revgraph.lock"
    assert (analytics.name, analytics.section) == ("analytics", "analytics")
    assert analytics == replace(load_project(tmp_path, section="analytics").environments[0], lock_file=analytics.lock_file)
    assert analytics.lock_file == tmp_path / "stats" / "revgraph.lock"
    assert project.warnings == ()
    assert load_project(tmp_path, env="analytics").environments == (analytics,)
    (chosen,) = load_project(tmp_path, section="alembic").environments  # -n picks one, as in alembic
    assert chosen.name == "alembic" and chosen.script_location == tmp_path / "main"
    # -c names the file: its sections are found the same way.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    named = load_project(elsewhere, config_file=tmp_path / "alembic.ini")
    assert [(e.name, e.lock_file) for e in named.environments] == [
        ("default", default.lock_file), ("analytics", analytics.lock_file)]  # fmt: skip
    (one,) = load_project(elsewhere, config_file=tmp_path / "alembic.ini", section="analytics").environments
    assert one.name == "analytics"


def test_a_section_per_database_url_over_the_same_migrations_is_one_environment(tmp_path: Path) -> None:
    make_dirs(tmp_path, "main")
    write(
        tmp_path / "alembic.ini",
        "[alembic]\nscript_location = main\nsqlalchemy.url = sqlite:///prod.db\n\n"
        "[test]\nscript_location = %(here)s/main\nsqlalchemy.url = sqlite:///test.db\n",
    )
    (env,) = load_project(tmp_path).environments
    assert env.name == "default"


def test_a_section_over_other_folders_of_the_same_script_location_keeps_a_lock_file_of_its_own(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m/a", "m/b")
    write(
        tmp_path / "alembic.ini",
        "[alembic]\nscript_location = m\nversion_locations = %(here)s/m/a\n\n"
        "[other]\nscript_location = m\nversion_locations = %(here)s/m/b\n",
    )
    default, other = load_project(tmp_path).environments
    assert default.lock_file == tmp_path / "m" / "revgraph.lock"
    assert other.lock_file == tmp_path / "m" / "b" / "revgraph.lock"
    # A third over m/b and m/c would take m/b's lock file too: left out, with a warning.
    make_dirs(tmp_path, "m/c")
    with (tmp_path / "alembic.ini").open("a") as ini:
        ini.write("\n[third]\nscript_location = m\nversion_locations = %(here)s/m/b %(here)s/m/c\n")
    project = load_project(tmp_path)
    assert [e.name for e in project.environments] == ["default", "other"]
    assert any("[third] would share the lock file" in w and "'third' left out" in w for w in project.warnings)


def test_without_an_alembic_section_the_named_sections_are_the_environments(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m", "n")
    write(tmp_path / "alembic.ini", "[app]\nscript_location = m\n\n[other]\nscript_location = n\n")
    assert [(e.name, e.script_location) for e in load_project(tmp_path).environments] == [
        ("app", tmp_path / "m"), ("other", tmp_path / "n")]  # fmt: skip
    write(tmp_path / "alembic.ini", "[other]\nscript_location = m\n")
    (only,) = load_project(tmp_path).environments
    assert only.name == "other"


def test_defaults_inherited_by_every_section_make_no_environment_of_them(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[DEFAULT]\nscript_location = m\n\n[alembic]\n\n[loggers]\nkeys = root\n")
    (env,) = load_project(tmp_path).environments
    assert env.name == "default" and env.script_location == tmp_path / "m"


def test_a_broken_extra_section_is_left_out_with_a_warning_unless_asked_for(tmp_path: Path) -> None:
    make_dirs(tmp_path, "main")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = main\n\n[old]\nscript_location = gone\n")
    project = load_project(tmp_path)
    assert [e.name for e in project.environments] == ["default"]
    (warning,) = project.warnings
    assert "[old] script_location" in warning and "not a directory" in warning and "'old' left out" in warning
    expect_error(ConfigError, "[old] script_location", "not a directory", start=tmp_path, env="old")
    write(tmp_path / "alembic.ini", "[new]\nscript_location = gone\n[old]\nscript_location = gone\n")
    expect_error(ConfigError, "no environment could be read", "'new' left out", "'old' left out", start=tmp_path)


def test_the_lock_file_setting_stays_with_the_alembic_section(tmp_path: Path) -> None:
    make_dirs(tmp_path, "main", "stats")
    write(tmp_path / "alembic.ini", TWO_SECTIONS)
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nlock_file = "locks/heads.lock"\n')
    default, analytics = load_project(tmp_path).environments
    assert default.lock_file == tmp_path / "locks" / "heads.lock"
    assert analytics.lock_file == tmp_path / "stats" / "revgraph.lock"


def test_tool_revgraph_environments_replace_the_sections_found(tmp_path: Path) -> None:
    make_dirs(tmp_path, "main", "stats")
    write(tmp_path / "alembic.ini", TWO_SECTIONS)
    write(tmp_path / "pyproject.toml", '[tool.revgraph.environments]\nmain = { config = "alembic.ini" }\n')
    assert [e.name for e in load_project(tmp_path).environments] == ["main"]


def test_relative_script_location_is_relative_to_the_ini_not_the_start(tmp_path: Path) -> None:
    make_dirs(tmp_path, "migrations", "src/migrations")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = migrations\n")
    project = load_project(tmp_path / "src")
    assert project.environments[0].script_location == tmp_path / "migrations"
    assert project.warnings == ()


def test_ini_in_a_subfolder_with_paths_relative_to_where_alembic_runs_is_followed_with_a_warning(
    tmp_path: Path,
) -> None:
    # Written for `alembic -c db/alembic.ini` run from tmp_path: db/migrations is relative to cwd.
    make_dirs(tmp_path, "db/migrations")
    write(tmp_path / "db" / "alembic.ini", "[alembic]\nscript_location = db/migrations\n")
    project = load_project(tmp_path, config_file=Path("db/alembic.ini"))
    assert project.environments[0].script_location == tmp_path / "db" / "migrations"
    assert any("%(here)s" in w and "working directory" in w for w in project.warnings)


def test_package_resource_is_found_without_importing_the_application(tmp_path: Path) -> None:
    # Importing this package would fail loudly: revgraph must locate it without running it.
    write(tmp_path / "rg_noimport_app" / "__init__.py", "raise RuntimeError('imported!')\n")
    make_dirs(tmp_path, "rg_noimport_app/migrations/versions")
    write(
        tmp_path / "alembic.ini",
        "[alembic]\nscript_location = rg_noimport_app:migrations\nprepend_sys_path = .\npath_separator = os\n",
    )
    (env,) = load_project(tmp_path).environments
    assert env.script_location == tmp_path / "rg_noimport_app" / "migrations"
    assert "rg_noimport_app" not in sys.modules


def test_a_relative_prepend_sys_path_is_also_taken_from_where_revgraph_starts(tmp_path: Path) -> None:
    # QA (config fuzzer): `alembic -c conf/alembic.ini heads` run from the top finds pkg/
    # through `prepend_sys_path = .` (the working directory); revgraph looked beside the ini only.
    write(tmp_path / "rg_prepend_app" / "__init__.py", "")
    make_dirs(tmp_path, "rg_prepend_app/migs/versions")
    write(tmp_path / "conf" / "alembic.ini",
          "[alembic]\nscript_location = rg_prepend_app:migs\nprepend_sys_path = .\npath_separator = os\n")  # fmt: skip
    (env,) = load_project(tmp_path, config_file=tmp_path / "conf" / "alembic.ini").environments
    assert env.script_location == tmp_path / "rg_prepend_app" / "migs"


def test_only_a_file_named_pyproject_toml_is_read_as_toml(tmp_path: Path) -> None:
    # QA (config fuzzer): alembic reads `-c settings.toml` as an ini file (its basename is
    # not pyproject.toml); revgraph went by the suffix and said "invalid TOML".
    make_dirs(tmp_path, "m/versions")
    write(tmp_path / "settings.toml", "[alembic]\nscript_location = m\n")
    write(tmp_path / "alembic.toml", '[tool.alembic]\nscript_location = "m"\n')

    (env,) = load_project(tmp_path, config_file=tmp_path / "settings.toml").environments

    assert env.script_location == tmp_path / "m"
    with pytest.raises(ConfigError):  # alembic: "No 'script_location' key found in configuration."
        load_project(tmp_path, config_file=tmp_path / "alembic.toml").environments


def test_a_missing_ini_section_named_by_n_says_what_alembic_would_read_instead(tmp_path: Path) -> None:
    # QA (config fuzzer): alembic falls back to [tool.alembic]; revgraph keeps its typo guard
    # and says so.
    make_dirs(tmp_path, "m/versions")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\n')

    error = expect_error(ConfigError, "has no [dev] section", start=tmp_path, section="dev")

    assert "[tool.alembic]" in (error.hint or "") and "mistyped -n" in (error.hint or "")


def test_a_relative_prepend_sys_path_finds_the_package_alembic_finds_first(tmp_path: Path) -> None:
    # Review: with a package of that name both at the top and beside conf/alembic.ini,
    # alembic (run from the top) reads the top one; revgraph read the one beside the ini.
    for where in ("", "conf/"):
        write(tmp_path / f"{where}rg_twice_app" / "__init__.py", "")
        make_dirs(tmp_path, f"{where}rg_twice_app/migs/versions")
    write(tmp_path / "conf" / "alembic.ini",
          "[alembic]\nscript_location = rg_twice_app:migs\nprepend_sys_path = .\npath_separator = os\n")  # fmt: skip
    (env,) = load_project(tmp_path, config_file=tmp_path / "conf" / "alembic.ini").environments
    assert env.script_location == tmp_path / "rg_twice_app" / "migs"


def test_the_file_template_hint_doubles_percent_signs_for_an_ini_named_like_toml(tmp_path: Path) -> None:
    from revgraph.config import Environment
    from revgraph.fixes.merge import _naming_error

    for name, token in (("mypyproject.toml", "%%(rev)s"), ("pyproject.toml", "%(rev)s, ")):
        env = Environment(name="e", script_location=None, version_locations=(), config_file=tmp_path / name)
        hint = _naming_error(env, KeyError("nope")).hint or ""
        assert hint.startswith(f"write file_template with alembic's tokens only: {token}"), (name, hint)


def test_package_resource_of_an_unknown_package_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = rg_no_such_pkg_xyz:migrations\n")
    expect_error(ConfigError, "rg_no_such_pkg_xyz", "not found", start=tmp_path)


# ------------------------------------------------------------ pyproject.toml


def test_pyproject_tool_alembic_alone_is_an_environment(tmp_path: Path) -> None:
    make_dirs(tmp_path, "alembic/versions", "extra")
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.alembic]
        script_location = "%(here)s/alembic"
        version_locations = ["%(here)s/alembic/versions", "extra"]
        file_template = "%%(rev)s_%%(slug)s"
        recursive_version_locations = true
        """,
    )
    (env,) = load_project(tmp_path / "alembic").environments
    assert env.name == "default"
    assert env.config_file == tmp_path / "pyproject.toml"
    assert env.version_locations == (tmp_path / "alembic" / "versions", tmp_path / "extra")
    assert env.file_template == "%(rev)s_%(slug)s"
    assert env.recursive is True


def test_config_file_may_name_a_pyproject_toml(tmp_path: Path) -> None:
    make_dirs(tmp_path, "elsewhere/m")
    write(tmp_path / "elsewhere" / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\n')
    (env,) = load_project(tmp_path, config_file=Path("elsewhere/pyproject.toml")).environments
    assert env.script_location == tmp_path / "elsewhere" / "m"


def test_config_file_naming_the_pyproject_toml_beside_alembic_ini_reads_both_as_alembic_does(tmp_path: Path) -> None:
    # QA: `alembic -c pyproject.toml` still reads ./alembic.ini, whose [alembic] wins;
    # revgraph read the toml alone and named a merge revision by its file_template.
    make_dirs(tmp_path, "m/versions")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "%(here)s/m"\n'
                                       'file_template = "%%(rev)s_toml_%%(slug)s"\n')  # fmt: skip
    write(tmp_path / "alembic.ini", "[alembic]\nfile_template = %%(rev)s_ini_%%(slug)s\n")
    (env,) = load_project(tmp_path, config_file=Path("pyproject.toml")).environments
    (plain,) = load_project(tmp_path).environments
    assert env.file_template == plain.file_template == "%(rev)s_ini_%(slug)s"
    assert env.script_location == plain.script_location == tmp_path / "m"


def test_toml_boolean_option_must_be_a_boolean(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\nsourceless = "true"\n')
    expect_error(ConfigError, "sourceless", "boolean", start=tmp_path)


def test_toml_version_locations_must_be_a_list(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "m"\nversion_locations = "m"\n')
    expect_error(ConfigError, "version_locations", "list of strings", start=tmp_path)


# --------------------------------------------------------------- discovery


def test_upward_search_finds_the_nearest_config_from_a_subdirectory(tmp_path: Path) -> None:
    make_dirs(tmp_path, "outer_m", "inner/m", "inner/pkg/mod")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = outer_m\n")
    write(tmp_path / "inner" / "alembic.ini", "[alembic]\nscript_location = m\n")
    project = load_project(tmp_path / "inner" / "pkg" / "mod")
    assert project.root == tmp_path / "inner"
    assert project.environments[0].script_location == tmp_path / "inner" / "m"


def test_upward_search_skips_a_pyproject_without_alembic_or_revgraph_tables(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m", "sub")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')
    assert load_project(tmp_path / "sub").root == tmp_path


def test_start_may_be_a_file(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    assert load_project(tmp_path / "alembic.ini").root == tmp_path


def test_versions_option_gives_one_default_environment_and_still_reads_settings(tmp_path: Path) -> None:
    make_dirs(tmp_path, "revs", "sub")
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nbase = "origin/develop"\n')
    project = load_project(tmp_path / "sub", versions=Path("../revs"))
    (env,) = project.environments
    assert env.name == "default"
    assert env.script_location is None
    assert env.template_path is None
    assert env.version_locations == (tmp_path / "revs",)
    assert env.lock_file == tmp_path / "revs" / "revgraph.lock"
    assert project.settings.base == "origin/develop"
    assert project.root == tmp_path


def test_versions_option_outside_any_project_roots_at_start(tmp_path: Path) -> None:
    make_dirs(tmp_path, "revs")
    project = load_project(tmp_path, versions=Path("revs"))
    assert project.root == tmp_path
    assert project.settings == ProjectConfig()


# ------------------------------------------------------------ [tool.revgraph]


def test_tool_revgraph_settings_are_parsed(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.revgraph]
        base = "origin/main"
        protected = ["origin/release/*", "origin/main"]
        strategy = "merge"
        lock_file = "db/heads.lock"
        select = ["RG1", "RG301"]
        ignore = "RG403"
        allow_heads = 2
        """,
    )
    project = load_project(tmp_path)
    settings = project.settings
    assert settings.base == "origin/main"
    assert settings.protected == ("origin/release/*", "origin/main")
    assert settings.strategy == "merge"
    assert settings.select == ("RG1", "RG301")
    assert settings.ignore == ("RG403",)
    assert settings.heads_allowed("anything") == 2
    (env,) = project.environments
    assert env.lock_file == tmp_path / "db" / "heads.lock"
    assert env.allow_heads == 2
    assert project.settings_file == tmp_path / "pyproject.toml"
    assert project.warnings == ()


def test_select_and_ignore_take_a_string_of_codes_separated_by_commas_or_spaces(tmp_path: Path) -> None:
    from revgraph.rules import split_codes

    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nselect = "RG1, RG203"\nignore = "rg101 RG104,RG105"\n')
    settings = load_project(tmp_path).settings
    assert settings.select == ("RG1", "RG203")
    assert settings.ignore == ("RG101", "RG104", "RG105")
    assert split_codes(["RG1, RG203", "rg3 RG401"]) == ("RG1", "RG203", "RG3", "RG401")  # --select as given


@pytest.mark.parametrize("table", ['ignore = ["ALL"]', 'select = ["RG1"]\nignore = "RG1"'])
def test_an_ignore_setting_that_leaves_no_rule_is_refused(tmp_path: Path, table: str) -> None:
    # As `select = []`: check would answer "All good" whatever the history holds.
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", f"[tool.revgraph]\n{table}\n")
    with pytest.raises(ConfigError, match="leaves no rule to run"):
        load_project(tmp_path)
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nignore = ["RG1"]\n')
    assert load_project(tmp_path).settings.ignore == ("RG1",)


def test_a_service_named_by_a_project_above_belongs_to_that_project(tmp_path: Path) -> None:
    # Started in svc/ (or below it), revgraph takes the root project's environment
    # that names svc/alembic.ini, with the root's settings: its `protected` names
    # refs whose revisions must never move, wherever revgraph starts.
    make_dirs(tmp_path, "svc/m/versions", "other/m/versions")
    for service in ("svc", "other"):
        write(tmp_path / service / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml",
          '[tool.revgraph]\nprotected = ["release/*"]\n'
          '[tool.revgraph.environments.api]\nconfig = "svc/alembic.ini"\nlock_file = "locks/api.lock"\n'
          '[tool.revgraph.environments.web]\nversions = ["other/m/versions"]\n')
    for start in (tmp_path / "svc", tmp_path / "svc" / "m" / "versions"):
        service = load_project(start)
        assert service.root == tmp_path and service.settings_file == tmp_path / "pyproject.toml"
        assert service.settings.protected == ("release/*",)
        assert [e.name for e in service.environments] == ["api"]
        assert service.environments[0].lock_file == tmp_path / "locks" / "api.lock"
        assert service.outer is None and not service.warnings
    assert find_project_dir(tmp_path / "svc") == tmp_path
    assert [e.name for e in load_project(tmp_path / "svc", env="web").environments] == ["web"]
    # A service the root does not name keeps its own folder.
    assert load_project(tmp_path / "other").root == tmp_path / "other"
    assert [e.name for e in load_project(tmp_path).environments] == ["api", "web"]


def test_a_service_two_environments_above_name_is_covered_by_both(tmp_path: Path) -> None:
    # Two sections of one service's alembic.ini, each an environment of the root.
    make_dirs(tmp_path, "svc/m/versions", "svc/n/versions", "lone/versions")
    write(tmp_path / "svc" / "alembic.ini", "[alembic]\nscript_location = m\n[audit]\nscript_location = n\n")
    write(tmp_path / "pyproject.toml",
          '[tool.revgraph.environments.api]\nconfig = "svc/alembic.ini"\n'
          '[tool.revgraph.environments.lone]\nversions = ["lone/versions"]\nlock_file = "lone.lock"\n'
          '[tool.revgraph.environments.audit]\nconfig = "svc/alembic.ini"\nsection = "audit"\n')
    assert [e.name for e in load_project(tmp_path / "svc").environments] == ["api", "audit"]
    assert [e.name for e in load_project(tmp_path / "svc", env="lone").environments] == ["lone"]


def test_a_section_picked_in_a_service_folder_says_whose_settings_it_runs_without(tmp_path: Path) -> None:
    # -n NAME picks a section of svc/alembic.ini itself: the root's `protected` is
    # not read then, so the run says where it would be.
    make_dirs(tmp_path, "svc/m/versions")
    write(tmp_path / "svc" / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml",
          '[tool.revgraph]\nprotected = ["release/*"]\n[tool.revgraph.environments.api]\nconfig = "svc/alembic.ini"\n')
    service = load_project(tmp_path / "svc", section="alembic")
    [note] = [w for w in service.warnings if "names this alembic.ini" in w]
    assert "environment 'api'" in note and "protected refs" in note and "revgraph -C .. --env api" in note
    assert service.outer == (tmp_path / "pyproject.toml", "api", ("protected",))


def test_fix_in_a_service_refuses_when_the_project_above_decides_what_has_landed(tmp_path: Path, capsys) -> None:
    # With -n the service's own section is taken, without the root's `protected`
    # (refs whose revisions must never move): fix moves nothing and names the
    # command that would know them.
    from revgraph import cli

    make_dirs(tmp_path, "svc/m/versions")
    write(tmp_path / "svc" / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml",
          '[tool.revgraph]\nprotected = ["release/*"]\n[tool.revgraph.environments.api]\nconfig = "svc/alembic.ini"\n')
    code = cli.run_app(["-C", str(tmp_path / "svc"), "--name", "alembic", "fix", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "sets protected there, which decide what has landed" in err
    assert "hint: run `revgraph -C .. --env api fix`" in err


def test_allow_heads_table_applies_per_environment(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", "[tool.revgraph.allow_heads]\ndefault = 3\nghost = 2\n")
    project = load_project(tmp_path)
    assert project.environments[0].allow_heads == 3
    assert any("ghost" in w for w in project.warnings)
    # Review: with --env the names were checked against the chosen environment
    # alone, so the warning was left out to spare the others; now it is there.
    chosen = load_project(tmp_path, env="default")
    assert [w for w in chosen.warnings if "allow_heads" in w] == [w for w in project.warnings if "allow_heads" in w]


def test_unknown_settings_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nbsae = "main"\n')
    project = load_project(tmp_path)
    assert project.settings.base is None
    assert len(project.warnings) == 1 and "'bsae'" in project.warnings[0]


@pytest.mark.parametrize(
    "toml, needles",
    [
        ('strategy = "squash"', ("strategy", "'rebase' or 'merge'", "'squash'")),
        ("allow_heads = 0", ("allow_heads", "at least 1")),
        ("allow_heads = true", ("allow_heads",)),
        ('allow_heads = { main = "two" }', ("allow_heads.main",)),
        ("protected = [1, 2]", ("protected", "list of strings")),
        ("base = 3", ("base", "string")),
        ('environments = "main"', ("environments", "table")),
    ],
)
def test_invalid_tool_revgraph_values_are_config_errors(tmp_path: Path, toml: str, needles) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    write(tmp_path / "pyproject.toml", f"[tool.revgraph]\n{toml}\n")
    expect_error(ConfigError, "[tool.revgraph]", *needles, start=tmp_path)


# ------------------------------------------------------- several environments


def several_environments(tmp_path: Path) -> Path:
    make_dirs(tmp_path, "migrations/versions", "audit/versions", "reports/versions", "inline/vers")
    write(
        tmp_path / "alembic.ini",
        "[alembic]\nscript_location = %(here)s/migrations\n\n[audit_db]\nscript_location = %(here)s/audit\n",
    )
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.revgraph]
        allow_heads = { audit = 2 }

        [tool.revgraph.environments]
        main = { config = "alembic.ini", section = "alembic" }
        audit = { config = "alembic.ini", section = "audit_db", lock_file = "locks/audit.lock" }
        reports = { versions = "reports/versions" }
        inline = { script_location = "inline", version_locations = ["inline/vers"], file_template = "%%(rev)s" }
        """,
    )
    return tmp_path


def test_several_environments_come_from_tool_revgraph_environments(tmp_path: Path) -> None:
    project = load_project(several_environments(tmp_path))
    by_name = {env.name: env for env in project.environments}
    assert list(by_name) == ["main", "audit", "reports", "inline"]
    assert by_name["main"].script_location == tmp_path / "migrations"
    assert by_name["main"].lock_file == tmp_path / "migrations" / "revgraph.lock"
    assert by_name["audit"].section == "audit_db"
    assert by_name["audit"].script_location == tmp_path / "audit"
    assert by_name["audit"].lock_file == tmp_path / "locks" / "audit.lock"
    assert by_name["audit"].allow_heads == 2 and by_name["main"].allow_heads is None
    assert by_name["reports"].script_location is None
    assert by_name["reports"].version_locations == (tmp_path / "reports" / "versions",)
    assert by_name["reports"].lock_file == tmp_path / "reports" / "versions" / "revgraph.lock"
    assert by_name["inline"].version_locations == (tmp_path / "inline" / "vers",)
    assert by_name["inline"].file_template == "%(rev)s"
    assert project.environment("audit") == (by_name["audit"],)


def test_env_option_builds_only_that_environment(tmp_path: Path) -> None:
    several_environments(tmp_path)
    (tmp_path / "audit").rename(tmp_path / "audit_gone")  # breaks 'audit' only
    project = load_project(tmp_path, env="reports")
    assert [e.name for e in project.environments] == ["reports"]
    expect_error(ConfigError, "audit", "not a directory", start=tmp_path)


def test_unknown_environment_name_is_a_usage_error_listing_the_known_ones(tmp_path: Path) -> None:
    several_environments(tmp_path)
    expect_error(UsageError, "'nope'", "main, audit, reports, inline", start=tmp_path, env="nope")


def test_named_section_overrides_the_environments_table(tmp_path: Path) -> None:
    several_environments(tmp_path)
    (env,) = load_project(tmp_path, section="audit_db").environments
    assert env.name == "audit_db" and env.script_location == tmp_path / "audit"


def test_a_lock_file_shared_by_two_environments_is_a_config_error(tmp_path: Path) -> None:
    make_dirs(tmp_path, "a", "b")
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.revgraph]
        lock_file = "heads.lock"
        [tool.revgraph.environments]
        a = { versions = "a" }
        b = { versions = "b" }
        """,
    )
    expect_error(ConfigError, "'a'", "'b'", "heads.lock", start=tmp_path)


@pytest.mark.parametrize(
    "entry, needles",
    [
        ('x = { config = "alembic.ini", versions = "a" }', ("exactly one of",)),
        ('x = { section = "alembic" }', ("exactly one of",)),
        ('x = "alembic.ini"', ("must be a table",)),
        ('x = { versions = "missing" }', ("missing", "not a directory")),
        ('x = { config = "missing.ini" }', ("missing.ini", "not found")),
        ('x = { versions = "a", recursive_version_locations = "yes" }', ("recursive_version_locations",)),
    ],
)
def test_broken_environment_entries_are_config_errors(tmp_path: Path, entry: str, needles) -> None:
    make_dirs(tmp_path, "a")
    write(tmp_path / "pyproject.toml", f"[tool.revgraph.environments]\n{entry}\n")
    expect_error(ConfigError, *needles, start=tmp_path)


def test_unknown_keys_in_an_environment_entry_warn(tmp_path: Path) -> None:
    make_dirs(tmp_path, "a")
    write(tmp_path / "pyproject.toml", '[tool.revgraph.environments]\nx = { versions = "a", colour = "red" }\n')
    project = load_project(tmp_path)
    assert any("'colour'" in w and "environments.x" in w for w in project.warnings)


# ------------------------------------------------------------ versions paths


def test_versions_relative_to_gives_posix_paths_inside_the_root(tmp_path: Path) -> None:
    env = Environment(
        name="e",
        script_location=None,
        version_locations=(tmp_path / "db" / "versions", tmp_path),
    )
    assert env.versions_relative_to(tmp_path) == ("db/versions", "")


def test_versions_relative_to_follows_symlinked_roots(tmp_path: Path) -> None:
    make_dirs(tmp_path, "real/v")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    env = Environment(name="e", script_location=None, version_locations=(tmp_path / "link" / "v",))
    assert env.versions_relative_to(tmp_path / "real") == ("v",)


def test_versions_outside_the_root_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    env = Environment(name="e", script_location=None, version_locations=(tmp_path / "outside",))
    with pytest.raises(ConfigError) as info:
        env.versions_relative_to(tmp_path / "repo")
    assert info.value.exit_code == 2 and "outside" in info.value.message


def test_a_missing_version_location_outside_the_root_is_left_out_as_alembic_skips_it(tmp_path: Path) -> None:
    env = Environment(name="e", script_location=None,
                      version_locations=(tmp_path / "repo" / "versions", tmp_path / "gone"))  # fmt: skip
    assert env.versions_relative_to(tmp_path / "repo") == ("versions",)
    alone = Environment(name="e", script_location=None, version_locations=(tmp_path / "gone",))
    with pytest.raises(ConfigError):  # alone it is the environment: a ref's settings naming it cannot be used
        alone.versions_relative_to(tmp_path / "repo")


# ------------------------------------------------------------------ errors


def test_nothing_found_is_a_config_error_that_says_what_to_pass(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    error = expect_error(ConfigError, start=tmp_path / "empty")
    assert error.message == (
        f"no Alembic environment found in {tmp_path / 'empty'} or its parents; "
        "pass -c alembic.ini or --versions DIR"
    )


def test_nothing_found_in_a_monorepo_root_names_the_configs_below(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    for service in ("api", "billing", ".hidden", "node_modules"):
        (root / "services" / service).mkdir(parents=True)
    (root / "services" / "api" / "alembic.ini").write_text("[alembic]\nscript_location = m\n")
    (root / "services" / "billing" / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "m"\n')
    (root / "services" / ".hidden" / "alembic.ini").write_text("[alembic]\n")
    (root / "services" / "node_modules" / "alembic.ini").write_text("[alembic]\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.alembic]
    error = expect_error(ConfigError, start=root)
    assert error.hint is not None
    assert "found services/api/alembic.ini, services/billing/pyproject.toml:" in error.hint
    assert "-C services/api" in error.hint and "[tool.revgraph.environments]" in error.hint
    assert "hidden" not in error.hint and "node_modules" not in error.hint and "pkg" not in error.hint
    assert expect_error(ConfigError, start=root / "pkg").hint is None  # nothing below: no hint


@pytest.mark.parametrize(
    "ini, needles",
    [
        ("script_location = m\n", ("cannot parse", "section header")),
        ("[alembic]\nscript_location = m\nscript_location = n\n", ("cannot parse", "script_location")),
        ("[alembic]\nsqlalchemy.url = x\n", ("no 'script_location'",)),
        ("[alembic]\nscript_location = m\nfile_template = %(rev)s_%(slug)s\n", ("file_template", "%%")),
        ("[alembic]\nscript_location = nowhere\n", ("script_location", "not a directory")),
        ("[alembic]\nscript_location = m\nversion_locations = a,b\npath_separator = comma\n",
         ("path_separator", "'comma'", "not valid")),
        ("[alembic]\nscript_location = m\ntruncate_slug_length = long\n", ("truncate_slug_length", "whole number")),
    ],
)
def test_broken_alembic_ini_is_a_one_line_config_error(tmp_path: Path, ini: str, needles) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", ini)
    expect_error(ConfigError, str(tmp_path / "alembic.ini"), *needles, start=tmp_path)


def test_missing_named_section_is_a_config_error(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\n")
    expect_error(ConfigError, "no [audit_db] section", start=tmp_path, section="audit_db")


def test_undecodable_ini_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_bytes(b"[alembic]\nscript_location = \xff\xfe\n")
    expect_error(ConfigError, "cannot read", start=tmp_path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.revgraph\nbase = 1\n")
    expect_error(ConfigError, "pyproject.toml", "invalid TOML", start=tmp_path)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    expect_error(ConfigError, "nope.ini", "not found", start=tmp_path, config_file=Path("nope.ini"))


def test_pyproject_named_by_config_file_needs_tool_alembic(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    expect_error(ConfigError, "[tool.alembic]", start=tmp_path, config_file=Path("pyproject.toml"))


def test_missing_versions_folder_is_a_config_error(tmp_path: Path) -> None:
    expect_error(ConfigError, "--versions", "not a directory", start=tmp_path, versions=Path("nope"))


def test_tool_revgraph_without_any_environment_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nbase = "main"\n')
    expect_error(ConfigError, "[tool.revgraph]", "no alembic.ini", "--versions DIR", start=tmp_path)


def test_bad_percent_substitution_in_tool_alembic_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "%(nothere)s/m"\n')
    expect_error(ConfigError, "[tool.alembic]", "script_location", "%%", start=tmp_path)


def test_options_that_do_not_interpolate_are_left_out_rather_than_fatal(tmp_path: Path) -> None:
    make_dirs(tmp_path, "m")
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = m\nsqlalchemy.url = pg://u:p%ss@h/db\n")
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nodd = "100%"\noutput_encoding = "utf-8"\n')
    (env,) = load_project(tmp_path).environments
    assert env.options == {"output_encoding": "utf-8"}


# ------------------------------------------------------------- Flask-Migrate

# What `flask db init` writes: the ini sits in the migration folder and has no
# script_location; Flask-Migrate sets it to that folder before alembic reads it.
FLASK_MIGRATE_INI = """
# A generic, single database configuration.

[alembic]
# template used to generate migration files
# file_template = %%(rev)s_%%(slug)s

# set to 'true' to run the environment during
# the 'revision' command, regardless of autogenerate
# revision_environment = false


# Logging configuration
[loggers]
keys = root,sqlalchemy,alembic,flask_migrate

[logger_root]
level = WARN
handlers = console
qualname =

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def _flask_project(root: Path, folder: str = "migrations") -> Path:
    write(root / folder / "alembic.ini", FLASK_MIGRATE_INI)
    write(root / folder / "env.py", "from flask import current_app\n")
    make_dirs(root, f"{folder}/versions")
    return root / folder


@pytest.mark.parametrize("where", ["app root", "migration folder", "below the app root"])
def test_flask_migrate_s_layout_is_one_environment_as_flask_db_sees_it(tmp_path: Path, where: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    folder = _flask_project(tmp_path)
    make_dirs(tmp_path, "app/models")
    start = {"app root": tmp_path, "migration folder": folder, "below the app root": tmp_path / "app" / "models"}[where]

    project = load_project(start)

    (env,) = project.environments
    # Flask-Migrate's own reading: its Config with script_location set to the folder.
    config = Config(str(folder / "alembic.ini"))
    config.set_main_option("script_location", str(folder))
    script = ScriptDirectory.from_config(config)
    assert norm(env.script_location) == norm(script.dir)
    assert [norm(p) for p in env.version_locations] == [norm(p) for p in script._version_locations]
    assert env.file_template == script.file_template
    assert env.lock_file == folder / "revgraph.lock"
    assert env.config_file == folder / "alembic.ini" and env.name == "default"
    assert project.root == (folder if where == "migration folder" else tmp_path)


def test_flask_migrate_s_root_keeps_its_pyproject_settings(tmp_path: Path) -> None:
    _flask_project(tmp_path)
    write(tmp_path / "pyproject.toml", '[tool.revgraph]\nbase = "develop"\n')
    project = load_project(tmp_path)
    assert project.settings.base == "develop"
    assert project.environments[0].script_location == tmp_path / "migrations"


def test_an_ini_without_script_location_elsewhere_is_still_an_error(tmp_path: Path) -> None:
    # No env.py beside it: not Flask-Migrate's folder, and alembic would refuse it too.
    write(tmp_path / "alembic.ini", "[alembic]\nfile_template = %%(rev)s\n")
    expect_error(ConfigError, "no 'script_location' key found", start=tmp_path)


def test_another_flask_migrate_folder_name_is_named_in_the_hint(tmp_path: Path) -> None:
    # `flask db init -d db/migrations`: flask db needs -d each time, and revgraph -c.
    _flask_project(tmp_path, "db/migrations")
    error = expect_error(ConfigError, "no Alembic environment found", start=tmp_path)
    assert "-c db/migrations/alembic.ini" in (error.hint or "")
    (env,) = load_project(tmp_path, config_file=Path("db/migrations/alembic.ini")).environments
    assert env.script_location == tmp_path / "db" / "migrations"


def test_the_hint_for_a_flask_app_below_names_the_app_folder(tmp_path: Path) -> None:
    _flask_project(tmp_path / "services" / "api")
    error = expect_error(ConfigError, "no Alembic environment found", start=tmp_path)
    assert "revgraph -C services/api ..." in (error.hint or "")


def test_an_ini_of_another_name_in_a_sub_folder_is_not_offered_to_minus_c_dir(tmp_path: Path) -> None:
    # A tester: conf/db.ini; the hint's first suggestion, `revgraph -C conf ...`, failed
    # again: only an alembic.ini is found by itself.
    make_dirs(tmp_path, "conf/migrations/versions")
    write(tmp_path / "conf" / "db.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    error = expect_error(ConfigError, "no Alembic environment found", start=tmp_path)
    assert "-C conf" not in (error.hint or "")
    assert "found conf/db.ini with an [alembic] section: pass -c conf/db.ini" in (error.hint or "")
    (env,) = load_project(tmp_path, config_file=tmp_path / "conf" / "db.ini").environments  # the hint works
    assert env.script_location == tmp_path / "conf" / "migrations"


def test_an_ini_of_another_name_with_an_alembic_section_is_named_in_the_hint(tmp_path: Path) -> None:
    # Pyramid's cookiecutter keeps [alembic] in development.ini (alembic -c development.ini).
    make_dirs(tmp_path, "myproject/alembic/versions")
    write(tmp_path / "development.ini", "[app:main]\nuse = egg:myproject\n\n[alembic]\nscript_location = myproject/alembic\n")
    write(tmp_path / "pytest.ini", "[pytest]\naddopts = -q\n")
    error = expect_error(ConfigError, "no Alembic environment found", start=tmp_path)
    assert "found development.ini with an [alembic] section: pass -c development.ini" in (error.hint or "")
    assert "pytest.ini" not in (error.hint or "")
    # What the hint says to write works.
    write(tmp_path / "pyproject.toml", '[tool.revgraph.environments]\ndefault = { config = "development.ini" }\n')
    (env,) = load_project(tmp_path).environments
    assert env.script_location == tmp_path / "myproject" / "alembic"


# ------------------------------------------------- lock_file: where it may go
def _lock_setting_project(tmp_path: Path, lock: str, *, ini_extra: str = "", entry: bool = False) -> None:
    make_dirs(tmp_path, "m/versions/sub")
    write(tmp_path / "alembic.ini", f"[alembic]\nscript_location = m\n{ini_extra}")
    if entry:
        write(tmp_path / "pyproject.toml",
              f'[tool.revgraph.environments]\nmain = {{ config = "alembic.ini", lock_file = "{lock}" }}\n')  # fmt: skip
    else:
        write(tmp_path / "pyproject.toml", f'[tool.revgraph]\nlock_file = "{lock}"\n')


@pytest.mark.parametrize("entry", [False, True], ids=["tool.revgraph", "environment-entry"])
def test_a_py_lock_file_in_a_versions_folder_is_a_config_error(tmp_path: Path, entry: bool) -> None:
    _lock_setting_project(tmp_path, "m/versions/heads.py", entry=entry)
    where = "[tool.revgraph.environments.main] lock_file" if entry else "[tool.revgraph] lock_file"
    error = expect_error(ConfigError, where, "'m/versions/heads.py'", "as a revision", start=tmp_path)
    assert error.hint and "revgraph.lock" in error.hint


def test_a_lock_file_below_the_versions_folder_counts_only_where_alembic_looks(tmp_path: Path) -> None:
    _lock_setting_project(tmp_path, "m/versions/sub/heads.py")
    assert load_project(tmp_path).environments[0].lock_file == tmp_path / "m" / "versions" / "sub" / "heads.py"
    _lock_setting_project(tmp_path, "m/versions/sub/heads.py", ini_extra="recursive_version_locations = true\n")
    expect_error(ConfigError, "as a revision", start=tmp_path)


def test_a_compiled_lock_file_in_a_versions_folder_is_refused_only_where_alembic_reads_sourceless(tmp_path: Path) -> None:
    for name in ("m/versions/heads.pyc", "m/versions/__pycache__/heads.pyo"):
        _lock_setting_project(tmp_path, name)
        assert load_project(tmp_path).environments[0].lock_file == tmp_path / name
        _lock_setting_project(tmp_path, name, ini_extra="sourceless = true\n")
        expect_error(ConfigError, repr(name), "as a revision", start=tmp_path)


def test_a_lock_file_in_another_environments_versions_folder_is_refused(tmp_path: Path) -> None:
    make_dirs(tmp_path, "a", "b")
    write(tmp_path / "pyproject.toml", """
        [tool.revgraph.environments]
        a = { versions = "a", lock_file = "b/heads.py" }
        b = { versions = "b" }
        """)  # fmt: skip
    expect_error(ConfigError, "[tool.revgraph.environments.a] lock_file", "as a revision", start=tmp_path)


@pytest.mark.parametrize("lock", [".git/x.lock", ".git/hooks/revgraph.lock", "sub/../.git/x.lock"])
def test_a_lock_file_inside_dot_git_is_a_config_error(tmp_path: Path, lock: str) -> None:
    _lock_setting_project(tmp_path, lock)
    expect_error(ConfigError, "[tool.revgraph] lock_file", "inside .git", start=tmp_path)


@pytest.mark.parametrize("lock", ["m/versions/revgraph.lock", "m/heads.py", "db/sub/revgraph.lock", ".github.lock"])
def test_a_lock_file_alembic_never_loads_is_accepted(tmp_path: Path, lock: str) -> None:
    _lock_setting_project(tmp_path, lock)
    assert load_project(tmp_path).environments[0].lock_file == tmp_path / lock
