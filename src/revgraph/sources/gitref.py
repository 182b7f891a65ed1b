"""Snapshots from git's object database: refs, trees and the index.

Nothing here checks out, writes the index or touches the working tree: trees
are listed with ``git ls-tree`` and blobs come from one long-lived
``git cat-file`` process per repository, fed many requests at once (a writer
thread fills its stdin while we read its stdout, so neither side can block
the other on a full pipe). Every path crosses git with ``-z``.

Commands run with ``GIT_OPTIONAL_LOCKS=0`` (no opportunistic index refresh)
and ``GIT_LITERAL_PATHSPECS=1`` (a folder named ``v[1]`` is a folder, not a
pattern).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence, TypeVar

from revgraph.errors import BadRefError, ConfigError, GitError, NotInRepository, UnknownRefError
from revgraph.model import ParseProblem, Revision, Snapshot
from revgraph.sources import INDEX_REF, gittune
from revgraph import blobid, listing

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.sources.cache import ParseCache
    from revgraph.sources.refsettings import RefSettings

T = TypeVar("T")

MAX_REVISION_BYTES = 5 * 1024 * 1024
MAX_SYMLINK_HOPS = 40  # links followed on the way to one versions folder (Linux's MAXSYMLINKS)
_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"
# ``settings_at``'s treeish for the index: ``:path`` is a staged file to cat-file.
INDEX_TREEISH = ""
# A full SHA-1 or SHA-256 object id, then a peel: what it names cannot change.
_OBJECT_ID = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\^\{(?:commit|tree)\}\Z")
_BARE_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # fullmatch: a blob request by id


def too_large(path: str, size: int, blob_id: str | None = None) -> ParseProblem:
    return ParseProblem(
        path, 1, f"file too large to be a revision ({size / 1048576:.1f} MB)", blob_id
    )


class TreeEntry(NamedTuple):
    mode: str
    oid: str
    path: str  # POSIX, relative to the repository root


class Blob(NamedTuple):
    """One ``cat-file`` answer. ``data`` is None when missing or too large."""

    request: str
    oid: str | None
    size: int
    data: bytes | None
    status: str  # "ok" | "missing" | "too-large" | "symlink" | "loop" | "dangling" | "notdir"


# ------------------------------------------------------------------ git itself
_GIT_VERSION: tuple[int, ...] | None = None


def git_version() -> tuple[int, ...]:
    """The installed git's version, e.g. ``(2, 39, 5)`` (read once per process)."""
    global _GIT_VERSION
    if _GIT_VERSION is None:
        try:
            out = subprocess.run(
                ["git", "--version"], capture_output=True, check=True, text=True
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise GitError(f"git is not available: {exc}") from None
        numbers = []
        for part in out.split()[2].split("."):
            if not part.isdigit():
                break
            numbers.append(int(part))
        _GIT_VERSION = tuple(numbers)
    return _GIT_VERSION


def _git_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return gittune.git_environ(dict(extra) if extra else None)


def _tuned(args: Sequence[str], extra: Mapping[str, str] | None) -> tuple[tuple[str, ...], dict[str, str]]:
    """The options and environment ``git <args>`` runs with (``gittune``: tree reads are tuned)."""
    if gittune.reads_trees(args):
        return gittune.TREE_READ_CONFIG, _git_environ({**gittune.TREE_READ_ENVIRON, **(extra or {})})
    return (), _git_environ(extra)


def _environment_names_work_tree(start: Path) -> bool:
    """Whether ``GIT_DIR`` and ``GIT_WORK_TREE`` both name where ``start`` is: a work tree
    whose git directory lives elsewhere. ``GIT_DIR`` alone makes git take the folder it
    runs in for the top of the work tree (wrong for a project in a sub-folder), and a
    hook exports it for a repository that ``start`` may not belong to at all."""
    git_dir, work_tree = os.environ.get("GIT_DIR"), os.environ.get("GIT_WORK_TREE")
    if not git_dir or not work_tree:
        return False
    top = os.path.realpath(work_tree)
    here = os.path.realpath(start)
    return here == top or here.startswith(top.rstrip(os.sep) + os.sep)


def _refusal_hint(message: str) -> str | None:
    """What to do when git refuses the repository: the command git itself suggests
    (``safe.directory`` for a checkout owned by another user, as in a container or a
    CI job running as another user), else None."""
    found = re.search(r"^\s*(git config --global --add safe\.directory .+?)\s*$", message, re.M)
    if found is None:
        return None
    return f"git refuses a repository owned by another user; if you trust it, run `{found[1]}`"


def _first_line(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip().splitlines()[0] if data.strip() else ""


# ----------------------------------------------------------------- cat-file
MEMO_BYTES = 8 << 20  # blob contents a GitRepo keeps for a second request by id (``GitRepo.blobs``)


class _CatFile:
    """One ``git cat-file`` process answering blob requests in bulk."""

    def __init__(
        self, argv_prefix: list[str], cwd: str, extra: Mapping[str, str] | None = None,
        object_format: str = blobid.SHA1,
    ) -> None:  # fmt: skip
        self._batch_command = git_version() >= (2, 36)
        self._object_format = object_format  # of the ids a blob read alone is given
        self._extra = dict(extra or {})  # e.g. a submodule's objects as alternates
        # stderr goes to a file: a pipe nobody reads could fill and stall git.
        self._errors = tempfile.TemporaryFile()
        self._argv_prefix = argv_prefix
        self._cwd = cwd
        self._proc = self._start()
        self._stream_unread = False  # an oversized blob's bytes are still in the pipe
        self.busy = False

    def _start(self) -> subprocess.Popen:
        mode = ["--batch-command", "--buffer"] if self._batch_command else ["--batch"]
        return subprocess.Popen(
            [*self._argv_prefix, "cat-file", *mode, "--follow-symlinks"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            cwd=self._cwd,
            env=_git_environ(self._extra),
        )

    def fetch(self, requests: Sequence[str], limit: int = MAX_REVISION_BYTES) -> Iterator[Blob]:
        """Answers in request order; a request is a blob id or ``treeish:path``."""
        self.busy = True
        try:
            rest = list(requests)
            while rest:
                answered = yield from self._fetch_run(rest, limit)
                if answered is None:
                    return
                rest = rest[answered:]
        finally:
            self.busy = False

    def _fetch_run(self, requests: Sequence[str], limit: int) -> Iterator[Blob]:
        """Answer ``requests`` from the current process.

        Returns None when all are answered, or how many were answered when an
        oversized blob made us replace the process: a 50 MB file is refused by
        its header, and killing git is cheaper than reading 50 MB to drop it.
        """
        sendable = [r for r in requests if "\n" not in r]
        writer = threading.Thread(target=self._write, args=(sendable,), daemon=True)
        writer.start()
        unread = len(sendable)
        in_step = True
        try:
            for answered, request in enumerate(requests, 1):
                if "\n" in request:
                    yield self._fetch_alone(request, limit)
                    continue
                in_step = False
                answer = self._read_one(request, limit)
                unread -= 1
                if self._stream_unread:
                    self._restart(writer)
                    unread = 0
                    in_step = True
                    yield answer
                    return answered if answered < len(requests) else None
                in_step = True
                yield answer
        finally:
            if in_step:  # the caller stopped early: drain, so the next read starts in step
                for _ in range(unread):
                    self._read_one("", 0)
                    if self._stream_unread:
                        self._restart(writer)
                        break
            writer.join()
        return None

    def _restart(self, writer: threading.Thread) -> None:
        """Drop the process (and whatever it still had to say); start a fresh one."""
        old = self._proc
        try:
            old.kill()
        except OSError:
            pass
        old.wait()
        writer.join()  # its next write failed on the closed pipe
        for stream in (old.stdin, old.stdout):
            try:
                if stream is not None and not stream.closed:
                    stream.close()
            except OSError:
                pass
        self._proc = self._start()
        self._stream_unread = False

    def _write(self, requests: Sequence[str]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        prefix = "contents " if self._batch_command else ""
        try:
            chunk = 2048
            for start in range(0, len(requests), chunk):
                lines = "".join(f"{prefix}{r}\n" for r in requests[start : start + chunk])
                stdin.write(lines.encode("utf-8", "surrogateescape"))
            if self._batch_command:
                stdin.write(b"flush\n")
            stdin.flush()
        except (OSError, ValueError):  # a dead process, or closed under us
            pass  # the reader reports it

    def _read_one(self, request: str, limit: int) -> Blob:
        stdout = self._proc.stdout
        assert stdout is not None
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise GitError(f"git cat-file stopped: {self._stderr()}")
        text = header[:-1].decode("utf-8", "surrogateescape")
        if text.endswith((" missing", " ambiguous")):
            return Blob(request, None, 0, None, "missing")
        parts = text.rsplit(" ", 2)
        if parts[0] in ("symlink", "loop", "dangling", "notdir") and len(parts) == 2:
            size = int(parts[1])
            detail = _read_exactly(stdout, size + 1)[:-1]
            return Blob(request, None, size, detail, parts[0])
        oid, kind, size_text = parts
        size = int(size_text)
        if kind != "blob":
            _skip(stdout, size + 1)
            return Blob(request, oid, size, None, "missing")
        if size > limit:
            self._stream_unread = True  # the caller replaces the process instead of reading it
            return Blob(request, oid, size, None, "too-large")
        data = _read_exactly(stdout, size + 1)[:-1]
        return Blob(request, oid, size, data, "ok")

    def _fetch_alone(self, request: str, limit: int) -> Blob:
        """A ``treeish:path`` whose path holds a newline cannot go through the batch."""
        argv = [*self._argv_prefix, "cat-file", "blob", request]
        done = subprocess.run(argv, capture_output=True, cwd=self._cwd, env=_git_environ(self._extra))
        if done.returncode != 0 and b"promisor" in done.stderr.lower():
            raise GitError(done.stderr.decode("utf-8", "replace"))  # not here, and not fetched: not "missing"
        if done.returncode != 0:
            return Blob(request, None, 0, None, "missing")
        size = len(done.stdout)
        if size > limit:
            return Blob(request, None, size, None, "too-large")
        return Blob(request, blobid.blob_id(done.stdout, self._object_format), size, done.stdout, "ok")

    def _stderr(self) -> str:
        _stop_process(self._proc)
        self._errors.seek(0)
        err = self._errors.read().decode("utf-8", "replace").strip()
        self.close()
        return err or f"exit {self._proc.returncode}"

    def close(self) -> None:
        _stop_process(self._proc)
        for stream in (self._proc.stdout, self._errors):
            if stream is not None and not stream.closed:
                stream.close()


def _stop_process(proc: subprocess.Popen) -> None:
    """Close its stdin (cat-file then exits) and wait; kill it if it hangs."""
    try:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise GitError("git cat-file ended in the middle of an object")
    return data


def _skip(stream: IO[bytes], size: int) -> None:
    """Read and drop ``size`` bytes without holding them all (huge blobs)."""
    while size > 0:
        got = stream.read(min(size, 1 << 20))
        if not got:
            raise GitError("git cat-file ended in the middle of an object")
        size -= len(got)


# ---------------------------------------------------------------- the handle
class GitRepo:
    """The repository containing ``path``: a worktree, linked worktree, bare repo or submodule."""

    def __init__(self, path: Path | str = ".", *, pin: bool = False) -> None:
        """``pin``: for this object's life, a ref name means what it first meant.

        For one command's repository (``api.Workspace``): revgraph never moves a
        ref itself, so a command reads one state of the repository, and asks git
        for HEAD or the base once, not once per step (``fix`` asked for the base
        six times, each a process). HEAD is what the discovery found.
        """
        start = Path(path).absolute()
        while not start.is_dir() and start != start.parent:
            start = start.parent  # a file, or a folder not created yet
        out, head = self._discover(start, path)
        # What ``express.DISCOVER`` prints from ``start`` (``resultcache._discovery`` reuses it).
        self.discovery: tuple[str, str] = (str(start), out)
        lines = (out.split("\n") + [""] * 7)[:7]
        git_dir, common, bare, shallow, inside, object_format, cdup = lines
        # The hash git names objects by: working-tree files are hashed alike (``revgraph.blobid``).
        self.object_format: str = blobid.object_format_of(object_format)
        self.git_dir: Path = Path(git_dir)
        self.common_dir: Path = (start / common).resolve()
        self.bare: bool = bare == "true"
        self._shallow = shallow == "true"
        if inside == "true":
            self.root: Path | None = (start / cdup).resolve()
        elif self.bare:
            self.root = None
        else:  # started inside the .git folder of a repository with a worktree
            self.root = _worktree_of(self.git_dir, self.common_dir)
        self._argv = ["git", f"--git-dir={self.git_dir}"]
        if self.root is not None:
            self._argv.append(f"--work-tree={self.root}")
        self._cwd = str(self.root or self.git_dir)
        self._cat: _CatFile | None = None
        self._finalizer: weakref.finalize | None = None
        self._peeled: dict[str, str] = {}  # "<object id>^{commit}" -> sha (see _rev_parse)
        self._path_answers: dict[tuple[str, str], str] = {}  # (commit id, path) -> cat-file's answer
        self._marks: dict[tuple[str, ...], tuple[tuple, tuple[bytes, ...]]] = {}  # ``_known_marks``
        self._marks_asked: dict[tuple[str, ...], object] = {}  # prefetched: the index's identity then
        self._merge_bases: dict[tuple[str, str], tuple[str, ...]] = {}
        self._remotes: tuple[str, ...] | None = None  # `git remote`, asked once (error hints)
        self._promisors: tuple[tuple[str, str], ...] | None = None  # ``promisor_remotes``
        # Trees read in full, per environment layout: others are read as their difference.
        self._references: dict[tuple, _Reference] = {}
        # Commands started ahead of need (``prefetch``): args -> (process, stdout, stderr).
        self._prefetched: dict[tuple[str, ...], tuple[subprocess.Popen, IO[bytes], IO[bytes]]] = {}
        self._memo: dict[str, Blob] = {}  # blob id -> what cat-file gave (``blobs``)
        # ref -> commit while ``pinned``; HEAD's from the discovery, a moment ago.
        self._pinned: dict[str, str | None] | None = {"HEAD^{commit}": head} if pin else None
        self._pinned_facts: dict[str, object] = {}  # ``while_pinned``'s answers
        self._memo_room = MEMO_BYTES
        # Versions folders inside a submodule (``_through_submodules``): the submodules'
        # repositories, and their object folders, which cat-file reads as alternates.
        self._submodules: dict[str, GitRepo] = {}
        self._alternates: tuple[str, ...] = ()
        self._warned: set[str] = set()  # ambiguous ref names already reported
        self.quiet = False  # -q: those warnings are not written
        # (env, treeish) -> env as that tree's config files place revisions
        # (``sources.refsettings``); None: every tree is read with ``env`` itself.
        self.settings_at: RefSettings | None = None

    @staticmethod
    def _discover(start: Path, asked: Path | str, *, by_environment: bool = False) -> tuple[str, str | None]:
        """The layout lines (``express.DISCOVER``'s output), and HEAD's commit (None: unborn).

        HEAD comes from the same process (``--verify -q`` last): a command
        that pins its refs (``pin``) asks git for it no second time.

        Found from ``start`` as git finds it, ``GIT_DIR``/``GIT_WORK_TREE`` aside (a
        hook's relative ``GIT_DIR`` would make ``start`` the top of the work tree);
        only when that finds no repository are they followed (``by_environment``): a
        work tree whose git directory lives elsewhere (``GIT_DIR=../x.git``).
        """
        argv = [
            "git", "rev-parse", "--absolute-git-dir", "--git-common-dir",
            "--is-bare-repository", "--is-shallow-repository", "--is-inside-work-tree",
            "--show-object-format", "--show-cdup", "--verify", "-q", "HEAD^{commit}",
        ]  # fmt: skip
        untranslated = {"LC_ALL": "C", "LANGUAGE": "C"}  # we match on git's message
        if by_environment:
            for name in ("GIT_DIR", "GIT_WORK_TREE"):
                if os.environ.get(name):  # relative to where revgraph was started, as git reads it
                    untranslated[name] = os.path.abspath(os.environ[name])
        try:
            done = subprocess.run(
                argv, cwd=start, capture_output=True, env=_git_environ(untranslated)
            )
        except OSError as exc:
            raise GitError(
                f"git is not available: {exc}", hint="install git: revgraph reads the repository with it"
            ) from None
        lines = done.stdout.decode("utf-8", "surrogateescape").split("\n")
        if lines[-1] == "":
            lines.pop()  # the last line's newline
        # -q: an unborn (or broken) HEAD exits 1 and says nothing; the layout is complete.
        quiet_head = done.returncode == 1 and not done.stderr.strip() and len(lines) >= 6
        if done.returncode != 0 and not quiet_head:
            message = done.stderr.decode("utf-8", "replace")
            if "not a git repository" in message or "no such" in message.lower():
                if not by_environment and _environment_names_work_tree(start):
                    return GitRepo._discover(start, asked, by_environment=True)
                raise NotInRepository(f"not a git repository: {asked}")
            raise GitError(f"git failed in {asked}: {_first_line(done.stderr)}", hint=_refusal_hint(message))
        head = None
        # --show-cdup prints a relative path, or an absolute work tree, or nothing: never an id.
        if done.returncode == 0 and len(lines) > 6 and _BARE_OBJECT_ID.fullmatch(lines[-1]):
            head = lines.pop()
        return "\n".join(lines).rstrip("\n"), head

    # -------------------------------------------------------------- plumbing
    def git(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        ok: Iterable[int] = (0,),
    ) -> subprocess.CompletedProcess:
        """Run git on this repository; GitError unless the exit code is in ``ok``."""
        started = self._prefetched.pop(args, None) if input is None and env is None else None
        if started is not None:
            done = _collect(started, [*self._argv, *args])
        else:
            options, environ = _tuned(args, env)
            try:
                done = subprocess.run(
                    [*self._argv, *options, *args],
                    input=input,
                    capture_output=True,
                    cwd=self._cwd,
                    env=environ,
                )
            except OSError as exc:
                raise GitError(f"git is not available: {exc}") from None
        if done.returncode not in tuple(ok):
            if self.lazy_fetch_failed(done.stderr):  # a partial clone's object it could not fetch
                raise self.unfetched(done.stderr.decode("utf-8", "replace"))
            raise GitError(f"git {args[0]} failed: {_first_line(done.stderr) or done.returncode}")
        return done

    def prefetch(self, *args: str) -> None:
        """Start ``git <args>`` now; the next ``git(*args)`` (same args, no input or env) takes its result.

        A cold ``check`` starts the tree reads and merges it will need before
        it reads the working tree, so git works on one core while Python
        parses on the other. Only for commands whose answer does not depend
        on when they run (object ids), or whose timing is as racy either way
        (``git status`` of files the run reads anyway). Best effort: a
        command that cannot start just runs later.
        """
        self.discard_prefetched(*args)  # a second prefetch asks again: git status may differ by now
        try:
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        except OSError:
            return
        try:
            # Output goes to temp files, not pipes: nobody reads while Python
            # parses, and a full pipe would stall git.
            options, environ = _tuned(args, None)
            proc = subprocess.Popen([*self._argv, *options, *args], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, cwd=self._cwd, env=environ)  # fmt: skip
        except OSError:
            out.close()
            err.close()
            return
        self._prefetched[args] = (proc, out, err)

    def discard_prefetched(self, *args: str) -> None:
        """Drop a prefetched ``git <args>`` nobody will take (waited for, its output unread)."""
        started = self._prefetched.pop(args, None)
        if started is not None:
            _collect(started, [])

    def _catfile(self) -> _CatFile:
        # (Not while busy: a nested read starts a process of its own, with them.)
        stale = self._cat is not None and not self._cat.busy and self._cat._extra != self._cat_environ()
        if self._cat is None or stale or self._cat._proc.poll() is not None:
            if self._cat is not None:
                # It died (killed, OOM), or a submodule read since it started
                # added objects it cannot see: start afresh.
                self._cat.close()
            self._cat = _CatFile(self._argv, self._cwd, self._cat_environ(), self.object_format)
            if self._finalizer is not None:
                self._finalizer.detach()
            # A GitRepo dropped without close() still ends its process.
            self._finalizer = weakref.finalize(self, self._cat.close)
        return self._cat

    def blobs(self, requests: Sequence[str], *, limit: int = MAX_REVISION_BYTES) -> Iterator[Blob]:
        """Contents for blob ids or ``treeish:path`` requests, in order, streamed."""
        if not requests:
            return iter(())
        memo = self._memo
        missing = [r for r in requests if r not in memo] if memo else list(requests)
        if not missing:
            return iter([memo[r] for r in requests])
        self.prefetch_blobs(missing)  # a partial clone: what it lacks, in one fetch
        cat = self._catfile()
        if cat.busy:  # a nested read: use a second process rather than interleave
            fetched = _fetch_once(_CatFile(self._argv, self._cwd, self._cat_environ(), self.object_format), missing, limit)
        else:
            fetched = cat.fetch(missing, limit)
        return self._through_memo(requests, fetched, limit)

    def _through_memo(self, requests: Sequence[str], fetched: Iterator[Blob], limit: int) -> Iterator[Blob]:
        """``fetched`` (the requests the memo lacked) with the memo's answers put in place.

        A blob's content never changes, so what a request by id gave once is
        its answer for the rest of the run: RG301 reads base's new files
        again right after base's own read fetched them (1.6k of them at 20k
        revisions). Only answers within ``limit`` of the default size, while
        the memo's room lasts.
        """
        memo = self._memo
        for request in requests:
            blob = memo.get(request)
            if blob is None:
                try:
                    blob = next(fetched, None)
                except GitError as exc:  # cat-file died: a lazy fetch that failed is said as such
                    raise self.unfetched(exc.message) if self.lazy_fetch_failed(exc.message) else exc
                if blob is None:
                    return  # cat-file stopped answering: as short as the fetch itself
                if (
                    limit >= MAX_REVISION_BYTES and blob.status == "ok" and blob.data is not None
                    and blob.size <= self._memo_room and _BARE_OBJECT_ID.fullmatch(request)
                ):  # fmt: skip
                    memo[request] = blob
                    self._memo_room -= blob.size
            yield blob

    def _cat_environ(self) -> dict[str, str]:
        """cat-file's extra environment: the object folders of submodules read through.

        Only cat-file (which only reads) gets them: a command that writes
        objects (merge-tree, write-tree) would skip writing one a submodule
        already holds, leaving this repository without it.
        """
        if not self._alternates:
            return {}
        own = os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")
        listed = [_quote_alternate(path) for path in self._alternates]
        return {"GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join([*([own] if own else []), *listed])}

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None
        while self._submodules:
            _, sub = self._submodules.popitem()
            sub.close()
        while self._prefetched:
            # Waited for, not killed: a merge-tree stopped mid-write would leave
            # temporary object files in the repository.
            _, started = self._prefetched.popitem()
            _collect(started, [])

    def __enter__(self) -> "GitRepo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- refs
    def resolve(self, ref: str) -> str:
        """The commit sha ``ref`` names; UnknownRefError when it names none."""
        sha = self._rev_parse(f"{ref}^{{commit}}") if _plausible_ref(ref) else None
        if sha is None:
            # Only what the text shows (no process): a failed base candidate
            # (origin/HEAD in a clone without a remote) is a common path.
            raise _misread_ref(ref) or UnknownRefError(ref)
        return sha

    def resolve_tree(self, treeish: str) -> str:
        # "HEAD:" is HEAD's root tree, but "HEAD:^{tree}" names a path "^{tree}".
        spec = treeish[:-1] if treeish.endswith(":") and treeish.count(":") == 1 else treeish
        sha = self._rev_parse(f"{spec}^{{tree}}") if _plausible_ref(spec) else None
        if sha is None:
            raise self.unknown_ref_error(treeish)
        return sha

    def unknown_ref_error(self, ref: str, *, commit_required: bool = False) -> UnknownRefError:
        """Why ``ref`` names no commit or tree (no commit, with ``commit_required``), as the
        error to raise (asks git; only on failure).

        An empty ref or a range is a usage mistake; an object that exists but
        is a blob says so, as does a tree where a commit is required, or a
        ``rev:path`` naming a folder's tree; the fetch hint only for what could
        be a branch name.
        """
        misread = _misread_ref(ref)
        if misread is not None:
            return misread
        if _plausible_ref(ref):
            done = self.git("cat-file", "-t", ref, env=_UNTRANSLATED, ok=range(256))
            kind = done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""
            # A short object id several objects share ("short object ID 0011 is
            # ambiguous"), not git's warning that a branch and a tag share a name.
            if re.search(rb"short (?:object ID|SHA1) \S+ is ambiguous", done.stderr):
                return BadRefError(ref, f"{ref!r} is ambiguous: several objects start with it",
                                   hint="give more characters of the object id")  # fmt: skip
            if kind == "tag":  # a tag of a blob: say what it points at
                peeled = self.git("cat-file", "-t", f"{ref}^{{}}", ok=range(256))
                kind = peeled.stdout.decode("utf-8", "replace").strip() if peeled.returncode == 0 else kind
            if kind and kind not in ("commit", "tree"):
                return BadRefError(ref, f"{ref!r} is a {kind}, not a commit or tree")
            if kind == "tree" and ":" in ref:
                revision = ref.split(":", 1)[0] or "HEAD"
                return BadRefError(ref, f"{ref!r} names a folder inside a snapshot, not a snapshot",
                                   hint=f"name the commit instead (e.g. {revision!r}): revgraph finds "
                                   "the versions folders from the project's configuration")  # fmt: skip
            if kind == "tree" and commit_required:
                return BadRefError(ref, f"{ref!r} is a tree, not a commit: history (landed revisions, "
                                   "merge bases) is read from commits", hint="name a branch, tag or commit id")  # fmt: skip
            if re.fullmatch(r"[0-9a-fA-F]{7,64}", ref):
                return UnknownRefError(ref)  # errors' hint for an object id
            remote, _, name = ref.partition("/")
            if name == "HEAD" and self.has_remote(remote):
                # A clone records the remote's default branch once; `git fetch` never
                # sets it (a clone of an empty repository, `git remote add`).
                return BadRefError(ref, f"unknown ref {ref!r}: this clone does not record {remote}'s default branch",
                                   hint=f"run `git remote set-head {remote} --auto` (it asks {remote}), "
                                   f"or name the branch itself (e.g. {remote}/main)")  # fmt: skip
            branch = ref.removeprefix("origin/")
            valid = self.git("check-ref-format", "--branch", branch, ok=range(256)).returncode == 0
            if valid:
                # No origin to fetch from (a repository made here): name what there is.
                if self.has_remote("origin"):
                    return UnknownRefError(ref)
                return UnknownRefError(ref, hint=self.branches_hint(), fetchable=False)
        ancestry = re.fullmatch(r"(.+?)((?:[~^][0-9]*)+)", ref) if _plausible_ref(ref) else None
        if ancestry and self._rev_parse(ancestry[1] + "^{commit}"):
            if self.is_shallow():  # the ancestor may be in the history this clone left out
                return BadRefError(ref, f"unknown ref {ref!r}: this shallow clone does not reach that far back",
                                   hint="`git fetch --unshallow` brings the rest of the history")  # fmt: skip
            # `HEAD~999` past the first commit, `main^2` of a commit with one parent:
            # the history is all here, no fetch brings more.
            return BadRefError(ref, f"unknown ref {ref!r}: {ancestry[1]} has no such ancestor",
                               hint=f"`git log --oneline {ancestry[1]}` shows its history")  # fmt: skip
        # Not a name a fetch could create (``HEAD~9``, ``main:path``): no hint to
        # fetch it by that name (a deeper fetch may still bring ``HEAD~9``).
        unknown = UnknownRefError(ref)
        unknown.hint = None
        return unknown

    def _rev_parse(self, spec: str) -> str | None:
        known = self._peeled.get(spec)
        if known is not None:
            return known
        pinned = self._pinned
        if pinned is not None and spec in pinned:
            return pinned[spec]
        # Without --quiet: git's warning that a name is ambiguous (a branch and
        # a tag both named feat) comes on stderr, from the process we run anyway.
        done = self.git("rev-parse", "--verify", spec, env=_UNTRANSLATED, ok=range(256))
        out = done.stdout.decode().strip()
        answer = out if done.returncode == 0 and out else None
        if answer is not None and b"is ambiguous" in done.stderr:
            self._warn_ambiguous(done.stderr)
        if pinned is not None:
            pinned[spec] = answer
        if answer is not None and _OBJECT_ID.match(spec):
            # An object id peels to the same commit or tree forever: a check asks
            # for the same few many times, each a process (~5 ms).
            self._peeled[spec] = answer
        return answer

    def _warn_ambiguous(self, stderr: bytes) -> None:
        """Say on stderr which ref an ambiguous name was read as, and what the others are."""
        found = re.search(rb"refname '(.+?)' is ambiguous", stderr)
        if found is None:
            return
        name = found.group(1).decode("utf-8", "surrogateescape")
        if name in self._warned or self.quiet:
            return
        self._warned.add(name)
        # git's order (``git help revisions``): the first that exists wins.
        order = [f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}", f"refs/remotes/{name}",
                 f"refs/remotes/{name}/HEAD"]  # fmt: skip
        done = self.git("for-each-ref", "--format=%(refname)", *order[:4], ok=range(256))
        listed = set(done.stdout.decode("utf-8", "surrogateescape").splitlines())
        head = self.git("rev-parse", "--verify", "--quiet", "--symbolic-full-name", order[4], ok=range(256))
        if head.returncode == 0:
            listed.add(order[4])
        candidates = [ref for ref in order if ref in listed]
        if len(candidates) < 2:
            sys.stderr.write(f"revgraph: warning: ref {name!r} is ambiguous; reading it as git does\n")
            return
        others = " and ".join(candidates[1:])
        sys.stderr.write(
            f"revgraph: warning: ref {name!r} is ambiguous: {candidates[0]} and {others}; "
            f"reading {candidates[0]}, as git does (name {candidates[1]} for the other)\n"
        )

    def while_pinned(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, asked once per ``key`` while refs are pinned (a fact about refs:
        a branch's upstream, say), every time otherwise."""
        if self._pinned is None:
            return compute()
        if key not in self._pinned_facts:
            self._pinned_facts[key] = compute()
        return self._pinned_facts[key]

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Within: a ref name (HEAD, a branch) is resolved once, then means that commit.

        One check reads HEAD, base, their merge base and the merge of the
        two as one state of the repository: a name asked again names what it
        named the first time (a cold check asked for HEAD seven times, each a
        process). Outside, every name is asked afresh: they move. Nested
        uses share the outer one's answers.
        """
        if self._pinned is not None:
            yield
            return
        self._pinned = {}
        try:
            yield
        finally:
            self._pinned = None
            self._pinned_facts = {}

    def known_commits(self, shas: Iterable[str | None]) -> None:
        """Note object ids git already said are commits (``cat-file --batch-check``).

        A commit peels to itself forever: ``resolve`` then needs no process
        for them (a cold check asked for base's and HEAD's a dozen times).
        """
        for sha in shas:
            spec = f"{sha}^{{commit}}"
            if sha and _OBJECT_ID.match(spec):
                self._peeled[spec] = sha

    def known_paths(self, answers: Mapping[tuple[str, str], str]) -> None:
        """Note ``cat-file --batch-check`` answers (``"<oid> <type>"`` or ``"missing"``) to
        ``<commit id>:<path>`` requests: a commit holds the same trees forever.

        ``path_answers`` gives them back, and ``resolve`` of ``<commit id>:<folder>``
        (a tree) needs no process.
        """
        for (treeish, path), answer in answers.items():
            if _BARE_OBJECT_ID.fullmatch(treeish):
                self._path_answers[(treeish, path)] = answer
                oid, _, kind = answer.partition(" ")
                if kind == "tree":
                    self._peeled[f"{treeish}:{path}"] = oid

    def path_answers(self, requests: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """What ``known_paths`` noted for these ``(commit id, path)`` requests."""
        known = self._path_answers
        return {request: known[request] for request in requests if request in known}

    def pin_answers(self, answers: Mapping[str, str | None]) -> None:
        """While pinned: take git's answers to ``<name>^{commit}`` requests made some
        other way (one ``cat-file --batch-check``) as those names' first meaning."""
        if self._pinned is None:
            return
        for spec, sha in answers.items():
            self._pinned.setdefault(spec, sha)

    def marked_paths(self, folders: Sequence[str]) -> list[bytes] | None:
        """Paths in ``folders`` whose index entry tells git not to look at the file; None if unknown.

        Assume-unchanged and skip-worktree entries (``express.hidden_paths``):
        ``git status`` and ``git add`` take them as unchanged whatever the file
        holds. ``prefetch_marked`` starts the same command early.
        """
        from revgraph.express import hidden_paths, index_identity

        args = _marked_args(folders)
        if args in self._prefetched:
            identity = self._marks_asked.pop(args, None)  # as the index was when it started
        else:
            known = self._known_marks(folders)
            if known is not None:
                return list(known)
            identity = index_identity(str(self.git_dir))  # before the read: a mark made meanwhile changes it
        done = self.git(*args, ok=range(256))
        marked = hidden_paths(done.stdout) if done.returncode == 0 else None
        if marked is not None and isinstance(identity, tuple):
            self._marks[tuple(folders)] = (identity, tuple(marked))
        return marked

    def prefetch_marked(self, folders: Sequence[str]) -> None:
        """Start the read ``marked_paths(folders)`` takes (see ``prefetch``), unless it is known."""
        from revgraph.express import index_identity

        args = _marked_args(folders)
        if self._known_marks(folders) is None and args not in self._prefetched:
            self._marks_asked[args] = index_identity(str(self.git_dir))
            self.prefetch(*args)

    def _known_marks(self, folders: Sequence[str]) -> tuple[bytes, ...] | None:
        """``marked_paths(folders)`` as read before, while the index is the one it was read from.

        Marking an entry rewrites the index (a new file): a command looks for marks
        once (a cold check asked three times: lookup, merge prediction, store),
        and again only when the index changed or is too fresh to tell.
        """
        from revgraph.express import index_identity

        known = self._marks.get(tuple(folders))
        if known is None:
            return None
        identity = index_identity(str(self.git_dir))
        return known[1] if isinstance(identity, tuple) and identity == known[0] else None

    def ref_file(self, ref: str) -> Path:
        """Where the loose ref ``ref`` (a full name: ``refs/remotes/origin/HEAD``) lives:
        in the common dir, shared by linked worktrees (all refs but a few per-worktree
        ones, ``refs/bisect`` and ``refs/worktree``, which revgraph does not read)."""
        return self.common_dir.joinpath(*ref.split("/"))

    def symbolic_target(self, ref: str) -> str | None:
        """The full name the symbolic ref ``ref`` (``refs/remotes/origin/HEAD``) points to,
        None when ``ref`` is not a symbolic ref (absent, or an ordinary one).

        Read from its file, with no process: symbolic refs are never packed
        (``packed-refs`` holds ordinary refs only); see ``ref_file``. With reftable
        refs, git is asked.
        """
        if (self.common_dir / "reftable").exists():
            done = self.git("symbolic-ref", "-q", ref, ok=range(256))
            text = done.stdout.decode("utf-8", "surrogateescape").strip()
            return text if done.returncode == 0 and text.startswith("refs/") else None
        try:
            with open(self.ref_file(ref), "rb") as handle:
                data = handle.read(4096)
        except OSError:
            return None
        if not data.startswith(b"ref:"):  # an object id: an ordinary ref
            return None
        target = data[4:].strip().decode("utf-8", "surrogateescape")  # as git: "ref:", spaces, the name
        return target if target.startswith("refs/") else None

    def ref_exists(self, ref: str) -> bool:
        return _plausible_ref(ref) and self._rev_parse(f"{ref}^{{commit}}") is not None

    def head_sha(self) -> str | None:
        """HEAD's commit, None in a repository without commits."""
        return self._rev_parse("HEAD^{commit}")

    def merge_base(self, a: str, b: str) -> str | None:
        """The merge base git picks (``git merge-base``: the first of ``merge_bases``)."""
        found = self.merge_bases(a, b)
        return found[0] if found else None

    def merge_bases(self, a: str, b: str) -> tuple[str, ...]:
        """Every best common ancestor of ``a`` and ``b`` (several after criss-cross merges)."""
        pair = (self.resolve(a), self.resolve(b))
        if pair not in self._merge_bases:  # two commits' merge bases never change
            done = self.git("merge-base", "--all", *pair, ok=(0, 1))
            out = done.stdout.decode().split() if done.returncode == 0 else []
            self._merge_bases[pair] = tuple(out)
            self.known_commits(out)  # a merge base is a commit
        return self._merge_bases[pair]

    def is_shallow(self) -> bool:
        return self._shallow or (self.common_dir / "shallow").exists()

    def has_remote(self, name: str) -> bool:
        """Whether a remote ``name`` is configured (asked of git once per run; for error hints)."""
        if self._remotes is None:
            done = self.git("remote", ok=range(256))
            self._remotes = tuple(done.stdout.decode("utf-8", "surrogateescape").split())
        return name in self._remotes

    # ------------------------------------------------------- partial clones
    def promisor_remotes(self) -> tuple[tuple[str, str], ...]:
        """``(name, url)`` of the remotes a partial clone (``git clone --filter=...``) fetches
        missing objects from, in the order git tries them; () in a whole clone.

        A whole clone starts no process for the question: its config file
        mentions neither ``promisor`` nor ``partialclone`` (a read of one small
        file, once per run). Only a partial clone asks ``git config`` for the details.
        """
        if self._promisors is None:
            try:
                text = (self.common_dir / "config").read_bytes().lower()
            except OSError:
                text = b""
            self._promisors = ()
            if b"promisor" in text or b"partialclone" in text:
                done = self.git("config", "-z", "--get-regexp",
                                r"^(remote\..*\.(promisor|url)|extensions\.partialclone)$", ok=range(256))  # fmt: skip
                self._promisors = _promisors(done.stdout.decode("utf-8", "surrogateescape"))
        return self._promisors

    def prefetch_blobs(self, oids: Sequence[str]) -> None:
        """In a partial clone, fetch those of ``oids`` it lacks, in one fetch (a walk
        over many commits gathers what it will read first); nothing in a whole clone."""
        if self.promisor_remotes():
            self._fetch_absent([oid for oid in oids if _BARE_OBJECT_ID.fullmatch(oid)])

    def _fetch_absent(self, oids: Sequence[str]) -> None:
        """In a partial clone, fetch the blobs among ``oids`` it lacks, in one fetch.

        cat-file fetches each missing blob alone: a round trip to the remote
        each, and a ``git maintenance`` after each (a check against a base 1,000
        revisions ahead made 1,000 fetches, 30 s with the remote on this disk).
        This is the fetch git's own promisor code makes, given all the ids at
        once. What it leaves missing, cat-file still fetches as before.
        """
        remotes = self.promisor_remotes()
        # --no-write-fetch-head and --no-auto-maintenance came with git 2.29.
        if not remotes or not oids or git_version() < (2, 29):
            return
        # --missing=print: rev-list looks without fetching; --ignore-missing: a missing
        # id is skipped, not fatal. The ids it does not print are the ones not here.
        # (GIT_NO_LAZY_FETCH, which would let cat-file say it, is git 2.44's.)
        listed = self.git("rev-list", "--objects", "--no-walk", "--missing=print", "--ignore-missing",
                          "--stdin", input="".join(f"{oid}\n" for oid in oids).encode(),
                          env=self._cat_environ(), ok=range(256))  # fmt: skip
        if listed.returncode != 0:
            return  # cannot tell: cat-file fetches what it needs, one by one
        here = set(listed.stdout.decode("ascii", "replace").split())
        absent = "".join(f"{oid}\n" for oid in dict.fromkeys(oids) if oid not in here).encode()
        if not absent:
            return
        failed = ""
        for name, _ in remotes:  # as git does: the next remote when one fails
            key = (str(self.common_dir), name)
            if key not in _UNREACHABLE:
                done = self.git("-c", "fetch.negotiationAlgorithm=noop", "fetch", name, "--no-tags",
                                "--no-write-fetch-head", "--recurse-submodules=no", "--no-auto-maintenance",
                                "--filter=blob:none", "--stdin", input=absent, env=_UNTRANSLATED, ok=range(256))  # fmt: skip
                if done.returncode == 0:
                    return
                _UNREACHABLE[key] = done.stderr.decode("utf-8", "replace")
            failed = failed or _UNREACHABLE[key]
        raise self.unfetched(failed)

    def lazy_fetch_failed(self, stderr: bytes | str) -> bool:
        """Whether git's ``stderr`` tells of a partial clone's lazy fetch that failed.

        Only in a partial clone, and only git's own word "promisor" (kept by its
        translations), not a path's: a folder named ``promisor-api`` is in many
        of git's messages (``Unable to create '.../promisor-api/.git/index.lock'``),
        and a whole clone there was told it is a partial clone that cannot fetch.
        """
        if not self.promisor_remotes():
            return False
        text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
        for place in sorted({str(self.root or ""), str(self.git_dir), str(self.common_dir), str(self._cwd)}, key=len,
                            reverse=True):  # fmt: skip
            if place:
                text = text.replace(place, "")
        return "promisor" in text.lower()

    def unfetched(self, stderr: str) -> GitError:
        """The error for objects a partial clone lacks and could not fetch from its remote
        (unreachable, offline, no credentials): never read as files that do not exist."""
        remotes = self.promisor_remotes() or (("origin", ""),)
        name, url = remotes[0]
        where = f"{name!r} ({url})" if url else repr(name)
        # git's first line says why (the URL, the network); its last ones only that it failed.
        lines = [re.sub(r"^git [\w-]+ (?:stopped|failed): ", "", line.strip()) for line in stderr.splitlines()]
        reason = next((line for line in lines if line and "promisor" not in line.lower()), "")
        return GitError(
            f"this is a partial clone: files revgraph reads from git are not here yet, and git "
            f"could not fetch them from {where}" + (f": {reason}" if reason else ""),
            hint=f"check that {name!r} can be reached (`git fetch {name}` works), then run revgraph again; "
            f"or bring every file once with `git fetch --refetch --no-filter {name}` "
            "(in CI: a checkout without a filter, e.g. no `filter: blob:none`)",
        )

    def branches_hint(self) -> str:
        """The local branches, for a hint where no fetch could help (a few, then how many more)."""
        try:
            names = self.list_refs("refs/heads/*")
        except GitError:
            names = []
        if not names:
            return "this repository has no branches yet, and no remote 'origin' to fetch from"
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        return f"no remote 'origin' to fetch from; the branches here are: {shown}"

    def list_refs(self, pattern: str, *, remote_copies: bool = False) -> list[str]:
        """Short names of branches, remote branches and tags matching a glob.

        ``fnmatch`` rules (``*`` also crosses ``/``), tried against the short
        name and the full ``refs/...`` name; with ``remote_copies``, a remote
        branch also by its branch name (``release/*`` matches
        ``origin/release/1.0``: in a clone a protected branch is often only
        there, and its revisions have landed all the same). Symbolic refs
        (``origin/HEAD``) are left out.
        """
        out = self.git(
            "for-each-ref", "--format=%(refname)%00%(refname:short)%00%(symref)",
            "refs/heads", "refs/remotes", "refs/tags",
        ).stdout.decode("utf-8", "surrogateescape")  # fmt: skip
        found: dict[str, None] = {}
        for line in out.splitlines():
            full, short, symref = (line.split("\0") + ["", ""])[:3]
            if symref:
                continue
            if fnmatch.fnmatchcase(short, pattern) or fnmatch.fnmatchcase(full, pattern):
                found[short] = None
            elif remote_copies and full.startswith("refs/remotes/") and "/" in full[13:]:
                if fnmatch.fnmatchcase(full[13:].split("/", 1)[1], pattern):
                    found[short] = None
        return sorted(found)

    def show(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev`` (``:``: the index; symlinks followed inside
        the repo), or None."""
        if not _plausible_ref(rev):
            return None
        [blob] = list(self.blobs([f":{path}" if rev == INDEX_REF else f"{rev}:{path}"]))
        return blob.data if blob.status == "ok" else None

    # ------------------------------------------------------------- listings
    def ls_tree(self, treeish: str, folders: Sequence[str]) -> list[TreeEntry]:
        """Blobs (files, symlinks) under ``folders`` in ``treeish``; one process.

        A folder inside a submodule is read from the commit the gitlink names,
        in the submodule's repository (``_through_submodules``); a folder with
        a symlink on the way is read where the links lead (``real_folders``),
        its entries under their real paths.
        """
        return self._listing(treeish, folders)[0]

    def listing_at(
        self, treeish: str, folders: Sequence[str], *, label: str | None = None
    ) -> tuple[list[TreeEntry], tuple[str, ...]]:
        """``ls_tree``'s entries and the folders they were listed from: ``folders``, with
        each symlink on the way followed in ``treeish`` (``real_folders``); ``label`` names
        the tree in an error."""
        entries, _, used = self._listing(treeish, folders, label=label)
        return entries, used

    def _listing(
        self, treeish: str, folders: Sequence[str], *, label: str | None = None
    ) -> tuple[list[TreeEntry], bool, tuple[str, ...]]:
        """``ls_tree``'s entries, whether some came through a submodule or a folder
        symlink (then no ``git diff-tree`` of ``folders`` sees their changes), and the
        folders listed (symlinks on the way resolved)."""
        if not folders:
            return [], False, tuple(folders)
        out = self.git(*_ls_tree_args(treeish, folders)).stdout
        entries = []
        append = entries.append
        # One decode of the whole listing (the meta fields are ASCII): 20k records.
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, tab, path = record.partition("\t")
            if not tab:
                continue  # the empty string after the last NUL
            mode, kind, oid = meta.split(" ")
            if kind == "blob":  # not a submodule
                append(TreeEntry(mode, oid, path))
        found = _under(entries, folders)
        # A gitlink or a symlink on the way to a folder hides everything under
        # it from this listing: only a folder that listed nothing can be in a
        # submodule or behind a link, so the usual read pays nothing for the question.
        bare = _empty_folders(found, folders)
        if not bare:
            return found, False, tuple(folders)
        gitlinks, symlinks = self._on_the_way(treeish, bare)
        if symlinks:
            real = self.real_folders(treeish, folders, label=label)
            # The real folders have no symlink on the way (real_folders follows
            # every one): this second listing does not come back here.
            listed, _, used = self._listing(treeish, real, label=label)
            return listed, True, used
        through = self._through_submodules(treeish, bare, gitlinks) if gitlinks else None
        return (found + through, True, tuple(folders)) if through is not None else (found, False, tuple(folders))

    def real_folders(
        self, treeish: str, folders: Sequence[str], *, label: str | None = None
    ) -> tuple[str, ...]:
        """``folders`` as ``treeish`` really holds them: each symlink (a 120000 entry) on the
        way from the root is replaced by the path it names, resolved against the link's
        folder, chains followed. git stores a folder symlink as a blob holding its target,
        and ``ls-tree`` does not go through it; the working tree does (the OS follows it).

        GitError (naming ``label``, else ``treeish``, and the link) when a link leaves
        the repository (an absolute target, or ``..`` above the root) or the links loop.
        One small ``ls-tree`` per link followed; none beyond the first when there is none.
        """
        result = list(folders)
        pending = {i: f for i, f in enumerate(folders) if f}
        hops = dict.fromkeys(pending, 0)
        while pending:
            _, links = self._on_the_way(treeish, list(pending.values()))
            if not links:
                break
            oids = list(dict.fromkeys(links.values()))
            targets = {oid: blob.data for oid, blob in zip(oids, self.blobs(oids, limit=4096))}
            for i, folder in list(pending.items()):
                link = min((p for p in links if folder == p or folder.startswith(p + "/")), key=len, default=None)
                if link is None:
                    del pending[i]  # no link on its way (any more): it is real
                    continue
                where = label or treeish
                raw = targets.get(links[link])
                target = raw.decode("utf-8", "surrogateescape") if raw is not None else ""
                hops[i] += 1
                if hops[i] > MAX_SYMLINK_HOPS:
                    raise GitError(
                        f"reading {where}: the versions folder {folders[i]} goes through symlink {link} "
                        f"-> {target}, and the symlinks loop (more than {MAX_SYMLINK_HOPS} followed)",
                        hint=f"make {link} point to the real versions folder, inside the repository",
                    )
                to = _link_destination(link, target)
                if to is None:
                    raise GitError(
                        f"reading {where}: the versions folder {folders[i]} goes through symlink {link} "
                        f"-> {target or '(empty)'}, which leads outside the repository",
                        hint=f"git stores only the repository's own files: make {link} a relative link "
                        "to a folder inside the repository",
                    )
                rest = folder[len(link) + 1 :]
                result[i] = pending[i] = f"{to}/{rest}" if to and rest else (to or rest)
                if not result[i]:
                    del pending[i]  # the root itself
        return tuple(result)

    def _on_the_way(self, treeish: str, folders: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Gitlinks (path -> commit) and symlinks (path -> blob id) in ``treeish`` at a
        folder or on the way to one: one small ``ls-tree`` of the folders and their
        parents (not recursive). ``INDEX_TREEISH``: the index's stage-0 entries there."""
        named = [f for f in folders if f]
        if not named:
            return {}, {}
        prefixes = sorted({"/".join(parts[:i]) for f in named for parts in [f.split("/")] for i in range(1, len(parts) + 1)})
        entries: list[tuple[str, str, str]] = []  # (mode, object id, path)
        if treeish == INDEX_TREEISH:  # the index: its stage-0 entries at those paths (not below them)
            out = self.git("ls-files", "-s", "-z", "--full-name", "--", *prefixes).stdout
            wanted = set(prefixes)
            for record in out.decode("utf-8", "surrogateescape").split("\0"):
                meta, tab, path = record.partition("\t")  # "<mode> <oid> <stage>"
                if tab and path in wanted and meta.endswith(" 0"):
                    mode, oid, _ = meta.split(" ")
                    entries.append((mode, oid, path))
        else:
            # ls-tree descends into a folder to reach a path below it that does not
            # exist (a versions folder not created yet) and lists that folder's
            # entries: only the folders and their parents are on the way.
            wanted = set(prefixes)
            out = self.git("ls-tree", "-z", "--full-tree", treeish, "--", *prefixes).stdout
            for record in out.decode("utf-8", "surrogateescape").split("\0"):
                meta, tab, path = record.partition("\t")  # "<mode> <type> <oid>"
                if tab and path in wanted:
                    mode, _, oid = meta.split(" ")
                    entries.append((mode, oid, path))
        gitlinks = {path: oid for mode, oid, path in entries if mode == _SUBMODULE_MODE}
        symlinks = {path: oid for mode, oid, path in entries if mode == _SYMLINK_MODE}
        return gitlinks, symlinks

    def hides_folders(self, treeish: str, folders: Sequence[str]) -> bool:
        """Whether a gitlink or a symlink in ``treeish`` lies at a folder or on the way to
        one: its files are then not where a listing or ``diff-tree`` of ``folders`` looks."""
        gitlinks, symlinks = self._on_the_way(treeish, folders)
        return bool(gitlinks or symlinks)

    def _through_submodules(
        self, treeish: str, folders: Sequence[str], links: Mapping[str, str] | None = None
    ) -> list[TreeEntry] | None:
        """The entries of ``folders`` that lie inside a submodule at ``treeish``, read from the
        commit its gitlink records, with superproject paths; None when no folder is in one.

        GitError when that commit cannot be read: the submodule is not
        initialized, or its commit was not fetched. A snapshot that silently
        read as empty would report every revision as missing.
        """
        if links is None:
            links = self.gitlinks(treeish, folders)
        if not links:
            return None
        found: list[TreeEntry] = []
        for folder in folders:
            link = next((p for p in links if folder == p or folder.startswith(p + "/")), None)
            if link is None:
                continue
            commit = links[link]
            sub = self._submodule(treeish, link, commit, folder)
            rest = folder[len(link) + 1 :]
            # Nested submodules: the submodule's own listing goes through its gitlinks.
            entries = sub.ls_tree(commit, [rest])
            found += [TreeEntry(e.mode, e.oid, f"{link}/{e.path}") for e in entries]
            alternates = (str(sub.common_dir / "objects"), *sub._alternates)
            self._alternates = tuple(dict.fromkeys((*self._alternates, *alternates)))
        return found

    def gitlinks(self, treeish: str, folders: Sequence[str]) -> dict[str, str]:
        """Submodule path -> commit, for each gitlink in ``treeish`` at a folder or on the way to one.

        One small ``ls-tree`` of the folders and their parents (not recursive).
        """
        return self._on_the_way(treeish, folders)[0]

    def _submodule(self, treeish: str, link: str, commit: str, folder: str) -> GitRepo:
        """The repository of the submodule at ``link``, holding ``commit``; GitError if none does."""
        from revgraph.shellwords import shell_word

        sub = self._submodules.get(link)
        if sub is None:
            sub = self._open_submodule(treeish, link)
            if sub is None:
                raise GitError(
                    f"the versions folder {folder} is inside submodule {link} (commit {commit[:12]}), "
                    "which is not initialized in this clone",
                    hint=f"run: git submodule update --init {shell_word(link)}",
                )
            self._submodules[link] = sub
        if sub._rev_parse(f"{commit}^{{commit}}") is None:
            raise GitError(
                f"the versions folder {folder} is inside submodule {link}, at commit {commit}, "
                "which the submodule's repository does not have",
                # A commit a ref records but HEAD does not: only a fetch in the
                # submodule brings it (``submodule update`` fetches HEAD's).
                hint=f"run: git -C {shell_word(link)} fetch (or: git submodule update --init {shell_word(link)})",
            )
        return sub

    def _open_submodule(self, treeish: str, link: str) -> GitRepo | None:
        """The submodule's repository: its checkout's, else ``<git dir>/modules/<name>``."""
        if self.root is not None and os.path.lexists(self.root / link / ".git"):
            try:
                sub = GitRepo(self.root / link)
            except GitError:
                sub = None
            if sub is not None and sub.root is not None and sub.root == (self.root / link).resolve():
                return sub
            if sub is not None:
                sub.close()
        # Not checked out (or somewhere else now): git keeps a submodule's repository
        # under modules/<name>, the name .gitmodules gives its path (by default the path).
        names = [name for name, path in self._submodule_paths(treeish) if path == link] + [link]
        for name in dict.fromkeys(names):
            parts = name.split("/")
            if not name or name.startswith("/") or ".." in parts or "." in parts:
                continue  # git refuses such names too: never leave modules/
            where = self.common_dir / "modules" / name
            if (where / "HEAD").is_file() and (where / "objects").is_dir():
                try:
                    return GitRepo(where)
                except GitError:
                    continue
        return None

    def _submodule_paths(self, treeish: str) -> list[tuple[str, str]]:
        """``(name, path)`` of each submodule ``.gitmodules`` lists at ``treeish``."""
        done = self.git("config", "--blob", f"{treeish}:.gitmodules", "-z", "--get-regexp",
                        r"^submodule\..*\.path$", ok=range(256))  # fmt: skip
        pairs = []
        for record in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
            key, newline, value = record.partition("\n")
            if newline and key.startswith("submodule.") and key.endswith(".path"):
                pairs.append((key[len("submodule.") : -len(".path")], value))
        return pairs

    def prefetch_ls_tree(self, treeish: str, folders: Sequence[str]) -> None:
        """Start the listing ``ls_tree(treeish, folders)`` will read (see ``prefetch``)."""
        if folders:
            self.prefetch(*_ls_tree_args(treeish, folders))

    def blob_ids(self, treeish: str, folders: Sequence[str]) -> dict[str, str]:
        """Path -> blob id of every file under ``folders`` in ``treeish``."""
        return {entry.path: entry.oid for entry in self.ls_tree(treeish, folders)}

    def tree_ids(self, treeish: str, folders: Sequence[str]) -> tuple[str | None, ...]:
        """The tree id of each folder in ``treeish`` (None when absent): a cheap cache key.

        Two trees with equal ids hold byte-identical files, so a result
        computed from one holds for the other.
        """
        root_tree = self.resolve_tree(treeish)
        wanted = [f for f in folders if f]
        found: dict[str, str] = {}
        if wanted:
            out = self.git("ls-tree", "-z", "--full-tree", root_tree, "--", *wanted).stdout
            for record in out.split(b"\0"):
                meta, _, raw_path = record.partition(b"\t")
                if b" tree " in meta:
                    found[raw_path.decode("utf-8", "surrogateescape")] = meta.split(b" ")[
                        2
                    ].decode()
        return tuple(found.get(f) if f else root_tree for f in folders)

    def index_entries(self, folders: Sequence[str] | None = None) -> list[tuple[TreeEntry, int]]:
        """``git ls-files -s`` entries with their stage (0, or 1/2/3 in a conflict)."""
        if self.root is None:
            raise GitError("a bare repository has no index")
        pathspecs = ["--", *[f for f in folders if f]] if folders and all(folders) else []
        out = self.git("ls-files", "-s", "-z", "--full-name", *pathspecs).stdout
        found = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, oid, stage = meta.decode().split(" ")
            if mode == _SUBMODULE_MODE:
                continue
            entry = TreeEntry(mode, oid, raw_path.decode("utf-8", "surrogateescape"))
            found.append((entry, int(stage)))
        if folders is not None:
            keep = {e.path for e in _under([e for e, _ in found], folders)}
            found = [(e, s) for e, s in found if e.path in keep]
        return found

    def conflicted_paths(self, folders: Sequence[str] | None = None) -> list[str]:
        """Paths with unmerged (stage 1/2/3) index entries, sorted."""
        return sorted({e.path for e, stage in self.index_entries(folders) if stage})

    # ------------------------------------------------------------ snapshots
    def folders(self, env: Environment, root: Path | None = None) -> tuple[str, ...]:
        """``env``'s version locations relative to the repository root (POSIX).

        A location that does not exist outside the repository is left out: alembic
        skips a missing folder, and git holds nothing there (``config.locations_to_read``).
        """
        from revgraph.config import locations_to_read

        top = root or self.root
        locations = env.version_locations if top is None else locations_to_read(env, top)
        return tuple(_relative_location(loc, top, env.name, bare_dir=self._bare_dir()) for loc in locations)

    def _bare_dir(self) -> Path | None:
        return self.common_dir if self.bare else None

    def read_ref(
        self,
        env: Environment,
        ref: str,
        *,
        cache: ParseCache | None = None,
        root: Path | None = None,
    ) -> Snapshot:
        """``env``'s revisions at ``ref`` (a commit-ish), from the object database."""
        sha = self.resolve(ref)
        return self._read_treeish(env, sha, source=ref, commit=sha, cache=cache, root=root)

    def read_tree(
        self,
        env: Environment,
        tree: str,
        label: str,
        *,
        cache: ParseCache | None = None,
        root: Path | None = None,
    ) -> Snapshot:
        """``env``'s revisions in a tree-ish (e.g. the tree ``git merge-tree`` wrote)."""
        sha = self.resolve_tree(tree)
        return self._read_treeish(env, sha, source=label, commit=None, cache=cache, root=root)

    def read_index(
        self, env: Environment, *, cache: ParseCache | None = None, root: Path | None = None,
        own_settings: bool = False,
    ) -> Snapshot:
        """``env``'s revisions as staged (stage-0 entries; see ``conflicted_paths``).

        ``own_settings``: placed as the staged config files say (``settings_at``;
        ``:path`` names a staged file), for the index read as a snapshot of its
        own; not for the entries that complete the working tree's (sparse checkout).
        """
        folders = self.folders(env, root)
        if own_settings:
            env, folders = self._settings_at(env, folders, INDEX_TREEISH)
        staged = self.index_entries(folders)
        entries = [entry for entry, stage in staged if stage == 0]
        bare = _empty_folders(entries, folders)
        if bare and self._on_the_way(INDEX_TREEISH, bare)[1]:
            # A folder symlink staged on the way: its files are staged where it leads.
            folders = list(self.real_folders(INDEX_TREEISH, folders, label="the index"))
            staged = self.index_entries(folders)
            entries = [entry for entry, stage in staged if stage == 0]
        snapshot = build_snapshot(
            self, env, folders, group_entries(entries), source="index", commit=None,
            cache=cache, treeish=None,
        )  # fmt: skip
        unmerged = {entry.path for entry, stage in staged if stage} - {entry.path for entry in entries}
        if not own_settings or not unmerged:
            return snapshot
        # A revision file git holds in conflict has no staged content: said, as an
        # unreadable file is, rather than left out as if it did not exist.
        listed = listing.list_revision_files(folders, unmerged, recursive=env.recursive, sourceless=env.sourceless)
        problems = tuple(
            ParseProblem(item.path, 1, "unmerged in the index (a git conflict): resolve it and `git add` it")
            for item in listed
        )
        from dataclasses import replace

        return replace(snapshot, problems=snapshot.problems + problems) if problems else snapshot

    def _read_treeish(self, env: Environment, sha: str, *, source, commit, cache, root) -> Snapshot:
        folders = self.folders(env, root)
        return self.tree_snapshot(env, folders, sha, source=source, commit=commit, cache=cache)

    def tree_snapshot(
        self,
        env: Environment,
        folders: Sequence[str],
        treeish: str,
        *,
        source: str,
        commit: str | None,
        cache: ParseCache | None,
        overrides: Mapping[str, list[TreeEntry]] | None = None,
    ) -> Snapshot:
        """``env``'s revisions in ``treeish`` (plus ``overrides``: path -> entries, e.g. both
        sides of a conflict), read as a difference from a tree this run read in full when it can.

        A check reads base, the merge base and the predicted merge: three trees
        that share nearly every file. The first is read in full (``ls-tree``,
        alembic's listing, one result per file); when the layout is plain (one
        flat versions folder of regular files, no ``.pyc`` rules) the others are
        that reference plus ``git diff-tree``'s changes, their results reused
        by path. Anything else (a symlink, a submodule, a recursive or
        sourceless environment) is read in full.
        """
        env, folders = self._settings_at(env, folders, treeish)
        key = _reference_key(env, folders)
        reference = self._references.get(key)
        if reference is not None and reference.cache is cache:
            derived = _derive(self, env, folders, reference, treeish, source=source, commit=commit,
                              cache=cache, overrides=overrides or {})  # fmt: skip
            if derived is not None:
                return derived
        listed, hidden, used = self._listing(treeish, folders, label=source)
        entries = group_entries(listed)
        if overrides:
            entries.update(overrides)
        snapshot = build_snapshot(
            self, env, used, entries, source=source, commit=commit, cache=cache, treeish=treeish,
        )  # fmt: skip
        # Not a reference when read through a submodule or a folder symlink: git
        # diff-tree of two superproject trees shows nothing under a gitlink, however
        # it moved, nor behind a link, whatever the linked-to folder now holds.
        if reference is None and not overrides and not hidden:
            made = _reference(env, folders, treeish, entries, snapshot, cache)
            if made is not None:
                self._references[key] = made
        return snapshot

    def _settings_at(
        self, env: Environment, folders: Sequence[str], treeish: str
    ) -> tuple[Environment, Sequence[str]]:
        """``env`` and its folders as ``treeish``'s own config files place revisions."""
        if self.settings_at is None:
            return env, folders
        found = self.settings_at(env, treeish)
        return (env, folders) if found is env else (found, self.folders(found))

    def adopt_reference(
        self, env: Environment, folders: Sequence[str], treeish: str, snapshot: Snapshot,
        cache: ParseCache | None,
    ) -> bool:  # fmt: skip
        """Let ``snapshot`` (read elsewhere: the working tree) be ``treeish``'s full read, when it
        provably is; later reads of other trees are then differences from it (``tree_snapshot``).

        Proof: the layout is plain, every result is a revision with a blob id,
        and the git tree those files make (name, blob id, mode 100644) is
        ``treeish``'s versions folder, byte for byte. Anything else in the
        folder (an ``__init__.py``, an executable file, a sub-folder, a file
        git converts on checkout) makes another tree, and nothing is adopted.
        """
        if self._settings_at(env, folders, treeish)[0] is not env:
            return False  # ``treeish`` places its revisions elsewhere: not this read
        key = _reference_key(env, folders)
        prefix = _plain_prefix(env, folders)
        revisions = snapshot.revisions
        if prefix is None or key in self._references or snapshot.problems or not revisions:
            return False
        cut = len(prefix)
        names = [rev.path[cut:] for rev in revisions]
        oids = [rev.blob_id for rev in revisions]
        if (
            len(set(names)) != len(names)
            or not all(rev.path.startswith(prefix) for rev in revisions)
            or any("/" in name for name in names)
            or not all(oids)
        ):
            return False
        encoding = sys.getfilesystemencoding()  # os.fsencode, without a call per name
        entries = sorted(zip([name.encode(encoding, "surrogateescape") for name in names], oids))
        try:
            body = b"".join([b"100644 %s\0%s" % (name, bytes.fromhex(oid)) for name, oid in entries])
        except (ValueError, TypeError):
            return False
        made = blobid.object_id(b"tree", body, self.object_format)
        if made != self._rev_parse(f"{treeish}:{folders[0]}"):
            return False
        results = {rev.path: [rev] for rev in revisions}
        self._references[key] = _Reference(treeish, cache, sorted(results), results)
        return True

    def prefetch_tree_read(
        self, env: Environment, folders: Sequence[str], treeish: str, *references: str | None
    ) -> None:
        """Start what ``tree_snapshot`` will run for ``treeish`` once any one of ``references``
        was read in full (None: ``treeish`` itself is read in full).

        Each distinct command starts once: outside the plain layout every
        reference leads to the same full listing, and prefetching a command
        again would wait for the first run and start it over.
        """
        env, folders = self._settings_at(env, folders, treeish)
        if not folders:
            return
        plain = _plain_prefix(env, folders) is not None
        wanted = dict.fromkeys(
            _diff_tree_args(reference, treeish, folders) if plain and reference is not None
            else _ls_tree_args(treeish, folders)
            for reference in references
        )  # fmt: skip
        for args in wanted:
            self.prefetch(*args)


# ------------------------------------------------- snapshots by difference
_REGULAR_MODES = frozenset(("100644", "100755"))


class _Reference(NamedTuple):
    """A tree read in full in the plain layout (see ``GitRepo.tree_snapshot``)."""

    treeish: str
    cache: object  # the ParseCache it was read through: only reads through it reuse its results
    listed: list[str]  # the revision files, in alembic's order (sorted: one flat folder)
    results: dict[str, list]  # listed path -> its results, in build_snapshot's order


def _reference_key(env: Environment, folders: Sequence[str]) -> tuple:
    """Which reads may share a reference: the same environment layout."""
    return (env.name, tuple(folders), env.recursive, env.sourceless)


def _plain_prefix(env: Environment, folders: Sequence[str]) -> str | None:
    """``folder/`` when ``env`` lists one flat folder of sources; None otherwise."""
    if env.recursive or env.sourceless or len(folders) != 1 or not folders[0]:
        return None
    if listing.skips_its_files(folders[0]):
        return None
    return folders[0] + "/"


def _plain_entries(entries: Mapping[str, Sequence[TreeEntry]]) -> bool:
    return all(len(group) == 1 and group[0].mode in _REGULAR_MODES for group in entries.values())


def _by_path(snapshot: Snapshot) -> dict[str, list]:
    """Each path's results: revisions first, then problems, each in snapshot order."""
    found: dict[str, list] = {}
    for result in (*snapshot.revisions, *snapshot.problems):
        found.setdefault(result.path, []).append(result)
    return found


def _reference(
    env: Environment, folders: Sequence[str], treeish: str, entries: dict[str, list[TreeEntry]],
    snapshot: Snapshot, cache: ParseCache | None,
) -> _Reference | None:  # fmt: skip
    """``snapshot`` as a reference for later reads, when its layout is plain."""
    if _plain_prefix(env, folders) is None or not _plain_entries(entries):
        return None
    results = _by_path(snapshot)
    if any(len(found) != 1 for found in results.values()):
        return None  # not the simple case this relies on
    # One result per listed file, and a flat folder lists its files sorted by name.
    return _Reference(treeish, cache, sorted(results), results)


def _diff_tree_args(old: str, new: str, folders: Sequence[str]) -> tuple[str, ...]:
    return ("diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", "--no-commit-id", old, new, "--", *folders)


def _derive(
    repo: GitRepo,
    env: Environment,
    folders: Sequence[str],
    reference: _Reference,
    treeish: str,
    *,
    source: str,
    commit: str | None,
    cache: ParseCache | None,
    overrides: Mapping[str, list[TreeEntry]],
) -> Snapshot | None:
    """``treeish``'s snapshot as ``reference`` plus what ``git diff-tree`` says changed; None
    when the change is not plain (then the caller reads the tree in full)."""
    prefix = _plain_prefix(env, folders)
    if prefix is None:
        return None
    done = repo.git(*_diff_tree_args(reference.treeish, treeish, folders), ok=range(256))
    if done.returncode != 0:
        return None
    changed: dict[str, list[TreeEntry]] = {}
    records = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    for meta, path in zip(records[0:-1:2], records[1::2]):
        fields = meta.lstrip(":").split(" ")
        if len(fields) != 5:
            return None  # not the raw format asked for: read in full rather than guess
        _, new_mode, _, new_oid, status = fields
        if status[:1] not in ("A", "M", "D", "T") or not path.startswith(prefix):
            return None  # a rename or copy (not asked for), or a path outside the folder
        if status[:1] == "D":
            changed[path] = []
        elif new_mode in _REGULAR_MODES:
            changed[path] = [TreeEntry(new_mode, new_oid, path)]
        else:
            return None  # a symlink or a submodule: the general reader follows them
    for path, group in overrides.items():
        if not path.startswith(prefix) or any(entry.mode not in _REGULAR_MODES for entry in group):
            return None
        changed[path] = list(group)
    # What changed, read like any tree (cache hits, one cat-file batch for the rest).
    fresh = {path: group for path, group in changed.items() if group}
    listed_fresh = [item.path for item in listing.list_revision_files(folders, fresh.keys())] if fresh else []
    results = _by_path(build_snapshot(
        repo, env, folders, {path: fresh[path] for path in listed_fresh}, source=source,
        commit=commit, cache=cache, treeish=treeish,
    )) if listed_fresh else {}  # fmt: skip
    if set(results) != set(listed_fresh):
        return None
    kept = [path for path in reference.listed if path not in changed]
    if not kept and not listed_fresh and repo.hides_folders(treeish, folders):
        # Every file gone because the folder is now inside a submodule or behind a
        # symlink, which diff-tree does not look into (rare: one small ls-tree to
        # ask); the full read goes through it.
        return None
    ordered: list = []
    extend = ordered.extend
    for path in sorted((*kept, *listed_fresh)) if listed_fresh else kept:
        extend(results.get(path) or reference.results[path])
    return _snapshot(env.name, source, commit, ordered)


def folder_pathspecs(folders: Sequence[str]) -> list[str]:
    """The pathspecs that limit a git command to ``folders`` (none when one is the root)."""
    return [f for f in folders if f] if all(folders) else []


def _marked_args(folders: Sequence[str]) -> tuple[str, ...]:
    from revgraph.express import hidden_args

    return tuple(hidden_args(folder_pathspecs(folders)))


def _ls_tree_args(treeish: str, folders: Sequence[str]) -> tuple[str, ...]:
    return ("ls-tree", "-r", "-z", "--full-tree", treeish, "--", *folder_pathspecs(folders))


def _collect(
    started: tuple[subprocess.Popen, IO[bytes], IO[bytes]], argv: list[str]
) -> subprocess.CompletedProcess:
    """Wait for a prefetched command and read what it wrote."""
    proc, out, err = started
    try:
        returncode = proc.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, returncode, out.read(), err.read())
    finally:
        out.close()
        err.close()


def _fetch_once(cat: _CatFile, requests: Sequence[str], limit: int) -> Iterator[Blob]:
    try:
        yield from cat.fetch(requests, limit)
    finally:
        cat.close()


_UNTRANSLATED = {"LC_ALL": "C", "LANGUAGE": "C"}  # we look for git's own words on stderr
# (git dir, promisor remote) -> what git said when a fetch from it failed in this process
# (one command). Not tried again: when check's fast path fails, the full CLI reads it all
# again to report the error in the asked format, and an unreachable remote may cost a
# network timeout each time.
_UNREACHABLE: dict[tuple[str, str], str] = {}


def _promisors(config: str) -> tuple[tuple[str, str], ...]:
    """``(name, url)`` of the promisor remotes in ``git config -z --get-regexp`` output, in
    git's order (promisor-remote.c): ``remote.<name>.promisor`` ones as configured,
    then the one ``extensions.partialClone`` names, last."""
    urls: dict[str, str] = {}
    marked: dict[str, None] = {}
    named = None
    for record in config.split("\0"):
        key, newline, value = record.partition("\n")
        lowered = value.strip().lower()
        if key == "extensions.partialclone":
            named = value
        elif key.startswith("remote.") and key.endswith(".url"):
            urls.setdefault(key[7:-4], value)
        elif key.startswith("remote.") and key.endswith(".promisor") and _config_true(newline, lowered):
            marked[key[7:-9]] = None
    if named:
        marked.pop(named, None)
        marked[named] = None
    return tuple((name, urls.get(name, "")) for name in marked)


def _config_true(has_value: str, lowered: str) -> bool:
    """git_config_bool: a key with no ``=`` is true; true/yes/on; an integer, with git's
    k/m/g units, other than 0 (``promisor = -1`` or ``1k`` is a promisor remote to git)."""
    if not has_value or lowered in ("true", "yes", "on"):
        return True
    number = re.fullmatch(r"[+-]?(\d+)[kmg]?", lowered)
    return number is not None and int(number[1]) != 0


def _misread_ref(ref: str) -> BadRefError | None:
    """A ref that cannot name one snapshot, told from its text alone; None otherwise."""
    if not ref.strip():
        return BadRefError(ref, "an empty ref names nothing", usage=True)
    if ref == INDEX_REF:  # a snapshot where one is read (--ref, diff), never a commit
        return BadRefError(ref, f"{ref!r} names the index, which is not a commit; give a branch, tag or sha",
                           usage=True)  # fmt: skip
    revision = ref.split(":", 1)[0]  # after a colon comes a path, where ".." may be a folder
    if ".." in revision or revision.startswith("^") or revision.endswith(("^!", "^@")) or re.search(r"\^-\d*\Z", revision):
        return BadRefError(ref, f"{ref!r} is a range; a ref names one commit or tree (ranges are not snapshots)",
                           usage=True)  # fmt: skip
    return None


def _plausible_ref(ref: str) -> bool:
    """Refuse what git would read as an option or cannot name a ref."""
    return bool(ref) and not ref.startswith("-") and "\0" not in ref and "\n" not in ref


def _worktree_of(git_dir: Path, common_dir: Path) -> Path | None:
    """The worktree of a git dir we were started inside (``.git`` or ``.git/worktrees/x``)."""
    pointer = git_dir / "gitdir"
    if pointer.is_file():
        try:
            return Path(pointer.read_text(encoding="utf-8").strip()).parent
        except OSError:
            return None
    return common_dir.parent if common_dir.name == ".git" else None


def _relative_location(
    location: Path, root: Path | None, env_name: str, *, bare_dir: Path | None = None
) -> str:
    if not location.is_absolute():
        return listing.normalize_location(location.as_posix())
    if root is None and bare_dir is not None:
        # A bare repository: `--versions migrations/versions` given inside it names
        # that path in its trees (there is no working tree it could mean instead).
        for top in (Path(os.path.abspath(bare_dir)), bare_dir.resolve()):
            try:
                return listing.normalize_location(location.relative_to(top).as_posix())
            except ValueError:
                continue
    if root is None:
        raise GitError(
            f"environment {env_name!r}: a bare repository has no working tree to place "
            f"{location} in; give the versions folder relative to the repository"
        )
    try:
        return listing.normalize_location(location.relative_to(Path(os.path.abspath(root))).as_posix())
    except ValueError:
        pass
    try:
        # Resolved only now: a looping symlink in the working tree (which Path.resolve
        # refuses) need not stop a read of the folder from a ref.
        return listing.normalize_location(location.resolve().relative_to(root.resolve()).as_posix())
    except (ValueError, OSError, RuntimeError):
        pass
    raise ConfigError(
        f"environment {env_name!r}: versions folder {location} is outside {root}; "
        "git cannot read it from a ref"
    )


def _empty_folders(entries: Sequence[TreeEntry], folders: Sequence[str]) -> list[str]:
    """The folders (other than the root) that hold none of ``entries``."""
    named = [f for f in folders if f]
    if not entries or not named:
        return named
    if len(folders) == 1:
        return []
    return [f for f in named if not any(e.path.startswith(f + "/") for e in entries)]


def _quote_alternate(path: str) -> str:
    """One GIT_ALTERNATE_OBJECT_DIRECTORIES entry; git reads a quoted one C-style."""
    if not any(ch in path for ch in (os.pathsep, '"', "\\", "\n")):
        return path
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _under(entries: list[TreeEntry], folders: Sequence[str]) -> list[TreeEntry]:
    """Entries inside one of ``folders`` (pathspecs also match a file named like the folder)."""
    prefixes = tuple(f"{f}/" for f in folders if f)
    if any(not f for f in folders):
        return entries
    return [e for e in entries if e.path.startswith(prefixes)]


def group_entries(entries: Iterable[TreeEntry]) -> dict[str, list[TreeEntry]]:
    grouped: dict[str, list[TreeEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.path, []).append(entry)
    return grouped


# ---------------------------------------------------------- building snapshots
def build_snapshot(
    repo: GitRepo,
    env: Environment,
    folders: Sequence[str],
    entries: Mapping[str, Sequence[TreeEntry]],
    *,
    source: str,
    commit: str | None,
    cache: ParseCache | None,
    treeish: str | None,
) -> Snapshot:
    """A snapshot from git entries: alembic's listing, then blobs read in one batch.

    A path may carry several entries (both sides of a conflict): each becomes
    a revision of its own. ``treeish`` lets symlinks that point outside the
    listed folders be followed inside the repository.
    """
    if cache is None:
        # Imported here: the merge driver reads refs without ever needing a cache.
        from revgraph.sources.cache import ParseCache

        cache = ParseCache(None)
    resolved = _resolve_symlinks(repo, entries, treeish)
    listed = listing.list_revision_files(
        folders, entries.keys(), recursive=env.recursive, sourceless=env.sourceless,
        resolved=resolved,
    )  # fmt: skip
    slots: list[list[Revision | ParseProblem | None]] = []
    wanted: dict[str, list[tuple[int, int, str]]] = {}
    get, source_kind = cache.get, listing.SOURCE
    for item in listed:
        # The usual file (one entry, no symlink, parsed before): straight from the cache.
        group = entries.get(item.path) if item.kind == source_kind else None
        if group is not None and len(group) == 1:
            entry = group[0]
            if entry.mode != _SYMLINK_MODE and entry.oid:
                found = get(entry.oid, item.path)
                if found is not None:
                    slots.append([found])
                    continue
        slot = _place(item, entries, treeish, cache, wanted, len(slots))
        slots.append(slot)
    if wanted:
        _fill(slots, wanted, repo.blobs(list(wanted)), cache)
    return _snapshot(env.name, source, commit, (r for slot in slots for r in slot))


def _place(
    item: listing.ListedFile,
    entries: Mapping[str, Sequence[TreeEntry]],
    treeish: str | None,
    cache: ParseCache,
    wanted: dict[str, list[tuple[int, int, str]]],
    index: int,
) -> list:
    """The results for one listed file; cache misses are queued in ``wanted``."""
    unfollowable = "symlink cannot be followed inside the repository"
    if item.kind == listing.UNRESOLVED:
        return [ParseProblem(item.listed_as, 1, unfollowable)]
    own = list(entries.get(item.path) or entries.get(item.listed_as, ()))
    if item.path not in entries or any(e.mode == _SYMLINK_MODE for e in own):
        # What a symlink names, or a chain of them: git follows it inside the tree.
        if treeish is None:
            return [ParseProblem(item.listed_as, 1, unfollowable)]
        own = [TreeEntry("100644", "", item.path)]
    if item.kind == listing.COMPILED:
        return [ParseProblem(item.path, 1, listing.COMPILED_REASON, e.oid or None) for e in own]
    slot: list = []
    for position, entry in enumerate(own):
        found = cache.get(entry.oid, item.path) if entry.oid else None
        if found is not None:
            slot.append(found)
            continue
        request = entry.oid or f"{treeish}:{entry.path}"
        wanted.setdefault(request, []).append((index, position, item.path, item.listed_as))
        slot.append(None)
    return slot


def _fill(
    slots: list[list], wanted: Mapping[str, list], blobs: Iterable[Blob], cache: ParseCache
) -> None:
    """Put each fetched blob's parse result in its slots (parsed together, see parse_many)."""
    to_parse: list[tuple[bytes, str, str]] = []
    places: list[tuple[int, int]] = []
    for blob in blobs:
        for index, position, path, listed_as in wanted[blob.request]:
            if blob.status == "ok" and blob.data is not None and blob.oid is not None:
                to_parse.append((blob.data, path, blob.oid))
                places.append((index, position))
            elif blob.status == "too-large":
                slots[index][position] = too_large(path, blob.size, blob.oid)
            else:
                # A link whose target cannot be read is the link's problem: name the
                # file that is in the folder (as the working tree does), not its target.
                reason = f"cannot read this file from git ({blob.status})"
                slots[index][position] = ParseProblem(listed_as or path, 1, reason, blob.oid)
    for (index, position), result in zip(places, cache.parse_many(to_parse)):
        slots[index][position] = result


def _resolve_symlinks(
    repo: GitRepo, entries: Mapping[str, Sequence[TreeEntry]], treeish: str | None
) -> dict[str, str | None]:
    """Symlink path -> the repository path it names (lexically), None if it leaves the repo."""
    links = [group[0] for group in entries.values() if group[0].mode == _SYMLINK_MODE]
    if not links:
        return {}
    resolved: dict[str, str | None] = {}
    for link, blob in zip(links, repo.blobs([e.oid for e in links])):
        target = (blob.data or b"").decode("utf-8", "surrogateescape")
        resolved[link.path] = _lexical_target(link.path, target) if blob.data else None
        if treeish is None and resolved[link.path] not in entries:
            resolved[link.path] = None  # the index: nothing else to read it from
    return resolved


def _link_destination(link: str, target: str) -> str | None:
    """The repository path symlink ``link`` names (``""``: the root), resolved lexically
    against its folder; None when it leaves the repository (absolute, ``..`` above the
    root) or names nothing."""
    if not target or target.startswith("/") or "\0" in target:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined


def _lexical_target(link: str, target: str) -> str | None:
    if not target or target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    if joined == ".." or joined.startswith("../") or joined == ".":
        return None
    return joined


def _snapshot(environment: str, source: str, commit: str | None, results: Iterable) -> Snapshot:
    revisions: list[Revision] = []
    problems: list[ParseProblem] = []
    for result in results:
        if isinstance(result, Revision):
            revisions.append(result)
        elif result is not None:
            problems.append(result)
    return Snapshot(environment, source, tuple(revisions), tuple(problems), commit)
