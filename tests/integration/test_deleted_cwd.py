"""revgraph started in a folder that was deleted since (a shell left standing in it).

``getcwd`` fails there. With ``-C`` to an absolute folder nothing needs the
current directory, so every door works: the fast ``heads``, the fast and the
express ``check``, the typer CLI. Without it (or with a relative ``-C``) a
command that reads a project exits 2 saying so, as git does; ``rules`` needs
no folder and just answers. Never "internal error" (exit 3).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.gitrepo import GitRepo

CANNOT = "revgraph: error: cannot read the current directory: it no longer exists"


def from_a_deleted_folder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m revgraph ARGS`` started in a folder the shell removed just before."""
    gone = tmp_path / "gone"
    gone.mkdir(exist_ok=True)
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    done = subprocess.run(["sh", "-c", script, "sh", str(gone), sys.executable, "-m", "revgraph", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert not gone.exists()
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def one_revision(repo: GitRepo) -> None:
    repo.init_env()
    repo.add_revision("root01", None, message="create users")
    repo.commit("root")


def test_with_an_absolute_C_every_door_works_from_a_deleted_folder(gitrepo, tmp_path):
    one_revision(gitrepo)
    here = ["-C", str(gitrepo.path)]
    for args in (["heads"], ["heads", "--json"], ["--debug", "heads"]):  # fast path, then typer
        done = from_a_deleted_folder(tmp_path, *here, *args)
        assert done.returncode == 0 and "root01" in done.stdout, done.stderr
    # A cold check (run without typer), a warm one (result cache, express lane), the full CLI.
    for args in (["check", "--base", "main"], ["check", "--base", "main"], ["--no-cache", "check"],
                 ["check", "--format", "github"], ["graph", "--format", "mermaid"]):  # fmt: skip
        done = from_a_deleted_folder(tmp_path, *here, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stderr == "", (args, done.stderr)
    done = from_a_deleted_folder(tmp_path, *here, "check", "--format", "json", "-o", "report.json")
    assert done.returncode == 0 and (gitrepo.path / "report.json").is_file(), done.stderr


def test_rules_need_no_folder(tmp_path, git_env):
    done = from_a_deleted_folder(tmp_path, "rules", "RG101")
    assert done.returncode == 0 and "RG101" in done.stdout, done.stderr


def test_without_an_absolute_C_a_deleted_folder_exits_2_saying_so(gitrepo, tmp_path):
    one_revision(gitrepo)
    for args in (["heads"], ["check"], ["check", "--format", "github"], ["graph"],
                 ["-C", "repo", "heads"], ["-C", "repo", "check"]):  # fmt: skip
        done = from_a_deleted_folder(tmp_path, *args)
        assert done.returncode == 2, (args, done.stderr)
        # --format github says it on the pull request as well (an ::error annotation).
        github = "github" in args
        assert done.stdout.startswith("::error title=revgraph could not run::") if github else done.stdout == ""
        assert done.stderr.splitlines()[0] == CANNOT, (args, done.stderr)
        assert "hint: cd to an existing folder, or run revgraph -C with an absolute path" in done.stderr
