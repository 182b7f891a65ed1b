"""Run ``python -m revgraph`` / ``python -m alembic`` as forks of a warmed-up interpreter.

Why: the suite runs the real CLI about a thousand times. A fresh interpreter
spends most of a small command importing typer, rich, networkx, GitPython and,
for alembic, SQLAlchemy (~0.2 s for revgraph, ~0.6 s for alembic on the CI
machine, more under the load of two workers); that was a third of the suite's
time. A *zygote* (as Android calls it) imports them once and forks one child per
command line. The child is still a separate process running the real entry
point (``runpy`` on ``revgraph.__main__``, as ``python -m`` does) in the
command's own folder, environment, argv, stdin, stdout and stderr, with its
real exit code. What it cannot reproduce, and where ``gitrepo._run`` therefore
starts a fresh interpreter as before:

* a different interpreter start-up: any ``PYTHON*``, ``LANG`` or ``LC_*``
  variable unlike the zygote's (a zygote is kept per such set, three at most);
* which modules a command imports: tests of the fast paths run their own
  ``-X importtime`` or ``sys.modules`` probes, never through here;
* ``REVGRAPH_TEST_FRESH_PROCESSES=1`` in the test run's environment turns the
  zygotes off altogether (to rule them out when a test fails oddly).

The protocol is one JSON line per command on the zygote's stdin; it answers
with the child's pid, then its wait status. The child's output goes to files
(no pipes to drain); the client reads them once the child has exited.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

MODULES = ("revgraph", "alembic")
MAX_ZYGOTES = 3
STARTUP_TIMEOUT = 120.0  # seconds for a zygote to import everything and fork its first child
STARTUP_PREFIXES = ("PYTHON", "LANG", "LC_")


def _startup_key(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The variables an interpreter reads when it starts (encoding, byte-code, path)."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith(STARTUP_PREFIXES)))


class _Zygote:
    def __init__(self, env: Mapping[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            cwd="/",
        )
        self.buffer = b""
        self.child: int | None = None  # the command running now

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _line(self, deadline: float | None) -> dict | None:
        """The next answer line, or None when the deadline passed first."""
        import time

        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError("the zygote exited")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, request: dict, timeout: float) -> int:
        """Fork one command; return its exit code as subprocess would (-N for signal N)."""
        import time

        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        # The first request waits for the imports too; a zygote that never answers
        # (stuck importing) must not hang the suite: it goes, the command runs fresh.
        started = self._line(time.monotonic() + STARTUP_TIMEOUT)
        if started is None:
            self.proc.kill()
            raise EOFError("the zygote did not answer")
        pid = self.child = started["pid"]
        answer = self._line(time.monotonic() + timeout)
        if answer is None:
            os.kill(pid, signal.SIGKILL)
            self._line(None)
            raise subprocess.TimeoutExpired(request["argv"], timeout)
        self.child = None
        return answer["code"]

    def kill(self) -> None:
        """Stop the zygote and the command it is running now, if any."""
        if self.child is not None:
            try:
                os.kill(self.child, signal.SIGKILL)
            except OSError:
                pass
        self.proc.kill()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            self.proc.kill()


_zygotes: dict[tuple, _Zygote] = {}
_lock = threading.Lock()
_scratch: Path | None = None
_counter = 0


def usable(cmd: Sequence[str], env: Mapping[str, str] | None) -> bool:
    """Whether ``cmd`` is ``python -m revgraph|alembic ...`` that a fork may run."""
    if os.environ.get("REVGRAPH_TEST_FRESH_PROCESSES") == "1" or not hasattr(os, "fork"):
        return False
    cmd = [str(c) for c in cmd]
    if len(cmd) < 3 or cmd[0] != sys.executable or cmd[1] != "-m" or cmd[2] not in MODULES:
        return False
    key = _startup_key(os.environ if env is None else env)
    return key in _zygotes or len(_zygotes) < MAX_ZYGOTES


def run(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    input: bytes | None,
    timeout: float,
) -> tuple[int, bytes, bytes] | None:
    """(exit code, stdout, stderr) of ``cmd`` run in a fork; None to run it the usual way."""
    global _scratch, _counter
    if not _lock.acquire(blocking=False):
        return None  # another thread is using the zygotes: let it, run this one fresh
    files: tuple[Path, ...] = ()
    try:
        env = dict(os.environ if env is None else env)
        key = _startup_key(env)
        zygote = _zygotes.get(key)
        if zygote is None or not zygote.alive():
            zygote = _zygotes[key] = _Zygote(env)
        if _scratch is None:
            _scratch = Path(tempfile.mkdtemp(prefix="revgraph-zygote-"))
        # New files per command: a process the command left running (it holds
        # its stdout) must not write into the next command's output.
        _counter += 1
        files = out, err, inp = tuple(_scratch / f"{_counter}.{name}" for name in ("stdout", "stderr", "stdin"))
        inp.write_bytes(input or b"")
        request = {
            "argv": [str(c) for c in cmd[1:]],
            "cwd": str(cwd),
            "env": env,
            "stdin": str(inp) if input is not None else os.devnull,
            "stdout": str(out),
            "stderr": str(err),
        }
        try:
            code = zygote.run(request, timeout)
        except (EOFError, BrokenPipeError, OSError):
            _zygotes.pop(key, None)
            return None  # the zygote died: this command runs fresh, the next one gets a new zygote
        except BaseException:
            # Interrupted mid-command (pytest-timeout, Ctrl-C): its answers are
            # still to come, so no later command may read them. Kill the child
            # too: it may be what hung.
            _zygotes.pop(key, None)
            zygote.kill()
            raise
        return code, out.read_bytes(), err.read_bytes()
    finally:
        for made in files:
            made.unlink(missing_ok=True)
        _lock.release()


def discard(env: Mapping[str, str]) -> None:
    """Close the zygote that serves ``env``'s interpreter start-up, if there is one."""
    with _lock:
        zygote = _zygotes.pop(_startup_key(env), None)
    if zygote is not None:
        zygote.close()


def make_room() -> None:
    """Close zygotes until a new start-up may get one (the oldest go first): a test
    about a start-up of its own must not depend on which tests ran before it."""
    with _lock:
        while len(_zygotes) >= MAX_ZYGOTES:
            _zygotes.pop(next(iter(_zygotes))).close()


def _close_all() -> None:
    for zygote in _zygotes.values():
        zygote.close()
    if _scratch is not None:
        import shutil

        shutil.rmtree(_scratch, ignore_errors=True)


if __name__ != "__zygote__":  # the client's side; the zygote has nothing to close
    import atexit

    atexit.register(_close_all)


# ------------------------------------------------------------------ the zygote itself

# Started as ``python -c _BOOT zygote.py``: ``-c`` leaves sys.path[0] to the child
# (``python -m`` puts its working folder there), and this file's folder, with the
# test helpers in it, never lands on sys.path.
_BOOT = (
    "import sys; path = sys.argv[1]; "
    "code = compile(open(path, encoding='utf-8').read(), path, 'exec'); "
    "namespace = {'__name__': '__zygote__', '__file__': path}; exec(code, namespace); "
    "namespace['serve']()"
)


def _warm_up() -> None:
    """Import what the commands import, so that no child pays for it."""
    import importlib
    import pkgutil

    import revgraph

    for info in pkgutil.walk_packages(revgraph.__path__, "revgraph."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    # What the commands import lazily (listed by diffing sys.modules around a
    # run of each command), and alembic's own command line.
    lazily = (
        "rich.console", "rich.table", "rich.markdown", "rich.syntax", "rich.traceback", "rich.panel",
        "rich.columns", "rich.pretty", "rich.rule", "rich.markup", "rich.highlighter", "typer.rich_utils",
        "typer._click.decorators", "unicodedata", "fractions", "colorsys", "encodings.ascii",
        "alembic.config", "alembic.command", "alembic.script", "alembic.runtime.environment",
        "alembic.runtime.migration", "alembic.operations", "sqlalchemy",
        # Compiled afresh in every child that needs them (byte-code is not
        # written under PYTHONDONTWRITEBYTECODE): rich's emoji table (~3,600
        # entries) for any markup, help text wrapping, and what an alembic
        # env.py on SQLite loads.
        "rich._emoji_codes", "rich._emoji_replace", "typer._click._textwrap",
        "logging.config", "sqlite3", "sqlalchemy.dialects.sqlite", "alembic.autogenerate",
    )
    for name in lazily:
        try:
            importlib.import_module(name)
        except ImportError:  # another version's layout (typer vendors click since 0.2x)
            continue
    # One `git --version` for all the children (most read blobs, which asks it), as
    # long as they find the same git: `_child` forgets it for another PATH.
    from revgraph.sources import gitref

    gitref.git_version()


def serve() -> None:
    """Read requests on stdin; fork each; answer with pid, then exit code."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    _warm_up()
    import gc

    gc.collect()
    gc.freeze()  # the children share these pages instead of copying them on their first collection
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            os.close(answers)
            _child(request)  # never returns
        os.write(answers, json.dumps({"pid": pid}).encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        os.write(answers, json.dumps({"code": code}).encode() + b"\n")


def _child(request: dict) -> None:
    """Become ``python -m MODULE ARGS`` in the request's folder and environment."""
    import atexit
    import runpy
    import traceback

    code = 1
    try:
        for fd, path, flags in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        os.chdir(request["cwd"])
        if request["env"].get("PATH") != os.environ.get("PATH"):
            from revgraph.sources import gitref

            gitref._GIT_VERSION = None  # maybe another git: asked again, as a fresh process would
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # TMPDIR is read again, as a fresh interpreter would
        sys.path[0] = os.getcwd()  # what `python -m` puts first
        module = request["argv"][1]
        sys.argv = ["-m", *request["argv"][2:]]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as stop:
            if stop.code is None:
                code = 0
            elif isinstance(stop.code, int):
                code = stop.code
            else:
                print(stop.code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: BLE001 - as the interpreter would: traceback, exit 1
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - nothing left to report to
                pass
        os._exit(code & 0xFF)
