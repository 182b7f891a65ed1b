"""Global options after the command name: ``revgraph check --base main -q`` is ``revgraph -q check --base main``.

Every command, through the real CLI in a real repository: the same stdout,
stderr and exit code whichever side of the command name a global option
stands. A warm ``check`` is still answered by the express lane (no typer)
when its global options follow the command.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.gitrepo import run_module
import typer

from revgraph import cli, entry

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo

HEAVY = {"typer", "click", "rich", "pydantic", "pydantic_core", "networkx", "alembic", "git"}


@pytest.fixture
def repo(tmp_path, git_env):
    # A checked-out `feature` forked from an old head of `main`: check finds RG102.
    return genrepo.generate(tmp_path / "repo", 40, seed=7, commits=6)


def revgraph(*args, cwd, importtime=False) -> subprocess.CompletedProcess:
    if not importtime:  # what was imported does not matter: a fork of the zygote will do
        return run_module("revgraph", *args, cwd=cwd)
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "revgraph", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def without_importtime(stderr: str) -> str:
    return "".join(line + "\n" for line in stderr.splitlines() if not line.startswith("import time:"))


def imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in stderr.splitlines() if line.startswith("import time:") and "|" in line}  # fmt: skip


def answer(capsys, args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = entry.run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# Each command with options of its own; every line leaves the repository as it was.
COMMAND_LINES = [
    ["heads", "--json"],
    ["check", "--base", "main"],
    ["check", "--base", "main", "--format", "markdown"],  # the full CLI, not the fast path
    ["rules", "RG101"],
    ["diff", "main"],
    ["doctor", "--base", "main"],
    ["fix", "--base", "main", "--dry-run"],
    ["lock", "--check"],
    ["graph", "--ref", "main", "--format", "mermaid"],
    ["audit", "--ref", "main"],
    ["collisions", "feature", "--base", "main"],
    ["install", "--dry-run"],
    ["uninstall", "--dry-run"],
]


@pytest.mark.parametrize("line", COMMAND_LINES, ids=lambda line: line[0])
def test_global_options_after_the_command_act_as_before_it(repo, tmp_path, capsys, line):
    # Run from elsewhere: a -C after the command that were ignored would read the wrong folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as m:
        m.chdir(elsewhere)
        before = answer(capsys, ["-C", repo.path, "--no-color", "-q", *line])
        after = answer(capsys, [*line, "-C", repo.path, "--no-color", "-q"])
        among = answer(capsys, [line[0], "-q", *line[1:], "--no-color", "-C", repo.path])
    assert after == before
    assert among == before
    assert "Traceback" not in before[2] and "No such option" not in before[2]
    assert before[0] in (0, 1), before


def test_global_options_after_the_command_through_the_console_script(repo, tmp_path):
    before = revgraph("-C", repo.path, "-v", "check", "--base", "main", "--format", "json", cwd=tmp_path)
    after = revgraph("check", "--base", "main", "-v", "--format", "json", "-C", repo.path, cwd=tmp_path)
    assert (after.returncode, after.stdout, after.stderr) == (before.returncode, before.stdout, before.stderr)
    assert before.returncode == 1 and '"RG102"' in before.stdout


def test_a_warm_check_with_global_options_after_it_is_answered_by_the_express_lane(repo, tmp_path, capsys):
    front = ["-C", repo.path, "-q", "--no-color", "check", "--base", "main"]
    behind = ["check", "--base", "main", "-q", "--no-color", "-C", repo.path]
    assert revgraph(*front, cwd=tmp_path).returncode == 1  # warms the cache
    with pytest.MonkeyPatch.context() as m:
        m.setattr(cli, "run_app", lambda a: pytest.fail(f"{a} was not answered by the fast path"))
        fast_front = answer(capsys, front)
        fast_behind = answer(capsys, behind)
    full = capsys.readouterr() and (cli.run_app([str(a) for a in front]), *capsys.readouterr())
    assert fast_behind == fast_front == full
    assert fast_behind[0] == 1 and "RG102" in fast_behind[1]
    # A process of its own: nothing of typer, click, rich... is imported.
    hit = revgraph(*behind, cwd=tmp_path, importtime=True)
    assert (hit.returncode, hit.stdout, without_importtime(hit.stderr)) == full
    assert not imported(hit.stderr) & HEAVY, sorted(imported(hit.stderr) & HEAVY)


def test_heads_with_global_options_after_it_skips_typer_too(repo, tmp_path):
    front = revgraph("-C", repo.path, "--no-cache", "heads", "--json", cwd=tmp_path)
    behind = revgraph("heads", "--no-cache", "--json", "-C", repo.path, cwd=tmp_path, importtime=True)
    assert (behind.returncode, behind.stdout, without_importtime(behind.stderr)) == (
        front.returncode, front.stdout, front.stderr)  # fmt: skip
    assert front.returncode == 0 and '"heads"' in front.stdout
    assert not imported(behind.stderr) & HEAVY


def test_no_cache_after_check_bypasses_the_cache(repo, tmp_path):
    assert revgraph("-C", repo.path, "check", "--base", "main", cwd=tmp_path).returncode == 1
    cache = repo.path / ".git" / "revgraph"
    assert cache.is_dir()
    shutil.rmtree(cache)
    done = revgraph("check", "--base", "main", "--no-cache", "-C", repo.path, cwd=tmp_path)
    assert done.returncode == 1 and "RG102" in done.stdout, done.stderr
    assert not cache.exists()  # --no-cache: neither read nor written


@pytest.fixture
def merged(gitrepo):
    """A feature branch's revision merged with main's: two heads, the feature's not landed."""
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="first")
    gitrepo.commit("first")
    gitrepo.branch("feature")
    gitrepo.add_revision("bbbb00000002", "aaaa00000001", message="on main")
    gitrepo.commit("on main")
    gitrepo.checkout("feature")
    gitrepo.add_revision("cccc00000003", "aaaa00000001", message="on feature")
    gitrepo.commit("on feature")
    gitrepo.git("merge", "-q", "--no-edit", "main")
    return gitrepo


def test_a_commands_own_option_wins_over_a_global_of_the_same_spelling(merged, tmp_path):
    # fix -n is --dry-run (not the global -n/--name); the -q after it is global.
    status = merged.status()
    behind = revgraph("fix", "--base", "main", "-n", "-q", "-C", merged.path, cwd=tmp_path)
    front = revgraph("-C", merged.path, "-q", "fix", "--base", "main", "--dry-run", cwd=tmp_path)
    assert (behind.returncode, behind.stdout, behind.stderr) == (front.returncode, front.stdout, front.stderr)
    assert "cccc00000003" in behind.stdout and "dry run" in behind.stdout, behind.stdout + behind.stderr
    assert merged.status() == status  # nothing written


def test_a_value_that_looks_like_a_global_option_stays_a_value(merged, tmp_path):
    # `--base -q`: the ref named -q, as click reads it; the -C after it is global.
    behind = revgraph("check", "--base", "-q", "-C", merged.path, cwd=tmp_path)
    front = revgraph("-C", merged.path, "check", "--base", "-q", cwd=tmp_path)
    assert (behind.returncode, behind.stdout, behind.stderr) == (front.returncode, front.stdout, front.stderr)
    assert behind.returncode == 2 and "-q" in behind.stderr and "Traceback" not in behind.stderr
    # `-m -q`: the merge revision's message; the --no-color after it is global.
    fix = ["fix", "--base", "main", "--strategy", "merge", "--dry-run", "--rev-id", "dddd00000004"]
    behind = revgraph(*fix, "-m", "-q", "--no-color", "-C", merged.path, cwd=tmp_path)
    front = revgraph("-C", merged.path, "--no-color", *fix, "-m", "-q", cwd=tmp_path)

    def undated(done):  # the merge revision's Create Date is the clock's
        return done.returncode, re.sub(r"Create Date: .*", "", done.stdout), done.stderr

    assert undated(behind) == undated(front)
    assert '+"""-q' in behind.stdout, behind.stdout + behind.stderr


def test_nothing_after_a_double_dash_moves(tmp_path):
    behind = revgraph("rules", "--no-color", "--", "-q", cwd=tmp_path)
    front = revgraph("--no-color", "rules", "--", "-q", cwd=tmp_path)
    assert (behind.returncode, behind.stdout, behind.stderr) == (front.returncode, front.stdout, front.stderr)
    assert behind.returncode == 2 and "-q" in behind.stderr and "Traceback" not in behind.stderr


def test_a_global_option_after_the_command_without_its_value_is_a_usage_error(tmp_path):
    done = revgraph("check", "--base", "main", "-C", cwd=tmp_path)
    assert done.returncode == 2
    assert "Option '-C' requires an argument." in done.stderr and "Traceback" not in done.stderr


def test_the_merge_driver_takes_global_options_after_its_files(tmp_path):
    # git never does, a person trying it by hand might: the -q is no file name.
    for name, text in (("O", "head: aaa  x\n"), ("B", "head: ccc  z\n"), ("A1", "head: bbb  y\n"),
                       ("A2", "head: bbb  y\n")):  # fmt: skip
        (tmp_path / name).write_text(text)
    behind = revgraph("merge-driver", "O", "A1", "B", "-q", cwd=tmp_path)
    front = revgraph("-q", "merge-driver", "O", "A2", "B", cwd=tmp_path)
    assert (behind.returncode, behind.stdout, behind.stderr) == (front.returncode, front.stdout, front.stderr)
    assert behind.returncode == 1 and "lock file: both sides" in behind.stderr
    assert (tmp_path / "A1").read_bytes() == (tmp_path / "A2").read_bytes()


def test_demo_takes_global_options_after_its_own(tmp_path, git_env):
    (tmp_path / "here").mkdir()
    done = revgraph("demo", "--dir", "walkthrough", "--keep", "--no-color", "-C", tmp_path / "here", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "here" / "walkthrough" / "repo" / ".git").is_dir()  # -C: --dir is relative to it


_HELP: dict[tuple[str, ...], subprocess.CompletedProcess] = {}


def help_of(*command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``revgraph COMMAND --help`` run in an empty folder ``cwd``; the help tests below read
    the same texts, so each command line runs once (per test process) and is kept."""
    if command not in _HELP:
        assert not any(cwd.iterdir()), cwd
        _HELP[command] = revgraph(*command, "--help", cwd=cwd)
    return _HELP[command]


@pytest.mark.parametrize("command", ["check", "fix", "heads", "merge-driver"])
def test_each_commands_help_says_global_options_may_follow_it(tmp_path, command):
    done = help_of(command, cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "Global options may also be given after the command" in text
    assert "-q/--quiet" in text


@pytest.mark.parametrize("command", [None, *sorted(typer.main.get_command(cli.app).commands)])
def test_no_flag_shows_a_value_type_in_help(tmp_path, command):
    # typer 0.29 printed "--quiet <bool>" (even "--help <bool>"): a flag takes no value.
    done = help_of(*([command] if command else []), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ --help ")]
    assert len(rows) == 1 and re.match(r"│ --help\s+-h\s+Show this message", rows[0]), rows
    for value_option in ("--base", "--format") if command == "check" else ():
        assert any(value_option in line and re.search(r"\b(REF|FORMAT)\b", line)
                   for line in done.stdout.splitlines()), value_option  # fmt: skip


@pytest.mark.parametrize("command", ["check", "doctor", "fix"])
def test_the_base_option_s_help_names_every_default_in_order(tmp_path, command):
    # rich markup once ate "[tool.revgraph]" from this line ("default:  base").
    done = help_of(command, cwd=tmp_path)
    text = " ".join(done.stdout.replace("│", " ").split())
    assert "(default: [tool.revgraph] base, CI variables, origin/HEAD, main, master)" in text, text
