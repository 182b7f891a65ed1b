"""The result cache's express lane: an unchanged ``check`` answered from a ticket.

``resultcache.fast_check`` already answers a warm ``check`` without typer,
but it still loads the configuration (and the dataclasses, configparser and
tomllib behind it), opens a ``Workspace`` and runs six git processes one
after the other. This module answers the same command line with the standard
library only, three git processes running side by side, and no hashing.

A *ticket* (one small ``marshal`` file per command line under
``<git common dir>/revgraph/express/``) holds, for a command line run in a
directory, a *plan* and the last few *states* with the output each led to.
The plan says how to look at the world: the filesystem facts the
configuration was built from (``config.project_inputs``: which files exist
and their bytes; for a base that is a local branch, also git's own
configuration, which names the remote copy a check reads with it; for the
default base, the file of ``refs/remotes/origin/HEAD``, whose branch names
the base), the
repository layout (``git rev-parse`` of the project root, verbatim), the
real paths of the root and the versions folders, the refs to resolve, the
folders to ask ``git status`` about and the lock files.
A state is what was seen: the refs' commits, ``git status`` of the folders
with each listed file's identity (in flat folders the lane's status skips
untracked files and reads the recorded ones' identities instead, see
``with_recorded_untracked``), the git directory's files that can change
what a commit id means (``shallow``, ``info/grafts``, replace refs,
``packed-refs``, ``info/sparse-checkout``) and the lock files' bytes.

Only ``resultcache`` writes tickets, and only from facts gathered in the very
run that computed the full key (see ``resultcache._State``): the key is a
function of those facts (commit ids stand for their folder trees and, with
the git directory's files, for their merge base), so equal facts here mean
the result stored under that key. Anything unusual (a file too fresh to
vouch for by its identity, a ``protected`` pattern, a ``package:resource``
location, reftable refs, colour output) is simply not recorded, and the
normal fast path answers. Every comparison is of the recorded facts
themselves, never of a digest.
"""

from __future__ import annotations

import marshal
import os
import stat as stat_module
import sys

FORMAT = 4  # bump when a ticket's shape changes
TICKETS = "express"
KEPT_TICKETS = 32  # files in the tickets folder; the least recently written go first
KEPT_STATES = 4  # states per ticket: a branch switched back and forth finds both
RACY_NS = 2_000_000_000  # as StatCache: a file this fresh may change within its mtime tick

# The environment a ticket is valid for: everything git reads from it, the CI
# variables that choose a base, and what rendering, decoding or finding
# programs depends on.
ENV_PREFIXES = ("GIT_",)
ENV_NAMES = (
    "GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "BITBUCKET_PR_DESTINATION_BRANCH",
    "SYSTEM_PULLREQUEST_TARGETBRANCH", "BUILDKITE_PULL_REQUEST_BASE_BRANCH", "CHANGE_TARGET",
    "GITHUB_REF",  # a merge queue's ref names its base (api.merge_queue_base)
    "COLUMNS", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "PYTHONUTF8", "PYTHONPATH", "HOME",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PATH", "ALEMBIC_CONFIG",
)  # fmt: skip

DISCOVER = (
    "git", "rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository",
    "--is-shallow-repository", "--is-inside-work-tree", "--show-object-format", "--show-cdup",
)  # fmt: skip  (as sources.gitref.GitRepo._discover)

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_code_stamp: tuple | None = None


# ------------------------------------------------------------ shared facts
def git_environ(extra: dict | None = None) -> dict[str, str]:
    """``sources.gittune.git_environ``, copied: the warm lane does not import the sources
    package (a test holds the two equal)."""
    environ = dict(os.environ)
    environ["GIT_OPTIONAL_LOCKS"] = "0"
    environ["GIT_LITERAL_PATHSPECS"] = "1"
    for name in ("GIT_ICASE_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS"):
        environ.pop(name, None)  # our pathspecs are paths, as alembic reads them
    environ.pop("GIT_DIR", None)
    environ.pop("GIT_WORK_TREE", None)
    if extra:
        environ.update(extra)
    return environ


def code_stamp() -> tuple:
    """Size and mtime of every revgraph module (``resultcache.code_fingerprint`` hashes it)."""
    global _code_stamp
    if _code_stamp is None:
        rows = []
        for folder, dirs, files in os.walk(_PACKAGE):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    info = os.stat(path)
                    rows.append((os.path.relpath(path, _PACKAGE), info.st_size, info.st_mtime_ns))
        _code_stamp = tuple(rows)
    return _code_stamp


def status_args(folders: tuple[str, ...] | list[str], *, untracked: bool = True) -> list[str]:
    """``git status`` of the versions folders: every listed path, ignored ones too.

    ``untracked=False``: changes to tracked files only (the lane's status of
    flat folders, see ``observe``), which spares git a look at each file of
    the folders against the index (~40% of its time at 20k files).
    Submodules are compared by their commit (``dirty``, not ``all``): a file that
    replaced a submodule's folder is then listed (``T``) and followed.
    """
    listing = ["--untracked-files=all", "--ignored=matching"] if untracked else ["--untracked-files=no"]
    return ["status", "--porcelain=v1", "-z", *listing, "--no-renames", "--ignore-submodules=dirty", "--", *folders]


def hidden_args(folders: tuple[str, ...] | list[str]) -> list[str]:
    """``git ls-files -v`` of the versions folders: every index entry with its tag."""
    return ["ls-files", "-v", "-z", "--", *folders]


def staged_args() -> list[str]:
    """``git diff-index`` of the files the index holds otherwise than HEAD (``staged_outside``)."""
    return ["diff-index", "--cached", "--no-renames", "-z", "--name-status", "HEAD", "--"]


def staged_outside(stdout: bytes, folders: tuple[str, ...] | list[str]) -> set[bytes]:
    """How ``staged_args``' output changes files outside every versions folder (their
    statuses: ``M``, ``A``, ``D``, ...; empty when it changes none).

    The predicted merge starts from the index (``sources.merged.worktree_commit``):
    a change staged outside the folders is part of the merge, and no part of the key
    holds it. Through git's renames it can reach the folders (a staged copy of a
    revision file outside them, say), so a result is kept and answered only while
    the index is HEAD's outside the folders (``resultcache._still_proven``).
    """
    if any(not folder for folder in folders):
        return set()
    prefixes = tuple(os.fsencode(f"{folder}/") for folder in folders)
    fields = stdout.split(b"\0")
    return {
        b"attributes" if path.rsplit(b"/", 1)[-1] == b".gitattributes" else status
        for status, path in zip(fields[::2], fields[1::2]) if path and not path.startswith(prefixes)
    }


def object_replacements(common_dir: str) -> bool:
    """Whether the repository has replace refs (loose or packed) or grafts (``info/grafts``,
    or the file ``GIT_GRAFT_FILE`` names).

    Either makes an object id read as other content than the id's (and moves
    merge bases): no cache keyed by ids vouches for it (``api.Workspace.cache``,
    ``resultcache._State.compute``).
    """
    if os.environ.get("GIT_NO_REPLACE_OBJECTS") is None:
        if os.environ.get("GIT_REPLACE_REF_BASE", "refs/replace/").rstrip("/") != "refs/replace":
            return True  # replace refs kept elsewhere: not looked for
        try:
            if os.listdir(os.path.join(common_dir, "refs", "replace")):
                return True
        except OSError:
            pass
        packed = read_fact(os.path.join(common_dir, "packed-refs"))
        if isinstance(packed, bytes) and b" refs/replace/" in packed:
            return True
    if os.environ.get("GIT_GRAFT_FILE"):
        return True  # grafts read from elsewhere (a ticket would hold the name, not the file)
    return os.path.lexists(os.path.join(common_dir, "info", "grafts"))


def attribute_fact(path: str) -> bytes | str:
    """A ``.gitattributes`` file as git reads it: its bytes, or why there are none (git
    reads no attributes through a symbolic link in the work tree)."""
    if os.path.islink(path):
        return "symlink"
    return read_fact(path)


def index_identity(git_dir: str) -> tuple | str | None:
    """The identity of the index git status reads (a tuple, unless too fresh or unknown).

    Taken before looking for marked entries: while it holds, none was marked
    since (git rewrites the index through a new file to mark one).
    """
    if os.environ.get("GIT_INDEX_FILE"):
        return None  # another index: not worth following
    return _identity(os.path.join(git_dir, "index"))


def hidden_paths(stdout: bytes) -> list[bytes]:
    """The paths ``hidden_args``' output tags as files git does not look at.

    An entry marked assume-unchanged (a lowercase tag) or skip-worktree
    (``S``) is taken as unchanged by ``git status`` and ``git add``
    whatever the file on disk holds: neither status nor a staged copy of
    the folders can then stand for what alembic would load. Nearly every
    entry is ``H`` (or ``M``, unmerged, which status lists): counted in C
    first, so a 20k folder costs no loop here.
    """
    records = stdout.count(b"\0")
    plain = stdout.count(b"\0H ") + stdout.count(b"\0M ") + stdout.startswith((b"H ", b"M "))
    if plain == records:
        return []
    return [record[2:] for record in stdout.split(b"\0") if record and record[:2] not in (b"H ", b"M ")]


def status_entries(
    stdout: bytes, root: str, sourceless: bool, fresh: int | None = None, folders: tuple | list = ()
) -> tuple | None:
    """Each path ``git status`` listed with its identity; None when that cannot stand for content.

    None for a whole folder listed as one entry, byte-code of a sourceless
    environment, or a listed file modified after ``fresh`` (ns; default: two
    seconds ago), whose identity may not yet reflect its content.

    Then a row ``("//", folder, identity)`` per folder of ``folders``: git
    status lists no FIFO, socket or device named like a revision, which
    alembic would still try to load; creating one changes its folder's
    identity (so does any entry created or removed there). A folder changed
    in the last two seconds could change again within its time's tick: it
    is looked through instead (``special_files``; None if it holds one),
    and its row says only "fresh", which no later identity equals.
    """
    if fresh is None:
        fresh = _fresh_after()
    entries = []
    for record in stdout.split(b"\0"):
        if not record:
            continue
        state, path = record[:2].decode(), record[3:].decode("utf-8", "surrogateescape")
        folder, _, name = path.rstrip("/").rpartition("/")
        if folder.endswith("__pycache__") or name == "__pycache__":
            if sourceless:
                return None
            continue  # byte-code alembic never lists without sourceless
        if path.endswith("/"):
            return None  # a whole folder: its files are not listed one by one
        row = _path_row(state, path, root, fresh)
        if row is None:
            return None
        entries.append(row)
    rows = _folder_rows(root, folders, fresh)
    if rows is None:
        return None
    entries.extend(rows)
    return tuple(entries)


def _path_row(state: str, path: str, root: str, fresh: int) -> tuple | None:
    """A listed path's row: its state and identity ("absent" and why); None while too fresh."""
    try:
        info = os.lstat(os.path.join(root, path))
    except OSError as exc:
        return (state, path, f"absent {exc.errno}")
    if info.st_mtime_ns > fresh or info.st_ctime_ns > fresh:
        return None
    return (state, path, *_stat_identity(info))


def _folder_rows(root: str, folders: tuple | list, fresh: int) -> list | None:
    """``status_entries``' row per versions folder; None when a fresh one holds a special file."""
    entries: list = []
    for folder in folders:
        try:
            info = os.stat(os.path.join(root, folder))
        except OSError as exc:
            entries.append(("//", folder, f"absent {exc.errno}"))
            continue
        if info.st_mtime_ns > fresh or info.st_ctime_ns > fresh:
            if special_files(root, (folder,)):
                return None
            entries.append(("//", folder, "fresh"))
            continue
        entries.append(("//", folder, *_stat_identity(info)))
    return entries


def _stat_identity(info: os.stat_result) -> tuple:
    """What a file's or folder's content is vouched by: mode, size, both times and inode."""
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def with_recorded_untracked(observed: tuple, recorded: tuple, root: str) -> tuple | None:
    """What the full ``git status`` would list now, from one without untracked files (flat folders).

    ``observed``: ``status_entries`` of ``status_args(untracked=False)``;
    ``recorded``: the entries a ticket holds, from the full status. In a
    flat folder (alembic reads no sub-folder), creating, removing or
    renaming an untracked or ignored file changes the folder's own row, so
    with every folder row unchanged the untracked and ignored files are the
    ones recorded, and their rows are read again here. git lists them after
    the tracked changes, untracked ("??") before ignored ("!!"), as here.
    None when one of them is too fresh to vouch for its content.
    """
    fresh = _fresh_after()
    rows = [row for row in observed if row[0] != "//"]
    for row in recorded:
        if row[0] in ("??", "!!"):
            now = _path_row(row[0], row[1], root, fresh)
            if now is None:
                return None
            rows.append(now)
    rows.extend(row for row in observed if row[0] == "//")
    return tuple(rows)


def special_files(root: str, folders: tuple | list) -> bool:
    """Whether a folder holds a FIFO, socket or device named like a revision (one ``scandir``)."""
    for folder in folders:
        try:
            with os.scandir(os.path.join(root, folder)) as found:
                for entry in found:
                    if entry.name.endswith((".py", ".pyc", ".pyo")) and not (
                        entry.is_file(follow_symlinks=False) or entry.is_symlink() or entry.is_dir(follow_symlinks=False)
                    ):
                        return True
        except OSError:
            continue
    return False


def _fresh_after() -> int:
    import time

    return time.time_ns() - RACY_NS


def catfile_input(requests: tuple[str, ...] | list[str]) -> bytes:
    if any("\n" in r for r in requests):
        raise ValueError("a request holds a newline")
    return "".join(f"{r}\n" for r in requests).encode("utf-8", "surrogateescape")


def commits(stdout: bytes, count: int) -> tuple[str | None, ...]:
    """The commit id each ``<ref>^{commit}`` request names, None where it names none."""
    answers = stdout.decode("utf-8", "surrogateescape").split("\n")
    if len(answers) < count:
        raise ValueError("git cat-file --batch-check answered too few requests")
    found: list[str | None] = []
    for answer in answers[:count]:
        parts = answer.split(" ")
        found.append(parts[0] if len(parts) == 3 and parts[1] == "commit" else None)
    return tuple(found)


def gitdir_facts(git_dir: str, common_dir: str) -> tuple | None:
    """The git directory's files that change what a commit id leads to; None: cannot vouch.

    Commit ids stand for their trees, but their merge base also depends on
    shallow boundaries, grafts and replace refs (loose, or in packed-refs,
    known here by its identity). A sparse checkout is noted (the result
    cache does not apply to it). Reftable refs cannot be looked at this way.
    """
    if os.path.exists(os.path.join(common_dir, "reftable")):
        return None
    packed = _identity(os.path.join(common_dir, "packed-refs"))
    if packed is None:
        return None
    replace_dir = os.path.join(common_dir, "refs", "replace")
    try:
        names = sorted(os.listdir(replace_dir))
    except FileNotFoundError:
        replace: tuple | None = None
    except OSError:
        return None
    else:
        replace = tuple((name, read_fact(os.path.join(replace_dir, name))) for name in names)
    return (
        os.path.isfile(os.path.join(git_dir, "info", "sparse-checkout")),
        read_fact(os.path.join(common_dir, "shallow")),
        read_fact(os.path.join(common_dir, "info", "grafts")),
        replace,
        packed,
    )


def _identity(path: str) -> tuple | str | None:
    """A file's identity, "absent", or None when it is too fresh to vouch for its content."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "absent"
    except OSError as exc:
        return f"unreadable {exc.errno}"
    if max(info.st_mtime_ns, info.st_ctime_ns) > _fresh_after():
        return None
    return _stat_identity(info)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_fact(path: str) -> bytes | str:
    """A small file's bytes, or why there are none.

    Opened without blocking and read only when it is a regular file: a FIFO
    where the lock file (or a config file) should be made ``check`` and
    ``doctor`` wait forever for a writer.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return "absent"
    except IsADirectoryError:
        return "folder"
    except OSError as exc:
        return f"unreadable {exc.errno}"
    try:
        mode = os.fstat(fd).st_mode
        if stat_module.S_ISDIR(mode):
            return "folder"
        if not stat_module.S_ISREG(mode):
            return f"special {stat_module.S_IFMT(mode)}"
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as exc:
        return f"unreadable {exc.errno}"
    finally:
        os.close(fd)


def replay(trace: tuple) -> bool:
    """Whether every filesystem fact ``config.load_project`` noted still holds."""
    isfile, isdir, exists = os.path.isfile, os.path.isdir, os.path.exists
    for kind, path, value in trace:
        if kind == "f":
            ok = isfile(path) == value
        elif kind == "d":
            ok = isdir(path) == value
        elif kind == "e":
            ok = exists(path) == value
        elif kind == "r":
            ok = read_fact(path) == value
        elif kind == "a":
            ok = attribute_fact(path) == value
        else:
            ok = False
        if not ok:
            return False
    return True


def realpaths(paths: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(os.path.realpath(p) for p in paths)


def guess_common_dir(start: str, *, bare: bool = False) -> str | None:
    """The git common dir above ``start`` as git would find it, without running git.

    Says where revgraph's caches are (``sources.cache.cache_dir_for``, with
    ``bare``: a bare repository or a git dir itself counts) and where to look
    for a ticket, whose recorded ``git rev-parse`` output is compared with
    git's own answer.
    """
    here = os.path.abspath(start)
    while True:
        dot_git = os.path.join(here, ".git")
        try:
            info = os.stat(dot_git)
        except OSError:
            info = None
        if info is None and bare and os.path.isfile(os.path.join(here, "HEAD")) and os.path.isdir(
            os.path.join(here, "objects")
        ):
            return os.path.realpath(here)
        if info is not None:
            if stat_module.S_ISDIR(info.st_mode):
                git_dir = dot_git
            else:
                text = read_fact(dot_git)
                if not isinstance(text, bytes) or not text.startswith(b"gitdir:"):
                    return None
                git_dir = os.path.join(here, os.fsdecode(text[7:].strip()))
            common = read_fact(os.path.join(git_dir, "commondir"))
            if isinstance(common, bytes):
                git_dir = os.path.join(git_dir, os.fsdecode(common.strip()))
            return os.path.realpath(git_dir)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


# ----------------------------------------------------------------- tickets
def start_dir(directory: str | None) -> str:
    """The directory a command line runs in (``-C`` resolved as ``entry.options_from`` does)."""
    cwd = os.getcwd()
    return os.path.realpath(os.path.join(cwd, directory)) if directory is not None else cwd


def ident(opts: dict, version: str) -> tuple:
    """What a ticket is for: revgraph itself, the command line, where, and the environment."""
    options = tuple(
        sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in opts.items() if k != "color")
    )
    environ = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) or k in ENV_NAMES)
    )
    return (FORMAT, version, sys.version, sys.executable, code_stamp(), os.getcwd(),
            start_dir(opts.get("directory")), options, environ)  # fmt: skip


def ticket_path(common_dir: str, ticket_ident: tuple) -> str:
    import zlib  # a file name only: the ticket holds its ident and is compared whole

    # repr, not marshal: marshal's bytes depend on reference counts.
    name = f'{zlib.crc32(repr(ticket_ident).encode("utf-8", "surrogateescape")):08x}.marshal'
    return os.path.join(common_dir, "revgraph", TICKETS, name)


def load_ticket(path: str, ticket_ident: tuple) -> tuple | None:
    data = read_fact(path)
    if not isinstance(data, bytes):
        return None
    try:
        ticket = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None  # corrupt: a miss, overwritten by the next record
    if not (isinstance(ticket, tuple) and len(ticket) == 5 and ticket[0] == FORMAT and ticket[1] == ticket_ident):
        return None
    return ticket


def record(
    common_dir: str, ticket_ident: tuple, plan: tuple, facts: tuple, payload: tuple, unmarked: object = None
) -> bool:
    """Keep ``payload`` for ``facts`` seen under ``plan``; True when written.

    ``unmarked``: the index's identity (``index_identity``) when no entry in
    the folders was found marked (``hidden_paths``), or None.
    """
    path = ticket_path(common_dir, ticket_ident)
    old = load_ticket(path, ticket_ident)
    states = [s for s in old[3] if s[0] != facts] if old is not None and old[2] == plan else []
    states = [(facts, payload), *states][:KEPT_STATES]
    try:
        data = marshal.dumps((FORMAT, ticket_ident, plan, tuple(states), unmarked))
    except ValueError:
        return False  # something marshal cannot hold: no ticket
    from revgraph.atomicfile import keep_newest, write_atomic

    written = write_atomic(path, data)
    if written:
        keep_newest(os.path.dirname(path), ".marshal", KEPT_TICKETS)
    return written


# ------------------------------------------------------------- the answer
def answer(opts: dict, version: str) -> tuple | None:
    """The stored ``(text, failed, warnings)`` when the world is as a ticket recorded it."""
    start = start_dir(opts.get("directory"))
    common = guess_common_dir(start)
    if common is None:
        return None
    ticket_ident = ident(opts, version)
    ticket = load_ticket(ticket_path(common, ticket_ident), ticket_ident)
    if ticket is None:
        return None
    plan, states = ticket[2], ticket[3]
    facts = observe(plan, common, ticket[4])
    if facts is None:
        return None
    _, _, _, root, *_, flat = plan  # observe() names all of the plan's fields
    for seen, payload in states:
        if flat:  # this state's untracked files as they are now (see observe)
            entries = with_recorded_untracked(facts[1], seen[1], root)
            if entries is not None and seen == (facts[0], entries, *facts[2:]):
                return payload
        elif seen == facts:
            return payload
    return None


def observe(plan: tuple, common: str, unmarked: object = None) -> tuple | None:
    """The state as ``plan`` says to look at it; None when the plan no longer applies.

    Marked index entries (``hidden_paths``) are looked for only when the
    index is not the one ``unmarked`` found without any: marking an entry
    rewrites the index, and a fourth git process is ~10% of this answer.
    """
    (project_root, discovered, git_dir, root, folders, sourceless, requests,
     trace, paths, reals, locations, locks, flat) = plan  # fmt: skip
    prefix = ["git", "-C", root, f"--git-dir={git_dir}", f"--work-tree={root}"]
    env = git_environ()
    running: list = []
    try:
        # git status is the long one (a stat of every tracked file): start it first.
        # Flat folders: untracked files come from the ticket (``with_recorded_untracked``).
        status = _start([*prefix, *status_args(folders, untracked=not flat)], env)
        running.append(status)
        cat = _start([*prefix, "cat-file", "--batch-check"], env, feed=True)
        running.append(cat)
        discover = _start([DISCOVER[0], "-C", project_root, *DISCOVER[1:]],
                          git_environ({"LC_ALL": "C", "LANGUAGE": "C"}))  # fmt: skip
        running.append(discover)
        hidden = staged = None
        if not isinstance(unmarked, tuple) or index_identity(git_dir) != unmarked:
            # Another index: marked entries, and files staged outside the folders
            # (a rename's other end, ``staged_outside``), are looked for again.
            hidden = _start([*prefix, *hidden_args(folders)], env)
            running.append(hidden)
            staged = _start([*prefix, *staged_args()], env)
            running.append(staged)
        # While git works: the configuration's files, paths and lock files.
        cat_out = cat.communicate(catfile_input(requests))[0]
        if not (replay(trace) and realpaths(paths) == reals and all(map(os.path.isdir, locations))):
            return None
        git = gitdir_facts(git_dir, common)
        lock = tuple(read_fact(p) if p is not None else None for p in locks)
        found = discover.communicate()[0].decode("utf-8", "surrogateescape").rstrip("\n")
        status_out = status.communicate()[0]
        hidden_out = hidden.communicate()[0] if hidden is not None else b""
        staged_out = staged.communicate()[0] if staged is not None else b""
        running.clear()
    finally:
        for proc in running:  # an exception on the way: leave no git behind
            proc.kill()
            proc.wait()
    if status.returncode or cat.returncode or discover.returncode or found != discovered or git is None:
        return None
    if (hidden is not None and hidden.returncode) or hidden_paths(hidden_out):
        return None  # git status cannot vouch for those files
    if staged is not None and (staged.returncode or staged_outside(staged_out, folders)):
        return None
    entries = status_entries(status_out, root, sourceless, folders=folders)
    if entries is None:
        return None
    return (commits(cat_out, len(requests)), entries, git, lock)


# ------------------------------------------------------------ git processes
# ``subprocess`` costs ~16 ms to import in a bare interpreter (it pulls in
# locale, re, threading, selectors...), a sixth of a warm check, and it is
# imported before git can start. ``os.posix_spawnp`` starts git with none of
# that; ``subprocess`` stays the fallback where posix_spawn is missing.
try:  # the builtin half of ``signal``, which costs ~9 ms to import (enum)
    from _signal import SIGKILL, SIGPIPE, SIGXFSZ

    # Python ignores SIGPIPE; subprocess gives children the default back, so do we.
    _DEFAULT_IN_CHILD: tuple[int, ...] = (SIGPIPE, SIGXFSZ)
except ImportError:  # pragma: no cover - not CPython on a POSIX system
    from signal import SIGKILL

    _DEFAULT_IN_CHILD = ()


def _start(argv: list[str], env: dict[str, str], *, feed: bool = False):
    """git running with its output on a pipe (``feed``: and its input on one)."""
    if not hasattr(os, "posix_spawnp"):  # pragma: no cover - Windows
        import subprocess

        quiet = subprocess.DEVNULL
        return subprocess.Popen(argv, env=env, stdin=subprocess.PIPE if feed else quiet,
                                stdout=subprocess.PIPE, stderr=quiet)  # fmt: skip
    return _Spawned(argv, env, feed)


class _Spawned:
    """The part of ``subprocess.Popen`` that ``observe`` uses: communicate, kill, wait."""

    def __init__(self, argv: list[str], env: dict[str, str], feed: bool) -> None:
        self.returncode: int | None = None
        self._input: int | None = None
        out_read, out_write = os.pipe()  # not inherited: only the dup2 copies are
        actions = [(os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        in_read = None
        if feed:
            in_read, self._input = os.pipe()
            actions.append((os.POSIX_SPAWN_DUP2, in_read, 0))
        else:
            actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
        try:
            self.pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsigdef=_DEFAULT_IN_CHILD)
        except BaseException:
            os.close(out_read)
            if self._input is not None:
                os.close(self._input)
            raise
        finally:
            os.close(out_write)
            if in_read is not None:
                os.close(in_read)
        self._output = out_read

    def communicate(self, data: bytes = b"") -> tuple[bytes, None]:
        """Send ``data`` (then end of input), read the output to its end, wait for the exit."""
        if self._input is not None:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._input, view) :]
            except BrokenPipeError:
                pass  # git stopped reading: its exit code tells
            finally:
                os.close(self._input)
                self._input = None
        chunks = []
        try:
            while chunk := os.read(self._output, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._output)
            self._output = -1
        self.wait()
        return b"".join(chunks), None

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        for fd in (self._input, self._output):
            if fd is not None and fd >= 0:
                os.close(fd)
        self._input, self._output = None, -1
        if self.returncode is None:
            try:
                os.kill(self.pid, SIGKILL)
            except OSError:
                pass
