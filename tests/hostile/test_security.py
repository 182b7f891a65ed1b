"""Nothing from a repository is ever executed (issue 9 §5, PRODUCT §9).

Every revision here -- landed, new, in the working tree, on each branch, as a
compiled `.pyc` -- creates a file in ``traps/`` if anything imports or runs
it; so does the environment's env.py and a `revgraph/` package planted at the
top of the repository (what ``python -m`` with the repository as working
directory would import instead of revgraph). Every command, the real merge
driver under a real `git merge`, and a lock path full of shell
metacharacters must leave ``traps/`` empty and run nothing.
"""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.corpus import (
    VERSIONS,
    revision_text,
    trap_text,
)
from tests.support.gitrepo import GitRepo

BASE = "a1a1a1a1a1a1"
FEATURE = "f2f2f2f2f2f2"
MAIN = "c3c3c3c3c3c3"
LOCK = "migrations/revgraph.lock"


# ------------------------------------------------------------------ helpers
def sprung(traps: Path) -> list[str]:
    return sorted(p.name for p in traps.iterdir())


def plant_executables(repo: GitRepo, traps: Path, folder: str = "migrations") -> None:
    """env.py, a shadowing `revgraph/` package and a compiled revision, each springing a trap."""
    env_py = repo.path / folder / "env.py"
    env_py.write_text(f"open({str(traps / 'env.py')!r}, 'w').close()\n" + env_py.read_text(), encoding="utf-8")
    repo.write("revgraph/__init__.py", f"open({str(traps / 'planted-package')!r}, 'w').close()\n")
    repo.write("revgraph/__main__.py", f"open({str(traps / 'planted-main')!r}, 'w').close()\n")
    source = traps.parent / "compiled" / "b0b0b0b0b0b0_compiled.py"
    source.parent.mkdir(exist_ok=True)
    source.write_text(trap_text("b0b0b0b0b0b0", BASE, traps / "pyc"), encoding="utf-8")
    py_compile.compile(str(source), cfile=str(repo.path / folder / "versions" / "b0b0b0b0b0b0_compiled.pyc"))


def add_trap(repo: GitRepo, rid: str, down: str | None, traps: Path, folder: str = VERSIONS) -> str:
    rel = f"{folder}/{rid}_trap.py"
    repo.write(rel, trap_text(rid, down, traps / rid))
    return rel


@pytest.fixture
def trapped(gitrepo, tmp_path, cli) -> tuple[GitRepo, Path]:
    """main: BASE <- MAIN; feature: BASE <- FEATURE; every file a trap; the driver installed."""
    traps = tmp_path / "traps"
    traps.mkdir()
    gitrepo.init_env(commit=False)
    plant_executables(gitrepo, traps)
    add_trap(gitrepo, BASE, None, traps)
    assert cli(gitrepo.path, "install").code == 0
    gitrepo.commit("base, with the merge driver")
    gitrepo.git("checkout", "-q", "-b", "feature")
    add_trap(gitrepo, FEATURE, BASE, traps)
    assert cli(gitrepo.path, "lock").code == 0
    gitrepo.commit("feature")
    gitrepo.checkout("main")
    add_trap(gitrepo, MAIN, BASE, traps)
    assert cli(gitrepo.path, "lock").code == 0
    gitrepo.commit("main")
    gitrepo.checkout("feature")
    assert sprung(traps) == []
    return gitrepo, traps


def modules_from(folder: Path) -> list[str]:
    """Modules imported into this process from files under ``folder``."""
    found = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(folder.resolve()):
            found.append(name)
    return found


# ------------------------------------------------------------ every command
def test_no_command_executes_any_revision_env_py_or_planted_package(trapped, cli, tmp_path):
    repo, traps = trapped
    out = tmp_path / "out"
    out.mkdir()
    runs = [
        ("heads",),
        ("heads", "--ref", "main"),
        ("heads", "--ref", "feature", "--json"),
        ("check", "--base", "main"),
        ("check", "--base", "main", "--format", "json"),
        ("doctor", "--base", "main"),
        ("graph", "--base", "main", "--format", "html", "-o", str(out / "graph.html")),
        ("graph", "--ref", "main", "--format", "json"),
        ("graph", "--ref", "feature", "--format", "html", "-o", str(out / "feature.html")),
        ("graph", "--format", "mermaid"),
        ("diff", "main"),
        ("fix", "--dry-run", "--base", "main"),
        ("lock", "--check"),
    ]
    codes = {}
    for args in runs:
        codes[args] = cli(repo.path, *args).code
        assert sprung(traps) == [], f"revgraph {' '.join(args)} executed repository code"

    assert codes[("check", "--base", "main")] == 1  # the trees were really read: RG102
    assert "<html" in (out / "graph.html").read_text(encoding="utf-8").lower()
    assert modules_from(repo.path) == []


def test_fixing_and_merging_with_the_real_driver_executes_nothing(trapped, cli):
    repo, traps = trapped
    repo.checkout("main")

    merge = repo.git("merge", "--no-edit", "feature", check=None)  # git runs the installed driver

    assert merge.returncode == 1 and repo.conflicted() == [LOCK], merge.stdout + merge.stderr
    assert "revgraph fix" in repo.read(LOCK).decode()
    fix = cli(repo.path, "fix")
    assert fix.code == 0, fix.text
    repo.git("commit", "-q", "--no-edit")
    assert cli(repo.path, "check").code == 0
    assert sprung(traps) == []
    assert modules_from(repo.path) == []


def test_a_driver_started_in_the_repository_never_imports_its_revgraph_folder(trapped):
    """What install configured is what git runs: the planted `revgraph/` must stay inert."""
    repo, traps = trapped
    live = subprocess.run([sys.executable, "-c", "import revgraph"], cwd=repo.path, timeout=60, check=False)
    assert live.returncode == 0 and sprung(traps) == ["planted-package"]  # the trap works
    (traps / "planted-package").unlink()
    driver = repo.git("config", "--local", "merge.revgraph.driver").stdout.strip()
    assert "%O %A %B %P" in driver

    # The command git would run, through the same shell, in the repository, while merging
    # main into feature: both sides moved the lock's head, so the driver reads both from git.
    scratch = repo.path.parent / "driver-files"
    scratch.mkdir()
    for name, head in (("O", BASE), ("A", FEATURE), ("B", MAIN)):
        (scratch / name).write_text(f"head: {head}\n", encoding="utf-8")
    command = driver.replace("%O", str(scratch / "O")).replace("%A", str(scratch / "A"))
    command = command.replace("%B", str(scratch / "B")).replace("%P", LOCK).replace("%L", "7")
    environ = dict(os.environ, **{f"GITHEAD_{repo.rev_parse('main')}": "main"})
    done = subprocess.run(
        ["sh", "-c", command], cwd=repo.path, env=environ, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 1, done.stderr  # two heads once merged: a conflict naming both
    merged = (scratch / "A").read_text(encoding="utf-8")
    assert FEATURE in merged and MAIN in merged and "revgraph fix" in merged
    assert sprung(traps) == []


# ------------------------------------------------- shell metacharacters in %P
HOSTILE_FOLDER = "db $(touch pwned1) `touch pwned2`;touch pwned3 & 'q' \"dq\""


def test_a_lock_path_full_of_shell_metacharacters_merges_cleanly_and_runs_nothing(gitrepo, tmp_path, cli):
    """`revgraph install`, then a real merge the driver resolves by reading both sides from git."""
    repo = gitrepo
    traps = tmp_path / "traps"
    traps.mkdir()
    repo.init_env(commit=False)
    (repo.path / "migrations").rename(repo.path / HOSTILE_FOLDER)
    ini = repo.read("alembic.ini").decode().replace("%(here)s/migrations", f"%(here)s/{HOSTILE_FOLDER}")
    repo.write("alembic.ini", ini)
    versions = f"{HOSTILE_FOLDER}/versions"
    lock = f"{HOSTILE_FOLDER}/revgraph.lock"
    add_trap(repo, BASE, None, traps, versions)
    install = cli(repo.path, "install")
    assert install.code == 0 and "warning" not in install.err, install.text
    repo.commit("base with the driver")
    # main lands MAIN; feature carries the same MAIN file and builds FEATURE on it: both
    # sides change the lock's head, and their union is healthy (one head).
    repo.git("checkout", "-q", "-b", "feature")
    main_file = add_trap(repo, MAIN, BASE, traps, versions)
    add_trap(repo, FEATURE, MAIN, traps, versions)
    assert cli(repo.path, "lock").code == 0
    repo.commit("feature on top of main's revision")
    repo.checkout("main")
    repo.write(main_file, repo.show("feature", main_file))
    assert cli(repo.path, "lock").code == 0
    repo.commit("main lands its revision")

    assert repo.git("check-attr", "merge", "--", lock).stdout.rstrip().endswith(": merge: revgraph")
    merge = repo.git("merge", "--no-edit", "feature", check=None)

    assert merge.returncode == 0, merge.stdout + merge.stderr  # resolved by the driver, no conflict
    [env] = json.loads(cli(repo.path, "heads", "--json").out)["environments"]
    assert env["heads"] == [FEATURE]
    assert f"head: {FEATURE}" in repo.read(lock).decode()
    assert list(tmp_path.rglob("pwned*")) == []
    assert sprung(traps) == []


# ------------------------------------------------------ pictures for review
HTML_PAYLOAD = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>"
MERMAID_PAYLOAD = 'x"] ; click n0 href "javascript:alert(1)" ; n9["y'


def test_graph_pictures_and_pr_comments_escape_hostile_revision_messages(gitrepo, cli):
    """A revision message is data from a branch: it must not become markup in a review page."""
    gitrepo.init_env(commit=False)
    gitrepo.write(f"{VERSIONS}/{BASE}_base.py", revision_text(BASE, None, message=HTML_PAYLOAD))
    gitrepo.commit("base")
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.write(f"{VERSIONS}/{FEATURE}_new.py", revision_text(FEATURE, BASE, message=MERMAID_PAYLOAD))

    for fmt in ("html", "svg"):
        page = cli(gitrepo.path, "graph", "--focus", "all", "--format", fmt).out
        assert "&lt;/script&gt;" in page, fmt  # the message is there, as text
        assert "<script>document.title" not in page and "<img src=x" not in page, fmt
    for args in (("graph", "--focus", "all", "--format", "mermaid"), ("check", "--format", "markdown")):
        text = cli(gitrepo.path, *args).out
        assert FEATURE in text, args
        assert 'click n0 href "javascript' not in text, args
