"""The snapshot of the files on disk: what alembic would load right now.

Works outside git. Paths are POSIX, relative to ``root`` (a versions folder
outside ``root`` gives ``../`` paths). Walks like ``os.walk`` does for
alembic: symlinked folders are not entered; symlinked files are followed to
their real path, and one that is broken, loops, or leaves both ``root`` and
the versions folders becomes a ParseProblem naming it, as does an unreadable,
non-regular or huge file. Blob ids are git's (``sha1("blob N\\0" + data)``,
or SHA-256 in a repository of that object format: the cache's), so the parse
cache serves working-tree files and refs alike; a stat cache spares re-reading
unchanged files.
"""

from __future__ import annotations

import operator
import os
import stat as stat_module
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from revgraph.blobid import blob_id
from revgraph.model import ParseProblem, Revision, Snapshot
from revgraph import listing
from revgraph.sources.cache import ParseCache

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment

MAX_REVISION_BYTES = 5 * 1024 * 1024
READ_CHUNK = 1024  # files read before they are parsed (see read_worktree)


def _posix_relative(path: str, root: str) -> str:
    relative = os.path.relpath(path, root).replace(os.sep, "/")
    return "" if relative == "." else relative


class _Scan:
    """The files below the version locations, as alembic's walk would meet them."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: list[str] = []
        self.resolved: dict[str, str | None] = {}
        self.reasons: dict[str, str] = {}
        self.tops: list[str] = []  # real absolute version locations, all of them

    def add_location(self, real_top: str, relative: str, recursive: bool, sourceless: bool) -> None:
        deep = recursive or os.path.basename(real_top).endswith("__pycache__")
        self._scan(real_top, relative, deep, sourceless, depth=0)

    def _scan(
        self, folder: str, relative_folder: str, deep: bool, sourceless: bool, depth: int
    ) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        prefix = f"{relative_folder}/" if relative_folder else ""
        try:
            # Plain files in C (~10 ms at 20k entries, not ~45 ms through the loop
            # below), typed by the directory listing itself, no stat; the loop
            # sees only folders (a __pycache__) and symlinks.
            odd = list(map(operator.or_, map(os.DirEntry.is_dir, entries), map(os.DirEntry.is_symlink, entries)))
        except OSError:  # a symlink loop: the loop below files it, as os.walk does
            odd = None
        if odd is not None:
            plain = compress(entries, map(operator.not_, odd))
            self.files.extend(map(prefix.__add__, map(_entry_name, plain)))
            entries = list(compress(entries, odd))
        for entry in entries:
            relative = prefix + entry.name
            if _is_dir(entry):
                if entry.is_symlink():
                    continue  # os.walk does not follow folder symlinks
                if deep or (sourceless and depth == 0 and entry.name == "__pycache__"):
                    self._scan(entry.path, relative, deep, sourceless, depth + 1)
                continue
            self.files.append(relative)
            if entry.is_symlink():
                self.resolved[relative] = self._follow(entry.path, relative)

    def _follow(self, link: str, relative: str) -> str | None:
        try:
            real = os.path.realpath(link, strict=True)
        except OSError as exc:  # broken, a loop, or unreadable on the way
            self.reasons[relative] = f"symlink cannot be followed: {exc.strerror or exc}"
            return None
        if not any(_inside(real, top) for top in (self.root, *self.tops)):
            self.reasons[relative] = f"symlink leaves the repository (points to {real})"
            return None
        return _posix_relative(real, self.root)

    def exists(self, relative: str) -> bool:
        return os.path.lexists(os.path.join(self.root, relative))


_entry_name = operator.attrgetter("name")


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: os.walk files it, so do we
        return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def read_worktree(
    env: Environment, root: Path | str, *, cache: ParseCache | None = None
) -> Snapshot:
    """``env``'s revisions as files on disk under ``root``, uncommitted edits included.

    A missing versions folder gives no revisions and no problem (the CLI
    warns about it).
    """
    cache = cache if cache is not None else ParseCache(None)
    real_root = os.path.realpath(root)
    scan = _Scan(real_root)
    tops = _existing_locations(env, real_root)
    scan.tops = list(tops)  # symlinks may point into any of them
    for real, relative in tops.items():
        scan.add_location(real, relative, env.recursive, env.sourceless)
    locations = [relative for relative in tops.values()]
    listed = listing.list_revision_files(
        locations, scan.files, recursive=env.recursive, sourceless=env.sourceless,
        resolved=scan.resolved, exists=scan.exists,
    )  # fmt: skip
    # os.path.join's result for a relative path, as one concatenation (18k files).
    prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
    if _worth_sharing(listed, cache):
        return _snapshot(env.name, _read_shared(listed, prefix, scan, cache))
    # Read and parsed a chunk at a time: a cold 20k tree never holds its 30 MB
    # of sources at once, and (measured) reading a chunk then parsing it costs
    # ~20% less CPU than alternating read and parse file by file.
    results = []
    for start in range(0, len(listed), READ_CHUNK):
        chunk = [_read_listed(item, prefix, scan, cache) for item in listed[start : start + READ_CHUNK]]
        results.extend([_parsed(result, cache) for result in chunk])
    return _snapshot(env.name, results)


# ------------------------------------------------- a cold read on two cores
SHARE_MIN_FILES = 2000  # below this a fork costs more than half the read saves
SHARE_CHUNK = 256  # files per chunk: the slower process waits for at most one


def _worth_sharing(listed: list, cache: ParseCache) -> bool:
    """A large read that the stat cache mostly cannot answer, with a helper at hand."""
    if len(listed) < SHARE_MIN_FILES or not cache.default_parser:
        return False
    if len(cache.stats) >= len(listed) // 2:
        return False  # warm: mostly a stat and a lookup per file, nothing to share
    from revgraph.sources import forkshare

    return forkshare.available()


def _read_shared(listed: list, prefix: str, scan: _Scan, cache: ParseCache) -> list:
    """``listed`` read and parsed by this process and a forked helper together.

    The helper reports, per file it read, ``(blob id, identity, exported
    parse)``; files it could not read the ordinary way (a problem, a symlink,
    an error) are not reported and are read here, so every message comes from
    the one code path.
    """
    from revgraph.sources import forkshare

    cache.load()  # before the fork: shared with the helper, not loaded by both
    results: list = [None] * len(listed)
    size = max(SHARE_CHUNK, -(-len(listed) // forkshare.MAX_CHUNKS))

    def here(k: int) -> None:
        start = k * size
        chunk = [_read_listed(item, prefix, scan, cache) for item in listed[start : start + size]]
        results[start : start + len(chunk)] = [_parsed(result, cache) for result in chunk]

    def there(k: int) -> list:
        start = k * size
        chunk = [_read_for_parent(item, prefix, cache) for item in listed[start : start + size]]
        return [(start + i, _exported(read, cache)) for i, read in enumerate(chunk)]

    def take(k: int, reports: list) -> None:  # a chunk the helper did, as it arrives
        for i, report in reports:
            item = listed[i]
            found = _adopt(report, prefix + item.path, item.path, cache) if report else None
            results[i] = found if found is not None else _parsed(_read_listed(item, prefix, scan, cache), cache)

    forkshare.share(-(-len(listed) // size), here, there, take)
    return results


def _read_for_parent(item: listing.ListedFile, prefix: str, cache: ParseCache) -> tuple | None:
    """In the helper: ``(blob id, identity or None, path, bytes to parse or None)``, or None.

    None (the parent reads it, and reports the problem) for anything but a
    source file that is readable or already known to the caches.
    """
    if item.kind != listing.SOURCE:
        return None
    read = _read_disk(prefix + item.path, item.path, cache)
    if isinstance(read, _Fresh):
        data, path, oid, info = read
        return (oid, cache.stats.identity(info), path, data)
    if read.blob_id is None:
        return None  # a problem found on the way, not a cached result
    return (read.blob_id, None, item.path, None)


def _exported(read: tuple | None, cache: ParseCache) -> tuple | None:
    """In the helper: ``(blob id, identity or None, exported parse or None)``, or None."""
    if read is None:
        return None
    oid, identity, path, data = read
    return (oid, identity, None if data is None else cache.export_parse(data, path, oid))


def _adopt(report: tuple, absolute: str, path: str, cache: ParseCache):
    """In the parent: the result the helper's ``report`` stands for; None to read it here."""
    oid, identity, exported = report
    if identity is not None:
        cache.stats.record_identity(absolute, identity, oid)
    if exported is None:
        return cache.get(oid, path)
    return cache.adopt(exported, oid, path)


def _parsed(result, cache: ParseCache):
    return cache.parse(*result) if isinstance(result, _Unparsed) else result


def _existing_locations(env: Environment, real_root: str) -> dict[str, str]:
    """Real path -> POSIX path relative to the root, of each existing versions folder."""
    found: dict[str, str] = {}
    for location in env.version_locations:
        real = os.path.realpath(os.path.join(real_root, location))
        if os.path.isdir(real) and real not in found:
            found[real] = _posix_relative(real, real_root)
    return found


class _Unparsed(tuple):
    """``(data, path, blob_id)`` of a file read but not found in the cache."""


def _read_listed(item: listing.ListedFile, prefix: str, scan: _Scan, cache: ParseCache):
    if item.kind == listing.UNRESOLVED:
        reason = scan.reasons.get(item.listed_as, "symlink cannot be followed")
        return ParseProblem(item.listed_as, 1, reason)
    if item.kind == listing.COMPILED:
        return ParseProblem(item.path, 1, listing.COMPILED_REASON)
    return _read_file(prefix + item.path, item.path, cache)


def read_file(absolute: str, path: str, cache: ParseCache) -> Revision | ParseProblem:
    """Parse one file on disk (via the stat and parse caches); problems, never exceptions."""
    return _parsed(_read_file(absolute, path, cache), cache)


def _read_file(absolute: str, path: str, cache: ParseCache):
    """A cached result or problem, or the ``_Unparsed`` bytes to parse."""
    read = _read_disk(absolute, path, cache)
    if not isinstance(read, _Fresh):
        return read
    data, path, oid, info = read
    cache.stats.record(absolute, info, oid)
    return _Unparsed((data, path, oid))  # cache.parse looks the blob id up first


class _Fresh(tuple):
    """``(data, path, blob_id, stat)`` of a file read from disk, its blob id unknown before."""


def _read_disk(absolute: str, path: str, cache: ParseCache):
    """A cached result (the stat cache knew the file), a problem, or the ``_Fresh`` bytes."""
    try:
        info = os.stat(absolute)
    except OSError as exc:
        return ParseProblem(path, 1, f"cannot read file: {exc.strerror or exc}")
    if not stat_module.S_ISREG(info.st_mode):
        return ParseProblem(path, 1, "not a regular file")
    if info.st_size > MAX_REVISION_BYTES:
        return ParseProblem(
            path, 1, f"file too large to be a revision ({info.st_size / 1048576:.1f} MB)"
        )
    known = cache.stats.blob_id(absolute, info)
    if known is not None:
        found = cache.get(known, path)
        if found is not None:
            return found
    try:
        data = read_at_most(absolute, MAX_REVISION_BYTES + 1, info.st_size)
    except OSError as exc:
        return ParseProblem(path, 1, f"cannot read file: {exc.strerror or exc}")
    if len(data) > MAX_REVISION_BYTES:  # grew since stat
        return ParseProblem(path, 1, "file too large to be a revision (> 5.0 MB)")
    return _Fresh((data, path, blob_id(data, cache.object_format), info))


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def read_at_most(absolute: str, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes of a file whose size was ``expected`` when stat'ed.

    ``open(...).read(limit)`` allocates ``limit`` bytes first: with the 5 MB
    cap that was 40 us of a 1.5 KB file's read, and most of a cold 20k read.
    Reads until end of file (a file may grow after its stat); O_NONBLOCK so a
    file swapped for a FIFO since its stat cannot hang the run. A read that
    returns less than asked, once the stat's size is reached, is the end of
    the file: no further read to be told so (one system call per file,
    18k of them in a cold 20k check). Short of that size it reads on, as a
    file system may return less than asked before the end.
    """
    fd = os.open(absolute, _OPEN_FLAGS)
    try:
        chunks = []
        total = 0
        want = min(max(expected, 0), limit - 1) + 1
        while total < limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if len(chunk) < want and total >= expected:
                break
            want = min(limit - total, 1 << 20)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _snapshot(environment: str, results: Iterable) -> Snapshot:
    revisions = tuple(r for r in results if isinstance(r, Revision))
    problems = tuple(r for r in results if isinstance(r, ParseProblem))
    return Snapshot(environment, "worktree", revisions, problems, None)
