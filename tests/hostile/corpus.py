"""The hostile-input corpus (issue 9 §1) as data, and the helpers that build and watch it.

Each ``Case`` writes its files into a fresh repository (``build_case_repo``):
``main`` holds an alembic environment and, unless the case says otherwise, one
landed base revision; ``feature`` is checked out and holds the case's files,
committed (so they are read from git objects as well as from disk).

What each case promises is data too: the ``(path, lines)`` places a report
must name, the rule codes ``check`` must raise, whether some file is
unreadable (then ``heads`` warns and ``fix`` refuses), and the heads every
reader must agree on. Expectations are computed from the bytes the builder
wrote (line numbers by searching the text, syntax errors by asking Python's
own compiler), never copied from revgraph's output.
"""

from __future__ import annotations

import hashlib
import os
import py_compile
import random
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tests.support.gitrepo import GitRepo

VERSIONS = "migrations/versions"
LOCK = "migrations/revgraph.lock"
BASE_ID = "a0a0a0a0a0a0"
NEW_ID = "b1b1b1b1b1b1"
BIG_FILE_BYTES = 50 * 1024 * 1024
# Half again Python's recursion limit (1000): a traversal recursing once per revision
# fails on it. (3,000 cost ~2 s more per worker in every command, for the same path.)
CYCLE_LENGTH = 1_500
TRAP_NAME = "PWNED"  # a file a revision would create if anything ever executed it

# What a driver run looks like: the interpreter without the working directory on sys.path
# (as `revgraph install` sets it up), so nothing in the repository can shadow revgraph.
DRIVER_BOOT = "import sys; sys.path[:] = [p for p in sys.path if p]; from revgraph.entry import main; main()"


# ------------------------------------------------------------ revision text
def revision_text(
    rid: str,
    down: str | None,
    *,
    message: str = "hostile case",
    revision_expr: str | None = None,
    down_expr: str | None = None,
    depends_expr: str = "None",
    prelude: Sequence[str] = (),
    body: Sequence[str] = ("pass",),
) -> str:
    """A classic (untyped) alembic revision file; ``*_expr`` replace the literal values."""
    lines = [
        f'"""{message}',
        "",
        f"Revision ID: {rid}",
        f"Revises: {down or ''}",
        "Create Date: 2024-06-01 10:00:00.000000",
        "",
        '"""',
        "from alembic import op",
        "import sqlalchemy as sa",
        *prelude,
        "",
        "# revision identifiers, used by Alembic.",
        f"revision = {revision_expr or repr(rid)}",
        f"down_revision = {down_expr or repr(down)}",
        "branch_labels = None",
        f"depends_on = {depends_expr}",
        "",
        "",
        "def upgrade():",
        *(f"    {line}" for line in body),
        "",
        "",
        "def downgrade():",
        "    pass",
        "",
    ]
    return "\n".join(lines)


def trap_text(rid: str, down: str | None, trap: Path) -> str:
    """A revision whose module top level creates ``trap``: proof of execution if it appears."""
    return revision_text(
        rid,
        down,
        message="executes when imported",
        prelude=(f"open({str(trap)!r}, 'w').write('executed at import')",),
        body=(f"open({str(trap)!r}, 'w').write('executed by upgrade')",),
    )


def line_number(text: str, prefix: str) -> int:
    """1-based number of the first line starting with ``prefix``."""
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"no line starts with {prefix!r}")


def syntax_error_line(data: bytes) -> int:
    """Where Python's own compiler places the syntax error in ``data``."""
    try:
        compile(data, "case.py", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno or 1
    raise AssertionError("the case was meant to have a syntax error")


# -------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Named:
    """A place a report must name: ``path`` and one of ``lines``."""

    path: str
    lines: frozenset[int]

    @classmethod
    def at(cls, path: str, *lines: int) -> Named:
        return cls(path, frozenset(lines))

    def as_text(self) -> list[str]:
        return [f"{self.path}:{line}" for line in sorted(self.lines)]


Builder = Callable[[GitRepo], tuple[Named, ...]]


@dataclass(frozen=True)
class Case:
    name: str
    build: Builder
    heads: frozenset[str]  # what every reader must report (none of the hostile files followed)
    codes: frozenset[str] = frozenset()  # rule codes `check` must report
    unreadable: bool = False  # a file cannot be read statically: heads warns, fix refuses
    base_revision: bool = True
    sourceless: bool = False
    commit: bool = True  # the files are committed on `feature` too
    warns: str | None = None  # what heads, check, doctor and graph must say on stderr

    @property
    def errors(self) -> bool:
        return bool(self.codes)


def _put(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _single_problem(rel: str, data: str | bytes, line: int) -> Builder:
    def build(repo: GitRepo) -> tuple[Named, ...]:
        root = repo.path
        _put(root, rel, data)
        return (Named.at(rel, line),)

    return build


def _readable(rel: str, data: str | bytes) -> Builder:
    def build(repo: GitRepo) -> tuple[Named, ...]:
        root = repo.path
        _put(root, rel, data)
        return ()

    return build


def _syntax_error(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_syntax_error.py"
    text = revision_text(NEW_ID, BASE_ID, down_expr=f"({BASE_ID!r},\nbranch_labels = None")
    data = text.encode()
    _put(root, rel, data)
    return (Named.at(rel, syntax_error_line(data)),)


def _non_literal(key: str) -> Builder:
    def build(repo: GitRepo) -> tuple[Named, ...]:
        root = repo.path
        rel = f"{VERSIONS}/{NEW_ID}_non_literal_{key}.py"
        if key == "revision":
            text = revision_text(NEW_ID, BASE_ID, revision_expr=f"{NEW_ID[:6]!r} + {NEW_ID[6:]!r}")
        else:
            text = revision_text(NEW_ID, BASE_ID, down_expr="PARENT", prelude=(f"PARENT = {BASE_ID!r}",))
        _put(root, rel, text)
        return (Named.at(rel, line_number(text, f"{key} =")),)

    return build


def _missing_revision(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/add_orders_without_id.py"
    text = "\n".join(
        line for line in revision_text(NEW_ID, BASE_ID).split("\n") if not line.startswith("revision =")
    )
    _put(root, rel, text)
    return (Named.at(rel, 1),)


def _latin1(cookie: bool) -> Builder:
    def build(repo: GitRepo) -> tuple[Named, ...]:
        root = repo.path
        rel = f"{VERSIONS}/{NEW_ID}_latin1.py"
        text = revision_text(NEW_ID, BASE_ID, message="ajouté la table des tâches")
        if cookie:
            text = "# -*- coding: latin-1 -*-\n" + text
        _put(root, rel, text.encode("latin-1"))
        return () if cookie else (Named.at(rel, 1),)

    return build


def _non_utf8_in_body(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_non_utf8.py"
    text = revision_text(NEW_ID, BASE_ID, body=("op.execute('UPDATE t SET name = \udcff')",))
    data = text.encode("utf-8", "surrogateescape")  # the lone byte 0xff
    _put(root, rel, data)
    return (Named.at(rel, line_number(text, "    op.execute")),)


def _binary_junk(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_junk.py"
    noise = random.Random(9).randbytes(4096)
    data = b"\x89PNG\xde\xad\n" * 3 + b"\xbe\xef\x00" + noise  # the NUL byte sits on line 4
    _put(root, rel, data)
    return (Named.at(rel, 4),)


def _big_file(repo: GitRepo) -> tuple[Named, ...]:
    """50 MB that starts like a good revision: only its size may refuse it."""
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_huge.py"
    head = revision_text(NEW_ID, BASE_ID).encode()
    filler = b"# " + b"x" * 77 + b"\n"
    with open(root / rel, "wb") as handle:
        handle.write(head)
        block = filler * (1 << 14)  # 1.25 MB per write
        written = len(head)
        while written < BIG_FILE_BYTES:
            handle.write(block)
            written += len(block)
    return (Named.at(rel, 1),)


def _pyc_only(repo: GitRepo, *, sourceless: bool) -> tuple[Named, ...]:
    """Compiled revisions with no source: one in __pycache__, one beside where the .py would be.

    alembic loads them only with ``sourceless = true``; otherwise they are not revisions at all.
    """
    root = repo.path
    trap = root.parent / f"{TRAP_NAME}-pyc"
    source = root.parent / "compiled_source" / f"{NEW_ID}_compiled.py"
    source.parent.mkdir(exist_ok=True)
    source.write_text(trap_text(NEW_ID, BASE_ID, trap), encoding="utf-8")
    beside = f"{VERSIONS}/{NEW_ID}_compiled.pyc"
    cached = f"{VERSIONS}/__pycache__/c2c2c2c2c2c2_cached.cpython-311.pyc"
    (root / cached).parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(str(source), cfile=str(root / beside), doraise=True)
    py_compile.compile(str(source), cfile=str(root / cached), doraise=True)
    return (Named.at(beside, 1), Named.at(cached, 1)) if sourceless else ()


def _symlink(name: str, target: str | Callable[[Path], str]) -> Builder:
    def build(repo: GitRepo) -> tuple[Named, ...]:
        root = repo.path
        rel = f"{VERSIONS}/{name}"
        where = target(root) if callable(target) else target
        (root / VERSIONS).mkdir(parents=True, exist_ok=True)
        os.symlink(where, root / rel)
        return (Named.at(rel, 1),)

    return build


def _symlink_loop(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    folder = root / VERSIONS
    os.symlink("loop_b.py", folder / "loop_a.py")
    os.symlink("loop_a.py", folder / "loop_b.py")
    return (Named.at(f"{VERSIONS}/loop_a.py", 1), Named.at(f"{VERSIONS}/loop_b.py", 1))


def _outside_target(root: Path) -> str:
    """A good revision outside the repository: following the link would add head 0e0e0e0e0e0e."""
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / "escaped_revision.py"
    target.write_text(revision_text("0e0e0e0e0e0e", BASE_ID, message="outside"), encoding="utf-8")
    return str(target)


def _symlink_inside(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    _put(root, "shared/revisions/linked.py", revision_text(NEW_ID, BASE_ID, message="linked"))
    os.symlink("../../shared/revisions/linked.py", root / VERSIONS / f"{NEW_ID}_linked.py")
    return ()


def _conflict_markers(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_conflicted.py"
    text = revision_text(NEW_ID, BASE_ID).replace(
        f"down_revision = {BASE_ID!r}",
        f"<<<<<<< HEAD\ndown_revision = {BASE_ID!r}\n=======\ndown_revision = 'c3c3c3c3c3c3'\n>>>>>>> feature",
    )
    _put(root, rel, text)
    return (Named.at(rel, line_number(text, "<<<<<<<")),)


def _duplicates(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    named = []
    for word in ("orders", "invoices", "payments"):
        rel = f"{VERSIONS}/{NEW_ID}_{word}.py"
        text = revision_text(NEW_ID, BASE_ID, message=f"add {word}")
        _put(root, rel, text)
        named.append(Named.at(rel, line_number(text, "revision =")))
    return tuple(named)


def _self_loop(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_self_loop.py"
    text = revision_text(NEW_ID, NEW_ID)
    _put(root, rel, text)
    return (Named.at(rel, line_number(text, "revision ="), line_number(text, "down_revision =")),)


def cycle_ids(length: int = CYCLE_LENGTH) -> list[str]:
    return [f"cc{i:010x}" for i in range(length)]


def fast_commit(repo: GitRepo, files: Mapping[str, str], message: str) -> str:
    """Commit ``files`` (path -> text) on the current branch and check them out.

    Through ``git fast-import`` (one pack instead of a loose object per file):
    creating many files is what costs on a busy disk, so git does it once.
    """
    branch = repo.current_branch()
    stream = [
        (
            f"commit refs/heads/{branch}\n"
            "committer Revgraph Tests <tests@revgraph.invalid> 1717236000 +0000\n"
            f"data {len(message.encode())}\n{message}\n"
        )
    ]
    if repo.git("rev-parse", "-q", "--verify", "HEAD", check=None).returncode == 0:
        stream.append(f"from {repo.head()}\n")
    for path, text in files.items():
        stream.append(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")
    repo.git("fast-import", "--quiet", input="".join(stream))
    repo.git("reset", "-q", "--hard")
    return repo.head()


def _long_cycle(repo: GitRepo) -> tuple[Named, ...]:
    """CYCLE_LENGTH revisions, each the parent of the next, the last the parent of the first."""
    ids = cycle_ids()
    files = {f"{VERSIONS}/{rid}_cycle.py": revision_text(rid, ids[index - 1]) for index, rid in enumerate(ids)}
    fast_commit(repo, files, f"a {len(ids)} cycle")
    text = revision_text(ids[0], ids[-1])
    lines = (line_number(text, "revision ="), line_number(text, "down_revision ="))
    return (Named.at(f"{VERSIONS}/{ids[0]}_cycle.py", *lines),)  # naming them all is not required


def _depends_on_missing_label(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    rel = f"{VERSIONS}/{NEW_ID}_depends.py"
    text = revision_text(NEW_ID, BASE_ID, depends_expr="'no_such_label'")
    _put(root, rel, text)
    return (Named.at(rel, line_number(text, "depends_on =")),)


def _empty_versions(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    return ()


def _missing_versions(repo: GitRepo) -> tuple[Named, ...]:
    root = repo.path
    folder = root / VERSIONS
    if folder.exists():
        folder.rmdir()
    return ()


_NEW = frozenset({NEW_ID})
_BASE = frozenset({BASE_ID})
_NONE: frozenset[str] = frozenset()
_RG107 = frozenset({"RG107"})


def _typical(newline: str = "\n", *, bom: bool = False) -> bytes:
    text = revision_text(NEW_ID, BASE_ID).replace("\n", newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def _mixed_newlines() -> bytes:
    lines = revision_text(NEW_ID, BASE_ID).split("\n")
    ends = ["\r\n", "\n", "\r\n", "\n"]
    text = "".join(line + ends[i % 4] for i, line in enumerate(lines[:-1]))
    return text.replace("    pass\n", "    pass\r", 1).encode()  # one lone CR, a newline to Python


CASES: tuple[Case, ...] = (
    Case("syntax_error", _syntax_error, _BASE, _RG107, unreadable=True),
    Case("non_literal_revision", _non_literal("revision"), _BASE, _RG107, unreadable=True),
    Case("non_literal_down_revision", _non_literal("down_revision"), _BASE, _RG107, unreadable=True),
    Case("missing_revision", _missing_revision, _BASE, _RG107, unreadable=True),
    Case("non_utf8_byte", _non_utf8_in_body, _BASE, _RG107, unreadable=True),
    Case("latin1_without_cookie", _latin1(cookie=False), _BASE, _RG107, unreadable=True),
    Case("latin1_with_cookie", _latin1(cookie=True), _NEW),
    Case("utf8_bom", _readable(f"{VERSIONS}/{NEW_ID}_bom.py", _typical(bom=True)), _NEW),
    Case("crlf", _readable(f"{VERSIONS}/{NEW_ID}_crlf.py", _typical("\r\n")), _NEW),
    Case("mixed_newlines", _readable(f"{VERSIONS}/{NEW_ID}_mixed.py", _mixed_newlines()), _NEW),
    Case("binary_junk", _binary_junk, _BASE, _RG107, unreadable=True),
    Case(
        "binary_without_nul",
        _single_problem(f"{VERSIONS}/{NEW_ID}_latin.py", b"#!\n" + bytes(range(0x80, 0x100)) + b"\n", 2),
        _BASE,
        _RG107,
        unreadable=True,
    ),
    Case("empty_file", _single_problem(f"{VERSIONS}/{NEW_ID}_empty.py", b"", 1), _BASE, _RG107, unreadable=True),
    Case(
        "blank_file",
        _single_problem(f"{VERSIONS}/{NEW_ID}_blank.py", b"\xef\xbb\xbf\n  \r\n\t\n", 1),
        _BASE,
        _RG107,
        unreadable=True,
    ),
    Case("file_of_50_mb", _big_file, _BASE, _RG107, unreadable=True),
    Case("init_py", _readable(f"{VERSIONS}/__init__.py", b"this is not python (\x00\xff"), _BASE),
    Case("pyc_only_not_sourceless", partial(_pyc_only, sourceless=False), _BASE),
    Case("pyc_only_sourceless", partial(_pyc_only, sourceless=True), _BASE, _RG107, unreadable=True, sourceless=True),
    Case("symlink_loop", _symlink_loop, _BASE, _RG107, unreadable=True),
    Case("symlink_dangling", _symlink("dangling.py", "no_such_file.py"), _BASE, _RG107, unreadable=True),
    Case(
        "symlink_leaving_repository",
        _symlink("escaped.py", _outside_target),
        _BASE,
        _RG107,
        unreadable=True,
    ),
    Case("symlink_inside_repository", _symlink_inside, _NEW),
    Case("name_with_spaces", _readable(f"{VERSIONS}/{NEW_ID} add orders (copy).py", _typical()), _NEW),
    Case("name_non_ascii", _readable(f"{VERSIONS}/{NEW_ID}_ajouté_tâches_ünïcødé.py", _typical()), _NEW),
    Case(
        "name_not_utf8",
        _readable(os.fsdecode(f"{VERSIONS}/{NEW_ID}_caf".encode() + b"\xe9.py"), _typical()),
        _NEW,
    ),
    Case(
        "name_not_utf8_unreadable",  # the name must reach every report, whatever its bytes
        _single_problem(os.fsdecode(f"{VERSIONS}/{NEW_ID}_vid".encode() + b"\xe9.py"), b"", 1),
        _BASE,
        _RG107,
        unreadable=True,
    ),
    Case("conflict_markers", _conflict_markers, _BASE, _RG107, unreadable=True),
    Case("duplicate_id_in_three_files", _duplicates, _NEW, frozenset({"RG103"})),
    Case("self_loop", _self_loop, _BASE, frozenset({"RG105"})),
    Case("cycle_of_1500", _long_cycle, _BASE, frozenset({"RG105"})),
    Case("depends_on_missing_label", _depends_on_missing_label, _NEW, frozenset({"RG104"})),
    Case("empty_versions_folder", _empty_versions, _NONE, base_revision=False, commit=False),
    Case(
        "missing_versions_folder",
        _missing_versions,
        _NONE,
        base_revision=False,
        commit=False,
        warns=f"versions folder {VERSIONS} does not exist",
    ),
)
CASE_NAMES = tuple(case.name for case in CASES)


def case_named(name: str) -> Case:
    return next(case for case in CASES if case.name == name)


# -------------------------------------------------------------- repositories
@dataclass
class CaseRepo:
    repo: GitRepo
    case: Case
    named: tuple[Named, ...]
    main_sha: str
    watched: tuple[Path, ...] = field(default=())  # roots whose files must never change

    @property
    def path(self) -> Path:
        return self.repo.path

    def sprung_traps(self) -> list[str]:
        """Files the planted revisions create when executed (the `.pyc` cases plant some)."""
        return sorted(p.name for p in self.path.parent.glob(f"{TRAP_NAME}*"))


def build_case_repo(path: Path, case: Case, env: Mapping[str, str] | None = None) -> CaseRepo:
    """``main``: the environment (+ base revision); ``feature`` (checked out): the case's files."""
    repo = GitRepo.init(path, env)
    repo.init_env(commit=False)
    if case.sourceless:
        ini = repo.read("alembic.ini").decode().replace("[alembic]\n", "[alembic]\nsourceless = true\n", 1)
        repo.write("alembic.ini", ini)
    if case.base_revision:
        repo.write(f"{VERSIONS}/{BASE_ID}_create_users.py", revision_text(BASE_ID, None, message="create users"))
    main_sha = repo.commit("environment and base")
    repo.git("checkout", "-q", "-b", "feature")
    named = case.build(repo)
    if case.commit and repo.status():
        repo.commit(f"hostile case: {case.name}")
    outside = repo.path.parent / "outside"
    watched = (repo.path, outside) if outside.exists() else (repo.path,)
    return CaseRepo(repo, case, named, main_sha, watched)


# ----------------------------------------------------------- file snapshots
# Inside .git only new objects and revgraph's own cache may appear (PRODUCT §8);
# the index, HEAD, refs and config must stay as they were.
_GIT_WRITABLE = ("objects", "revgraph")


def file_states(*roots: Path, content: bool = False) -> dict[str, tuple]:
    """Every file and symlink under ``roots`` (symlinks are not followed).

    By default each file's identity: size, mode, mtime, ctime and inode. Any
    write moves ctime (even one that puts the same bytes back or restores the
    mtime) and a replacement changes the inode, so equal identities mean
    untouched files -- without reading 10,000 files, or 50 MB, twice per
    command. ``content=True`` records bytes (a digest), mode and mtime
    instead: the test for "every file fully old or fully new" after a failed
    write, whose rollback may legitimately relink the original inode.
    """
    states: dict[str, tuple] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            relative = os.path.relpath(folder, root)
            if relative == ".git":
                dirs[:] = [d for d in dirs if d not in _GIT_WRITABLE]
            for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                full = os.path.join(folder, name)
                states[f"{root.name}/{os.path.relpath(full, root)}"] = _state(full, content)
    return states


def _state(path: str, content: bool) -> tuple:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if content:
        digest = hashlib.blake2b()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return ("file", digest.hexdigest(), info.st_mode, info.st_mtime_ns)
    return ("file", info.st_size, info.st_mode, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def changed_files(before: Mapping[str, tuple], after: Mapping[str, tuple]) -> list[str]:
    return sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))


# ------------------------------------------------------------- running revgraph
@dataclass
class Outcome:
    code: int
    out: str
    err: str
    bytes_read: int = 0  # by this process during the run (0 where /proc/self/io is missing)

    @property
    def text(self) -> str:
        return self.out + self.err


def bytes_read() -> int:
    """Bytes this process has read through read(2) so far (Linux /proc/self/io), else 0."""
    try:
        with open("/proc/self/io", encoding="ascii") as io:
            for line in io:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_in_process(capsys, *args: str) -> Outcome:
    """``revgraph ARGS`` through ``revgraph.cli.run`` (what ``python -m revgraph`` runs), captured.

    Same code as the console script without a new interpreter per call; the
    caller isolates ``os.environ`` (the ``git_env`` fixture).
    """
    from revgraph.cli import run

    capsys.readouterr()
    start = bytes_read()
    code = run(list(args))
    read = bytes_read() - start
    out, err = capsys.readouterr()
    return Outcome(code, out, err, read)


# -------------------------------------------------------------- the driver
def lock_text(*heads: str) -> str:
    return "# revgraph heads lock\n" + "".join(f"head: {rid}  some message\n" for rid in heads)


def lock_heads(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^head:\s+(\S+)", text, re.MULTILINE)}


def run_merge_driver(
    cwd: Path,
    scratch: Path,
    *,
    ancestor: str,
    ours: str,
    theirs: str,
    lock_path: str = LOCK,
    incoming: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, str]:
    """Call the driver as git would (%O %A %B %P %L, cwd = the worktree); returns (process, %A after)."""
    scratch.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in (("ancestor", ancestor), ("ours", ours), ("theirs", theirs)):
        path = scratch / f".merge_file_{name}"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    environ = dict(os.environ if env is None else env)
    if incoming:
        environ[f"GITHEAD_{incoming}"] = "incoming"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER_BOOT, "merge-driver", *files, lock_path, "7"],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, Path(files[1]).read_text(encoding="utf-8")


def tracebacks(*texts: str) -> list[str]:
    """Signs of a crash in output: a traceback, or revgraph's 'bug of ours' line."""
    signs = ("Traceback (most recent call last)", "internal error", "please report")
    return [sign for sign in signs for text in texts if sign in text]


def missing_places(text: str, named: Iterable[Named]) -> list[Named]:
    """The places of ``named`` that ``text`` does *not* mention as ``path:line``.

    A name that is not UTF-8 (``\\udce9`` after os.fsdecode) may be shown escaped
    or with U+FFFD in its place: any of those forms names it.
    """
    return [place for place in named if not any(form in text for spot in place.as_text() for form in _forms(spot))]


def _forms(text: str) -> set[str]:
    raw = text.encode("utf-8", "surrogateescape")
    return {text, raw.decode("utf-8", "replace"), raw.decode("utf-8", "backslashreplace"),
            text.encode("utf-8", "backslashreplace").decode("ascii", "replace")}  # fmt: skip
