"""`revgraph demo` end to end, through the real CLI in a subprocess.

The demo builds its own git repository, so these tests check what it prints
at each step and what it leaves behind (with --keep), and that it survives a
user's hostile git setup.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import REPO_ROOT, GitRepo

LANDED_ID = "c3d1a7e9b2f4"  # feature/invoices, merged into main by the demo
YOURS_ID = "e8f2b6a4d0c1"  # feature/labels, the branch the demo fixes
YOURS_FILE = f"migrations/versions/{YOURS_ID}_add_labels_to_tasks.py"


def run_demo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revgraph", "demo", *args],
        cwd=cwd,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=180,
        check=False,
    )


def steps(stdout: str) -> dict[int, str]:
    """The demo's output cut at its step headers: {1: text of step 1, ...}."""
    parts = re.split(r"^Step (\d)/4: ", stdout, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory):
    """One `revgraph demo --keep --dir DIR` run, shared: (completed process, DIR)."""
    from tests.support.gitrepo import apply_environ, isolated_environ

    base = tmp_path_factory.mktemp("demo")
    env = apply_environ(isolated_environ(base / "home"), os.environ)
    work = base / "work"
    done = run_demo("--keep", "--dir", str(work), cwd=base, env=env)
    return done, work, env


def test_demo_walks_check_graph_fix_check_and_exits_0(kept_demo):
    done, _, _ = kept_demo
    assert done.returncode == 0, done.stdout + done.stderr
    found = steps(done.stdout)
    assert sorted(found) == [1, 2, 3, 4], done.stdout

    check_before = found[1]
    assert "$ revgraph check" in check_before
    assert re.search(rf"RG102 merging HEAD into main would leave .*{YOURS_ID}.*{LANDED_ID}", check_before)

    graph = found[2]
    assert "$ revgraph graph" in graph
    assert re.search(rf"^\*\s+{YOURS_ID} add labels to tasks .*\[new\]", graph, re.M), graph
    assert re.search(rf"^\| \*\s+{LANDED_ID} create invoices table .*\[landed\]", graph, re.M), graph
    html = re.search(r"^wrote (.+graph\.html)$", graph, re.M)
    assert html, graph

    fix = found[3]
    assert "$ revgraph fix" in fix
    assert "-down_revision: Union[str, Sequence[str], None] = '5e2fd8cb71fc'" in fix
    assert f"+down_revision: Union[str, Sequence[str], None] = '{LANDED_ID}'" in fix
    assert f"+Revises: {LANDED_ID}" in fix
    assert "next: git merge --continue" in fix

    check_after = found[4]
    assert "All good: no problems" in check_after
    assert "clean: one head per line" in check_after
    assert "In your own repository" in check_after and "revgraph install" in check_after
    assert done.stdout.rstrip().endswith("demo complete: every step came out as expected")


def test_demo_keep_leaves_the_fixed_repository_and_the_html(kept_demo):
    done, work, env = kept_demo
    repo, html = work / "repo", work / "graph.html"
    assert f"kept the demo repository: {repo}" in done.stdout
    assert html.is_file() and "<html" in html.read_text(encoding="utf-8").lower()
    assert LANDED_ID in html.read_text(encoding="utf-8")

    git = GitRepo(repo, env)
    assert git.current_branch() == "feature/labels"
    assert git.status() == ""  # the merge was committed, nothing left over
    assert f"'{LANDED_ID}'" in (repo / YOURS_FILE).read_text(encoding="utf-8")
    check = git.run("check", "--base", "main")
    assert check.returncode == 0, check.stdout + check.stderr
    heads = git.run("heads", check=True).stdout.split()
    assert YOURS_ID in heads and LANDED_ID not in heads


def readme_tour() -> list[tuple[str, list[str]]]:
    """The README's console tour: (command, the output lines it shows) in order."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```console\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md shows a console tour"
    tour: list[tuple[str, list[str]]] = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            tour.append((line[2:].split("  #")[0].strip(), []))
        elif tour:
            tour[-1][1].append(line)
    return tour


def test_the_readme_tour_is_what_the_demo_repository_prints(tmp_path, git_env):
    # The README shows a subset of each command's output (it says so), in order:
    # each line it shows must be a line the command prints, in that order.
    from tests.support.gitrepo import apply_environ, isolated_environ

    env = apply_environ(isolated_environ(tmp_path / "home"), os.environ)
    env.update(COLUMNS="400", NO_COLOR="1")
    done = run_demo("--keep", "--dir", str(tmp_path / "work"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    repo = tmp_path / "work" / "repo"
    # The tour's first line takes feature/labels back to before the demo merged main in.
    revgraph = f"{sys.executable} -m revgraph"
    for command, shown in readme_tour():
        run = subprocess.run(command.replace("revgraph ", f"{revgraph} "), shell=True, cwd=repo, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # as a terminal shows them
                             text=True, encoding="utf-8", timeout=120)  # fmt: skip
        printed = run.stdout.splitlines()
        at = 0
        for line in shown:
            assert line in printed[at:], f"`{command}` no longer prints, in this order:\n{line}\n\n{run.stdout}"
            at = printed.index(line, at) + 1


def test_demo_survives_a_hostile_git_setup_and_deletes_its_temporary_folder(tmp_path, git_env):
    """Signing on, failing hooks, no identity, another GIT_DIR, a CI base that does not exist."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "commit-msg", "pre-merge-commit"):
        (hooks / name).write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        (hooks / name).chmod(0o755)
    hostile = tmp_path / "hostile.gitconfig"
    hostile.write_text(
        "[init]\n\tdefaultBranch = trunk\n[commit]\n\tgpgsign = true\n"
        f"[core]\n\thooksPath = {hooks}\n[merge]\n\tff = only\n[user]\n\tuseConfigOnly = true\n",
        encoding="utf-8",
    )
    other = GitRepo.init(tmp_path / "other")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(git_env)
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        env.pop(name, None)
    env.update(
        GIT_CONFIG_GLOBAL=str(hostile),
        GIT_DIR=str(other.path / ".git"),
        GITHUB_BASE_REF="develop",
        TMPDIR=str(temp),
    )

    done = run_demo(cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean: one head per line" in done.stdout
    assert "the demo repository and its graph.html were deleted" in " ".join(done.stdout.split())
    assert list(temp.iterdir()) == []
    assert other.git("rev-parse", "--verify", "-q", "HEAD", check=None).returncode != 0  # untouched


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path, git_env):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine", encoding="utf-8")

    done = run_demo("--dir", str(work), cwd=tmp_path)

    assert done.returncode == 2
    assert "must be an empty folder" in done.stderr
    assert [p.name for p in work.iterdir()] == ["notes.txt"]


def test_demo_names_a_file_in_the_way_of_dir_and_exits_2(tmp_path, git_env):
    from tests.support.gitrepo import run_module

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    done = run_module("revgraph", "demo", "--dir", "notes.txt/demo", cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"revgraph: error: --dir {tmp_path / 'notes.txt' / 'demo'}: cannot create it: "
                                  f"{tmp_path / 'notes.txt'} is a file, not a folder\n")  # fmt: skip


def test_demo_refuses_an_empty_folder_it_cannot_write_in(tmp_path, monkeypatch):
    from revgraph import demo
    from revgraph.errors import UsageError

    monkeypatch.setattr(demo.os, "access", lambda path, mode: False)  # as a user without the right
    with pytest.raises(UsageError, match="cannot write in it: permission denied"):
        demo._work_folder(tmp_path)


def test_demo_exits_1_and_says_which_step_went_wrong(tmp_path, git_env):
    """An example with an unreadable revision file: fix refuses, so the demo fails at step 3."""
    example = tmp_path / "example"
    example.mkdir()
    shutil.copyfile(REPO_ROOT / "alembic.ini", example / "alembic.ini")
    shutil.copytree(REPO_ROOT / "migrations", example / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    (example / "migrations" / "versions" / "0badc0de_notes.py").write_text(
        "revision = make_revision_id()\ndown_revision = None\n", encoding="utf-8"
    )
    work = tmp_path / "work"

    done = run_demo("--dir", str(work), "--example", str(example), cwd=tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "RG102" in steps(done.stdout)[1]
    assert "the demo did not go as expected" in done.stdout
    assert re.search(r"step 3: migrations/versions/0badc0de_notes\.py:1: revision is not a literal", done.stdout)
    assert 4 not in steps(done.stdout)
    assert not work.exists()


def test_find_example_prefers_the_wheel_layout_then_the_checkout(tmp_path):
    from revgraph.demo import find_example
    from revgraph.errors import ConfigError

    checkout = tmp_path / "checkout"
    package = checkout / "src" / "revgraph"
    package.mkdir(parents=True)
    with pytest.raises(ConfigError, match="bundled example"):
        find_example(package)

    (checkout / "alembic.ini").write_text("[alembic]\n", encoding="utf-8")
    (checkout / "migrations" / "versions").mkdir(parents=True)
    assert find_example(package) == checkout

    wheel = package / "_example"
    (wheel / "migrations" / "versions").mkdir(parents=True)
    (wheel / "alembic.ini").write_text("[alembic]\n", encoding="utf-8")
    assert find_example(package) == wheel


def test_the_fix_command_rg102_suggests_resolves_it_on_the_unmerged_branch(gitrepo: GitRepo):
    gitrepo.copy_example()
    for branch, rev_id, message in (
        ("feature/invoices", LANDED_ID, "create invoices table"),
        ("feature/labels", YOURS_ID, "add labels to tasks"),
    ):
        gitrepo.git("checkout", "-q", "-b", branch, "main")
        gitrepo.add_revision(rev_id, "5e2fd8cb71fc", message=message)
        gitrepo.commit(message)
    gitrepo.checkout("main")
    gitrepo.merge("feature/invoices")
    gitrepo.checkout("feature/labels")
    before = gitrepo.run("check", "--format", "json", check=1)
    import json

    (finding,) = [f for f in json.loads(before.stdout)["findings"] if f["code"] == "RG102"]
    assert finding["fix"] == "git merge main; revgraph fix"
    # Fixing before base is merged would point at a revision this branch lacks:
    # fix refuses and says what to run first.
    early = gitrepo.run("fix", check=1)
    assert "git merge main" in early.stderr and "Traceback" not in early.stderr

    for command in finding["fix"].split("; "):
        argv = command.split()
        if argv[0] == "git":
            gitrepo.git(*argv[1:], "--no-edit")
        else:
            gitrepo.run(*argv[1:], check=0)

    after = gitrepo.run("check")
    assert after.returncode == 0, after.stdout


# ------------------------------------------------ bugs found while building the demo
def test_the_fix_command_rg402_suggests_exists_and_resolves_it(gitrepo: GitRepo):
    gitrepo.copy_example()
    path = "migrations/versions/a424df1506f1_add_index_on_audit_log_created_at.py"
    text = gitrepo.read(path).decode("utf-8")
    gitrepo.write(path, text.replace("Revises: d844d17f4e39", "Revises: 9ffabb25eb44"))
    import json

    report = json.loads(gitrepo.run("check", "--format", "json", "--select", "RG402").stdout)
    (finding,) = report["findings"]
    assert finding["fix"] == "revgraph fix --docstrings"

    gitrepo.run(*finding["fix"].split()[1:], check=0)

    assert json.loads(gitrepo.run("check", "--format", "json", "--select", "RG402").stdout)["findings"] == []


def test_merge_strategy_leaves_a_healthy_labelled_layout_alone(gitrepo: GitRepo):
    gitrepo.copy_example()  # heads: 5e2fd8cb71fc and a424df1506f1 on the 'reporting' label
    assert gitrepo.run("check").returncode == 0
    assert "nothing to fix" in gitrepo.run("fix", check=0).stdout

    merge = gitrepo.run("fix", "--strategy", "merge")

    assert gitrepo.status() == "", merge.stdout
