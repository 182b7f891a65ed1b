"""Parse results keyed by git blob id, and whole results keyed by a string.

A revision is parsed once per content, ever (PRODUCT §8). Storage lives in
``<git common dir>/revgraph/`` (shared by linked worktrees) or, outside git,
in ``$XDG_CACHE_HOME/revgraph`` / ``~/.cache/revgraph``: content-addressed
entries are safe to share between projects.

Storage rules, for both caches:

* one file per parser version (``cache-v<N>.parse``), loaded lazily, holding
  ``marshal`` data of plain tuples behind a header and a CRC (fast to load,
  never imports networkx, and a damaged file is recognised before decoding);
* writes go to a temp file in the same folder and ``os.replace`` it, after
  merging what another process wrote meanwhile: concurrent writers never
  corrupt the file (the last writer wins, entries are rarely lost);
* a truncated, corrupt or foreign file is ignored and rebuilt on the next
  write, never an exception; an unwritable folder only disables persistence.

``StatCache`` rides along: file identity -> blob id, so that a warm
working-tree read stats files instead of reading and hashing them.

Paths are not part of the key: the same content at two paths parses the same,
so entries are kept path-free and the path is set on retrieval. The one
exception is a file without a ``revision = ...`` assignment, whose id (or
problem) comes from its file name, as alembic's legacy ``<hex>.py`` rule
says: such results, and every ParseProblem (rare, cheap), are keyed by blob
id *and* path.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import struct
import sys
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Sequence, Union

from revgraph import blobid
from revgraph.atomicfile import keep_newest, write_atomic
from revgraph.model import PackedSpans, ParseProblem, Revision

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.sources.gitref import GitRepo

Parsed = Union[Revision, ParseProblem]
Parser = Callable[..., Parsed]

_MAGIC = b"RGPC"
_FORMAT = 1
# magic, format, parser version, python major/minor, payload length, crc32
_HEADER = struct.Struct("<4sHIHHQI")
_REVISION_FIELDS = tuple(f.name for f in dataclasses.fields(Revision))
_PROBLEM_FIELDS = tuple(f.name for f in dataclasses.fields(ParseProblem))
# The fields, and how spans are stored ("compact": PackedSpans.compact). An
# older revgraph sharing the folder must not read spans it does not know: it
# sees another schema and treats the file as empty, as this one does theirs.
_SCHEMA = zlib.crc32(repr((_REVISION_FIELDS, _PROBLEM_FIELDS, "spans: compact")).encode())
_RESULTS_KEPT = 32
_NAMES_NONE = "names-none:"
NAMES_NONE_KEPT = 4  # namings whose "names-none" entries a save keeps


# --------------------------------------------------------------------- places
def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is invalid and ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "revgraph"


def cache_dir_for(repo_or_root: "GitRepo | Path | str") -> Path:
    """Where revgraph keeps its caches for this repository or project folder."""
    common = getattr(repo_or_root, "common_dir", None)
    if common is None and isinstance(repo_or_root, (str, os.PathLike)):
        from revgraph.express import guess_common_dir  # found without running git (startup cost)

        common = guess_common_dir(os.fspath(repo_or_root), bare=True)
    if common is not None:
        return Path(common) / "revgraph"
    return user_cache_dir()


# ------------------------------------------------------------- atomic storage
def _read_bytes(path: Path, seen: list | None = None) -> bytes | None:
    """The file's bytes (None if unreadable); ``seen`` gets the identity of what was read."""
    try:
        with open(path, "rb") as handle:
            if seen is not None:
                seen[:] = [_identity(os.fstat(handle.fileno()))]
            return handle.read()
    except OSError:
        return None


def _identity(info: os.stat_result) -> tuple:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def _seen_now(path: Path) -> list:
    """``[identity]`` of the file at ``path`` now (after our own write), ``[]`` if gone."""
    try:
        return [_identity(os.stat(path))]
    except OSError:
        return []


def _with_saved(path: Path, seen: list, stored: dict, load: Callable[[], dict]) -> dict:
    """``stored`` merged with what other processes saved to ``path`` since it was loaded.

    Every writer replaces the file by a rename (a new inode), so when the
    file still has the identity ``seen`` recorded, nobody saved in between:
    ``stored`` is the file, and the whole of it is not read again.
    """
    if seen and _seen_now(path) == seen:
        return stored
    merged = load()
    merged.update(stored)
    return merged


def _pack(payload: bytes, version: int) -> bytes:
    header = _HEADER.pack(
        _MAGIC,
        _FORMAT,
        version,
        sys.version_info[0],
        sys.version_info[1],
        len(payload),
        zlib.crc32(payload),
    )
    return header + payload


def _unpack(data: bytes | None, version: int) -> bytes | None:
    """The payload, or None when the file is missing, foreign, truncated or corrupt."""
    if not data or len(data) < _HEADER.size:
        return None
    magic, fmt, stored_version, major, minor, length, crc = _HEADER.unpack_from(data)
    if (magic, fmt, stored_version, major, minor) != (
        _MAGIC,
        _FORMAT,
        version,
        sys.version_info[0],
        sys.version_info[1],
    ):
        return None
    payload = data[_HEADER.size :]
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return payload


# ------------------------------------------------------------ plain encoding
def _encode(result: Parsed) -> tuple:
    """A path-free tuple of builtins (marshal-able)."""
    if isinstance(result, ParseProblem):
        return (1, result.line, result.reason)
    state = getattr(result, "__dict__", None)
    if state is None:  # pragma: no cover - only if the model gains __slots__
        state = {name: getattr(result, name) for name in _REVISION_FIELDS}
    values = [state[name] for name in _REVISION_FIELDS]  # a cold 20k run encodes 20k of these
    spans = values[_SPANS]
    if not isinstance(spans, PackedSpans):
        spans = PackedSpans(tuple((key, s.start, s.end, s.line) for key, s in spans.items()))
    try:
        values[_SPANS] = spans.compact  # see PackedSpans: a third of the objects to load
    except struct.error:  # a number beyond 32 bits: kept as tuples, which loading also takes
        values[_SPANS] = spans.raw
    values[_IGNORES] = tuple(sorted(values[_IGNORES]))
    values[_PATH] = values[_BLOB_ID] = None
    return (0, tuple(values))


_SPANS = _REVISION_FIELDS.index("spans")
_IGNORES = _REVISION_FIELDS.index("ignores")
_PATH = _REVISION_FIELDS.index("path")
_BLOB_ID = _REVISION_FIELDS.index("blob_id")
_SLOTTED = hasattr(Revision, "__slots__")


# Cached revisions keep their spans packed, as the reader makes them.
_StoredSpans = PackedSpans


def _decode(item: tuple) -> Parsed:
    if item[0] == 1:
        return ParseProblem(path="", line=item[1], reason=item[2])
    if _SLOTTED:  # pragma: no cover - only if the model gains __slots__
        values = list(item[1])
        values[_SPANS] = _StoredSpans(values[_SPANS])
        values[_IGNORES] = frozenset(values[_IGNORES])
        values[_PATH] = ""
        return Revision(**dict(zip(_REVISION_FIELDS, values)))
    # The fields were validated when first parsed; skip the frozen __init__
    # (and the copy of the values: 20k of these per warm read).
    revision = object.__new__(Revision)
    state = revision.__dict__
    state.update(zip(_REVISION_FIELDS, item[1]))
    state["spans"] = _StoredSpans(state["spans"])
    state["ignores"] = frozenset(state["ignores"])
    state["path"] = ""
    return revision


def _with_place(result: Parsed, path: str, blob_id: str | None) -> Parsed:
    """``result`` at ``path``: ``dataclasses.replace`` without re-running ``__init__``.

    A warm read sets the path of 20k cached revisions per snapshot; copying
    the instance dict is several times faster than ``replace`` and the
    dataclasses here have no ``__post_init__``.
    """
    if result.path == path and result.blob_id == blob_id:
        return result
    state = getattr(result, "__dict__", None)
    if state is None:  # pragma: no cover - only if the model gains __slots__
        return dataclasses.replace(result, path=path, blob_id=blob_id)
    clone = object.__new__(type(result))
    clone.__dict__.update(state)
    clone.__dict__["path"] = path
    clone.__dict__["blob_id"] = blob_id
    return clone


def _placed_new(result: Parsed, path: str, blob_id: str | None) -> Parsed:
    """``_with_place`` for an object nobody else holds yet (just decoded): set, not copied."""
    state = getattr(result, "__dict__", None)
    if state is None:  # pragma: no cover - only if the model gains __slots__
        return _with_place(result, path, blob_id)
    state["path"] = path
    state["blob_id"] = blob_id
    return result


def _path_free(result: Parsed) -> bool:
    """Whether nothing in ``result`` came from its file name (see the module notes)."""
    return isinstance(result, Revision) and "revision" in result.spans


def _path_key(blob_id: str, path: str) -> str:
    return f"{blob_id}\0{path}"


def _without_old_namings(entries: dict[str, Any], used: AbstractSet[str]) -> None:
    """Drop the "names-none" entries of all but the NAMES_NONE_KEPT namings written or ``used`` last.

    Without this every naming ours ever had (each edit of what a branch's
    upgrade() touches) would stay in the file, which a check that misses the
    result cache loads whole. A dict keeps insertion order and a save appends
    what is new, so a naming's last entry tells when it was last written
    (the entries of a naming a lookup found in this run move to the end). A
    naming dropped here is only looked at again (the pre-filter scans theirs'
    files), never answered wrongly.
    """
    last: dict[str, int] = {}
    size = len(_NAMES_NONE)
    named = [key for key in entries if type(key) is str and key.startswith(_NAMES_NONE)]
    if used:  # answered from the file in this run: as recent as what it wrote
        for key in named:
            if key[size : key.find(":", size)] in used:
                entries[key] = entries.pop(key)
        named = [key for key in entries if type(key) is str and key.startswith(_NAMES_NONE)]
    for at, key in enumerate(named):
        last[key[size : key.find(":", size)]] = at
    if len(last) <= NAMES_NONE_KEPT:
        return
    kept = set(sorted(last, key=last.__getitem__)[-NAMES_NONE_KEPT:])
    for key in named:
        if key[size : key.find(":", size)] not in kept:
            del entries[key]


def _default_parser() -> Parser:
    from revgraph.parse import parse_revision

    return parse_revision


def _parser_version() -> int:
    from revgraph.parser_version import PARSER_VERSION

    return PARSER_VERSION


# ------------------------------------------------------------------ the caches
SAVE_ASIDE_MIN = 2000  # new entries: fewer are saved in less time than a fork costs


class ParseCache:
    """Blob id -> parse result, for one parser version.

    ``ParseCache(None)`` keeps results in memory only (``--no-cache``): a
    snapshot still parses each content once. ``parser`` and
    ``parser_version`` default to ``revgraph.parse``'s (tests inject a
    counting parser). ``object_format``: the repository's (``revgraph.blobid``),
    in which working-tree files read through this cache are given blob ids.

    Readers only fill it; whoever owns it calls ``save()`` once at the end
    (or uses ``with ParseCache(...) as cache``), so that reading many
    snapshots (``audit``) does not rewrite the file after each one.
    """

    def __init__(
        self,
        directory: Path | None,
        *,
        parser: Parser | None = None,
        parser_version: int | None = None,
        object_format: str = blobid.SHA1,
    ) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.object_format = object_format
        self._parser = parser
        self.default_parser = parser is None  # revgraph.parse's reader, not an injected one
        self._version = parser_version
        self._raw: dict[str, tuple] | None = None  # as stored, loaded lazily
        self._seen: list = []  # the identity of the file _raw was loaded from
        self._decoded: dict[str, Parsed] = {}  # results by key, at any path
        self._new: dict[str, Parsed] = {}  # entries not yet saved, encoded by save()
        self._encoded: dict[str, tuple] = {}  # ... unless another process encoded them (adopt)
        # One object per (blob, path) for the whole run: the four snapshots of a
        # check share nearly every file, and should share its Revision too
        # (memory at 20k revisions, and no re-placing of cached results).
        self._placed: dict[tuple[str, str], Parsed] = {}
        self._touches_new: dict[str, tuple[str, ...]] = {}
        self._namings_used: set[str] = set()  # "names-none" namings a lookup found (see save)
        self.hits = 0
        self.misses = 0
        self.stats = StatCache(self.directory, object_format)
        self._aside: tuple | None = None  # (forkshare.Aside, the entries it writes), see save_aside

    @property
    def parser_version(self) -> int:
        if self._version is None:
            self._version = _parser_version()
        return self._version

    @property
    def path(self) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"cache-v{self.parser_version}.parse"

    @property
    def dirty(self) -> bool:
        return bool(self._new) or bool(self._touches_new) or self.stats.dirty

    # -------------------------------------------------------------- lookups
    def get(self, blob_id: str, path: str) -> Parsed | None:
        """The cached result for ``blob_id``, placed at ``path``; None on a miss."""
        placed = self._placed.get((blob_id, path))
        if placed is not None:
            self.hits += 1
            return placed
        found = self._lookup(blob_id, blob_id, path)
        if found is None:
            found = self._lookup(_path_key(blob_id, path), blob_id, path)
            if found is None:
                return None
        self.hits += 1
        placed = self._placed[(blob_id, path)] = _with_place(found, path, blob_id)
        return placed

    def _lookup(self, key: str, blob_id: str, path: str) -> Parsed | None:
        found = self._decoded.get(key)
        if found is None:
            raw = self._stored().get(key)
            if raw is None:
                return None
            try:
                found = _decode(raw)
            except Exception:  # a stale entry shape: treat as a miss
                return None
            # Decoded for this lookup: placed where it was asked for, not copied
            # (a copy is made only for another path). Results in _decoded may
            # carry any path: whoever places one at another path copies it.
            found = _placed_new(found, path, blob_id)
            self._decoded[key] = found
        return found

    def put(self, blob_id: str, result: Parsed) -> str:
        """Remember ``result`` (as parsed at ``result.path``) for ``blob_id``; its key."""
        key = blob_id if _path_free(result) else _path_key(blob_id, result.path)
        self._new[key] = result
        self._encoded.pop(key, None)
        # Kept as parsed, path included: lookups place a copy at their own path
        # (``get``), so a path-free clone would only cost 20k objects cold.
        self._decoded[key] = result
        if result.path:
            self._placed[(blob_id, result.path)] = _with_place(result, result.path, blob_id)
        return key

    # ``upgrade_touches`` results ride in the same file under "touches:<blob id>"
    # (never a blob id): RG301 reads the new revisions of both sides, 1.6k files
    # in the 20k benchmark, on every check that misses the result cache.
    def _side_entry(self, key: str) -> Any:
        """A ``touches:`` / ``syntax:`` / ``names-none:`` entry: recorded in this run, else stored."""
        found = self._touches_new.get(key)
        return self._stored().get(key) if found is None else found

    def touches(self, blob_id: str) -> tuple[str, ...] | None:
        """What the file with ``blob_id`` touches in upgrade(), if known."""
        found = self._side_entry(f"touches:{blob_id}")
        return found if isinstance(found, tuple) and all(isinstance(t, str) for t in found) else None

    def put_touches(self, blob_id: str, touches: tuple[str, ...]) -> None:
        self._touches_new[f"touches:{blob_id}"] = tuple(touches)

    # So does "syntax:<blob id>" -> (): the whole file compiles (``parse.syntax_problem``
    # found nothing). A check asks it of every new revision whenever the result cache
    # misses; a file that does not compile is never recorded, and asked again.
    def syntax_fine(self, blob_id: str) -> bool:
        """Whether the file with ``blob_id`` is known to compile as a whole."""
        return self._side_entry(f"syntax:{blob_id}") == ()

    def put_syntax_fine(self, blob_id: str) -> None:
        self._touches_new[f"syntax:{blob_id}"] = ()

    # And "names-none:<names digest>:<blob id>" -> (): the file contains none of
    # those names (RG301's pre-filter, ``api.checking._may_touch``), which is all
    # a check needs of most of theirs' files. Keyed by the names too: when ours
    # touch something else, every file is looked at again. Each naming adds a
    # set of entries (1.6k in the 20k benchmark); ``save`` keeps the sets of the
    # NAMES_NONE_KEPT namings written last (see ``_without_old_namings``).
    def names_none(self, blob_id: str, names: str) -> bool:
        """Whether the file with ``blob_id`` is known to contain none of the names digested as ``names``."""
        if self._side_entry(f"names-none:{names}:{blob_id}") != ():
            return False
        self._namings_used.add(names)
        return True

    def put_names_none(self, blob_id: str, names: str) -> None:
        self._touches_new[f"names-none:{names}:{blob_id}"] = ()

    def parse(self, data: bytes, path: str, blob_id: str) -> Parsed:
        """The parse result of ``data`` (cached by ``blob_id``), at ``path``."""
        found = self.get(blob_id, path)
        if found is not None:
            return found
        self.misses += 1
        if self._parser is None:
            self._parser = _default_parser()
        result = self._parser(data, path, blob_id)
        self.put(blob_id, result)
        return _with_place(result, path, blob_id)

    def parse_many(self, items: Sequence[tuple[bytes, str, str]]) -> list[Parsed]:
        """``parse`` for many ``(data, path, blob_id)``, each content parsed once."""
        results: list[Parsed | None] = [self.get(blob_id, path) for _, path, blob_id in items]
        first_of_blob: dict[str, int] = {}
        for i, found in enumerate(results):
            if found is None:
                first_of_blob.setdefault(items[i][2], i)
        if first_of_blob and self._parser is None:
            self._parser = _default_parser()
        for i in first_of_blob.values():
            data, path, blob_id = items[i]
            result = self._parser(data, path, blob_id)
            self.misses += 1
            self.put(blob_id, result)
            results[i] = _with_place(result, path, blob_id)
        # Copies of a content at other paths: cached now, unless the result
        # depends on the file name (then parse() parses that path too).
        return [
            found if found is not None else self.parse(data, path, blob_id)
            for found, (data, path, blob_id) in zip(results, items)
        ]

    # A forked reader (``worktree._read_shared``) parses in its own copy of
    # this cache and sends results back in the stored encoding.
    def load(self) -> None:
        """Load the stored entries and the parser now: before a fork, so that the helper shares them.

        (Importing revgraph.parse compiles its patterns: ~50 ms, not to be paid twice.)
        """
        self._stored()
        if self._parser is None:
            self._parser = _default_parser()

    @staticmethod
    def export(result: Parsed) -> tuple:
        """``result`` as builtins (marshal-able, path-free), for ``adopt``."""
        return _encode(result)

    def export_parse(self, data: bytes, path: str, blob_id: str) -> tuple | None:
        """``export(parse(...))`` for a forked helper, which only sends results back; None when known.

        Not ``put``: this copy of the cache dies with the helper, and the
        parent's ``adopt`` records the result (~3 us a file less, on half of a
        cold read). A result that holds at any path is kept for lookups, so a
        second copy of the content is not parsed again (the parent places the
        first one there).
        """
        if self.get(blob_id, path) is not None:
            return None
        if self._parser is None:
            self._parser = _default_parser()
        result = self._parser(data, path, blob_id)
        if _path_free(result):
            self._decoded[blob_id] = result
        return _encode(result)

    def adopt(self, exported: tuple, blob_id: str, path: str) -> Parsed:
        """What ``parse`` gives for the file another process parsed into ``exported``."""
        result = _placed_new(_decode(exported), path, blob_id)
        self.misses += 1
        self._encoded[self.put(blob_id, result)] = exported  # save() need not encode it again
        return result

    def __contains__(self, blob_id: str) -> bool:
        return blob_id in self._decoded or blob_id in self._stored()

    # -------------------------------------------------------------- storage
    def _stored(self) -> dict[str, tuple]:
        if self._raw is None:
            self._raw = self._load(self._seen)
        return self._raw

    def _load(self, seen: list | None = None) -> dict[str, tuple]:
        if self.path is None:
            return {}
        payload = _unpack(_read_bytes(self.path, seen), self.parser_version)
        if payload is None:
            return {}
        try:
            entries = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return {}
        if not isinstance(entries, dict) or entries.pop("__schema__", None) != (_SCHEMA,):
            return {}
        return entries

    def save_aside(self) -> bool:
        """Start ``save()`` in a forked copy of this process; True when it started.

        A cold check at 20k revisions has ~18k new entries: encoding and
        writing them is ~0.25 s, which the copy spends on the second core
        while this process runs the rules and renders the report. Lookups
        here are unchanged (every entry stays decoded in memory). ``save()``
        waits for the copy first, then writes whatever is new since; entries
        the copy did not write (it failed) are new here again.
        """
        if self._aside is not None or self.path is None or len(self._new) < SAVE_ASIDE_MIN:
            return False
        from revgraph.sources import forkshare

        started = forkshare.aside(self.save)
        if started is None:
            return False
        handed = (self._new, self._encoded, self._touches_new, self.stats.hand_over())
        self._aside = (started, handed)
        self._stored().update(self._touches_new)  # still found by touches()
        self._new, self._encoded, self._touches_new = {}, {}, {}
        return True

    def _join_aside(self) -> bool:
        """Wait for ``save_aside``'s copy; True when it wrote its entries."""
        if self._aside is None:
            return False
        started, (new, encoded, touches, stats) = self._aside
        self._aside = None
        if started.join():
            return True
        self._new = {**new, **self._new}
        self._encoded = {**encoded, **self._encoded}
        self._touches_new = {**touches, **self._touches_new}
        self.stats.take_back(stats)
        return False

    def save(self) -> bool:
        """Write new entries (merged with the file's current ones); True when written."""
        if self._join_aside() and not self.dirty:
            return True
        self.stats.save()
        if not (self._new or self._touches_new) or self.path is None:
            self._new.clear()
            self._encoded.clear()
            self._touches_new.clear()
            return False
        merged = _with_saved(self.path, self._seen, self._stored(), self._load)  # 7 MB at 20k
        encoded = self._encoded
        merged.update((key, encoded.get(key) or _encode(result)) for key, result in self._new.items())
        merged.update(self._touches_new)
        if self._namings_used or any(key.startswith(_NAMES_NONE) for key in self._touches_new):
            _without_old_namings(merged, self._namings_used)
        merged["__schema__"] = (_SCHEMA,)
        written = write_atomic(self.path, _pack(marshal.dumps(merged), self.parser_version))
        del merged["__schema__"]
        self._raw = merged
        self._seen = _seen_now(self.path) if written else []
        self._new = {}
        self._encoded = {}
        self._touches_new = {}
        return written

    def __enter__(self) -> "ParseCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.save()


class StatCache:
    """File identity (path, size, mtime, ctime, inode) -> blob id, for working-tree files.

    Lets a warm read of the working tree stat files instead of reading and
    hashing them, as git's index does. A file modified less than
    ``RACY_SECONDS`` before it was recorded is not recorded: a later edit in
    the same clock tick could otherwise keep the same identity.
    """

    RACY_SECONDS = 2.0
    MAX_ENTRIES = 200_000

    def __init__(self, directory: Path | None, object_format: str = blobid.SHA1) -> None:
        # One file per object format: its ids are of that format only.
        name = "stat-v1.bin" if object_format == blobid.SHA1 else f"stat-v1-{object_format}.bin"
        self.path = Path(directory) / name if directory is not None else None
        self.object_format = object_format
        self._entries: dict[str, tuple] | None = None
        self._new: dict[str, tuple] = {}
        self._seen: list = []  # the identity of the file _entries was loaded from

    def _stored(self) -> dict[str, tuple]:
        if self._entries is None:
            self._entries = self._load(self._seen)
        return self._entries

    def _load(self, seen: list | None = None) -> dict[str, tuple]:
        if self.path is None:
            return {}
        payload = _unpack(_read_bytes(self.path, seen), _FORMAT)
        try:
            entries = marshal.loads(payload) if payload is not None else {}
        except (EOFError, ValueError, TypeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    @property
    def dirty(self) -> bool:
        return bool(self._new)

    identity = staticmethod(_identity)

    def blob_id(self, path: str, stat: os.stat_result) -> str | None:
        entry = self._new.get(path) or self._stored().get(path)
        if entry is None or entry[:-1] != self.identity(stat):
            return None
        return entry[-1]

    def record(self, path: str, stat: os.stat_result, blob_id: str) -> None:
        self.record_identity(path, self.identity(stat), blob_id)

    def record_identity(self, path: str, identity: tuple, blob_id: str) -> None:
        """``record`` for an identity taken elsewhere (a forked reader's)."""
        newest = max(identity[1], identity[2])  # mtime, ctime
        if newest > time.time_ns() - int(self.RACY_SECONDS * 1e9):
            return
        self._new[path] = (*identity, blob_id)

    def __len__(self) -> int:
        return len(self._stored()) + len(self._new)

    def hand_over(self) -> dict[str, tuple]:
        """The new entries, for another process to save; still known here."""
        handed, self._new = self._new, {}
        self._stored().update(handed)
        return handed

    def take_back(self, handed: dict[str, tuple]) -> None:
        """Entries ``hand_over`` gave that were not saved: new again."""
        self._new = {**handed, **self._new}

    def save(self) -> bool:
        if not self._new or self.path is None:
            self._new.clear()
            return False
        merged = _with_saved(self.path, self._seen, self._stored(), self._load)
        if len(merged) > self.MAX_ENTRIES:
            merged = {}
        merged.update(self._new)
        written = write_atomic(self.path, _pack(marshal.dumps(merged), _FORMAT))
        self._entries = merged
        self._seen = _seen_now(self.path) if written else []
        self._new = {}
        return written


class ResultCache:
    """String key -> any picklable value (e.g. a whole check result).

    Keys name their inputs (tree ids of each snapshot's versions folders,
    parser and revgraph versions, options), so an entry never goes stale; one
    file per key, the least recently written beyond 32 are pruned.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = Path(directory) / "results" if directory is not None else None
        self._memory: dict[str, Any] = {}

    def _file(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        import hashlib  # here: the merge driver loads this module and never a result

        return self.directory / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".pickle")

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._memory:
            return self._memory[key]
        file = self._file(key)
        payload = _unpack(_read_bytes(file), _FORMAT) if file is not None else None
        if payload is None:
            return default
        import pickle

        try:
            stored_key, value = pickle.loads(payload)
        except Exception:  # corrupt or from an older revgraph: a miss
            return default
        if stored_key != key:
            return default
        self._memory[key] = value
        return value

    def put(self, key: str, value: Any) -> bool:
        """Store ``value``; True when it reached the disk."""
        self._memory[key] = value
        file = self._file(key)
        if file is None:
            return False
        import pickle

        try:
            payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False
        written = write_atomic(file, _pack(payload, _FORMAT))
        if written:
            self._prune()
        return written

    def _prune(self) -> None:
        assert self.directory is not None
        keep_newest(self.directory, ".pickle", _RESULTS_KEPT)
