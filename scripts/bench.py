"""Benchmark revgraph against alembic on generated repositories (PRODUCT §8).

For each size (default 1,000 / 5,000 / 20,000 revisions) ``scripts/genrepo.py``
writes a realistic Alembic git repository (forks closed by merge revisions, a
branch-labelled second line, a ``feature`` branch forked from an old head of
``main`` and checked out), then this script times, side by side in one run,
whole processes, each started fresh:

* ``python -c pass``: interpreter start on this machine;
* ``alembic heads`` (``python -m alembic heads`` in the repository, after one
  untimed run so that the revisions' byte-code is cached, as on a developer's
  machine), and again as in a fresh clone (CI): no byte-code of the revision
  files (``PYTHONDONTWRITEBYTECODE=1``);
* ``revgraph heads`` and ``revgraph --help``;
* ``revgraph check --base main``: *cold* (``.git/revgraph`` removed before each
  run), *parse cache only* (whole-result cache removed before each run, as
  after a commit that touches the versions folder) and *warm*;
* ``revgraph merge-driver`` on the lock file as ``git merge main`` on the
  feature branch would call it (both sides changed the heads: the driver reads
  both refs), and the trivial case (only one side changed);
* the floor: ``git ls-tree`` of the snapshots ``check`` reads and one
  ``git cat-file --batch`` of every distinct blob in them.

Each row gives the median and minimum wall time, the runs, and the peak
resident memory of the largest process of the run (``wait4``'s
``ru_maxrss``: a forked parse worker counts on its own, not summed). The
targets of the issue follow, each marked PASS or MISS.

    python scripts/bench.py                       # 1k, 5k, 20k
    python scripts/bench.py --quick               # 1k only, fewer runs
    python scripts/bench.py --sizes 5000 --runs 7 --keep-dir /tmp/rg-bench

The machine matters: the header describes it, with the load average before
and after, since a busy machine slows every row alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genrepo

# Targets (issue 7 / PRODUCT §8), whole process.
WARM_VS_ALEMBIC_5K = 20.0
WARM_VS_ALEMBIC_20K = 100.0
WARM_MAX_20K = 0.3
DRIVER_MAX_20K = 0.3
MEMORY_MAX_20K_MB = 200.0
HEADS_STARTUP_MAX = 0.25  # at 100 revisions
COLD_FLOOR_FACTOR = 2.0


# ------------------------------------------------------------------ timing
@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system, the process and its children
    peak_kb: int = 0
    exit_codes: set[int] = field(default_factory=set)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else float("nan")


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(argv: Sequence[str], *, cwd: Path, env: dict[str, str], stdin: Path | None = None) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, peak RSS (KB) and exit code of one whole process.

    The peak comes from GNU time when installed: a child's own ``ru_maxrss``
    also counts the memory of the process that forked it (this script).
    """
    report = tempfile.NamedTemporaryFile(prefix="rgbench-time-", delete=False)
    report.close()
    wrapped = [TIME, "-q", "-f", "%M", "-o", report.name, *argv] if TIME else list(argv)
    try:
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source:
            start = time.perf_counter()
            proc = subprocess.Popen(
                wrapped, cwd=cwd, env=env, stdin=source,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
        peak = usage.ru_maxrss
        cpu = usage.ru_utime + usage.ru_stime
        if TIME:
            lines = Path(report.name).read_text().split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else peak
    finally:
        os.unlink(report.name)
    return elapsed, cpu, peak, os.waitstatus_to_exitcode(status)


def measure(
    label: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    runs: int,
    before: Callable[[], None] | None = None,
    warmup: int = 0,
    stdin: Path | None = None,
    note: str = "",
) -> Timing:
    timing = Timing(label, note=note)
    for i in range(warmup + runs):
        if before is not None:
            before()
        elapsed, cpu, peak, code = run_once(argv, cwd=cwd, env=env, stdin=stdin)
        if i >= warmup:
            timing.seconds.append(elapsed)
            timing.cpu.append(cpu)
            timing.peak_kb = max(timing.peak_kb, peak)
            timing.exit_codes.add(code)
    return timing


# ---------------------------------------------------------------- the machine
def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _version(argv: Sequence[str]) -> str:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def describe_machine() -> list[str]:
    alembic = _version([sys.executable, "-c", "import alembic; print(alembic.__version__)"])
    revgraph = _version([sys.executable, "-c", "import revgraph; print(revgraph.__version__)"])
    return [
        f"- CPU: {_first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} logical cores "
        f"(`nproc`: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})",
        f"- memory: {_first('/proc/meminfo', 'MemTotal')}",
        f"- OS: {platform.system()} {platform.release()}; filesystem of the repositories: "
        f"{_fs_type(tempfile.gettempdir())}",
        f"- Python {platform.python_version()}, {_version(['git', '--version'])}, alembic {alembic}, "
        f"revgraph {revgraph}",
    ]


def _fs_type(path: str) -> str:
    try:
        out = subprocess.run(["df", "-T", path], capture_output=True, text=True).stdout.splitlines()
        return out[1].split()[1]
    except (OSError, IndexError):
        return "?"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ----------------------------------------------------------------- one size
@dataclass
class SizeResult:
    n: int
    worktree_revisions: int
    generate_seconds: float
    timings: dict[str, Timing]
    floor_seconds: float
    floor_blobs: int


def revgraph_argv() -> list[str]:
    """The console script installed with this interpreter, as a user runs it.

    Not the first ``revgraph`` on PATH: a version manager's shim there (pyenv's
    is a bash script) would add its own start-up to every row.
    """
    beside = Path(sys.executable).with_name("revgraph")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("revgraph")
    return [found] if found else [sys.executable, "-m", "revgraph"]


def bench_environ(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("GIT_", "REVGRAPH_", "GITHUB_", "CI_")) or name == "CI":
            env.pop(name)
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), GIT_CONFIG_NOSYSTEM="1",
               NO_COLOR="1", TERM="dumb", LC_ALL="C.UTF-8")  # fmt: skip
    # Byte-code caching on, as on any installed machine (a session may turn it off),
    # kept out of the source tree; the untimed first runs fill it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home.parent / "pycache")
    return env


def snapshot_sources(workdir: Path, env: dict[str, str]) -> None:
    """Run a copy of revgraph's sources taken now: edits made during the bench change nothing."""
    import revgraph

    source = Path(revgraph.__file__).resolve().parent
    copy = workdir / "src"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy / "revgraph", ignore=shutil.ignore_patterns("__pycache__"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(copy), env.get("PYTHONPATH")) if p)


def _git(repo: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout


def prepare(workdir: Path, n: int, env: dict[str, str]) -> tuple[Path, float]:
    repo = workdir / f"repo-{n}"
    marker = repo / ".git" / "bench-complete"
    if marker.exists():
        return repo, float("nan")
    if repo.exists():
        shutil.rmtree(repo)
    start = time.perf_counter()
    genrepo.generate(repo, n)
    elapsed = time.perf_counter() - start
    # Refresh the index once, as the developer's own git would (a prompt, an IDE,
    # `git status`): revgraph never writes the index (GIT_OPTIONAL_LOCKS=0). It
    # must be a second after the checkout: git compares file times to the second,
    # and entries as new as the index stay "racy", re-hashed by every git status
    # (4k of the 18k files at 20k revisions, doubling git status's time).
    time.sleep(1.1)
    _git(repo, "status", "--short", env=env)
    marker.write_text("ok\n")
    return repo, elapsed


def floor_inputs(repo: Path, workdir: Path, env: dict[str, str]) -> tuple[list[list[str]], Path, int]:
    """The ls-tree commands of the snapshots ``check`` reads, and a file of their distinct blob ids."""
    merge_base = _git(repo, "merge-base", "HEAD", "main", env=env).strip()
    # exit 1 is a conflict (the lock file, by design); the tree is written anyway
    merged = subprocess.run(["git", "merge-tree", "--write-tree", "HEAD", "main"], cwd=repo, env=env,
                            capture_output=True, text=True).stdout.split()[0]  # fmt: skip
    listings = [["git", "ls-tree", "-r", "-z", treeish, "--", genrepo.VERSIONS] for treeish in ("HEAD", "main", merge_base, merged)]
    oids: dict[str, None] = {}
    for argv in listings:
        out = subprocess.run(argv, cwd=repo, env=env, capture_output=True, check=True).stdout
        for record in out.split(b"\0"):
            if record:
                oids[record.split(b"\t")[0].split(b" ")[2].decode()] = None
    path = workdir / f"blobs-{repo.name}.txt"
    path.write_text("".join(f"{oid}\n" for oid in oids))
    return listings, path, len(oids)


def lock_files(repo: Path, workdir: Path, env: dict[str, str]) -> dict[str, Path]:
    """The lock file's three versions for `git merge main` on the feature branch."""
    merge_base = _git(repo, "merge-base", "HEAD", "main", env=env).strip()
    found = {}
    for name, treeish in (("ancestor", merge_base), ("ours", "HEAD"), ("theirs", "main")):
        path = workdir / f"lock-{repo.name}-{name}"
        path.write_bytes(subprocess.run(["git", "show", f"{treeish}:{genrepo.LOCK_PATH}"], cwd=repo, env=env, capture_output=True, check=True).stdout)
        found[name] = path
    return found


def bench_size(n: int, workdir: Path, *, runs: int, slow_runs: int, env: dict[str, str], log: Callable[[str], None]) -> SizeResult:
    repo, generated = prepare(workdir, n, env)
    log(f"{n}: repository ready ({generated:.1f} s)")
    rg = revgraph_argv()
    cache = repo / ".git" / "revgraph"
    timings: dict[str, Timing] = {}

    def drop_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def drop_results() -> None:
        # Every whole-result level: the results and the express lane's tickets.
        shutil.rmtree(cache / "results", ignore_errors=True)
        shutil.rmtree(cache / "express", ignore_errors=True)

    def record(key: str, timing: Timing) -> None:
        timings[key] = timing
        log(f"{n}: {timing.label}: median {timing.median:.3f} s, peak {timing.peak_kb / 1024:.0f} MB")

    record("python", measure("python -c pass (interpreter start)", [sys.executable, "-c", "pass"], cwd=repo, env=env, runs=runs, warmup=1))
    listings, blob_file, blob_count = floor_inputs(repo, workdir, env)
    lsr = [measure(f"git ls-tree {argv[4][:12]}", argv, cwd=repo, env=env, runs=runs) for argv in listings]
    cat = measure("git cat-file --batch", ["git", "cat-file", "--batch"], cwd=repo, env=env, runs=runs, stdin=blob_file)
    floor = Timing(f"floor: {len(listings)} × git ls-tree + git cat-file --batch of {blob_count} blobs",
                   seconds=[sum(t.median for t in lsr) + cat.median],
                   cpu=[sum(t.cpu_median for t in lsr) + cat.cpu_median],
                   peak_kb=max([cat.peak_kb, *[t.peak_kb for t in lsr]]))  # fmt: skip
    record("floor", floor)
    record("alembic", measure("alembic heads", [sys.executable, "-m", "alembic", "heads"], cwd=repo, env=env, runs=slow_runs, warmup=1))
    # A fresh clone (CI): no byte-code of the revision files; installed packages keep theirs.
    fresh_env = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
    fresh_env["PYTHONDONTWRITEBYTECODE"] = "1"
    shutil.rmtree(repo / genrepo.VERSIONS / "__pycache__", ignore_errors=True)
    record("alembic_fresh", measure("alembic heads, fresh clone (no byte-code of the revisions)",
                                    [sys.executable, "-m", "alembic", "heads"], cwd=repo, env=fresh_env,
                                    runs=slow_runs))  # fmt: skip
    record("help", measure("revgraph --help", [*rg, "--help"], cwd=repo, env=env, runs=runs, warmup=1))
    check = [*rg, "check", "--base", "main"]
    record("cold", measure("revgraph check --base main, cold", check, cwd=repo, env=env, runs=slow_runs, before=drop_cache))
    record("parsed", measure("revgraph check --base main, parse cache only", check, cwd=repo, env=env, runs=slow_runs, before=drop_results, warmup=1))
    record("warm", measure("revgraph check --base main, warm", check, cwd=repo, env=env, runs=runs, warmup=1))
    record("heads", measure("revgraph heads (warm parse cache)", [*rg, "heads"], cwd=repo, env=env, runs=runs, warmup=1))
    locks = lock_files(repo, workdir, env)
    main_sha = _git(repo, "rev-parse", "main", env=env).strip()
    target = workdir / f"lock-{repo.name}-merged"

    def fresh_ours() -> None:
        shutil.copyfile(locks["ours"], target)

    driver_env = dict(env, **{f"GITHEAD_{main_sha}": "main"})
    driver = [*rg, "merge-driver", str(locks["ancestor"]), str(target), str(locks["theirs"]), genrepo.LOCK_PATH]
    record("driver", measure("revgraph merge-driver, both sides changed (reads both refs)", driver, cwd=repo, env=driver_env, runs=runs, before=fresh_ours))
    trivial = [*rg, "merge-driver", str(locks["ancestor"]), str(target), str(locks["ancestor"]), genrepo.LOCK_PATH]
    record("driver1", measure("revgraph merge-driver, one side changed", trivial, cwd=repo, env=env, runs=runs, before=fresh_ours))
    worktree = len([p for p in os.listdir(repo / genrepo.VERSIONS) if p.endswith(".py")])
    return SizeResult(n, worktree, generated, timings, floor.median, blob_count)


# ------------------------------------------------------------------ report
def table(result: SizeResult) -> list[str]:
    alembic = result.timings["alembic"].median
    lines = [
        f"### {result.n:,} revisions on main ({result.worktree_revisions:,} in the checked-out feature branch)",
        "",
        "| what (whole process) | median | min | CPU (median) | runs | peak RSS | alembic heads ÷ this |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for timing in result.timings.values():
        ratio = alembic / timing.median if timing.median else float("nan")
        codes = ",".join(str(c) for c in sorted(timing.exit_codes))
        lines.append(
            f"| {timing.label}{f' (exit {codes})' if codes and codes != '0' else ''} | {timing.median:.3f} s | "
            f"{timing.best:.3f} s | {timing.cpu_median:.3f} s | {len(timing.seconds)} | "
            f"{timing.peak_kb / 1024:.0f} MB | {ratio:,.1f}× |"
        )
    return lines


def verdicts(results: dict[int, SizeResult], heads_small: Timing | None) -> list[str]:
    """PASS/MISS on wall time, as the targets are stated; the CPU column shows a busy machine's share."""
    rows = ["| target | measured (wall) | same in CPU time | verdict (wall) |", "| --- | --- | --- | --- |"]

    def row(name: str, wall: str, cpu: str, ok: bool) -> None:
        rows.append(f"| {name} | {wall} | {cpu} | {'PASS' if ok else 'MISS'} |")

    for n, factor in ((5000, WARM_VS_ALEMBIC_5K), (20000, WARM_VS_ALEMBIC_20K)):
        r = results.get(n)
        if r:
            warm = r.timings["warm"]
            for key, what in (("alembic", "with its byte-code cached"), ("alembic_fresh", "fresh clone")):
                alembic = r.timings[key]
                ratio = alembic.median / warm.median
                row(f"warm check ≥ {factor:.0f}× faster than alembic heads ({what}) at {n:,}", f"{ratio:,.1f}×",
                    f"{alembic.cpu_median / warm.cpu_median:,.1f}×", ratio >= factor)  # fmt: skip
    r = results.get(20000)
    if r:
        t = r.timings
        row(f"warm check ≤ {WARM_MAX_20K} s at 20,000", f"{t['warm'].median:.3f} s",
            f"{t['warm'].cpu_median:.3f} s", t["warm"].median <= WARM_MAX_20K)  # fmt: skip
        bound = COLD_FLOOR_FACTOR * r.floor_seconds + t["python"].median
        bound_cpu = COLD_FLOOR_FACTOR * t["floor"].cpu_median + t["python"].cpu_median
        row("cold check ≤ 2 × floor + interpreter start at 20,000",
            f"{t['cold'].median:.2f} s vs {bound:.2f} s", f"{t['cold'].cpu_median:.2f} s vs {bound_cpu:.2f} s",
            t["cold"].median <= bound)  # fmt: skip
        for key, what in (("driver", "both sides changed"), ("driver1", "one side changed")):
            row(f"merge driver ≤ {DRIVER_MAX_20K} s at 20,000 ({what})", f"{t[key].median:.3f} s",
                f"{t[key].cpu_median:.3f} s", t[key].median <= DRIVER_MAX_20K)  # fmt: skip
        peak = max(x.peak_kb for k, x in t.items() if k not in ("alembic", "alembic_fresh", "python", "floor")) / 1024
        row(f"peak memory ≤ {MEMORY_MAX_20K_MB:.0f} MB at 20,000 (largest revgraph process)",
            f"{peak:.0f} MB", "", peak <= MEMORY_MAX_20K_MB)  # fmt: skip
    if heads_small is not None:
        row(f"revgraph heads ≤ {HEADS_STARTUP_MAX} s at 100 revisions", f"{heads_small.median:.3f} s",
            f"{heads_small.cpu_median:.3f} s", heads_small.median <= HEADS_STARTUP_MAX)  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000", help="comma-separated revision counts")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each fast command")
    parser.add_argument("--slow-runs", type=int, default=3, help="timed runs of alembic heads and of cold checks")
    parser.add_argument("--quick", action="store_true", help="1,000 revisions, 3 runs")
    parser.add_argument("--keep-dir", type=Path, help="build (and reuse) repositories here")
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    runs, slow = (3, 2) if args.quick else (args.runs, args.slow_runs)
    workdir = args.keep_dir or Path(tempfile.mkdtemp(prefix="revgraph-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = bench_environ(workdir / "home")
    snapshot_sources(workdir, env)

    def log(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    load_before = load_average()
    started = time.time()
    small_repo, _ = prepare(workdir, 100, env)
    heads_small = measure("revgraph heads at 100", [*revgraph_argv(), "heads"], cwd=small_repo, env=env, runs=args.runs, warmup=1)
    log(f"100: revgraph heads: median {heads_small.median:.3f} s")
    results = {n: bench_size(n, workdir, runs=runs, slow_runs=slow, env=env, log=log) for n in sizes}
    out = ["## Machine", "", *describe_machine(),
           f"- load average (1, 5, 15 min) before: {load_before}; after: {load_average()}; "
           f"bench took {time.time() - started:.0f} s", "",
           f"`revgraph heads` on a 100-revision repository: median {heads_small.median:.3f} s "
           f"(min {heads_small.best:.3f} s, {len(heads_small.seconds)} runs)", ""]  # fmt: skip
    for result in results.values():
        out += table(result)
        out.append("")
    out += ["## Targets", "", *verdicts(results, heads_small)]
    print("\n".join(out))
    if not args.keep_dir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
