"""The command line's door (``revgraph.entry``): hot commands answered before typer loads.

A plain ``heads`` and a warm ``check`` never import typer, click, rich,
pydantic, networkx, alembic or GitPython, and answer exactly what the full
typer CLI (``revgraph.cli.run_app``) answers: same stdout, stderr and exit
code, errors included. The console script and ``python -m revgraph`` both
enter here. ``parse_argv`` is held against typer's own parsing on random
command lines.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.gitrepo import run_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revgraph import cli, entry, resultcache

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo

HEAVY = {"typer", "click", "rich", "pydantic", "pydantic_core", "networkx", "alembic", "git", "sqlalchemy"}


@pytest.fixture
def repo(tmp_path, git_env):
    return genrepo.generate(tmp_path / "repo", 40, seed=7, commits=6)


def outcome(capsys, run, args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def fast_and_full(capsys, monkeypatch, args) -> tuple[tuple, tuple]:
    """The same command line through the fast path (asserted taken) and through typer."""
    with monkeypatch.context() as m:
        m.setattr(cli, "run_app", lambda a: pytest.fail(f"{a} was not answered by the fast path"))
        fast = outcome(capsys, entry.run, args)
    full = outcome(capsys, cli.run_app, args)
    return fast, full


def imported(stderr: str) -> set[str]:
    """Top-level names of the modules ``-X importtime`` reports."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    return names


def python_m(*args, cwd=None, importtime=False) -> subprocess.CompletedProcess:
    if not importtime:  # what was imported does not matter: a fork of the zygote will do
        return run_module("revgraph", *args, cwd=cwd)
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "revgraph", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)  # fmt: skip


def without_importtime(stderr: str) -> str:
    return "".join(line + "\n" for line in stderr.splitlines() if not line.startswith("import time:"))


# ------------------------------------------------------------ what is imported
def test_warm_check_imports_no_heavy_module_and_answers_like_the_full_cli(repo):
    args = ["-C", repo.path, "check", "--base", "main"]
    python_m(*args)  # a miss: the full CLI stores the result and its rendering
    hit = python_m(*args, importtime=True)
    full = python_m("--debug", *args)  # --debug: a command line the fast path leaves to typer
    assert hit.returncode == full.returncode == 1
    assert (hit.stdout, without_importtime(hit.stderr)) == (full.stdout, full.stderr)
    assert "RG102" in hit.stdout
    loaded = imported(hit.stderr)
    assert "revgraph" in loaded and not loaded & HEAVY, sorted(loaded & HEAVY)


@pytest.mark.parametrize("branch", ["main", None])
def test_a_check_with_every_file_read_before_compiles_no_parser(repo, branch):
    """With the parse cache warm and the whole-result cache gone, a check reads no
    file with the parser, on base itself (nothing new) or on the branch (its new
    revisions known to compile): revgraph.parse (~30 ms of patterns to compile)
    stays unimported, and the answer is the same."""
    if branch:
        subprocess.run(["git", "checkout", "-q", branch], cwd=repo.path, check=True)
    args = ["-C", repo.path, "check", "--base", "main"]
    python_m(*args)  # parses every file, stores results
    for level in ("results", "express"):
        shutil.rmtree(repo.path / ".git" / "revgraph" / level, ignore_errors=True)
    again = python_m(*args, importtime=True)
    fresh = python_m("--no-cache", *args)
    assert (again.returncode, again.stdout, without_importtime(again.stderr)) == (fresh.returncode, fresh.stdout, fresh.stderr)
    modules = {line.rsplit("|", 1)[1].strip() for line in again.stderr.splitlines() if line.startswith("import time:") and "|" in line}
    assert "revgraph.api" in modules and "revgraph.parse" not in modules


@pytest.mark.parametrize("extra", [[], ["--json"], ["-v", "--ref", "main"]])
def test_heads_imports_no_heavy_module_and_answers_like_the_full_cli(repo, extra):
    args = ["-C", repo.path, "heads", *extra]
    fast = python_m(*args, importtime=True)
    full = python_m("--debug", *args)
    assert fast.returncode == full.returncode == 0
    assert (fast.stdout, without_importtime(fast.stderr)) == (full.stdout, full.stderr)
    loaded = imported(fast.stderr)
    assert "revgraph" in loaded and not loaded & HEAVY, sorted(loaded & HEAVY)


def test_version_imports_no_heavy_module_and_answers_like_the_full_cli(tmp_path):
    fast = python_m("--version", cwd=tmp_path, importtime=True)
    full = python_m("--debug", "--version", cwd=tmp_path)
    assert fast.returncode == full.returncode == 0
    assert (fast.stdout, without_importtime(fast.stderr)) == (full.stdout, full.stderr)
    assert fast.stdout.startswith("revgraph ")
    loaded = imported(fast.stderr)
    assert "revgraph" in loaded and not loaded & HEAVY, sorted(loaded & HEAVY)


def test_the_full_cli_still_runs_for_other_commands(repo):
    done = python_m("-C", repo.path, "rules", importtime=True)
    assert done.returncode == 0 and "RG102" in done.stdout
    assert "typer" in imported(done.stderr)


def test_console_script_enters_through_entry(repo):
    from importlib.metadata import entry_points

    (script_entry,) = [e for e in entry_points(group="console_scripts") if e.name == "revgraph"]
    assert script_entry.value == "revgraph.entry:main", "reinstall: pip install -e ."
    import sysconfig

    script = Path(sysconfig.get_path("scripts")) / "revgraph"
    if not script.is_file():
        pytest.skip("no console script installed next to this interpreter")
    args = ["-C", str(repo.path), "heads", "--json"]
    by_script = subprocess.run([sys.executable, "-X", "importtime", str(script), *args],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    by_module = python_m(*args)
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout
    assert json.loads(by_script.stdout)["environments"][0]["heads"]
    assert not imported(by_script.stderr) & HEAVY


# ------------------------------------------------- same answers, in-process
@pytest.mark.parametrize(
    "argv",
    [
        ["heads"],
        ["heads", "--json"],
        ["heads", "-v"],
        ["-v", "heads", "--ref", "main"],
        ["heads", "--ref=main", "--json"],
        ["--no-cache", "heads", "--json"],
        ["-q", "--no-color", "heads"],
        ["--color", "heads", "-v"],  # through rich, on both paths
        ["heads", "--ref", "no-such-branch"],  # exit 2, one line on stderr
        ["heads", "--ref", "feature~1000"],
        ["--env", "nope", "heads"],
        ["-c", "missing.ini", "heads"],
    ],
)
def test_heads_fast_path_equals_the_typer_command(repo, capsys, monkeypatch, argv):
    fast, full = fast_and_full(capsys, monkeypatch, ["-C", repo.path, *argv])
    assert fast == full
    assert "Traceback" not in fast[2] and "internal error" not in fast[2]


def test_heads_outside_any_project_fails_alike(tmp_path, git_env, capsys, monkeypatch):
    fast, full = fast_and_full(capsys, monkeypatch, ["-C", tmp_path, "heads", "--json"])
    assert fast == full and fast[0] == 2 and fast[1] == ""


def test_heads_with_several_environments_and_warnings_equals_the_typer_command(
    gitrepo, capsys, monkeypatch
):
    gitrepo.write(
        "pyproject.toml",
        "[tool.revgraph]\nbogus_key = 1\n"
        "[tool.revgraph.environments]\n"
        'shop = { versions = ["shop/versions"] }\n'
        '"odd:env:name" = { versions = ["reporting/versions"] }\n',
    )
    gitrepo.add_revision("zz0001", None, message="z :sparkles: sparkles", versions="shop/versions")
    gitrepo.add_revision("bb0002", "zz0001", message="b\tt", versions="shop/versions")
    gitrepo.add_revision("rr0001", None, message="r", versions="reporting/versions",
                         branch_labels="rep")  # fmt: skip
    gitrepo.write("shop/versions/broken_1.py", "revision = 'x'\ndown_revision = (\n")
    gitrepo.commit("three environments")
    for argv in (["heads"], ["heads", "-v"], ["--color", "heads", "-v"], ["-q", "heads", "--json"],
                 ["heads", "--ref", "HEAD"]):  # fmt: skip
        fast, full = fast_and_full(capsys, monkeypatch, ["-C", gitrepo.path, *argv])
        assert fast == full, argv
        if "-q" not in argv:
            assert "bogus_key" in fast[2], argv
    code, out, err = fast
    assert code == 0 and "rr0001 (rep) (head)" in out
    assert "broken_1.py" in err


def test_heads_warns_about_a_missing_versions_folder_like_the_typer_command(repo, capsys, monkeypatch):
    import shutil

    shutil.rmtree(repo.path / genrepo.VERSIONS)
    for argv in (["heads"], ["heads", "--json"], ["heads", "--ref", "main"]):
        fast, full = fast_and_full(capsys, monkeypatch, ["-C", repo.path, *argv])
        assert fast == full
        assert ("does not exist" in fast[2]) == ("--ref" not in argv)


def test_heads_warns_about_a_history_alembic_cannot_load_like_the_typer_command(gitrepo, capsys, monkeypatch):
    # A cycle, a missing parent and a label clash in one environment, a cycle in
    # another: each a warning line on stderr, the same on both paths; exit 0.
    gitrepo.write(
        "pyproject.toml",
        "[tool.revgraph.environments]\n"
        'shop = { versions = ["shop/versions"] }\n'
        'reporting = { versions = ["reporting/versions"] }\n',
    )
    for rid, down, labels in (("s0", None, None), ("s1", "s0", "s0"), ("s2", "gone", None),
                              ("s3", "s4", None), ("s4", "s3", None)):  # fmt: skip
        gitrepo.add_revision(rid, down, message=rid, versions="shop/versions", branch_labels=labels)
    gitrepo.add_revision("q1", "q2", message="q1", versions="reporting/versions")
    gitrepo.add_revision("q2", "q1", message="q2", versions="reporting/versions")
    gitrepo.commit("two broken environments")
    for argv in (["heads"], ["heads", "--json"], ["-q", "heads", "-v"], ["--color", "heads"],
                 ["heads", "--ref", "HEAD"], ["--env", "reporting", "heads"]):  # fmt: skip
        fast, full = fast_and_full(capsys, monkeypatch, ["-C", gitrepo.path, *argv])
        assert fast == full, argv
        code, out, err = fast
        assert code == 0, err
        assert "alembic cannot load" not in out
        warnings = [line for line in err.splitlines() if "alembic cannot load" in line]
        if "--env" in argv:
            assert warnings == ["warning: alembic cannot load this history: cycle in down_revision (q1, q2)"
                                " — revgraph check explains (RG105)"]
            continue
        assert len(warnings) == 4, err
        assert sum("(environment shop)" in w for w in warnings) == 3
        assert any("(environment reporting): cycle in down_revision (q1, q2)" in w for w in warnings)
        assert any("'gone'" in w and w.endswith("(RG104)") for w in warnings)
        assert any("branch label 's0' of s1 is a revision id" in w for w in warnings)


def test_check_fast_path_equals_the_typer_command(repo, capsys, monkeypatch):
    base = ["-C", repo.path, "check", "--base", "main"]
    assert outcome(capsys, cli.run_app, base)[0] == 1  # warm the result cache
    for extra in ([], ["--format", "json"], ["-f", "sarif"], ["--format=junit", "--select", "RG1"],
                  ["--strict"], ["--ignore", "RG301,rg1"]):  # fmt: skip
        argv = [*base, *extra]
        outcome(capsys, cli.run_app, argv)  # stores this request's result
        fast, full = fast_and_full(capsys, monkeypatch, argv)
        assert fast == full, extra


def test_a_check_the_cache_cannot_answer_runs_without_typer_and_equals_the_typer_command(
    repo, capsys, monkeypatch
):
    """A miss (nothing cached, or an edit since) is checked and rendered by the fast path itself."""
    from revgraph import express

    base = ["-C", repo.path, "check", "--base", "main"]
    for extra in ([], ["--format", "json"], ["-f", "sarif"], ["--format=junit", "--select", "RG1"],
                  ["--strict"], ["--ignore", "RG301,rg1"]):  # fmt: skip
        argv = [*base, *extra]
        shutil.rmtree(repo.path / ".git" / "revgraph", ignore_errors=True)
        fast, full = fast_and_full(capsys, monkeypatch, argv)
        assert fast == full, extra
    # What the miss stored answers the next run from the cache, then from the express lane.
    shutil.rmtree(repo.path / ".git" / "revgraph")
    first = python_m(*base, importtime=True)
    loaded = imported(first.stderr)
    assert first.returncode == 1 and "RG102" in first.stdout
    assert not loaded & {"typer", "click", "pydantic"}, sorted(loaded & HEAVY)
    hits = []
    monkeypatch.setattr(express, "answer", lambda *a, real=express.answer: hits.append(real(*a)) or hits[-1])
    for _ in range(40):  # files written by the generator this second vouch for nothing yet
        assert outcome(capsys, entry.run, base)[1] == first.stdout
        if hits[-1] is not None:
            break
        time.sleep(0.1)
    assert hits[-1] is not None, "the express lane never answered"


def test_project_warnings_survive_a_cached_check(repo, capsys, monkeypatch):
    (repo.path / "pyproject.toml").write_text("[tool.revgraph]\nbogus_key = 1\n")
    for quiet in ([], ["-q"]):
        argv = ["-C", repo.path, *quiet, "check", "--base", "main"]
        assert outcome(capsys, cli.run_app, argv)[0] == 1
        fast, full = fast_and_full(capsys, monkeypatch, argv)
        assert fast == full
        assert ("bogus_key" in fast[2]) == (not quiet)


@pytest.mark.parametrize(
    "argv",
    [
        ["heads", "--help"],
        ["-h", "heads"],
        ["--debug", "heads"],
        ["--version", "heads"],
        ["heads", "extra"],
        ["heads", "--ref"],
        ["heads", "--ref", ""],
        ["heads", "--ref", "-v"],
        ["heads", "--ref", "a", "--ref", "b"],
        ["heads", "-C"],
        ["heads", "--json=1"],
        ["-qv", "heads"],
        ["heads", "--"],
        ["heads", "heads"],
        ["--color", "--env"],
        ["doctor", "heads"],
        ["-C", "heads"],
    ],
)
def test_heads_fast_path_leaves_other_command_lines_to_typer(argv):
    assert entry.fast_heads(argv) is None


# ---------------------------------------------- the parser against typer's
GLOBAL_FLAGS = ["--no-cache", "--color", "--no-color", "-q", "--quiet", "-v", "--verbose"]
GLOBAL_VALUED = ["-C", "-c", "--config", "-n", "--name", "--versions", "--env"]
HEADS_FLAGS = ["--json", "-v", "--verbose"]
HEADS_VALUED = ["--ref", "--format", "-f"]
CHECK_FLAGS = ["--strict"]
CHECK_VALUED = ["--base", "--format", "-f", "--select", "--ignore"]
# What a fast path must refuse: options it does not know, clusters, typos, stray arguments.
JUNK = ["--debug", "-qv", "--json=1", "--strict=1", "extra", "-fjson", "-o", "--db", "--", "-h",
        "--version", "--refs", "heads", "check"]  # fmt: skip
VALUES = ["main", "dir", "sub/x", "a=b", "rg1,RG3", "json", "text", "heads", "check", "", "-", "-x", "--"]


def command_lines(command: str, flags: list[str], valued: list[str]):
    """``[global options] COMMAND [its options]``: mostly well formed, sometimes not."""

    def options(flags: list[str], valued: list[str]):
        flag = st.sampled_from(flags).map(lambda f: [f])
        pair = st.tuples(st.sampled_from(valued), st.sampled_from(VALUES)).map(list)
        inline = st.tuples(st.sampled_from([o for o in valued if o.startswith("--")]),
                           st.sampled_from(VALUES)).map(lambda t: [f"{t[0]}={t[1]}"])  # fmt: skip
        junk = st.sampled_from(JUNK).map(lambda j: [j])
        parts = st.one_of(flag, flag, pair, pair, inline, junk)
        return st.lists(parts, max_size=4).map(lambda xs: [arg for x in xs for arg in x])

    return st.builds(lambda pre, post: [*pre, command, *post],
                     options(GLOBAL_FLAGS, GLOBAL_VALUED), options(flags, valued))  # fmt: skip


# A third of the command lines are accepted, and each of those also runs typer (a few ms):
# at least 100 examples; monkeypatch is undone by hand in each.
SLOW_OK = settings(
    max_examples=max(100, settings.default.max_examples),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SLOW_OK
@given(argv=command_lines("heads", HEADS_FLAGS, HEADS_VALUED))
def test_heads_argv_parses_as_typer_parses_it(argv, monkeypatch, capsys):
    seen = []

    def record(st_, ref, as_json):
        seen.append((st_.options, ref, as_json, st_.verbose, bool(st_.quiet), st_.color))
        return 0

    with monkeypatch.context() as m:
        m.setattr(entry, "show_heads", record)
        fast = entry.fast_heads(argv)
        if fast is None:
            return
        assert fast == 0 and len(seen) == 1
        assert cli.run_app(argv) == 0, capsys.readouterr().err
    assert len(seen) == 2 and seen[0] == seen[1], argv


@SLOW_OK
@given(argv=command_lines("check", CHECK_FLAGS, CHECK_VALUED))
def test_check_argv_parses_as_typer_parses_it(argv, monkeypatch, capsys):
    opts = resultcache.parse_check_argv(argv)
    if opts is None:
        return
    from_fast = (
        entry.options_from(directory=opts.get("directory"), config=opts.get("config"),
                           name=opts.get("name"), versions=opts.get("versions"),
                           env=opts.get("env"), no_cache=opts.get("no_cache", False),
                           quiet=bool(opts.get("quiet"))),
        opts.get("base"), opts.get("format", "text"), opts["select"], opts["ignore"],
        opts.get("strict", False), opts.get("verbose", False), bool(opts.get("quiet")), opts.get("color"),
    )  # fmt: skip
    seen = []

    def record(**kw):
        s = cli.state()
        seen.append((s.options, kw["base"], kw["fmt"], list(kw["select"]), list(kw["ignore"]),
                     kw["strict"], s.verbose, bool(s.quiet), s.color))  # fmt: skip
        assert kw["output"] is None and kw["db"] is None
        return 0

    with monkeypatch.context() as m:
        m.setattr(cli, "_run_check", record)
        assert cli.run_app(argv) == 0, capsys.readouterr().err
    assert seen == [from_fast], argv


@pytest.mark.parametrize("collecting", [True, False])
def test_a_run_does_not_collect_garbage_and_restores_the_callers_collector(repo, capsys, monkeypatch, collecting):
    import gc

    seen: list[bool] = []
    real_run_app = cli.run_app

    def run_app(args):
        seen.append(gc.isenabled())
        return real_run_app(args)

    monkeypatch.setattr(cli, "run_app", run_app)
    before = gc.get_threshold()
    if not collecting:
        gc.disable()
    try:
        entry.run(["-C", str(repo.path), "rules"])
        assert seen == [False]  # a cold 20k check keeps 400k objects alive and frees almost none
        assert gc.isenabled() is collecting
        assert entry.run(["--definitely-not-an-option"]) != 0
        assert gc.isenabled() is collecting
        assert gc.get_threshold() == before
    finally:
        gc.enable()


def test_the_console_script_freezes_the_heap_at_exit_and_still_runs_exit_handlers(repo):
    # main() freezes the collector's objects before the process ends (its
    # last collection would walk them all); exit handlers must still run and
    # the exit code must be the command's.
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "from revgraph.entry import main\n"
        f"main(['-C', {str(repo.path)!r}, 'heads', '--json'])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answer, _, last = done.stdout.rpartition("frozen at exit:")
    assert json.loads(answer)["environments"][0]["heads"]
    assert last.strip() == "True"
    failed = subprocess.run([sys.executable, "-c", probe.replace("'heads', '--json'", "'no-such-command'")],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert failed.returncode == 2 and "frozen at exit: True" in failed.stdout
