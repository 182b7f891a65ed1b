"""The fix commands `check` prints work when pasted where revgraph was run.

Found on a monorepo layout (the project in `backend/`, revgraph run there, as
it must be to find `backend/alembic.ini`): RG403's `git mv` and RG202's
`git restore` named files from the repository's top (`backend/migrations/...`),
so pasted into that shell they named nothing ("pathspec did not match"). Paths
in messages and locations stay relative to the top (GitHub annotations and
SARIF need that); a command names files from the directory it is run in, as
git's own hints do. Outside git, RG403 offers `mv`, since `git mv` cannot run.
Each test runs the printed command with a shell, in that directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.support import GitRepo
from tests.support.gitrepo import _MINIMAL_INI, EXAMPLE_MIGRATIONS, TEMPLATES
from tests.support.gitrepo import run_module

ROOT = "a0a0a0a0a0a0"
LANDED = "a1a1a1a1a1a1"
VERSIONS = "backend/migrations/versions"


def backend_project(repo: GitRepo) -> None:
    """An alembic project in backend/ of the repository, with two landed revisions on main."""
    repo.write("backend/alembic.ini", _MINIMAL_INI)
    repo.write("backend/migrations/env.py", (EXAMPLE_MIGRATIONS / "env.py").read_bytes())
    repo.write("backend/migrations/script.py.mako", TEMPLATES["typed"])
    repo.add_revision(ROOT, None, message="root", versions=VERSIONS)
    repo.add_revision(LANDED, ROOT, message="landed", versions=VERSIONS)
    repo.commit("backend project")


def finding(repo: GitRepo, code: str, *where: str, args: tuple[str, ...] = ()) -> dict:
    done = repo.run(*where, "check", "--format", "json", *args)
    [hit] = [f for f in json.loads(done.stdout)["findings"] if f["code"] == code]
    return hit


def paste(command: str, cwd: Path, env) -> None:
    """Run ``command`` as a user pasting it into a shell in ``cwd`` would."""
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{command!r} in {cwd}: {done.stderr}"


def test_rg403_rename_runs_in_the_project_folder_and_below_it(gitrepo):
    backend_project(gitrepo)
    unnamed = f"{VERSIONS}/add_things.py"
    gitrepo.write(unnamed, gitrepo.read(gitrepo.add_revision("b0b0b0b0b0b0", LANDED, message="things",
                                                             versions=VERSIONS)))
    gitrepo.remove(f"{VERSIONS}/b0b0b0b0b0b0_things.py")
    gitrepo.git("add", "-A")

    deeper = finding(gitrepo, "RG403", "-C", "backend/migrations")
    hit = finding(gitrepo, "RG403", "-C", "backend")  # the cache must not answer with deeper's
    assert hit["locations"][0]["path"] == unnamed  # still from the top, as annotations need
    assert hit["fix"] == ("git mv -- migrations/versions/add_things.py "
                          "migrations/versions/b0b0b0b0b0b0_add_things.py")
    assert deeper["fix"] == "git mv -- versions/add_things.py versions/b0b0b0b0b0b0_add_things.py"
    assert finding(gitrepo, "RG403", "-C", "backend/migrations")["fix"] == deeper["fix"]  # from the cache
    paste(hit["fix"], gitrepo.path / "backend", gitrepo.env)
    assert (gitrepo.path / VERSIONS / "b0b0b0b0b0b0_add_things.py").is_file()
    assert gitrepo.run("-C", "backend", "check").returncode == 0


def test_rg202_restore_runs_in_the_project_folder(gitrepo):
    backend_project(gitrepo)
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    [landed] = [p for p in gitrepo.ls_files() if LANDED in p]
    gitrepo.git("rm", "-q", landed)
    gitrepo.commit("drop a landed revision")

    hit = finding(gitrepo, "RG202", "-C", "backend", args=("--base", "main"))
    assert hit["fix"] == f"git restore --source=main --staged --worktree -- {landed.removeprefix('backend/')}"
    paste(hit["fix"], gitrepo.path / "backend", gitrepo.env)
    assert gitrepo.run("-C", "backend", "check", "--base", "main").returncode == 0


def unnamed_root_outside_git(tmp_path, git_env) -> GitRepo:
    """tmp_path/plain: an alembic project outside git whose one revision's file
    name lacks its id (RG403)."""
    project = GitRepo(tmp_path / "plain", env=git_env)  # its helpers only: no `git init`
    project.path.mkdir()
    project.write("alembic.ini", _MINIMAL_INI)
    project.write("migrations/env.py", (EXAMPLE_MIGRATIONS / "env.py").read_bytes())
    project.write("migrations/script.py.mako", TEMPLATES["typed"])
    written = project.add_revision(ROOT, None, message="root")
    os.rename(project.path / written, project.path / "migrations/versions/root.py")
    return project


def test_outside_git_rg403_renames_with_mv(tmp_path, git_env):
    project = unnamed_root_outside_git(tmp_path, git_env)

    hit = finding(project, "RG403", "-C", "migrations")
    assert hit["fix"] == f"mv -- versions/root.py versions/{ROOT}_root.py"
    paste(hit["fix"], project.path / "migrations", git_env)
    assert (project.path / f"migrations/versions/{ROOT}_root.py").is_file()


def test_started_outside_the_root_the_command_still_names_the_file(tmp_path, git_env):
    # Review: with -c pointing into another folder, the command named the file
    # from the project's root, which is not where it is pasted.
    unnamed_root_outside_git(tmp_path, git_env)

    done = run_module("revgraph", "-c", "plain/alembic.ini", "check", "--format", "json", cwd=tmp_path, env=git_env)
    [hit] = [f for f in json.loads(done.stdout)["findings"] if f["code"] == "RG403"]
    assert hit["fix"] == f"mv -- plain/migrations/versions/root.py plain/migrations/versions/{ROOT}_root.py"
    paste(hit["fix"], tmp_path, git_env)


def test_fix_names_the_file_to_restore_from_the_project_folder(gitrepo):
    # Review: fix's own refusal offered `git restore ... -- backend/migrations/...`
    # in backend/, while check there named the file from there.
    backend_project(gitrepo)
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    [landed] = [p for p in gitrepo.ls_files() if LANDED in p]
    text = gitrepo.read(landed).decode()
    gitrepo.write(landed, text.replace(f"= '{ROOT}'", "= None"))
    gitrepo.commit("re-point a landed revision")

    refused = gitrepo.run("-C", "backend", "fix", "--strategy", "merge", "--base", "main")
    assert refused.returncode == 1, refused
    command = f"git restore --source=main --staged --worktree -- {landed.removeprefix('backend/')}"
    assert f"`{command}`" in refused.stderr, refused.stderr
    paste(command, gitrepo.path / "backend", gitrepo.env)
    assert gitrepo.run("-C", "backend", "check", "--base", "main").returncode == 0


def test_fix_refusal_hint_names_the_config_that_found_the_project(gitrepo):
    # Review: the findings' commands carried --config, fix's own refusals did not:
    # run from the top, the `revgraph fix --strategy merge` they offered found no project.
    backend_project(gitrepo)
    gitrepo.add_revision("b1b1b1b1b1b1", LANDED, message="one", versions=VERSIONS)
    gitrepo.add_revision("c1c1c1c1c1c1", LANDED, message="two", versions=VERSIONS)
    gitrepo.commit("main forks")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.add_revision("d1d1d1d1d1d1", "b1b1b1b1b1b1", message="new", versions=VERSIONS)
    gitrepo.commit("feature")

    done = gitrepo.run("-c", "backend/alembic.ini", "fix", check=1)

    [offered] = re.findall(r"`(revgraph [^`]*--strategy merge[^`]*)` there", done.stderr)
    assert offered.startswith("revgraph --config backend/alembic.ini "), done.stderr
    gitrepo.checkout("main")  # "there": on main
    paste(offered, gitrepo.path, gitrepo.env)
    assert gitrepo.run("-c", "backend/alembic.ini", "check").returncode == 0
