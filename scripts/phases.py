"""Where one ``revgraph check`` spends its wall time: a timeline of its phases.

``scripts/bench.py`` says how long a whole process takes; this says where
the time goes inside one, for whoever works on issue 7 next. Each run is a
fresh interpreter that wraps the functions below with wall-clock timers,
notes when each git process starts, runs ``revgraph`` as the console script
would, and reports at exit. No profiler is attached: a sampling profiler at
2 kHz slowed a cold 20k check several-fold, and cProfile even more.

    python scripts/bench.py --sizes 20000 --keep-dir /tmp/rg-bench   # once: the repository
    python scripts/phases.py /tmp/rg-bench/repo-20000 --state cold --runs 3
    python scripts/phases.py REPO --state parsed -- check --base main --format json

``--state``: ``cold`` (``.git/revgraph`` removed first), ``parsed`` (only the
whole-result cache and express tickets removed: the parse cache stays, as
after a pull) or ``warm`` (nothing removed). The environment is the bench's
(``bench.bench_environ``: a home of its own beside the repository). A phase
name that no longer exists in revgraph is an error: keep ``PHASES`` in step
with the code (a test runs this script).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench

# (module, qualified name) of each function timed, in the order a check reaches them.
PHASES = (
    ("revgraph.resultcache", "probe"),
    ("revgraph.api.checking", "build_context"),
    ("revgraph.api.checking", "_prefetch_git_reads"),
    ("revgraph.api", "Workspace.snapshot"),
    ("revgraph.sources.worktree", "read_worktree"),
    ("revgraph.sources.worktree", "_read_shared"),
    ("revgraph.sources.gitref", "GitRepo.adopt_reference"),
    ("revgraph.sources.merged", "predict_merge"),
    ("revgraph.api.checking", "_with_touches"),
    ("revgraph.api.checking", "_with_syntax_problems"),
    ("revgraph.checks.registry", "run_checks"),
    ("revgraph.resultcache", "Probe.store"),
    ("revgraph.render", "render_report"),
    ("revgraph.api", "Workspace.close"),
)

# Runs in the timed interpreter: argv[1] is the JSON list of phases, argv[2] the
# file the events go to, the rest revgraph's own command line.
_BOOTSTRAP = r"""
import atexit, functools, importlib, json, subprocess, sys, time
T0 = time.perf_counter()
phases, out = json.loads(sys.argv[1]), sys.argv[2]
events = []

def wrap(module, qualname):
    owner = importlib.import_module(module)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            events.append((qualname, start - T0, time.perf_counter() - T0))

    setattr(owner, name, timed)

popen_init = subprocess.Popen.__init__

def noted(self, args, *rest, **kwargs):
    popen_init(self, args, *rest, **kwargs)
    words = [str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)]
    if words and words[0].endswith("git"):
        shown = [w for w in words[1:] if not w.startswith(("--git-dir=", "--work-tree=", "-c", "core."))]
        now = time.perf_counter() - T0
        events.append(("git " + " ".join(shown[:2]), now, now))

subprocess.Popen.__init__ = noted
for module, qualname in phases:
    wrap(module, qualname)

def report():
    events.append(("(whole run)", 0.0, time.perf_counter() - T0))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(events, handle)

atexit.register(report)
sys.argv = ["revgraph", *sys.argv[3:]]
from revgraph.entry import main
main()
"""


def prepare(repo: Path, state: str) -> None:
    cache = repo / ".git" / "revgraph"
    if state == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    elif state == "parsed":
        for part in ("results", "express"):
            shutil.rmtree(cache / part, ignore_errors=True)


def run_once(repo: Path, state: str, argv: list[str], env: dict[str, str], out: Path) -> list[tuple]:
    prepare(repo, state)
    done = subprocess.run(
        [sys.executable, "-c", _BOOTSTRAP, json.dumps(PHASES), str(out), *argv],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if not out.is_file():
        sys.exit(f"phases: the timed run left no report (exit {done.returncode}):\n{done.stderr.strip()}")
    return [tuple(event) for event in json.loads(out.read_text(encoding="utf-8"))]


def timeline(runs: list[list[tuple]]) -> list[dict]:
    """Per phase (in the order of the first run's starts), the median start, end and time in it."""
    firsts: dict[str, float] = {}
    per_run: list[dict[str, tuple[float, float, float, int]]] = []
    for events in runs:
        seen: dict[str, tuple[float, float, float, int]] = {}
        points: dict[str, int] = {}
        for name, start, end in events:
            if start == end:  # a git process started: each one a row of its own
                points[name] = points.get(name, 0) + 1
                name = f"{name} (#{points[name]})" if points[name] > 1 else name
            first, last, spent, calls = seen.get(name, (start, end, 0.0, 0))
            seen[name] = (min(first, start), max(last, end), spent + end - start, calls + 1)
        per_run.append(seen)
        for name, (first, *_rest) in seen.items():
            firsts.setdefault(name, first)
    rows = []
    for name in sorted(firsts, key=lambda n: (n != "(whole run)", firsts[n])):
        found = [seen[name] for seen in per_run if name in seen]
        rows.append({
            "phase": name,
            "start_ms": 1e3 * statistics.median(f[0] for f in found),
            "end_ms": 1e3 * statistics.median(f[1] for f in found),
            "in_it_ms": 1e3 * statistics.median(f[2] for f in found),
            "calls": found[0][3],
            "runs": len(found),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help="a repository, e.g. one bench.py --keep-dir left")
    parser.add_argument("--state", choices=("cold", "parsed", "warm"), default="cold")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.epilog = "revgraph's own arguments follow --; by default: check --base main"
    argv = list(sys.argv[1:] if argv is None else argv)
    command = ["check", "--base", "main"]
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :] or command
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    if not (repo / ".git").is_dir():
        parser.error(f"{repo} is not a git repository's top folder")
    env = bench.bench_environ(repo.parent / "phases-home")
    out = repo.parent / "phases-events.json"
    if args.state == "warm":
        run_once(repo, "warm", command, env, out)  # fills the caches, untimed
    runs = [run_once(repo, args.state, command, env, out) for _ in range(max(1, args.runs))]
    out.unlink(missing_ok=True)
    rows = timeline(runs)
    if args.format == "json":
        print(json.dumps(rows, indent=1))
        return 0
    print(f"revgraph {' '.join(command)}  ({args.state}, median of {len(runs)} runs, wall ms from the start)")
    for row in rows:
        span = f"{row['start_ms']:7.1f} -> {row['end_ms']:7.1f}"
        spent = f"{row['in_it_ms']:7.1f}" if row["end_ms"] > row["start_ms"] else " " * 7
        calls = f"x{row['calls']}" if row["calls"] > 1 else ""
        print(f"  {span}  {spent}  {row['phase']} {calls}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
