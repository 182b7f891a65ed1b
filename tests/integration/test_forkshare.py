"""A cold working-tree read shared with one forked helper (sources/forkshare.py).

Every script here runs in a fresh interpreter: the code only forks from a
single-threaded process, and a pytest-xdist worker is not one. Each script
prints JSON that the test then judges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from revgraph.sources.cache import StatCache

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="the helper is a fork"
)


def run_script(script: str, *args: str, cwd: Path | None = None, **env: str) -> dict:
    environ = {**os.environ, **env}
    environ.pop("REVGRAPH_JOBS", None)
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True, text=True, cwd=cwd, env=environ, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SHARE = """
    import json, os, sys, time
    from revgraph.sources import forkshare
    CHUNKS = 40
    here_calls = []
    def here(k):
        here_calls.append(k)
        time.sleep(0.002)  # both sides get chunks, even on a busy machine
    def there(k):
        time.sleep(0.002)
        if MODE == "raise" and k % 3 == 0:
            raise ValueError(k)
        if MODE == "die" and k >= 10:
            os._exit(7)
        if MODE == "garbage":
            return object()  # not marshal-able: the whole payload is lost
        return [k, "done there"]
    if MODE == "nofork":
        def refuse():
            raise OSError("no fork here")
        os.fork = refuse
    reported = {}
    forkshare.share(CHUNKS, here, there, reported.__setitem__)
    print(json.dumps({
        "here": here_calls,
        "there": sorted(reported),
        "values_ok": all(v == [k, "done there"] for k, v in reported.items()),
        "pid": os.getpid(),
    }))
"""


def share_outcome(mode: str) -> dict:
    return run_script(SHARE.replace("MODE", repr(mode)))


@pytest.mark.parametrize("mode", ["plain", "raise", "die", "garbage", "nofork"])
def test_every_chunk_is_done_exactly_once_whatever_the_helper_does(mode):
    outcome = share_outcome(mode)
    here, there = outcome["here"], outcome["there"]
    assert len(here) == len(set(here)), "a chunk was done twice here"
    assert sorted(here + there) == list(range(40)), "a chunk was lost or done on both sides"
    assert outcome["values_ok"]
    if mode == "plain":
        assert there, "the helper did no chunk"  # each chunk sleeps 2 ms: it gets some
    if mode == "raise":
        assert not any(k % 3 == 0 for k in there)
    if mode in ("garbage", "nofork"):
        assert there == [], "a failed helper's chunks are all done here"
    if mode == "die":  # what it reported before it died stands; the rest is done here
        assert all(k < 10 for k in there)


def test_the_helper_s_results_are_taken_in_while_this_process_still_works():
    # The helper reports each chunk as it finishes it, and this process takes
    # them in between its own chunks: nothing is left to adopt at the end.
    outcome = run_script("""
        import json, os, time
        from revgraph.sources import forkshare
        events = []
        def here(k):
            events.append(("here", k))
            time.sleep(0.01)
        def there(k):
            time.sleep(0.002)
            return [k, os.getpid()]
        def take(k, value):
            events.append(("take", k, value))
        kept = forkshare.share(60, here, take=take, there=there)
        print(json.dumps({"events": events, "kept": kept, "pid": os.getpid()}))
    """)
    events = outcome["events"]
    here = [e[1] for e in events if e[0] == "here"]
    taken = [e[1] for e in events if e[0] == "take"]
    assert sorted(here + taken) == list(range(60)), "a chunk was lost or done twice"
    assert all(e[2][0] == e[1] and e[2][1] != outcome["pid"] for e in events if e[0] == "take")
    last_here = max(i for i, e in enumerate(events) if e[0] == "here")
    assert any(e[0] == "take" for e in events[:last_here]), "taken in only after this process's last chunk"
    assert outcome["kept"] is None, "handed to take, not kept as well"


def test_only_whole_understood_frames_of_chunks_not_done_here_are_taken():
    import marshal
    import struct

    from revgraph.sources import forkshare

    def frame(value) -> bytes:
        payload = marshal.dumps(value)
        return struct.pack("<I", len(payload)) + payload

    read, write = os.pipe()
    try:
        os.write(write, b"".join([
            frame((1, "one")),
            frame((7, "out of range")),
            frame((2, "done here already")),
            frame(("3", "not a chunk number")),
            frame((4,)),
            struct.pack("<I", 3) + b"\xff\xff\xff",  # does not load
            frame((1, "one again")),
            frame((5, "five")),
        ]))
        os.write(write, frame((6, "cut short"))[:-2])
        os.close(write)
        write = -1
        taken = []
        forkshare._Frames(read, 7, {2}, lambda k, v: taken.append((k, v))).pass_on(wait=True)
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)
    assert taken == [(1, "one"), (5, "five")]


def test_no_helper_is_forked_beside_a_thread_that_threading_does_not_see():
    # A thread started below ``threading`` (as a C library or an embedding host
    # starts them) can hold a lock across a fork; Python 3.12+ warns about it.
    outcome = run_script("""
        import _thread, json, threading, time
        from revgraph.sources import forkshare
        before = forkshare.available()
        _thread.start_new_thread(time.sleep, (5,))
        time.sleep(0.05)
        print(json.dumps({"before": before, "python_threads": threading.active_count(),
                          "after": forkshare.available(), "aside": forkshare.aside(lambda: True) is not None}))
    """)
    if not outcome["before"]:
        pytest.skip("no helper on this machine anyway (one CPU)")
    assert outcome == {"before": True, "python_threads": 1, "after": False, "aside": False}


def test_more_chunks_than_a_pipe_holds_are_all_done_here():
    outcome = run_script(
        """
        import json
        from revgraph.sources import forkshare
        here = []
        reported = {}
        forkshare.share(100_000, here.append, lambda k: k, reported.__setitem__)  # 400 KB of chunk numbers
        print(json.dumps({"here": len(here), "distinct": len(set(here)), "there": len(reported)}))
        """
    )
    assert outcome == {"here": 100_000, "distinct": 100_000, "there": 0}


def test_an_interrupted_share_leaves_no_helper_behind():
    outcome = run_script(
        """
        import json, os, time
        from revgraph.sources import forkshare
        pids = []
        def here(k):
            if k >= 2:
                raise KeyboardInterrupt
        def there(k):
            pids.append(os.getpid())
            time.sleep(0.05)
            return k
        try:
            forkshare.share(50, here, there, lambda k, value: None)
        except KeyboardInterrupt:
            pass
        try:
            os.waitpid(-1, os.WNOHANG)
            children = "some"
        except ChildProcessError:
            children = "none"
        print(json.dumps({"children": children}))
        """
    )
    assert outcome["children"] == "none"


# ------------------------------------------------- the working-tree read
READ = """
    import json, os, sys, time
    from pathlib import Path
    from revgraph.config import Environment
    from revgraph.sources import forkshare, worktree
    from revgraph.sources.cache import ParseCache

    worktree.SHARE_MIN_FILES = 1
    worktree.SHARE_CHUNK = 3
    reported = []
    share = forkshare.share
    def counting_share(chunks, here, there, take):
        def slow_here(k):  # the helper gets chunks even when a busy machine starts it late
            time.sleep(0.05)
            here(k)
        def counted(k, value):
            reported.append(k)
            take(k, value)
        return share(chunks, slow_here, there, counted)
    forkshare.share = counting_share

    env = Environment(name="default", script_location=None,
                      version_locations=(Path("migrations/versions"),))

    def read(shared, cache_dir):
        forkshare_available = forkshare.available
        if not shared:
            forkshare.available = lambda: False
        try:
            cache = ParseCache(Path(cache_dir))
            snapshot = worktree.read_worktree(env, ".", cache=cache)
            misses = cache.misses
            cache.save()
        finally:
            forkshare.available = forkshare_available
        again = ParseCache(Path(cache_dir))
        stored = again._stored()
        stats = again.stats._stored()
        return snapshot, misses, stored, stats

    alone = read(False, sys.argv[1] + "/alone")
    assert not reported
    shared = read(True, sys.argv[1] + "/shared")
    print(json.dumps({
        "helper_chunks": len(reported),
        "same_revisions": alone[0].revisions == shared[0].revisions,
        "same_problems": alone[0].problems == shared[0].problems,
        "revisions": len(alone[0].revisions),
        "problems": sorted((p.path, p.reason) for p in alone[0].problems),
        "same_misses": alone[1] == shared[1],
        "same_parse_cache": alone[2] == shared[2],
        "same_stat_cache": sorted(alone[3].values()) == sorted(shared[3].values())
                           and len(alone[3]) == len(shared[3]),
        "stat_entries": len(alone[3]),
    }))
"""


def write_varied_tree(root: Path) -> None:
    """Revision files of every kind a read meets, several of each, in one folder."""
    from tests.support.revfiles import render_revision

    folder = root / "migrations" / "versions"
    folder.mkdir(parents=True)
    previous = None
    for i in range(30):
        rid = f"{i:04d}aaaabbbb"
        style = ("typed", "generic")[i % 2]
        newline = "\r\n" if i % 7 == 0 else "\n"
        (folder / f"{rid}_step_{i}.py").write_bytes(
            render_revision(rid, previous, message=f"step {i} ünïcode", style=style, newline=newline).encode()
        )
        previous = rid
    same = render_revision("5555cccc0000", previous, message="copied", style="generic")
    (folder / "copy_one.py").write_text(same)
    (folder / "copy_two.py").write_text(same)  # one content at two paths: a duplicate id
    (folder / "bad_syntax.py").write_text("revision = 'x' +\n")
    (folder / "no_literal.py").write_text("revision = make_id()\ndown_revision = None\n")
    legacy = '"""legacy"""\ndown_revision = None\n'
    (folder / "abcdef123456.py").write_text(legacy)  # the id comes from the file name
    (folder / "fedcba654321.py").write_text(legacy)  # the same bytes, another id
    (folder / "binary.py").write_bytes(b"\x00\xff\xfe revision = 'x'\n")
    (folder / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n\"\"\"caf\xe9\"\"\"\nrevision = 'lat1'\ndown_revision = None\n"
    )
    (folder / "link_ok.py").symlink_to("copy_one.py")
    (folder / "link_broken.py").symlink_to("nowhere.py")
    (folder / "sub").mkdir()  # not recursive: not read
    (folder / "sub" / "ignored.py").write_text(same)
    (folder / "notes.txt").write_text("not a revision")
    os.mkfifo(folder / "pipe.py")


@pytest.fixture(scope="module")
def varied_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("varied")
    write_varied_tree(root)
    # The stat cache records no file changed in its last 2 s (mtime or ctime).
    time.sleep(StatCache.RACY_SECONDS + 0.1)
    return root


def test_a_shared_read_gives_exactly_what_a_read_alone_gives(varied_tree, tmp_path):
    outcome = run_script(READ, str(tmp_path), cwd=varied_tree)
    assert outcome["helper_chunks"] > 0, "the helper did no chunk: nothing was compared"
    assert outcome["same_revisions"] and outcome["same_problems"]
    assert outcome["revisions"] >= 34
    reasons = dict(outcome["problems"])
    assert "migrations/versions/bad_syntax.py" in reasons
    assert reasons["migrations/versions/pipe.py"] == "not a regular file"
    assert "migrations/versions/link_broken.py" in reasons
    assert outcome["same_misses"]
    assert outcome["same_parse_cache"] and outcome["same_stat_cache"]
    assert outcome["stat_entries"] >= 34


def test_the_helper_is_not_used_when_told_not_to_or_when_warm(varied_tree, tmp_path):
    script = """
        import json, sys
        from pathlib import Path
        from revgraph.config import Environment
        from revgraph.sources import forkshare, worktree
        from revgraph.sources.cache import ParseCache
        worktree.SHARE_MIN_FILES = 1
        env = Environment(name="default", script_location=None,
                          version_locations=(Path("migrations/versions"),))
        calls = []
        share = forkshare.share
        forkshare.share = lambda *a: calls.append(1) or share(*a)
        runs = []
        for _ in range(2):
            cache = ParseCache(Path(sys.argv[1]))
            worktree.read_worktree(env, ".", cache=cache)
            cache.save()
            runs.append(len(calls))
        print(json.dumps({"shared": runs}))
    """
    shared = run_script(script, str(tmp_path / "one"), cwd=varied_tree)["shared"]
    assert shared == [1, 1], "a cold read shares, a warm one does not"
    alone = run_script(script, str(tmp_path / "two"), cwd=varied_tree, REVGRAPH_JOBS="1")["shared"]
    assert alone == [0, 0]
