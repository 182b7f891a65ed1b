"""Share a batch of independent chunks of work with one forked helper process.

A cold read of a 20k-revision working tree is ~60 us of Python per file
(open, read, hash, parse) on one core while the second core idles. Threads
do not help (the GIL); a process pool pickles every argument and result, which
cost more than it saved. Here the helper is a plain ``fork`` of this process,
so it starts with everything already in memory, and both processes take chunk
numbers from one pipe (reads of 4 bytes from a pipe are atomic), so the faster
one simply does more chunks. The helper sends back only its results, one
``marshal`` frame of builtins per chunk as it finishes it; this process takes
in what has arrived between its own chunks, so turning the helper's results
into objects is shared out like the rest of the work instead of waiting for
the end (at 20k files that tail was ~60 ms of one core).

The contract is "never worse than doing it here": a chunk the helper did not
report (it failed or was killed first, or its frame is not understood) is done
here after all, by the same function as every other chunk done here.
"""

from __future__ import annotations

import marshal
import os
import struct
import sys
from typing import Any, Callable

_TOKEN = struct.Struct("<I")
MAX_CHUNKS = 1024  # 4 KB of chunk numbers: what any pipe takes without a reader


def available() -> bool:
    """Whether a helper can be forked safely and would run on a core of its own.

    Only from a single-threaded process (a fork cannot inherit a lock held by
    another thread), not on macOS (system frameworks are not fork-safe there),
    and only with two CPUs to run on.
    """
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return False
    if os.environ.get("REVGRAPH_JOBS", "").strip() == "1":
        return False
    import threading

    if threading.active_count() > 1 or not _one_os_thread():
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) > 1


# How long a thread Python has joined may still be listed by the kernel (on a loaded
# machine it is, for a moment: the cat-file writer of a cold check was, at times).
_THREAD_EXIT_SECONDS = 0.05


def _one_os_thread() -> bool:
    """Whether this is the process's only thread, waiting a moment for one on its way out.

    ``threading`` forgets a thread when its Python code ends; the kernel lists
    it until the thread has exited. A thread that stays (a C library's) costs
    one such wait per question.
    """
    if _os_threads() <= 1:
        return True
    import time

    deadline = time.monotonic() + _THREAD_EXIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.001)
        if _os_threads() <= 1:
            return True
    return False


def _os_threads() -> int:
    """Threads of this process as the kernel counts them (1 when it cannot tell).

    ``threading`` sees only Python's threads; one that a C library started
    (or a host program embedding us) can hold a lock across a fork all the same,
    and Python 3.12+ warns about exactly that.
    """
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def share(
    chunks: int, here: Callable[[int], None], there: Callable[[int], Any], take: Callable[[int, Any], None]
) -> None:  # fmt: skip
    """Do ``chunks`` chunks: ``here(k)`` in this process, ``there(k)`` in a forked helper.

    Every chunk the helper did is handed to ``take(k, there(k))`` here, in
    the order its results arrive, between this process's own chunks (each
    value must be marshal-able); every other chunk has had ``here(k)``
    called, exactly once.
    """
    tokens_read, tokens_write = os.pipe()
    tokens = b"".join(_TOKEN.pack(k) for k in range(chunks))
    try:
        # Filled and closed before the fork: once it is empty, reads give EOF.
        # Never blocking: a pipe holds at least 4 KB (1,024 chunks); when it
        # takes less than all of them, no helper starts.
        os.set_blocking(tokens_write, False)
        written = os.write(tokens_write, tokens)
    except OSError:
        written = 0
    finally:
        os.close(tokens_write)
    results_read, results_write = os.pipe()
    _widen(results_write)
    pid = -1
    if written == len(tokens):
        try:
            pid = os.fork()
        except OSError:
            pid = -1
    else:  # the chunks in the pipe are done here, the rest below
        os.close(tokens_read)
        tokens_read = os.open(os.devnull, os.O_RDONLY)
    if pid == 0:  # the helper: never returns
        _helper(tokens_read, results_read, results_write, there)
    os.close(results_write)
    done_here: set[int] = set()
    taken: set[int] = set()
    try:
        frames = _Frames(results_read, chunks, done_here, take)
        taken = frames.taken
        while (k := _claim(tokens_read)) is not None:
            here(k)
            done_here.add(k)
            if pid > 0:
                frames.pass_on(wait=False)
        if pid > 0:
            frames.pass_on(wait=True)
            os.waitpid(pid, 0)  # what it reported stands, however it ended
            pid = 0
    finally:
        os.close(tokens_read)
        os.close(results_read)
        if pid > 0:  # interrupted here: do not leave the helper behind
            _stop(pid)
    for k in range(chunks):
        if k not in done_here and k not in taken:
            here(k)


def _widen(fd: int) -> None:
    """Let the results pipe hold ~1 MB: the helper then rarely waits for this
    process to finish a chunk and read (Linux; elsewhere the default stays)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


class Aside:
    """A job running in a forked copy of this process (``aside``); ``join()`` waits for it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def join(self) -> bool:
        """Wait for the job to end; True when it ended well (its exit status was 0)."""
        pid, self.pid = self.pid, 0
        if pid <= 0:
            return False
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return False
        except BaseException:  # interrupted while waiting: do not leave it behind
            _stop(pid)
            raise
        return status == 0


def aside(job: Callable[[], object]) -> Aside | None:
    """Start ``job()`` in a forked copy of this process, which goes on meanwhile.

    The copy's exit status is 0 when ``job`` returned a true value. It starts
    with standard input and output on ``/dev/null`` and no other inherited
    descriptor: it cannot write to this process's output, nor keep a pipe
    to a git process (or a reader of this output) open after this process
    closes its end. None when no copy could start (``available()``).
    """
    if not available():
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the copy: never returns
        _run_aside(job)
    return Aside(pid)


def _run_aside(job: Callable[[], object]) -> None:
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, _MAX_FD)
        code = 0 if job() else 1
    except BaseException:  # noqa: BLE001 - an interrupt or anything else: reported by the status
        pass
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


_MAX_FD = 1 << 20


def _claim(tokens: int) -> int | None:
    token = os.read(tokens, _TOKEN.size)
    return _TOKEN.unpack(token)[0] if len(token) == _TOKEN.size else None


def _helper(tokens: int, results_read: int, results_write: int, there: Callable[[int], Any]) -> None:
    code = 1
    try:
        os.close(results_read)
        while (k := _claim(tokens)) is not None:
            try:
                payload = marshal.dumps((k, there(k)))
            except Exception:  # left for the parent to do
                continue
            frame = memoryview(_TOKEN.pack(len(payload)) + payload)
            while frame:
                frame = frame[os.write(results_write, frame) :]
        code = 0
    except BaseException:  # noqa: BLE001 - an interrupt or anything else: the parent redoes the rest
        pass
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


class _Frames:
    """The helper's ``(k, value)`` frames, handed to ``take`` as they come down the results pipe.

    A frame is its length (4 bytes) and a ``marshal`` payload. Only whole
    frames that load and name a chunk in range, not done here and not taken
    before, count (``taken``); a helper that dies mid-frame loses that chunk
    only (done here after all).
    """

    def __init__(self, fd: int, chunks: int, done_here: set[int], take: Callable[[int, Any], None]) -> None:
        self.fd = fd
        self.chunks = chunks
        self.done_here = done_here
        self.take = take
        self.taken: set[int] = set()
        self.buffer = bytearray()
        self.ended = False
        os.set_blocking(fd, False)

    def pass_on(self, *, wait: bool) -> None:
        """Hand over the frames that have arrived; ``wait``: every frame, until the helper closes its end."""
        if wait:
            os.set_blocking(self.fd, True)
        while not self.ended:
            try:
                part = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            self.ended = not part
            self.buffer += part
            self._hand_over()

    def _hand_over(self) -> None:
        buffer, at, size = self.buffer, 0, _TOKEN.size
        while len(buffer) - at >= size:
            (length,) = _TOKEN.unpack_from(buffer, at)
            end = at + size + length
            if len(buffer) < end:
                break
            try:
                frame = marshal.loads(buffer[at + size : end])
            except (EOFError, ValueError, TypeError):
                frame = None
            at = end
            if not (isinstance(frame, tuple) and len(frame) == 2):
                continue
            k, value = frame
            if type(k) is int and 0 <= k < self.chunks and k not in self.taken and k not in self.done_here:
                self.taken.add(k)
                self.take(k, value)
        del buffer[:at]


def _stop(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass
