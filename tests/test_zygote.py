"""The zygote runs a command as a fresh interpreter would, or the suite's CLI tests lie.

Each case runs the same ``python -m alembic current`` twice through
``gitrepo._run``: once forked from the zygote, once in a fresh interpreter
(``REVGRAPH_TEST_FRESH_PROCESSES=1``), and the two must agree on everything the
command can see: folder, argv, sys.path[0], environment, stdin, encoding,
TMPDIR, byte-code setting, stdout, stderr and exit code. The probe is an
alembic ``env.py``, which ``alembic current`` executes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import zygote
from tests.support.gitrepo import _run

PROBE = '''
import json, os, sys, tempfile
print(json.dumps({
    "cwd": os.getcwd(),
    "argv": sys.argv,
    "path0": sys.path[0],
    "stdin": sys.stdin.read(),
    "encoding": [sys.stdout.encoding, sys.stderr.encoding, sys.stderr.errors],
    "var": os.environ.get("PROBE_VAR"),
    "removed": "PROBE_REMOVED" in os.environ,
    "tmp": tempfile.gettempdir(),
    "bytecode": sys.dont_write_bytecode,
    "forked": os.getppid() != int(os.environ["PROBE_PARENT"]),
}))
print("a line on stderr", file=sys.stderr)
if os.environ.get("PROBE_EXIT"):
    sys.exit(int(os.environ["PROBE_EXIT"]))
if os.environ.get("PROBE_RAISE"):
    raise RuntimeError("raised by the probe")
if os.environ.get("PROBE_SLEEP"):
    import time
    time.sleep(float(os.environ["PROBE_SLEEP"]))
'''


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    """A folder where ``alembic current`` runs PROBE."""
    (tmp_path / "mig" / "versions").mkdir(parents=True)
    (tmp_path / "mig" / "env.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = mig\n", encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    return tmp_path


def both_ways(monkeypatch, probe: Path, extra: dict[str, str | None], input: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "PROBE_REMOVED"}
    env.update({"PROBE_PARENT": str(os.getpid()), "PROBE_VAR": "é ü", "TMPDIR": str(probe / "tmp")})
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    cmd = [sys.executable, "-m", "alembic", "current"]
    monkeypatch.setenv("PROBE_REMOVED", "the test process has it; the command must not")
    assert zygote.usable(cmd, env)
    forked = _run(cmd, cwd=probe, env=env, expect=None, input=input)
    monkeypatch.setenv("REVGRAPH_TEST_FRESH_PROCESSES", "1")
    assert not zygote.usable(cmd, env)
    fresh = _run(cmd, cwd=probe, env=env, expect=None, input=input)
    monkeypatch.delenv("REVGRAPH_TEST_FRESH_PROCESSES")
    return forked, fresh


def seen(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.splitlines()[0])


def test_a_forked_command_sees_what_a_fresh_interpreter_sees(monkeypatch, probe):
    forked, fresh = both_ways(monkeypatch, probe, {}, input="piped in\n")
    assert seen(forked).pop("forked") is True
    assert seen(fresh).pop("forked") is False
    assert {**seen(forked), "forked": None} == {**seen(fresh), "forked": None}
    assert seen(fresh)["stdin"] == "piped in\n" and seen(fresh)["var"] == "é ü"
    assert seen(fresh)["tmp"] == str(probe / "tmp") and seen(fresh)["removed"] is False
    assert (forked.returncode, forked.stderr) == (fresh.returncode, fresh.stderr) == (0, fresh.stderr)
    assert "a line on stderr" in forked.stderr


def test_no_input_reads_an_empty_stdin_both_ways(monkeypatch, probe):
    forked, fresh = both_ways(monkeypatch, probe, {})
    assert seen(forked)["stdin"] == seen(fresh)["stdin"] == ""


def test_an_exit_code_comes_back_as_it_was_given(monkeypatch, probe):
    forked, fresh = both_ways(monkeypatch, probe, {"PROBE_EXIT": "3"})
    assert forked.returncode == fresh.returncode == 3
    assert forked.stdout.splitlines()[1:] == fresh.stdout.splitlines()[1:]


def test_an_uncaught_exception_prints_its_traceback_and_exits_1(monkeypatch, probe):
    forked, fresh = both_ways(monkeypatch, probe, {"PROBE_RAISE": "1"})
    assert forked.returncode == fresh.returncode == 1
    last = [done.stderr.strip().splitlines()[-1] for done in (forked, fresh)]
    assert last[0] == last[1] == "RuntimeError: raised by the probe"
    assert "Traceback (most recent call last):" in forked.stderr


def test_a_command_over_its_time_is_killed_and_the_next_one_runs(probe):
    env = {**os.environ, "PROBE_PARENT": "1", "PROBE_SLEEP": "30"}
    cmd = [sys.executable, "-m", "alembic", "current"]
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(cmd, cwd=probe, env=env, input=None, timeout=0.5)  # it sleeps 30 s
    del env["PROBE_SLEEP"]
    code, out, _ = zygote.run(cmd, cwd=probe, env=env, input=None, timeout=60)
    assert code == 0 and json.loads(out.splitlines()[0])["forked"] is True


@pytest.fixture
def own_startup(monkeypatch):
    """A start-up no other test uses, so that its zygote starts in this test; closed after."""
    extra = {"PYTHONIOENCODING": "latin-1", "PYTHONZYGOTETEST": str(os.getpid())}
    # Earlier tests on this worker may hold every zygote it may start (their
    # start-ups differ): without room, usable() says no and the test failed.
    zygote.make_room()
    yield extra
    zygote.discard({**os.environ, **extra})


def test_another_start_up_gets_a_zygote_whose_variables_a_command_does_not_inherit(monkeypatch, probe, own_startup):
    # This zygote starts with the first command's environment (PROBE_VAR set);
    # the second command, without PROBE_VAR, must not see it.
    first, fresh = both_ways(monkeypatch, probe, own_startup)
    assert seen(first)["encoding"] == seen(fresh)["encoding"]
    assert seen(first)["encoding"][0] == "iso8859-1"
    assert seen(first)["var"] == "é ü"
    second, fresh = both_ways(monkeypatch, probe, {**own_startup, "PROBE_VAR": None})
    assert seen(second)["var"] is seen(fresh)["var"] is None


def test_a_zygote_that_does_not_answer_in_time_is_dropped_and_the_command_runs_fresh(monkeypatch, probe, own_startup):
    # A zygote stuck importing must not hang the suite: past STARTUP_TIMEOUT it
    # is killed, run() says "run it the usual way", and _run does.
    monkeypatch.setattr(zygote, "STARTUP_TIMEOUT", 0.001)  # no zygote imports that fast
    env = {**os.environ, **own_startup, "PROBE_PARENT": str(os.getpid())}
    cmd = [sys.executable, "-m", "alembic", "current"]
    assert zygote.run(cmd, cwd=probe, env=env, input=None, timeout=60) is None
    done = _run(cmd, cwd=probe, env=env, expect=0)
    assert seen(done)["forked"] is False


class _Interrupted(Exception):
    pass


def test_a_command_interrupted_by_the_test_run_takes_its_zygote_and_child_along(probe, own_startup):
    """pytest-timeout (or Ctrl-C) stops a test inside ``zygote.run``: the command's
    answers are still to come, so its zygote must not serve the next command, and
    the child (maybe what hung) is killed."""
    import signal
    import time

    env = {**os.environ, **own_startup, "PROBE_PARENT": "1"}
    cmd = [sys.executable, "-m", "alembic", "current"]
    zygote.run(cmd, cwd=probe, env=env, input=None, timeout=60)  # started, imports done
    (served,) = [z for key, z in zygote._zygotes.items() if key == zygote._startup_key(env)]

    def interrupt(signum, frame):
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    # Well after the zygote answered with the child's pid (a fork), even on a loaded
    # machine, and long before 30 s.
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        with pytest.raises(_Interrupted):
            zygote.run(cmd, cwd=probe, env={**env, "PROBE_SLEEP": "30"}, input=None, timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    child = served.child
    assert child is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and served.proc.poll() is None:
        time.sleep(0.05)
    assert served.proc.poll() is not None  # the zygote is gone...

    def running(pid: int) -> bool:  # ...and so is the sleeping command (a zombie until reaped)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

    while time.monotonic() < deadline and running(child):
        time.sleep(0.05)
    assert not running(child)

    code, out, _ = zygote.run(cmd, cwd=probe, env={**env, "PROBE_VAR": "next"}, input=None, timeout=60)
    assert code == 0 and json.loads(out.splitlines()[0])["var"] == "next"
