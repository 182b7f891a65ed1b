"""Unusual git layouts (issue 9 §2): no repository, no commits, shallow clones, detached
HEAD, linked worktrees, bare repositories, submodules, sparse checkouts, spaces in paths.

Each either works as in an ordinary clone or stops with a clear one-line error
(exit 2) that says what to do; never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.hostile.corpus import (
    VERSIONS,
    changed_files,
    file_states,
    revision_text,
)
from tests.support.gitrepo import GitRepo

BASE = "a1a1a1a1a1a1"
FEATURE = "f2f2f2f2f2f2"
MAIN = "c3c3c3c3c3c3"


# ------------------------------------------------------------------ helpers
def add(repo: GitRepo, rid: str, down: str | None, folder: str = VERSIONS) -> str:
    rel = f"{folder}/{rid}_rev.py"
    repo.write(rel, revision_text(rid, down, message=f"revision {rid}"))
    return rel


def diverged(repo: GitRepo) -> GitRepo:
    """main: BASE <- MAIN; feature: BASE <- FEATURE (both committed); ends on main."""
    repo.init_env(commit=False)
    add(repo, BASE, None)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    add(repo, FEATURE, BASE)
    repo.commit("feature adds a revision")
    repo.checkout("main")
    add(repo, MAIN, BASE)
    repo.commit("main adds a revision")
    return repo


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60)


def heads_json(outcome) -> list[str]:
    [env] = json.loads(outcome.out)["environments"]
    return env["heads"]


def findings(outcome) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for finding in json.loads(outcome.out)["findings"]:
        found.setdefault(finding["code"], []).append(finding)
    return found


# ---------------------------------------------------------- not a git repo
@pytest.fixture
def plain_folder(tmp_path, monkeypatch) -> Path:
    """An alembic project in a folder that no git repository contains."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "project"
    project = GitRepo(folder)  # only its file helpers: no `git init`
    folder.mkdir()
    project.init_env(commit=False)
    add(project, BASE, None)
    add(project, FEATURE, BASE)
    return folder


def test_outside_git_every_working_tree_command_works(plain_folder, cli):
    assert heads_json(cli(plain_folder, "heads", "--json")) == [FEATURE]
    assert cli(plain_folder, "check").code == 0
    assert cli(plain_folder, "doctor").code == 0
    drawn = cli(plain_folder, "graph")
    assert drawn.code == 0 and FEATURE in drawn.out
    fix = cli(plain_folder, "fix", "--dry-run")
    assert fix.code == 0 and "nothing to fix" in fix.out
    assert cli(plain_folder, "lock").code == 0
    assert cli(plain_folder, "lock", "--check").code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("heads", "--ref", "main"),
        ("check", "--base", "main"),
        ("doctor", "--base", "main"),
        ("graph", "--ref", "main"),
        ("graph", "--base", "main"),
        ("fix", "--dry-run", "--base", "main"),
        ("fix", "--dry-run", "--onto", "main"),
        ("diff", "main"),
    ],
    ids=lambda args: " ".join(args),
)
def test_outside_git_ref_options_fail_with_a_clear_error(plain_folder, cli, args):
    before = file_states(plain_folder)

    result = cli(plain_folder, *args)

    assert result.code == 2, result.text
    assert "needs a git repository" in result.err
    assert "--ref" not in result.err or "--ref" in args  # names what the user typed
    assert len(result.err.strip().splitlines()) <= 2  # the error and its hint, no more
    assert changed_files(before, file_states(plain_folder)) == []


# -------------------------------------------------------------- no commits
def test_a_repository_without_commits_reads_the_working_tree(gitrepo, cli):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, FEATURE, BASE)

    assert heads_json(cli(gitrepo.path, "heads", "--json")) == [FEATURE]
    assert cli(gitrepo.path, "check").code == 0
    assert cli(gitrepo.path, "doctor").code == 0
    assert FEATURE in cli(gitrepo.path, "graph").out
    assert "nothing to fix" in cli(gitrepo.path, "fix", "--dry-run").out


def test_a_repository_without_commits_says_so_for_a_ref(gitrepo, cli):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)

    result = cli(gitrepo.path, "heads", "--ref", "HEAD")

    assert result.code == 2
    assert "no commits yet" in result.err
    assert "fetch" not in result.err  # there is nothing to fetch: the user has not committed
    base = cli(gitrepo.path, "check", "--base", "main")
    assert base.code == 2 and "unknown ref 'main'" in base.err


def test_fix_with_nothing_landed_does_not_claim_one_head_per_line(gitrepo, cli):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, FEATURE, BASE)
    add(gitrepo, MAIN, BASE)
    assert cli(gitrepo.path, "check").code == 1  # RG101: two heads

    result = cli(gitrepo.path, "fix", "--dry-run")

    assert "one head per line" not in result.out
    assert "--strategy merge" in result.out


# ---------------------------------------------------------- shallow clones
def test_a_shallow_single_branch_clone_names_the_fetch_that_brings_the_base(make_gitrepo, tmp_path, cli):
    origin = diverged(make_gitrepo("origin"))
    git(tmp_path, "clone", "-q", "--depth", "1", "--single-branch", "--branch", "feature",
        origin.path.as_uri(), "shallow")  # fmt: skip
    clone = tmp_path / "shallow"

    assert heads_json(cli(clone, "heads", "--json")) == [FEATURE]  # the working tree needs no base
    default = cli(clone, "check")
    assert default.code == 2 and "no base branch found" in default.err and "git fetch" in default.err
    named = cli(clone, "check", "--base", "origin/main")
    assert named.code == 2
    assert "git fetch --unshallow origin main:refs/remotes/origin/main" in named.err


def test_a_shallow_clone_missing_the_merge_base_asks_for_history_not_for_origin_head(
    make_gitrepo, tmp_path, cli
):
    origin = diverged(make_gitrepo("origin"))
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature",
        origin.path.as_uri(), "shallow")  # fmt: skip
    clone = tmp_path / "shallow"

    result = cli(clone, "check")  # base found through origin/HEAD, history cut short

    assert result.code == 2, result.text
    assert "does not reach the merge base" in result.err
    assert "origin main:refs/remotes/origin/main" in result.err
    assert "HEAD:" not in result.err  # fetching into refs/remotes/origin/HEAD would clobber it


# ----------------------------------------------------------- detached HEAD
def test_detached_head_is_checked_and_fixed_like_a_branch(make_gitrepo, cli):
    repo = diverged(make_gitrepo("repo"))
    repo.git("checkout", "-q", "--detach", "feature")
    branches = repo.git("for-each-ref", "refs/heads").stdout

    check = cli(repo.path, "check", "--base", "main", "--format", "json")
    assert check.code == 1 and "RG102" in findings(check)
    repo.git("merge", "-q", "--no-edit", "main")
    fix = cli(repo.path, "fix")

    assert fix.code == 0, fix.text
    assert heads_json(cli(repo.path, "heads", "--json")) == [FEATURE]
    assert cli(repo.path, "check", "--base", "main").code == 0
    assert repo.git("symbolic-ref", "-q", "HEAD", check=None).returncode != 0  # still detached
    assert repo.git("for-each-ref", "refs/heads").stdout == branches


# --------------------------------------------------------- linked worktree
def test_a_linked_worktree_is_fixed_alone_and_shares_the_cache(make_gitrepo, tmp_path, cli):
    repo = diverged(make_gitrepo("repo"))
    linked = tmp_path / "linked worktree"
    repo.git("worktree", "add", "-q", str(linked), "feature")
    main_checkout = {k: v for k, v in file_states(repo.path).items() if "/.git/" not in k}

    assert cli(linked, "check", "--base", "main").code == 1
    git(linked, "merge", "-q", "--no-edit", "main")
    fix = cli(linked, "fix")

    assert fix.code == 0, fix.text
    assert heads_json(cli(linked, "heads", "--json")) == [FEATURE]
    assert cli(linked, "check", "--base", "main").code == 0
    after = {k: v for k, v in file_states(repo.path).items() if "/.git/" not in k}
    assert changed_files(main_checkout, after) == []  # the main checkout was not touched
    assert (repo.path / ".git" / "revgraph").is_dir()  # one cache, in the common git dir
    assert (linked / ".git").is_file()


# ------------------------------------------------------------------- bare
@pytest.fixture
def bare(make_gitrepo, tmp_path) -> Path:
    repo = diverged(make_gitrepo("repo"))
    git(tmp_path, "clone", "-q", "--bare", str(repo.path), "bare.git")
    return tmp_path / "bare.git"


def test_a_bare_repository_refuses_working_tree_commands_clearly(bare, cli):
    before = file_states(bare)

    for args in (("fix",), ("lock",), ("check",)):
        result = cli(bare, *args)
        assert result.code == 2, (args, result.text)
        assert result.err.startswith("revgraph: error:")

    assert changed_files(before, file_states(bare)) == []


def test_a_bare_repository_reads_a_ref_given_the_versions_folder(bare, cli):
    result = cli(bare, "--versions", VERSIONS, "heads", "--ref", "feature", "--json")

    assert result.code == 0, result.text
    assert heads_json(result) == [FEATURE]


# -------------------------------------------------------------- submodule
def test_migrations_in_a_submodule_are_read_from_the_submodules_git(make_gitrepo, cli):
    db = diverged(make_gitrepo("db"))
    app = make_gitrepo("app")
    app.write("app.py", "print('app')\n")
    app.commit("app")
    app.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(db.path), "db")
    app.commit("db as a submodule")
    sub = app.path / "db"
    git(sub, "checkout", "-q", "feature")
    app_files = {k: v for k, v in file_states(app.path).items() if "/db/" not in k and "/.git/" not in k}

    check = cli(app.path, "-c", "db/alembic.ini", "check", "--base", "main", "--format", "json")
    assert check.code == 1, check.text
    [conflict] = findings(check)["RG102"]
    assert {FEATURE, MAIN} <= set(conflict["revisions"])
    assert heads_json(cli(app.path, "-c", "db/alembic.ini", "heads", "--ref", "main", "--json")) == [MAIN]

    git(sub, "merge", "-q", "--no-edit", "main")
    assert cli(app.path, "-c", "db/alembic.ini", "fix").code == 0
    assert cli(sub, "check", "--base", "main").code == 0
    after = {k: v for k, v in file_states(app.path).items() if "/db/" not in k and "/.git/" not in k}
    assert changed_files(app_files, after) == []


def test_the_superproject_without_config_says_where_to_point(make_gitrepo, cli):
    db = diverged(make_gitrepo("db"))
    app = make_gitrepo("app")
    app.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(db.path), "db")
    app.commit("db as a submodule")

    result = cli(app.path, "heads")

    assert result.code == 2
    assert "-c alembic.ini" in result.err or "--versions" in result.err


# --------------------------------------------------------- sparse checkout
def _sparse_clone(origin: GitRepo, tmp_path: Path, *patterns: str) -> Path:
    git(tmp_path, "clone", "-q", "--branch", "feature", str(origin.path), "sparse")
    clone = tmp_path / "sparse"
    git(clone, "sparse-checkout", "set", "--no-cone", *patterns)
    return clone


def test_a_sparse_checkout_holding_the_migrations_is_checked_as_usual(make_gitrepo, tmp_path, cli):
    origin = diverged(make_gitrepo("origin"))
    origin.write("docs/readme.txt", "docs\n")
    origin.commit("docs")
    clone = _sparse_clone(origin, tmp_path, "/alembic.ini", "/migrations/")
    assert not (clone / "docs").exists()

    result = cli(clone, "check", "--base", "origin/main", "--format", "json")

    assert result.code == 1, result.text
    assert set(findings(result)) == {"RG102"}
    assert git(clone, "status", "--porcelain").stdout == ""


def test_a_sparse_checkout_without_the_versions_folder_reports_nothing_deleted(make_gitrepo, tmp_path, cli):
    origin = diverged(make_gitrepo("origin"))
    clone = _sparse_clone(origin, tmp_path, "/alembic.ini", "/migrations/env.py", "/migrations/script.py.mako")
    assert not (clone / VERSIONS).exists() and git(clone, "status", "--porcelain").stdout == ""

    result = cli(clone, "check", "--base", "origin/main", "--format", "json")

    assert "RG202" not in findings(result), result.out


# ------------------------------------------------------------ spaces
def test_paths_with_spaces_are_checked_fixed_and_named_exactly(make_gitrepo, cli):
    repo = make_gitrepo("my repo")
    folder = "db migrations/version files"
    repo.init_env(commit=False)
    ini = repo.read("alembic.ini").decode()
    ini = ini.replace(
        "script_location = %(here)s/migrations",
        f"script_location = %(here)s/migrations\nversion_locations = %(here)s/{folder}",
    )
    repo.write("alembic.ini", ini)
    add(repo, BASE, None, folder)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    feature_file = add(repo, FEATURE, BASE, folder)
    repo.commit("feature")
    repo.checkout("main")
    add(repo, MAIN, BASE, folder)
    repo.commit("main")
    repo.checkout("feature")

    check = cli(repo.path, "check", "--base", "main", "--format", "json")
    assert check.code == 1
    [conflict] = findings(check)["RG102"]
    assert feature_file in {loc["path"] for loc in conflict["locations"]}
    repo.git("merge", "-q", "--no-edit", "main")
    fix = cli(repo.path, "fix")

    assert fix.code == 0, fix.text
    assert heads_json(cli(repo.path, "heads", "--json")) == [FEATURE]
    changed = repo.git("diff", "--numstat", "-z").stdout.strip("\0").split("\t")
    assert changed == ["2", "2", feature_file]  # Revises: and down_revision, nothing else


def test_a_versions_folder_not_created_yet_beside_a_committed_symlink_is_no_crash(gitrepo):
    # QA (cache fuzzer): `git ls-tree <commit> -- migrations/extra` lists every entry of
    # migrations/ when extra/ does not exist; a committed symlink there read as one on the
    # way to the folder, and the listing looped until RecursionError (exit 3).
    import os

    gitrepo.init_env(commit=False)
    ini = gitrepo.read("alembic.ini").replace(b"[alembic]\n", b"[alembic]\nversion_locations = %(here)s/migrations/extra\n", 1)
    gitrepo.write("alembic.ini", ini)
    os.symlink("elsewhere", gitrepo.path / "migrations" / "a-link")
    gitrepo.commit("a symlink beside a versions folder that does not exist yet")

    done = gitrepo.run("--no-cache", "check", "--base", "main")

    assert done.returncode in (0, 1) and "internal error" not in done.stderr, done.stdout + done.stderr


@pytest.mark.parametrize("command", [("graph",), ("check",), ("heads", "--ref", "HEAD"), ("lock",)])
def test_a_missing_version_location_outside_the_repository_is_skipped_as_alembic_does(gitrepo, tmp_path, command):
    # QA (config fuzzer): alembic and `revgraph heads` skip it; graph, check and heads --ref
    # refused the whole environment ("outside the repository; git cannot read it from a ref").
    gitrepo.init_env(commit=False)
    gone = tmp_path / "nowhere" / "versions"
    ini = gitrepo.read("alembic.ini").replace(
        b"[alembic]\n", f"[alembic]\nversion_locations = %(here)s/migrations/versions{os.pathsep}{gone}\n".encode(), 1
    )
    gitrepo.write("alembic.ini", ini)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    gitrepo.commit("a second version location that does not exist")

    done = gitrepo.run(*command)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "a1a1a1a1a1a1" in done.stdout or "All good" in done.stdout or command == ("lock",)
