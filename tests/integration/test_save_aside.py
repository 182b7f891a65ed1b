"""A cold run's parse cache is written by a forked copy while the run goes on.

``forkshare.aside`` starts a job in a fork; ``ParseCache.save_aside`` hands its
new entries to one, and ``save()`` waits for it and writes whatever the copy
did not. As in test_forkshare, every script runs in a fresh interpreter (a
pytest-xdist worker has threads, and nothing forks from a threaded process)
and prints JSON that the test judges.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from tests.support.gitrepo import run_module

from revgraph.sources.cache import StatCache
from tests.integration.test_forkshare import run_script, write_varied_tree

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="the copy is a fork"
)


# ------------------------------------------------------------ forkshare.aside
ASIDE = """
    import json, os, sys, time
    from revgraph.sources import forkshare
    read_end, write_end = os.pipe()
    marker = sys.argv[1]
    def job():
        print("from the copy")  # must not reach this process's output
        if MODE == "raise":
            raise ValueError("no")
        if MODE == "die":
            os._exit(3)
        time.sleep(0.5)  # holds nothing of ours meanwhile
        open(marker, "w").write(str(os.getpid()))
        return MODE != "false"
    started = forkshare.aside(job)
    os.close(write_end)
    t = time.monotonic()
    eof = os.read(read_end, 1) == b""  # the copy closed its inherited end at once
    waited_for_eof = time.monotonic() - t
    ok = started.join()
    print(json.dumps({
        "ok": ok, "eof": eof, "eof_before_job_end": waited_for_eof < 0.4,
        "marker": os.path.exists(marker), "again": started.join(),
    }))
"""


@pytest.mark.parametrize("mode", ["true", "false", "raise", "die"])
def test_a_job_aside_reports_how_it_ended(tmp_path, mode):
    outcome = run_script(ASIDE.replace("MODE", repr(mode)), str(tmp_path / "marker"))
    assert outcome["ok"] is (mode == "true")
    assert outcome["eof"] and outcome["eof_before_job_end"], "the copy kept an inherited pipe open"
    assert outcome["marker"] is (mode in ("true", "false"))
    assert outcome["again"] is False  # joined once; a second join waits for nothing


def test_no_copy_starts_when_told_not_to(tmp_path):
    outcome = run_script(
        """
        import json
        from revgraph.sources import forkshare
        print(json.dumps({"started": forkshare.aside(lambda: True) is not None}))
        """,
        REVGRAPH_JOBS="1",
    )
    assert outcome == {"started": False}


# ---------------------------------------------------- ParseCache.save_aside
SAVE = """
    import json, os, sys
    from pathlib import Path
    from revgraph.config import Environment
    from revgraph.sources import cache as cache_module, forkshare, worktree
    from revgraph.sources.cache import ParseCache

    cache_module.SAVE_ASIDE_MIN = 1
    worktree.SHARE_MIN_FILES = 10**9  # one process reads: the entries are all new here
    if MODE == "copy fails":
        real = forkshare.aside
        forkshare.aside = lambda job: real(lambda: os._exit(1))
    env = Environment(name="default", script_location=None,
                      version_locations=(Path("migrations/versions"),))

    def read(cache_dir, aside):
        cache = ParseCache(Path(cache_dir))
        snapshot = worktree.read_worktree(env, ".", cache=cache)
        some = snapshot.revisions[0]
        cache.put_touches(some.blob_id, ("table:users",))
        started = cache.save_aside() if aside else False
        # Everything stays known here while the copy writes.
        known = all(cache.get(r.blob_id, r.path) is not None for r in snapshot.revisions)
        touches = cache.touches(some.blob_id)
        stats = sum(cache.stats.blob_id(os.path.realpath(r.path), os.stat(r.path)) == r.blob_id
                    for r in snapshot.revisions)
        cache.put_touches("0" * 40, ("table:later",))  # new after the hand-over
        written = cache.save()
        again = ParseCache(Path(cache_dir))
        return {
            "started": started, "known": known, "touches": list(touches or ()), "stats": stats,
            "written": written, "stored": sorted(again._stored()),
            "stat_entries": sorted(map(list, again.stats._stored().items())),
            "revisions": len(snapshot.revisions),
        }

    aside = read(sys.argv[1] + "/aside", True)
    inline = read(sys.argv[1] + "/inline", False)
    print(json.dumps({"aside": aside, "inline": inline}))
"""


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("varied")
    write_varied_tree(root)
    time.sleep(StatCache.RACY_SECONDS + 0.1)  # old enough for the stat cache
    return root


@pytest.mark.parametrize("mode", ["plain", "copy fails"])
def test_an_aside_save_stores_what_an_inline_save_stores(old_tree, tmp_path, mode):
    outcome = run_script(SAVE.replace("MODE", repr(mode)), str(tmp_path), cwd=old_tree)
    aside, inline = outcome["aside"], outcome["inline"]
    assert aside["started"] is True and inline["started"] is False
    assert aside["known"] and aside["touches"] == ["table:users"]
    assert aside["stats"] == inline["stats"] == aside["revisions"] >= 30
    assert aside["written"] and inline["written"]
    assert aside["stored"] == inline["stored"]
    assert "touches:" + "0" * 40 in aside["stored"]  # what came after the hand-over too
    assert aside["stat_entries"] == inline["stat_entries"] != []


def test_a_cold_check_from_the_cli_saves_aside_and_the_next_run_parses_nothing(old_tree, tmp_path):
    """The real entry point on a git repository: the same output, a complete cache."""
    import shutil
    import subprocess

    repo = tmp_path / "repo"
    shutil.copytree(old_tree / "migrations", repo / "migrations", symlinks=True,
                    ignore=shutil.ignore_patterns("pipe.py"))  # git cannot add a FIFO  # fmt: skip
    (repo / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                 "commit", "-qm", "all"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=repo, check=True)
    script = """
        import json, sys
        from revgraph.sources import cache as cache_module
        cache_module.StatCache.RACY_SECONDS = 0  # nothing edits the files meanwhile: no need to wait
        cache_module.SAVE_ASIDE_MIN = 1
        calls = []
        real = cache_module.ParseCache.save_aside
        def counted(self):
            started = real(self)
            calls.append(started)
            return started
        cache_module.ParseCache.save_aside = counted
        import io, contextlib
        out = io.StringIO()
        from revgraph.entry import run
        with contextlib.redirect_stdout(out):
            code = run(["check", *sys.argv[1:]])
        print(json.dumps({"calls": calls, "code": code, "out": out.getvalue()}))
    """
    cold = run_script(script, "--format", "json", cwd=repo)
    assert cold["calls"] == [True]
    reference = run_module("revgraph", "--no-cache", "check", "--format", "json", cwd=repo)
    assert cold["out"] == reference.stdout and cold["code"] == reference.returncode
    shutil.rmtree(repo / ".git" / "revgraph" / "results")
    shutil.rmtree(repo / ".git" / "revgraph" / "express", ignore_errors=True)
    warm = run_script(
        script.replace("cache_module.SAVE_ASIDE_MIN = 1", "cache_module.ParseCache.parse = None"),
        "--format", "json", cwd=repo,
    )  # fmt: skip
    assert warm["out"] == reference.stdout
    assert warm["calls"] == [False]  # nothing new to save
