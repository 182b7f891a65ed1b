"""Every hostile case through every command (issue 9 §1, PRODUCT §9).

For each case of ``corpus.CASES`` and each of `heads`, `check`, `doctor`,
`graph`, `fix --dry-run` and the merge driver: no traceback, the documented
exit code, a report naming the file and line, not one file written anywhere
in the repository (nor in the folder a symlink escapes to; see
``corpus.file_states``) and no planted `.pyc` executed.

The CLI runs in-process (``revgraph.cli.run``, the same code as
``python -m revgraph``) so that some 300 runs stay cheap; the merge driver runs
as git would run it, a process started in the worktree.
"""

from __future__ import annotations

import dataclasses
import json
import re
import os
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath

import pytest

from tests.hostile.corpus import (
    BASE_ID,
    BIG_FILE_BYTES,
    CASE_NAMES,
    NEW_ID,
    CaseRepo,
    Outcome,
    build_case_repo,
    case_named,
    changed_files,
    file_states,
    lock_heads,
    lock_text,
    missing_places,
    run_in_process,
    run_merge_driver,
    tracebacks,
)
from tests.support.gitrepo import apply_environ, isolated_environ
from tests.support.templates import store_root

needs_proc_io = pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")


@pytest.fixture(scope="session")
def corpus_repo(tmp_path_factory):
    """``corpus_repo(name)``: the case's repository, built once per session (reads never change it)."""
    env = apply_environ(isolated_environ(tmp_path_factory.mktemp("corpus-home")), os.environ)
    built: dict[str, CaseRepo] = {}
    locks: dict[str, threading.Lock] = {}
    lock = threading.Lock()  # the driver runs' threads build too: each case once

    def get(name: str) -> CaseRepo:
        with lock:
            case_lock = locks.setdefault(name, threading.Lock())
        with case_lock:
            if name not in built:
                folder = tmp_path_factory.mktemp(f"case-{name}")
                built[name] = build_case_repo(folder / "repo", case_named(name), env)
            return built[name]

    return get


@pytest.fixture
def run_read_only(git_env, capsys):
    """Run the CLI in-process on a case repo; assert no crash and no file changed."""

    def go(cr: CaseRepo, *args: str) -> Outcome:
        before = file_states(*cr.watched)
        outcome = run_in_process(capsys, "-C", str(cr.path), *args)
        assert not tracebacks(outcome.text), f"revgraph {' '.join(args)} crashed:\n{outcome.text}"
        assert changed_files(before, file_states(*cr.watched)) == [], f"revgraph {' '.join(args)} wrote"
        assert cr.sprung_traps() == [], f"revgraph {' '.join(args)} executed a compiled revision"
        return outcome

    return go


# Known bugs, each shown by the one (command, case) pair it breaks; see the reason.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def cases(command: str):
    """Parametrize over every case, marking the known-bug pairs xfail(strict)."""
    params = []
    for name in CASE_NAMES:
        reason = KNOWN_BUGS.get((command, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return pytest.mark.parametrize("name", params)


def _missing(text: str, cr: CaseRepo) -> list:
    return missing_places(text, cr.named)


def _annotated_places(out: str) -> str:
    """``path:line`` of each GitHub annotation, from its (escaped) file and line properties."""
    places = []
    for line in out.splitlines():
        found = re.match(r"::\w+ file=([^,]*),line=(\d+)", line)
        if found:
            path = found[1]
            for escaped, char in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
                path = path.replace(escaped, char)
            places.append(f"{path}:{found[2]}")
    return "\n".join(places)


# ---------------------------------------------------------------- heads
@cases("heads")
def test_heads_lists_only_readable_heads_and_names_each_unreadable_file(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "heads", "--json")

    assert result.code == 0, result.text
    [env] = json.loads(result.out)["environments"]
    assert set(env["heads"]) == cr.case.heads
    if cr.case.unreadable:
        assert _missing(result.err, cr) == [], result.err
    assert (cr.case.warns or "") in result.err


@cases("heads-ref")
def test_heads_of_the_committed_ref_agree_with_the_working_tree(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "heads", "--ref", "feature", "--json")

    assert result.code == 0, result.text
    [env] = json.loads(result.out)["environments"]
    assert set(env["heads"]) == cr.case.heads
    if cr.case.unreadable and cr.case.commit:
        assert _missing(result.err, cr) == [], result.err


# ---------------------------------------------------------------- check
@cases("check")
def test_check_reports_the_case_at_its_file_and_line(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "check", "--format", "json")

    report = json.loads(result.out)
    found = {f["code"] for f in report["findings"]}
    errors = {f["code"] for f in report["findings"] if f["severity"] == "error"}
    assert result.code == (1 if cr.case.errors else 0), result.text
    assert cr.case.codes <= found, report["findings"]
    assert errors <= cr.case.codes, report["findings"]  # nothing else is wrong with these trees
    places = {
        (loc["path"], loc["line"])
        for f in report["findings"]
        if f["code"] in cr.case.codes
        for loc in f["locations"]
    }
    unnamed = [n for n in cr.named if not any((n.path, line) in places for line in n.lines)]
    assert unnamed == [], (unnamed, report["findings"])
    assert (cr.case.warns or "") in result.err


@cases("doctor")
def test_doctor_explains_the_case_naming_file_and_line(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "doctor")

    assert result.code == (1 if cr.case.errors else 0), result.text
    assert _missing(result.out, cr) == [], result.out
    assert (cr.case.warns or "") in result.err


REPORT_FORMATS = ("text", "github", "sarif", "junit", "markdown")
ODD_CASES = ("name_with_spaces", "name_non_ascii", "name_not_utf8_unreadable", "binary_junk", "conflict_markers")


@pytest.mark.parametrize("fmt", REPORT_FORMATS)
@pytest.mark.parametrize("name", ODD_CASES)
def test_every_report_format_renders_odd_names_and_contents(name, fmt, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "check", "--format", fmt)

    assert result.code == (1 if cr.case.errors else 0), result.text
    if fmt == "text":  # the format meant to be read as lines
        assert _missing(result.out, cr) == [], result.out
    if fmt == "github":  # each annotation sits on its file and line (its properties)
        assert _missing(_annotated_places(result.out), cr) == [], result.out
    if fmt == "sarif":
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
                for run in json.loads(result.out)["runs"] for r in run["results"] for loc in r["locations"]}  # fmt: skip
        assert {urllib.parse.unquote(u, errors="surrogateescape") for u in uris} >= {n.path for n in cr.named}


# ---------------------------------------------------------------- graph
@cases("graph")
def test_graph_draws_the_readable_revisions_and_warns_about_the_rest(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "graph", "--focus", "all")

    assert result.code == 0, result.text
    for head in cr.case.heads:
        assert head in result.out
    if cr.case.unreadable:
        assert _missing(result.err, cr) == [], result.err
    assert (cr.case.warns or "") in result.err


GRAPH_FORMATS = ("tree", "mermaid", "dot", "svg", "html", "json")
ODD_NAMES = ("name_with_spaces", "name_non_ascii", "name_not_utf8", "symlink_inside_repository")


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@pytest.mark.parametrize("name", ODD_NAMES)
def test_every_graph_format_draws_revisions_with_odd_file_names(name, fmt, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "graph", "--focus", "all", "--format", fmt)

    assert result.code == 0, result.text
    assert NEW_ID in result.out
    if fmt == "json":
        assert NEW_ID in {node["id"] for node in json.loads(result.out)["nodes"]}


# ------------------------------------------------------------------ fix
@cases("fix")
def test_fix_dry_run_refuses_what_it_cannot_read_naming_it_and_writes_nothing(name, corpus_repo, run_read_only):
    cr = corpus_repo(name)
    result = run_read_only(cr, "fix", "--dry-run")

    if cr.case.unreadable:
        assert result.code == 1, result.text
        assert len(_missing(result.err, cr)) < len(cr.named), result.err  # names one at least
    elif cr.case.codes & {"RG103", "RG104", "RG105"}:
        # Duplicates, missing targets and cycles are not guessed at: refused, naming what to fix first.
        assert result.code == 1, result.text
        assert "dry run" not in result.out
        if "RG103" in cr.case.codes:
            assert all(n.path in result.err for n in cr.named), result.err  # every file declaring it
        else:
            assert all(PurePosixPath(n.path).name.split("_")[0] in result.err for n in cr.named), result.err
    else:
        assert result.code == 0, result.text
        assert "nothing to fix" in result.out


# ---------------------------------------------------------- merge driver
DRIVER_TEST = "test_merge_driver_reading_the_case_from_git_never_merges_doubt_cleanly"


@dataclass
class DriverRun:
    returncode: int
    stdout: str
    stderr: str
    merged: str  # %A after the run
    changed: list[str]  # files of the case repository that changed meanwhile
    traps: list[str]  # traps sprung in the case repository the driver ran in


@pytest.fixture(scope="session")
def driver_runs(request, corpus_repo, tmp_path_factory):
    """``driver_runs(name)``: the driver's run on that case, each run once per test run.

    A driver is a process of its own (git starts it in the worktree); running
    them three at a time, each on its own repository, saves most of their
    start-up time. Each run only ever sees its own repository.

    Under xdist every worker collects every case but runs only some: each
    worker that reaches these tests claims cases not yet claimed (an
    ``O_EXCL`` file in a folder the run's workers share) and runs those, and
    every answer is written there for whichever worker runs that case's test
    (before, each of the three workers ran the driver on all cases).
    """
    env = apply_environ(isolated_environ(tmp_path_factory.mktemp("driver-home")), os.environ)
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", None) == DRIVER_TEST
    ]
    shared = store_root(
        tmp_path_factory.getbasetemp(), os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_TESTRUNUID")
    ) / "hostile-driver-runs"
    shared.mkdir(parents=True, exist_ok=True)

    def run(name: str) -> DriverRun:
        cr = corpus_repo(name)
        before = file_states(*cr.watched)
        # Both sides changed the lock's heads: the driver must read both commits' revisions.
        proc, merged = run_merge_driver(
            cr.path,
            tmp_path_factory.mktemp(f"driver-{name}"),
            ancestor=lock_text(BASE_ID),
            ours=lock_text("111111111111"),
            theirs=lock_text("222222222222"),
            incoming=cr.main_sha,
            env=env,
        )
        changed = changed_files(before, file_states(*cr.watched))
        return DriverRun(proc.returncode, proc.stdout, proc.stderr, merged, changed, cr.sprung_traps())

    def publish(name: str, result: DriverRun) -> None:
        tmp = shared / f"{name}.json.tmp"
        tmp.write_text(json.dumps(dataclasses.asdict(result)), encoding="utf-8")
        tmp.replace(shared / f"{name}.json")

    def claim_and_run() -> None:
        for name in selected:
            try:
                os.close(os.open(shared / f"{name}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue  # another thread or worker runs it
            publish(name, run(name))

    def get(name: str) -> DriverRun:
        answer = shared / f"{name}.json"
        deadline = time.monotonic() + 240
        while not answer.exists():
            for claimer in claimers:
                if claimer.done() and claimer.exception():
                    raise claimer.exception()
            if time.monotonic() > deadline:  # its claimer (another worker) died: run it here
                publish(name, run(name))
                break
            time.sleep(0.05)
        return DriverRun(**json.loads(answer.read_text(encoding="utf-8")))

    with ThreadPoolExecutor(max_workers=3) as pool:
        claimers = [pool.submit(claim_and_run) for _ in range(3)]
        yield get
        for claimer in claimers:
            claimer.result()  # a run that failed fails here too


@cases("driver")
def test_merge_driver_reading_the_case_from_git_never_merges_doubt_cleanly(name, corpus_repo, driver_runs):
    cr = corpus_repo(name)
    run = driver_runs(name)
    merged = run.merged

    assert not tracebacks(run.stdout, run.stderr), run.stderr
    assert run.returncode in (0, 1), run.stderr
    assert run.changed == []
    assert run.traps == []
    assert cr.sprung_traps() == []
    if cr.case.unreadable:
        assert run.returncode == 1, merged  # any doubt is a conflict, never a guessed clean merge
    elif not cr.case.errors:
        assert run.returncode == 0, run.stderr
    if run.returncode == 1:
        assert "<<<<<<<" in merged and "revgraph fix" in merged
    else:
        assert lock_heads(merged) == set(cr.case.heads), merged


# ------------------------------------------------------------ big files
@needs_proc_io
def test_a_50_mb_file_on_disk_is_refused_without_being_read(corpus_repo, run_read_only):
    cr = corpus_repo("file_of_50_mb")
    run_read_only(cr, "--no-cache", "heads")  # imports and warm-up

    result = run_read_only(cr, "--no-cache", "heads")

    assert result.code == 0 and NEW_ID not in result.out, result.text
    assert result.bytes_read < BIG_FILE_BYTES // 10


@needs_proc_io
def test_a_50_mb_file_in_a_ref_is_refused_without_being_read(corpus_repo, run_read_only):
    cr = corpus_repo("file_of_50_mb")
    run_read_only(cr, "--no-cache", "heads", "--ref", "feature")

    result = run_read_only(cr, "--no-cache", "heads", "--ref", "feature")

    assert result.code == 0 and NEW_ID not in result.out, result.text
    assert result.bytes_read < BIG_FILE_BYTES // 10
